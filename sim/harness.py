"""Run frames through the simulated core: the one harness the core tests and benchmarks share.

``run_core`` loads the weights, then streams frames with a producer (random input bubbles), a
consumer (random output backpressure), a host testbench that writes each frame's configuration
and mask, and a recorder that notes the clock edge of every input and output transfer and the
skip vectors entering the MAC array. A watchdog turns a deadlock into a test failure.

Configuration changes between frames follow the core's contract:

* ``back_to_back=True``: frame ``i + 1``'s configuration is staged while frame ``i`` streams
  and applied as soon as frame ``i`` has started (its first beat was accepted and the
  FRAMES_STARTED register counts it), so frames follow each other with no gap; the mask must
  then stay the same. Frames must be long enough for the seven register writes and a few reads
  (about 16 beats).
* otherwise, when a frame's configuration or mask differs from the previous frame's, the
  producer waits for the core to be idle, the host writes configuration and mask (and commits
  it), then the frame starts.
"""

import contextlib
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from amaranth.hdl import Elaboratable, Module, ResetInserter, Signal
from amaranth.sim import Simulator

from ..hdl.core import ConvCore
from ..hdl.regmap import CONFIG_REGISTERS, Ctrl, Reg

from . import regs
from .frames import input_beats, mask_words, output_tuple, param_words
from .stream import get, put

__all__ = ["FrameSpec", "RunResult", "run_core", "ResetWrapper", "waveforms", "simulate",
           "output_recorder", "start_and_wait"]


def waveforms(sim, name=None):
    """Write a VCD of ``sim`` to build/waves/<test>.vcd when PADMASK_VCD is set (else nothing).

    The file is named after the running pytest test (or ``name``); waveform writing slows the
    simulator about twofold, so it is off by default.
    """
    if not os.environ.get("PADMASK_VCD"):
        return contextlib.nullcontext()
    name = name or os.environ.get("PYTEST_CURRENT_TEST", "padmask").split(" ")[0]
    path = Path("build") / "waves" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".vcd")
    path.parent.mkdir(parents=True, exist_ok=True)
    return sim.write_vcd(str(path))


def simulate(sim, name=None):
    """``sim.run()``, with a waveform when PADMASK_VCD is set (see :func:`waveforms`)."""
    with waveforms(sim, name):
        sim.run()


async def start_and_wait(ctx, start, done):
    """Pulse ``start`` for one cycle, then tick until ``done``; the edges from the start edge
    to the one after which ``done`` is seen (a unit's latency)."""
    ctx.set(start, 1)
    await ctx.tick()
    ctx.set(start, 0)
    edges = 1
    while not ctx.get(done):
        await ctx.tick()
        edges += 1
    return edges


def output_recorder(core, outputs):
    """A background testbench for ``core``'s output: always ready, every beat decoded
    (:func:`sim.frames.output_tuple`) and appended to ``outputs``."""
    lanes = core.params.lanes

    async def recorder(ctx):
        ctx.set(core.o.ready, 1)
        async for _, _, valid, payload in ctx.tick().sample(core.o.valid, core.o.payload):
            if valid:
                outputs.append(output_tuple(payload, lanes))
    return recorder


#: cycles the consumer stays ready after the last expected output beat (longer than the
#: pipeline from any window to its output)
LINGER = 40


@dataclass
class FrameSpec:
    cfg: object          #: sim.frames.FrameConfig
    x: np.ndarray        #: (Cin, H, W)
    full_mask: np.ndarray  #: the register file's whole grid (sim.frames.frame_mask)
    beats: list = None   #: input beats (default: input_beats(x)); tests may malform them


@dataclass
class RunResult:
    outputs: list = field(default_factory=list)       #: decoded output beats
    output_edges: list = field(default_factory=list)  #: edge of each output transfer
    input_edges: list = field(default_factory=list)
    skip_edges: list = field(default_factory=list)    #: (edge, skip_mask, skip_zero) at MAC input
    counters: dict = None
    errors: int = 0
    cycles: int = 0                                   #: edges simulated
    start_edge: int = None                            #: edge numbering origin
    scribbled: int = 0                                #: random staged-register writes


class ResetWrapper(Elaboratable):
    """The core with a synchronous reset input the testbench can pulse."""

    def __init__(self, core):
        self.core = core
        self.reset = Signal()

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = ResetInserter(self.reset)(self.core)
        return m


def run_core(params, frames, *, w, bias, bubbles=0.0, backpressure=0.0, seed=0,
             back_to_back=False, expected_outputs=None, max_cycles=None, core=None,
             param_beats=None, events=None, pre_setup=None, record=True, scribble=None):
    """Simulate ``frames`` (list of FrameSpec) through a ConvCore; return a RunResult.

    ``expected_outputs``: number of output beats to wait for (default: every frame's full
    output). ``pre_setup``: optional ``async def pre_setup(ctx, dut)`` run before the regular
    set-up (configuration, parameters from ``param_beats`` or ``w``/``bias``, mask). ``events``: optional ``async def events(ctx, dut, state)`` testbench run alongside
    (state["edge"] is the current edge, state["accepted"] the input beats accepted so far; setting
    state["release"] = n holds the producer before frame n + 1 until it is raised).
    ``scribble``: a ``random.Random``; with ``back_to_back``, before staging each next frame's
    configuration the host writes random words into random configuration registers at random
    cycles (they must never reach a frame: only the applied configuration does).
    """
    from .frames import expected_outputs as _expected
    dut = core if core is not None else ConvCore(params)
    top = dut
    if isinstance(dut, ResetWrapper):
        dut = dut.core
    if expected_outputs is None:
        expected_outputs = sum(len(_expected(params, f.cfg, f.x, w, bias, f.full_mask))
                               for f in frames)
    total_in = sum(len(f.beats if f.beats is not None else input_beats(f.x)) for f in frames)
    if max_cycles is None:
        windows = 0
        for f in frames:
            ho, wo = f.cfg.output_size(params.kernel)
            windows += ho * wo * -(-f.cfg.cout // params.lanes) * f.cfg.cin
        busy = max(total_in, windows) + total_in + windows
        max_cycles = int(3000 + 4 * busy / max(0.05, 1 - max(bubbles, backpressure)))
    result = RunResult()
    state = {"edge": 0, "accepted": 0, "next_frame": 0, "setup_done": False, "ready_for": -1}
    sim = Simulator(top)
    sim.add_clock(1e-8)
    rng_in = random.Random(seed)
    rng_out = random.Random(seed + 1)

    async def recorder(ctx):
        mac_i = dut.mac.i
        while True:
            _, _, iv, ir, ov, orr, mv, mr, sm, sz = await ctx.tick().sample(
                dut.i.valid, dut.i.ready, dut.o.valid, dut.o.ready, mac_i.valid, mac_i.ready,
                mac_i.payload.skip_mask, mac_i.payload.skip_zero)
            state["edge"] += 1
            if iv and ir:
                state["accepted"] += 1
                if record:
                    result.input_edges.append(state["edge"])
            if record and ov and orr:
                result.output_edges.append(state["edge"])
            if record and mv and mr:
                result.skip_edges.append((state["edge"], sm, sz))
            if state["edge"] > max_cycles:
                raise AssertionError(f"no progress after {max_cycles} cycles (deadlock?): "
                                     f"{len(result.outputs)} of {expected_outputs} output beats")

    async def host(ctx):
        bus = dut.bus
        first = frames[0]
        if pre_setup is not None:
            await pre_setup(ctx, dut)
        await regs.configure(ctx, bus, first.cfg)
        await put(ctx, dut.i_param, param_beats if param_beats is not None
                  else param_words(w, bias))
        await regs.load_mask(ctx, bus, mask_words(params, first.full_mask))
        await regs.wait_idle(ctx, bus)
        base = await regs.read(ctx, bus, Reg.FRAMES_STARTED)   # (frames of pre_setup)
        state["setup_done"] = True
        state["ready_for"] = 0
        previous = first
        for i in range(1, len(frames)):
            frame = frames[i]
            if back_to_back:
                if scribble is not None:
                    for _ in range(scribble.randint(1, 6)):
                        for _ in range(scribble.randint(0, 4)):
                            await ctx.tick()
                        reg = scribble.choice(CONFIG_REGISTERS)
                        await regs.write(ctx, bus, reg.addr, scribble.getrandbits(32))
                        result.scribbled += 1
                await regs.stage(ctx, bus, frame.cfg)
                # frame i - 1 has started: its first beat was taken at the port, and it has
                # taken its configuration (it may wait at the port while frame i - 2 is
                # received; FRAMES_STARTED counts the frames that started)
                while state["next_frame"] < i:
                    await ctx.tick()
                while (await regs.read(ctx, bus, Reg.FRAMES_STARTED) - base) % (1 << 32) < i:
                    pass
                await regs.write(ctx, bus, Reg.CTRL, Ctrl.APPLY_CONFIG)
                state["ready_for"] = i
            else:
                changed = (frame.cfg != previous.cfg or
                           not np.array_equal(frame.full_mask, previous.full_mask))
                while state["next_frame"] < i:       # producer reached frame i
                    await ctx.tick()
                if changed:
                    await regs.wait_idle(ctx, bus)
                    await regs.configure(ctx, bus, frame.cfg)
                    if not np.array_equal(frame.full_mask, previous.full_mask):
                        await regs.load_mask(ctx, bus, mask_words(params, frame.full_mask))
                state["ready_for"] = i
            previous = frame

    async def producer(ctx):
        while not state["setup_done"]:
            await ctx.tick()
        result.start_edge = state["edge"]
        for i, frame in enumerate(frames):
            state["next_frame"] = i
            while state["ready_for"] < i or state.get("release", i) < i:
                ctx.set(dut.i.valid, 0)
                await ctx.tick()
            beats = frame.beats if frame.beats is not None else input_beats(frame.x)
            if back_to_back and i + 1 < len(frames):
                # hand over to the host after this frame's first beat
                await put(ctx, dut.i, beats[:1], rng=rng_in, bubbles=bubbles)
                state["next_frame"] = i + 1
                await put(ctx, dut.i, beats[1:], rng=rng_in, bubbles=bubbles)
            else:
                await put(ctx, dut.i, beats, rng=rng_in, bubbles=bubbles)
        state["next_frame"] = len(frames)

    async def consumer(ctx):
        # linger past the last expected beat: a duplicated beat would show up as an extra one
        result.outputs = await get(ctx, dut.o, expected_outputs, rng=rng_out,
                                   backpressure=backpressure, linger=LINGER,
                                   decode=lambda pl: output_tuple(pl, params.lanes))
        await regs.wait_idle(ctx, dut.bus)
        result.counters = await regs.read_counters(ctx, dut.bus)
        result.errors = await regs.read(ctx, dut.bus, Reg.ERRORS)
        result.cycles = state["edge"]

    sim.add_testbench(recorder, background=True)
    sim.add_testbench(host, background=True)
    sim.add_testbench(producer, background=True)
    sim.add_testbench(consumer)
    if events is not None:
        async def run_events(ctx):
            await events(ctx, top, state)
        sim.add_testbench(run_events, background=True)
    simulate(sim)
    if result.start_edge is not None and record:
        origin = result.start_edge
        result.input_edges = [e - origin for e in result.input_edges]
        result.output_edges = [e - origin for e in result.output_edges]
        result.skip_edges = [(e - origin, m, z) for e, m, z in result.skip_edges if e > origin]
    return result
