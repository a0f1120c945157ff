"""The generated Verilog on Verilator, replaying golden vector files (sim/vectors.py,
sim/verilator_harness.cpp): full-size frames of every K, random configurations, back-to-back
frames with configuration changes, random input bubbles and output backpressure; outputs,
error flags and counters compared with the golden model beat by beat. Small frames run on the
Amaranth simulator in the other hardware tests; this is the volume."""

import dataclasses

import numpy as np
import pytest

from padmask import golden
from padmask.golden import fixed
from padmask.hdl.params import CoreParams
from padmask.sim import verilator
from padmask.sim.frames import (FrameConfig, expected_counters, expected_outputs, frame_mask,
                                random_config)
from padmask.sim.harness import FrameSpec
from padmask.sim.timing import schedule
from padmask.sim.vectors import write_vectors
from tests.core_cases import frame, same_channels, weights


def replay(params, frames, w, bias, tmp_path, *, counters=True, **kwargs):
    """``counters``: check the golden counters (True), these ({name: value}), or none."""
    exe = verilator.build(params)
    path = tmp_path / "vectors.txt"
    if counters is True:
        counters = expected_counters(params, frames)
    write_vectors(path, params, frames, w=w, bias=bias, expected_counters=counters or None,
                  **kwargs)
    result = verilator.replay(exe, path)
    assert result["report"] == [] and not result["hang"]
    assert result["mismatches"] == result["extra"] == result["missing"] == 0
    assert result["read_mismatches"] == 0          # error flags and counters
    assert result["inputs_taken"] == result["inputs"]
    return result


def random_frames(rng, params, count, **limits):
    first = random_config(rng, params, **limits)
    cfgs = [first] + [same_channels(random_config(rng, params, **limits), first.cin, first.cout)
                      for _ in range(count - 1)]
    return [frame(rng, params, c, str(rng.choice(["ones", "zeros", "random"]))) for c in cfgs]


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
def test_full_size_frames_on_verilator(kernel, tmp_path):
    """64x64 frames, 16/16 channels, every K: random padding mode, pads, stride and mask,
    back to back (the configuration changes under the running frame), then two more frames
    with host waits between them; 30 % bubbles and 30 % backpressure."""
    params = CoreParams(kernel=kernel, lanes=4 if kernel <= 3 else 2)
    rng = np.random.default_rng(100 + kernel)
    first = FrameConfig(64, 64, cin=16, cout=16, padding=(kernel // 2,) * 4,
                        mode=str(rng.choice(["zero", "constant", "replicate", "reflect"])),
                        pad_value=int(rng.integers(-128, 128)), shift=10,
                        zero_gating=bool(rng.integers(2)))
    frames = [frame(rng, params, first, "random")]
    frames += [frame(rng, params, same_channels(random_config(rng, params), 16, 16), "random")
               for _ in range(2)]
    w, bias = weights(rng, params, 16, 16)
    back = replay(params, frames[:2], w, bias, tmp_path, bubbles=0.3, backpressure=0.3,
                  back_to_back=False, seed=kernel)
    # back to back needs the mask to stay: the frames share the first one's
    shared = [dataclasses.replace(f, full_mask=frames[0].full_mask) for f in frames]
    b2b = replay(params, shared, w, bias, tmp_path, back_to_back=True, seed=kernel + 10)
    assert back["outputs"] > 0 and b2b["outputs"] > 0
    # back to back without stalls, frame after frame ends on the golden timing model's cycle
    model = schedule(params, [f.cfg for f in shared]).output_edges
    per_frame = [len(expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask))
                 for f in shared]
    model_ends = [model[end - 1] for end in np.cumsum(per_frame)]
    assert len(b2b["frame_ends"]) == len(shared)
    assert np.diff(b2b["frame_ends"]).tolist() == np.diff(model_ends).tolist()
    # (the four kernel sizes together run more than a million cycles: CI's floor)
    assert back["cycles"] + b2b["cycles"] >= 250_000, (back["cycles"], b2b["cycles"])


def test_resets_between_frames_on_verilator(tmp_path):
    """Frames, a reset, the core set up again from scratch (configuration, parameters, mask),
    more frames, another reset: every frame exact; the counters and error flags read at the
    end count from the last reset."""
    params = CoreParams()
    rng = np.random.default_rng(300)
    frames = random_frames(rng, params, 5, max_height=24, max_width=24)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    exe = verilator.build(params)
    path = tmp_path / "vectors.txt"
    write_vectors(path, params, frames, w=w, bias=bias, bubbles=0.2, backpressure=0.2,
                  resets=(2, 4), expected_counters=expected_counters(params, frames[4:]))
    assert path.read_text().count("reset 2") == 2
    result = verilator.replay(exe, path)
    assert result["report"] == [] and not result["hang"]
    assert result["mismatches"] == result["extra"] == result["missing"] == 0
    assert result["read_mismatches"] == 0


def test_mask_updates_while_frames_stream_on_verilator(tmp_path):
    """Gradients of a mask update stream into the learning units while a frame runs (bubbles,
    backpressure); that frame keeps its mask, the next one runs on the learned mask, which the
    golden model computes (golden.mask_update_fixed). Two updates over five 32x32 frames."""
    params = CoreParams()
    rng = np.random.default_rng(400)
    cfg = FrameConfig(32, 32, cin=8, cout=8, padding=(1, 1, 1, 1), mode="reflect", shift=9)
    grid = golden.block_grid_shape(32, 32, cfg.padding, params.block)
    hp, wp = cfg.padded
    mask = rng.integers(0, 2, grid).astype(bool)
    frames, updates = [], {}
    for i in range(5):
        frames.append(FrameSpec(cfg, rng.integers(-128, 128, (8, 32, 32)),
                                frame_mask(params, cfg, mask)))
        if i in (0, 2):
            raw, _ = golden.quantize_gradients(rng.normal(size=(3, hp, wp)) *
                                               rng.random((1, hp, wp)))
            threshold = int(rng.integers(fixed.ONE // 4, 3 * fixed.ONE // 4))
            updates[i] = (raw, threshold)
            # (the rate and direction in LEARNING move the threshold after the mask is made)
            mask = golden.mask_update_fixed(raw, cfg.padding, params.block, threshold, 0).mask
    assert not np.array_equal(frames[0].full_mask, frames[1].full_mask)
    assert not np.array_equal(frames[2].full_mask, frames[3].full_mask)
    w, bias = weights(rng, params, 8, 8)
    counters = {**expected_counters(params, frames), "mask_updates": 2}
    result = replay(params, frames, w, bias, tmp_path, counters=counters, bubbles=0.3,
                    backpressure=0.3, updates=updates)
    assert result["grads_taken"] == result["grads"] == 2 * 3 * (hp * wp - 32 * 32)


@pytest.mark.parametrize("seed", range(4))
def test_random_configurations_on_verilator(seed, tmp_path):
    """Random elaborations (K, lanes, options) and random frames of them."""
    rng = np.random.default_rng(200 + seed)
    kernel = int(rng.choice([1, 3, 5, 7]))
    params = CoreParams(kernel=kernel, lanes=int(rng.integers(1, 4)),
                        max_height=int(rng.integers(kernel, 33)),
                        max_width=int(rng.integers(kernel, 33)),
                        max_cin=int(rng.integers(1, 9)), max_cout=int(rng.integers(1, 9)),
                        block=int(rng.choice([2, 4, 8])), learning=bool(rng.integers(2)),
                        lean=bool(rng.integers(2)))
    frames = random_frames(rng, params, 4)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    replay(params, frames, w, bias, tmp_path, bubbles=0.3, backpressure=0.3, seed=seed)


def test_the_harness_reports_wrong_lost_and_extra_beats(tmp_path):
    params = CoreParams(kernel=3, lanes=2, max_height=8, max_width=8, max_cin=2, max_cout=2)
    rng = np.random.default_rng(7)
    frames = random_frames(rng, params, 2)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    exe = verilator.build(params)
    good = tmp_path / "good.txt"
    write_vectors(good, params, frames, w=w, bias=bias, expected_counters={"windows": 1})
    lines = good.read_text().splitlines()
    outputs = [i for i, line in enumerate(lines) if line.startswith("o ")]

    def run(edit):
        bad = tmp_path / "bad.txt"
        bad.write_text("\n".join(edit(list(lines))) + "\n")
        return verilator.replay(exe, bad)

    def flip(lines):
        op, value, delay = lines[outputs[3]].split()
        lines[outputs[3]] = f"{op} {int(value, 16) ^ 1:x} {delay}"
        return lines

    assert run(lambda lines: lines)["read_mismatches"] == 1   # the wrong windows count
    assert run(flip)["mismatches"] == 1
    lost = run(lambda lines: lines[:outputs[-1]] + lines[outputs[-1] + 1:])
    assert lost["extra"] == 1                                 # one beat more than expected
    missing = run(lambda lines: lines[:outputs[0]] + [lines[outputs[0]]] + lines[outputs[0]:])
    assert missing["missing"] == 1 or missing["hang"]
