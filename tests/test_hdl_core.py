# amaranth: UnusedElaboratable=no
"""The convolution core against golden.masked_conv2d + requantize, under bubbles and backpressure.

(The first line silences Amaranth's unused-elaboratable warning for this file: constructors
that raise on bad parameters leave an object that is never elaborated.)
"""

import dataclasses
import random
import re
import warnings

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from padmask.hdl.core import ConvCore
from padmask.hdl.params import CoreParams
from padmask.hdl.regmap import ERROR_BITS, Reg, Status
from padmask.sim import regs
from padmask.sim.frames import (FrameConfig, expected_counters, expected_outputs, frame_mask,
                                input_beats, mask_words, output_tuple, param_words)
from padmask.sim.harness import FrameSpec, ResetWrapper, run_core, simulate
from padmask.sim.stream import Scoreboard, get, put
from tests.core_cases import SMALL, frame, random_frames, weights

ERROR_NAMES = [name for name, _ in ERROR_BITS]


def error_bits(*names):
    """ERRORS word with the named flags set (bit order from the register table)."""
    return sum(1 << ERROR_NAMES.index(n) for n in names)


def check_run(params, frames, w, bias, **kwargs):
    result = run_core(params, frames, w=w, bias=bias, **kwargs)
    expected = [beat for f in frames
                for beat in expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)]
    Scoreboard(expected).check(result.outputs)
    assert result.errors == 0
    counters = {k: result.counters[k] for k in ("windows", "macs_performed",
                                                 "macs_skipped_mask", "macs_skipped_zero")}
    assert counters == expected_counters(params, frames)
    return result


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_frames_with_bubbles_and_backpressure(kernel, seed):
    params = SMALL[kernel]
    rng = np.random.default_rng(100 * kernel + seed)
    frames = random_frames(rng, params, 5)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    result = check_run(params, frames, w, bias, bubbles=0.3, backpressure=0.3, seed=seed)
    assert result.counters["input_stalls"] > 0 and result.counters["output_stalls"] > 0


@pytest.mark.parametrize("kernel, cfg", [
    (3, FrameConfig(1, 7, cin=2, cout=3, padding=(1, 1, 1, 1), mode="zero", shift=3)),
    (3, FrameConfig(7, 1, cin=1, cout=5, padding=(2, 0, 1, 1), mode="replicate", stride=2)),
    (3, FrameConfig(2, 6, cin=3, cout=2, padding=(1, 1, 2, 1), mode="reflect", shift=5)),
    (1, FrameConfig(1, 6, cin=3, cout=2, padding=(0, 0, 0, 0), mode="reflect", shift=5)),
    (1, FrameConfig(6, 1, cin=2, cout=2, padding=(0, 0, 0, 0), mode="reflect", stride=2)),
    (3, FrameConfig(1, 1, cin=1, cout=1, padding=(1, 1, 1, 1), mode="constant", pad_value=-77)),
    (5, FrameConfig(1, 2, cin=2, cout=3, padding=(2, 2, 4, 0), mode="zero", shift=4)),
    (3, FrameConfig(8, 8, cin=3, cout=5, padding=(2, 2, 2, 2), mode="constant", pad_value=5,
                    stride=2, shift=7, zero_gating=True)),
], ids=["1xN-zero", "Nx1-replicate-s2", "2xN-reflect", "K1-1xN-reflect", "K1-Nx1-reflect-s2",
        "1x1-constant", "K5-larger-than-frame", "8x8-constant-s2-gated"])
def test_edge_shapes(kernel, cfg):
    params = SMALL[kernel]
    rng = np.random.default_rng(7)
    frames = [frame(rng, params, cfg, kind) for kind in ("random", "zeros", "ones")]
    w, bias = weights(rng, params, cfg.cin, cfg.cout)
    check_run(params, frames, w, bias, bubbles=0.3, backpressure=0.3)


def test_back_to_back_frames_with_configuration_changes():
    params = SMALL[3]
    rng = np.random.default_rng(11)
    mask = np.ones(params.grid_shape, bool)
    mask[0] = False
    cfgs = [FrameConfig(5, 6, cin=2, cout=3, padding=(1, 2, 2, 1), mode="reflect", shift=6),
            FrameConfig(4, 8, cin=2, cout=3, padding=(2, 0, 0, 2), mode="constant",
                        pad_value=-9, stride=2, shift=4, zero_gating=True),
            FrameConfig(8, 3, cin=2, cout=3, padding=(0, 1, 1, 0), mode="replicate"),
            FrameConfig(6, 6, cin=2, cout=3, padding=(1, 1, 1, 1), mode="zero", shift=2)]
    frames = [FrameSpec(c, rng.integers(-128, 128, (c.cin, c.height, c.width)), mask)
              for c in cfgs]
    w, bias = weights(rng, params, 2, 3)
    check_run(params, frames, w, bias, back_to_back=True, bubbles=0.3, backpressure=0.3)


def test_mask_commit_during_a_frame_applies_from_the_next_frame():
    params = SMALL[3]
    rng = np.random.default_rng(12)
    cfg = FrameConfig(8, 8, cin=2, cout=2, padding=(2, 2, 2, 2), mode="replicate", shift=4)
    old = frame_mask(params, cfg, np.ones((6, 6), bool))
    new = frame_mask(params, cfg, np.zeros((6, 6), bool))
    frames = [FrameSpec(cfg, rng.integers(-128, 128, (2, 8, 8)), old) for _ in range(2)]
    w, bias = weights(rng, params, 2, 2)
    half = cfg.input_count() // 2

    async def commit_mid_frame(ctx, dut, state):
        while state["accepted"] < half:
            await ctx.tick()
        await regs.load_mask(ctx, dut.bus, mask_words(params, new))

    result = run_core(params, frames, w=w, bias=bias, events=commit_mid_frame,
                      bubbles=0.3, backpressure=0.3)
    expected = (expected_outputs(params, cfg, frames[0].x, w, bias, old) +
                expected_outputs(params, cfg, frames[1].x, w, bias, new))
    Scoreboard(expected).check(result.outputs)
    # the commit landed while frame 0 was running, so it is visible only now
    assert expected_outputs(params, cfg, frames[0].x, w, bias, old) != \
        expected_outputs(params, cfg, frames[0].x, w, bias, new)


def test_bad_configurations_are_rejected_and_the_next_frame_is_exact():
    params = SMALL[3]
    rng = np.random.default_rng(13)
    good = FrameConfig(5, 5, cin=2, cout=2, padding=(1, 1, 1, 1), mode="reflect", shift=5)
    bad = {
        "frame_size": FrameConfig(9, 4, cin=2, cout=2),              # above max_height 8
        "reflect": FrameConfig(2, 5, cin=2, cout=2, padding=(2, 0, 1, 1), mode="reflect"),
        "pad": FrameConfig(4, 4, cin=2, cout=2, padding=(3, 0, 0, 0)),  # pad >= K
        "mode": FrameConfig(4, 4, cin=2, cout=2, stride=3),
        "kernel": FrameConfig(1, 1, cin=2, cout=2, padding=(0, 0, 0, 0)),
        "shift": FrameConfig(4, 4, cin=2, cout=2, shift=params.acc_width + 1),
    }
    frames, good_frames = [], []
    for name, cfg in bad.items():
        f = frame(rng, params, good)
        frames += [FrameSpec(cfg, rng.integers(-128, 128, (cfg.cin, cfg.height, cfg.width)),
                             f.full_mask), f]
        good_frames.append(f)
    w, bias = weights(rng, params, 2, 2)
    expected = [b for f in good_frames
                for b in expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)]
    result = run_core(params, frames, w=w, bias=bias, expected_outputs=len(expected),
                      bubbles=0.2, backpressure=0.2)
    Scoreboard(expected).check(result.outputs)
    assert result.errors == error_bits(*bad)


def test_channel_errors():
    params = SMALL[3]
    rng = np.random.default_rng(14)
    good = frame(rng, params, FrameConfig(4, 4, cin=2, cout=2, mode="replicate"))
    bad_cfg = FrameConfig(4, 4, cin=4, cout=2)  # cin above max_cin 3
    bad = FrameSpec(bad_cfg, rng.integers(-5, 5, (4, 4, 4)), good.full_mask)
    w, bias = weights(rng, params, 2, 2)
    expected = expected_outputs(params, good.cfg, good.x, w, bias, good.full_mask)
    result = run_core(params, [good, bad, good], w=w, bias=bias,
                      expected_outputs=2 * len(expected), bubbles=0.3, backpressure=0.3)
    Scoreboard(expected * 2).check(result.outputs)
    assert result.errors == error_bits("channels")


@pytest.mark.parametrize("change", ["early_last", "late_last"])
def test_input_length_errors(change):
    params = SMALL[3]
    rng = np.random.default_rng(15)
    cfg = FrameConfig(4, 5, cin=2, cout=2, padding=(1, 1, 1, 1), mode="zero", shift=3)
    first, after = frame(rng, params, cfg), frame(rng, params, cfg)
    beats = input_beats(first.x)
    received = first.x.copy()
    if change == "early_last":
        cut = 13
        beats = beats[:cut]
        beats[-1]["last"] = 1
        # the core fills the rest of the frame with zeros
        flat = received.transpose(1, 2, 0).reshape(-1)
        flat[cut:] = 0
        received = flat.reshape(cfg.height, cfg.width, cfg.cin).transpose(2, 0, 1)
    else:
        beats[-1]["last"] = 0
        beats += [{"data": 99, "last": 0}, {"data": -1, "last": 1}]  # dropped
    malformed = FrameSpec(cfg, first.x, first.full_mask, beats=beats)
    w, bias = weights(rng, params, 2, 2)
    expected = (expected_outputs(params, cfg, received, w, bias, first.full_mask) +
                expected_outputs(params, cfg, after.x, w, bias, after.full_mask))
    result = run_core(params, [malformed, after], w=w, bias=bias,
                      expected_outputs=len(expected), bubbles=0.2, backpressure=0.2)
    Scoreboard(expected).check(result.outputs)
    assert result.errors == error_bits("length")


def test_reset_in_mid_frame_then_a_normal_frame_is_exact():
    params = SMALL[3]
    rng = np.random.default_rng(16)
    cfg = FrameConfig(6, 6, cin=2, cout=3, padding=(1, 1, 2, 0), mode="reflect", shift=6)
    f = frame(rng, params, cfg)
    w, bias = weights(rng, params, 2, 3)
    expected = expected_outputs(params, cfg, f.x, w, bias, f.full_mask)
    top = ResetWrapper(ConvCore(params))
    dut = top.core
    sim = Simulator(top)
    sim.add_clock(1e-8)
    got = {}

    async def setup(ctx):
        await regs.configure(ctx, dut.bus, cfg)
        await put(ctx, dut.i_param, param_words(w, bias))
        await regs.load_mask(ctx, dut.bus, mask_words(params, f.full_mask))

    async def host(ctx):
        await setup(ctx)
        # half a frame, with output backpressure so the pipeline is full, then reset
        await put(ctx, dut.i, input_beats(f.x)[:cfg.input_count() // 2])
        ctx.set(top.reset, 1)
        await ctx.tick()
        ctx.set(top.reset, 0)
        assert await regs.read(ctx, dut.bus, Reg.FRAME_SIZE) == params.max_height | \
            params.max_width << 16  # registers are back to their reset values
        await setup(ctx)  # memories keep their contents; registers need writing again
        await put(ctx, dut.i, input_beats(f.x), rng=random.Random(1), bubbles=0.3)

    async def consumer(ctx):
        # accept nothing until the reset, then take the frame
        ctx.set(dut.o.ready, 0)
        while not ctx.get(top.reset):
            await ctx.tick()
        await ctx.tick()
        got["o"] = await get(ctx, dut.o, len(expected), rng=random.Random(2), backpressure=0.3,
                             decode=lambda pl: output_tuple(pl, params.lanes))
        got["errors"] = await regs.read(ctx, dut.bus, Reg.ERRORS)

    sim.add_testbench(host)
    sim.add_testbench(consumer)
    simulate(sim)
    Scoreboard(expected).check(got["o"])
    assert got["errors"] == 0


@pytest.mark.parametrize("params", [CoreParams(), SMALL[1], SMALL[7]],
                         ids=["default", "K1", "K7"])
def test_verilog_has_no_warnings_and_no_constant_only_processes(params):
    """An `always @*` whose body only assigns a constant has no inputs: an event-driven
    simulator never runs it and the signal stays X (Verilator, with random initial values,
    shows garbage there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = verilog.convert(ConvCore(params), name="padmask_core")
    assert "module padmask_core" in text
    constant_only = re.findall(r"always @\*\n\s+(\S+) = \d+'[hbd][0-9a-fA-F]+;\n", text)
    assert constant_only == []


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(kernel=4), ValueError, "kernel must be one of 1, 3, 5, 7, not 4"),
    (dict(kernel="3"), TypeError, "kernel must be an integer, not '3'"),
    (dict(lanes=0), ValueError, "lanes must be at least 1, not 0"),
    (dict(block=3), ValueError, "block must be a power of two, not 3"),
    (dict(max_cin=2.0), TypeError, "max_cin must be an integer, not 2.0"),
    (dict(act_width=1), ValueError, "act_width must be at least 2, not 1"),
    (dict(max_width=5000), ValueError, "max_height and max_width must be at most 4095, "
                                       "not 64x5000"),
])
def test_bad_elaboration_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        CoreParams(**kwargs)


def test_core_rejects_a_grid_too_large_for_the_register_map():
    with pytest.raises(ValueError, match="the block grid must fit 8192 bits, not"):
        CoreParams(max_height=400, max_width=400, block=1)
    with pytest.raises(TypeError, match="params must be a CoreParams, not 3"):
        ConvCore(3)


@pytest.mark.parametrize("case", ["max-frame-max-channels-shift-acc", "extremes-saturate",
                                  "extremes-shift-acc-minus-1"])
def test_frames_at_the_maxima(case):
    """The largest frame and channel counts of the elaboration, the largest shift, and operands
    at their extremes (the accumulator's worst case: it must not overflow)."""
    params = SMALL[3]
    rng = np.random.default_rng(18)
    cfg = FrameConfig(params.max_height, params.max_width, cin=params.max_cin,
                      cout=params.max_cout, padding=(2, 2, 2, 2), mode="replicate",
                      shift=params.acc_width if case.endswith("shift-acc") else
                      params.acc_width - 1 if case.endswith("minus-1") else 0)
    if case.startswith("extremes"):
        # every product at its most negative (-128 * 127) or most positive (-128 * -128)
        x = np.full((cfg.cin, cfg.height, cfg.width), -128)
        sign = -1 if case.endswith("minus-1") else 1
        w = np.full((cfg.cout, cfg.cin, 3, 3), -128 if sign > 0 else 127)
        bias = np.full(cfg.cout, (1 << 15) - 1 if sign > 0 else -(1 << 15))
        f = FrameSpec(cfg, x, frame_mask(params, cfg, None))
    else:
        f = frame(rng, params, cfg, "random")
        w, bias = weights(rng, params, cfg.cin, cfg.cout)
    check_run(params, [f], w, bias, bubbles=0.2, backpressure=0.2)


def test_virtual_rows_wrap_over_many_frames():
    """The line buffer numbers rows modulo 2**vrow_width (5 bits here): twelve back-to-back
    frames of the largest height pass 96 rows, wrapping three times."""
    params = SMALL[3]
    assert params.vrow_width == 5
    rng = np.random.default_rng(19)
    mask = mask_for_all(params)
    frames = []
    for i in range(12):
        cfg = FrameConfig(params.max_height, int(rng.integers(2, params.max_width + 1)),
                          cin=1, cout=2, padding=tuple(int(v) for v in rng.integers(0, 3, 4)),
                          mode=("zero", "replicate", "constant")[i % 3], pad_value=-5,
                          stride=int(rng.integers(1, 3)), shift=3)
        frames.append(FrameSpec(cfg, rng.integers(-128, 128, (1, cfg.height, cfg.width)), mask))
    w, bias = weights(rng, params, 1, 2)
    check_run(params, frames, w, bias, back_to_back=True, bubbles=0.2, backpressure=0.2)


def test_default_elaboration_full_width_and_channels():
    """The default core (K=3, 4 lanes, 64x64, 16/16): a full-width frame with every channel."""
    params = CoreParams()
    rng = np.random.default_rng(20)
    cfg = FrameConfig(3, params.max_width, cin=params.max_cin, cout=params.max_cout,
                      padding=(1, 1, 2, 1), mode="reflect", shift=params.acc_width - 8)
    f = frame(rng, params, cfg, "random")
    w, bias = weights(rng, params, cfg.cin, cfg.cout)
    check_run(params, [f], w, bias)


def mask_for_all(params):
    return np.ones(params.grid_shape, bool)


def reload_case(seed, cfg):
    """Three frames of ``cfg`` (K = 3, every block included) and two weight sets for them."""
    params = SMALL[3]
    rng = np.random.default_rng(seed)
    frames = [frame(rng, params, cfg, "ones") for _ in range(3)]
    return (params, frames, weights(rng, params, cfg.cin, cfg.cout),
            weights(rng, params, cfg.cin, cfg.cout))


def test_parameter_load_offered_mid_frame_waits_for_the_frame():
    """A parameter load offered while frame 0 streams waits (backpressure) until frame 0 has
    left the datapath, and frame 1 waits for the load: frame 0 runs on the old weights,
    frames 1 and 2 on the new ones, and nothing is lost."""
    cfg = FrameConfig(6, 6, cin=2, cout=3, padding=(1, 1, 1, 1), mode="reflect", shift=7)
    params, frames, (w1, b1), (w2, b2) = reload_case(21, cfg)
    seen = {}

    async def reload(ctx, dut, state):
        while state["accepted"] < 10:
            await ctx.tick()
        beats = param_words(w2, b2)
        await put(ctx, dut.i_param, beats[:2])          # the port's buffer takes two words
        seen["loading"] = bool(await regs.read(ctx, dut.bus, Reg.STATUS) & Status.PARAM_LOADING)
        seen["held"] = not ctx.get(dut.i_param.ready)   # frame 0 is in flight: the load waits
        seen["accepted_at_wait"] = state["accepted"]
        await put(ctx, dut.i_param, beats[2:])
        seen["accepted_at_load"] = state["accepted"]

    result = run_core(params, frames, w=w1, bias=b1, events=reload, bubbles=0.2,
                      backpressure=0.3,
                      expected_outputs=3 * len(expected_outputs(params, cfg, frames[0].x, w1, b1,
                                                                frames[0].full_mask)))
    expected = (expected_outputs(params, cfg, frames[0].x, w1, b1, frames[0].full_mask) +
                [b for f in frames[1:]
                 for b in expected_outputs(params, cfg, f.x, w2, b2, f.full_mask)])
    Scoreboard(expected).check(result.outputs)
    assert seen["held"] and seen["loading"]
    assert seen["accepted_at_wait"] < cfg.input_count()    # the load was offered mid-frame
    # frame 1 did not start before the load: at most its first beat (and one more) wait in
    # the input buffer
    assert seen["accepted_at_load"] <= cfg.input_count() + 2
    assert result.errors == 0


@pytest.mark.parametrize("offset", [-4, -3, -2, -1, 0, 1, 2])
def test_parameter_load_and_frame_start_offered_together(offset):
    """A parameter load and a frame's first beat offered around the same cycle, from idle
    (``offset``: edges from the first parameter word being offered to the frame's release;
    negative: the frame first). Exactly one of them goes first: the frame runs on the old
    weights entirely or on the new ones entirely, never on a mix, and the next frame on the
    new ones. (Both holds are registers: the load's CLAIM step is what keeps them apart.)"""
    cfg = FrameConfig(5, 5, cin=2, cout=3, padding=(1, 1, 1, 1), mode="replicate", shift=7)
    params, frames, (w1, b1), (w2, b2) = reload_case(22, cfg)

    async def race(ctx, dut, state):
        state["release"] = 0                      # frame 1 waits
        while state["accepted"] < cfg.input_count():
            await ctx.tick()
        await regs.wait_idle(ctx, dut.bus)       # frame 0 has left the datapath
        beats = param_words(w2, b2)
        if offset <= 0:
            state["release"] = 1
            for _ in range(-offset):
                await ctx.tick()
        sent = edge = 0
        while sent < len(beats):
            ctx.set(dut.i_param.payload, beats[sent])
            ctx.set(dut.i_param.valid, 1)
            _, _, ready = await ctx.tick().sample(dut.i_param.ready)
            edge += 1
            if edge == offset:
                state["release"] = 1
            sent += bool(ready)
        ctx.set(dut.i_param.valid, 0)
        state["release"] = 1
        await regs.wait_idle(ctx, dut.bus)       # the load (and frame 1, if it went first)
        state["release"] = 2

    def outputs(f, w, b):
        return expected_outputs(params, cfg, f.x, w, b, f.full_mask)
    result = run_core(params, frames, w=w1, bias=b1, events=race,
                      expected_outputs=3 * len(outputs(frames[0], w1, b1)))
    first = outputs(frames[0], w1, b1)
    last = outputs(frames[2], w2, b2)
    candidates = [first + outputs(frames[1], w, b) + last for w, b in ((w1, b1), (w2, b2))]
    assert result.outputs in candidates, "frame 1 ran on a mix of old and new weights"
    # well apart, the first one offered goes first (-1 and 0 are the race: both arrive at
    # the units in the same cycle, or a cycle apart)
    if offset <= -2:
        assert result.outputs == candidates[0]
    if offset >= 1:
        assert result.outputs == candidates[1]
    assert result.errors == 0


def test_core_without_learning_and_with_lut_multipliers():
    """The small-part options: no learning units (no i_grad; THRESHOLD, LEARNING and TARGET
    ignore writes with bad_write) and multipliers past a DSP budget built from LUTs. Still exact."""
    params = CoreParams(kernel=3, lanes=2, max_height=8, max_width=8, max_cin=3, max_cout=4,
                        block=2, learning=False, dsp_limit=7)
    assert params.dsp_multipliers == 7 and params.lut_multipliers == 11
    core = ConvCore(params)
    assert not hasattr(core, "i_grad")
    rng = np.random.default_rng(22)
    frames = random_frames(rng, params, 3)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    seen = {}

    async def probe(ctx, dut):
        seen["features"] = await regs.read(ctx, dut.bus, Reg.FEATURES)
        await regs.write(ctx, dut.bus, Reg.THRESHOLD, 5)
        seen["threshold"] = await regs.read(ctx, dut.bus, Reg.THRESHOLD)
        seen["errors"] = await regs.read(ctx, dut.bus, Reg.ERRORS)
        await regs.write(ctx, dut.bus, Reg.ERRORS, 0xFFFFFFFF)
        await regs.write(ctx, dut.bus, Reg.TARGET, 5)
        seen["target"] = await regs.read(ctx, dut.bus, Reg.TARGET)
        seen["target_errors"] = await regs.read(ctx, dut.bus, Reg.ERRORS)
        await regs.write(ctx, dut.bus, Reg.ERRORS, 0xFFFFFFFF)

    result = run_core(params, frames, w=w, bias=bias, core=core, pre_setup=probe,
                      bubbles=0.3, backpressure=0.3)
    expected = [b for f in frames
                for b in expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)]
    Scoreboard(expected).check(result.outputs)
    # FEATURES: 11 LUT multipliers, counters built (bit 1), no learning (bit 0), not lean
    assert seen == {"features": 11 << 8 | 0b010, "threshold": 0, "target": 0,
                    "errors": error_bits("bad_write"), "target_errors": error_bits("bad_write")}
    assert result.errors == 0


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_lean_core_with_bubbles_and_backpressure(kernel):
    """``lean`` (no S1b/SI/SP in the MAC array, no stage F in the window generator, no skip
    buffer): still exact, counters included, under random bubbles and backpressure."""
    params = dataclasses.replace(SMALL[kernel], lean=True)
    rng = np.random.default_rng(40 + kernel)
    frames = random_frames(rng, params, 3)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    check_run(params, frames, w, bias, bubbles=0.3, backpressure=0.3)


def test_core_without_counters():
    """``counters=False``: every counter register and COUNTER_OVERFLOW read 0, FEATURES says
    so, and frames are exact."""
    params = dataclasses.replace(SMALL[3], counters=False, lean=True, learning=False)
    rng = np.random.default_rng(44)
    frames = random_frames(rng, params, 2)
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    seen = {}

    async def probe(ctx, dut):
        seen["features"] = await regs.read(ctx, dut.bus, Reg.FEATURES)

    result = run_core(params, frames, w=w, bias=bias, pre_setup=probe,
                      bubbles=0.3, backpressure=0.3)
    expected = [b for f in frames
                for b in expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)]
    Scoreboard(expected).check(result.outputs)
    assert result.errors == 0
    assert result.outputs                                  # frames ran ...
    assert set(result.counters.values()) == {0}            # ... and no counter counted them
    assert seen["features"] == 0b100                       # lean, no counters, no learning

