"""Sequential restoring divider: ``floor(dividend / divisor)``, one quotient bit per cycle.

Precondition: ``dividend < divisor << quotient_width`` (the quotient fits its width); every use in
padmask guarantees it (a mean never exceeds its largest term, a score never exceeds 1.0).
Division by zero returns a quotient of 0 (callers treat that case before dividing).

The partial remainder, not the divisor, shifts: each cycle brings the next dividend bit in and
compares with the divisor, so the per-cycle logic is one subtraction as wide as the divisor plus
one bit, whatever the dividend's width.

Handshake: pulse ``start`` with the operands; ``done`` rises ``quotient_width + 1`` cycles later
and stays high with ``quotient`` until the next ``start``. ``start`` while busy restarts.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
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
        n = max(n, q)
        high = n - q                       # dividend bits above the quotient's: < divisor
        remainder = Signal(d + 1)          # partial remainder (< 2 * divisor before a step)
        low_bits = Signal(q)               # dividend bits still to bring in, most significant up
        divisor = Signal(d)
        quotient = Signal(q)
        count = Signal(range(q + 1))       # quotient bits still to decide
        finished = Signal()

        m.d.comb += [self.quotient.eq(quotient), self.done.eq(finished)]
        with m.If(self.start):
            top = self.dividend.as_unsigned()[q:n] if high else 0
            m.d.sync += [remainder.eq(top), low_bits.eq(self.dividend[:q]),
                         divisor.eq(self.divisor), quotient.eq(0), count.eq(q),
                         finished.eq(0)]
        with m.Elif(count != 0):
            trial = Cat(low_bits[-1], remainder)          # remainder * 2 + next bit
            take = (divisor != 0) & (trial >= divisor)
            m.d.sync += [
                remainder.eq(Mux(take, trial - divisor, trial)),
                low_bits.eq(low_bits << 1),
                quotient.eq(Cat(take, quotient)),
                count.eq(count - 1),
            ]
            with m.If(count == 1):
                m.d.sync += finished.eq(1)
        return m
