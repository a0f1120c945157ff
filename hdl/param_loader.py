"""Parameter loader: weights and biases of a layer from a stream into the MAC array's memories.

Stream order (one signed 16-bit word per beat, ``last`` on the final one), for the ``cin`` and
``cout`` of the applied configuration when the load starts::

    w[co][c][ky][kx]   for co < cout, c < cin, ky < K, kx < K   (PyTorch's weight.flatten())
    bias[co]           for co < cout

One word per cycle once a load has started (a load starts two cycles after its first word
arrives: the channel counts are registered first, and the load claims the memories). A load
starts only while ``hold`` is low (the core holds it while a frame is in flight, since frames
read the memories); the first word waits meanwhile, and ``busy`` is high from the moment a word
waits until the load ends, so the core starts no frame in between. Both handshake signals may
reach the other side through a register: the load takes the memories only if ``hold`` is still
low a cycle after it saw it low (``CLAIM``), by when a frame started meanwhile has raised it;
otherwise it waits again. Errors (``error`` pulses, the core keeps a sticky flag):

* ``last`` before the final bias: the load ends there (what came is written);
* no ``last`` on the final bias: the following words are dropped up to and including ``last``;
* CHANNELS invalid in the applied configuration: the whole load is dropped up to ``last``;
* a weight outside the weight format or a bias outside the bias format: flagged, stored
  truncated.
"""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .mac import ParamWriteSignature
from .regmap import config_layout

__all__ = ["ParamLoader", "param_layout"]


def param_layout():
    return data.StructLayout({"data": signed(16), "last": 1})


class ParamLoader(wiring.Component):
    def __init__(self, params):
        self._params = params
        p = params
        super().__init__({
            "i": In(stream.Signature(param_layout())),
            "config": In(config_layout(p)),
            "hold": In(1),
            "write": Out(ParamWriteSignature(p)),
            "busy": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._params
        word = self.i.payload

        cin_m1 = Signal(range(p.max_cin))     # the load's channel counts, less one
        cout_m1 = Signal(range(p.max_cout))
        c = Signal(range(p.max_cin))
        co = Signal(range(p.max_cout))
        tap = Signal(range(p.taps))
        lane = Signal(range(p.lanes))
        group = Signal(range(p.groups))
        # group * max_cin, kept by increments (no constant product)
        gbase = Signal(range(p.groups * p.max_cin))
        weights_done = Signal()  # in the bias part

        fire = self.i.valid & self.i.ready

        w_lo, w_hi = -(1 << (p.weight_width - 1)), (1 << (p.weight_width - 1)) - 1
        b_lo, b_hi = -(1 << (p.bias_width - 1)), (1 << (p.bias_width - 1)) - 1
        m.d.comb += [
            self.write.w_addr.eq(gbase + c),
            self.write.w_lane.eq(lane), self.write.w_tap.eq(tap),
            self.write.w_data.eq(word.data),
            self.write.b_addr.eq(group),
            self.write.b_lane.eq(lane),
            self.write.b_data.eq(word.data),
        ]

        def restart():
            return [c.eq(0), co.eq(0), tap.eq(0), lane.eq(0), group.eq(0),
                    gbase.eq(0), weights_done.eq(0)]

        with m.FSM(name="load"):
            with m.State("IDLE"):
                # A waiting word starts the load a cycle later, from LOAD: the channel counts
                # are registered here first, so no compare in LOAD reaches back to the
                # configuration registers.
                m.d.comb += self.busy.eq(self.i.valid)
                with m.If(self.i.valid & ~self.hold):
                    m.d.sync += [cin_m1.eq(self.config.cin - 1),
                                 cout_m1.eq(self.config.cout - 1)]
                    with m.If(self.config.errors.channels):
                        m.d.comb += self.error.eq(1)
                        m.next = "DRAIN"
                    with m.Else():
                        m.next = "CLAIM"
            with m.State("CLAIM"):
                # a frame that started while this load was deciding holds it now: let the
                # frame have the memories, and start again when it has drained
                m.d.comb += self.busy.eq(1)
                with m.If(self.hold):
                    m.next = "IDLE"
                with m.Else():
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += [self.i.ready.eq(1), self.busy.eq(1)]
                with m.If(fire):
                    with m.If(weights_done):
                        m.d.comb += [self.write.b_en.eq(1),
                                     self.error.eq((word.data < b_lo) | (word.data > b_hi))]
                    with m.Else():
                        m.d.comb += [self.write.w_en.eq(1),
                                     self.error.eq((word.data < w_lo) | (word.data > w_hi))]
                    self._advance(m, p, cin_m1, cout_m1, c, co, tap, lane, group, weights_done,
                                  word, restart, gbase)
            with m.State("DRAIN"):
                m.d.comb += [self.i.ready.eq(1), self.busy.eq(1)]
                with m.If(fire & word.last):
                    m.next = "IDLE"
        return m

    def _advance(self, m, p, cin_m1, cout_m1, c, co, tap, lane, group, weights_done, word,
                 restart, gbase):
        """Step to the next word position; end the load at the final bias or at ``last``."""
        final = weights_done & (co == cout_m1)
        with m.If(final):
            m.d.sync += restart()
            with m.If(~word.last):
                m.d.comb += self.error.eq(1)
                m.next = "DRAIN"
            with m.Else():
                m.next = "IDLE"
        with m.Elif(word.last):  # early end: keep what came
            m.d.comb += self.error.eq(1)
            m.d.sync += restart()
            m.next = "IDLE"
        with m.Else():
            m.next = "LOAD"
            with m.If(weights_done):
                m.d.sync += co.eq(co + 1)
                with m.If(lane == p.lanes - 1):
                    m.d.sync += [lane.eq(0), group.eq(group + 1),
                                 gbase.eq(gbase + p.max_cin)]
                with m.Else():
                    m.d.sync += [lane.eq(lane + 1)]
            with m.Elif(tap != p.taps - 1):
                m.d.sync += tap.eq(tap + 1)
            with m.Elif(c != cin_m1):
                m.d.sync += [tap.eq(0), c.eq(c + 1)]
            with m.Else():
                m.d.sync += [tap.eq(0), c.eq(0)]
                with m.If(co == cout_m1):  # weights complete: biases from co = 0
                    m.d.sync += [co.eq(0), lane.eq(0), group.eq(0), gbase.eq(0),
                                 weights_done.eq(1)]
                with m.Elif(lane == p.lanes - 1):
                    m.d.sync += [co.eq(co + 1), lane.eq(0), group.eq(group + 1),
                                 gbase.eq(gbase + p.max_cin)]
                with m.Else():
                    m.d.sync += [co.eq(co + 1), lane.eq(lane + 1)]
