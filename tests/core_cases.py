"""Shared helpers of the core tests: small elaborations and random frames."""

import numpy as np

from padmask import golden
from padmask.hdl.params import CoreParams
from padmask.sim.frames import FrameConfig, frame_mask, random_config
from padmask.sim.harness import FrameSpec

#: small elaborations that keep simulations fast, one per kernel size
SMALL = {
    1: CoreParams(kernel=1, lanes=2, max_height=7, max_width=7, max_cin=3, max_cout=3, block=2),
    3: CoreParams(kernel=3, lanes=2, max_height=8, max_width=8, max_cin=3, max_cout=5, block=2),
    5: CoreParams(kernel=5, lanes=3, max_height=7, max_width=9, max_cin=2, max_cout=3, block=4),
    7: CoreParams(kernel=7, lanes=1, max_height=8, max_width=7, max_cin=2, max_cout=2, block=4),
}


def weights(rng, params, cin, cout):
    k = params.kernel
    w = rng.integers(-(1 << (params.weight_width - 1)), 1 << (params.weight_width - 1),
                     (cout, cin, k, k))
    bias = rng.integers(-(1 << (params.bias_width - 1)), 1 << (params.bias_width - 1), cout)
    return w, bias


def mask_for(rng, params, cfg, kind):
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    mask = {"ones": np.ones(grid, bool), "zeros": np.zeros(grid, bool),
            "random": rng.integers(0, 2, grid).astype(bool)}[kind]
    return frame_mask(params, cfg, mask)


def frame(rng, params, cfg, kind="random", *, low=None, high=None):
    lo = -(1 << (params.act_width - 1)) if low is None else low
    hi = (1 << (params.act_width - 1)) if high is None else high
    x = rng.integers(lo, hi, (cfg.cin, cfg.height, cfg.width))
    return FrameSpec(cfg, x, mask_for(rng, params, cfg, kind))


def same_channels(cfg, cin, cout):
    return FrameConfig(**{**cfg.__dict__, "cin": cin, "cout": cout})


def random_frames(rng, params, count, *, kinds=("ones", "zeros", "random", "random")):
    """``count`` random frames sharing cin/cout (weights are loaded once per run)."""
    first = random_config(rng, params)
    frames = []
    for i in range(count):
        cfg = first if i == 0 else same_channels(random_config(rng, params), first.cin,
                                                 first.cout)
        frames.append(frame(rng, params, cfg, kinds[int(rng.integers(len(kinds)))]))
    return frames
