"""Elaboration parameters of the convolution core, validated once, and everything derived from them.

Every width, depth and latency of the core is derived here, so the hardware, the timing model
(``sim/timing.py``), the tests and the documentation read the same numbers.
"""

from dataclasses import dataclass

from amaranth.lib import enum
from amaranth.utils import ceil_log2

from ..golden import fixed

__all__ = ["KERNELS", "MASK_WORDS_MAX", "PadMode", "CoreParams"]

#: kernel sizes the window generator supports (odd, so windows have a centre)
KERNELS = (1, 3, 5, 7)
#: 32-bit words of block mask the register map has room for (hdl.regmap)
MASK_WORDS_MAX = 0x100


class PadMode(enum.Enum, shape=2):
    """Padding mode register values (same names as the golden model's ``mode``)."""
    ZERO = 0
    CONSTANT = 1
    REPLICATE = 2
    REFLECT = 3

    @classmethod
    def from_name(cls, name):
        return {"zero": cls.ZERO, "constant": cls.CONSTANT, "replicate": cls.REPLICATE,
                "reflect": cls.REFLECT}[name]


def _positive(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value!r}")


@dataclass(frozen=True)
class CoreParams:
    """Elaboration-time parameters of the convolution core.

    Run-time configuration (frame size, pads, mode, stride, channel counts, shift) may take any
    value up to these maxima; pads may be 0..``kernel - 1``.
    """

    kernel: int = 3          #: K, one of :data:`KERNELS`
    lanes: int = 4           #: P, output channels computed in parallel
    max_height: int = 64     #: largest frame height (unpadded)
    max_width: int = 64      #: largest frame width (unpadded)
    max_cin: int = 16        #: largest number of input channels
    max_cout: int = 16       #: largest number of output channels
    block: int = 4           #: mask block edge in pixels, a power of two
    act_width: int = fixed.ACTIVATION.width
    weight_width: int = fixed.WEIGHT.width
    bias_width: int = fixed.BIAS.width
    out_width: int = fixed.OUTPUT.width
    #: build the mask-learning units (without them the host writes every mask; the core then
    #: has no ``i_grad`` port, and THRESHOLD, LEARNING and TARGET read 0 and ignore writes)
    learning: bool = True
    #: at most this many of the MAC array's multipliers are left to DSP blocks; the others
    #: are built from LUTs (shifts and adds), for parts with few DSP blocks. None: all.
    dsp_limit: int = None
    #: build the performance counters (without them every COUNTER_* register and
    #: COUNTER_OVERFLOW read 0)
    counters: bool = True
    #: leave out the pipeline registers that serve only the clock of large parts (the MAC
    #: array's S1b, SI, S3 and SP stages, the window generator's stage F, the skip unit's output
    #: buffer): for small parts, where logic cells are scarcer than clock. The latencies change
    #: (:func:`hdl.core.latency`), nothing else does.
    lean: bool = False

    def __post_init__(self):
        if isinstance(self.kernel, bool) or not isinstance(self.kernel, int):
            raise TypeError(f"kernel must be an integer, not {self.kernel!r}")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of 1, 3, 5, 7, not {self.kernel!r}")
        for name in ("lanes", "max_height", "max_width", "max_cin", "max_cout", "block"):
            _positive(name, getattr(self, name))
        for name in ("act_width", "weight_width", "bias_width", "out_width"):
            _positive(name, getattr(self, name), 2)
        for name in ("learning", "counters", "lean"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, not {getattr(self, name)!r}")
        if self.dsp_limit is not None:
            _positive("dsp_limit", self.dsp_limit, 0)
        if self.block & (self.block - 1):
            raise ValueError(f"block must be a power of two, not {self.block!r}")
        if self.max_height > 4095 or self.max_width > 4095:
            raise ValueError(f"max_height and max_width must be at most 4095, not "
                             f"{self.max_height}x{self.max_width}")
        if self.mask_bits > MASK_WORDS_MAX * 32:
            raise ValueError(f"the block grid must fit {MASK_WORDS_MAX * 32} bits, not "
                             f"{self.mask_bits} (use a larger block or smaller frames)")

    # --- geometry ----------------------------------------------------------------------------
    @property
    def max_pad(self):
        return self.kernel - 1

    @property
    def multipliers(self):
        return self.lanes * self.taps

    @property
    def dsp_multipliers(self):
        """Multipliers of the MAC array left to DSP blocks (the rest are built from LUTs)."""
        return self.multipliers if self.dsp_limit is None else min(self.dsp_limit,
                                                                    self.multipliers)

    @property
    def lut_multipliers(self):
        return self.multipliers - self.dsp_multipliers

    @property
    def taps(self):
        return self.kernel * self.kernel

    @property
    def max_padded_height(self):
        return self.max_height + 2 * self.max_pad

    @property
    def max_padded_width(self):
        return self.max_width + 2 * self.max_pad

    @property
    def grid_shape(self):
        """Block grid of the largest padded frame; every frame's grid is its top-left part."""
        return (-(-self.max_padded_height // self.block), -(-self.max_padded_width // self.block))

    @property
    def mask_bits(self):
        return self.grid_shape[0] * self.grid_shape[1]

    @property
    def groups(self):
        """Output-channel groups of ``lanes`` channels."""
        return -(-self.max_cout // self.lanes)

    # --- line buffer ------------------------------------------------------------------------
    @property
    def row_slots(self):
        """Line-buffer rows: the K the last windows of a frame read, and K more for the next
        frame's first rows, so a frame's first windows never wait on rows the previous frame
        still holds (back-to-back frames at full rate, for every pad). K = 1 takes four: with
        two, the writer would wait at every row for the low-water mark to travel the reader's
        pipeline."""
        return 2 * self.kernel if self.kernel > 1 else 4

    @property
    def row_halves(self):
        """Rows each row-bank memory holds (slot ``s`` is in half ``s div K``)."""
        return self.row_slots // self.kernel

    @property
    def bank_depth(self):
        """Words of one row of one column bank (columns are banked by ``x mod K``)."""
        return -(-self.max_width // self.kernel) * self.max_cin

    @property
    def vrow_width(self):
        """Width of the line buffer's virtual row numbers. They wrap; every difference the flow
        control takes (at most a frame plus the slots ahead, at least two rows behind) fits."""
        return ceil_log2(self.max_height + self.row_slots + 1) + 1

    # --- arithmetic --------------------------------------------------------------------------
    @property
    def acc_width(self):
        return fixed.accumulator_width(act_width=self.act_width, weight_width=self.weight_width,
                                       terms=self.taps * self.max_cin,
                                       bias_width=self.bias_width)

    @property
    def act_min(self):
        return -(1 << (self.act_width - 1))

    @property
    def act_max(self):
        return (1 << (self.act_width - 1)) - 1

    @property
    def shift_width(self):
        return ceil_log2(self.acc_width + 1)
