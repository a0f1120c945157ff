"""Simulation helpers for the mask-learning units: a small top (learning units + block-mask
register file), an update driver, and a persistent simulated learner for the training loop."""

import random
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Elaboratable, Module, ResetInserter, Signal
from amaranth.sim import Simulator

from .. import golden
from ..golden import fixed
from ..golden._check import check_choice
from ..hdl.learning import MaskLearning, update_latency
from ..hdl.mask_regfile import WORD, BlockMaskRegisterFile
from ..hdl.params import CoreParams

from .frames import FrameConfig, gradient_beats
from .stream import put

__all__ = ["LearningTop", "UpdateResult", "run_update", "read_shadow", "swap", "words_to_mask",
           "learning_params", "HardwareLearner"]


class LearningTop(Elaboratable):
    """MaskLearning writing into a BlockMaskRegisterFile, with a reset input."""

    def __init__(self, params, *, sum_shape=fixed.RELEVANCE_SUM):
        self.params = params
        self.learn = MaskLearning(params, sum_shape=sum_shape)
        self.masks = BlockMaskRegisterFile(params.mask_bits)
        self.reset = Signal()

    def elaborate(self, platform):
        m = Module()
        inner = Module()
        inner.submodules.learn = learn = self.learn
        inner.submodules.masks = masks = self.masks
        inner.d.comb += [masks.e_en.eq(learn.mask_en), masks.e_data.eq(learn.mask_data),
                         masks.e_addr.eq(learn.mask_addr), masks.e_commit.eq(learn.commit),
                         learn.bank_busy.eq(masks.pending)]
        m.submodules.top = ResetInserter(self.reset)(inner)
        return m


@dataclass
class UpdateResult:
    words: list          #: shadow-bank words written by the update
    threshold: int       #: new threshold code
    terms: tuple         #: (avg_out, avg_in, delta, share) of the threshold unit
    scores: list         #: o_scores beats: (block, relevance, score, bit)
    end_cycles: int      #: cycles from the last gradient value to the end of the update


def words_to_mask(params, words, grid):
    """Register-file words -> the frame's block mask (its top-left ``grid``)."""
    bits = np.array([(words[i // WORD] >> (i % WORD)) & 1 for i in range(params.mask_bits)],
                    dtype=bool).reshape(params.grid_shape)
    return bits[:grid[0], :grid[1]]


async def run_update(ctx, top, beats, *, rng=None, bubbles=0.0, collect_scores=True):
    """Stream one update's gradient beats, wait for its end, read the new mask and threshold.

    Scores are collected from ``o_scores`` (kept always ready). The commit stays pending; call
    :func:`swap` (a frame boundary) before the next update if the mask should become active.
    With no bubbles the beats go in back to back (the unit takes one per cycle while
    accumulating), as raw payload bits: the fast path of the closed training loop.
    """
    learn = top.learn
    ctx.set(learn.o_scores.ready, 1)
    if bubbles:
        await put(ctx, learn.i_grad, beats, rng=rng or random.Random(0), bubbles=bubbles)
    else:
        while not ctx.get(learn.i_grad.ready):
            await ctx.tick()
        payload = learn.i_grad.payload.as_value()
        ctx.set(learn.i_grad.valid, 1)
        for beat in beats:
            ctx.set(payload, (beat["data"] & 0xFFFF) | beat["last"] << 16)
            await ctx.tick()
        ctx.set(learn.i_grad.valid, 0)
    scores = []
    cycles = 0
    while True:
        _, _, valid, payload, busy = await ctx.tick().sample(
            learn.o_scores.valid, learn.o_scores.payload, learn.busy)
        cycles += 1
        if valid and collect_scores:
            scores.append((payload.block, payload.relevance, payload.score, payload.bit))
        if not busy:
            break
    terms = (ctx.get(learn.avg_out), ctx.get(learn.avg_in), ctx.get(learn.delta),
             ctx.get(learn.share))
    return UpdateResult(read_shadow(ctx, top), ctx.get(learn.threshold), terms, scores, cycles)


def read_shadow(ctx, top):
    """Every word of the shadow bank (combinational reads)."""
    masks = top.masks
    ctx.set(masks.r_bank, 0)
    words = []
    for j in range(masks.words):
        ctx.set(masks.addr, j)
        words.append(ctx.get(masks.r_data))
    return words


async def swap(ctx, top):
    """A frame boundary: the committed mask becomes active (on the second edge)."""
    ctx.set(top.masks.swap, 1)
    await ctx.tick()
    ctx.set(top.masks.swap, 0)
    await ctx.tick()


def learning_params(height, width, padding, block):
    """Smallest elaboration whose frame and grid hold the given geometry (learning only)."""
    kernel = max(1, 2 * max(padding) + 1)
    if kernel > 7:
        raise ValueError(f"padding must be at most 3 per side for the hardware, not {padding!r}")
    return CoreParams(kernel=kernel, lanes=1, max_height=height, max_width=width, max_cin=1,
                      max_cout=1, block=block)


class HardwareLearner:
    """The training loop's mask learner, backed by a simulated MaskLearning unit.

    ``update(grad_x_tilde)`` quantizes the batch's gradient exactly as the golden fixed-point
    learner does, streams the padding gradients through the simulated units, and returns the
    mask they wrote and the threshold they computed. Each update is also replayed by the golden
    model (:func:`golden.mask_update_fixed`); ``mismatches`` counts disagreements.
    The simulation persists across updates (one elaboration per training run). ``target``: the
    share of included padding blocks the "density" direction steers to (a float in [0, 1]).
    """

    def __init__(self, *, height, width, padding, block, threshold, learning_rate, direction,
                 target=0.5):
        padding = tuple(golden.normalize_padding(padding))
        self.padding, self.block, self.direction = padding, block, direction
        self.params = learning_params(height, width, padding, block)
        self.grid = golden.block_grid_shape(height, width, padding, block)
        self.cfg = FrameConfig(height, width, padding=padding)
        self.threshold_raw = fixed.THRESHOLD.from_float(threshold)
        self.learning_rate_raw = fixed.LEARNING_RATE.from_float(learning_rate)
        check_choice("direction", direction, golden.DIRECTIONS)
        self.direction_code = golden.DIRECTIONS.index(direction)
        self.target_raw = fixed.THRESHOLD.from_float(target)
        self.threshold = fixed.THRESHOLD.to_float(self.threshold_raw)
        self.mismatches = 0
        self.updates = 0
        self._latency = update_latency(self.params, int(golden.padding_blocks(
            height, width, padding, block).sum()))
        self.history = []  # (hardware result, golden MaskUpdate) per update
        self._top = LearningTop(self.params)
        self._sim = Simulator(self._top)
        self._sim.add_clock(1e-8)
        self._time = 0.0
        self._job = None
        self._sim.add_testbench(self._server, background=True)

    async def _server(self, ctx):
        learn = self._top.learn
        ctx.set(learn.geometry, self.cfg.register_value())
        ctx.set(learn.learning_rate, self.learning_rate_raw)
        ctx.set(learn.direction, self.direction_code)
        ctx.set(learn.target, self.target_raw)
        ctx.set(learn.threshold_w_data, self.threshold_raw)
        ctx.set(learn.threshold_w_en, 1)
        await ctx.tick()
        ctx.set(learn.threshold_w_en, 0)
        while True:
            job = self._job
            if job is None or job.get("result") is not None:
                await ctx.tick()
                continue
            job["result"] = await run_update(ctx, self._top, job["beats"])
            await swap(ctx, self._top)

    def update(self, grad_x_tilde):
        raw, _ = golden.quantize_gradients(grad_x_tilde)
        job = {"beats": gradient_beats(raw, self.padding), "result": None}
        self._job = job
        # Run about as long as the update needs, then in small steps: simulated idle cycles
        # after the result cost as much as busy ones.
        step = len(job["beats"]) + self._latency + 8
        while job["result"] is None:
            self._time += 1e-8 * step
            self._sim.run_until(self._time)
            step = 16
        result = job["result"]
        reference = golden.mask_update_fixed(raw, self.padding, self.block, self.threshold_raw,
                                             self.learning_rate_raw, self.direction,
                                             self.target_raw)
        mask = words_to_mask(self.params, result.words, self.grid)
        scores = {block: score for block, _, score, _ in result.scores}
        grid_w = self.params.grid_shape[1]
        expected_scores = {r * grid_w + c: int(reference.scores[r, c])
                           for r, c in zip(*np.nonzero(reference.pad_blocks))}
        if (not np.array_equal(mask, reference.mask) or result.threshold != reference.threshold
                or scores != expected_scores):
            self.mismatches += 1
        self.updates += 1
        self.history.append((result, reference))
        self.threshold_raw = result.threshold
        self.threshold = fixed.THRESHOLD.to_float(result.threshold)
        return mask, self.threshold
