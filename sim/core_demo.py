"""One frame through the simulated core, checked against the golden model, and the Verilog of
the default configuration: the hardware half of ``padmask demo``."""

import time
from pathlib import Path

import numpy as np

from .. import golden
from ..hdl.core import ConvCore
from ..hdl.params import CoreParams

from .frames import FrameConfig, expected_outputs, frame_mask
from .harness import FrameSpec, run_core
from .stream import Scoreboard

__all__ = ["DEFAULT_FRAME", "simulate_frame", "write_verilog"]

DEFAULT_FRAME = FrameConfig(16, 16, cin=4, cout=4, padding=(1, 1, 1, 1), mode="reflect",
                            shift=8)


def simulate_frame(cfg=DEFAULT_FRAME, *, params=None, seed=0, bubbles=0.2, backpressure=0.2):
    """Run one random frame (random block mask) through the core; return a report dict."""
    params = params or CoreParams()
    rng = np.random.default_rng(seed)
    k = params.kernel
    x = rng.integers(-128, 128, (cfg.cin, cfg.height, cfg.width))
    w = rng.integers(-128, 128, (cfg.cout, cfg.cin, k, k))
    bias = rng.integers(-2000, 2000, cfg.cout)
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    mask = rng.integers(0, 2, grid).astype(bool)
    full = frame_mask(params, cfg, mask)
    started = time.perf_counter()
    result = run_core(params, [FrameSpec(cfg, x, full)], w=w, bias=bias, bubbles=bubbles,
                      backpressure=backpressure, seed=seed)
    seconds = time.perf_counter() - started
    expected = expected_outputs(params, cfg, x, w, bias, full)
    Scoreboard(expected).check(result.outputs)
    counts = golden.work_counts(cfg.height, cfg.width, cin=cfg.cin, cout=cfg.cout, kernel=k,
                                padding=cfg.padding, mask=mask, block=params.block)
    return {
        "frame": f"{cfg.height}x{cfg.width}x{cfg.cin} -> {cfg.cout} channels, {cfg.mode} "
                 f"padding {cfg.padding}, random mask (block {params.block})",
        "output_beats": len(expected),
        "exact": True,
        "errors": result.errors,
        "counters": result.counters,
        "golden_skipped": counts.macs_padding_skipped,
        "golden_performed": counts.macs_performed(),
        "cycles": result.cycles,
        "seconds": seconds,
        "bubbles": bubbles,
        "backpressure": backpressure,
    }


def write_verilog(path, params=None, name="padmask_core"):
    """Write the core's Verilog (Amaranth's builtin Yosys) and return the path."""
    from amaranth.back import verilog
    params = params or CoreParams()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = verilog.convert(ConvCore(params), name=name)
    path.write_text(text)
    return path
