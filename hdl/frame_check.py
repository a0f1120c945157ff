"""Validation of a frame configuration, and the window generator's error flags.

A frame whose applied configuration has any error flag is rejected: its input beats are drained
up to and including the beat with ``last``, it produces no output, and the matching sticky error
flags are set. The next frame with a good configuration is processed normally.

Each field is range-checked when it is written (its register's flag, :mod:`hdl.registers`); the
checks that combine fields (:func:`cross_errors`) are computed from the staged configuration
and applied with it, so starting a frame only reads flags.
"""

from amaranth.hdl import Cat
from amaranth.lib import data

from .params import PadMode
from .regmap import CONFIG_ERRORS

__all__ = ["frame_error_layout", "cross_errors"]


def frame_error_layout():
    """The window generator's error pulses (a subset of :func:`hdl.regmap.error_layout`)."""
    return data.StructLayout({name: 1 for name in CONFIG_ERRORS + ("length",)})


def cross_errors(cfg, params):
    """The checks that combine fields of configuration view ``cfg`` (name -> expression); they
    are raised only when every field is in range (one cause, one flag)."""
    k = params.kernel
    fields_ok = ~Cat(cfg.errors[name] for name in CONFIG_ERRORS
                     if name not in ("reflect", "kernel")).any()
    hp = cfg.height + cfg.pad_top + cfg.pad_bottom
    wp = cfg.width + cfg.pad_left + cfg.pad_right
    return {
        "reflect": fields_ok & (cfg.mode == PadMode.REFLECT) & Cat(
            cfg.pad_top >= cfg.height, cfg.pad_bottom >= cfg.height,
            cfg.pad_left >= cfg.width, cfg.pad_right >= cfg.width).any(),
        "kernel": fields_ok & ((hp < k) | (wp < k)),
    }
