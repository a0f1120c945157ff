"""Skid buffer: a registered boundary between two stream units.

Two entries: the output register and a spare ("skid") register. ``i.ready`` is a register (the
spare is empty), and ``o.valid`` and ``o.payload`` come from registers, so no combinational path
crosses the buffer in either direction: the consumer's ``ready`` reaches one stage, the
producer's ``valid`` none. Full throughput (one beat per cycle) with the consumer always ready;
latency one cycle.

Used at every boundary between the core's units and at its ports, and as the output stage of
each pipelined unit: the unit's stages all advance with ``i.ready`` of its output skid buffer
(a register), which is also the unit's own input ``ready``.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SkidBuffer"]


class SkidBuffer(wiring.Component):
    """``shape``: the payload shape (a layout)."""

    def __init__(self, shape):
        self._shape = shape
        super().__init__({
            "i": In(stream.Signature(shape)),
            "o": Out(stream.Signature(shape)),
        })
        # (created here, not in elaborate, so a formal harness can state what they hold)
        self._spare = Signal(shape, name="spare")
        self._full = Signal(name="full")   # the spare register holds a beat

    def elaborate(self, platform):
        m = Module()
        spare, full = self._spare, self._full
        m.d.comb += self.i.ready.eq(~full)
        with m.If(~full):
            with m.If(self.o.valid & ~self.o.ready):
                # the output waits: an arriving beat goes to the spare register
                m.d.sync += [spare.eq(self.i.payload), full.eq(self.i.valid)]
            with m.Else():
                m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid)]
        with m.Elif(self.o.ready):
            m.d.sync += [self.o.payload.eq(spare), full.eq(0)]  # o.valid stays high
        return m
