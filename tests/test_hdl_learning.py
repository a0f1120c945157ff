"""Mask-generation and threshold-update units against golden.mask_update_fixed and
golden.threshold_update_fixed, bit for bit."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from padmask import golden
from padmask.golden import fixed
from padmask.hdl.learning import INITIAL_THRESHOLD, update_latency
from padmask.hdl.mask_gen import MaskGenerator
from padmask.hdl.regmap import Reg, Status
from padmask.hdl.threshold_update import LATENCY, ThresholdUpdater
from padmask.sim import regs
from padmask.sim.frames import FrameConfig, expected_outputs, frame_mask, gradient_beats
from padmask.sim.harness import FrameSpec, run_core, simulate, start_and_wait
from padmask.sim.learning import (LearningTop, learning_params, read_shadow, run_update, swap,
                          words_to_mask)
from padmask.sim.stream import Scoreboard, put
from tests.core_cases import SMALL, weights

ONE = fixed.ONE
LR_MAX = fixed.LEARNING_RATE.max_raw


def expected_scores(params, reference):
    grid_w = params.grid_shape[1]
    return [(r * grid_w + c, int(reference.relevance[r, c]), int(reference.scores[r, c]),
             int(reference.mask[r, c]))
            for r, c in zip(*np.nonzero(reference.pad_blocks))]


def simulate_updates(params, cfg, updates, *, sum_shape=fixed.RELEVANCE_SUM, bubbles=0.3,
                     seed=0):
    """Run updates [(raw gradient, threshold or None, learning rate, direction[, target])]
    through the learning top; check each against the golden model. ``target`` (a raw share,
    default 0.5) is set for every update; the golden model reads it for "density" only."""
    top = LearningTop(params, sum_shape=sum_shape)
    learn = top.learn
    sim = Simulator(top)
    sim.add_clock(1e-8)
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    checked = []

    async def bench(ctx):
        ctx.set(learn.geometry, cfg.register_value())
        threshold = INITIAL_THRESHOLD
        r = random.Random(seed)
        for raw, set_threshold, rate, direction, *target in updates:
            target = target[0] if target else ONE // 2
            if set_threshold is not None:
                ctx.set(learn.threshold_w_data, set_threshold)
                ctx.set(learn.threshold_w_en, 1)
                await ctx.tick()
                ctx.set(learn.threshold_w_en, 0)
                threshold = set_threshold
            ctx.set(learn.learning_rate, rate)
            ctx.set(learn.direction, golden.DIRECTIONS.index(direction))
            ctx.set(learn.target, target)
            reference = golden.mask_update_fixed(raw, cfg.padding, params.block, threshold, rate,
                                                 direction, target)
            terms = golden.threshold_update_fixed(
                reference.scores[reference.pad_blocks & ~reference.mask],
                reference.scores[reference.pad_blocks & reference.mask], threshold, rate,
                direction, target)
            if sum_shape is not fixed.RELEVANCE_SUM:
                rel, _ = golden.block_relevance_fixed(raw, cfg.padding, params.block,
                                                      sum_shape=sum_shape)
                scores = golden.normalize_scores_fixed(rel, reference.pad_blocks)
                mask = golden.generate_mask(scores, threshold, reference.pad_blocks)
                terms = golden.threshold_update_fixed(scores[reference.pad_blocks & ~mask],
                                                      scores[reference.pad_blocks & mask],
                                                      threshold, rate, direction, target)
                reference = golden.MaskUpdate(mask, terms.threshold, scores, rel,
                                              reference.pad_blocks)
            result = await run_update(ctx, top, gradient_beats(raw, cfg.padding), rng=r,
                                      bubbles=bubbles)
            assert np.array_equal(words_to_mask(params, result.words, grid), reference.mask)
            assert result.threshold == terms.threshold == reference.threshold
            assert result.terms == (terms.avg_out, terms.avg_in, terms.delta, terms.share)
            Scoreboard(expected_scores(params, reference)).check(result.scores)
            checked.append(result)
            threshold = result.threshold
            await swap(ctx, top)

    sim.add_testbench(bench)
    simulate(sim)
    return checked


GEOMETRIES = [
    (FrameConfig(8, 8, padding=(2, 2, 2, 2)), 2),
    (FrameConfig(5, 7, padding=(1, 0, 2, 1)), 2),
    (FrameConfig(6, 4, padding=(0, 2, 0, 0)), 4),      # bottom padding only: no side padding
    (FrameConfig(3, 9, padding=(3, 1, 0, 3)), 1),
    (FrameConfig(1, 6, padding=(1, 1, 1, 1)), 2),      # a 1xN frame
]


@pytest.mark.parametrize("geometry", range(len(GEOMETRIES)))
def test_random_updates_match_golden(geometry):
    cfg, block = GEOMETRIES[geometry]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    rng = np.random.default_rng(50 + geometry)
    hp, wp = cfg.padded
    updates = []
    for i in range(4):
        planes = int(rng.integers(1, 4))
        scale = rng.random((1, hp, wp)) ** 3   # uneven blocks
        raw, _ = golden.quantize_gradients(rng.normal(size=(planes, hp, wp)) * scale)
        threshold = [None, 0, ONE, int(rng.integers(0, ONE + 1))][i]
        rate = [int(rng.integers(0, LR_MAX + 1)), LR_MAX, 0, int(rng.integers(0, LR_MAX))][i]
        target = int(rng.choice([0, ONE, int(rng.integers(0, ONE + 1))]))
        updates.append((raw, threshold, rate, golden.DIRECTIONS[i % 3], target))
    simulate_updates(params, cfg, updates)


# geometries at the walker's special cases (padding = top, bottom, left, right): the first
# padding position inside the rows, at the left column before the interior or at a row's end,
# one-row and one-column padded frames, a single bottom row after a jump over the interior
WALKER_EDGES = [
    FrameConfig(1, 4, padding=(0, 1, 1, 0)),    # top 0, height 1: the first row is the last
    FrameConfig(3, 3, padding=(0, 0, 1, 2)),    # starts inside the rows, left 1
    FrameConfig(3, 2, padding=(0, 2, 0, 1)),    # starts at the right padding, right 1
    FrameConfig(4, 1, padding=(1, 2, 0, 0)),    # one column: every row ends where it starts
    FrameConfig(1, 3, padding=(0, 0, 2, 1)),    # one padded row
    FrameConfig(2, 3, padding=(2, 1, 0, 0)),    # jump over the interior to one bottom row
    FrameConfig(2, 2, padding=(1, 1, 1, 1)),
]


@pytest.mark.parametrize("geometry", range(len(WALKER_EDGES)))
def test_walker_edge_geometries_match_golden(geometry):
    cfg = WALKER_EDGES[geometry]
    params = learning_params(cfg.height, cfg.width, cfg.padding, 2)
    rng = np.random.default_rng(90 + geometry)
    hp, wp = cfg.padded
    updates = []
    for i in range(2):
        raw, _ = golden.quantize_gradients(rng.normal(size=(1 + i, hp, wp)))
        updates.append((raw, None, LR_MAX // 3, golden.DIRECTIONS[i]))
    simulate_updates(params, cfg, updates, seed=geometry)


def test_ties_at_the_threshold_are_included_and_zero_gradients():
    cfg, block = GEOMETRIES[0]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    rng = np.random.default_rng(60)
    raw, _ = golden.quantize_gradients(rng.normal(size=(2, 12, 12)))
    reference = golden.mask_update_fixed(raw, cfg.padding, block, ONE // 2, 1000)
    scores = reference.scores[reference.pad_blocks]
    tie = int(np.sort(scores)[len(scores) // 2])  # a threshold equal to a block's score
    zero = np.zeros((1, 12, 12), dtype=np.int64)  # every relevance 0: every score 0
    results = simulate_updates(params, cfg, [(raw, tie, 1000, "pseudocode"),
                                             (zero, 5, 20000, "pseudocode"),   # none included
                                             (zero, 0, 20000, "prose")])       # all included
    assert results[1].terms[1] == 0 and all(bit == 0 for *_, bit in results[1].scores)
    assert all(bit == 1 for *_, bit in results[2].scores)


def test_saturating_sums():
    cfg, block = FrameConfig(4, 4, padding=(2, 2, 2, 2)), 4
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    narrow = fixed.UQ(3, 15)  # saturates after a few large values
    rng = np.random.default_rng(61)
    raw = rng.integers(-ONE, ONE, (6, 8, 8))
    rel, _ = golden.block_relevance_fixed(raw, cfg.padding, block, sum_shape=narrow)
    plain, _ = golden.block_relevance_fixed(raw, cfg.padding, block)
    assert (rel != plain).any()  # the narrow sum really saturates
    simulate_updates(params, cfg, [(raw, None, 30000, "pseudocode"), (raw, None, 0, "prose")],
                     sum_shape=narrow)


def test_end_of_update_latency_is_documented():
    cfg, block = GEOMETRIES[0]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    raw, _ = golden.quantize_gradients(np.random.default_rng(62).normal(size=(1, 12, 12)))
    result, = simulate_updates(params, cfg, [(raw, None, 100, "pseudocode")], bubbles=0.0)
    pad_blocks = int(golden.padding_blocks(8, 8, 2, block).sum())
    assert result.end_cycles == update_latency(params, pad_blocks) == 1091  # docs/learning.md


def run_threshold_updater(params, cases):
    """Each case (masked-out scores, included scores, threshold, rate, direction code, target)
    through a ThresholdUpdater; every output against golden.threshold_update_fixed, ``done``
    exactly LATENCY edges after ``start``. Direction code 3 (which the register refuses) is
    checked as the density rule."""
    dut = ThresholdUpdater(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    rules = set()

    async def bench(ctx):
        for out, inn, threshold, rate, direction, target in cases:
            rule = golden.DIRECTIONS[min(direction, 2)]
            ref = golden.threshold_update_fixed(out, inn, threshold, rate, rule, target)
            ctx.set(dut.totals, {"sum_out": int(np.sum(out)), "n_out": len(out),
                                 "sum_in": int(np.sum(inn)), "n_in": len(inn)})
            ctx.set(dut.threshold, threshold)
            ctx.set(dut.learning_rate, rate)
            ctx.set(dut.direction, direction)
            ctx.set(dut.target, target)
            assert await start_and_wait(ctx, dut.start, dut.done) == LATENCY
            got = {name: ctx.get(getattr(dut, name))
                   for name in ("new_threshold", "avg_out", "avg_in", "delta", "share")}
            assert got == {"new_threshold": ref.threshold, "avg_out": ref.avg_out,
                           "avg_in": ref.avg_in, "delta": ref.delta, "share": ref.share}, rule
            await ctx.tick()
            assert not ctx.get(dut.done)   # a pulse
            rules.add(rule)

    sim.add_testbench(bench)
    simulate(sim)
    return rules


def test_threshold_updater_against_golden():
    """Random scores split at random thresholds (up to every block of the grid), all three
    rules, targets and rates at their ends and between."""
    params = SMALL[3]
    rng = np.random.default_rng(63)
    cases = []
    for i in range(240):
        size = int(rng.integers(0, [12, params.mask_bits + 1][i % 2]))
        scores = rng.integers(0, ONE + 1, size)
        threshold = int(rng.choice([0, ONE, int(rng.integers(0, ONE + 1))]))
        rate = int(rng.choice([0, LR_MAX, int(rng.integers(0, LR_MAX + 1))]))
        target = int(rng.choice([0, ONE, int(rng.integers(0, ONE + 1))]))
        inc = scores >= threshold
        cases.append((scores[~inc], scores[inc], threshold, rate, i % 3, target))
    assert run_threshold_updater(params, cases) == set(golden.DIRECTIONS)


def test_threshold_updater_density_edge_cases():
    """Density with no padding block (threshold unchanged), with none included (the share 0
    lowers the threshold), with all included, at the largest count of the grid, and direction
    code 3 (taken as density)."""
    params = SMALL[3]
    full = np.full(params.mask_bits, ONE // 3)
    cases = [
        ([], [], 1000, LR_MAX, 2, ONE // 2),              # n_in + n_out = 0
        ([5, 7000, 12], [], 20000, LR_MAX, 2, ONE // 4),  # n_in = 0: share 0
        ([], [ONE, 3], 20000, 40000, 2, 0),               # all included: share 1.0
        (full[:1], full[1:], 9, 30000, 2, ONE),           # the largest count: n_in << 15 fits
        ([3, 4], [ONE], 20000, LR_MAX, 3, 100),
    ]
    run_threshold_updater(params, cases)
    expected = [golden.threshold_update_fixed(c[0], c[1], c[2], c[3], "density", c[5])
                for c in cases[:3]]
    assert expected[0] == (1000, 0, 0, 0, 0)
    assert expected[1].share == 0 and expected[1].threshold < 20000
    assert expected[2].share == ONE and expected[2].threshold > 20000


def test_reset_in_the_middle_of_an_accumulation():
    cfg, block = GEOMETRIES[1]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    top = LearningTop(params)
    learn = top.learn
    sim = Simulator(top)
    sim.add_clock(1e-8)
    rng = np.random.default_rng(64)
    hp, wp = cfg.padded
    first, _ = golden.quantize_gradients(rng.normal(size=(2, hp, wp)))
    second, _ = golden.quantize_gradients(rng.normal(size=(2, hp, wp)))
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, block)

    async def bench(ctx):
        ctx.set(learn.geometry, cfg.register_value())
        ctx.set(learn.learning_rate, 20000)
        beats = gradient_beats(first, cfg.padding)
        await put(ctx, learn.i_grad, beats[:len(beats) // 2])
        ctx.set(top.reset, 1)
        await ctx.tick()
        ctx.set(top.reset, 0)
        assert ctx.get(learn.threshold) == INITIAL_THRESHOLD
        ctx.set(learn.geometry, cfg.register_value())
        ctx.set(learn.learning_rate, 20000)
        result = await run_update(ctx, top, gradient_beats(second, cfg.padding),
                                  rng=random.Random(3), bubbles=0.3)
        reference = golden.mask_update_fixed(second, cfg.padding, block, INITIAL_THRESHOLD,
                                             20000)
        assert np.array_equal(words_to_mask(params, result.words, grid), reference.mask)
        assert result.threshold == reference.threshold
        Scoreboard(expected_scores(params, reference)).check(result.scores)

    sim.add_testbench(bench)
    simulate(sim)


def test_busy_rules_and_bad_threshold():
    """While an update runs, host threshold writes are ignored and flagged, and a second
    update's gradients wait (backpressure, nothing lost); a threshold above 1.0 is refused."""
    cfg, block = GEOMETRIES[0]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    top = LearningTop(params)
    learn = top.learn
    sim = Simulator(top)
    sim.add_clock(1e-8)
    rng = np.random.default_rng(65)
    a, _ = golden.quantize_gradients(rng.normal(size=(1, 12, 12)))
    b, _ = golden.quantize_gradients(rng.normal(size=(1, 12, 12)))
    grid = golden.block_grid_shape(8, 8, 2, block)

    async def bench(ctx):
        ctx.set(learn.geometry, cfg.register_value())
        ctx.set(learn.learning_rate, 30000)
        ctx.set(learn.threshold_w_data, ONE + 1)
        ctx.set(learn.threshold_w_en, 1)
        assert ctx.get(learn.error.threshold_range)
        await ctx.tick()
        ctx.set(learn.threshold_w_en, 0)
        assert ctx.get(learn.threshold) == INITIAL_THRESHOLD
        ctx.set(learn.o_scores.ready, 1)
        await put(ctx, learn.i_grad, gradient_beats(a, cfg.padding))
        assert ctx.get(learn.busy)
        ctx.set(learn.threshold_w_data, 123)
        ctx.set(learn.threshold_w_en, 1)
        assert ctx.get(learn.error.busy_write)
        await ctx.tick()
        ctx.set(learn.threshold_w_en, 0)
        # the second update's gradients are offered at once; they wait for the first update
        await put(ctx, learn.i_grad, gradient_beats(b, cfg.padding))
        # the first update's mask is committed; the second waits for a frame to take it
        # before writing the shadow bank
        for _ in range(1000):
            await ctx.tick()
        assert ctx.get(learn.busy) and ctx.get(top.masks.pending)
        assert ctx.get(learn.updates) == 1
        await swap(ctx, top)
        while ctx.get(learn.busy):
            await ctx.tick()
        first = golden.mask_update_fixed(a, cfg.padding, block, INITIAL_THRESHOLD, 30000)
        second = golden.mask_update_fixed(b, cfg.padding, block, first.threshold, 30000)
        assert ctx.get(learn.threshold) == second.threshold
        assert ctx.get(learn.updates) == 2
        assert np.array_equal(words_to_mask(params, read_shadow(ctx, top), grid), second.mask)

    sim.add_testbench(bench)
    simulate(sim)


def test_gradient_length_error():
    cfg, block = GEOMETRIES[0]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    gen = MaskGenerator(params)
    sim = Simulator(gen)
    sim.add_clock(1e-8)
    raw = np.ones((1, 12, 12), dtype=np.int64)
    beats = gradient_beats(raw, cfg.padding)[:20]
    beats[-1]["last"] = 1
    seen = {"error": 0}

    async def bench(ctx):
        ctx.set(gen.geometry, cfg.register_value())
        ctx.set(gen.o_scores.ready, 1)
        for beat in beats:
            ctx.set(gen.i.payload, beat)
            ctx.set(gen.i.valid, 1)
            while not ctx.get(gen.i.ready):
                await ctx.tick()
            seen["error"] += ctx.get(gen.error)
            await ctx.tick()
        ctx.set(gen.i.valid, 0)
        while True:
            await ctx.tick()
            if ctx.get(gen.done):
                break

    sim.add_testbench(bench)
    simulate(sim)
    assert seen["error"] == 1


def test_update_through_the_core_while_frames_run():
    """The core's i_grad and registers: an update overlaps a frame; its mask applies from the
    next frame; THRESHOLD reads the new threshold; busy writes are flagged."""
    params = SMALL[3]
    rng = np.random.default_rng(66)
    cfg = FrameConfig(8, 8, cin=2, cout=2, padding=(2, 2, 2, 2), mode="replicate", shift=4)
    x0, x1 = (rng.integers(-128, 128, (2, 8, 8)) for _ in range(2))
    ones = frame_mask(params, cfg, np.ones((6, 6), bool))
    w, bias = weights(rng, params, 2, 2)
    raw, _ = golden.quantize_gradients(rng.normal(size=(3, 12, 12)) *
                                       rng.random((1, 12, 12)))
    reference = golden.mask_update_fixed(raw, cfg.padding, params.block, INITIAL_THRESHOLD,
                                         25000)
    learned = frame_mask(params, cfg, reference.mask)
    state = {}

    async def learn_during_frame(ctx, dut, run_state):
        run_state["release"] = 0          # frame 1 waits for the update
        while run_state["accepted"] < 10:
            await ctx.tick()
        await regs.write(ctx, dut.bus, Reg.LEARNING, 25000)
        at_start = run_state["accepted"]
        await put(ctx, dut.i_grad, gradient_beats(raw, cfg.padding))
        await regs.write(ctx, dut.bus, Reg.THRESHOLD, 7)   # refused: update running
        state["busy_seen"] = bool(await regs.read(ctx, dut.bus, Reg.STATUS) & Status.LEARNING)
        while await regs.read(ctx, dut.bus, Reg.STATUS) & Status.LEARNING:
            pass
        state["threshold"] = await regs.read(ctx, dut.bus, Reg.THRESHOLD)
        # frame 0 kept streaming while the update ran
        state["overlapped"] = at_start < run_state["accepted"] and at_start < 128
        run_state["release"] = 1

    frames = [FrameSpec(cfg, x0, ones), FrameSpec(cfg, x1, ones)]
    result = run_core(params, frames, w=w, bias=bias, events=learn_during_frame,
                      bubbles=0.3, backpressure=0.5)
    expected = (expected_outputs(params, cfg, x0, w, bias, ones) +
                expected_outputs(params, cfg, x1, w, bias, learned))
    Scoreboard(expected).check(result.outputs)
    assert state["busy_seen"] and state["threshold"] == reference.threshold
    assert state["overlapped"]
    assert result.errors == 1 << 10  # busy_write
    assert result.counters["mask_updates"] == 1
    assert not np.array_equal(learned, ones)


def test_density_updates_steer_the_share_toward_the_target():
    """The density rule over several updates of one gradient: every update bit for bit the
    golden model's (mask, threshold, scores and terms: simulate_updates), and the share of
    included padding blocks, starting at all of them, ends within a block of the target."""
    cfg, block = GEOMETRIES[0]
    params = learning_params(cfg.height, cfg.width, cfg.padding, block)
    rng = np.random.default_rng(67)
    hp, wp = cfg.padded
    raw, _ = golden.quantize_gradients(rng.normal(size=(2, hp, wp)) * rng.random((1, hp, wp)))
    target = fixed.THRESHOLD.from_float(0.3)
    updates = [(raw, 0 if i == 0 else None, LR_MAX // 2, "density", target) for i in range(8)]
    results = simulate_updates(params, cfg, updates)
    blocks = len(results[0].scores)
    included = [sum(bit for *_, bit in r.scores) for r in results]
    assert [r.terms[3] for r in results] == [(n << 15) // blocks for n in included]
    gaps = [abs(n / blocks - 0.3) for n in included]
    assert included[0] == blocks and gaps[-1] <= 1 / blocks < gaps[0]
