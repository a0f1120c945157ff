"""Run-time validation of a frame's configuration.

A frame whose applied configuration fails any check is rejected: its input beats are drained up
to and including the beat with ``last``, it produces no output, and the matching sticky error
flag is set. The next frame with a good configuration is processed normally.

Each field was range-checked when it was written (its register's ``invalid`` flag, see
:mod:`hdl.registers`); what is left to check here is what depends on several fields.
"""

from amaranth.hdl import Cat
from amaranth.lib import data

from .params import PadMode
from .regmap import CONFIG_REGISTERS

__all__ = ["frame_error_layout", "config_errors"]

#: error flags a frame start can raise, besides the input length error
_CROSS = ("reflect", "kernel")


def frame_error_layout():
    """The window generator's error pulses (a subset of :func:`hdl.regmap.error_layout`)."""
    names = [r.error for r in CONFIG_REGISTERS] + list(_CROSS) + ["length"]
    return data.StructLayout({name: 1 for name in names})


def config_errors(cfg, params):
    """Error flags (name -> expression) of applied configuration view ``cfg``."""
    k = params.kernel
    hp = cfg.height + cfg.pad_top + cfg.pad_bottom
    wp = cfg.width + cfg.pad_left + cfg.pad_right
    errors = {r.error: cfg.invalid[r.error] for r in CONFIG_REGISTERS}
    # the fields' combinations are checked only once every field is valid: one cause, one flag
    fields_ok = ~cfg.invalid.as_value().any()
    errors["reflect"] = fields_ok & (cfg.mode == PadMode.REFLECT) & Cat(
        cfg.pad_top >= cfg.height, cfg.pad_bottom >= cfg.height,
        cfg.pad_left >= cfg.width, cfg.pad_right >= cfg.width).any()
    errors["kernel"] = fields_ok & ((hp < k) | (wp < k))
    return errors
