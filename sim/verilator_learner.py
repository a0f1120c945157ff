"""The closed training loop's mask learner on Verilator: the whole core's learning units, in the
generated Verilog, driven through the core's own ports.

:class:`VerilatorLearner` has the interface of :class:`sim.learning.HardwareLearner` (and of
:class:`golden.train.MaskLearner`): ``update(grad_x_tilde) -> (mask, threshold)``. It keeps one
Verilated core per training run (the harness of sim/verilator_harness.cpp as a server,
:class:`sim.verilator.Session`). The host side is what a driver of the real core does: it sets
the frame geometry, the learning rate and direction (LEARNING), the density rule's target
share (TARGET) and the initial threshold through the register bus once; every update then
streams the batch's padding gradients into ``i_grad``, waits until STATUS says the update is
over and its mask is active, and reads THRESHOLD and the active mask bank (MASK_ACTIVE).
Each update is replayed by the golden fixed-point model (:func:`golden.mask_update_fixed`);
``mismatches`` counts the updates whose mask bits or threshold differ, or after which ERRORS or
the MASK_UPDATES counter is not what it must be.
(The per-block scores are not visible at the core's ports; the Amaranth learner compares them.)
"""

import numpy as np

from .. import golden
from ..golden import fixed
from ..golden._check import check_choice
from ..hdl.learning import update_latency
from ..hdl.mask_gen import gradient_layout
from ..hdl.regmap import MASK_ACTIVE, Ctrl, Reg, Status, by_name, encode

from . import verilator
from .frames import FrameConfig, gradient_beats
from .learning import learning_params, words_to_mask
from .vectors import config_writes

__all__ = ["VerilatorLearner", "build_learner"]


def build_learner(height, width, padding, block, workdir="build/verilator"):
    """The harness of the core that learns masks for this geometry (built once, cached)."""
    return verilator.build(learning_params(height, width, tuple(golden.normalize_padding(
        padding)), block), workdir)


class VerilatorLearner:
    def __init__(self, exe, *, height, width, padding, block, threshold, learning_rate,
                 direction, target=0.5):
        check_choice("direction", direction, golden.DIRECTIONS)
        padding = tuple(golden.normalize_padding(padding))
        self.padding, self.block, self.direction = padding, block, direction
        self.params = learning_params(height, width, padding, block)
        self.grid = golden.block_grid_shape(height, width, padding, block)
        self.threshold_raw = fixed.THRESHOLD.from_float(threshold)
        self.learning_rate_raw = fixed.LEARNING_RATE.from_float(learning_rate)
        self.target_raw = fixed.THRESHOLD.from_float(target)
        self.threshold = fixed.THRESHOLD.to_float(self.threshold_raw)
        self.mismatches = 0
        self.updates = 0
        self.cycles = 0
        self._words = -(-self.params.mask_bits // 32)
        self._latency = update_latency(self.params, int(golden.padding_blocks(
            height, width, padding, block).sum()))
        layout = gradient_layout()
        self._data_bits = layout["data"].shape.width
        self._last_at = layout["last"].offset
        self._session = verilator.Session(exe)
        learning = encode(by_name("LEARNING"), rate=self.learning_rate_raw,
                          direction=golden.DIRECTIONS.index(direction))
        lines = [f"w {addr:#x} {value:#x}" for addr, value in
                 config_writes(FrameConfig(height, width, padding=padding))]
        lines += [f"w {int(Reg.CTRL):#x} {int(Ctrl.APPLY_CONFIG):#x}",
                  f"w {int(Reg.LEARNING):#x} {learning:#x}",
                  f"w {int(Reg.TARGET):#x} {self.target_raw:#x}",
                  f"w {int(Reg.THRESHOLD):#x} {self.threshold_raw:#x}",
                  f"r {int(Reg.ERRORS):#x} 0x0 0xffffffff"]
        self._sync(lines, watchdog=1000)

    def _sync(self, lines, watchdog):
        reads, self.cycles, errors, hang = self._session.sync([f"max_cycles {watchdog}",
                                                               *lines])
        if hang or errors:
            raise RuntimeError(f"the Verilated core {'hung' if hang else 'reported a mismatch'}"
                               f" after {self.cycles} cycles")
        return reads

    def update(self, grad_x_tilde):
        raw, _ = golden.quantize_gradients(grad_x_tilde)
        beats = gradient_beats(raw, self.padding)
        update = self.updates
        data_mask = (1 << self._data_bits) - 1   # (the payload's bits, as sim.vectors.pack)
        lines = ["u", *(f"g {beat['data'] & data_mask | beat['last'] << self._last_at:x} 0"
                        for beat in beats),
                 f"grads {update}", f"gsent {update}",
                 # (the update is running from its first value: STATUS.learning covers the
                 # rest, and mask_pending the swap of its mask into the active bank)
                 f"idle {int(Reg.STATUS):#x} {int(Status.LEARNING | Status.MASK_PENDING):#x}",
                 f"rd {int(Reg.THRESHOLD):#x}",
                 *(f"rd {MASK_ACTIVE + j:#x}" for j in range(self._words)),
                 f"rd {int(Reg.ERRORS):#x}", f"rd {int(Reg.MASK_UPDATES_LO):#x}"]
        reads = self._sync(lines, watchdog=4 * (len(beats) + self._latency) + 1000)
        values = [value for _, value in reads]
        threshold, words, errors, count = values[0], values[1:-2], values[-2], values[-1]
        mask = words_to_mask(self.params, words, self.grid)
        reference = golden.mask_update_fixed(raw, self.padding, self.block, self.threshold_raw,
                                             self.learning_rate_raw, self.direction,
                                             self.target_raw)
        self.updates += 1
        if (not np.array_equal(mask, reference.mask) or threshold != reference.threshold
                or errors != 0 or count != self.updates):
            self.mismatches += 1
        self.threshold_raw = threshold
        self.threshold = fixed.THRESHOLD.to_float(threshold)
        return mask, self.threshold

    def close(self):
        """End the simulation; the harness's summary (cycles, mismatches, ...)."""
        return self._session.close()
