"""Block relevance and mask generation, in float and in the hardware's fixed point.

Relevance of a padding block = mean of ``|dL/dx~|`` over its padding pixels, pooled over every
channel and every image of the batch (one mask serves them all). ``x~`` is the masked padded
input; its gradient exists for masked-out pixels too (the gradient with respect to the value the
pixel would contribute), so masked-out blocks keep a score and can come back.

Scores are the relevances divided by the largest one among padding blocks, so they lie in
[0, 1] and the top block scores exactly 1; when every relevance is 0, every score is 0.
Mask bit = score >= threshold for padding blocks; blocks without padding pixels get bit 1.

A mask update (:func:`mask_update`) computes scores from the gradient, the new mask against the
*current* threshold, then the new threshold from that partition (:mod:`golden.threshold`). That is
the order the hardware follows: the mask-generation unit writes the mask, the threshold-update
unit then reads the same scores.
"""

from typing import NamedTuple

import numpy as np

from . import fixed
from ._check import as_array, check_int
from .blocks import block_grid_shape, padding_map
from .padding import normalize_padding
from .threshold import threshold_update_fixed, update_threshold

__all__ = ["block_relevance", "normalize_scores", "generate_mask", "MaskUpdate", "mask_update",
           "quantize_gradients", "block_relevance_fixed", "normalize_scores_fixed",
           "mask_update_fixed"]


def _frame_of(grad, padding):
    p = normalize_padding(padding)
    hp, wp = grad.shape[-2:]
    height, width = hp - p.top - p.bottom, wp - p.left - p.right
    if height < 1 or width < 1:
        raise ValueError(f"grad must have the padded frame's shape, not {grad.shape[-2:]} "
                         f"for padding {tuple(p)}")
    return height, width


def _block_sums(magnitude, padding, block):
    """Per-block sums of ``magnitude`` (``(..., Hp, Wp)``) over padding pixels, and pixel counts.

    Returns ``(sums, counts, pad_blocks)`` as block grids; counts include the leading axes.
    """
    block = check_int("block", block, minimum=1)
    height, width = _frame_of(magnitude, padding)
    grid = block_grid_shape(height, width, padding, block)
    pad = padding_map(height, width, padding)
    hp, wp = pad.shape
    index = (np.arange(hp)[:, None] // block) * grid[1] + np.arange(wp)[None, :] // block
    frames = int(np.prod(magnitude.shape[:-2], dtype=np.int64))
    pooled = magnitude.reshape(-1, hp, wp).sum(axis=0)
    size = grid[0] * grid[1]
    if np.issubdtype(pooled.dtype, np.integer):  # exact (bincount weights would be float64)
        sums = np.zeros(size, dtype=np.int64)
        np.add.at(sums, index[pad], pooled[pad])
    else:
        sums = np.bincount(index[pad], weights=pooled[pad], minlength=size)
    counts = np.bincount(index[pad], minlength=size) * frames
    return sums.reshape(grid), counts.reshape(grid), counts.reshape(grid) > 0


def block_relevance(grad, padding, block):
    """Float relevance: mean ``|grad|`` per block over its padding pixels.

    ``grad`` has the padded shape ``(..., Hp, Wp)``. Returns ``(relevance, pad_blocks)``;
    relevance is 0 for blocks without padding pixels.
    """
    grad = as_array("grad", grad).astype(np.float64)
    sums, counts, pad_blocks = _block_sums(np.abs(grad), padding, block)
    return np.where(pad_blocks, sums / np.maximum(counts, 1), 0.0), pad_blocks


def normalize_scores(relevance, pad_blocks):
    """Divide by the largest relevance among padding blocks (all zero if that is 0)."""
    relevance = np.where(pad_blocks, relevance, 0.0)
    top = relevance.max(initial=0.0)
    return relevance / top if top > 0 else np.zeros_like(relevance)


def generate_mask(scores, threshold, pad_blocks):
    """Mask bits: ``scores >= threshold`` on padding blocks, 1 elsewhere (float or raw codes)."""
    return np.where(pad_blocks, np.asarray(scores) >= threshold, True)


class MaskUpdate(NamedTuple):
    mask: np.ndarray        #: new block mask (bool grid)
    threshold: object       #: new threshold (float, or raw int on the fixed path)
    scores: np.ndarray      #: normalized scores (float, or raw ints)
    relevance: np.ndarray   #: per-block mean |g| (float, or raw ints)
    pad_blocks: np.ndarray  #: blocks that hold padding pixels


def mask_update(grad, padding, block, threshold, learning_rate, direction="pseudocode",
                target=None):
    """One float mask update: scores, mask against ``threshold``, then the new threshold
    (``target``: the density rule's share of included padding blocks)."""
    relevance, pad_blocks = block_relevance(grad, padding, block)
    scores = normalize_scores(relevance, pad_blocks)
    mask = generate_mask(scores, threshold, pad_blocks)
    new = update_threshold(scores[pad_blocks & ~mask], scores[pad_blocks & mask], threshold,
                           learning_rate, direction, target)
    return MaskUpdate(mask, new, scores, relevance, pad_blocks)


def quantize_gradients(grad):
    """Scale gradients by a power of two and quantize to :data:`golden.fixed.GRADIENT`.

    Returns ``(raw, exponent)`` with ``raw ~= grad * 2**exponent * 2**15``; the exponent puts the
    largest magnitude in [0.5, 1). Scores are ratios of relevances, so a common power-of-two scale
    changes nothing but the quantization step. All-zero gradients give exponent 0.
    """
    grad = as_array("grad", grad).astype(np.float64)
    top = float(np.max(np.abs(grad), initial=0.0))
    if not np.isfinite(top):
        raise ValueError("grad must be finite")
    exponent = 0 if top == 0 else -int(np.frexp(top)[1])
    return fixed.GRADIENT.from_float(np.ldexp(grad, exponent)), exponent


def block_relevance_fixed(grad, padding, block, *, sum_shape=fixed.RELEVANCE_SUM):
    """Fixed-point relevance from raw :data:`golden.fixed.GRADIENT` codes.

    Per block: ``sum |g|`` saturating at ``sum_shape`` (the hardware adds one value per cycle
    with saturation; as every term is non-negative that equals ``min(total, max)``), then
    ``floor(sum / count)``. Returns ``(relevance_raw, pad_blocks)``.
    """
    grad = as_array("grad", grad)
    if not np.issubdtype(grad.dtype, np.integer):
        raise TypeError(f"grad must hold raw {fixed.GRADIENT!r} codes, not {grad.dtype}")
    grad = grad.astype(np.int64)
    if grad.size and (grad.min() < fixed.GRADIENT.min_raw or grad.max() > fixed.GRADIENT.max_raw):
        raise ValueError(f"grad must hold {fixed.GRADIENT!r} codes, not values in "
                         f"{grad.min()}..{grad.max()}")
    sums, counts, pad_blocks = _block_sums(np.abs(grad), padding, block)
    sums = np.minimum(sums, sum_shape.max_raw)
    return np.where(pad_blocks, sums // np.maximum(counts, 1), 0), pad_blocks


def normalize_scores_fixed(relevance, pad_blocks):
    """``floor(relevance * 2**15 / max relevance)`` (raw ``UQ(1, 15)``; all 0 if the max is 0)."""
    relevance = np.where(pad_blocks, np.asarray(relevance, dtype=np.int64), 0)
    top = int(relevance.max(initial=0))
    if top == 0:
        return np.zeros_like(relevance)
    return (relevance * fixed.ONE) // top


def mask_update_fixed(grad, padding, block, threshold, learning_rate, direction="pseudocode",
                      target=None):
    """One fixed-point mask update on raw codes; the hardware's bit-exact twin."""
    relevance, pad_blocks = block_relevance_fixed(grad, padding, block)
    scores = normalize_scores_fixed(relevance, pad_blocks)
    mask = generate_mask(scores, threshold, pad_blocks)
    terms = threshold_update_fixed(scores[pad_blocks & ~mask], scores[pad_blocks & mask],
                                   threshold, learning_rate, direction, target)
    return MaskUpdate(mask, terms.threshold, scores, relevance, pad_blocks)
