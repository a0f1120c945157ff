# amaranth: UnusedElaboratable=no
"""BufferedFIFO: cycle for cycle the same as Amaranth's SyncFIFOBuffered, and a stream that
loses, duplicates and reorders nothing under bubbles and backpressure."""

import random

import pytest
from amaranth.hdl import Module
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.sim import Simulator

from padmask.hdl.fifo import BufferedFIFO
from padmask.sim.harness import simulate
from padmask.sim.stream import Scoreboard


@pytest.mark.parametrize("depth", [2, 3, 5, 16])
def test_matches_sync_fifo_buffered_cycle_for_cycle(depth):
    # both FIFOs get the same random writes and reads (input bubbles, output backpressure);
    # every output is compared on every cycle, and the read beats are scoreboarded
    m = Module()
    m.submodules.dut = dut = BufferedFIFO(width=8, depth=depth)
    m.submodules.ref = ref = SyncFIFOBuffered(width=8, depth=depth)
    sim = Simulator(m)
    sim.add_clock(1e-8)
    rng = random.Random(depth)
    cycles = 3000
    received = []

    async def bench(ctx):
        sent = 0
        for cycle in range(cycles):
            # phases of mostly writing and mostly reading, so the FIFO fills and empties
            fill = (cycle // 97) % 2 == 0
            w_en = rng.random() < (0.8 if fill else 0.3)
            r_en = rng.random() < (0.3 if fill else 0.8)
            for fifo in (dut, ref):
                ctx.set(fifo.w_data, sent & 0xFF)
                ctx.set(fifo.w_en, w_en)
                ctx.set(fifo.r_en, r_en)
            for name in ("w_rdy", "r_rdy", "level"):
                assert ctx.get(getattr(dut, name)) == ctx.get(getattr(ref, name)), \
                    f"cycle {cycle}: {name}"
            if ctx.get(ref.r_rdy):
                assert ctx.get(dut.r_data) == ctx.get(ref.r_data), f"cycle {cycle}: r_data"
                if r_en:
                    received.append(ctx.get(dut.r_data))
            if w_en and ctx.get(dut.w_rdy):
                sent += 1
            await ctx.tick()
        bench.sent = sent

    sim.add_testbench(bench)
    simulate(sim)
    assert bench.sent > cycles // 5            # the test moved data through ...
    assert len(received) > bench.sent - depth - 1
    Scoreboard([i & 0xFF for i in range(len(received))]).check(received)  # ... all in order


@pytest.mark.parametrize("kwargs, error, message", [
    ({"width": 8, "depth": 1}, ValueError, "depth must be at least 2, not 1"),
    ({"width": 8, "depth": 4.0}, TypeError, "depth must be an integer, not 4.0"),
    ({"width": -1, "depth": 4}, TypeError, "width must be a non-negative integer, not -1"),
])
def test_bad_parameters_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        BufferedFIFO(**kwargs)
