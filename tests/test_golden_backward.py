"""Backward passes of the training layers against central finite differences."""

import numpy as np
import pytest

from padmask import golden
from padmask.golden.nn import (AvgPool2, Dense, MaskedConv2d, PixelDense, ReLU,
                               mean_squared_error, softmax_cross_entropy)


def numeric_grad(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + eps
        up = f()
        array[idx] = old - eps
        down = f()
        array[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("mode", ["zero", "constant", "replicate", "reflect"])
@pytest.mark.parametrize("stride", [1, 2])
def test_masked_conv_gradients(mode, stride):
    rng = np.random.default_rng(3)
    conv = MaskedConv2d(2, 3, 3, padding=(2, 1, 1, 2), mode=mode, block=2, rng=rng, stride=stride)
    conv.b = rng.normal(size=3)
    x = rng.normal(size=(2, 2, 4, 5))
    conv.set_mask(rng.integers(0, 2, golden.block_grid_shape(4, 5, conv.padding, 2)), 4, 5)
    probe = rng.normal(size=conv.forward(x).shape)

    def loss():
        return float((conv.forward(x) * probe).sum())

    loss()
    grad_x = conv.backward(probe)
    np.testing.assert_allclose(grad_x, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(conv.grad_w, numeric_grad(loss, conv.w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(conv.grad_b, numeric_grad(loss, conv.b), rtol=1e-6, atol=1e-8)

    # dL/dx~, masked-out pixels included: perturb x~ itself and recompute the convolution.
    xp = conv.xp.copy()

    def loss_from_x_tilde():
        y = golden.conv.conv_padded(xp, conv.w, conv.stride, conv.b)
        return float((y * probe).sum())

    np.testing.assert_allclose(conv.grad_x_tilde, numeric_grad(loss_from_x_tilde, xp),
                               rtol=1e-6, atol=1e-8)
    assert np.abs(conv.grad_x_tilde[..., ~conv.keep]).sum() > 0  # exists where masked out


def test_network_gradients():
    rng = np.random.default_rng(4)
    layers = [MaskedConv2d(1, 2, 3, padding=1, mode="reflect", block=2, rng=rng), ReLU(),
              AvgPool2(), Dense(2 * 2 * 2, 3, rng=rng)]
    x = rng.normal(size=(3, 1, 4, 4))
    labels = np.array([0, 2, 1])

    def loss():
        out = x
        for layer in layers:
            out = layer.forward(out)
        return softmax_cross_entropy(out, labels)[0]

    loss()
    out = x
    for layer in layers:
        out = layer.forward(out)
    grad = softmax_cross_entropy(out, labels)[1]
    for layer in reversed(layers):
        grad = layer.backward(grad)
    np.testing.assert_allclose(grad, numeric_grad(loss, x), rtol=1e-5, atol=1e-9)
    for layer in (layers[0], layers[3]):
        np.testing.assert_allclose(layer.grad_w, numeric_grad(loss, layer.w), rtol=1e-5,
                                   atol=1e-9)


def test_denoising_network_gradients():
    """Masked conv, ReLU, per-pixel dense layer added to the input, mean squared error."""
    rng = np.random.default_rng(5)
    layers = [MaskedConv2d(1, 3, 3, padding=1, mode="reflect", block=2, rng=rng), ReLU(),
              PixelDense(3, 1, rng=rng, scale=1.0)]
    layers[2].b = rng.normal(size=1)
    x = rng.normal(size=(2, 1, 4, 4))
    target = rng.normal(size=(2, 1, 4, 4))

    def forward():
        out = x
        for layer in layers:
            out = layer.forward(out)
        return x + out

    def loss():
        return mean_squared_error(forward(), target)[0]

    grad = mean_squared_error(forward(), target)[1]
    for layer in reversed(layers):
        grad = layer.backward(grad)
    # the input's own path (x + ...) is not a parameter: check the parameters' gradients
    for layer in (layers[0], layers[2]):
        np.testing.assert_allclose(layer.grad_w, numeric_grad(loss, layer.w), rtol=1e-5,
                                   atol=1e-9)
        np.testing.assert_allclose(layer.grad_b, numeric_grad(loss, layer.b), rtol=1e-5,
                                   atol=1e-9)
    assert mean_squared_error(target, target)[0] == 0.0


@pytest.mark.parametrize("mode", ["zero", "replicate", "reflect"])
def test_pad_backward_is_the_adjoint(mode):
    # <pad(x), g> == <x, pad_backward(g)> for a linear padding
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 5))
    g = rng.normal(size=(2, 3 + 3, 5 + 4))
    pads = (2, 1, 3, 1)
    lhs = (golden.pad2d(x, pads, mode) * g).sum()
    rhs = (x * golden.pad2d_backward(g, 3, 5, pads, mode)).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12)
