"""golden.work_counts against counting every tap of every window in a loop."""

import numpy as np
from hypothesis import given, strategies as st

from padmask import golden
from tests.reference import is_padding, padded_pixel


def count_loop(x, cout, k, stride, pads, mode, pad_value, mask, block):
    n_img, cin, h, w = x.shape
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    ho, wo = (hp - k) // stride + 1, (wp - k) // stride + 1
    counts = dict(slots=0, interior=0, included=0, skipped=0, zero=0, padding_zero=0)
    for n in range(n_img):
        for c in range(cin):
            frame = x[n, c].tolist()
            for oy in range(ho):
                for ox in range(wo):
                    for ky in range(k):
                        for kx in range(k):
                            i, j = oy * stride + ky, ox * stride + kx
                            counts["slots"] += cout
                            if not is_padding(i, j, h, w, pads):
                                counts["interior"] += cout
                            elif mask[i // block][j // block]:
                                counts["included"] += cout
                                # (zero whatever the frame: try it on another one)
                                if padded_pixel([[1] * w] * h, i, j, pads, mode,
                                                pad_value) == 0:
                                    counts["padding_zero"] += cout
                            else:
                                counts["skipped"] += cout
                                continue
                            if padded_pixel(frame, i, j, pads, mode, pad_value) == 0:
                                counts["zero"] += cout
    return counts


@given(st.integers(1, 6), st.integers(1, 6), st.tuples(*[st.integers(0, 3)] * 4),
       st.integers(1, 5), st.sampled_from((1, 2)), st.integers(1, 4),
       st.sampled_from(("zero", "constant", "replicate", "reflect")), st.integers(0, 2**32 - 1),
       st.sampled_from((0, 0, 5)))
def test_work_counts_match_loop(h, w, pads, k, stride, block, mode, seed, pad_value):
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    k = min(k, hp, wp)
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (2, 2, h, w))  # plenty of zeros
    if mode == "reflect":   # (reflect needs a pad below the frame's edge)
        pads = (min(pads[0], h - 1), min(pads[1], h - 1), min(pads[2], w - 1),
                min(pads[3], w - 1))
        hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
        k = min(k, hp, wp)
    mask = rng.integers(0, 2, golden.block_grid_shape(h, w, pads, block)).astype(bool)
    got = golden.work_counts(h, w, cin=2, cout=3, kernel=k, stride=stride, padding=pads,
                             mask=mask, block=block, x=x, mode=mode, pad_value=pad_value)
    ref = count_loop(x, 3, k, stride, pads, mode, pad_value, mask.tolist(), block)
    assert got.mac_slots == ref["slots"]
    assert got.macs_interior == ref["interior"]
    assert got.macs_padding_included == ref["included"]
    assert got.macs_padding_skipped == ref["skipped"]
    assert got.macs_zero == ref["zero"]
    assert got.macs_padding_zero == ref["padding_zero"]
    assert got.macs_skippable == ref["skipped"] + ref["padding_zero"]
    assert got.macs_performed() == ref["interior"] + ref["included"]
    assert got.macs_performed(zero_gating=True) == ref["interior"] + ref["included"] - ref["zero"]


def test_work_counts_without_data_scale_with_frames():
    one = golden.work_counts(64, 64, cin=16, cout=16, kernel=3, padding=1, block=4)
    eight = golden.work_counts(64, 64, cin=16, cout=16, kernel=3, padding=1, block=4, frames=8)
    assert one.mac_slots == 64 * 64 * 9 * 16 * 16
    assert eight.mac_slots == 8 * one.mac_slots
    assert one.macs_padding_skipped == 0 and one.macs_zero is None


@given(st.integers(1, 6), st.integers(1, 6), st.tuples(*[st.integers(0, 2)] * 4),
       st.sampled_from(("zero", "constant", "replicate")), st.sampled_from((0, 0, -3)),
       st.integers(0, 2**32 - 1))
def test_the_skipping_mask_skips_every_known_zero_tap_and_changes_nothing(h, w, pads, mode,
                                                                          pad_value, seed):
    """Fair accounting: the skipping mask gives the outputs of the learned mask, and the core
    (whose mask counter counts the masked-out slots, tests/test_hdl_core.py) then reports
    exactly the slots the learned mask's counts call skippable."""
    rng = np.random.default_rng(seed)
    block, k = 2, 3
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    k = min(k, hp, wp)
    x = rng.integers(-128, 128, (2, h, w))
    wt = rng.integers(-128, 128, (3, 2, k, k))
    mask = rng.integers(0, 2, golden.block_grid_shape(h, w, pads, block)).astype(bool)
    skip = golden.skipping_mask(h, w, pads, block, mask, mode=mode, pad_value=pad_value)
    kw = dict(padding=pads, mode=mode, pad_value=pad_value, block=block)
    assert np.array_equal(golden.masked_conv2d(x, wt, mask=skip, **kw),
                          golden.masked_conv2d(x, wt, mask=mask, **kw))
    counts = golden.work_counts(h, w, cin=2, cout=3, kernel=k, mask=mask, block=block,
                                padding=pads, mode=mode, pad_value=pad_value)
    skipped = golden.work_counts(h, w, cin=2, cout=3, kernel=k, mask=skip, block=block,
                                 padding=pads, mode=mode, pad_value=pad_value)
    assert skipped.macs_padding_skipped == counts.macs_skippable
    known_zero = mode == "zero" or (mode == "constant" and pad_value == 0)
    assert counts.macs_skippable == (counts.macs_padding_skipped +
                                     counts.macs_padding_included * known_zero)
