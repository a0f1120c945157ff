"""Performance counters: :data:`hdl.regmap.COUNTER_WIDTH`-bit accumulators that never wrap
silently.

Each counter adds its increment every cycle. A carry out of the top bit sets the counter's sticky
``overflow`` bit (the counter itself wraps: it keeps counting modulo ``2**COUNTER_WIDTH``).
``clear`` zeroes every counter and every overflow bit; ``clear_overflow`` clears the chosen
overflow bits (COUNTER_OVERFLOW is write-1-to-clear).
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .regmap import COUNTER_WIDTH

__all__ = ["PerfCounters"]


class PerfCounters(wiring.Component):
    """``increments``: a dict of counter name -> increment shape, in register order;
    ``width``: bits of every counter (the core's are :data:`hdl.regmap.COUNTER_WIDTH`)."""

    def __init__(self, increments, *, width=COUNTER_WIDTH):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive integer, not {width!r}")
        self._names = tuple(increments)
        self._width = width
        super().__init__({
            "increment": In(data.StructLayout(dict(increments))),
            "clear": In(1),
            "clear_overflow": In(len(self._names)),
            "value": Out(data.ArrayLayout(width, len(self._names))),
            "overflow": Out(len(self._names)),
        })

    @property
    def names(self):
        return self._names

    def elaborate(self, platform):
        m = Module()
        for i, name in enumerate(self._names):
            total = Signal(self._width + 1, name=f"{name}_next")
            m.d.comb += total.eq(self.value[i] + self.increment[name])
            with m.If(self.clear):
                m.d.sync += [self.value[i].eq(0), self.overflow[i].eq(0)]
            with m.Else():
                m.d.sync += self.value[i].eq(total[:self._width])
                with m.If(total[self._width]):
                    m.d.sync += self.overflow[i].eq(1)
                with m.Elif(self.clear_overflow[i]):
                    m.d.sync += self.overflow[i].eq(0)
        return m
