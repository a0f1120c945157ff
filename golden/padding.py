"""On-the-fly padding of feature maps: modes zero, constant, replicate and reflect.

Semantics match ``torch.nn.functional.pad`` for the same modes (reflect excludes the edge
pixel, so a pad must be smaller than the frame on that axis). Pads are given as
``(top, bottom, left, right)``; a single int means all four sides.

Padding is separable: a padded pixel ``(i, j)`` takes its value from source row ``rows[i]`` and
source column ``cols[j]`` (see :func:`source_indices`), or from the constant when it lies
outside the frame in zero/constant mode. The hardware window generator uses the same index maps.
"""

from typing import NamedTuple

import numpy as np

from ._check import as_array, check_choice, check_int

__all__ = ["MODES", "Padding", "normalize_padding", "source_indices", "pad2d", "pad2d_backward"]

MODES = ("zero", "constant", "replicate", "reflect")


class Padding(NamedTuple):
    top: int
    bottom: int
    left: int
    right: int


def normalize_padding(padding):
    """``int`` or 4-sequence ``(top, bottom, left, right)`` -> :class:`Padding`."""
    if isinstance(padding, (tuple, list, Padding)):
        if len(padding) != 4:
            raise ValueError(f"padding must be an int or (top, bottom, left, right), not {padding!r}")
        sides = padding
    else:
        sides = (padding,) * 4
    for side in sides:
        if isinstance(side, bool) or not isinstance(side, (int, np.integer)):
            raise TypeError(f"padding must be an int or (top, bottom, left, right), not {padding!r}")
        if side < 0:
            raise ValueError(f"padding must be non-negative, not {padding!r}")
    return Padding(*(int(s) for s in sides))


def _axis_indices(size, before, after, mode, axis_name):
    src = np.arange(-before, size + after)
    if mode == "reflect":
        if before >= size or after >= size:
            raise ValueError(
                f"padding must be smaller than the frame {axis_name} ({size}) in reflect mode, "
                f"not {max(before, after)}")
        src = np.abs(src)
        src = np.where(src > size - 1, 2 * (size - 1) - src, src)
    else:
        src = np.clip(src, 0, size - 1)
    return src


def source_indices(height, width, padding, mode):
    """Source row and column of every padded pixel, and the padding-pixel map.

    Returns ``(rows, cols, is_padding)``: ``rows`` has ``Hp`` entries, ``cols`` has ``Wp``,
    ``is_padding`` is a boolean ``(Hp, Wp)`` map. In zero/constant mode the indices of padding
    pixels are clamped (their value comes from the constant, not from the frame).
    """
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    check_choice("mode", mode, MODES)
    p = normalize_padding(padding)
    rows = _axis_indices(height, p.top, p.bottom, mode, "height")
    cols = _axis_indices(width, p.left, p.right, mode, "width")
    row_pad = (np.arange(rows.size) < p.top) | (np.arange(rows.size) >= p.top + height)
    col_pad = (np.arange(cols.size) < p.left) | (np.arange(cols.size) >= p.left + width)
    return rows, cols, row_pad[:, None] | col_pad[None, :]


def _check_pad_value(pad_value, dtype):
    if isinstance(pad_value, bool) or not isinstance(pad_value, (int, float, np.number)):
        raise TypeError(f"pad_value must be a number, not {pad_value!r}")
    if np.issubdtype(dtype, np.integer):
        if float(pad_value) != int(pad_value):
            raise ValueError(f"pad_value must be an integer for integer input, not {pad_value!r}")
        info = np.iinfo(dtype)
        if not info.min <= int(pad_value) <= info.max:
            raise ValueError(f"pad_value must fit the input dtype {dtype} "
                             f"({info.min}..{info.max}), not {pad_value!r}")
        return int(pad_value)
    return float(pad_value)


def pad2d(x, padding, mode="zero", pad_value=0):
    """Pad the last two axes of ``x`` (``(C, H, W)``, ``(N, C, H, W)``, or any ``(..., H, W)``).

    The result keeps ``x``'s dtype. ``pad_value`` is used by mode ``"constant"`` only.
    """
    x = as_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (..., H, W), not shape {x.shape}")
    if x.dtype == bool:
        x = x.astype(np.int64)
    check_choice("mode", mode, MODES)
    value = _check_pad_value(pad_value, x.dtype) if mode == "constant" else 0
    height, width = x.shape[-2:]
    rows, cols, _ = source_indices(height, width, padding, mode)
    p = normalize_padding(padding)
    out = np.empty(x.shape[:-2] + (rows.size, cols.size), dtype=x.dtype)
    # The interior is one block copy; only the thin padding bands are gathered.
    out[..., p.top:p.top + height, p.left:p.left + width] = x
    if mode in ("zero", "constant"):
        out[..., :p.top, :] = value
        out[..., p.top + height:, :] = value
        out[..., :, :p.left] = value
        out[..., :, p.left + width:] = value
    else:
        band = out[..., p.top:p.top + height, :]
        band[..., :p.left] = x[..., cols[:p.left]]
        band[..., p.left + width:] = x[..., cols[p.left + width:]]
        out[..., :p.top, :] = out[..., rows[:p.top] + p.top, :]
        out[..., p.top + height:, :] = out[..., rows[p.top + height:] + p.top, :]
    return out


def pad2d_backward(grad, height, width, padding, mode="zero"):
    """Gradient of :func:`pad2d` with respect to its input, given the gradient of its output.

    Zero/constant padding pixels do not depend on the input, so their gradient is dropped;
    replicate/reflect padding pixels add their gradient to the source pixel they copy.
    """
    grad = np.asarray(grad, dtype=np.float64)
    rows, cols, is_padding = source_indices(height, width, padding, mode)
    if grad.shape[-2:] != is_padding.shape:
        raise ValueError(f"grad must end in the padded shape {is_padding.shape}, "
                         f"not {grad.shape[-2:]}")
    # One-hot source matrices make the scatter-add two small matrix products.
    row_onehot = np.zeros((rows.size, height))
    row_onehot[np.arange(rows.size), rows] = 1.0
    col_onehot = np.zeros((cols.size, width))
    col_onehot[np.arange(cols.size), cols] = 1.0
    if mode in ("zero", "constant"):
        grad = np.where(is_padding, 0.0, grad)
    return row_onehot.T @ grad @ col_onehot
