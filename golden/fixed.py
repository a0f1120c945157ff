"""Fixed-point formats, rounding and saturation: the one definition of every number format.

The hardware (``hdl/``), the NumPy model (``golden/``) and the tests all import the formats
from here, and ``docs/spec.md`` describes the same table. Names follow Amaranth RFC 41
(``amaranth.lib.fixed``) so the hardware can move to that library once it exists:

* ``SQ(i_bits, f_bits)`` is a signed format of ``i_bits + f_bits`` bits, ``i_bits`` counting
  the sign bit; ``UQ(i_bits, f_bits)`` is the unsigned twin.
* A value is carried as its *raw* integer (the numerator); the real value is
  ``raw / 2**f_bits``. NumPy code works on raw ``int64`` arrays.
* Narrowing is truncation (floor) unless rounding is asked for; rounding is round half up
  (ties toward +inf), which costs one adder in hardware: add the most significant dropped bit.
* Nothing wraps: every narrowing that can overflow saturates explicitly.
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Shape", "SQ", "UQ",
    "round_shift", "saturate", "signed_width_for", "unsigned_width_for",
    "accumulator_width",
    "ACTIVATION", "WEIGHT", "BIAS", "OUTPUT",
    "GRADIENT", "RELEVANCE_SUM", "RELEVANCE", "SCORE", "THRESHOLD", "LEARNING_RATE",
    "THRESHOLD_DELTA", "ONE",
]


@dataclass(frozen=True)
class Shape:
    """A fixed-point format: ``signed``, ``i_bits`` (sign bit included) and ``f_bits``."""

    signed: bool
    i_bits: int
    f_bits: int

    def __post_init__(self):
        for name in ("i_bits", "f_bits"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TypeError(f"{name} must be a non-negative integer, not {value!r}")
        if self.width == 0 or (self.signed and self.i_bits == 0):
            raise ValueError(f"{self!r} has no room for its value (and sign bit)")

    @property
    def width(self):
        return self.i_bits + self.f_bits

    @property
    def min_raw(self):
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self):
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def one_raw(self):
        """The raw value of 1.0 (it may lie above ``max_raw``, e.g. for ``SQ(1, 15)``)."""
        return 1 << self.f_bits

    def saturate(self, raw):
        """Clamp raw values into this format."""
        return saturate(raw, self)

    def from_float(self, value, *, rounding="half_up"):
        """Quantize real values to raw integers: scale, round (or truncate), saturate."""
        scaled = np.asarray(value, dtype=np.float64) * float(self.one_raw)
        if rounding == "half_up":
            raw = np.floor(scaled + 0.5)
        elif rounding == "trunc":
            raw = np.floor(scaled)
        else:
            raise ValueError(f"rounding must be 'half_up' or 'trunc', not {rounding!r}")
        raw = np.clip(raw, self.min_raw, self.max_raw).astype(np.int64)
        return int(raw) if raw.ndim == 0 else raw

    def to_float(self, raw):
        out = np.asarray(raw, dtype=np.float64) / float(self.one_raw)
        return float(out) if out.ndim == 0 else out

    def __repr__(self):
        return f"{'SQ' if self.signed else 'UQ'}({self.i_bits}, {self.f_bits})"


def SQ(i_bits, f_bits=0):
    """Signed format of ``i_bits + f_bits`` bits; ``i_bits`` includes the sign bit."""
    return Shape(True, i_bits, f_bits)


def UQ(i_bits, f_bits=0):
    """Unsigned format of ``i_bits + f_bits`` bits."""
    return Shape(False, i_bits, f_bits)


def _as_int64(x, name):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, not {x.dtype}")
    return x.astype(np.int64)


def round_shift(x, shift, *, rounding="half_up"):
    """Arithmetic right shift of raw integers by ``shift`` bits, with rounding.

    ``rounding="half_up"`` is ``floor((x + 2**(shift-1)) / 2**shift)``: round to nearest, ties
    toward +inf (in hardware: add the most significant dropped bit). ``"trunc"`` is a plain
    arithmetic shift (floor). ``shift == 0`` returns ``x`` unchanged. The sum needs one bit more
    than ``x``; the NumPy model computes in ``int64`` and requires ``|x| < 2**62``.
    """
    if not isinstance(shift, (int, np.integer)) or isinstance(shift, bool) or not 0 <= shift <= 62:
        raise ValueError(f"shift must be an integer in 0..62, not {shift!r}")
    if rounding not in ("half_up", "trunc"):
        raise ValueError(f"rounding must be 'half_up' or 'trunc', not {rounding!r}")
    x = _as_int64(x, "x")
    shift = int(shift)
    if x.size and int(np.max(np.abs(x))) >= 1 << 62:
        raise ValueError(f"x must lie within +-2**62 for a shift in int64, not {int(np.max(np.abs(x)))}")
    if shift == 0:
        return x
    if rounding == "half_up":
        x = x + (1 << (shift - 1))
    return x >> shift


def saturate(raw, shape):
    """Clamp raw integers into ``shape``'s range (no wrap-around, ever)."""
    return np.clip(_as_int64(raw, "raw"), shape.min_raw, shape.max_raw)


def signed_width_for(lo, hi):
    """Smallest signed width holding every integer in ``lo..hi``."""
    width = 1
    while not (-(1 << (width - 1)) <= lo and hi <= (1 << (width - 1)) - 1):
        width += 1
    return width


def unsigned_width_for(hi):
    """Smallest unsigned width holding every integer in ``0..hi``."""
    return max(1, int(hi).bit_length())


def accumulator_width(*, act_width, weight_width, terms, bias_width):
    """Signed accumulator width that can never overflow.

    The accumulator holds the bias plus ``terms`` products of a signed ``act_width``-bit
    activation and a signed ``weight_width``-bit weight (``terms = K*K*Cin``). The extremes are
    taken over every representable operand, so no input can overflow it.
    """
    for name, value in (("act_width", act_width), ("weight_width", weight_width),
                        ("terms", terms), ("bias_width", bias_width)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    a_lo, a_hi = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    w_lo, w_hi = -(1 << (weight_width - 1)), (1 << (weight_width - 1)) - 1
    products = (a_lo * w_lo, a_lo * w_hi, a_hi * w_lo, a_hi * w_hi)
    b_lo, b_hi = -(1 << (bias_width - 1)), (1 << (bias_width - 1)) - 1
    return signed_width_for(terms * min(products) + b_lo, terms * max(products) + b_hi)


# --- The project's formats -------------------------------------------------------------------
# Convolution datapath: integers (no fractional bits); the requantization shift sets the scale.
ACTIVATION = SQ(8, 0)      #: input activations, signed 8-bit (hardware default; a parameter)
WEIGHT = SQ(8, 0)          #: weights, signed 8-bit (hardware default; a parameter)
BIAS = SQ(16, 0)           #: bias, added to the accumulator before requantization
OUTPUT = SQ(8, 0)          #: requantized output, saturated

# Mask learning. Gradients reach the hardware as SQ(1, 15) after a per-update power-of-two scale
# (see golden.relevance.quantize_gradients); every later quantity is a non-negative fraction.
GRADIENT = SQ(1, 15)       #: dL/dx~ on the stream, in [-1, 1)
RELEVANCE_SUM = UQ(17, 15) #: per-block sum of |g|, saturating (32 bits)
RELEVANCE = UQ(1, 15)      #: per-block mean |g| = floor(sum / count), in [0, 1]
SCORE = UQ(1, 15)          #: normalized score = floor(mean * 2**15 / max mean), in [0, 1]
THRESHOLD = UQ(1, 15)      #: mask threshold, clamped to [0, 1]; mask bit = score >= threshold
LEARNING_RATE = UQ(0, 16)  #: threshold learning rate, [0, 1 - 2**-16]; every code is valid
THRESHOLD_DELTA = SQ(2, 15)  #: (difference of two scores) and the rounded delta

#: raw value of 1.0 in every UQ(1, 15) mask-learning format
ONE = THRESHOLD.one_raw
