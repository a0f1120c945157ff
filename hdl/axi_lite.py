"""AXI4-Lite slave onto the core's register bus (hdl/regbus.py).

Byte addresses (``addr = 4 x word address``; the low two bits are ignored), 32-bit data. One
transaction at a time; a write and a read offered together: the write first. Responses:

* OKAY for every mapped register (hdl/regmap.py) and mask word;
* SLVERR for an address no register or mask word has, for a write to a read-only register or
  the active mask bank, and for a write whose ``wstrb`` is not ``0b1111`` (registers take whole
  words only). Unmapped and read-only writes still reach the register block, which ignores
  them and sets ERRORS.bad_write, as on the bare core; a partial write is dropped. An unmapped
  read returns 0.

``awready`` and ``wready`` rise together, in the cycle both ``awvalid`` and ``wvalid`` are
high and no other transaction runs (ready may wait for valid in AXI); ``bvalid`` follows on the
next cycle. ``arready`` likewise; ``rvalid`` with the registered read data follows
:data:`hdl.regbus.READ_LATENCY` cycles later. Both responses are registers held until taken.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .regbus import ADDR_WIDTH, READ_LATENCY, RegisterBus
from .regmap import MASK_ACTIVE, MASK_SHADOW, REGISTERS

__all__ = ["AxiLiteToRegisters", "OKAY", "SLVERR", "BYTE_ADDR_WIDTH"]

OKAY = 0b00
SLVERR = 0b10
#: AXI4-Lite address width: the register bus's word addresses, times four
BYTE_ADDR_WIDTH = ADDR_WIDTH + 2


class AxiLiteToRegisters(wiring.Component):
    """``mask_words``: words of each mask bank (the core's ``masks.words``).

    Ports: the AXI4-Lite slave channels (``awaddr awprot awvalid awready``, ``wdata wstrb wvalid
    wready``, ``bresp bvalid bready``, ``araddr arprot arvalid arready``, ``rdata rresp rvalid
    rready``) and ``bus`` (Out(RegisterBus)), to the core's register block.
    """

    def __init__(self, mask_words):
        self._mask_words = mask_words
        super().__init__({
            "awaddr": In(BYTE_ADDR_WIDTH), "awprot": In(3), "awvalid": In(1), "awready": Out(1),
            "wdata": In(32), "wstrb": In(4), "wvalid": In(1), "wready": Out(1),
            "bresp": Out(2), "bvalid": Out(1), "bready": In(1),
            "araddr": In(BYTE_ADDR_WIDTH), "arprot": In(3), "arvalid": In(1), "arready": Out(1),
            "rdata": Out(32), "rresp": Out(2), "rvalid": Out(1), "rready": In(1),
            "bus": Out(RegisterBus()),
        })

    def _decode(self, word):
        """(mapped, writable) of a word address: constant comparisons."""
        words = self._mask_words
        readable = Cat(word == r.addr for r in REGISTERS).any() | \
            ((word >= MASK_SHADOW) & (word < MASK_SHADOW + words)) | \
            ((word >= MASK_ACTIVE) & (word < MASK_ACTIVE + words))
        writable = Cat(word == r.addr for r in REGISTERS if r.access != "R").any() | \
            ((word >= MASK_SHADOW) & (word < MASK_SHADOW + words))
        return readable, writable

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        w_word = self.awaddr[2:]
        r_word = self.araddr[2:]
        _, w_ok = self._decode(w_word)
        r_ok, _ = self._decode(r_word)
        whole = self.wstrb == 0b1111
        r_wait = Signal(range(READ_LATENCY + 1))
        r_mapped = Signal()

        with m.FSM(name="axi_lite"):
            with m.State("IDLE"):
                with m.If(self.awvalid & self.wvalid):
                    m.d.comb += [self.awready.eq(1), self.wready.eq(1),
                                 bus.addr.eq(w_word), bus.w_data.eq(self.wdata),
                                 bus.w_en.eq(whole)]
                    m.d.sync += self.bvalid.eq(1)
                    with m.If(~w_ok | ~whole):
                        m.d.sync += self.bresp.eq(SLVERR)
                    with m.Else():
                        m.d.sync += self.bresp.eq(OKAY)
                    m.next = "RESPOND_B"
                with m.Elif(self.arvalid):
                    m.d.comb += [self.arready.eq(1), bus.addr.eq(r_word), bus.r_en.eq(r_ok)]
                    m.d.sync += [r_mapped.eq(r_ok), r_wait.eq(READ_LATENCY - 1)]
                    m.next = "READ"
            with m.State("RESPOND_B"):
                with m.If(self.bready):
                    m.d.sync += self.bvalid.eq(0)
                    m.next = "IDLE"
            with m.State("READ"):
                # the register bus's data arrives READ_LATENCY cycles after r_en
                with m.If(r_wait != 0):
                    m.d.sync += r_wait.eq(r_wait - 1)
                with m.Else():
                    m.d.sync += [self.rvalid.eq(1),
                                 self.rdata.eq(bus.r_data & r_mapped.replicate(32)),
                                 self.rresp.eq(OKAY)]
                    with m.If(~r_mapped):
                        m.d.sync += self.rresp.eq(SLVERR)
                    m.next = "RESPOND_R"
            with m.State("RESPOND_R"):
                with m.If(self.rready):
                    m.d.sync += self.rvalid.eq(0)
                    m.next = "IDLE"
        return m
