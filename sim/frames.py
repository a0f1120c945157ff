"""Frame configurations and the beat-level expectations of the core, built from the golden model.

The hardware streams frames as beats; these helpers turn golden-model arrays into the beats that
go in and the beats that must come out, so tests and benchmarks compare bit for bit.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import golden
from ..hdl.params import PadMode

__all__ = ["FrameConfig", "input_beats", "expected_windows", "expected_outputs",
           "param_words", "mask_words", "expected_counters"]


@dataclass(frozen=True)
class FrameConfig:
    height: int
    width: int
    cin: int = 1
    cout: int = 1
    padding: tuple = (1, 1, 1, 1)   #: (top, bottom, left, right)
    mode: str = "zero"
    pad_value: int = 0
    stride: int = 1
    shift: int = 0
    zero_gating: bool = False

    def register_value(self):
        """Field values of the configuration registers (``hdl.regmap.config_layout``)."""
        top, bottom, left, right = self.padding
        return {
            "height": self.height, "width": self.width,
            "pad_top": top, "pad_bottom": bottom, "pad_left": left, "pad_right": right,
            "mode": PadMode.from_name(self.mode), "stride": self.stride,
            "pad_value": self.pad_value, "cin": self.cin, "cout": self.cout,
            "shift": self.shift, "zero_gating": int(self.zero_gating),
        }

    @property
    def padded(self):
        top, bottom, left, right = self.padding
        return self.height + top + bottom, self.width + left + right

    def output_size(self, kernel):
        hp, wp = self.padded
        return (hp - kernel) // self.stride + 1, (wp - kernel) // self.stride + 1

    def input_count(self):
        return self.height * self.width * self.cin

    def golden_kwargs(self, block):
        return dict(stride=self.stride, padding=self.padding, mode=self.mode,
                    pad_value=self.pad_value, block=block)


def input_beats(x, *, last=True):
    """``x`` ``(C, H, W)`` -> beats ``{"data", "last"}`` in raster order, channels innermost."""
    values = np.asarray(x).transpose(1, 2, 0).ravel()
    beats = [{"data": int(v), "last": 0} for v in values]
    if last and beats:
        beats[-1]["last"] = 1
    return beats


def frame_mask(params, cfg, mask):
    """The frame's block mask (its grid) -> the register file's bit vector (largest grid)."""
    grid_h, grid_w = params.grid_shape
    frame_grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    full = np.ones((grid_h, grid_w), dtype=bool)
    if mask is not None:
        full[:frame_grid[0], :frame_grid[1]] = mask
    return full


def mask_words(params, full_mask):
    """Largest-grid boolean mask -> 32-bit words of the register file."""
    bits = np.asarray(full_mask, dtype=bool).ravel()
    words = []
    for j in range(0, params.mask_bits, 32):
        chunk = bits[j:j + 32]
        words.append(int(sum(int(b) << i for i, b in enumerate(chunk))))
    return words


def _windows(array, k, stride):
    """``(..., Hp, Wp)`` -> ``(..., Ho, Wo, K*K)`` windows."""
    view = sliding_window_view(array, (k, k), axis=(-2, -1))[..., ::stride, ::stride, :, :]
    return view.reshape(view.shape[:-2] + (k * k,))


def expected_windows(params, cfg, x, full_mask):
    """Every window beat of a frame, in output order, as tuples (see ``window_tuple``)."""
    k = params.kernel
    xp = golden.pad2d(np.asarray(x, dtype=np.int64), cfg.padding, cfg.mode, cfg.pad_value)
    taps = _windows(xp, k, cfg.stride)                              # (C, Ho, Wo, KK)
    pad = _windows(golden.padding_map(cfg.height, cfg.width, cfg.padding), k, cfg.stride)
    hp, wp = cfg.padded
    rows = np.arange(hp) // params.block
    cols = np.arange(wp) // params.block
    keep_pixels = full_mask[rows[:, None], cols[None, :]]
    keep = _windows(keep_pixels, k, cfg.stride)
    ho, wo = taps.shape[1], taps.shape[2]
    groups = -(-cfg.cout // params.lanes)
    beats = []
    for oy in range(ho):
        for ox in range(wo):
            for g in range(groups):
                lanes = min(params.lanes, cfg.cout - g * params.lanes)
                for c in range(cfg.cin):
                    end = oy == ho - 1 and ox == wo - 1 and g == groups - 1 and c == cfg.cin - 1
                    beats.append((tuple(int(v) for v in taps[c, oy, ox]),
                                  _bits(pad[oy, ox]), _bits(keep[oy, ox]), c, g,
                                  g * params.max_cin + c,
                                  int(c == 0), int(c == cfg.cin - 1), int(end), lanes,
                                  cfg.shift, int(cfg.zero_gating)))
    return beats


def _bits(flags):
    return int(sum(int(f) << i for i, f in enumerate(flags)))


def window_tuple(payload, taps):
    """A sampled window payload -> the tuple :func:`expected_windows` produces."""
    return (tuple(payload.taps[t] for t in range(taps)), payload.pad, payload.keep,
            payload.channel, payload.group, payload.weight_addr, payload.first, payload.last,
            payload.end,
            payload.lanes, payload.shift, payload.zero_gating)


def expected_outputs(params, cfg, x, w, bias, full_mask):
    """Every output beat of a frame: ``(lane values, end)`` tuples, in output order."""
    frame_grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    mask = full_mask[:frame_grid[0], :frame_grid[1]]
    acc = golden.masked_conv2d(np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64),
                               bias=None if bias is None else np.asarray(bias, dtype=np.int64),
                               mask=mask, **cfg.golden_kwargs(params.block))
    y = golden.requantize(acc, cfg.shift, width=params.out_width)   # (Cout, Ho, Wo)
    groups = -(-cfg.cout // params.lanes)
    padded = np.zeros((groups * params.lanes,) + y.shape[1:], dtype=np.int64)
    padded[:cfg.cout] = y
    beats = []
    ho, wo = y.shape[1:]
    for oy in range(ho):
        for ox in range(wo):
            for g in range(groups):
                lanes = padded[g * params.lanes:(g + 1) * params.lanes, oy, ox]
                end = oy == ho - 1 and ox == wo - 1 and g == groups - 1
                beats.append((tuple(int(v) for v in lanes), int(end)))
    return beats


def output_tuple(payload, lanes):
    return (tuple(payload.data[i] for i in range(lanes)), payload.end)


def param_words(w, bias):
    """Weights ``(Cout, Cin, K, K)`` and biases ``(Cout,)`` -> parameter stream beats."""
    values = list(np.asarray(w).ravel()) + list(np.asarray(bias).ravel())
    beats = [{"data": int(v), "last": 0} for v in values]
    beats[-1]["last"] = 1
    return beats


def random_config(rng, params, *, max_height=None, max_width=None):
    """A random valid frame configuration for ``params`` (numpy Generator ``rng``)."""
    k = params.kernel
    mode = str(rng.choice(golden.MODES))
    for _ in range(1000):
        h = int(rng.integers(1, (max_height or params.max_height) + 1))
        w = int(rng.integers(1, (max_width or params.max_width) + 1))
        pads = [int(rng.integers(0, k)) for _ in range(4)]
        if mode == "reflect":
            pads = [min(pads[0], h - 1), min(pads[1], h - 1), min(pads[2], w - 1),
                    min(pads[3], w - 1)]
        if h + pads[0] + pads[1] >= k and w + pads[2] + pads[3] >= k:
            break
    return FrameConfig(
        height=h, width=w,
        cin=int(rng.integers(1, params.max_cin + 1)),
        cout=int(rng.integers(1, params.max_cout + 1)),
        padding=tuple(pads), mode=mode,
        pad_value=int(rng.integers(-(1 << (params.act_width - 1)), 1 << (params.act_width - 1))),
        stride=int(rng.choice((1, 2))),
        shift=int(rng.integers(0, 12)),
        zero_gating=bool(rng.integers(0, 2)),
    )


def gradient_beats(grad, padding):
    """Raw gradient codes ``(..., Hp, Wp)`` -> the mask generator's beats: padding positions
    only, plane after plane in raster order, ``last`` on the final one."""
    grad = np.asarray(grad)
    hp, wp = grad.shape[-2:]
    top, bottom, left, right = padding
    pad = golden.padding_map(hp - top - bottom, wp - left - right, padding)
    values = grad.reshape(-1, hp, wp)[:, pad].ravel()
    beats = [{"data": int(v), "last": 0} for v in values]
    if beats:
        beats[-1]["last"] = 1
    return beats


def expected_counters(params, frames):
    """The performance counters the golden model says ``frames`` (sim.harness.FrameSpec)
    leave: {"windows", "macs_performed", "macs_skipped_mask", "macs_skipped_zero"}."""
    totals = dict(windows=0, macs_performed=0, macs_skipped_mask=0, macs_skipped_zero=0)
    for f in frames:
        cfg = f.cfg
        grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
        counts = golden.work_counts(cfg.height, cfg.width, cin=cfg.cin, cout=cfg.cout,
                                    kernel=params.kernel, stride=cfg.stride, padding=cfg.padding,
                                    mask=f.full_mask[:grid[0], :grid[1]], block=params.block,
                                    x=f.x, mode=cfg.mode, pad_value=cfg.pad_value)
        ho, wo = cfg.output_size(params.kernel)
        totals["windows"] += ho * wo * -(-cfg.cout // params.lanes) * cfg.cin
        totals["macs_performed"] += counts.macs_performed(zero_gating=cfg.zero_gating)
        totals["macs_skipped_mask"] += counts.macs_padding_skipped
        totals["macs_skipped_zero"] += counts.macs_zero if cfg.zero_gating else 0
    return totals
