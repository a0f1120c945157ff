"""Fault campaign: the generated Verilog of a whole core on Verilator, driven by a host that
does everything a host may do, and much that it should not, with every good frame checked
against the golden model.

One Verilated core (:class:`sim.verilator.Session`) runs a long random sequence of *episodes*,
each one program of the harness (sim/verilator_harness.cpp):

* **frames**: one to four frames of random configurations (modes, pads, strides, sizes, shifts,
  zero gating) and random masks; between two frames the host either waits for the core to be
  idle, or stages the next configuration and writes the next mask into the shadow bank while
  the previous frame streams, and applies and commits once it has started (FRAMES_STARTED);
* **update**: the gradients of a mask update stream into ``i_grad`` while a frame runs, under
  any of the three threshold rules (the density rule toward a random TARGET); the next frame
  runs on the learned mask (golden.mask_update_fixed), THRESHOLD is read back;
* **illegal**: random register writes, legal and illegal (fields out of range, reserved bits,
  LEARNING.direction 3, TARGET above 1.0, read-only and unmapped addresses), sometimes applied
  and followed by a frame (rejected when the applied configuration is invalid; processed when
  it is good); THRESHOLD and TARGET are read back;
* **length**: a frame whose ``last`` comes early (the core completes it with zeros) or late
  (the extra beats are dropped);
* **params**: a parameter reload with new channel counts, either idle or offered while a frame
  runs on the old weights; sometimes first a malformed stream (``last`` early or late);
* **reset**: frames (and sometimes an update) cut by a reset at a random cycle; the beats in
  flight are dropped (the harness's ``abort``), the registers must read their reset values, and
  the host sets the core up again from scratch.

Every episode runs under random input bubbles and output backpressure (a share drawn per
episode) and ends with the core idle and ERRORS and the counters read: ERRORS must hold exactly
the flags the documentation (docs/registers.md) says the episode raises, and the counters
the golden model's work counts since the last reset. A watchdog bounds each episode; a hang
is counted, and the core is reset to go on.

``run(cycles)`` returns the counts (see :data:`KEYS`).
"""

import dataclasses
import random

import numpy as np

from .. import golden
from ..golden import fixed
from ..hdl.mask_gen import gradient_layout
from ..hdl.param_loader import param_layout
from ..hdl.params import CoreParams, PadMode
from ..hdl.regmap import (CONFIG_REGISTERS, MASK_ACTIVE, MASK_SHADOW, REGISTERS, Ctrl, Reg,
                          Status, by_name, check, decode, encode)
from ..hdl.window import input_layout
from ..hdl.window_layout import output_layout
from . import verilator
from .frames import (FrameConfig, expected_counters, expected_outputs, frame_mask,
                     gradient_beats, input_beats, mask_words, param_words, random_config)
from .harness import FrameSpec
from .vectors import config_writes, pack, stall_delays

__all__ = ["CAMPAIGN_PARAMS", "KEYS", "Campaign", "run", "failures"]

#: the elaboration the campaign runs: small frames (many per million cycles), two lanes over
#: up to four output channels (groups), two input channels, the learning units
CAMPAIGN_PARAMS = CoreParams(kernel=3, lanes=2, max_height=12, max_width=12, max_cin=2,
                             max_cout=4, block=2)

#: the counts ``run`` returns, and what each one is
KEYS = {
    "cycles": "clock cycles simulated",
    "episodes": "episodes run (one program of the harness each)",
    "frames": "input frames offered, good and bad",
    "frames_checked": "good frames whose last output beat arrived",
    "frames_exact": "of those, frames whose every output beat equals the golden model's",
    "frames_rejected": "frames sent on an invalid applied configuration (documented: no output)",
    "frames_aborted": "frames cut by a reset before their last output beat",
    "resets": "resets (in mid-frame or mid-update, at random cycles)",
    "mask_updates": "mask updates learned while frames ran, checked against the golden model",
    "param_loads": "parameter loads (reloads with new channel counts, malformed ones included)",
    "register_writes": "register writes",
    "illegal_writes": "writes the register map says are errors",
    "errors_expected": "error flags the documentation says the episodes raise",
    "errors_flagged": "of those, flags ERRORS showed",
    "errors_unexpected": "flags ERRORS showed that no episode should have raised",
    "lost_beats": "expected output beats of good frames that never came",
    "duplicated_beats": "output beats beyond the golden model's (a duplicate or any extra beat)",
    "mismatched_beats": "output beats that differ from the golden model's",
    "read_mismatches": "register reads (ERRORS, counters, THRESHOLD, TARGET, reset values) "
                       "that differ",
    "hangs": "episodes the watchdog stopped",
}

_BUSY = int(Status.BUSY)
_IDLE = int(Status.BUSY | Status.MASK_PENDING | Status.LEARNING | Status.PARAM_LOADING)
_FIRST_UNMAPPED = max(r.addr for r in REGISTERS) + 1   # (up to the mask banks)
_CHECKED_COUNTERS = ("windows", "macs_performed", "macs_skipped_mask", "macs_skipped_zero",
                     "mask_updates")


def _error_bits(names):
    return sum(1 << by_name("ERRORS").field(n).offset for n in names)


def _error_names(word):
    return {f.name for f in by_name("ERRORS").fields if word >> f.offset & 1}


def _cross_errors(cfg, kernel):
    """The checks that combine fields (hdl.frame_check), of a configuration in range."""
    hp, wp = cfg.padded
    top, bottom, left, right = cfg.padding
    errors = set()
    if cfg.mode == "reflect" and (max(top, bottom) >= cfg.height or max(left, right) >= cfg.width):
        errors.add("reflect")
    if hp < kernel or wp < kernel:
        errors.add("kernel")
    return errors


def _decode_config(words):
    """Configuration register words {name: word} -> the FrameConfig they say."""
    v = {}
    for reg in CONFIG_REGISTERS:
        v.update(decode(reg, words[reg.name]))
    return FrameConfig(height=v["height"], width=v["width"], cin=v["cin"], cout=v["cout"],
                       padding=(v["pad_top"], v["pad_bottom"], v["pad_left"], v["pad_right"]),
                       mode=PadMode(v["mode"]).name.lower(), pad_value=v["pad_value"],
                       stride=v["stride"], shift=v["shift"], zero_gating=bool(v["zero_gating"]))


class Campaign:
    """The host and its golden expectations, around one Verilated core of ``params``
    (the harness ``exe``, built with :func:`sim.verilator.build`)."""

    def __init__(self, exe, params=CAMPAIGN_PARAMS, *, seed=0):
        self.params = params
        self.rng = np.random.default_rng(seed)
        self.prng = random.Random(seed)
        self.session = verilator.Session(exe)
        self.counts = dict.fromkeys(KEYS, 0)
        self.problems = []           # the first disagreements, in words
        self.flags = {}              # error flag -> episodes that had to raise it
        self._in = input_layout(params)
        self._out = output_layout(params)
        self._param = param_layout()
        self._grad = gradient_layout()
        self._words = -(-params.mask_bits // 32)
        self._frames_offered = 0     # input groups ("f") sent to the harness so far
        self._updates_offered = 0    # gradient groups ("u")
        self._param_sets = 1         # parameter sets ("pset"); set 0 stays empty
        self._new_episode()
        self._set_up()
        self._sync()

    def _new_episode(self):
        self._lines, self._reads, self._errors = [], [], set()
        self._expected_frames = 0    # good frames that must complete in this episode
        self._work = 0               # beats of the episode (for its watchdog)
        self._reset_in_episode = False
        self._kind = "set-up"
        self._stall = self.prng.choice((0.0, 0.0, 0.1, 0.3, 0.5, 0.8))

    # ---- the host's commands ----

    def _w(self, addr, value):
        self._lines.append(f"w {int(addr):#x} {value & 0xFFFFFFFF:#x}")
        self.counts["register_writes"] += 1

    def _rd(self, addr, expect, what):
        """Read ``addr``; ``expect``: the value it must have (checked after the episode)."""
        self._lines.append(f"rd {int(addr):#x}")
        self._reads.append((int(addr), expect, what))

    def _wait(self, bits):
        self._lines.append(f"idle {int(Reg.STATUS):#x} {int(bits):#x}")

    def _started(self, frame):
        """Wait until ``frame`` has started: FRAMES_STARTED counts it (docs/core.md)."""
        self._lines.append(f"until {int(Reg.FRAMES_STARTED):#x} 0xffffffff "
                           f"{self._sequence[frame]:#x}")

    def _delays(self, count):
        """Stall cycles before each of ``count`` beats (the episode's share)."""
        return stall_delays(self.prng, count, self._stall)

    def _configure(self, cfg, apply=True):
        for reg, (addr, word) in zip(CONFIG_REGISTERS, config_writes(cfg)):
            self._w(addr, word)
            self.staged[reg.name] = word
        self.staged_bad = set()
        if apply:
            self._apply()

    def _apply(self):
        """CTRL.apply_config: the staged words and their flags, plus the cross checks."""
        self._w(Reg.CTRL, Ctrl.APPLY_CONFIG)
        self.applied = dict(self.staged)
        self.applied_bad = set(self.staged_bad)
        if not self.applied_bad:
            self.applied_bad = _cross_errors(_decode_config(self.applied), self.params.kernel)

    def _load_mask(self, full_mask):
        for j, word in enumerate(mask_words(self.params, full_mask)):
            self._w(MASK_SHADOW + j, word)
        self._w(Reg.CTRL, Ctrl.COMMIT_MASK)
        self.mask = full_mask

    def _param_set(self, w, bias, *, malformed=None):
        """Send a parameter set to the harness; its number. ``malformed``: "early" or "late"
        ``last`` (ERRORS.param)."""
        beats = param_words(w, bias)
        if malformed == "early":
            beats = beats[:self.prng.randrange(1, len(beats))]
            beats[-1] = {**beats[-1], "last": 1}
        elif malformed == "late":
            beats[-1] = {**beats[-1], "last": 0}
            beats += [{"data": int(v), "last": 0}
                      for v in self.rng.integers(-128, 128, self.prng.randint(1, 5))]
            beats[-1]["last"] = 1
        self._lines.append("pset")
        for beat, delay in zip(beats, self._delays(len(beats))):
            self._lines.append(f"p {pack(self._param, beat):x} {delay}")
        self._work += len(beats)
        number = self._param_sets
        self._param_sets += 1
        return number

    def _load_params(self, cin, cout, malformed=None):
        """New random weights for ``cin``/``cout`` (the applied CHANNELS must say so when the
        load starts); first a malformed stream of them, if asked."""
        p = self.params
        k = p.kernel
        w = self.rng.integers(-(1 << (p.weight_width - 1)), 1 << (p.weight_width - 1),
                              (cout, cin, k, k))
        bias = self.rng.integers(-(1 << (p.bias_width - 1)), 1 << (p.bias_width - 1), cout)
        if malformed:
            self._lines.append(f"params {self._param_set(w, bias, malformed=malformed)}")
            self._errors.add("param")
            self.counts["param_loads"] += 1
        self._lines.append(f"params {self._param_set(w, bias)}")
        self.counts["param_loads"] += 1
        self.w, self.bias, self.channels = w, bias, (cin, cout)

    def _frame(self, cfg, *, beats=None, x=None, good=True):
        """Offer one frame on the active mask (its input beats, and the output beats it must
        give); its number. ``beats``: the input beats when not those of ``x``."""
        p = self.params
        if x is None:
            x = self._image(cfg)
        if beats is None:
            beats = input_beats(x)
        self._lines.append("f")
        for beat, delay in zip(beats, self._delays(len(beats))):
            self._lines.append(f"i {pack(self._in, beat):x} {delay}")
        self._work += len(beats)
        if good:
            outputs = expected_outputs(p, cfg, x, self.w, self.bias, self.mask)
            for (lanes, end), delay in zip(outputs, self._delays(len(outputs))):
                value = pack(self._out, {"data": list(lanes), "end": end})
                self._lines.append(f"o {value:x} {delay}")
            self._lines.append("e")
            self._expected_frames += 1
            for name, value in expected_counters(p, [FrameSpec(cfg, x, self.mask)]).items():
                self.counters[name] += value
            self._work += 2 * len(outputs) * cfg.cin
        else:
            self.counts["frames_rejected"] += 1
            self._errors |= self.applied_bad
        self.counts["frames"] += 1
        number = self._frames_offered
        self._frames_offered += 1
        self._taken += 1   # (FRAMES_STARTED once it has started)
        self._sequence[number] = self._taken
        self._lines.append(f"release {number}")
        if not good:   # (every beat of it is taken)
            self._lines.append(f"sent {number}")
        return number

    def _image(self, cfg):
        p = self.params
        x = self.rng.integers(p.act_min, p.act_max + 1, (cfg.cin, cfg.height, cfg.width))
        if self.prng.random() < 0.3:   # (zeros, for zero gating)
            x = x * (self.rng.random(x.shape) < 0.5)
        return x

    def _random_cfg(self):
        """A valid configuration on the loaded channel counts."""
        cin, cout = self.channels
        return dataclasses.replace(random_config(self.rng, self.params), cin=cin, cout=cout)

    def _random_mask(self):
        """A whole register-file mask: random, all ones or all zeros (the bits outside a
        frame's grid are random too: they must not matter)."""
        shape = self.params.grid_shape
        kind = self.prng.choice(("random", "random", "ones", "zeros"))
        if kind == "random":
            return self.rng.integers(0, 2, shape).astype(bool)
        return np.full(shape, kind == "ones")

    def _set_up(self):
        """From reset: a configuration, weights, a mask; the registers as reset leaves them."""
        self.counters = dict.fromkeys(_CHECKED_COUNTERS, 0)
        self.threshold = fixed.ONE // 2
        self.target = by_name("TARGET").field("share").reset
        self._taken, self._sequence = 0, {}   # frames since reset, and each one's count
        self.staged = {reg.name: word for reg, (_, word) in
                       zip(CONFIG_REGISTERS, config_writes(_reset_config(self.params)))}
        self.staged_bad = set()
        self.applied, self.applied_bad = dict(self.staged), set()
        self.mask = np.ones(self.params.grid_shape, bool)
        self.channels = (self.prng.randint(1, self.params.max_cin),
                         self.prng.randint(1, self.params.max_cout))
        self._configure(self._random_cfg())
        self._load_params(*self.channels)
        self._load_mask(self._random_mask())
        self._wait(_IDLE)

    # ---- episodes ----

    def episode(self):
        """One random episode, run and checked."""
        kind = self.prng.choices(["frames", "update", "illegal", "length", "params", "reset"],
                                 weights=[8, 2, 3, 1, 2, 1])[0]
        self._kind = kind
        getattr(self, f"_episode_{kind}")()
        return self._sync()

    def _episode_frames(self, *, count=None, end=True):
        """Frames; between two, the host waits for idle, or stages the next configuration and
        mask while the previous frame streams and applies and commits once it started."""
        count = count or self.prng.randint(1, 4)
        cfg = self._random_cfg()
        self._configure(cfg)
        self._load_mask(self._random_mask())
        self._wait(Status.MASK_PENDING)
        previous = self._frame(cfg)
        for _ in range(count - 1):
            new_cfg = self._random_cfg() if self.prng.random() < 0.6 else cfg
            new_mask = self._random_mask() if self.prng.random() < 0.6 else None
            if self.prng.random() < 0.5:
                self._configure(new_cfg, apply=False)
                self._started(previous)
                self._apply()
                if new_mask is not None:
                    # (the commit is ignored while the previous one waits for its frame)
                    self._wait(Status.MASK_PENDING)
                    self._load_mask(new_mask)
                    if self.prng.random() < 0.2:
                        # a shadow write while this commit waits: ignored, ERRORS.mask_pending
                        self._w(MASK_SHADOW + self.prng.randrange(self._words),
                                self.prng.getrandbits(32))
                        self._errors.add("mask_pending")
            else:
                self._lines.append(f"sent {previous}")
                self._wait(Status.BUSY)
                self._configure(new_cfg)
                if new_mask is not None:
                    self._load_mask(new_mask)
            cfg = new_cfg
            previous = self._frame(cfg)
        if end:
            self._lines.append("outputs")

    def _episode_update(self, *, end=True):
        """A mask update learned while a frame runs; the next frame on the learned mask."""
        p = self.params
        cfg = self._random_cfg()
        if not any(cfg.padding):   # (an update needs padding blocks)
            cfg = dataclasses.replace(cfg, padding=(1, 0, 0, 0), mode="zero")
        self._configure(cfg)
        self._load_mask(self._random_mask())
        self._wait(Status.MASK_PENDING)
        hp, wp = cfg.padded
        raw, _ = golden.quantize_gradients(self.rng.normal(size=(self.prng.randint(1, 3), hp, wp))
                                           * self.rng.random((1, hp, wp)))
        threshold = int(self.rng.integers(fixed.ONE // 4, 3 * fixed.ONE // 4))
        rate = int(self.rng.integers(0, 1 << 16))
        direction = self.prng.choice(golden.DIRECTIONS)
        first = self._frame(cfg)
        self._started(first)
        self._w(Reg.LEARNING, encode(by_name("LEARNING"), rate=rate,
                                     direction=golden.DIRECTIONS.index(direction)))
        if direction == "density":   # (the other rules leave TARGET as it is)
            self.target = self.prng.choice((0, fixed.ONE, self.prng.randint(0, fixed.ONE)))
            self._w(Reg.TARGET, self.target)
        self._w(Reg.THRESHOLD, threshold)
        beats = gradient_beats(raw, cfg.padding)
        plane = len(beats) // raw.shape[0]
        short = end and plane > 1 and self.prng.random() < 0.15
        if short:   # last in mid-plane: ERRORS.grad_length, the update completes from these
            cut = self.prng.choice([k for k in range(1, len(beats)) if k % plane])
            beats = beats[:cut]
            beats[-1] = {**beats[-1], "last": 1}
            self._errors.add("grad_length")
        update = self._gradients(beats)
        self._work += 4 * p.grid_shape[0] * p.grid_shape[1] + 40 * len(beats) + 200
        if not end:   # (a reset cuts it)
            return
        if self.prng.random() < 0.3:
            # a host write while the update runs: ignored, ERRORS.busy_write
            self._lines.append(f"until {int(Reg.STATUS):#x} {int(Status.LEARNING):#x} "
                               f"{int(Status.LEARNING):#x}")
            roll = self.prng.random()
            if roll < 0.4:
                self._w(Reg.THRESHOLD, self.prng.randint(0, fixed.ONE))
            elif roll < 0.6:   # (in range: the update goes on with the TARGET it started on)
                self._w(Reg.TARGET, self.prng.randint(0, fixed.ONE))
            else:
                self._w(MASK_SHADOW + self.prng.randrange(self._words), self.prng.getrandbits(32))
            self._errors.add("busy_write")
        self.counters["mask_updates"] += 1
        self.counts["mask_updates"] += 1
        if short:
            # (the mask and threshold it learned are not the golden model's to say: the host
            # sets both again, once the update's mask is active)
            self._lines.append(f"sent {first}")
            self._wait(Status.BUSY | Status.LEARNING | Status.MASK_PENDING)
            self.threshold = self.prng.randint(0, fixed.ONE)
            self._w(Reg.THRESHOLD, self.threshold)
            self._load_mask(self._random_mask())
            self._wait(Status.MASK_PENDING)
            self._lines.append("outputs")
            return
        learned = golden.mask_update_fixed(raw, cfg.padding, p.block, threshold, rate,
                                           direction, self.target)
        self._lines += [f"sent {first}", f"gsent {update}"]
        self._wait(Status.LEARNING)
        # (the update writes the whole bank: blocks without padding, those outside the frame's
        # grid included, get 1)
        mask = frame_mask(p, cfg, learned.mask)
        self.mask = mask
        self.threshold = learned.threshold
        self._frame(cfg)
        self._lines.append("outputs")
        self._rd(Reg.THRESHOLD, learned.threshold, "THRESHOLD after the update")
        self._rd(MASK_ACTIVE, mask_words(p, mask)[0], "MASK_ACTIVE word 0 after the update")

    def _gradients(self, beats):
        """Offer the beats of one mask update on ``i_grad``; its number."""
        self._lines.append("u")
        for beat, delay in zip(beats, self._delays(len(beats))):
            self._lines.append(f"g {pack(self._grad, beat):x} {delay}")
        update = self._updates_offered
        self._updates_offered += 1
        self._lines.append(f"grads {update}")
        self._work += len(beats)
        return update

    def _episode_illegal(self):
        """Random register writes, legal and illegal; then perhaps an apply and a frame."""
        p = self.params
        good = dict(zip([r.name for r in CONFIG_REGISTERS],
                        [w for _, w in config_writes(self._random_cfg())]))
        for _ in range(self.prng.randint(1, 8)):
            kind = self.prng.choice(("config", "config", "config", "threshold", "learning",
                                     "target", "ctrl", "read_only", "unmapped", "shadow",
                                     "cross"))
            if kind == "cross":
                # every field in range, the combination not (checked when applied): reflect
                # with a pad >= the frame's edge, or a padded frame smaller than K
                k, pad = p.kernel, p.max_pad
                cfg = self._random_cfg()
                if self.prng.random() < 0.5:
                    cfg = dataclasses.replace(cfg, mode="reflect", height=self.prng.randint(
                        1, pad), padding=(pad,) + cfg.padding[1:])
                else:
                    cfg = dataclasses.replace(cfg, width=self.prng.randint(1, k - 1),
                                              padding=cfg.padding[:2] + (0, 0))
                self._configure(cfg, apply=False)
                continue
            if kind == "config":
                reg = self.prng.choice(CONFIG_REGISTERS)
                roll = self.prng.random()
                word = (good[reg.name] if roll < 0.4 else
                        self._out_of_range(reg) if roll < 0.7 else self.prng.getrandbits(32))
                if reg.name == "CHANNELS" and check(reg, word, p):
                    # (the weights loaded are for these channel counts)
                    word = good["CHANNELS"]
                self._w(reg.addr, word)
                self.staged[reg.name] = word
                if check(reg, word, p):
                    self.staged_bad.discard(reg.error)
                else:
                    self.staged_bad.add(reg.error)
                    self._illegal(reg.error)
            elif kind in ("threshold", "target"):   # UQ(1, 15) shares: ERRORS.threshold
                word = self.prng.choice((self.prng.randint(0, fixed.ONE),
                                         self.prng.randint(fixed.ONE + 1, 0xFFFF),
                                         self.prng.getrandbits(32)))
                self._w(getattr(Reg, kind.upper()), word)
                if check(by_name(kind.upper()), word, p):
                    setattr(self, kind, word)
                else:
                    self._illegal("threshold")
            elif kind == "learning":   # (18 bits: direction 3 a quarter of them)
                word = self.prng.getrandbits(18 if self.prng.random() < 0.5 else 32)
                self._w(Reg.LEARNING, word)
                if not check(by_name("LEARNING"), word, p):
                    self._illegal("bad_write")
            elif kind == "ctrl":
                if self.prng.random() < 0.5:   # a reserved bit: the whole write is ignored
                    self._w(Reg.CTRL, self.prng.getrandbits(32) | 1 << 3)
                    self._illegal("bad_write")
                else:
                    self._w(Reg.CTRL, Ctrl.CLEAR_COUNTERS)
                    self.counters = dict.fromkeys(_CHECKED_COUNTERS, 0)
            elif kind == "read_only":
                addr = (MASK_ACTIVE + self.prng.randrange(self._words)
                        if self.prng.random() < 0.3 else
                        self.prng.choice([r for r in REGISTERS if r.access == "R"]).addr)
                self._w(addr, self.prng.getrandbits(32))
                self._illegal("bad_write")
            elif kind == "unmapped":
                addr = self.prng.choice((self.prng.randint(_FIRST_UNMAPPED, MASK_SHADOW - 1),
                                         self.prng.randint(MASK_SHADOW + self._words,
                                                           MASK_ACTIVE - 1),
                                         self.prng.randint(MASK_ACTIVE + self._words, 0x3FF)))
                self._w(addr, self.prng.getrandbits(32))
                self._illegal("bad_write")
            else:   # a shadow word: legal (every commit writes all of them first)
                self._w(MASK_SHADOW + self.prng.randrange(self._words), self.prng.getrandbits(32))
        if self.prng.random() < 0.6:
            self._apply()
            if self.applied_bad & {"frame_size", "pad"} and self.prng.random() < 0.5:
                # an update's gradients on an invalid geometry: dropped, ERRORS.learn_config
                count = self.prng.randint(1, 10)
                self._gradients([{"data": int(v), "last": int(i == count - 1)} for i, v in
                                 enumerate(self.rng.integers(-1000, 1000, count))])
                self._wait(Status.LEARNING)
                self._errors.add("learn_config")
            if self.applied_bad:   # rejected: any number of beats, up to the one with last
                count = self.prng.randint(1, 40)
                beats = [{"data": 0, "last": int(i == count - 1)} for i in range(count)]
                self._frame(None, beats=beats, x=0, good=False)
            else:
                self._frame(_decode_config(self.applied))
            self._lines.append("outputs")
        self._rd(Reg.THRESHOLD, self.threshold, "THRESHOLD")
        self._rd(Reg.TARGET, self.target, "TARGET")

    def _out_of_range(self, reg):
        """A word of ``reg`` with one field out of its valid range (the others zero)."""
        p = self.params
        f = self.prng.choice([f for f in reg.fields if f.bounds(p) is not None])
        lo, hi = f.bounds(p)
        full_lo = -(1 << (f.width - 1)) if f.signed else 0
        full_hi = (1 << (f.width - 1)) - 1 if f.signed else (1 << f.width) - 1
        value = self.prng.choice([v for v in (lo - 1, hi + 1, full_lo, full_hi)
                                  if full_lo <= v <= full_hi and not lo <= v <= hi])
        return (value << f.offset) & f.mask

    def _illegal(self, flag):
        self._errors.add(flag)
        self.counts["illegal_writes"] += 1

    def _episode_length(self):
        """A frame whose last comes early (completed with zeros) or late (extra dropped)."""
        cfg = self._random_cfg()
        self._configure(cfg)
        self._wait(Status.BUSY)
        x = self._image(cfg)
        beats = input_beats(x)
        if self.prng.random() < 0.5 and len(beats) > 1:
            kept = self.prng.randrange(1, len(beats))
            beats = beats[:kept]
            beats[-1] = {**beats[-1], "last": 1}
            flat = x.transpose(1, 2, 0).copy()
            flat.reshape(-1)[kept:] = 0
            x = flat.transpose(2, 0, 1)
        else:
            beats[-1] = {**beats[-1], "last": 0}
            beats += [{"data": int(v), "last": 0}
                      for v in self.rng.integers(-128, 128, self.prng.randint(1, 20))]
            beats[-1]["last"] = 1
        self._errors.add("length")
        self._frame(cfg, beats=beats, x=x)
        self._lines.append("outputs")

    def _episode_params(self):
        """A parameter reload with new channel counts: with the core idle, or offered while a
        frame runs on the old weights; sometimes a malformed stream first."""
        p = self.params
        channels = (self.prng.randint(1, p.max_cin), self.prng.randint(1, p.max_cout))
        malformed = self.prng.choice((None, None, "early", "late"))
        if self.prng.random() < 0.5:
            old = self._random_cfg()
            self._configure(old)
            self._wait(Status.BUSY | Status.MASK_PENDING)
            first = self._frame(old)
            self._started(first)
        else:
            first = None
        self.channels = channels
        cfg = self._random_cfg()
        self._configure(cfg)   # (frames started already keep theirs)
        self._load_params(*channels, malformed=malformed)
        self._frame(cfg)
        self._lines.append("outputs")

    def _episode_reset(self):
        """Frames, or an update, cut by a reset at a random cycle; then the registers' reset
        values, and the set-up from scratch."""
        self._work = 0
        if self.prng.random() < 0.7:
            self._episode_frames(end=False)
        else:
            self._episode_update(end=False)
        cut = self.prng.randint(0, self._work + 10)
        self._lines += [f"tick {cut}", f"reset {self.prng.randint(1, 4)}", "abort"]
        self._reset_in_episode = True
        self.counts["resets"] += 1
        self._errors = set()
        p = self.params
        self._rd(Reg.ERRORS, 0, "ERRORS after reset")
        self._rd(Reg.THRESHOLD, fixed.ONE // 2, "THRESHOLD after reset")
        self._rd(Reg.TARGET, by_name("TARGET").field("share").reset, "TARGET after reset")
        self._rd(Reg.APPLIED_FRAME_SIZE, p.max_height | p.max_width << 16,
                 "APPLIED_FRAME_SIZE after reset")
        self._rd(MASK_ACTIVE, mask_words(p, np.ones(p.grid_shape, bool))[0],
                 "MASK_ACTIVE word 0 after reset (all ones)")
        self._set_up()

    # ---- running an episode ----

    def _sync(self):
        """Run the episode's program, wait for the core to be idle, read and check ERRORS and
        the counters; a hang resets the core (not counted in ``resets``)."""
        self._wait(_IDLE)
        expected_errors = set(self._errors)
        self._rd(Reg.ERRORS, None, "ERRORS")
        for name in _CHECKED_COUNTERS:
            value = self.counters[name]
            self._rd(Reg[f"{name.upper()}_LO"], value & 0xFFFFFFFF, f"counter {name} (low)")
            self._rd(Reg[f"{name.upper()}_HI"], value >> 32, f"counter {name} (high)")
        self._w(Reg.ERRORS, 0xFFFFFFFF)
        before = dict(self.session.state)
        watchdog = int(5000 + 8 * self._work / max(0.05, 1 - self._stall))
        reads, _, _, hang = self.session.sync([f"max_cycles {watchdog}", *self._lines])
        state = self.session.state
        episode = f"{self.counts['episodes']} ({self._kind})"
        self.counts["episodes"] += 1
        if hang:
            self.counts["hangs"] += 1
            self.counts["lost_beats"] += state["missing"]
            self._problem(f"episode {episode}: the watchdog fired after {watchdog} cycles")
            self.hung_program = list(self._lines)
        else:
            for (addr, value), (want, expect, what) in zip(reads, self._reads):
                assert addr == want, (addr, want)
                if expect is None:   # ERRORS
                    names = _error_names(value)
                    self.counts["errors_expected"] += len(expected_errors)
                    for name in expected_errors:
                        self.flags[name] = self.flags.get(name, 0) + 1
                    self.counts["errors_flagged"] += len(names & expected_errors)
                    self.counts["errors_unexpected"] += len(names - expected_errors)
                    if names != expected_errors:
                        self._problem(f"episode {episode}: ERRORS {sorted(names)}, expected "
                                      f"{sorted(expected_errors)}")
                elif value != expect:
                    self.counts["read_mismatches"] += 1
                    self._problem(f"episode {episode}: {what} read {value:#x}, expected "
                                  f"{expect:#x}")
        delta = {key: state[key] - before.get(key, 0)
                 for key in ("mismatches", "extra", "frames_done", "frames_bad")}
        self.counts["mismatched_beats"] += delta["mismatches"]
        self.counts["duplicated_beats"] += delta["extra"]
        self.counts["frames_checked"] += delta["frames_done"]
        self.counts["frames_exact"] += delta["frames_done"] - delta["frames_bad"]
        if delta["mismatches"] or delta["extra"]:
            self._problem(f"episode {episode}: {delta['mismatches']} output beats differ, "
                          f"{delta['extra']} extra")
        if self._reset_in_episode:
            self.counts["frames_aborted"] += self._expected_frames - delta["frames_done"]
        self.counts["cycles"] = state["cycles"]
        self._new_episode()
        if hang:   # reset, drop what was in flight, set up again
            self._lines += ["reset 2", "abort"]
            self._set_up()
            self._sync()
        return not hang

    def _problem(self, text):
        if len(self.problems) < 20:
            self.problems.append(text)

    def run(self, cycles, progress=None):
        """Episodes until ``cycles`` clock cycles have run; the counts."""
        while self.counts["cycles"] < cycles:
            self.episode()
            if progress:
                progress(self.counts["cycles"])
        return self.close()

    def close(self):
        """End the simulation; the counts, and ``errors_by_flag``: for each error flag, the
        episodes that had to raise it."""
        self.session.close()
        return {**self.counts, "errors_by_flag": dict(sorted(self.flags.items()))}


def _reset_config(params):
    """The configuration reset leaves (docs/core.md)."""
    return FrameConfig(params.max_height, params.max_width, padding=(0, 0, 0, 0))


def run(cycles=1_000_000, *, seed=0, params=CAMPAIGN_PARAMS, workdir="build/verilator",
        progress=None, build_progress=None, optimize=False):
    """Build the core's model (cached) and run a campaign of at least ``cycles`` cycles:
    ``(counts, problems)``. ``progress(cycles)`` after each episode."""
    exe = verilator.build(params, workdir, progress=build_progress, optimize=optimize)
    campaign = Campaign(exe, params, seed=seed)
    counts = campaign.run(cycles, progress=progress)
    return counts, campaign.problems


def failures(counts):
    """What a campaign's counts say went wrong (empty: every good frame exact, nothing lost,
    duplicated or hung, every read as expected, error flags exactly the documented ones)."""
    c = counts
    out = [f"{c[key]} {key.replace('_', ' ')}" for key in
           ("hangs", "lost_beats", "duplicated_beats", "mismatched_beats", "read_mismatches",
            "errors_unexpected") if c[key]]
    if c["errors_flagged"] != c["errors_expected"]:
        out.append(f"{c['errors_expected'] - c['errors_flagged']} expected error flags missing")
    good = c["frames"] - c["frames_rejected"] - c["frames_aborted"]
    if not c["frames_exact"] == c["frames_checked"] == good:
        out.append(f"{c['frames_exact']} frames exact of {c['frames_checked']} checked and "
                   f"{good} good")
    return out
