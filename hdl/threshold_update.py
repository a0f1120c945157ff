"""Threshold-update unit: the fixed-point twin of :func:`golden.threshold_update_fixed`.

Given the sums and counts of the masked-out and included scores (from the mask generator), for
``direction`` 0 ("pseudocode") and 1 ("prose")::

    avg_out   = floor(sum_out / n_out)      (0 if n_out = 0)      UQ(1, 15)
    avg_in    = floor(sum_in / n_in)        (0 if n_in = 0)       UQ(1, 15)
    gap       = avg_out - avg_in   (direction 1, "prose": avg_in - avg_out)   SQ(2, 15)
    delta     = floor((gap * learning_rate + 2**15) / 2**16)                  SQ(2, 15)
    threshold = clamp(threshold + delta, 0, 2**15)  unless n_out = 0 or n_in = 0 (unchanged)

and for direction 2 ("density"; ``target`` a ``UQ(1, 15)`` share), the second division
replaced and the gap taken from its quotient::

    share     = floor(n_in * 2**15 / (n_in + n_out))              UQ(1, 15)
    gap       = share - target                                    SQ(2, 15)
    delta, threshold as above, unless n_in + n_out = 0 (unchanged); avg_in reads 0

(the comparison rules' ``share`` reads 0). Direction 3 is never applied (the LEARNING register
refuses it); the unit takes it as 2: its high bit alone says "density".

Handshake: pulse ``start``; ``done`` pulses :data:`LATENCY` cycles later with ``new_threshold``
and the intermediates (``avg_out``, ``avg_in``, ``share``, ``delta``), which hold until the next
start. ``start`` while busy is ignored. Two divisions on one sequential divider, then the gap,
the product (the unit's one DSP block, its operands and result registered), the rounded delta
and the clamped threshold, a register each; every rule takes the same path, so the latency is
the same for all three.

A ``target`` above 1.0 is not refused here (the register block refuses it): the gap still fits
its register and the clamp still bounds the threshold.
"""

from amaranth.hdl import Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..golden import fixed

from .divider import Divider, divider_latency
from .mask_gen import SCORE_WIDTH, totals_layout

__all__ = ["ThresholdUpdater", "LATENCY"]

#: clock edges from the one that takes ``start`` to the first cycle with ``done`` high
LATENCY = 2 * divider_latency(SCORE_WIDTH) + 7


class ThresholdUpdater(wiring.Component):
    def __init__(self, params):
        self._params = params
        super().__init__({
            "start": In(1),
            "totals": In(totals_layout(params)),
            "threshold": In(SCORE_WIDTH),
            "learning_rate": In(fixed.LEARNING_RATE.width),
            "direction": In(2),
            "target": In(SCORE_WIDTH),
            "new_threshold": Out(SCORE_WIDTH),
            "avg_out": Out(SCORE_WIDTH),
            "avg_in": Out(SCORE_WIDTH),
            "share": Out(SCORE_WIDTH),
            "delta": Out(signed(fixed.THRESHOLD_DELTA.width + 1)),
            "done": Out(1),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        layout = totals_layout(self._params)
        sum_width = Shape.cast(layout["sum_out"].shape).width
        count_width = Shape.cast(layout["n_out"].shape).width
        # The density rule's division fits the divider built for the means: n_in + n_out counts
        # padding blocks, at most mask_bits, so it fits a count; n_in << 15 fits the sums' width
        # (a score's 16 bits plus a count's); and n_in <= n_in + n_out keeps the quotient
        # within 16 bits, as the divider requires.
        assert self._params.mask_bits < 1 << count_width
        assert count_width + fixed.THRESHOLD.f_bits <= sum_width
        totals = Signal.like(self.totals)
        threshold = Signal(SCORE_WIDTH)
        rate = Signal(fixed.LEARNING_RATE.width)
        direction = Signal(2)
        target = Signal(SCORE_WIDTH)
        density = direction[1]          # codes 2 and 3 (3 never comes from the register)
        m.submodules.divider = divider = Divider(sum_width, count_width, SCORE_WIDTH)
        avg_out = Signal(SCORE_WIDTH)
        avg_in = Signal(SCORE_WIDTH)
        share = Signal(SCORE_WIDTH)
        delta = Signal(signed(fixed.THRESHOLD_DELTA.width + 1))
        new = Signal(SCORE_WIDTH)
        m.d.comb += [self.avg_out.eq(avg_out), self.avg_in.eq(avg_in), self.share.eq(share),
                     self.delta.eq(delta), self.new_threshold.eq(new)]

        # (a target up to 2**16 - 1 still fits: share - target >= -(2**16 - 1))
        gap = Signal(signed(SCORE_WIDTH + 2))
        product = Signal(signed(SCORE_WIDTH + 2 + fixed.LEARNING_RATE.width + 1))
        half = 1 << (fixed.LEARNING_RATE.f_bits - 1)
        rounded = (product + half) >> fixed.LEARNING_RATE.f_bits
        moved = Signal(signed(SCORE_WIDTH + 3))
        m.d.comb += moved.eq(threshold + delta)
        # nothing to compare (either set empty), or for density no padding block at all
        empty = Mux(density, (totals.n_out == 0) & (totals.n_in == 0),
                    (totals.n_out == 0) | (totals.n_in == 0))

        done = Signal()  # pulses in the first IDLE cycle, so a new start is taken at once
        m.d.sync += done.eq(0)
        m.d.comb += self.done.eq(done)

        # The divider starts from registers: ``div_go`` (set on the edge that enters a DIVIDE
        # state) and ``second`` choosing the operands with the stored direction; its start
        # reaches every bit of it. The density rule's divisor is a register too, added while
        # the first division runs, so no adder sits in front of the divider.
        div_go = Signal()
        second = Signal()
        total = Signal(count_width)     # n_in + n_out (fits: see above)
        m.d.sync += div_go.eq(0)
        m.d.comb += [
            divider.start.eq(div_go),
            divider.dividend.eq(Mux(second, Mux(density, totals.n_in << fixed.THRESHOLD.f_bits,
                                                totals.sum_in), totals.sum_out)),
            divider.divisor.eq(Mux(second, Mux(density, total, totals.n_in), totals.n_out)),
        ]

        with m.FSM(name="threshold_update"):
            with m.State("IDLE"):
                with m.If(self.start):
                    # (avg_in and share cleared: the rule that does not compute one reads 0)
                    m.d.sync += [totals.eq(self.totals), threshold.eq(self.threshold),
                                 rate.eq(self.learning_rate), direction.eq(self.direction),
                                 target.eq(self.target), avg_in.eq(0), share.eq(0),
                                 div_go.eq(1), second.eq(0)]
                    m.next = "DIVIDE_OUT"
            with m.State("DIVIDE_OUT"):     # the division starts (div_go)
                m.d.comb += self.busy.eq(1)
                m.d.sync += total.eq(totals.n_in + totals.n_out)
                m.next = "WAIT_OUT"
            with m.State("WAIT_OUT"):
                m.d.comb += self.busy.eq(1)
                with m.If(divider.done):
                    m.d.sync += [avg_out.eq(divider.quotient), div_go.eq(1), second.eq(1)]
                    m.next = "DIVIDE_IN"
            with m.State("DIVIDE_IN"):      # the second division starts
                m.d.comb += self.busy.eq(1)
                m.next = "WAIT_IN"
            with m.State("WAIT_IN"):
                m.d.comb += self.busy.eq(1)
                with m.If(divider.done):
                    with m.If(density):
                        m.d.sync += share.eq(divider.quotient)
                    with m.Else():
                        m.d.sync += avg_in.eq(divider.quotient)
                    m.next = "GAP"
            with m.State("GAP"):
                m.d.comb += self.busy.eq(1)
                # one subtraction, its operands chosen by the rule
                minuend = Mux(density, share, Mux(direction[0], avg_in, avg_out))
                subtrahend = Mux(density, target, Mux(direction[0], avg_out, avg_in))
                m.d.sync += gap.eq(minuend - subtrahend)
                m.next = "PRODUCT"
            with m.State("PRODUCT"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += product.eq(gap * rate)
                m.next = "DELTA"
            with m.State("DELTA"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += delta.eq(Mux(empty, 0, rounded))
                m.next = "CLAMP"
            with m.State("CLAMP"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [new.eq(Mux(moved < 0, 0, Mux(moved > fixed.ONE, fixed.ONE, moved))),
                             done.eq(1)]
                m.next = "IDLE"
        return m
