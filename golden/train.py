"""Training procedure with dynamic padding masking (NumPy, float64), on square one-channel images
(the workloads of :mod:`golden.workloads`; scikit-learn's digits by default).

Network: masked conv (1 -> 8 channels, 5x5, padding 2 on every side) -> ReLU -> 2x2 average
pooling -> dense -> one output per class, softmax cross-entropy, SGD with momentum. Denoising data
(targets that are images, not labels) trains masked conv -> ReLU -> a per-pixel dense layer
8 -> 1 added to the input (the network learns the correction), mean squared error; its score is
the PSNR over every output pixel, borders included.

Mask learning runs every ``mask_interval`` steps (default 8, about five updates per epoch):
after the backward pass of such a step, the gradient dL/dx~ of that step's batch goes through a
:class:`MaskLearner`, which returns the mask for the following steps and the new threshold
(:func:`golden.mask_update_fixed`, or the float :func:`golden.mask_update`). Static variants
(zero/replicate/reflect) use every block. The interval keeps the closed loop with the simulated
hardware (``padmask train --hardware``) affordable: each update streams the batch's padding
gradients through the simulated units, one value per cycle.

The held-out accuracy is measured with the final mask.
"""

import numbers
from dataclasses import dataclass, field

import numpy as np

from . import fixed
from ._check import check_choice, check_int
from .blocks import block_grid_shape, padding_blocks, random_block_mask
from .nn import (AvgPool2, Dense, MaskedConv2d, PixelDense, ReLU, mean_squared_error,
                 softmax_cross_entropy)
from .relevance import mask_update, mask_update_fixed, quantize_gradients
from .threshold import DIRECTIONS

__all__ = ["VARIANTS", "TrainConfig", "MaskLearner", "TrainResult", "load_digits", "train", "psnr"]

#: variant name -> (padding mode, mask direction or None for a static, all-included mask)
VARIANTS = {
    "zero": ("zero", None),
    "replicate": ("replicate", None),
    "reflect": ("reflect", None),
    "dynamic-pseudocode": (None, "pseudocode"),
    "dynamic-prose": (None, "prose"),
    "dynamic-density": (None, "density"),
}


@dataclass(frozen=True)
class TrainConfig:
    variant: str = "dynamic-pseudocode"
    seed: int = 0
    epochs: int = 20
    batch: int = 32
    learning_rate: float = 0.05
    momentum: float = 0.9
    channels: int = 8
    kernel: int = 5
    padding: int = 2
    block: int = 2
    dynamic_mode: str = "reflect"   #: padding mode of the dynamic variants
    threshold: float = 0.5          #: initial threshold
    threshold_lr: float = 0.05      #: learning rate of the threshold update
    #: dynamic-density: the share of padding blocks the threshold is steered to include
    target: float = 0.5
    mask_interval: int = 8          #: steps between mask updates (each uses that step's batch)
    #: the last epochs train with the mask fixed (no more updates), so the network settles on
    #: the mask it is tested and deployed with
    freeze_epochs: int = 0
    numerics: str = "fixed"         #: "fixed" (hardware twin) or "float" (the seed's pseudocode)
    #: static variants: train and test with a fixed random mask that includes this many padding
    #: blocks (golden.random_block_mask, drawn from the seed apart from the network's draws),
    #: the baseline of a learned mask of that density; None: every block included
    random_included: int = None
    #: which draw of that random mask: draw d comes from its own stream, so baselines can
    #: average several masks per seed
    random_draw: int = 0

    def __post_init__(self):
        check_choice("variant", self.variant, tuple(VARIANTS))
        check_choice("numerics", self.numerics, ("fixed", "float"))
        for name in ("epochs", "batch", "channels", "kernel", "block", "mask_interval"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("padding", self.padding, minimum=0)
        check_int("random_draw", self.random_draw, minimum=0)
        check_int("freeze_epochs", self.freeze_epochs, minimum=0)
        if VARIANTS[self.variant][1] is not None and self.freeze_epochs >= self.epochs:
            raise ValueError(f"freeze_epochs must be below epochs ({self.epochs}) for a variant "
                             f"that learns its mask, not {self.freeze_epochs}")
        if isinstance(self.target, bool) or not isinstance(self.target, numbers.Real):
            raise TypeError(f"target must be a real number, not {self.target!r}")
        if not 0 <= self.target <= 1:
            raise ValueError(f"target must be a share within [0, 1], not {self.target!r}")
        if self.random_included is not None:
            check_int("random_included", self.random_included, minimum=0)
            if VARIANTS[self.variant][1] is not None:
                raise ValueError(f"random_included is for the static variants, not "
                                 f"{self.variant!r}, which learns its mask")

    @property
    def mode(self):
        return VARIANTS[self.variant][0] or self.dynamic_mode

    @property
    def direction(self):
        return VARIANTS[self.variant][1]


class MaskLearner:
    """dL/dx~ of a batch -> (mask, threshold) for the next steps, in golden float or fixed point.

    Thresholds are reported as floats; on the fixed path ``threshold_raw`` is the exact code.
    """

    def __init__(self, *, padding, block, threshold, learning_rate, direction, numerics="fixed",
                 target=None):
        check_choice("direction", direction, DIRECTIONS)
        check_choice("numerics", numerics, ("fixed", "float"))
        self.padding, self.block, self.direction, self.numerics = padding, block, direction, numerics
        self.target = target if direction == "density" else None
        if direction == "density" and (isinstance(target, bool)
                                       or not isinstance(target, numbers.Real)
                                       or not 0 <= target <= 1):
            raise ValueError(f"target must be a share within [0, 1] for direction 'density', "
                             f"not {target!r}")
        if numerics == "fixed":
            self.threshold_raw = fixed.THRESHOLD.from_float(threshold)
            self.learning_rate_raw = fixed.LEARNING_RATE.from_float(learning_rate)
            self.threshold = fixed.THRESHOLD.to_float(self.threshold_raw)
            self.target_raw = (None if self.target is None
                               else fixed.THRESHOLD.from_float(self.target))
        else:
            self.threshold, self.learning_rate = float(threshold), float(learning_rate)

    def update(self, grad_x_tilde):
        if self.numerics == "fixed":
            raw, _ = quantize_gradients(grad_x_tilde)
            result = mask_update_fixed(raw, self.padding, self.block, self.threshold_raw,
                                       self.learning_rate_raw, self.direction, self.target_raw)
            self.threshold_raw = result.threshold
            self.threshold = fixed.THRESHOLD.to_float(result.threshold)
        else:
            result = mask_update(grad_x_tilde, self.padding, self.block, self.threshold,
                                 self.learning_rate, self.direction, self.target)
            self.threshold = result.threshold
        return result.mask, self.threshold


@dataclass
class TrainResult:
    config: TrainConfig
    test_accuracy: float    #: classification: held-out accuracy (fraction); denoising: None
    epoch_losses: list = field(default_factory=list)
    thresholds: list = field(default_factory=list)      #: after every mask update (initial first)
    included: list = field(default_factory=list)        #: fraction of padding blocks included
    masks: list = field(default_factory=list)           #: every mask (dynamic variants)
    mask: np.ndarray = None                             #: final mask
    pad_blocks: np.ndarray = None
    hardware: dict = None   #: closed loop only: {"updates", "mismatches"} against golden
    layers: list = None     #: the trained network (conv first), as :func:`classify` takes it
    #: the held-out score: "accuracy" (percent) or "psnr_db" (denoising: dB, peak 1.0)
    metric: str = "accuracy"
    score: float = None

    def classify(self, conv_output):
        """Labels from the conv layer's output ``(N, Cout, H, W)``: the rest of the trained
        network (ReLU, pooling, dense), e.g. on the output of the deployed int8 layer."""
        return _forward(self.layers[1:], conv_output).argmax(axis=1)


def load_digits(split_seed=0, test_fraction=0.25):
    """Digits (8x8, 0..16) standardized with the training set's mean and std; fixed split."""
    from sklearn.datasets import load_digits as _load  # bundled with scikit-learn: no download
    digits = _load()
    images = digits.images.astype(np.float64)[:, None]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(split_seed).permutation(len(labels))
    cut = int(round(len(labels) * (1 - test_fraction)))
    train_idx, test_idx = order[:cut], order[cut:]
    mean, std = images[train_idx].mean(), images[train_idx].std()
    images = (images - mean) / std
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def _network(config, rng, size, classes):
    """``classes`` None: the denoising network (its output, added to the input, is the image)."""
    conv = MaskedConv2d(1, config.channels, config.kernel, padding=config.padding,
                        mode=config.mode, block=config.block, rng=rng)
    if classes is None:
        if config.kernel != 2 * config.padding + 1:
            raise ValueError(f"denoising needs the output as large as the input: kernel must be "
                             f"2 * padding + 1, not {config.kernel} with padding "
                             f"{config.padding}")
        return conv, [conv, ReLU(), PixelDense(config.channels, 1, rng=rng)]
    side = size + 2 * config.padding - config.kernel + 1
    if side < 2 or side % 2:
        raise ValueError(f"kernel and padding must give an even conv output side, not {side}")
    dense = Dense(config.channels * (side // 2) ** 2, classes, rng=rng)
    return conv, [conv, ReLU(), AvgPool2(), dense]


def _forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def psnr(prediction, target, peak=1.0):
    """Peak signal-to-noise ratio in dB over every pixel."""
    mse = float(np.mean((np.asarray(prediction) - np.asarray(target)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak ** 2 / mse)


def train(config, data, *, learner=None, progress=None):
    """Train one network; ``progress(steps)`` is called after every step if given.

    ``learner`` overrides the golden :class:`MaskLearner` of the dynamic variants (same
    interface: ``update(grad_x_tilde) -> (mask, threshold)``).
    """
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(config.seed)
    height, width = x_train.shape[-2:]
    if height != width:
        raise ValueError(f"data must hold square images, not {height}x{width}")
    denoising = np.ndim(y_train) == 4   # targets are images
    classes = None if denoising else int(max(y_train.max(), y_test.max())) + 1
    conv, layers = _network(config, rng, height, classes)
    dynamic = config.direction is not None
    if dynamic and learner is None:
        learner = MaskLearner(padding=config.padding, block=config.block,
                              threshold=config.threshold, learning_rate=config.threshold_lr,
                              direction=config.direction, numerics=config.numerics,
                              target=config.target)
    result = TrainResult(config, 0.0, layers=layers)
    result.pad_blocks = padding_blocks(height, width, config.padding, config.block)
    if config.random_included is not None:
        # (its own random stream: the network starts as the same seed's other variants do)
        conv.set_mask(random_block_mask(height, width, config.padding, config.block,
                                        config.random_included,
                                        np.random.default_rng((config.seed,
                                                               1 + config.random_draw))),
                      height, width)
    if dynamic:
        result.thresholds.append(learner.threshold)
        result.included.append(1.0)
    velocity = [np.zeros_like(p) for layer in layers for p, _ in layer.params()]
    step = 0
    for epoch in range(config.epochs):
        learning = dynamic and epoch < config.epochs - config.freeze_epochs
        order = rng.permutation(len(y_train))
        losses = []
        for start in range(0, len(order), config.batch):
            idx = order[start:start + config.batch]
            if denoising:
                loss, grad = mean_squared_error(x_train[idx] + _forward(layers, x_train[idx]),
                                                y_train[idx])
            else:
                loss, grad = softmax_cross_entropy(_forward(layers, x_train[idx]),
                                                   y_train[idx])
            losses.append(loss)
            for layer in reversed(layers):
                grad = layer.backward(grad)
            params = [(p, getattr(layer, g)) for layer in layers for p, g in layer.params()]
            for (param, g), v in zip(params, velocity, strict=True):
                v *= config.momentum
                v -= config.learning_rate * g
                param += v
            step += 1
            if learning and step % config.mask_interval == 0:
                mask, threshold = learner.update(conv.grad_x_tilde)
                conv.set_mask(mask, height, width)
                result.thresholds.append(threshold)
                result.included.append(float(mask[result.pad_blocks].mean()))
                result.masks.append(mask)
            if progress is not None:
                progress(1)
        result.epoch_losses.append(float(np.mean(losses)))
    if denoising:
        result.test_accuracy = None
        result.metric, result.score = "psnr_db", psnr(x_test + _forward(layers, x_test), y_test)
    else:
        logits = _forward(layers, x_test)
        result.test_accuracy = float((logits.argmax(axis=1) == y_test).mean())
        result.score = 100 * result.test_accuracy
    result.mask = conv.mask if conv.mask is not None else np.ones(
        block_grid_shape(height, width, config.padding, config.block), dtype=bool)
    return result


def steps_per_run(config, n_train):
    return config.epochs * -(-n_train // config.batch)
