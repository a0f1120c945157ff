"""The mask double buffer: the mask a frame uses is always exactly one complete committed mask
(host-written or learned), in commit order.

Regression: two mask updates with no frame between them (the first one's commit still
pending), then a frame starting during the second update. The second update used to write into
the bank holding the first update's committed mask, and the swap made a mix of the two active.
"""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from padmask import golden
from padmask.golden import fixed
from padmask.hdl.core import ConvCore
from padmask.hdl.mask_gen import end_latency
from padmask.hdl.regmap import MASK_SHADOW, Ctrl, Reg, Status
from padmask.sim import regs
from padmask.sim.frames import (FrameConfig, expected_outputs, frame_mask, gradient_beats,
                                input_beats, mask_words, param_words)
from padmask.sim.harness import output_recorder, simulate
from padmask.sim.learning import LearningTop, learning_params, swap
from padmask.sim.stream import put
from tests.core_cases import SMALL, weights

GEOMETRY = FrameConfig(8, 8, padding=(2, 2, 2, 2))
BLOCK = 2


def as_bits(mask_words_list):
    return sum(w << (32 * j) for j, w in enumerate(mask_words_list))


def gradients(rng, planes=1):
    hp, wp = GEOMETRY.padded
    raw, _ = golden.quantize_gradients(rng.normal(size=(planes, hp, wp)) *
                                       rng.random((1, hp, wp)))
    return raw


#: padding blocks of GEOMETRY. An update ends end_latency(params, PAD_BLOCKS) cycles after its
#: last value; its second half is the score pass, whose first mask word (32 blocks) is written
#: in the last tenth.
PAD_BLOCKS = int(golden.padding_blocks(8, 8, 2, BLOCK).sum())


@pytest.mark.parametrize("share", [0.0, 0.3, 0.6, 0.95, 0.98])
def test_two_updates_then_a_frame_during_the_second(share):
    """Unit level (learning units + register file): update 1 (threshold 0: every block
    included), no frame boundary, update 2 (threshold 1.0); a frame boundary at ``share`` of
    update 2's end latency after its last value (0.95 and 0.98 fall where the score pass has
    written its first mask word), then another after update 2. The active mask must only ever
    be the reset mask, update 1's, then update 2's."""
    params = learning_params(8, 8, GEOMETRY.padding, BLOCK)
    offset = int(share * end_latency(params, PAD_BLOCKS))
    top = LearningTop(params)
    learn, masks = top.learn, top.masks
    sim = Simulator(top)
    sim.add_clock(1e-8)
    rng = np.random.default_rng(5)
    raw1, raw2 = gradients(rng), gradients(rng)
    grid = golden.block_grid_shape(8, 8, 2, BLOCK)
    u1 = golden.mask_update_fixed(raw1, GEOMETRY.padding, BLOCK, 0, 0)
    u2 = golden.mask_update_fixed(raw2, GEOMETRY.padding, BLOCK, fixed.ONE, 0)
    committed = [as_bits(mask_words(params, frame_mask(params, GEOMETRY, m)))
                 for m in (np.ones(grid, bool), u1.mask, u2.mask)]
    assert u1.mask.all() and committed[1] != committed[2]  # as reported: update 1 = all ones
    seen = []

    async def monitor(ctx):
        async for _, _, active in ctx.tick().sample(masks.active):
            if not seen or seen[-1] != active:
                seen.append(active)

    async def bench(ctx):
        ctx.set(learn.geometry, GEOMETRY.register_value())
        ctx.set(learn.o_scores.ready, 1)
        for threshold, raw in ((0, raw1), (fixed.ONE, raw2)):
            while ctx.get(learn.busy):  # the threshold is writable between updates only
                await ctx.tick()
            ctx.set(learn.threshold_w_data, threshold)
            ctx.set(learn.threshold_w_en, 1)
            await ctx.tick()
            ctx.set(learn.threshold_w_en, 0)
            await put(ctx, learn.i_grad, gradient_beats(raw, GEOMETRY.padding))
        for _ in range(offset):
            await ctx.tick()
        await swap(ctx, top)                  # a frame starts during update 2
        for _ in range(2000):
            if not ctx.get(learn.busy):
                break
            await ctx.tick()
        assert not ctx.get(learn.busy)
        await swap(ctx, top)                  # the next frame
        await ctx.tick()

    sim.add_testbench(monitor, background=True)
    sim.add_testbench(bench)
    simulate(sim)
    width = params.mask_bits
    seen = [s & ((1 << width) - 1) for s in seen]
    expected = []
    for c in committed:
        if not expected or expected[-1] != c & ((1 << width) - 1):
            expected.append(c & ((1 << width) - 1))
    assert seen == expected


def test_the_reported_sequence_in_the_core_with_frames_streaming():
    """The core: frame 0 is being received (not idle) while update 1 and update 2 run back to
    back; frame 1 starts during update 2, frame 2 after it. Frame 0 uses the reset mask, frame
    1 exactly update 1's mask and frame 2 update 2's; the outputs say so, bit for bit."""
    params = SMALL[3]
    rng = np.random.default_rng(6)
    cfg = FrameConfig(8, 8, cin=1, cout=2, padding=(2, 2, 2, 2), mode="replicate", shift=4)
    xs = [rng.integers(-128, 128, (1, 8, 8)) for _ in range(3)]
    w, bias = weights(rng, params, 1, 2)
    raw1, raw2 = gradients(rng, 2), gradients(rng, 2)
    grid = golden.block_grid_shape(8, 8, 2, params.block)
    u1 = golden.mask_update_fixed(raw1, cfg.padding, params.block, 0, 0)
    u2 = golden.mask_update_fixed(raw2, cfg.padding, params.block, fixed.ONE, 0)
    masks = [frame_mask(params, cfg, m) for m in (np.ones(grid, bool), u1.mask, u2.mask)]
    expected = [b for x, m in zip(xs, masks)
                for b in expected_outputs(params, cfg, x, w, bias, m)]
    # a mix of the two updates' masks gives other outputs for frame 1
    mix = masks[2].copy()
    mix[4:] = masks[1][4:]
    assert expected_outputs(params, cfg, xs[1], w, bias, mix) != \
        expected_outputs(params, cfg, xs[1], w, bias, masks[1])
    dut = ConvCore(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []
    rest = input_beats(xs[0])[30:]

    async def host(ctx):
        bus = dut.bus
        await regs.configure(ctx, bus, cfg)
        await regs.write(ctx, bus, Reg.LEARNING, 0)
        await put(ctx, dut.i_param, param_words(w, bias))
        beats = input_beats(xs[0])
        await put(ctx, dut.i, beats[:30])              # frame 0 is being received
        for threshold, raw in ((0, raw1), (fixed.ONE, raw2)):
            while await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING:
                pass
            await regs.write(ctx, bus, Reg.THRESHOLD, threshold)
            await put(ctx, dut.i_grad, gradient_beats(raw, cfg.padding))
        # update 1 committed, nothing took it yet; frame 1 starts where update 2's score pass
        # has written its first mask word (had it not waited for the commit to be taken)
        for _ in range(int(0.95 * end_latency(params, PAD_BLOCKS)) - len(rest) - 2):
            await ctx.tick()
        status = await regs.read(ctx, bus, Reg.STATUS)
        assert status & Status.MASK_PENDING and status & Status.LEARNING
        await put(ctx, dut.i, rest + input_beats(xs[1]))
        while await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING:
            pass
        await put(ctx, dut.i, input_beats(xs[2]))
        await regs.wait_idle(ctx, bus)
        assert await regs.read(ctx, bus, Reg.ERRORS) == 0

    sim.add_testbench(output_recorder(dut, got), background=True)
    sim.add_testbench(host)
    simulate(sim)
    assert got == expected


@pytest.mark.parametrize("seed", range(3))
def test_every_frame_uses_one_complete_committed_mask(seed):
    """Random play: frames stream with random gaps while the host commits random masks and
    mask updates run, at random times, the host checking ERRORS for refused writes as a careful
    driver does. Every frame's outputs equal the golden outputs under exactly one committed
    mask (host-written or learned), and frames use committed masks in commit order. (Frames
    here start often or the generator idles, so a commit rarely waits long; the two tests
    above place a frame start inside an update on purpose.)"""
    params = SMALL[3]
    rng = np.random.default_rng(80 + seed)
    pick = random.Random(seed)
    cfg = FrameConfig(6, 6, cin=1, cout=2, padding=(1, 1, 1, 1), mode="replicate", shift=3)
    grid = golden.block_grid_shape(6, 6, 1, params.block)
    hp, wp = cfg.padded
    xs = [rng.integers(-128, 128, (1, 6, 6)) for _ in range(16)]
    w, bias = weights(rng, params, 1, 2)
    commits = [np.ones(grid, bool)]   # every committed mask in commit order, the reset one first
    updates = []                      # the golden mask of every update sent, in order
    intended = {}
    state = {"setup": False, "frames_done": False, "host": 0, "learned": 0, "refused": 0}
    dut = ConvCore(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def commit_monitor(ctx):
        # commits the register file accepted, in time order: the host's (with the words the
        # host wrote) and the learning unit's (with the mask the golden model says it learned)
        async for _, _, host, learned in ctx.tick().sample(dut.masks.commit,
                                                           dut.masks.e_commit):
            if host:
                commits.append(intended["mask"])
                state["host"] += 1
            if learned:
                commits.append(updates[state["learned"]])
                state["learned"] += 1

    async def producer(ctx):
        while not state["setup"]:
            await ctx.tick()
        for x in xs:
            await put(ctx, dut.i, input_beats(x), rng=pick, bubbles=0.2)
            for _ in range(pick.choice([0, 0, 5, 60])):
                ctx.set(dut.i.valid, 0)
                await ctx.tick()
        state["frames_done"] = True

    async def host(ctx):
        bus = dut.bus
        await regs.configure(ctx, bus, cfg)
        await regs.write(ctx, bus, Reg.LEARNING, 0)
        await put(ctx, dut.i_param, param_words(w, bias))
        state["setup"] = True
        while not state["frames_done"]:
            for _ in range(pick.randint(5, 150)):
                await ctx.tick()
            # (until a host mask has been taken, the host keeps trying: every try may be
            # refused while an update runs)
            if pick.random() < 0.6 or not state["host"]:
                mask = rng.integers(0, 2, grid).astype(bool)
                intended["mask"] = mask
                for j, word in enumerate(mask_words(params, frame_mask(params, cfg, mask))):
                    await regs.write(ctx, bus, MASK_SHADOW + j, word)
                if await regs.read(ctx, bus, Reg.ERRORS) == 0:
                    await regs.write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)
                if await regs.read(ctx, bus, Reg.ERRORS):
                    state["refused"] += 1
                    await regs.write(ctx, bus, Reg.ERRORS, 0xFFFFFFFF)
            elif not await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING:
                raw, _ = golden.quantize_gradients(rng.normal(size=(1, hp, wp)) *
                                                   rng.random((1, hp, wp)))
                threshold = int(rng.integers(0, fixed.ONE + 1))
                await regs.write(ctx, bus, Reg.THRESHOLD, threshold)
                updates.append(golden.mask_update_fixed(raw, cfg.padding, params.block,
                                                        threshold, 0).mask)
                await put(ctx, dut.i_grad, gradient_beats(raw, cfg.padding))
        await regs.wait_idle(ctx, bus)
        while await regs.read(ctx, bus, Reg.STATUS) & Status.LEARNING:
            pass

    sim.add_testbench(output_recorder(dut, got), background=True)
    sim.add_testbench(commit_monitor, background=True)
    sim.add_testbench(producer, background=True)
    sim.add_testbench(host)
    simulate(sim)

    per_frame = len(expected_outputs(params, cfg, xs[0], w, bias, frame_mask(params, cfg, None)))
    assert len(got) == per_frame * len(xs)
    used = 0
    for f, x in enumerate(xs):
        outputs = got[f * per_frame:(f + 1) * per_frame]
        candidates = [i for i, mask in enumerate(commits) if i >= used and
                      expected_outputs(params, cfg, x, w, bias,
                                       frame_mask(params, cfg, mask)) == outputs]
        assert candidates, f"frame {f} used no committed mask (or an older one)"
        used = candidates[0]
    # the play reached every case it is meant to
    assert state["host"] and state["learned"] and len(set(map(bytes, map(np.packbits,
                                                                          commits)))) > 3
