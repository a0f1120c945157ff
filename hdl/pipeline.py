"""Pipeline registers of the stall-free units (window reader, MAC array).

Every stage register loads on every edge. Only valid bits (and state a unit reads back, such as
the low-water mark) keep a reset: data registers follow their valid bit, and a reset on each
would cost a reset net to every bit and keep Yosys from putting them into block-RAM output
registers.
"""

from amaranth.hdl import Signal

__all__ = ["stage", "copies", "KEEP"]

#: attributes of a register that duplicates another on purpose, to split a fan-out so that each
#: copy can sit beside its loads: synthesis must not merge it with its twins (``padmask synth``
#: puts the attribute on the flip-flops, where Yosys's ``opt_merge`` looks for it). The
#: original carries it too: otherwise Yosys merges the original into one of the copies.
KEEP = {"keep": 1}


def stage(m, name, shape, value, *, keep_reset=False, copy=False):
    """A register ``name`` of ``shape`` loaded with ``value`` on every edge of ``m.d.sync``.

    ``copy``: the register duplicates another one on purpose (:data:`KEEP`)."""
    reg = Signal(shape, name=name, reset_less=not keep_reset, attrs=KEEP if copy else {})
    m.d.sync += reg.eq(value)
    return reg


def copies(m, name, value, count):
    """``count`` one-bit registers ``name0``, ``name1``, ... loaded with ``value`` on every edge
    of ``m.d.sync``, kept apart in synthesis (:data:`KEEP`)."""
    regs = [Signal(name=f"{name}{i}", attrs=KEEP) for i in range(count)]
    m.d.sync += [reg.eq(value) for reg in regs]
    return regs
