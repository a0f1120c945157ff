"""golden.masked_conv2d and golden.pad2d against the plain-loop reference, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from padmask import golden
from tests.reference import conv_reference, padded_pixel

MODES = ("zero", "constant", "replicate", "reflect")


@st.composite
def conv_cases(draw, integer=True):
    mode = draw(st.sampled_from(MODES))
    h = draw(st.integers(1, 7))
    w = draw(st.integers(1, 7))
    if mode == "reflect":
        pads = tuple(draw(st.integers(0, min(3, size - 1))) for size in (h, h, w, w))
    else:
        pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    k = draw(st.integers(1, min(hp, wp, 7)))  # may exceed the frame itself
    stride = draw(st.sampled_from((1, 2)))
    block = draw(st.integers(1, 5))
    cin = draw(st.integers(1, 3))
    cout = draw(st.integers(1, 3))
    batch = draw(st.sampled_from((None, 1, 2)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (cin, h, w) if batch is None else (batch, cin, h, w)
    if integer:
        x = rng.integers(-128, 128, shape).astype(np.int8)
        wt = rng.integers(-128, 128, (cout, cin, k, k)).astype(np.int8)
        bias = draw(st.sampled_from((None, "some")))
        bias = None if bias is None else rng.integers(-2**15, 2**15, cout)
        pad_value = int(rng.integers(-128, 128))
    else:
        x = rng.normal(size=shape)
        wt = rng.normal(size=(cout, cin, k, k))
        bias = rng.normal(size=cout)
        pad_value = float(rng.normal())
    grid = golden.block_grid_shape(h, w, pads, block)
    kind = draw(st.sampled_from(("none", "zeros", "ones", "random")))
    mask = {"none": None, "zeros": np.zeros(grid, bool), "ones": np.ones(grid, bool),
            "random": rng.integers(0, 2, grid).astype(bool)}[kind]
    return dict(x=x, w=wt, bias=bias, stride=stride, padding=pads, mode=mode,
                pad_value=pad_value, mask=mask, block=block)


def reference(case):
    x = case["x"]
    single = x.ndim == 3
    xs = x[None] if single else x
    mask = None if case["mask"] is None else case["mask"].tolist()
    bias = None if case["bias"] is None else case["bias"].tolist()
    pad_value = case["pad_value"] if case["mode"] == "constant" else 0
    out = conv_reference(xs.tolist(), case["w"].tolist(), bias, case["stride"],
                         case["padding"], case["mode"], pad_value, mask, case["block"])
    out = np.array(out)
    return out[0] if single else out


@given(conv_cases())
def test_integer_path_is_exact(case):
    got = golden.masked_conv2d(**case)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, reference(case))


@given(conv_cases(integer=False))
def test_float_path(case):
    got = golden.masked_conv2d(**case)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, reference(case), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale, dtype", [(1, np.int8), (2**20, np.int32), (2**28, np.int64)])
def test_every_exactness_regime(scale, dtype):
    # float32 GEMM (bound <= 2**24), float64 (<= 2**53) and int64 arithmetic (beyond) must all
    # agree with Python integers; values near the top of each regime.
    rng = np.random.default_rng(1)
    lo, hi = (-128, 128) if dtype == np.int8 else (-scale, scale)
    x = rng.integers(lo, hi, (2, 3, 5, 4)).astype(dtype)
    x.flat[0] = hi - 1
    w = rng.integers(lo, hi, (2, 3, 3, 3)).astype(dtype)
    w.flat[0] = hi - 1
    case = dict(x=x, w=w, bias=None, stride=1, padding=(1, 2, 0, 1), mode="reflect",
                pad_value=0, mask=None, block=2)
    np.testing.assert_array_equal(golden.masked_conv2d(**case), reference(case))


def test_pad2d_matches_numpy_pad():
    # numpy.pad is an independent implementation of the same modes ('edge' = replicate).
    x = np.arange(2 * 3 * 5).reshape(2, 3, 5)
    for mode, np_mode in (("zero", "constant"), ("replicate", "edge"), ("reflect", "reflect")):
        for pads in ((0, 0, 0, 0), (1, 2, 3, 4), (2, 0, 0, 4), (2, 2, 4, 4)):
            expected = np.pad(x, ((0, 0), pads[:2], pads[2:]), mode=np_mode)
            np.testing.assert_array_equal(golden.pad2d(x, pads, mode), expected)
    np.testing.assert_array_equal(golden.pad2d(x, 1, "constant", pad_value=-7),
                                  np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=-7))


@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from(MODES),
       st.tuples(*[st.integers(0, 5)] * 4), st.integers(-9, 9))
def test_pad2d_against_loop(h, w, mode, pads, value):
    if mode == "reflect":
        pads = (min(pads[0], h - 1), min(pads[1], h - 1), min(pads[2], w - 1), min(pads[3], w - 1))
    frame = np.arange(h * w).reshape(h, w) - 3
    got = golden.pad2d(frame[None], pads, mode, pad_value=value)[0]
    for i in range(got.shape[0]):
        for j in range(got.shape[1]):
            assert got[i, j] == padded_pixel(frame.tolist(), i, j, pads, mode, value)


def test_masked_pixels_contribute_nothing_and_interior_is_never_masked():
    # One 3x3 frame, padding 1, block 1: a 5x5 mask where every bit is 0 equals zero padding,
    # whatever the mode; bits over interior pixels have no effect.
    rng = np.random.default_rng(2)
    x = rng.integers(-50, 50, (1, 3, 3))
    w = rng.integers(-5, 5, (1, 1, 3, 3))
    zero = golden.masked_conv2d(x, w, padding=1, mode="zero")
    for mode in ("constant", "replicate", "reflect"):
        masked = golden.masked_conv2d(x, w, padding=1, mode=mode, pad_value=9,
                                      mask=np.zeros((5, 5), bool), block=1)
        np.testing.assert_array_equal(masked, zero)
    interior_off = np.ones((5, 5), bool)
    interior_off[1:4, 1:4] = False
    np.testing.assert_array_equal(
        golden.masked_conv2d(x, w, padding=1, mode="reflect", mask=interior_off, block=1),
        golden.masked_conv2d(x, w, padding=1, mode="reflect"))


def test_block_grid_shape():
    # padded 12 x 13 frame, block 4: ceil(12/4) x ceil(13/4)
    assert golden.block_grid_shape(8, 9, 2, 4) == (3, 4)
    assert golden.block_grid_shape(1, 1, (0, 0, 0, 0), 4) == (1, 1)
    assert golden.block_grid_shape(5, 3, (1, 0, 2, 0), 2) == (3, 3)


class TestRequantize:
    def test_rounding_ties_go_up(self):
        acc = np.array([-6, -5, -3, -2, -1, 0, 1, 2, 3, 5, 6])
        # shift 1 halves: -3, -2.5, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2.5, 3 -> ties toward +inf
        np.testing.assert_array_equal(golden.requantize(acc, 1),
                                      [-3, -2, -1, -1, 0, 0, 1, 1, 2, 3, 3])

    def test_shift_zero_is_identity_inside_range(self):
        acc = np.arange(-128, 128)
        np.testing.assert_array_equal(golden.requantize(acc, 0), acc)

    def test_saturates_at_both_limits(self):
        acc = np.array([-10**12, -129 * 16, -128 * 16 - 9, -128 * 16 - 8, 127 * 16 + 7,
                        127 * 16 + 8, 10**12])
        # /16 with half-up rounding: -128.5625 -> -129 -> saturates; -128.5 -> -128;
        # 127.4375 -> 127; 127.5 -> 128 -> saturates
        np.testing.assert_array_equal(golden.requantize(acc, 4),
                                      [-128, -128, -128, -128, 127, 127, 127])

    def test_output_width(self):
        np.testing.assert_array_equal(golden.requantize(np.array([-40, 40]), 0, width=6),
                                      [-32, 31])

    @pytest.mark.parametrize("shift", [-1, 63, 1.5, True])
    def test_bad_shift(self, shift):
        with pytest.raises(ValueError, match=f"shift must be an integer in 0..62, not {shift!r}"):
            golden.requantize(np.array([1]), shift)


class TestBadInput:
    x = np.zeros((1, 4, 4), np.int8)
    w = np.zeros((1, 1, 3, 3), np.int8)

    def test_wrong_mask_shape(self):
        with pytest.raises(ValueError, match=r"mask must have shape \(2, 2\) for this frame, "
                                             r"padding and block, not \(3, 3\)"):
            golden.masked_conv2d(self.x, self.w, padding=1, mask=np.ones((3, 3), bool), block=4)

    def test_mask_values(self):
        with pytest.raises(ValueError, match=r"mask must hold booleans or 0/1 values, not \[0, 2\]"):
            golden.masked_conv2d(self.x, self.w, padding=1, mask=np.array([[0, 2], [0, 0]]),
                                 block=4)

    def test_reflect_pad_not_smaller_than_frame(self):
        with pytest.raises(ValueError, match=r"padding must be smaller than the frame height \(4\) "
                                             r"in reflect mode, not 4"):
            golden.masked_conv2d(self.x, self.w, padding=(4, 0, 1, 1), mode="reflect")

    def test_unknown_mode(self):
        with pytest.raises(ValueError, match="mode must be one of 'zero', 'constant', "
                                             "'replicate', 'reflect', not 'circular'"):
            golden.masked_conv2d(self.x, self.w, padding=1, mode="circular")

    def test_non_positive_kernel(self):
        with pytest.raises(ValueError, match=r"w must have a positive kernel size and Cout, "
                                             r"not shape \(1, 1, 0, 0\)"):
            golden.masked_conv2d(self.x, np.zeros((1, 1, 0, 0), np.int8))

    def test_non_square_kernel(self):
        with pytest.raises(ValueError, match=r"w must have shape \(Cout, Cin, K, K\), "
                                             r"not \(1, 1, 3, 2\)"):
            golden.masked_conv2d(self.x, np.zeros((1, 1, 3, 2), np.int8))

    def test_even_kernel_is_supported(self):
        # Even kernels are valid in the model (as in PyTorch); the hardware restricts K.
        case = dict(x=np.arange(16).reshape(1, 4, 4) - 8, w=np.arange(4).reshape(1, 1, 2, 2),
                    bias=None, stride=1, padding=(1, 0, 0, 1), mode="replicate", pad_value=0,
                    mask=None, block=4)
        np.testing.assert_array_equal(golden.masked_conv2d(**case), reference(case))

    def test_kernel_larger_than_padded_frame(self):
        with pytest.raises(ValueError, match=r"kernel size \(7\) must not exceed the padded "
                                             r"frame \(6\)"):
            golden.masked_conv2d(self.x, np.zeros((1, 1, 7, 7), np.int8), padding=1)

    def test_float_weights_on_integer_path(self):
        with pytest.raises(TypeError, match="w must hold integers for integer input, not float64"):
            golden.masked_conv2d(self.x, self.w.astype(np.float64))

    def test_float_bias_on_integer_path(self):
        with pytest.raises(TypeError, match="bias must hold integers for integer input, "
                                            "not float64"):
            golden.masked_conv2d(self.x, self.w, bias=np.array([0.5]))

    def test_fractional_pad_value_on_integer_path(self):
        with pytest.raises(ValueError, match="pad_value must be an integer for integer input, "
                                             "not 0.5"):
            golden.masked_conv2d(self.x, self.w, padding=1, mode="constant", pad_value=0.5)

    def test_pad_value_outside_dtype(self):
        with pytest.raises(ValueError, match=r"pad_value must fit the input dtype int8 "
                                             r"\(-128..127\), not 200"):
            golden.masked_conv2d(self.x, self.w, padding=1, mode="constant", pad_value=200)

    def test_stride(self):
        with pytest.raises(ValueError, match="stride must be one of 1, 2, not 3"):
            golden.masked_conv2d(self.x, self.w, stride=3)

    def test_channel_mismatch(self):
        with pytest.raises(ValueError, match="w must have Cin = 1 to match x, not 2"):
            golden.masked_conv2d(self.x, np.zeros((1, 2, 3, 3), np.int8))

    def test_negative_padding(self):
        with pytest.raises(ValueError, match=r"padding must be non-negative, not \(1, -1, 0, 0\)"):
            golden.masked_conv2d(self.x, self.w, padding=(1, -1, 0, 0))

    def test_padding_arity(self):
        with pytest.raises(ValueError, match=r"padding must be an int or \(top, bottom, left, "
                                             r"right\), not \(1, 1\)"):
            golden.masked_conv2d(self.x, self.w, padding=(1, 1))

    def test_block(self):
        with pytest.raises(ValueError, match="block must be at least 1, not 0"):
            golden.masked_conv2d(self.x, self.w, padding=1, block=0)

    def test_input_rank(self):
        with pytest.raises(ValueError, match=r"x must have shape \(C, H, W\) or \(N, C, H, W\), "
                                             r"not \(4, 4\)"):
            golden.masked_conv2d(np.zeros((4, 4), np.int8), self.w)

    def test_non_numeric_input(self):
        with pytest.raises(TypeError, match="x must hold numbers, not <U1"):
            golden.masked_conv2d(np.array([[["a"]]]), self.w)


def test_stale_scratch_memory_never_leaks_into_results():
    # Stride 2 with an odd padded height leaves one row of one phase unfilled; the GEMM still
    # reads it. Fill the reused scratch memory with huge float bit patterns first (0x7f7f7f7f is
    # 3.4e38): results must stay exact and raise no overflow warning (warnings are errors here).
    case = dict(x=np.arange(2 * 5 * 6).reshape(1, 2, 5, 6) % 7 - 3,
                w=np.arange(2 * 2 * 3 * 3).reshape(2, 2, 3, 3) % 5 - 2, bias=None, stride=2,
                padding=(1, 1, 1, 0), mode="replicate", pad_value=0, mask=None, block=2)
    golden.masked_conv2d(**case)
    for buffer in golden.conv._scratch.buffers.values():
        buffer.fill(0x7F)
    np.testing.assert_array_equal(golden.masked_conv2d(**case), reference(case))
