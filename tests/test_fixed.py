"""golden.fixed: formats, rounding, saturation and the accumulator width."""

import itertools

import numpy as np
import pytest

from padmask.golden import fixed
from padmask.golden.fixed import SQ, UQ


def test_shapes_follow_rfc41():
    s = SQ(1, 15)
    assert (s.signed, s.i_bits, s.f_bits, s.width) == (True, 1, 15, 16)
    assert (s.min_raw, s.max_raw, s.one_raw) == (-32768, 32767, 32768)
    u = UQ(1, 15)
    assert (u.min_raw, u.max_raw) == (0, 65535)
    assert repr(SQ(2, 15)) == "SQ(2, 15)" and repr(UQ(0, 16)) == "UQ(0, 16)"


def test_bad_shapes():
    with pytest.raises(TypeError, match="i_bits must be a non-negative integer, not -1"):
        SQ(-1, 3)
    with pytest.raises(TypeError, match="f_bits must be a non-negative integer, not 1.5"):
        UQ(1, 1.5)
    with pytest.raises(ValueError, match=r"SQ\(0, 8\) has no room for its value"):
        SQ(0, 8)


def test_from_float_rounds_half_up_and_saturates():
    q = SQ(1, 2)  # steps of 0.25, range -1 .. 0.75
    np.testing.assert_array_equal(q.from_float([-2.0, -1.0, -0.375, -0.125, 0.125, 0.375, 0.75, 9]),
                                  [-4, -4, -1, 0, 1, 2, 3, 3])
    np.testing.assert_array_equal(q.from_float([-0.125, 0.125, 0.3], rounding="trunc"), [-1, 0, 1])
    assert q.to_float(3) == 0.75


def test_round_shift_ties_and_truncation():
    x = np.array([-7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7])
    # exact quarters: x / 4 -> nearest, ties (x = -6, -2, 2, 6) toward +inf
    expected = np.floor(x / 4 + 0.5).astype(int)
    np.testing.assert_array_equal(fixed.round_shift(x, 2), expected)
    np.testing.assert_array_equal(fixed.round_shift(x, 2, rounding="trunc"), np.floor(x / 4))
    np.testing.assert_array_equal(fixed.round_shift(x, 0), x)


def test_round_shift_rejects_floats_and_huge_values():
    with pytest.raises(TypeError, match="x must hold integers, not float64"):
        fixed.round_shift(np.array([1.0]), 1)
    with pytest.raises(ValueError, match="x must lie within"):
        fixed.round_shift(np.array([1 << 62]), 1)
    with pytest.raises(ValueError, match="rounding must be 'half_up' or 'trunc', not 'even'"):
        fixed.round_shift(np.array([1]), 1, rounding="even")


def test_saturate():
    np.testing.assert_array_equal(fixed.saturate([-300, -128, 0, 127, 300], SQ(8)),
                                  [-128, -128, 0, 127, 127])
    np.testing.assert_array_equal(UQ(1, 15).saturate([-5, 70000]), [0, 65535])


def test_width_helpers():
    assert fixed.signed_width_for(-128, 127) == 8
    assert fixed.signed_width_for(-129, 0) == 9
    assert fixed.signed_width_for(0, 128) == 9
    assert fixed.unsigned_width_for(255) == 8 and fixed.unsigned_width_for(256) == 9


@pytest.mark.parametrize("aw, ww, terms, bw", [(2, 2, 1, 1), (3, 2, 5, 2), (4, 4, 9, 4),
                                               (8, 8, 144, 16), (3, 3, 7, 6)])
def test_accumulator_width_is_tight(aw, ww, terms, bw):
    # Brute force over every operand value of one product, then the worst sum of `terms` of them.
    a = range(-(1 << (aw - 1)), 1 << (aw - 1))
    w = range(-(1 << (ww - 1)), 1 << (ww - 1))
    products = [p * q for p, q in itertools.product(a, w)]
    lo = terms * min(products) - (1 << (bw - 1))
    hi = terms * max(products) + (1 << (bw - 1)) - 1
    width = fixed.accumulator_width(act_width=aw, weight_width=ww, terms=terms, bias_width=bw)
    assert -(1 << (width - 1)) <= lo and hi <= (1 << (width - 1)) - 1
    narrower = width - 1
    assert lo < -(1 << (narrower - 1)) or hi > (1 << (narrower - 1)) - 1


def test_accumulator_width_rejects_bad_parameters():
    with pytest.raises(ValueError, match="terms must be a positive integer, not 0"):
        fixed.accumulator_width(act_width=8, weight_width=8, terms=0, bias_width=16)


def test_project_formats():
    # The table of docs/spec.md.
    assert fixed.GRADIENT == SQ(1, 15)
    assert fixed.SCORE == fixed.THRESHOLD == fixed.RELEVANCE == UQ(1, 15)
    assert fixed.LEARNING_RATE == UQ(0, 16)
    assert fixed.RELEVANCE_SUM.width == 32
    assert fixed.ONE == 1 << 15
