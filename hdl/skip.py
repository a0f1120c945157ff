"""Mask-gated skip unit: decides, tap by tap, which multiplications are not performed.

A tap is *skipped by the mask* when it is a padding pixel whose block bit is 0. With
``zero_gating`` set in the frame, a tap that is not skipped by the mask but whose activation is
zero is *skipped by zero gating* (as in Eyeriss); the two are reported separately so the
performance counters can count them apart.

One registered stage: the decision is computed from the window generator's output register and
lands in this unit's output skid buffer (latency 1 edge; ``i.ready`` is the buffer's registered
``ready``). With ``CoreParams.lean`` the unit is combinational (latency 0): the window
generator's output queue feeds the MAC array's input register through it, and the array's
``ready`` (a register) reaches only that queue.
"""

from amaranth.hdl import Cat, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .skid import SkidBuffer
from .window_layout import skip_layout, window_layout

__all__ = ["SkipUnit", "latency"]


def latency(params):
    """Register stages a window passes in the unit (with one, it is valid on ``o`` right after
    the edge that transfers it in)."""
    return 0 if params.lean else 1


class SkipUnit(wiring.Component):
    def __init__(self, params):
        self._params = params
        super().__init__({
            "i": In(stream.Signature(window_layout(params))),
            "o": Out(stream.Signature(skip_layout(params))),
        })
        # (created here, not in elaborate, so a formal harness can state what it holds)
        self._out = None if params.lean else SkidBuffer(skip_layout(params))

    def elaborate(self, platform):
        m = Module()
        taps = self._params.taps
        if self._params.lean:
            dest = self.o
        else:
            m.submodules.out = out = self._out
            wiring.connect(m, out.o, wiring.flipped(self.o))
            dest = out.i
        window = self.i.payload
        by_mask = window.pad & ~window.keep
        zero = Cat(tap == 0 for tap in window.taps)
        m.d.comb += [
            dest.payload.window.eq(window),
            dest.payload.skip_mask.eq(by_mask),
            dest.payload.skip_zero.eq(zero & ~by_mask & window.zero_gating.replicate(taps)),
            dest.valid.eq(self.i.valid),
            self.i.ready.eq(dest.ready),
        ]
        return m
