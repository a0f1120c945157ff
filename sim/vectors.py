"""Golden vector files for the Verilator harness (sim/verilator_harness.cpp).

``write_vectors`` turns frames (sim.harness.FrameSpec), weights and biases into one text file:
the parameter beats, the input beats of every frame with the input bubbles before each, the
golden model's output beats with the output backpressure before each, and the host's program
(configuration, mask, parameter load, frames, and at the end the error flags and the
performance counters, read and compared with what the golden model says they must be). The
harness replays it cycle by cycle and reports mismatches by beat.

The host follows the same contract as the Amaranth harness (sim/harness.py): the first frame's
configuration and mask are written and the parameters loaded before any frame; with
``back_to_back`` each next configuration is staged while the previous frame streams and
applied once that frame has started (FRAMES_STARTED; the mask stays the same); otherwise the host
waits for the core to be idle before a frame whose configuration or mask differs.
"""

import random

import numpy as np

from ..hdl.param_loader import param_layout
from ..hdl.regbus import READ_LATENCY
from ..hdl.regmap import CONFIG_REGISTERS, MASK_SHADOW, Ctrl, Reg, Status, encode
from ..hdl.mask_gen import gradient_layout
from ..hdl.window import input_layout
from ..hdl.window_layout import output_layout
from .frames import expected_outputs, gradient_beats, input_beats, mask_words, param_words

__all__ = ["write_vectors", "pack", "config_writes", "stall_delays"]


def pack(layout, value):
    """A payload (a dict, or for arrays a list) -> its bits as the Verilog port carries them."""
    return layout.const(value).as_value().value


def stall_delays(rng, count, share):
    """Stall cycles before each of ``count`` beats: each cycle stalls with probability
    ``share`` (as sim.stream's bubbles and backpressure)."""
    delays = []
    for _ in range(count):
        d = 0
        while share and rng.random() < share:
            d += 1
        delays.append(d)
    return delays


def config_writes(cfg):
    """(word address, value) of every configuration register for ``cfg``."""
    values = cfg.register_value()
    return [(reg.addr, encode(reg, **{f.name: values[f.name] for f in reg.fields}))
            for reg in CONFIG_REGISTERS]


def write_vectors(path, params, frames, *, w, bias, bubbles=0.0, backpressure=0.0, seed=0,
                  back_to_back=False, expected_counters=None, max_cycles=None, resets=(),
                  updates=None):
    """Write the vector file of ``frames`` to ``path``; return the number of expected output
    beats. The harness reports the cycle each frame's last output beat arrives on
    (``frame_ends``). ``expected_counters``: {counter name: value} to check at the end (else counters are
    not read; after resets, count the frames since the last one). ``resets``: indices of
    frames before which the host waits for the core to be idle, resets it (``rst`` for two
    cycles) and sets it up again from scratch (configuration, parameters, mask); not with
    ``back_to_back``.

    ``updates``: {frame index i: (raw gradient codes (planes, Hp, Wp), THRESHOLD code)} for a
    core with learning units: once frame i has started, the host writes the threshold and the
    update's gradients stream into ``i_grad`` while frame i runs; frame i + 1 is released once
    the update is over. Its commit then waits for frame i + 1's start, so frame i runs on the
    mask before and frame i + 1 on the learned one, which the caller gives as frame i + 1's
    ``full_mask`` (the host writes no mask there). Same configuration for frames i and i + 1;
    not with ``back_to_back``."""
    if resets and back_to_back:
        raise ValueError("resets between back-to-back frames are not supported")
    updates = updates or {}
    if updates and (back_to_back or not params.learning):
        raise ValueError("mask updates need host-paced frames and a core with learning units")
    rng = random.Random(seed)
    in_layout = input_layout(params)
    out_layout = output_layout(params)
    p_layout = param_layout()
    lines = [f"read_latency {READ_LATENCY}", "linger 40"]
    beats = param_words(w, bias)
    for beat, delay in zip(beats, stall_delays(rng, len(beats), bubbles)):
        lines.append(f"p {pack(p_layout, beat):x} {delay}")
    outputs = []
    ends = set()   # indices of the output beats that end a frame
    windows = inputs = 0
    for f in frames:
        lines.append("f")
        frame_in = f.beats if f.beats is not None else input_beats(f.x)
        inputs += len(frame_in)
        for beat, delay in zip(frame_in, stall_delays(rng, len(frame_in), bubbles)):
            lines.append(f"i {pack(in_layout, beat):x} {delay}")
        outputs += expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)
        ends.add(len(outputs) - 1)
        ho, wo = f.cfg.output_size(params.kernel)
        windows += ho * wo * -(-f.cfg.cout // params.lanes) * f.cfg.cin
    for i, ((lanes, end), delay) in enumerate(zip(outputs, stall_delays(rng, len(outputs),
                                                                   backpressure))):
        value = pack(out_layout, {"data": list(lanes), "end": end})
        lines.append(f"o {value:x} {delay}")
        if i in ends:
            lines.append("e")
    g_layout = gradient_layout()
    for i in sorted(updates):
        raw, _ = updates[i]
        lines.append("u")
        grads = gradient_beats(raw, frames[i].cfg.padding)
        for beat, delay in zip(grads, stall_delays(rng, len(grads), bubbles)):
            lines.append(f"g {pack(g_layout, beat):x} {delay}")
            inputs += 1
    if max_cycles is None:
        busy = max(inputs, windows) + inputs + windows + 20000 * len(updates)
        max_cycles = int(3000 + 40 * len(frames) * 200 +
                         4 * busy / max(0.05, 1 - max(bubbles, backpressure)))
    lines.append(f"max_cycles {max_cycles}")

    # the host's program
    def write(addr, value):
        lines.append(f"w {addr:#x} {value & 0xFFFFFFFF:#x}")

    def configure(cfg, apply=True):
        for addr, word in config_writes(cfg):
            write(addr, word)
        if apply:
            write(Reg.CTRL, Ctrl.APPLY_CONFIG)

    def load_mask(full_mask):
        for j, word in enumerate(mask_words(params, full_mask)):
            write(MASK_SHADOW + j, word)
        write(Reg.CTRL, Ctrl.COMMIT_MASK)

    busy = f"{int(Reg.STATUS):#x} {int(Status.BUSY):#x}"
    since_reset = [0]   # index of the first frame since the last reset

    def started(i):
        """Wait until frame i has started (taken its configuration and mask): FRAMES_STARTED
        counts the frames since reset. (Its first beat taken at the port is not enough: it
        may wait there while an earlier frame is received.)"""
        lines.append(f"until {int(Reg.FRAMES_STARTED):#x} 0xffffffff {i + 1 - since_reset[0]:#x}")

    def set_up(frame):
        configure(frame.cfg)
        lines.append("params")
        load_mask(frame.full_mask)
        lines.append(f"idle {busy}")

    def _start_update(i):
        if i in updates:
            started(i)
            lines.extend([f"w {int(Reg.THRESHOLD):#x} {updates[i][1]:#x}",
                          f"grads {sorted(updates).index(i)}"])

    first = frames[0]
    set_up(first)
    lines.append("release 0")
    _start_update(0)
    previous = first
    for i in range(1, len(frames)):
        frame = frames[i]
        if i in resets:
            # (idle: the previous frame's outputs are all taken; STATUS.busy covers them)
            lines += [f"sent {i - 1}", f"idle {busy}", "reset 2"]
            since_reset[0] = i
            set_up(frame)
        elif i - 1 in updates:
            if frame.cfg != previous.cfg:
                raise ValueError(f"frame {i} follows a mask update: its configuration must be "
                                 f"frame {i - 1}'s")
            k = sorted(updates).index(i - 1)
            lines += [f"sent {i - 1}", f"gsent {k}",
                      f"idle {int(Reg.STATUS):#x} {int(Status.LEARNING):#x}"]
        elif back_to_back:
            configure(frame.cfg, apply=False)
            started(i - 1)
            write(Reg.CTRL, Ctrl.APPLY_CONFIG)
        else:
            changed = (frame.cfg != previous.cfg or
                       not np.array_equal(frame.full_mask, previous.full_mask))
            lines.append(f"sent {i - 1}")
            if changed:
                lines.append(f"idle {busy}")
                configure(frame.cfg)
                if not np.array_equal(frame.full_mask, previous.full_mask):
                    load_mask(frame.full_mask)
        lines.append(f"release {i}")
        _start_update(i)
        previous = frame
    lines.append("outputs")
    lines.append(f"idle {busy}")
    lines.append(f"r {int(Reg.ERRORS):#x} 0x0 0xffffffff")
    for name, value in (expected_counters or {}).items():
        lo = Reg[f"{name.upper()}_LO"]
        hi = Reg[f"{name.upper()}_HI"]
        lines.append(f"r {int(lo):#x} {value & 0xFFFFFFFF:#x} 0xffffffff")
        lines.append(f"r {int(hi):#x} {value >> 32:#x} 0xffffffff")
    with open(path, "w") as file:
        file.write("\n".join(lines) + "\n")
    return len(outputs)
