"""A synchronous FIFO with a registered output, mapped to block RAM without soft logic.

Same ports, levels and timing as :class:`amaranth.lib.fifo.SyncFIFOBuffered`: a memory of
``depth - 1`` entries and the output register. The difference is how the memory is read.
``SyncFIFOBuffered`` reads through a synchronous port, whose read-during-write behaviour Yosys must
keep ("read first"). On iCE40 block RAMs it emulates that with a registered copy of every write
(data, address, enable) and a comparator on the read data: about 2 logic cells per bit of
width. Here the memory is read through a combinational port into an enabled register, and
marked ``no_rw_check``: a FIFO never reads the entry being written (a read needs an entry
stored, a write a free one, and the pointers meet only when the memory is empty or full), so
the read-during-write result never matters. Yosys folds the register into the block RAM's
read port (or keeps it beside distributed RAM) with no extra logic.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .arith import NO_RW_CHECK

__all__ = ["BufferedFIFO"]


class BufferedFIFO(wiring.Component):
    """``width`` bits per entry, ``depth`` entries (at least 2; ``depth - 1`` in the memory,
    one in the output register).

    Ports
    -----
    w_data : In(width)    w_en : In(1)    w_rdy : Out(1)   (a write happens on w_en & w_rdy)
    r_data : Out(width)   r_en : In(1)    r_rdy : Out(1)   (a read happens on r_en & r_rdy)
    level : Out           entries held
    """

    def __init__(self, *, width, depth):
        if isinstance(width, bool) or not isinstance(width, int) or width < 0:
            raise TypeError(f"width must be a non-negative integer, not {width!r}")
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise TypeError(f"depth must be an integer, not {depth!r}")
        if depth < 2:
            raise ValueError(f"depth must be at least 2, not {depth!r}")
        self.width = width
        self.depth = depth
        super().__init__({
            "w_data": In(width), "w_en": In(1), "w_rdy": Out(1),
            "r_data": Out(width), "r_en": In(1), "r_rdy": Out(1),
            "level": Out(range(depth + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        inner_depth = self.depth - 1
        m.submodules.storage = storage = Memory(shape=self.width, depth=inner_depth, init=[],
                                                attrs=NO_RW_CHECK)
        w_port = storage.write_port()
        r_port = storage.read_port(domain="comb")
        produce = Signal(range(inner_depth))
        consume = Signal(range(inner_depth))
        inner_level = Signal(range(inner_depth + 1))

        do_write = Signal()
        do_inner_read = Signal()   # the memory's oldest entry moves into the output register
        m.d.comb += [
            self.w_rdy.eq(inner_level != inner_depth),
            do_write.eq(self.w_rdy & self.w_en),
            do_inner_read.eq((inner_level != 0) & (~self.r_rdy | self.r_en)),
            w_port.addr.eq(produce), w_port.data.eq(self.w_data), w_port.en.eq(do_write),
            r_port.addr.eq(consume),
            self.level.eq(inner_level + self.r_rdy),
        ]
        with m.If(do_write):
            m.d.sync += produce.eq(_wrap(produce, inner_depth))
        with m.If(do_inner_read):
            m.d.sync += [consume.eq(_wrap(consume, inner_depth)),
                         self.r_data.eq(r_port.data), self.r_rdy.eq(1)]
        with m.Elif(self.r_en):
            m.d.sync += self.r_rdy.eq(0)
        with m.If(do_write & ~do_inner_read):
            m.d.sync += inner_level.eq(inner_level + 1)
        with m.If(do_inner_read & ~do_write):
            m.d.sync += inner_level.eq(inner_level - 1)
        return m



def _wrap(pointer, depth):
    """``pointer + 1`` modulo ``depth``."""
    return 0 if depth == 1 else Mux(pointer == depth - 1, 0, pointer + 1)
