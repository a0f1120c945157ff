"""Block-mask register file: one bit per block of the largest padded frame, in two banks.

The engine reads the *active* bank; the host and the mask-generation unit write the *shadow*
bank. ``commit`` arms a swap (``pending``); the swap happens on ``swap``, which the window
generator pulses at the frame boundary that claimed the commit (docs/core.md). The swap exchanges
the banks' roles: afterwards the shadow bank holds the mask that was active, and must be
rewritten in full before the next commit.

This unit stores and swaps; the rules that keep a frame's mask whole are its writers': nobody
writes the shadow bank or commits while ``pending`` is high (the register block refuses the
host's writes, the mask generator waits), and the host cannot commit while an update writes it.

Bit ``i`` is block ``(i // grid_w, i % grid_w)`` of the largest frame's grid; a smaller frame uses
the top-left part of that grid (the grid is anchored at the padded frame's top-left pixel).
Access is by 32-bit words: word ``j`` holds bits ``32*j .. 32*j + 31``; bits beyond the grid are
stored and read back but never used.

Reset state: both banks all ones (every block included), no swap pending.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .pipeline import KEEP

__all__ = ["BlockMaskRegisterFile", "WORD"]

WORD = 32


class BlockMaskRegisterFile(wiring.Component):
    """Double-banked block mask.

    Ports
    -----
    active : Out(bits)           the active bank, read by the window generator
    addr, w_data, w_en : In      shadow-bank word write (lands on the edge after the next; a
                                 read of the word returns the new data from the next cycle)
    r_bank : In(1)               read-back bank: 0 = shadow, 1 = active
    r_data : Out(32)             word ``addr`` of bank ``r_bank`` (combinational)
    commit : In(1)               arm a swap
    e_addr, e_data, e_en : In    engine (mask generator) shadow-bank word write; wins over the
                                 host's write in the same cycle
    e_commit : In(1)             engine commit
    swap : In(1)                 swap the banks if a swap is armed (a frame boundary); the
                                 exchange happens on the edge after the next (``swap`` is
                                 registered next to the banks first)
    pending : Out(1)             a swap is armed and has not happened yet
    """

    def __init__(self, bits):
        if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
            raise ValueError(f"bits must be a positive integer, not {bits!r}")
        self._bits = bits
        self._words = -(-bits // WORD)
        super().__init__({
            "active": Out(bits),
            "addr": In(max(1, ceil_log2(self._words))), "w_data": In(WORD), "w_en": In(1),
            "r_bank": In(1), "r_data": Out(WORD),
            "commit": In(1), "swap": In(1), "pending": Out(1),
            # engine (mask-generation unit) word write into the shadow bank; wins over the host
            "e_addr": In(max(1, ceil_log2(self._words))), "e_data": In(WORD), "e_en": In(1),
            "e_commit": In(1),
        })

    @property
    def bits(self):
        return self._bits

    @property
    def words(self):
        return self._words

    def elaborate(self, platform):
        m = Module()
        width = self._words * WORD
        # The banks exchange contents on a swap (no select bit: what the window generator and
        # the host read are plain registers). ``swap`` must come from a register: it reaches
        # every bit of both banks.
        active = Signal(width, init=2**width - 1)
        shadow = Signal(width, init=2**width - 1)
        pending = Signal()
        m.d.comb += [
            self.active.eq(active[:self._bits]),
            self.pending.eq(pending),
            self.r_data.eq(Mux(self.r_bank, active.word_select(self.addr, WORD),
                               shadow.word_select(self.addr, WORD))),
        ]

        with m.If(self.commit | self.e_commit):
            m.d.sync += pending.eq(1)
        # the exchange is a cycle after the request: the request is registered here first,
        # next to the banks (it reaches every bit of both)
        # (one copy of the request per word, kept apart in synthesis, so each word's enables
        # and multiplexers hang on a flip-flop beside them rather than on one reaching all)
        exchange = Signal(attrs=KEEP)    # (kept apart from its copies too)
        exchange_word = [Signal(name=f"exchange_w{j}", attrs=KEEP) for j in range(self._words)]
        exchange_next = self.swap & pending & ~exchange
        m.d.sync += [exchange.eq(exchange_next), *(e.eq(exchange_next) for e in exchange_word)]
        with m.If(exchange):
            m.d.sync += pending.eq(0)
        for j in range(self._words):
            with m.If(exchange_word[j]):
                m.d.sync += [active.word_select(j, WORD).eq(shadow.word_select(j, WORD)),
                             shadow.word_select(j, WORD).eq(active.word_select(j, WORD))]

        # A word write is registered here first and lands on the edge after: the writers'
        # decisions (address decode, the refusal while ``pending``) then end at a few
        # flip-flops, not at the enables of every shadow bit. A read of the word meanwhile
        # returns the data being written. (No exchange can meet a write in flight: writes are
        # refused while ``pending``, and the exchange follows ``pending`` by two edges.)
        # The address is decoded into the register as well (one enable per word), so each
        # word's 32 enables hang on one flip-flop of their own.
        write = Signal(self._words)      # one-hot: the word being written, if any
        write_any = Signal()
        write_addr = Signal.like(self.addr)
        write_data = Signal(WORD)
        addr = Mux(self.e_en, self.e_addr, self.addr)
        m.d.sync += [write.eq(Cat((self.w_en | self.e_en) & (addr == j)
                                  for j in range(self._words))),
                     write_any.eq(self.w_en | self.e_en)]
        with m.If(self.w_en | self.e_en):
            m.d.sync += [write_addr.eq(addr),
                         write_data.eq(Mux(self.e_en, self.e_data, self.w_data))]
        for j in range(self._words):
            with m.If(write[j]):
                m.d.sync += shadow.word_select(j, WORD).eq(write_data)
        with m.If(~self.r_bank & write_any & (write_addr == self.addr)):
            m.d.comb += self.r_data.eq(write_data)
        return m
