"""Sequential restoring divider: ``floor(dividend / divisor)``, one quotient bit per cycle.

Precondition: ``dividend < divisor << quotient_width`` (the quotient fits its width); every use in
padmask guarantees it (a mean never exceeds its largest term, a score never exceeds 1.0).
Division by zero returns a quotient of 0 (callers treat that case before dividing).

Handshake: pulse ``start`` with the operands; ``done`` rises ``quotient_width + 1`` cycles later
and stays high with ``quotient`` until the next ``start``. ``start`` while busy restarts.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Divider", "divider_latency"]


def divider_latency(quotient_width):
    """Cycles from ``start`` to ``done``: one per quotient bit, plus the operand load."""
    return quotient_width + 1


class Divider(wiring.Component):
    def __init__(self, dividend_width, divisor_width, quotient_width):
        for name, value in (("dividend_width", dividend_width), ("divisor_width", divisor_width),
                            ("quotient_width", quotient_width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self._widths = (dividend_width, divisor_width, quotient_width)
        super().__init__({
            "start": In(1),
            "dividend": In(dividend_width),
            "divisor": In(divisor_width),
            "quotient": Out(quotient_width),
            "done": Out(1),
        })

    @property
    def latency(self):
        """Cycles from ``start`` to ``done``."""
        return divider_latency(self._widths[2])

    def elaborate(self, platform):
        m = Module()
        n, d, q = self._widths
        remainder = Signal(max(n, d + q))
        divisor = Signal(d)
        quotient = Signal(q)
        index = Signal(range(q))   # quotient bit being decided
        busy = Signal()
        finished = Signal()

        m.d.comb += [self.quotient.eq(quotient), self.done.eq(finished)]
        with m.If(self.start):
            m.d.sync += [remainder.eq(self.dividend), divisor.eq(self.divisor), quotient.eq(0),
                         index.eq(q - 1), busy.eq(1), finished.eq(0)]
        with m.Elif(busy):
            trial = divisor << index
            with m.If((divisor != 0) & (remainder >= trial)):
                m.d.sync += [remainder.eq(remainder - trial), quotient.bit_select(index, 1).eq(1)]
            with m.If(index == 0):
                m.d.sync += [busy.eq(0), finished.eq(1)]
            with m.Else():
                m.d.sync += index.eq(index - 1)
        return m
