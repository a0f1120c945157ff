"""Padding/window generator against its golden twin (sim.frames.expected_windows): every tap
value, padding flag, mask bit and accumulation flag of every window, for random back-to-back
frames under random input bubbles and output backpressure."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from padmask.hdl.window import WindowGenerator
from padmask.sim.frames import expected_windows, input_beats, random_config, window_tuple
from padmask.sim.harness import simulate
from padmask.sim.stream import Scoreboard, get, put
from tests.core_cases import SMALL


@pytest.mark.parametrize("kernel", [1, 3, 5, 7])
def test_windows_match_the_golden_twin(kernel):
    params = SMALL[kernel]
    rng = np.random.default_rng(40 + kernel)
    frames = []
    for _ in range(6):
        cfg = random_config(rng, params)
        frames.append((cfg, rng.integers(-3, 4, (cfg.cin, cfg.height, cfg.width))))
    full = rng.integers(0, 2, params.grid_shape).astype(bool)
    bits = sum(int(b) << i for i, b in enumerate(full.ravel()))
    expected = [beat for cfg, x in frames for beat in expected_windows(params, cfg, x, full)]
    dut = WindowGenerator(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = {}
    started = {"frames": 0}

    async def producer(ctx):
        ctx.set(dut.mask, bits)
        r = random.Random(kernel)
        for cfg, x in frames:
            # the configuration is sampled when a frame's first beat is offered; this producer
            # offers it only after setting it
            ctx.set(dut.config, cfg.register_value())
            await put(ctx, dut.i, input_beats(x), rng=r, bubbles=0.3)
            started["frames"] += 1

    async def consumer(ctx):
        got["windows"] = await get(ctx, dut.o, len(expected), rng=random.Random(kernel + 1),
                                   backpressure=0.3,
                                   decode=lambda pl: window_tuple(pl, params.taps))

    async def watchdog(ctx):
        for _ in range(40 * len(expected) + 2000):  # (a plain loop closes cleanly at the end)
            await ctx.tick()
        raise AssertionError("deadlock: the generator stopped producing windows")

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.add_testbench(watchdog, background=True)
    simulate(sim)
    Scoreboard(expected).check(got["windows"])
