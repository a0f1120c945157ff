"""The stream drivers and the scoreboard themselves: each diagnosis is reachable."""

import random

import pytest
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.sim import Simulator

from padmask.sim.harness import simulate
from padmask.sim.stream import Scoreboard, get, put


def through_fifo(sent, count, *, linger):
    """Send ``sent`` through a FIFO under bubbles and backpressure; receive ``count`` beats and
    whatever arrives within ``linger`` more cycles."""
    dut = SyncFIFOBuffered(width=8, depth=4)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = {}

    async def producer(ctx):
        await put(ctx, dut.w_stream, sent, rng=random.Random(1), bubbles=0.3)

    async def consumer(ctx):
        got["beats"] = await get(ctx, dut.r_stream, count, rng=random.Random(2),
                                 backpressure=0.3, linger=linger)

    sim.add_testbench(producer, background=True)
    sim.add_testbench(consumer)
    simulate(sim)
    return got["beats"]


def test_in_order_beats_pass():
    Scoreboard(list(range(20))).check(through_fifo(list(range(20)), 20, linger=10))


def test_an_extra_beat_after_the_expected_ones_is_caught():
    # the device sends one beat more than expected (a duplicate); lingering sees it
    received = through_fifo(list(range(10)) + [9], 10, linger=10)
    with pytest.raises(AssertionError, match=r"1 beat\(s\) extra \(duplicated\): expected 10, "
                                             r"received 11"):
        Scoreboard(list(range(10))).check(received)


@pytest.mark.parametrize("received, message", [
    ([0, 2, 3], r"beat 1: expected 1, got 2 \(the expected beat looks lost\)"),
    ([0, 0, 1], r"beat 1: expected 1, got 0 \(looks like a duplicate of the previous beat\)"),
    ([0, 3, 1, 2], r"beat 1: expected 1, got 3 \(it belongs at beat 3: reordered or lost\)"),
    ([0, 1], r"2 beat\(s\) lost: expected 4, received 2"),
])
def test_diagnoses(received, message):
    with pytest.raises(AssertionError, match=message):
        Scoreboard([0, 1, 2, 3]).check(received)
