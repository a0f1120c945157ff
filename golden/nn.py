"""Minimal NumPy layers for training a CNN with dynamic padding masking (float64).

Only what the training procedure needs: a masked convolution (the golden forward pass, with its
backward pass), ReLU, 2x2 average pooling, a dense layer and softmax cross-entropy for
classification; a per-pixel dense layer (a 1x1 convolution) and the mean squared error for
denoising.
"""

import numpy as np

from .blocks import check_mask
from .conv import conv2d_backward, conv_padded, masked_input
from .padding import normalize_padding, pad2d_backward

__all__ = ["MaskedConv2d", "ReLU", "AvgPool2", "Dense", "PixelDense", "softmax_cross_entropy",
           "mean_squared_error"]


class MaskedConv2d:
    """Convolution layer whose padding blocks are gated by ``self.mask`` (None = all included).

    After :meth:`backward`, ``grad_x_tilde`` holds dL/dx~ for every padding pixel, masked-out
    ones included: the input of the relevance computation.
    """

    def __init__(self, cin, cout, kernel, *, padding, mode, block, rng, stride=1):
        scale = np.sqrt(2.0 / (cin * kernel * kernel))
        self.w = rng.normal(0.0, scale, (cout, cin, kernel, kernel))
        self.b = np.zeros(cout)
        self.stride = stride
        self.padding = normalize_padding(padding)
        self.mode = mode
        self.block = block
        self.mask = None

    def set_mask(self, mask, height, width):
        self.mask = None if mask is None else check_mask(mask, height, width, self.padding,
                                                         self.block)

    def forward(self, x):
        self.x_shape = x.shape
        self.xp, self.keep = masked_input(x, padding=self.padding, mode=self.mode,
                                          mask=self.mask, block=self.block)
        return conv_padded(self.xp, self.w, self.stride, self.b)

    def backward(self, grad_y):
        self.grad_x_tilde, self.grad_w = conv2d_backward(self.xp, self.w, grad_y, self.stride)
        self.grad_b = grad_y.sum(axis=(0, 2, 3))
        # x~ = keep * pad(x): masked-out pixels pass no gradient back to x.
        return pad2d_backward(self.grad_x_tilde * self.keep, self.x_shape[-2], self.x_shape[-1],
                              self.padding, self.mode)

    def params(self):
        return [(self.w, "grad_w"), (self.b, "grad_b")]


class ReLU:
    def forward(self, x):
        self.positive = x > 0
        return np.where(self.positive, x, 0.0)

    def backward(self, grad):
        return np.where(self.positive, grad, 0.0)

    def params(self):
        return []


class AvgPool2:
    """2x2 average pooling, stride 2 (frame sides must be even)."""

    def forward(self, x):
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))

    def backward(self, grad):
        return np.repeat(np.repeat(grad, 2, axis=2), 2, axis=3) / 4.0

    def params(self):
        return []


class Dense:
    def __init__(self, fan_in, fan_out, *, rng):
        self.w = rng.normal(0.0, np.sqrt(1.0 / fan_in), (fan_in, fan_out))
        self.b = np.zeros(fan_out)

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.w + self.b

    def backward(self, grad):
        self.grad_w = self.x.T @ grad
        self.grad_b = grad.sum(axis=0)
        return (grad @ self.w.T).reshape(self.x_shape)

    def params(self):
        return [(self.w, "grad_w"), (self.b, "grad_b")]


class PixelDense:
    """The same dense layer at every pixel (a 1x1 convolution), ``(N, Cin, H, W) -> (N, Cout,
    H, W)``. Starts small, so a residual network starts near the identity."""

    def __init__(self, cin, cout, *, rng, scale=0.1):
        self.w = rng.normal(0.0, scale * np.sqrt(1.0 / cin), (cout, cin))
        self.b = np.zeros(cout)

    def forward(self, x):
        self.x = x
        return np.einsum("nchw,oc->nohw", x, self.w) + self.b[:, None, None]

    def backward(self, grad):
        self.grad_w = np.einsum("nohw,nchw->oc", grad, self.x)
        self.grad_b = grad.sum(axis=(0, 2, 3))
        return np.einsum("nohw,oc->nchw", grad, self.w)

    def params(self):
        return [(self.w, "grad_w"), (self.b, "grad_b")]


def mean_squared_error(prediction, target):
    """Mean squared error over every element and its gradient with respect to ``prediction``."""
    diff = prediction - target
    return float((diff ** 2).mean()), 2.0 * diff / diff.size


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -log_p[np.arange(n), labels].mean()
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n
