"""Pipeline registers of the stall-free units (window reader, MAC array).

Every stage register loads on every edge. Only valid bits (and state a unit reads back, such as
the low-water mark) keep a reset: data registers follow their valid bit, and a reset on each
would cost a reset net to every bit and keep Yosys from putting them into block-RAM output
registers.
"""

from amaranth.hdl import Signal

__all__ = ["stage"]


def stage(m, name, shape, value, *, keep_reset=False):
    """A register ``name`` of ``shape`` loaded with ``value`` on every edge of ``m.d.sync``."""
    reg = Signal(shape, name=name, reset_less=not keep_reset)
    m.d.sync += reg.eq(value)
    return reg
