"""The core's registers (hdl/registers.py, hdl/counters.py) against the register table: reset
values, staging and apply, range checks, refused writes and their error flags, registered
reads, counter snapshots, overflow and clear."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from padmask import golden
from padmask.golden import fixed
from padmask.hdl.core import ConvCore
from padmask.hdl.regbus import READ_LATENCY
from padmask.hdl.counters import PerfCounters
from padmask.hdl.regmap import (APPLIED_OFFSET, CONFIG_REGISTERS, COUNTER_WIDTH, COUNTERS,
                                ERROR_BITS, ID_VALUE, MASK_SHADOW, REGISTERS, Ctrl, Reg, Status,
                                by_name, check, encode)
from padmask.sim import regs
from padmask.sim.frames import (FrameConfig, expected_outputs, gradient_beats, input_beats,
                                param_words, random_config)
from padmask.sim.harness import FrameSpec, output_recorder, run_core, simulate
from padmask.sim.stream import Scoreboard, put
from tests.core_cases import SMALL, frame, same_channels, weights

ERROR_NAMES = [name for name, _ in ERROR_BITS]


def flag(*names):
    return sum(1 << ERROR_NAMES.index(n) for n in names)


def run_bench(params, bench):
    """Run ``bench(ctx, dut, outputs)``; a background consumer, always ready, appends every
    output beat to ``outputs``."""
    dut = ConvCore(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    outputs = []

    async def wrapped(ctx):
        await bench(ctx, dut, outputs)

    sim.add_testbench(output_recorder(dut, outputs), background=True)
    sim.add_testbench(wrapped)
    simulate(sim)


def test_reset_values_and_identification():
    params = SMALL[3]

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        # values a host can check against the documentation
        assert await regs.read(ctx, bus, Reg.ID) == 0x50414D4B == ID_VALUE
        assert await regs.read(ctx, bus, Reg.INFO) == (3 | 2 << 8 | 2 << 16 |
                                                        params.acc_width << 24)
        assert await regs.read(ctx, bus, Reg.MAX_FRAME) == 8 | 8 << 16
        assert await regs.read(ctx, bus, Reg.MAX_CHANNELS) == 3 | 5 << 16
        assert await regs.read(ctx, bus, Reg.FRAME_SIZE) == 8 | 8 << 16
        assert await regs.read(ctx, bus, Reg.MODE) == 1 << 4            # zero, stride 1
        assert await regs.read(ctx, bus, Reg.CHANNELS) == 1 | 1 << 16
        assert await regs.read(ctx, bus, Reg.THRESHOLD) == 1 << 14        # 0.5
        # and every readable register against its reset value in the table
        for reg in REGISTERS:
            if reg.access in ("W",):
                continue
            want = sum(f.reset_value(params) << f.offset for f in reg.fields) & 0xFFFFFFFF
            assert await regs.read(ctx, bus, reg.addr) == want, reg.name
        assert await regs.read(ctx, bus, Reg.CTRL) == 0
        assert await regs.read(ctx, bus, 0x1FF) == 0                       # unmapped

    run_bench(params, bench)


def test_reads_back_to_back_arrive_after_the_read_latency_and_hold():
    """One read per cycle: each word arrives READ_LATENCY edges after its r_en, in order, and
    stays until the next read's; a read on the edge of a write returns the old value."""
    params = SMALL[3]

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        frame_size = by_name("FRAME_SIZE")
        old = await regs.read(ctx, bus, Reg.FRAME_SIZE)
        new = encode(frame_size, height=5, width=7)
        assert new != old
        await regs.write(ctx, bus, MASK_SHADOW + 1, 0xA5A5_0F0F)
        # r_en on consecutive cycles; the FRAME_SIZE read shares its edge with a write to it
        plan = [(Reg.ID, ID_VALUE), (Reg.MAX_FRAME, 8 | 8 << 16), (Reg.FRAME_SIZE, old),
                (MASK_SHADOW + 1, 0xA5A5_0F0F), (0x1FF, 0), (Reg.FRAME_SIZE, new)]
        seen = []
        for cycle in range(len(plan) + READ_LATENCY + 2):
            if cycle < len(plan):
                addr = plan[cycle][0]
                ctx.set(bus.addr, addr)
                ctx.set(bus.r_en, 1)
                write = addr == Reg.FRAME_SIZE and cycle == 2
                ctx.set(bus.w_en, write)
                ctx.set(bus.w_data, new if write else 0)
            else:
                ctx.set(bus.r_en, 0)
                ctx.set(bus.w_en, 0)
            await ctx.tick()
            seen.append(ctx.get(bus.r_data))
        # seen[i] is r_data after edge i; the read of edge j is there from edge j + latency - 1
        for j, (addr, want) in enumerate(plan):
            assert seen[j + READ_LATENCY - 1] == want, (hex(addr), j)
        assert seen[-1] == seen[-2] == plan[-1][1]          # held after the last read

    run_bench(params, bench)


def test_configuration_is_staged_until_applied():
    params = SMALL[3]
    cfg = FrameConfig(5, 7, cin=3, cout=4, padding=(1, 2, 0, 2), mode="constant", pad_value=-3,
                      stride=2, shift=9, zero_gating=True)

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        words = regs.config_words(cfg)
        await regs.stage(ctx, bus, cfg)
        for addr, word in words:
            assert await regs.read(ctx, bus, addr) == word
            reset = await regs.read(ctx, bus, addr + APPLIED_OFFSET)
            assert reset != word or addr == Reg.PADS and word == 0
        assert await regs.read(ctx, bus, Reg.PAD_VALUE) == 0xFFFFFFFD     # -3, sign-extended
        await regs.write(ctx, bus, Reg.CTRL, Ctrl.APPLY_CONFIG)
        for addr, word in words:
            assert await regs.read(ctx, bus, addr + APPLIED_OFFSET) == word
        assert await regs.read(ctx, bus, Reg.ERRORS) == 0
        assert not await regs.read(ctx, bus, Reg.STATUS) & Status.CONFIG_INVALID

    run_bench(params, bench)


def _bad_words(reg, params):
    """Out-of-range words of a register: each bounded field just outside its bounds, and each
    reserved bit."""
    good = {f.name: f.reset_value(params) for f in reg.fields}
    out = []
    for f in reg.fields:
        bounds = f.bounds(params)
        if bounds is None:
            continue
        lo, hi = bounds
        low_limit = -(1 << (f.width - 1)) if f.signed else 0
        high_limit = (1 << (f.width - 1)) - 1 if f.signed else (1 << f.width) - 1
        if lo > low_limit:
            out.append(encode(reg, **{**good, f.name: lo - 1}))
        if hi < high_limit:
            out.append(encode(reg, **{**good, f.name: hi + 1}))
    word = encode(reg, **good)
    out += [word | 1 << b for b in range(32) if reg.reserved >> b & 1][:4]
    return out


def test_every_out_of_range_write_is_flagged_and_frames_are_rejected():
    params = SMALL[3]
    rng = np.random.default_rng(70)
    good_cfg = FrameConfig(4, 5, cin=2, cout=2, padding=(1, 1, 1, 1), mode="reflect", shift=4)
    good = frame(rng, params, good_cfg, "ones")  # the reset mask
    w, bias = weights(rng, params, 2, 2)
    cases = [(reg, word) for reg in CONFIG_REGISTERS for word in _bad_words(reg, params)]
    # values that used to wrap silently: stride 5 ran as 1, shift 261 as 5, 0x1FF as -1
    cases += [(by_name("MODE"), encode(by_name("MODE"), stride=5)), (by_name("SHIFT"), 261),
              (by_name("PAD_VALUE"), 0x1FF)]
    assert check(by_name("PAD_VALUE"), 0xFFFFFFFF, params)              # -1 is in range
    seen = []

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        await regs.configure(ctx, bus, good_cfg)
        await put(ctx, dut.i_param, param_words(w, bias))
        for reg, word in cases:
            assert not check(reg, word, params)
            await regs.write(ctx, bus, reg.addr, word)
            assert await regs.read(ctx, bus, Reg.ERRORS) == flag(reg.error), (reg.name, word)
            await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
            # applied: STATUS says so, and a frame is rejected (drained, no output)
            await regs.write(ctx, bus, Reg.CTRL, Ctrl.APPLY_CONFIG)
            assert await regs.read(ctx, bus, Reg.STATUS) & Status.CONFIG_INVALID
            await put(ctx, dut.i, input_beats(good.x))
            await regs.wait_idle(ctx, bus)
            assert await regs.read(ctx, bus, Reg.ERRORS) == flag(reg.error)
            await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
            # a good configuration again: the next frame is exact
            await regs.configure(ctx, bus, good_cfg)
            assert not await regs.read(ctx, bus, Reg.STATUS) & Status.CONFIG_INVALID
            seen.append(reg.name)
        assert outputs == []
        expected = expected_outputs(params, good_cfg, good.x, w, bias, good.full_mask)
        await put(ctx, dut.i, input_beats(good.x))
        await regs.wait_idle(ctx, bus)
        Scoreboard(expected).check(outputs)
        assert await regs.read(ctx, bus, Reg.ERRORS) == 0

    run_bench(params, bench)
    assert set(seen) == {r.name for r in CONFIG_REGISTERS}


def test_refused_writes_and_their_flags():
    params = SMALL[3]

    async def bench(ctx, dut, outputs):
        bus = dut.bus

        async def expect(addr, value, error, read_back=None, read_value=None):
            await regs.write(ctx, bus, addr, value)
            assert await regs.read(ctx, bus, Reg.ERRORS) == (flag(error) if error else 0)
            await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
            if read_back is not None:
                assert await regs.read(ctx, bus, read_back) == read_value

        await expect(Reg.THRESHOLD, 777, None, Reg.THRESHOLD, 777)
        await expect(Reg.THRESHOLD, (1 << 15) + 1, "threshold", Reg.THRESHOLD, 777)
        await expect(Reg.THRESHOLD, 1 << 20 | 5, "threshold", Reg.THRESHOLD, 777)
        await expect(Reg.LEARNING, 1234 | 1 << 16, None, Reg.LEARNING, 1234 | 1 << 16)
        await expect(Reg.LEARNING, 1 << 18, "bad_write", Reg.LEARNING, 1234 | 1 << 16)
        await expect(Reg.CTRL, 1 << 5, "bad_write")
        await expect(Reg.ID, 0, "bad_write", Reg.ID, ID_VALUE)
        await expect(Reg.APPLIED_FRAME_SIZE, 3 | 3 << 16, "bad_write", Reg.APPLIED_FRAME_SIZE,
                     8 | 8 << 16)
        await expect(0x1FF, 1, "bad_write")
        await expect(Reg.STATUS, 1, "bad_write")
        # ERRORS is write-1-to-clear: a write of 0 keeps the flags
        await regs.write(ctx, bus, Reg.CTRL, 1 << 7)
        await regs.write(ctx, bus, Reg.ERRORS, 0)
        assert await regs.read(ctx, bus, Reg.ERRORS) == flag("bad_write")
        await regs.write(ctx, bus, Reg.ERRORS, flag("bad_write"))
        assert await regs.read(ctx, bus, Reg.ERRORS) == 0

    run_bench(params, bench)


def test_target_and_the_density_direction():
    """TARGET (the density rule's share) and LEARNING.direction 2: reset value, read back, a
    share above 1.0 or a reserved bit flagged (ERRORS.threshold) and ignored, direction 3
    refused (bad_write), both refused while an update runs (busy_write); and the update runs
    the density rule toward the TARGET written before it, as the golden model says."""
    params = SMALL[3]
    one = fixed.THRESHOLD.from_float(1.0)
    half = fixed.THRESHOLD.from_float(0.5)
    cfg = FrameConfig(8, 8, padding=(2, 1, 1, 2))
    hp, wp = cfg.padded
    rng = np.random.default_rng(75)
    raw, _ = golden.quantize_gradients(rng.normal(size=(2, hp, wp)) * rng.random((1, hp, wp)))
    rate, target, refused_target = 50000, fixed.THRESHOLD.from_float(0.1), one
    density = golden.DIRECTIONS.index("density")
    expected = golden.mask_update_fixed(raw, cfg.padding, params.block, half, rate, "density",
                                        target)
    # (the refused writes would change the result: the test can tell them apart)
    assert expected.threshold != golden.mask_update_fixed(
        raw, cfg.padding, params.block, half, rate, "density", refused_target).threshold
    assert expected.threshold != golden.mask_update_fixed(
        raw, cfg.padding, params.block, half, rate, "pseudocode").threshold
    learning = by_name("LEARNING")

    async def bench(ctx, dut, outputs):
        bus = dut.bus

        async def expect(addr, value, error, read_back, read_value):
            await regs.write(ctx, bus, addr, value)
            assert await regs.read(ctx, bus, Reg.ERRORS) == (flag(error) if error else 0)
            await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
            assert await regs.read(ctx, bus, read_back) == read_value

        assert await regs.read(ctx, bus, Reg.TARGET) == half
        await expect(Reg.TARGET, one, None, Reg.TARGET, one)
        await expect(Reg.TARGET, 0, None, Reg.TARGET, 0)
        await expect(Reg.TARGET, one + 1, "threshold", Reg.TARGET, 0)
        await expect(Reg.TARGET, 0xFFFF, "threshold", Reg.TARGET, 0)
        await expect(Reg.TARGET, 1 << 16 | 7, "threshold", Reg.TARGET, 0)
        await expect(Reg.TARGET, target, None, Reg.TARGET, target)
        word = encode(learning, rate=rate, direction=density)
        await expect(Reg.LEARNING, word, None, Reg.LEARNING, word)
        await expect(Reg.LEARNING, encode(learning, rate=1, direction=3), "bad_write",
                     Reg.LEARNING, word)
        # an update: TARGET and LEARNING refused while it runs (an out-of-range TARGET is
        # still an out-of-range write)
        await regs.configure(ctx, bus, cfg)
        await put(ctx, dut.i_grad, gradient_beats(raw, cfg.padding))
        assert await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING
        await regs.write(ctx, bus, Reg.TARGET, refused_target)
        await regs.write(ctx, bus, Reg.LEARNING, encode(learning, rate=rate, direction=0))
        assert await regs.read(ctx, bus, Reg.ERRORS) == flag("busy_write")
        await regs.write(ctx, bus, Reg.TARGET, one + 1)
        assert await regs.read(ctx, bus, Reg.ERRORS) == flag("busy_write", "threshold")
        assert await regs.read(ctx, bus, Reg.TARGET) == target
        assert await regs.read(ctx, bus, Reg.LEARNING) == word
        while await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING:
            pass
        assert await regs.read(ctx, bus, Reg.THRESHOLD) == expected.threshold

    run_bench(params, bench)


def test_mask_banks_and_refusals_while_a_commit_is_pending():
    params = SMALL[3]
    rng = np.random.default_rng(71)
    words = [int(v) for v in rng.integers(0, 2**32, -(-params.mask_bits // 32))]
    other = [w ^ 0xFFFF for w in words]
    cfg = FrameConfig(8, 8, cin=3, cout=5, padding=(1, 1, 1, 1))
    x = rng.integers(-5, 5, (3, 8, 8))

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        n = len(words)
        ones = [0xFFFFFFFF] * n
        assert await regs.read_mask(ctx, bus, n) == ones              # reset: all included
        await regs.load_mask(ctx, bus, words, commit=False)
        assert await regs.read_mask(ctx, bus, n, active=False) == words
        assert await regs.read_mask(ctx, bus, n) == ones
        # idle core: the commit swaps at once (no frame can be running): the window
        # generator registers the request on the next edge, the register file on the one
        # after, and the banks exchange on the third
        await regs.write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)
        await ctx.tick()
        await ctx.tick()
        assert await regs.read(ctx, bus, Reg.STATUS) & Status.MASK_PENDING
        await ctx.tick()
        assert not await regs.read(ctx, bus, Reg.STATUS) & Status.MASK_PENDING
        assert await regs.read_mask(ctx, bus, n) == words
        # a frame in progress: a commit now is claimed by the next frame, and until then the
        # shadow bank (the committed mask) is off limits
        await regs.configure(ctx, bus, cfg)
        await put(ctx, dut.i, input_beats(x)[:20])          # the frame is being received
        await regs.load_mask(ctx, bus, other)
        assert await regs.read(ctx, bus, Reg.STATUS) & Status.MASK_PENDING
        await regs.write(ctx, bus, MASK_SHADOW, 0)
        assert await regs.read(ctx, bus, Reg.ERRORS) == flag("mask_pending")
        await regs.write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)
        await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
        assert await regs.read_mask(ctx, bus, n, active=False) == other  # untouched
        assert await regs.read_mask(ctx, bus, n) == words
        await put(ctx, dut.i, input_beats(x)[20:])
        await regs.wait_idle(ctx, bus)
        # the frame that was running kept its mask; nothing else started: the generator went
        # idle, so the pending mask was swapped in then
        assert await regs.read_mask(ctx, bus, n) == other
        assert await regs.read_mask(ctx, bus, n, active=False) == words
        assert not await regs.read(ctx, bus, Reg.STATUS) & Status.MASK_PENDING
        # a mask update running: the shadow bank is the learning unit's
        hp, wp = cfg.padded
        raw, _ = golden.quantize_gradients(rng.normal(size=(1, hp, wp)))
        await put(ctx, dut.i_grad, gradient_beats(raw, cfg.padding))
        assert await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING
        await regs.write(ctx, bus, MASK_SHADOW, 0)
        await regs.write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)
        assert await regs.read(ctx, bus, Reg.ERRORS) == flag("busy_write")
        assert not await regs.read(ctx, bus, Reg.STATUS) & Status.MASK_PENDING
        assert await regs.read_mask(ctx, bus, n, active=False) == words

    run_bench(params, bench)


def test_counters_snapshot_clear_and_overflow():
    params = SMALL[3]
    rng = np.random.default_rng(72)
    cfg = FrameConfig(4, 4, cin=2, cout=3, padding=(1, 1, 1, 1), mode="zero")
    f = frame(rng, params, cfg)
    w, bias = weights(rng, params, 2, 3)
    windows = COUNTERS.index(("windows", dict(COUNTERS)["windows"]))

    async def bench(ctx, dut, outputs):
        bus = dut.bus
        value = dut.counters.value[windows]
        # a carry between the two reads of a counter: the high word is the snapshot
        ctx.set(value, 0xFFFFFFFF)
        low = await regs.read(ctx, bus, Reg.WINDOWS_LO)
        ctx.set(value, 0x1_0000_0000)
        high = await regs.read(ctx, bus, Reg.WINDOWS_HI)
        assert (low, high) == (0xFFFFFFFF, 0)
        ctx.set(value, 0x0000_1234_5678_9ABC)
        assert await regs.read_counter(ctx, bus, "windows") == 0x1234_5678_9ABC
        # a counter that carries out of its top bit sets its sticky overflow bit
        ctx.set(value, (1 << COUNTER_WIDTH) - 2)
        await regs.configure(ctx, bus, cfg)
        await put(ctx, dut.i_param, param_words(w, bias))
        await put(ctx, dut.i, input_beats(f.x))
        await regs.wait_idle(ctx, bus)
        ho, wo = cfg.output_size(params.kernel)
        count = ho * wo * 2 * cfg.cin  # windows: positions x groups x channels
        assert await regs.read_counter(ctx, bus, "windows") == count - 2
        assert await regs.read(ctx, bus, Reg.COUNTER_OVERFLOW) == 1 << windows
        assert await regs.read_counter(ctx, bus, "cycles") > 0
        await regs.write(ctx, bus, Reg.COUNTER_OVERFLOW, 1 << windows)    # write 1 to clear
        assert await regs.read(ctx, bus, Reg.COUNTER_OVERFLOW) == 0
        ctx.set(dut.counters.overflow, 0xFF)
        await regs.write(ctx, bus, Reg.CTRL, Ctrl.CLEAR_COUNTERS)
        assert await regs.read_counters(ctx, bus) == {name: 0 for name, _ in COUNTERS}
        assert await regs.read(ctx, bus, Reg.COUNTER_OVERFLOW) == 0

    run_bench(params, bench)


def test_perf_counters_unit():
    dut = PerfCounters({"a": 3, "b": 1})
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    top = (1 << COUNTER_WIDTH) - 1

    async def bench(ctx):
        ctx.set(dut.increment, {"a": 5, "b": 1})
        await ctx.tick()
        await ctx.tick()
        assert (ctx.get(dut.value[0]), ctx.get(dut.value[1])) == (10, 2)
        ctx.set(dut.value[0], top - 2)
        await ctx.tick()                       # top - 2 + 5 carries out
        assert ctx.get(dut.value[0]) == 2 and ctx.get(dut.overflow) == 0b01
        ctx.set(dut.increment, {"a": 0, "b": 0})
        ctx.set(dut.clear_overflow, 0b10)      # the other bit: no effect
        await ctx.tick()
        assert ctx.get(dut.overflow) == 0b01
        ctx.set(dut.clear_overflow, 0b01)
        await ctx.tick()
        assert ctx.get(dut.overflow) == 0
        ctx.set(dut.clear_overflow, 0)
        ctx.set(dut.clear, 1)
        await ctx.tick()
        assert (ctx.get(dut.value[0]), ctx.get(dut.value[1])) == (0, 0)

    sim.add_testbench(bench)
    simulate(sim)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_configuration_written_at_random_cycles_never_tears(seed):
    """While frames stream back to back, the host writes random words (in range or not) into
    the staged configuration registers at random cycles, then stages the next frame's
    configuration and applies it after the current frame's first beat. Every frame runs exactly
    on the configuration applied for it; the random words only raise write-time flags."""
    params = SMALL[3]
    rng = np.random.default_rng(73 + seed)
    frames = []
    for i in range(5):
        cfg = same_channels(random_config(rng, params), 2, 3) if i else None
        frames.append(frame(rng, params, cfg or FrameConfig(6, 7, cin=2, cout=3, shift=5)))
    frames = [FrameSpec(f.cfg, f.x, frames[0].full_mask) for f in frames
              if f.cfg.input_count() >= 8]  # room for the host's writes during a frame
    w, bias = weights(rng, params, 2, 3)
    result = run_core(params, frames, w=w, bias=bias, back_to_back=True, bubbles=0.3,
                      backpressure=0.3, scribble=random.Random(seed))
    expected = [b for f in frames for b in expected_outputs(params, f.cfg, f.x, w, bias,
                                                              f.full_mask)]
    Scoreboard(expected).check(result.outputs)
    write_time = flag(*(r.error for r in CONFIG_REGISTERS))
    assert result.scribbled > 0
    assert result.errors & ~write_time == 0   # no frame was rejected, nothing else went wrong
