"""Output queue of a stall-free pipeline, with credits.

A deep pipeline that stalls as a whole needs one enable reaching every register of every stage:
on an FPGA that net alone can take a clock period. Instead, the window generator's reader and
the MAC array never stall: every stage register loads on every edge, and the unit's output goes
into this queue. The unit takes a new beat only when the queue has room for everything already
in flight plus that beat (``credit``), so nothing is ever lost, and ``credit`` is a register:
the unit's input ``ready`` is one.

``reserve`` marks a beat taken this cycle that will push one entry later (for the MAC array, a
channel's last beat; for the window generator, every window). Reservations count until the
entry leaves the queue, so the queue never overflows. With the consumer always ready the queue
adds two cycles of latency and keeps full rate as long as ``depth`` exceeds the pipeline's
length by three.
"""

from amaranth.hdl import Module, Mux, Shape, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .fifo import BufferedFIFO
from .pipeline import KEEP

__all__ = ["CreditQueue", "LATENCY"]

#: edges from an entry's push (``i.valid`` before the edge) to it being valid on ``o``
LATENCY = 2


class CreditQueue(wiring.Component):
    """``shape``: the entries' layout; ``depth``: entries (and reservations) it holds.

    Ports
    -----
    i : In(stream)       entries pushed by the pipeline (``i.ready`` is always high)
    o : Out(stream)      the unit's output
    reserve : In(1)      a beat taken this cycle will push one entry
    credit : Out(1)      (register) a beat may be reserved this cycle
    credit_next : Out(1) what ``credit`` will be after this edge (for a user that registers
                         its own decision to take a beat a cycle ahead)
    busy : Out(1)        an entry is reserved or queued
    """

    def __init__(self, shape, depth):
        self._shape = shape
        self._depth = depth
        super().__init__({
            "i": In(stream.Signature(shape)),
            "o": Out(stream.Signature(shape)),
            "reserve": In(1),
            "credit": Out(1, init=1),
            "credit_next": Out(1),
            "busy": Out(1),
        })
        # (created here, not in elaborate, so a formal harness can see it never refuses a push)
        self._fifo = BufferedFIFO(width=Shape.cast(shape).width, depth=depth)

    def elaborate(self, platform):
        m = Module()
        depth = self._depth
        m.submodules.fifo = fifo = self._fifo
        m.d.comb += [
            fifo.w_data.eq(self.i.payload), fifo.w_en.eq(self.i.valid),
            self.i.ready.eq(1),
            self.o.payload.eq(fifo.r_data), self.o.valid.eq(fifo.r_rdy),
            fifo.r_en.eq(self.o.ready),
        ]
        # reserved = entries in the queue + reserved entries still in the pipeline
        reserved = Signal(range(depth + 2))
        pop = self.o.valid & self.o.ready
        reserved_next = reserved + self.reserve - pop
        m.d.sync += reserved.eq(reserved_next)
        m.d.comb += self.busy.eq(reserved != 0)
        # next cycle's credit: room even if nothing leaves meanwhile. The two comparisons are
        # registers, made with the next count, so the credit (which the producer's issue
        # decision waits for) is a multiplexer of flip-flops.
        room_1 = Signal(init=1)              # reserved + 1 <= depth
        room_2 = Signal(init=depth >= 2)     # reserved + 2 <= depth
        m.d.sync += [room_1.eq(reserved_next + 1 <= depth), room_2.eq(reserved_next + 2 <= depth)]
        m.d.comb += self.credit_next.eq(Mux(self.reserve, room_2, room_1))
        # (``keep``: a user may take a copy of the credit from ``credit_next``, see MacArray)
        credit = Signal(init=1, attrs=KEEP)
        m.d.sync += credit.eq(self.credit_next)
        m.d.comb += self.credit.eq(credit)
        return m
