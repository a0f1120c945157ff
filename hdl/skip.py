"""Mask-gated skip unit: decides, tap by tap, which multiplications are not performed.

A tap is *skipped by the mask* when it is a padding pixel whose block bit is 0. With
``zero_gating`` set in the frame, a tap that is not skipped by the mask but whose activation is
zero is *skipped by zero gating* (as in Eyeriss); the two are reported separately so the
performance counters can count them apart.

Combinational pass-through: no latency, ``o.valid = i.valid``, ``i.ready = o.ready``.
"""

from amaranth.hdl import Cat, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .window_layout import skip_layout, window_layout

__all__ = ["SkipUnit"]


class SkipUnit(wiring.Component):
    def __init__(self, params):
        self._params = params
        super().__init__({
            "i": In(stream.Signature(window_layout(params))),
            "o": Out(stream.Signature(skip_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        taps = self._params.taps
        window = self.i.payload
        by_mask = window.pad & ~window.keep
        zero = Cat(tap == 0 for tap in window.taps)
        m.d.comb += [
            self.o.payload.window.eq(window),
            self.o.payload.skip_mask.eq(by_mask),
            self.o.payload.skip_zero.eq(zero & ~by_mask & window.zero_gating.replicate(taps)),
            self.o.valid.eq(self.i.valid),
            self.i.ready.eq(self.o.ready),
        ]
        return m
