"""Threshold update: the seed's pseudocode in float, and its fixed-point twin; a density rule.

Float (the seed, verbatim)::

    avg_out = mean(masked_out); avg_in = mean(included)
    delta = (avg_out - avg_in) * learning_rate
    threshold = clamp(threshold + delta, 0, 1)

``direction="pseudocode"`` (default) is that rule. With mask = score >= threshold every masked-out
score is below every included one, so ``avg_out <= avg_in`` and this rule can only lower the
threshold. ``direction="prose"`` follows the seed's prose instead: when masked-out blocks carry
more gradient, *include more padding*; since raising the threshold includes less, the prose's
intent is ``threshold -= (avg_out - avg_in) * learning_rate``, which can only raise it.

``direction="density"`` is the user's knob, not the seed's: it steers the threshold toward a
chosen share ``target`` of included padding blocks, by the same step::

    share = n_in / (n_in + n_out)
    delta = (share - target) * learning_rate
    threshold = clamp(threshold + delta, 0, 1)

Too many blocks included raises the threshold (fewer scores reach it), too few lowers it. The
mask keeps the blocks with the highest relevance; only how many is chosen. On fixed scores the
threshold stops where the share equals the target (or the step rounds to 0); otherwise the
included count alternates between the two counts next to ``target * n``.

Empty sets (no masked-out block, or no included block): there is nothing to compare, the
threshold is returned unchanged (the pseudocode would produce NaN). The density rule needs only
one padding block; with none it returns the threshold unchanged.

Fixed point (hardware twin; formats in :mod:`golden.fixed`): scores and the threshold are
``UQ(1, 15)`` raw codes in ``0..2**15``, the learning rate ``UQ(0, 16)``::

    avg_out = floor(sum(out) / n_out)                       UQ(1, 15)
    avg_in  = floor(sum(in) / n_in)                         UQ(1, 15)
    gap     = avg_out - avg_in   (prose: avg_in - avg_out)  SQ(2, 15)
    delta   = round_half_up(gap * lr / 2**16)               SQ(2, 15)
    threshold = clamp(threshold + delta, 0, 2**15)          UQ(1, 15)

and for the density rule (``target`` a ``UQ(1, 15)`` code, the second division replaced)::

    share = floor(n_in * 2**15 / (n_in + n_out))            UQ(1, 15)
    gap   = share - target                                  SQ(2, 15)

then ``delta`` and the clamp as above. Its terms report ``avg_in`` 0 (not computed) and the
comparison rules report ``share`` 0.
"""

from typing import NamedTuple

import numpy as np

from . import fixed
from ._check import check_choice

__all__ = ["DIRECTIONS", "update_threshold", "ThresholdTerms", "threshold_update_fixed",
           "update_threshold_fixed"]

DIRECTIONS = ("pseudocode", "prose", "density")


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, not {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, not {value!r}")
    return value


def _target(direction, target, convert):
    if direction != "density":
        return None
    if target is None:
        raise ValueError("target must be given for direction 'density'")
    return convert(target)


def update_threshold(masked_out_gradients, included_gradients, threshold, learning_rate,
                     direction="pseudocode", target=None):
    """The seed's threshold update (float), or the density rule toward ``target`` (a share of
    included padding blocks in [0, 1]). See the module docstring."""
    threshold = _real("threshold", threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], not {threshold!r}")
    learning_rate = _real("learning_rate", learning_rate)
    if learning_rate < 0:
        raise ValueError(f"learning_rate must be non-negative, not {learning_rate!r}")
    check_choice("direction", direction, DIRECTIONS)
    target = _target(direction, target, lambda t: _share("target", t))
    out = np.asarray(masked_out_gradients, dtype=np.float64).ravel()
    inc = np.asarray(included_gradients, dtype=np.float64).ravel()
    if direction == "density":
        if out.size + inc.size == 0:
            return threshold
        gap = inc.size / (out.size + inc.size) - target
        return float(min(1.0, max(0.0, threshold + gap * learning_rate)))
    if out.size == 0 or inc.size == 0:
        return threshold
    gap = out.mean() - inc.mean()
    if direction == "prose":
        gap = -gap
    return float(min(1.0, max(0.0, threshold + gap * learning_rate)))


def _share(name, value):
    value = _real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], not {value!r}")
    return value


class ThresholdTerms(NamedTuple):
    """Every intermediate of the fixed-point update (raw codes), for checking hardware."""
    threshold: int
    avg_out: int
    avg_in: int     #: 0 under the density rule (its second division computes the share)
    delta: int
    share: int = 0  #: density rule only: floor(n_in * 2**15 / (n_in + n_out))


def _raw_scores(name, values):
    values = np.asarray(values).ravel()
    if values.size and not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"{name} must hold raw integer codes, not {values.dtype}")
    values = values.astype(np.int64)
    if values.size and (values.min() < 0 or values.max() > fixed.ONE):
        raise ValueError(f"{name} must be {fixed.SCORE!r} codes within 0..{fixed.ONE}, "
                         f"not {values.min()}..{values.max()}")
    return values


def _raw_int(name, value, lo, hi, shape):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a raw {shape!r} integer code, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be a {shape!r} code within {lo}..{hi}, not {value!r}")
    return int(value)


def threshold_update_fixed(masked_out_scores, included_scores, threshold, learning_rate,
                           direction="pseudocode", target=None):
    """Fixed-point threshold update with its intermediates; ``target`` (density rule only) is a
    raw ``UQ(1, 15)`` code. See the module docstring."""
    threshold = _raw_int("threshold", threshold, 0, fixed.ONE, fixed.THRESHOLD)
    learning_rate = _raw_int("learning_rate", learning_rate, 0, fixed.LEARNING_RATE.max_raw,
                             fixed.LEARNING_RATE)
    check_choice("direction", direction, DIRECTIONS)
    target = _target(direction, target,
                     lambda t: _raw_int("target", t, 0, fixed.ONE, fixed.THRESHOLD))
    out = _raw_scores("masked_out_scores", masked_out_scores)
    inc = _raw_scores("included_scores", included_scores)
    avg_out = int(out.sum()) // out.size if out.size else 0
    if direction == "density":
        total = out.size + inc.size
        if total == 0:
            return ThresholdTerms(threshold, avg_out, 0, 0, 0)
        share = (inc.size << fixed.THRESHOLD.f_bits) // total
        delta = int(fixed.round_shift((share - target) * learning_rate,
                                      fixed.LEARNING_RATE.f_bits))
        new = min(fixed.ONE, max(0, threshold + delta))
        return ThresholdTerms(new, avg_out, 0, delta, share)
    avg_in = int(inc.sum()) // inc.size if inc.size else 0
    if out.size == 0 or inc.size == 0:
        return ThresholdTerms(threshold, avg_out, avg_in, 0)
    gap = avg_out - avg_in if direction == "pseudocode" else avg_in - avg_out
    delta = int(fixed.round_shift(gap * learning_rate, fixed.LEARNING_RATE.f_bits))
    new = min(fixed.ONE, max(0, threshold + delta))
    return ThresholdTerms(new, avg_out, avg_in, delta)


def update_threshold_fixed(masked_out_scores, included_scores, threshold, learning_rate,
                           direction="pseudocode", target=None):
    """Fixed-point twin of :func:`update_threshold` on raw codes; returns the new threshold."""
    return threshold_update_fixed(masked_out_scores, included_scores, threshold, learning_rate,
                                  direction, target).threshold
