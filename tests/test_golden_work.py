"""golden.work_counts against counting every tap of every window in a loop."""

import numpy as np
from hypothesis import given, strategies as st

from padmask import golden
from tests.reference import is_padding, padded_pixel


def count_loop(x, cout, k, stride, pads, mode, pad_value, mask, block):
    n_img, cin, h, w = x.shape
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    ho, wo = (hp - k) // stride + 1, (wp - k) // stride + 1
    counts = dict(slots=0, interior=0, included=0, skipped=0, zero=0)
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
                            else:
                                counts["skipped"] += cout
                                continue
                            if padded_pixel(frame, i, j, pads, mode, pad_value) == 0:
                                counts["zero"] += cout
    return counts


@given(st.integers(1, 6), st.integers(1, 6), st.tuples(*[st.integers(0, 3)] * 4),
       st.integers(1, 5), st.sampled_from((1, 2)), st.integers(1, 4),
       st.sampled_from(("zero", "constant", "replicate")), st.integers(0, 2**32 - 1))
def test_work_counts_match_loop(h, w, pads, k, stride, block, mode, seed):
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    k = min(k, hp, wp)
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (2, 2, h, w))  # plenty of zeros
    mask = rng.integers(0, 2, golden.block_grid_shape(h, w, pads, block)).astype(bool)
    got = golden.work_counts(h, w, cin=2, cout=3, kernel=k, stride=stride, padding=pads,
                             mask=mask, block=block, x=x, mode=mode, pad_value=0)
    ref = count_loop(x, 3, k, stride, pads, mode, 0, mask.tolist(), block)
    assert got.mac_slots == ref["slots"]
    assert got.macs_interior == ref["interior"]
    assert got.macs_padding_included == ref["included"]
    assert got.macs_padding_skipped == ref["skipped"]
    assert got.macs_zero == ref["zero"]
    assert got.macs_performed() == ref["interior"] + ref["included"]
    assert got.macs_performed(zero_gating=True) == ref["interior"] + ref["included"] - ref["zero"]


def test_work_counts_without_data_scale_with_frames():
    one = golden.work_counts(64, 64, cin=16, cout=16, kernel=3, padding=1, block=4)
    eight = golden.work_counts(64, 64, cin=16, cout=16, kernel=3, padding=1, block=4, frames=8)
    assert one.mac_slots == 64 * 64 * 9 * 16 * 16
    assert eight.mac_slots == 8 * one.mac_slots
    assert one.macs_padding_skipped == 0 and one.macs_zero is None
