"""A trained masked-convolution layer as the core runs it: power-of-two quantization.

The core computes integers: int8 activations and weights (:data:`fixed.ACTIVATION`,
:data:`fixed.WEIGHT`), a 16-bit bias (:data:`fixed.BIAS`) added to the accumulator, and an
int8 output after a rounding right shift (:func:`golden.requantize`). A float layer maps onto
it with three power-of-two scales, each the largest that keeps its calibration data in range:

* activations ``x_q = saturate(floor(x * 2**fx + 0.5))`` into ``ACTIVATION`` (round half up),
  ``fx`` the largest exponent with ``round(max |x| * 2**fx) <= 127`` over the calibration
  inputs (later inputs beyond that range saturate);
* weights ``w_q = saturate(floor(w * 2**fw + 0.5))`` into ``WEIGHT``, ``fw`` likewise over the
  weights;
* bias ``b_q = saturate(floor(b * 2**(fx + fw) + 0.5))`` into ``BIAS`` (its scale is the
  accumulator's);
* the output shift ``s`` is the smallest with ``requantize(acc, s) <= 127`` for the largest
  accumulator over the calibration inputs. Only the positive side counts: the layer is
  followed by ReLU, so outputs that saturate at -128 read as 0 either way.

The output means ``y = y_q * 2**(s - fx - fw)``. Exponents may be negative (a scale of
``2**-1`` halves); ``fx``, ``fw`` lie in -16..24.
"""

from dataclasses import dataclass

import numpy as np

from . import fixed
from .conv import masked_conv2d, requantize

__all__ = ["QuantizedLayer", "quantize_layer", "scale_exponent"]


def scale_exponent(values, shape):
    """Largest ``f`` (-16..24) with ``round(max |values| * 2**f)`` in ``shape``'s range."""
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    for f in range(24, -17, -1):
        if np.floor(peak * 2.0 ** f + 0.5) <= shape.max_raw:
            return f
    raise ValueError(f"values up to {peak} do not fit {shape} at any scale 2**-16 .. 2**24")


def _quantize(values, exponent, shape):
    scaled = np.floor(np.asarray(values, dtype=np.float64) * 2.0 ** exponent + 0.5)
    return np.clip(scaled, shape.min_raw, shape.max_raw).astype(np.int64)   # (saturate)


@dataclass(frozen=True)
class QuantizedLayer:
    w: np.ndarray         #: int8 weights (Cout, Cin, K, K)
    bias: np.ndarray      #: int16 biases (Cout,)
    fx: int               #: activation exponent: x_q = x * 2**fx
    fw: int               #: weight exponent
    shift: int            #: requantization shift
    padding: tuple
    mode: str
    block: int

    def quantize_input(self, x):
        """Float activations -> int8 codes (round half up, saturate)."""
        return _quantize(x, self.fx, fixed.ACTIVATION)

    def accumulate(self, x_q, mask):
        """Exact accumulators of int8 inputs ``(N, C, H, W)`` with the block mask."""
        return masked_conv2d(x_q, self.w, bias=self.bias, padding=self.padding,
                             mode=self.mode, mask=mask, block=self.block)

    def forward(self, x_q, mask):
        """The core's int8 outputs."""
        return requantize(self.accumulate(x_q, mask), self.shift)

    def dequantize(self, y_q):
        return np.asarray(y_q, dtype=np.float64) * 2.0 ** (self.shift - self.fx - self.fw)


def quantize_layer(w, bias, calibration, *, padding, mode, block, mask=None):
    """Quantize the float layer ``(w, bias)`` with the inputs ``calibration`` ``(N, C, H, W)``
    (and the block ``mask`` they run with)."""
    fx = scale_exponent(calibration, fixed.ACTIVATION)
    fw = scale_exponent(w, fixed.WEIGHT)
    w_q = _quantize(w, fw, fixed.WEIGHT)
    b_q = _quantize(bias, fx + fw, fixed.BIAS)
    layer = QuantizedLayer(w_q, b_q, fx, fw, 0, padding, mode, block)
    acc = layer.accumulate(layer.quantize_input(calibration), mask)
    peak = int(acc.max(initial=0))
    shift = 0
    while fixed.round_shift(np.int64(peak), shift) > fixed.OUTPUT.max_raw:
        shift += 1
    return QuantizedLayer(w_q, b_q, fx, fw, shift, padding, mode, block)
