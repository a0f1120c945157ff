"""Run-time validation of a frame configuration, and the error flags of the core.

A frame whose configuration fails any check is rejected: its input beats are drained up to and
including the beat with ``last``, it produces no output, and the matching sticky error flag is
set. The next frame with a good configuration is processed normally.
"""

from amaranth.hdl import Cat
from amaranth.lib import data

from .params import PadMode

__all__ = ["error_layout", "config_errors"]


def error_layout():
    return data.StructLayout({
        "frame_size": 1,   # height or width is 0 or above the elaborated maximum
        "pad": 1,          # a pad is >= K
        "reflect": 1,      # reflect mode with a pad >= the frame size on its axis
        "stride": 1,       # stride other than 1 or 2
        "channels": 1,     # cin or cout is 0 or above the elaborated maximum
        "kernel": 1,       # the padded frame is smaller than the kernel
        "shift": 1,        # shift above the accumulator width
        "length": 1,       # the input frame had more or fewer beats than configured
        "param": 1,        # the parameter stream was malformed (see ParamLoader)
        "grad_length": 1,  # a gradient update's last value was not at the end of a plane
        "busy_write": 1,   # threshold or mask shadow written while an update was running
        "threshold": 1,    # threshold written above 1.0 (2**15)
    })


def config_errors(cfg, params):
    """Error bits (``error_layout`` fields, config part) of frame configuration view ``cfg``."""
    p = params
    k = p.kernel
    hp = cfg.height + cfg.pad_top + cfg.pad_bottom
    wp = cfg.width + cfg.pad_left + cfg.pad_right
    pads = (cfg.pad_top, cfg.pad_bottom, cfg.pad_left, cfg.pad_right)
    return {
        "frame_size": ((cfg.height == 0) | (cfg.height > p.max_height) |
                       (cfg.width == 0) | (cfg.width > p.max_width)),
        "pad": Cat(pad >= k for pad in pads).any(),
        "reflect": (cfg.mode == PadMode.REFLECT) & (
            (cfg.pad_top >= cfg.height) | (cfg.pad_bottom >= cfg.height) |
            (cfg.pad_left >= cfg.width) | (cfg.pad_right >= cfg.width)),
        "stride": (cfg.stride != 1) & (cfg.stride != 2),
        "channels": ((cfg.cin == 0) | (cfg.cin > p.max_cin) |
                     (cfg.cout == 0) | (cfg.cout > p.max_cout)),
        "kernel": (hp < k) | (wp < k),
        "shift": cfg.shift > p.acc_width,
    }
