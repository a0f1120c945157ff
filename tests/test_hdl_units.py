# amaranth: UnusedElaboratable=no
"""Unit tests of the small core units: constant division, mask register file, skip unit, MAC
operand gating, parameter loader errors."""

import dataclasses
import random

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from padmask.hdl.arith import lut_multiply, times_const
from padmask.hdl.divider import Divider
from padmask.hdl.mac import MacArray
from padmask.hdl.mask_regfile import BlockMaskRegisterFile
from padmask.hdl.regmap import ERROR_BITS
from padmask.hdl.skip import SkipUnit
from padmask.sim.frames import FrameConfig, expected_outputs, param_words
from padmask.sim.harness import run_core, simulate, start_and_wait
from padmask.sim import regs
from padmask.sim.stream import Scoreboard, get, put
from tests.core_cases import SMALL, frame, weights


def test_mask_register_file_swaps_only_when_committed_and_told():
    dut = BlockMaskRegisterFile(40)  # two words, the second partly used
    sim = Simulator(dut)
    sim.add_clock(1e-8)

    async def bench(ctx):
        full = (1 << 40) - 1
        assert ctx.get(dut.active) == full and not ctx.get(dut.pending)
        ctx.set(dut.w_en, 1)
        for addr, word in ((0, 0x12345678), (1, 0xAB)):
            ctx.set(dut.addr, addr)
            ctx.set(dut.w_data, word)
            await ctx.tick()
        ctx.set(dut.w_en, 0)
        new = 0xAB << 32 | 0x12345678
        assert ctx.get(dut.active) == full          # shadow written, active untouched
        ctx.set(dut.addr, 1)
        ctx.set(dut.r_bank, 0)
        assert ctx.get(dut.r_data) == 0xAB
        ctx.set(dut.commit, 1)
        await ctx.tick()
        ctx.set(dut.commit, 0)
        assert ctx.get(dut.pending)
        for _ in range(3):
            await ctx.tick()
            assert ctx.get(dut.active) == full      # no frame boundary yet
        ctx.set(dut.swap, 1)
        await ctx.tick()
        ctx.set(dut.swap, 0)
        assert ctx.get(dut.active) == full and ctx.get(dut.pending)   # registered first
        await ctx.tick()
        assert ctx.get(dut.active) == new and not ctx.get(dut.pending)
        ctx.set(dut.r_bank, 1)
        ctx.set(dut.addr, 0)
        assert ctx.get(dut.r_data) == 0x12345678
        # a frame boundary without a commit changes nothing
        ctx.set(dut.swap, 1)
        await ctx.tick()
        await ctx.tick()
        assert ctx.get(dut.active) == new

    sim.add_testbench(bench)
    simulate(sim)


def test_mask_register_file_rejects_bad_size():
    with pytest.raises(ValueError, match="bits must be a positive integer, not 0"):
        BlockMaskRegisterFile(0)


def test_skip_unit_against_its_definition():
    """Random windows through the (registered) skip unit under bubbles and backpressure: the
    skip vectors are the definition's, and the window passes unchanged."""
    params = SMALL[3]
    dut = SkipUnit(params)
    rng = np.random.default_rng(31)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    beats, expected = [], []
    for _ in range(300):
        taps = [int(v) for v in rng.integers(-2, 3, params.taps)]
        pad, keep = (int(rng.integers(0, 2**params.taps)) for _ in range(2))
        gating = int(rng.integers(0, 2))
        beats.append({"taps": taps, "pad": pad, "keep": keep, "zero_gating": gating})
        by_mask = pad & ~keep & (2**params.taps - 1)
        zero = sum(1 << t for t, v in enumerate(taps) if v == 0)
        expected.append((tuple(taps), pad, keep, by_mask, zero & ~by_mask if gating else 0))
    got = {}

    async def producer(ctx):
        await put(ctx, dut.i, beats, rng=random.Random(1), bubbles=0.3)

    async def consumer(ctx):
        got["beats"] = await get(
            ctx, dut.o, len(beats), rng=random.Random(2), backpressure=0.3, linger=10,
            decode=lambda pl: (tuple(pl.window.taps[t] for t in range(params.taps)),
                               pl.window.pad, pl.window.keep, pl.skip_mask, pl.skip_zero))

    sim.add_testbench(producer, background=True)
    sim.add_testbench(consumer)
    simulate(sim)
    Scoreboard(expected).check(got["beats"])


@pytest.mark.parametrize("lean", [False, True])
def test_skipped_taps_never_toggle_their_operands(lean):
    """Random beats with random skip vectors, under output backpressure: on every clock edge
    where tap t is not loaded, its activation and weight operand registers keep their value."""
    params = dataclasses.replace(SMALL[3], lean=lean)
    dut = MacArray(params)
    rng = np.random.default_rng(32)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    beats = []
    for _ in range(200):
        beats.append({
            "window": {"taps": [int(v) for v in rng.integers(-128, 128, params.taps)],
                       "channel": int(rng.integers(0, params.max_cin)),
                       "group": int(rng.integers(0, params.groups)), "first": 1, "last": 1,
                       "lanes": params.lanes},
            "skip_mask": int(rng.integers(0, 2**params.taps)),
            "skip_zero": 0})
    seen = {"loads": 0, "holds": 0}

    async def load_weights(ctx):
        for addr in range(params.groups * params.max_cin):
            for index in range(params.lanes * params.taps):
                ctx.set(dut.write.w_addr, addr)
                ctx.set(dut.write.w_lane, index // params.taps)
                ctx.set(dut.write.w_tap, index % params.taps)
                ctx.set(dut.write.w_data, int(rng.integers(-128, 128)))
                ctx.set(dut.write.w_en, 1)
                await ctx.tick()
        ctx.set(dut.write.w_en, 0)

    async def producer(ctx):
        await load_weights(ctx)
        await put(ctx, dut.i, beats, rng=random.Random(1), bubbles=0.3)

    async def consumer(ctx):
        await get(ctx, dut.o, len(beats), rng=random.Random(2), backpressure=0.4)

    async def monitor(ctx):
        while True:
            before_a = [[ctx.get(dut.a_operand[lane][t]) for t in range(params.taps)]
                        for lane in range(params.lanes)]
            before_w = [[ctx.get(dut.w_operand[lane][t]) for t in range(params.taps)]
                        for lane in range(params.lanes)]
            _, _, load = await ctx.tick().sample(dut.operand_load)
            for t in range(params.taps):
                if load >> t & 1:
                    seen["loads"] += 1
                    continue
                seen["holds"] += 1
                for lane in range(params.lanes):
                    assert ctx.get(dut.a_operand[lane][t]) == before_a[lane][t]
                    assert ctx.get(dut.w_operand[lane][t]) == before_w[lane][t]

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.add_testbench(monitor, background=True)
    simulate(sim)
    assert seen["loads"] > 500 and seen["holds"] > 500


@pytest.mark.parametrize("case", ["early_last", "late_last", "bad_channels"])
def test_parameter_stream_errors(case):
    """A malformed parameter stream sets the param error; what arrived is used as documented,
    and a following well-formed load is exact."""
    params = SMALL[3]
    rng = np.random.default_rng(33)
    cfg = FrameConfig(4, 4, cin=2, cout=3, padding=(1, 1, 1, 1), mode="replicate", shift=4)
    f = frame(rng, params, cfg)
    w, bias = weights(rng, params, 2, 3)
    w2, bias2 = weights(rng, params, 2, 3)
    first = param_words(w2, bias2)
    if case == "early_last":  # the load ends after 10 weights
        first = first[:10]
        first[-1]["last"] = 1
    elif case == "late_last":
        first[-1]["last"] = 0
        first += [{"data": 1, "last": 0}, {"data": 2, "last": 1}]
    beats = param_words(w, bias)

    async def bad_first_load(ctx, dut):
        # bad_channels: cin = 4 is above max_cin = 3, so the whole load is dropped
        await regs.configure(ctx, dut.bus, FrameConfig(4, 4, cin=4, cout=3)
                             if case == "bad_channels" else cfg)
        await put(ctx, dut.i_param, first)

    result = run_core(params, [f], w=w, bias=bias, param_beats=beats, pre_setup=bad_first_load,
                      bubbles=0.3, backpressure=0.3)
    expected = expected_outputs(params, cfg, f.x, w, bias, f.full_mask)
    Scoreboard(expected).check(result.outputs)
    names = [name for name, _ in ERROR_BITS]
    flags = {"param"} | ({"channels"} if case == "bad_channels" else set())  # cin 4 > max 3
    assert result.errors == sum(1 << names.index(n) for n in flags)


def test_divider_rejects_bad_widths():
    with pytest.raises(ValueError, match="dividend_width must be a positive integer, not 0"):
        Divider(0, 8, 8)
    with pytest.raises(ValueError, match="quotient_width must be a positive integer, not True"):
        Divider(8, 8, True)


def test_lut_multiply_and_constant_products_are_exact():
    """The LUT multiplier (past the DSP budget) over every pair of 8-bit operands, and products
    by constants as shifts and adds."""
    a, b = Signal(signed(8)), Signal(signed(8))
    product = lut_multiply(a, b)
    v = Signal(9)
    by17, by9 = times_const(v, 17), times_const(v, 9)

    async def bench(ctx):
        for x in range(-128, 128):
            ctx.set(a, x)
            for w in range(-128, 128):
                ctx.set(b, w)
                assert ctx.get(product) == x * w, (x, w)
        for x in range(512):
            ctx.set(v, x)
            assert (ctx.get(by17), ctx.get(by9)) == (17 * x, 9 * x)

    sim = Simulator(Module())
    sim.add_testbench(bench)
    simulate(sim)
    with pytest.raises(ValueError, match="constant must be a non-negative integer, not -3"):
        times_const(v, -3)


@pytest.mark.parametrize("dividend, divisor, quotient", [(48, 24, 16), (25, 9, 16), (8, 8, 8)])
def test_divider_against_floor_division(dividend, divisor, quotient):
    dut = Divider(dividend, divisor, quotient)
    rng = np.random.default_rng(dividend + divisor)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    cases = [(0, 1), (0, 0), (5, 0), ((1 << divisor) - 1, 1 << divisor >> 1)]
    for _ in range(60):
        d = int(rng.integers(1, 1 << divisor))
        n = int(rng.integers(0, min(d << quotient, 1 << dividend)))  # the quotient fits
        cases.append((n, d))

    async def bench(ctx):
        for n, d in cases:
            if d and n >= d << quotient:
                continue
            ctx.set(dut.dividend, n)
            ctx.set(dut.divisor, d)
            assert await start_and_wait(ctx, dut.start, dut.done) == dut.latency
            assert ctx.get(dut.quotient) == (n // d if d else 0), (n, d)

    sim.add_testbench(bench)
    simulate(sim)
