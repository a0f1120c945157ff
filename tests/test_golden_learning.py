"""Relevance, mask generation and threshold update, float and fixed point."""

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from padmask import golden
from padmask.golden import fixed
from tests.reference import is_padding

ONE = fixed.ONE


def relevance_loop(grad, pads, block, fixed_point=False, sum_max=None):
    """Mean |g| per padding block, pooled over leading axes, by plain loops."""
    grad = grad.reshape((-1,) + grad.shape[-2:])
    hp, wp = grad.shape[-2:]
    h, w = hp - pads[0] - pads[1], wp - pads[2] - pads[3]
    gh, gw = -(-hp // block), -(-wp // block)
    sums = [[0] * gw for _ in range(gh)]
    counts = [[0] * gw for _ in range(gh)]
    for frame in grad.tolist():
        for i in range(hp):
            for j in range(wp):
                if is_padding(i, j, h, w, pads):
                    sums[i // block][j // block] += abs(frame[i][j])
                    counts[i // block][j // block] += 1
    out = np.zeros((gh, gw), dtype=np.int64 if fixed_point else np.float64)
    for r in range(gh):
        for c in range(gw):
            if counts[r][c]:
                s = sums[r][c]
                if fixed_point:
                    out[r, c] = min(s, sum_max) // counts[r][c]
                else:
                    out[r, c] = s / counts[r][c]
    return out, np.array(counts) > 0


frames = st.tuples(st.integers(1, 6), st.integers(1, 6), st.tuples(*[st.integers(0, 3)] * 4),
                   st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))


@given(frames)
def test_float_relevance_matches_loop(case):
    h, w, pads, block, lead, seed = case
    g = np.random.default_rng(seed).normal(size=(lead, 2, h + pads[0] + pads[1],
                                                 w + pads[2] + pads[3]))
    got, pad_blocks = golden.block_relevance(g, pads, block)
    ref, ref_blocks = relevance_loop(g, pads, block)
    np.testing.assert_array_equal(pad_blocks, ref_blocks)
    np.testing.assert_array_equal(pad_blocks, golden.padding_blocks(h, w, pads, block))
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@given(frames, st.booleans())
def test_fixed_relevance_matches_loop(case, saturate):
    h, w, pads, block, lead, seed = case
    rng = np.random.default_rng(seed)
    shape = (lead, 2, h + pads[0] + pads[1], w + pads[2] + pads[3])
    g = rng.integers(fixed.GRADIENT.min_raw, fixed.GRADIENT.max_raw + 1, shape)
    # a narrow sum format makes saturation common
    sum_shape = fixed.UQ(1, 16) if saturate else fixed.RELEVANCE_SUM
    got, _ = golden.block_relevance_fixed(g, pads, block, sum_shape=sum_shape)
    ref, _ = relevance_loop(g, pads, block, fixed_point=True, sum_max=sum_shape.max_raw)
    np.testing.assert_array_equal(got, ref)


def test_relevance_of_the_most_negative_gradient():
    # |-1.0| = 2**15 fits the unsigned relevance format exactly.
    g = np.full((1, 3, 3), fixed.GRADIENT.min_raw)
    rel, _ = golden.block_relevance_fixed(g, 1, 3)
    assert rel[0, 0] == ONE


def test_normalization_and_mask():
    rel = np.array([[0.2, 0.4], [0.1, 9.0]])
    pad_blocks = np.array([[True, True], [True, False]])  # 9.0 is an interior block: ignored
    scores = golden.normalize_scores(rel, pad_blocks)
    np.testing.assert_allclose(scores, [[0.5, 1.0], [0.25, 0.0]])
    np.testing.assert_array_equal(golden.generate_mask(scores, 0.5, pad_blocks),
                                  [[True, True], [False, True]])
    np.testing.assert_array_equal(golden.normalize_scores(np.zeros((2, 2)), pad_blocks), 0)


def test_fixed_normalization_floors():
    rel = np.array([3, 7, 0])
    pad_blocks = np.ones(3, bool)
    # 3/7 * 32768 = 14043.43 -> 14043; the top block is exactly 1.0
    np.testing.assert_array_equal(golden.normalize_scores_fixed(rel, pad_blocks), [14043, ONE, 0])
    np.testing.assert_array_equal(golden.normalize_scores_fixed(np.zeros(3, int), pad_blocks), 0)


def test_tie_at_threshold_is_included():
    scores = np.array([16384, 16383, ONE])
    np.testing.assert_array_equal(golden.generate_mask(scores, 16384, np.ones(3, bool)),
                                  [True, False, True])


@given(st.lists(st.floats(0, 1e300), min_size=1, max_size=50), st.integers(-30, 30))
def test_quantize_gradients_scale(values, sign_seed):
    g = np.array(values) * np.where(np.arange(len(values)) % 3 == sign_seed % 3, -1, 1)
    raw, exponent = golden.quantize_gradients(g)
    top = np.abs(g).max()
    if top == 0:
        assert exponent == 0 and not raw.any()
        return
    assert 0.5 <= np.ldexp(top, exponent) < 1.0  # ldexp: subnormal inputs need exponents > 1023
    # every code is within half a step of the scaled value, except where +1.0 - 2**-16 and up
    # round to 2**15, which saturates to the largest code
    scaled = np.ldexp(g, exponent) * ONE
    error = np.abs(raw - scaled)
    assert np.all(np.where(raw == fixed.GRADIENT.max_raw, error <= 1, error <= 0.5))


class TestFloatUpdate:
    def test_pseudocode(self):
        # avg_out = 0.2, avg_in = 0.6, delta = -0.4 * 0.5
        assert golden.update_threshold([0.1, 0.3], [0.5, 0.7], 0.5, 0.5) == pytest.approx(0.3)
        assert golden.update_threshold([0.1, 0.3], [0.5, 0.7], 0.5, 0.5, "prose") == \
            pytest.approx(0.7)

    def test_clamps(self):
        assert golden.update_threshold([0.0], [1.0], 0.1, 1.0) == 0.0
        assert golden.update_threshold([0.0], [1.0], 0.9, 1.0, "prose") == 1.0

    def test_empty_sets_leave_threshold(self):
        assert golden.update_threshold([], [0.4, 0.9], 0.3, 0.5) == 0.3
        assert golden.update_threshold([0.1], [], 0.3, 0.5) == 0.3

    @pytest.mark.parametrize("kwargs, error, message", [
        (dict(threshold=1.5), ValueError, "threshold must be within [0, 1], not 1.5"),
        (dict(learning_rate=-0.1), ValueError, "learning_rate must be non-negative, not -0.1"),
        (dict(direction="up"), ValueError, "direction must be one of 'pseudocode', 'prose', "
                                           "'density', not 'up'"),
        (dict(threshold="0.5"), TypeError, "threshold must be a real number, not '0.5'"),
    ])
    def test_bad_arguments(self, kwargs, error, message):
        args = dict(masked_out_gradients=[0.1], included_gradients=[0.5], threshold=0.5,
                    learning_rate=0.1)
        args.update(kwargs)
        with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
            golden.update_threshold(**args)


class TestFixedUpdate:
    def test_worked_example(self):
        # out: (1000 + 2001) // 2 = 1500; in: (20000 + 30001 + 9000) // 3 = 19667
        # gap = -18167; lr = 0.25 (16384 / 65536); -18167 * 16384 / 65536 = -4541.75 -> -4542
        terms = golden.threshold_update_fixed([1000, 2001], [20000, 30001, 9000], 16384, 16384)
        assert terms == golden.ThresholdTerms(threshold=16384 - 4542, avg_out=1500, avg_in=19667,
                                              delta=-4542)
        prose = golden.threshold_update_fixed([1000, 2001], [20000, 30001, 9000], 16384, 16384,
                                              "prose")
        assert prose.delta == 4542  # +4541.75 rounds to 4542
        assert prose.threshold == 16384 + 4542

    def test_rounding_tie_goes_up(self):
        # gap = -2, lr = 0.25: -0.5 code -> rounds to 0; prose: +0.5 -> 1
        assert golden.threshold_update_fixed([0], [2], 100, 16384).delta == 0
        assert golden.threshold_update_fixed([0], [2], 100, 16384, "prose").delta == 1

    def test_learning_rate_zero_and_maximal(self):
        assert golden.update_threshold_fixed([0], [ONE], 12345, 0) == 12345
        lr_max = fixed.LEARNING_RATE.max_raw  # 1 - 2**-16
        # gap = -32768 * 65535 / 65536 = -32767.5 -> -32767
        assert golden.threshold_update_fixed([0], [ONE], ONE, lr_max).delta == -32767

    def test_clamps_at_zero_and_one(self):
        assert golden.update_threshold_fixed([0], [ONE], 5, fixed.LEARNING_RATE.max_raw) == 0
        assert golden.update_threshold_fixed([0], [ONE], ONE - 5, fixed.LEARNING_RATE.max_raw,
                                             "prose") == ONE
        assert golden.update_threshold_fixed([0], [ONE], 0, 1000) == 0
        assert golden.update_threshold_fixed([0], [ONE], ONE, 1000, "prose") == ONE

    def test_empty_sets(self):
        assert golden.threshold_update_fixed([], [5, 7], 9, 1000) == (9, 0, 6, 0, 0)
        assert golden.threshold_update_fixed([5], [], 9, 1000) == (9, 5, 0, 0, 0)
        assert golden.threshold_update_fixed([], [], 9, 1000) == (9, 0, 0, 0, 0)

    def test_density_worked_example(self):
        # 3 of 5 blocks included: share = 3 * 32768 // 5 = 19660; target 0.25 (8192);
        # gap = 11468; lr = 0.25: 11468 / 4 = 2867 exactly
        terms = golden.threshold_update_fixed([1000, 2001], [20000, 30001, 9000], 16384, 16384,
                                              "density", 8192)
        assert terms == golden.ThresholdTerms(threshold=16384 + 2867, avg_out=1500, avg_in=0,
                                              delta=2867, share=19660)
        # too few included: the threshold falls (target 1.0: gap = 19660 - 32768 = -13108)
        low = golden.threshold_update_fixed([1000, 2001], [20000, 30001, 9000], 16384, 16384,
                                            "density", ONE)
        assert low.delta == -3277 and low.threshold == 16384 - 3277
        # the comparison rules report no share
        assert golden.threshold_update_fixed([1], [2], 9, 1000).share == 0

    def test_density_needs_one_block_only(self):
        # every block masked out (n_in = 0): share 0, the threshold falls toward the target
        terms = golden.threshold_update_fixed([7, 9], [], 20000, 32768, "density", 16384)
        assert terms == (20000 - 8192, 8, 0, -8192, 0)
        # every block included: share 1.0, it rises
        lr_max = fixed.LEARNING_RATE.max_raw   # gap 1.0: 32767.5 rounds to 32768
        assert golden.threshold_update_fixed([], [7, 9], 0, lr_max, "density", 0).threshold == ONE
        assert golden.threshold_update_fixed([], [], 9, 1000, "density", 0) == (9, 0, 0, 0, 0)
        assert golden.update_threshold([], [], 0.25, 0.5, "density", 0.0) == 0.25

    def test_density_float_twin(self):
        # 1 of 4 included, target 0.75: gap = -0.5, lr 0.2 -> -0.1
        new = golden.update_threshold([0.1, 0.2, 0.3], [0.9], 0.5, 0.2, "density", 0.75)
        assert new == pytest.approx(0.4)
        fixed_new = golden.update_threshold_fixed([3277, 6554, 9830], [29491], ONE // 2,
                                                  fixed.LEARNING_RATE.from_float(0.2),
                                                  "density", 3 * ONE // 4)
        assert abs(fixed.THRESHOLD.to_float(fixed_new) - 0.4) < 2 ** -14

    @pytest.mark.parametrize("target, error, message", [
        (None, ValueError, "target must be given for direction 'density'"),
        (ONE + 1, ValueError, "target must be a UQ(1, 15) code within 0..32768, not 32769"),
        (0.5, TypeError, "target must be a raw UQ(1, 15) integer code, not 0.5"),
    ])
    def test_density_bad_target(self, target, error, message):
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            golden.threshold_update_fixed([1], [2], 5, 5, "density", target)

    def test_density_float_bad_target(self):
        with pytest.raises(ValueError, match=r"target must be within \[0, 1\], not 1.5"):
            golden.update_threshold([1], [2], 0.5, 0.1, "density", 1.5)

    @pytest.mark.parametrize("args, error, message", [
        (([1], [2], ONE + 1, 5), ValueError, "threshold must be a UQ(1, 15) code within 0..32768, "
                                             "not 32769"),
        (([1], [2], 5, 1 << 16), ValueError, "learning_rate must be a UQ(0, 16) code within "
                                             "0..65535, not 65536"),
        (([1], [2], 0.5, 5), TypeError, "threshold must be a raw UQ(1, 15) integer code, not 0.5"),
        (([ONE + 1], [2], 5, 5), ValueError, "masked_out_scores must be UQ(1, 15) codes within "
                                             "0..32768, not 32769..32769"),
        (([0.5], [2], 5, 5), TypeError, "masked_out_scores must hold raw integer codes, "
                                        "not float64"),
    ])
    def test_bad_arguments(self, args, error, message):
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            golden.threshold_update_fixed(*args)

    @given(st.lists(st.integers(0, ONE), min_size=1, max_size=40), st.integers(0, ONE),
           st.integers(0, fixed.LEARNING_RATE.max_raw))
    def test_fixed_tracks_float(self, scores, threshold, lr):
        scores = np.array(scores)
        included = scores >= threshold
        out, inc = scores[~included], scores[included]
        got = golden.update_threshold_fixed(out, inc, threshold, lr)
        want = golden.update_threshold(out / ONE, inc / ONE, threshold / ONE, lr / 2**16)
        # two floored means (1 code each) scaled by lr < 1, plus half a code of rounding
        assert abs(got / ONE - want) <= 1.5 / ONE + 1e-12


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.5, 0.62, 0.9, 1.0])
@pytest.mark.parametrize("start", [0.0, 0.5, 1.0])
def test_density_rule_settles_next_to_its_target(target, start):
    """On fixed, distinct scores the density rule ends oscillating between the block counts next
    to target * n (at least one block: the top score is 1.0, and the threshold at most 1.0)."""
    n = 20
    scores = np.random.default_rng(3).permutation(np.arange(1, n + 1) * (ONE // n))
    scores[scores.argmax()] = ONE
    lr = fixed.LEARNING_RATE.from_float(0.05)
    t, goal = fixed.THRESHOLD.from_float(start), fixed.THRESHOLD.from_float(target)
    counts = []
    for _ in range(600):
        inc = scores >= t
        t = golden.update_threshold_fixed(scores[~inc], scores[inc], t, lr, "density", goal)
        counts.append(int((scores >= t).sum()))
    low, high = max(1, int(np.floor(target * n))), max(1, int(np.ceil(target * n)))
    assert low <= min(counts[-100:]) and max(counts[-100:]) <= high, counts[-20:]


class TestDynamics:
    """With mask = score >= threshold, avg_out <= avg_in: the pseudocode can only lower the
    threshold, the prose direction can only raise it. On fixed scores both stop only where no
    block is masked out (an empty set leaves the threshold alone) or, for prose, at the clamp 1.0,
    which leaves only the top block(s): pseudocode always ends with every padding block included,
    prose with all of them (if it started there) or with the top ones only."""

    @given(st.lists(st.integers(0, ONE), min_size=1, max_size=30), st.integers(0, ONE),
           st.integers(0, fixed.LEARNING_RATE.max_raw), st.sampled_from(("pseudocode", "prose")))
    def test_monotone(self, scores, threshold, lr, direction):
        scores = np.array(scores)
        included = scores >= threshold
        new = golden.update_threshold_fixed(scores[~included], scores[included], threshold, lr,
                                            direction)
        assert new <= threshold if direction == "pseudocode" else new >= threshold
        new_float = golden.update_threshold(scores[~included] / ONE, scores[included] / ONE,
                                            threshold / ONE, lr / 2**16, direction)
        assert new_float <= threshold / ONE if direction == "pseudocode" \
            else new_float >= threshold / ONE

    @given(st.lists(st.floats(0, 1), min_size=2, max_size=20), st.floats(0.05, 0.95))
    def test_fixed_points(self, relevance, threshold):
        relevance = np.array(relevance)
        assume(relevance.max() > 0)
        scores = relevance / relevance.max()
        for direction in ("pseudocode", "prose"):
            t = threshold
            for _ in range(2000):
                inc = scores >= t
                t_next = golden.update_threshold(scores[~inc], scores[inc], t, 0.5, direction)
                if t_next == t:
                    break
                t = t_next
            inc = scores >= t
            if direction == "pseudocode":
                assert inc.all()
            else:
                assert inc.all() or (t == 1.0 and np.array_equal(inc, scores == 1.0))


def test_mask_update_order():
    # scores -> mask against the *current* threshold -> new threshold from that partition
    g = np.zeros((1, 4, 4))
    g[0, 0, :] = [4, 4, 2, 2]      # top row: padding (padding 1, 2x2 frame, block 2)
    g[0, 3, :] = [1, 1, 1, 1]
    g[0, 1:3, 0] = [1, 1]
    g[0, 1:3, 3] = [3, 3]
    # blocks: (0,0) pixels (0,0),(0,1),(1,0): mean 3; (0,1): 2,2,3 -> 7/3; (1,0): 1,1,1 -> 1;
    # (1,1): 3,1,1 -> 5/3
    update = golden.mask_update(g, 1, 2, threshold=0.5, learning_rate=1.0)
    np.testing.assert_allclose(update.relevance, [[3, 7 / 3], [1, 5 / 3]])
    np.testing.assert_allclose(update.scores, [[1, 7 / 9], [1 / 3, 5 / 9]])
    np.testing.assert_array_equal(update.mask, [[True, True], [False, True]])
    # avg_out = 1/3, avg_in = (1 + 7/9 + 5/9) / 3 = 7/9 -> 0.5 - 4/9
    assert update.threshold == pytest.approx(0.5 - 4 / 9)
