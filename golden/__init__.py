"""padmask golden model: the executable specification, in vectorized NumPy.

Every hardware unit of padmask is checked bit for bit against these functions; the number
formats they use are defined once, in :mod:`golden.fixed`, and described in ``docs/spec.md``.
"""

from . import fixed
from .blocks import (block_grid_shape, check_mask, keep_map, padding_blocks, padding_map,
                     random_block_mask)
from .conv import masked_conv2d, masked_input, output_size, requantize
from .padding import MODES, Padding, normalize_padding, pad2d, pad2d_backward
from .relevance import (MaskUpdate, block_relevance, block_relevance_fixed, generate_mask,
                        mask_update, mask_update_fixed, normalize_scores, normalize_scores_fixed,
                        quantize_gradients)
from .threshold import (DIRECTIONS, ThresholdTerms, threshold_update_fixed, update_threshold,
                        update_threshold_fixed)
from .work import WorkCounts, padding_known_zero, skipping_mask, tap_use, work_counts

__all__ = [
    "fixed",
    "MODES", "Padding", "normalize_padding", "pad2d", "pad2d_backward",
    "block_grid_shape", "check_mask", "keep_map", "padding_blocks", "padding_map",
    "random_block_mask",
    "masked_conv2d", "masked_input", "output_size", "requantize",
    "WorkCounts", "tap_use", "work_counts", "padding_known_zero", "skipping_mask",
    "block_relevance", "normalize_scores", "generate_mask", "MaskUpdate", "mask_update",
    "quantize_gradients", "block_relevance_fixed", "normalize_scores_fixed", "mask_update_fixed",
    "DIRECTIONS", "update_threshold", "ThresholdTerms", "threshold_update_fixed",
    "update_threshold_fixed",
]
