"""Masked convolution: the arithmetic the MAC array must reproduce bit for bit.

``masked_conv2d`` pads the frame on the fly, drops the padding pixels whose block bit is 0 and
cross-correlates with the kernel (like ``torch.nn.functional.conv2d``). Integer inputs take the
exact path (``int64`` accumulators, bias added); float inputs take ``float64``.

Exactness of the fast integer path: every term is an integer and every partial sum of a dot
product is bounded by ``B = K*K*Cin * max|x~| * max|w|``. Floating point represents every integer
up to ``2**24`` (float32) or ``2**53`` (float64) exactly, and the sum of two exactly represented
integers whose result is within that range is exact, in any order of summation. So a BLAS GEMM in
float32 is exact when ``B <= 2**24`` (int8 data: ``Cin*K*K <= 1024``), in float64 when
``B <= 2**53``; beyond that the model uses int64 arithmetic. The bound is checked on the actual
data, never assumed.
"""

import math
import threading

import numpy as np

from . import fixed
from ._check import as_array, check_choice, check_int, is_integer_array
from .blocks import keep_map
from .padding import MODES, normalize_padding, pad2d

__all__ = ["masked_conv2d", "masked_input", "output_size", "correlate", "conv_padded",
           "requantize", "conv2d_backward"]

_FLOAT32_EXACT = 1 << 24
_FLOAT64_EXACT = 1 << 53


def output_size(padded, kernel, stride):
    """Output length along one axis: ``(padded - kernel) // stride + 1``."""
    if kernel > padded:
        raise ValueError(f"kernel size ({kernel}) must not exceed the padded frame ({padded})")
    return (padded - kernel) // stride + 1


def _check_input(x):
    x = as_array("x", x)
    if x.ndim not in (3, 4):
        raise ValueError(f"x must have shape (C, H, W) or (N, C, H, W), not {x.shape}")
    if x.dtype == bool:
        x = x.astype(np.int64)
    return x


def masked_input(x, *, padding=0, mode="zero", pad_value=0, mask=None, block=4):
    """The masked padded input ``x~``: padded frame with masked-out padding pixels set to 0.

    Returns ``(x_tilde, keep)`` where ``keep`` is the boolean ``(Hp, Wp)`` map of pixels that
    take part. ``x_tilde`` keeps ``x``'s dtype.
    """
    x = _check_input(x)
    check_choice("mode", mode, MODES)
    block = check_int("block", block, minimum=1)
    padding = normalize_padding(padding)
    keep = keep_map(x.shape[-2], x.shape[-1], padding, mask, block)
    xp = pad2d(x, padding, mode, pad_value)
    if not keep.all():
        xp[..., ~keep] = 0
    return xp, keep


_scratch = threading.local()
_SCRATCH_LIMIT = 64 << 20  # bytes; larger temporaries are not kept between calls
_GROUP_BYTES = 4 << 20     # bytes of GEMM product per group of images (about L2; measured best)


def _scratch_array(name, shape, dtype):
    """A reusable per-thread temporary.

    Fresh pages cost more than the arithmetic on them here (a page fault per 4 KiB), so the
    large temporaries of :func:`correlate` are kept between calls, up to ``_SCRATCH_LIMIT``.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    if size > _SCRATCH_LIMIT:
        return np.empty(shape, dtype)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size:
        buffer = buffers[name] = np.empty(size, np.uint8)
    return buffer[:size].view(dtype).reshape(shape)


def correlate(xp, w, stride, dtype, *, out_dtype, bias=None):
    """Cross-correlate ``xp`` ``(N, C, Hp, Wp)`` with ``w`` ``(Co, C, K, K)`` computing in ``dtype``.

    Returns a fresh ``(N, Co, Ho, Wo)`` array of ``out_dtype``; ``bias`` (``(Co,)``), if given,
    is added in ``dtype``. Layout: the padded rows are split by phase (row mod stride) and the K
    column taps of each channel are laid side by side, so one GEMM ``(K*Co, C*K) @ (C*K, rows)``
    per group of images computes every row tap of every output; each output then adds K row-shifted
    slices of that product. Groups are sized to keep the product in cache.
    """
    n, c, hp, wp = xp.shape
    co, _, k, _ = w.shape
    ho, wo = output_size(hp, k, stride), output_size(wp, k, stride)
    hq = -(-hp // stride)
    row_len, span = stride * hq * wo, ho * wo
    cols = _scratch_array("cols", (c, k, n, stride, hq, wo), dtype)
    for phase in range(stride):
        rows = xp[:, :, phase::stride].transpose(1, 0, 2, 3)  # (C, N, rows of this phase, Wp)
        for kx in range(k):
            cols[:, kx, :, phase, :rows.shape[2]] = rows[..., kx:kx + stride * (wo - 1) + 1:stride]
        # A phase may be one row short; the GEMM reads that row too (its products are never
        # used), so it must hold numbers, not stale scratch bits.
        cols[:, :, :, phase, rows.shape[2]:] = 0
    flat = cols.reshape(c * k, n, row_len)
    taps = np.ascontiguousarray(w.transpose(2, 0, 1, 3), dtype=dtype).reshape(k * co, c * k)
    starts = [((ky % stride) * hq + ky // stride) * wo for ky in range(k)]
    bias = None if bias is None else np.asarray(bias, dtype=dtype).reshape(co, 1, 1)
    out = np.empty((n, co, span), dtype=out_dtype)
    group = max(1, _GROUP_BYTES // (k * co * row_len * np.dtype(dtype).itemsize))
    for first in range(0, n, group):
        last = min(n, first + group)
        m = last - first
        product = _scratch_array("product", (k * co, m * row_len), dtype)
        np.matmul(taps, flat[:, first:last].reshape(c * k, m * row_len), out=product)
        product = product.reshape(k, co, m, row_len)
        terms = [product[ky, :, :, starts[ky]:starts[ky] + span] for ky in range(k)]
        if bias is not None:
            terms.append(bias)
        dst = out[first:last].transpose(1, 0, 2)
        running = terms[0]
        if len(terms) > 2:
            acc = _scratch_array("acc", (co, m, span), dtype)
            for term in terms[1:-1]:
                np.add(running, term, out=acc)
                running = acc
        if len(terms) == 1:
            np.copyto(dst, running, casting="unsafe")
        else:  # the last addition also converts to the output dtype
            np.add(running, terms[-1], out=dst, casting="unsafe")
    return out.reshape(n, co, ho, wo)


def conv_padded(xp, w, stride, bias=None):
    """Float64 cross-correlation of an already padded ``(N, C, Hp, Wp)`` input; a fresh array."""
    return correlate(xp, w, stride, np.float64, out_dtype=np.float64, bias=bias)


def _check_kernel(w, channels, integer):
    w = as_array("w", w)
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"w must have shape (Cout, Cin, K, K), not {w.shape}")
    if w.shape[2] < 1 or w.shape[0] < 1:
        raise ValueError(f"w must have a positive kernel size and Cout, not shape {w.shape}")
    if w.shape[1] != channels:
        raise ValueError(f"w must have Cin = {channels} to match x, not {w.shape[1]}")
    if integer and not is_integer_array(w):
        raise TypeError(f"w must hold integers for integer input, not {w.dtype}")
    return w


def _check_bias(bias, cout, integer):
    if bias is None:
        return None
    bias = as_array("bias", bias)
    if bias.shape != (cout,):
        raise ValueError(f"bias must have shape ({cout},), not {bias.shape}")
    if integer and not is_integer_array(bias):
        raise TypeError(f"bias must hold integers for integer input, not {bias.dtype}")
    return bias


def masked_conv2d(x, w, *, bias=None, stride=1, padding=0, mode="zero", pad_value=0,
                  mask=None, block=4):
    """Convolution with dynamic padding masking.

    Parameters
    ----------
    x : array ``(C, H, W)`` or ``(N, C, H, W)``; integer dtype selects the exact integer path.
    w : array ``(Cout, Cin, K, K)``; must hold integers on the integer path.
    bias : array ``(Cout,)`` or None; added to the accumulator.
    stride : 1 or 2.
    padding : int or ``(top, bottom, left, right)``.
    mode : ``"zero"``, ``"constant"``, ``"replicate"`` or ``"reflect"``.
    pad_value : the constant of mode ``"constant"``.
    mask : boolean block grid of shape :func:`golden.block_grid_shape`, or None (all included).
    block : block edge in pixels.

    Returns
    -------
    ``int64`` accumulators (integer path) or ``float64`` (float path), shape
    ``([N,] Cout, Hout, Wout)``.
    """
    x = _check_input(x)
    integer = is_integer_array(x)
    stride = check_int("stride", stride, choices=(1, 2))
    w = _check_kernel(w, x.shape[-3], integer)
    bias = _check_bias(bias, w.shape[0], integer)
    xp, _ = masked_input(x, padding=padding, mode=mode, pad_value=pad_value, mask=mask, block=block)
    single = xp.ndim == 3
    if single:
        xp = xp[None]
    k = w.shape[2]
    output_size(xp.shape[2], k, stride)
    output_size(xp.shape[3], k, stride)
    if integer:
        xmax = max(abs(int(xp.min())), abs(int(xp.max())))
        wmax = max(abs(int(w.min())), abs(int(w.max())))
        bound = k * k * xp.shape[1] * xmax * wmax
        bias_max = 0 if bias is None else int(np.max(np.abs(bias.astype(np.int64))))
        if bound + bias_max >= 1 << 62:
            raise ValueError(f"x, w and bias are too large for an int64 accumulator "
                             f"(bound {bound + bias_max} >= 2**62)")
        dtype = np.float32 if bound <= _FLOAT32_EXACT else (
            np.float64 if bound <= _FLOAT64_EXACT else np.int64)
        # The bias joins the float sum only while the sum stays exact.
        fold = bias is not None and dtype != np.int64 and bound + bias_max <= (
            _FLOAT32_EXACT if dtype == np.float32 else _FLOAT64_EXACT)
        out = correlate(xp, w, stride, dtype, out_dtype=np.int64, bias=bias if fold else None)
        if bias is not None and not fold:
            out += bias.astype(np.int64)[None, :, None, None]
    else:
        out = conv_padded(xp, w, stride, bias)
    return out[0] if single else out


def requantize(acc, shift, *, width=fixed.OUTPUT.width):
    """Accumulator (bias included) -> output: round-half-up right shift, then saturate.

    ``y = clamp(floor((acc + 2**(shift-1)) / 2**shift), -2**(width-1), 2**(width-1) - 1)``;
    with ``shift = 0`` no rounding happens. This is the only requantization in padmask: the MAC
    array's output stage computes exactly this.
    """
    width = check_int("width", width, minimum=1)
    return fixed.saturate(fixed.round_shift(acc, shift), fixed.SQ(width, 0))


def conv2d_backward(xp, w, grad_y, stride):
    """Gradients of ``y = correlate(xp, w)`` (float64): ``(grad_xp, grad_w)``.

    ``grad_xp`` is the gradient with respect to the (masked, padded) input ``x~``; it is defined
    for every pixel, masked-out ones included (the gradient with respect to the value that pixel
    would contribute).
    """
    n, c, hp, wp = xp.shape
    co, _, k, _ = w.shape
    ho, wo = grad_y.shape[2], grad_y.shape[3]
    grad_xp = np.zeros(xp.shape, dtype=np.float64)
    grad_w = np.empty(w.shape, dtype=np.float64)
    gy = grad_y.transpose(1, 0, 2, 3).reshape(co, -1)  # (Co, N*Ho*Wo)
    for ky in range(k):
        for kx in range(k):
            window = xp[:, :, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            grad_w[:, :, ky, kx] = gy @ window.transpose(1, 0, 2, 3).reshape(c, -1).T
            back = (w[:, :, ky, kx].T @ gy).reshape(c, n, ho, wo).transpose(1, 0, 2, 3)
            grad_xp[:, :, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride] += back
    return grad_xp, grad_w
