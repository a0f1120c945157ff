"""Block geometry of the padding mask.

The padded frame (``Hp = H + top + bottom``, ``Wp = W + left + right``) is tiled by
``block x block`` squares starting at its top-left pixel; the mask holds one bit per tile,
shape ``(ceil(Hp / block), ceil(Wp / block))``. A bit applies only to the padding pixels in its
tile: interior pixels are always included, so a tile without padding pixels is never masked,
whatever its bit. One mask serves every channel and every image of a batch.
"""

import numpy as np

from ._check import check_int
from .padding import normalize_padding, source_indices

__all__ = ["block_grid_shape", "padding_map", "padding_blocks", "check_mask", "keep_map",
           "random_block_mask"]


def block_grid_shape(height, width, padding, block):
    """Shape ``(ceil(Hp / block), ceil(Wp / block))`` of the block mask."""
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    block = check_int("block", block, minimum=1)
    p = normalize_padding(padding)
    hp, wp = height + p.top + p.bottom, width + p.left + p.right
    return (-(-hp // block), -(-wp // block))


def padding_map(height, width, padding):
    """Boolean ``(Hp, Wp)`` map, True on padding pixels."""
    return source_indices(height, width, padding, "zero")[2]


def _block_index(shape, block):
    rows = np.arange(shape[0]) // block
    cols = np.arange(shape[1]) // block
    return rows, cols


def padding_blocks(height, width, padding, block):
    """Boolean block grid, True for blocks holding at least one padding pixel."""
    grid = block_grid_shape(height, width, padding, block)
    pad = padding_map(height, width, padding)
    rows, cols = _block_index(pad.shape, block)
    out = np.zeros(grid, dtype=bool)
    np.logical_or.at(out, (rows[:, None], cols[None, :]), pad)
    return out


def random_block_mask(height, width, padding, block, included, rng):
    """A block mask that includes exactly ``included`` padding blocks, drawn uniformly by
    ``rng`` (a numpy Generator); blocks without padding are 1. The baseline of a learned mask
    with that many blocks included: the same density, blocks chosen by chance."""
    pad = padding_blocks(height, width, padding, block)
    included = check_int("included", included, minimum=0)
    if included > pad.sum():
        raise ValueError(f"included must be at most the {int(pad.sum())} padding blocks, "
                         f"not {included}")
    mask = ~pad
    chosen = rng.choice(np.flatnonzero(pad), size=included, replace=False)
    mask.flat[chosen] = True
    return mask


def check_mask(mask, height, width, padding, block):
    """Validate a block mask (``None`` = every block included) and return it as booleans."""
    grid = block_grid_shape(height, width, padding, block)
    if mask is None:
        return np.ones(grid, dtype=bool)
    array = np.asarray(mask)
    if array.shape != grid:
        raise ValueError(f"mask must have shape {grid} for this frame, padding and block, "
                         f"not {array.shape}")
    if array.dtype != bool:
        if not np.issubdtype(array.dtype, np.number) or not np.isin(array, (0, 1)).all():
            raise ValueError("mask must hold booleans or 0/1 values, not "
                             f"{np.unique(array)[:8].tolist()!r}")
        array = array.astype(bool)
    return array


def keep_map(height, width, padding, mask, block):
    """Boolean ``(Hp, Wp)`` map of pixels that take part in the convolution."""
    mask = check_mask(mask, height, width, padding, block)
    pad = padding_map(height, width, padding)
    rows, cols = _block_index(pad.shape, block)
    return ~pad | mask[rows[:, None], cols[None, :]]
