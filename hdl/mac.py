"""MAC array: P output-channel lanes x K*K taps, one multiplier each.

Every beat brings one input channel of one output position for one group of P output channels.
Each lane multiplies the K*K activations with its K*K weights of that channel, sums them in an
adder tree and accumulates over the input channels; after the last one it adds nothing more and
requantizes exactly as :func:`golden.requantize` (round half up, saturate) into the output beat.
The accumulator starts from the bias, as the golden model's accumulator includes it.

Skipped taps (mask or zero gating) are really not computed: their operand registers are not
enabled, so they hold their previous values and the multiplier inputs do not toggle, and the
product register is forced to zero.

Pipeline (one beat per cycle; the whole pipeline stalls while the output beat waits)::

    edge 0  S1  beat registered, weight word read from memory
    edge 1  S2  operand registers (enabled per tap: not skipped)
    edge 2  S3  products (zero for skipped taps)
    edge 3  S4  lane sums (adder tree); bias word read
    edge 4  out accumulator updated; on the last channel, requantized output registered

so an output beat is valid :data:`LATENCY` = 4 edges after its last input beat was accepted.

Weights live in a memory of one word per (group, input channel): ``P x K*K`` weights, address
``group * max_cin + channel``; biases in one word of ``P`` biases per group. Both are written
through the ``write`` port (:class:`ParamWriteSignature`, driven by
:class:`hdl.param_loader.ParamLoader`).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .window_layout import output_layout, skip_layout

__all__ = ["MacArray", "LATENCY", "ParamWriteSignature"]

#: clock edges from the acceptance of a channel's last beat to its output beat being valid
LATENCY = 4


def _tree_sum(values):
    """Balanced adder tree (combinational)."""
    values = list(values)
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


class ParamWriteSignature(wiring.Signature):
    """Writes into the MAC array's parameter memories, one weight or one bias per cycle.

    ``w_*``: weight ``w_data`` into word ``w_addr = group * max_cin + channel`` at element
    ``w_index = lane * K*K + tap``. ``b_*``: bias ``b_data`` into word ``b_addr = group`` at
    lane ``b_lane``. Members are outputs of the writer (the parameter loader).
    """

    def __init__(self, params):
        p = params
        super().__init__({
            "w_addr": Out(range(p.groups * p.max_cin)),
            "w_index": Out(range(p.lanes * p.taps)),
            "w_data": Out(signed(p.weight_width)),
            "w_en": Out(1),
            "b_addr": Out(range(p.groups)),
            "b_lane": Out(range(p.lanes)),
            "b_data": Out(signed(p.bias_width)),
            "b_en": Out(1),
        })


class MacArray(wiring.Component):
    def __init__(self, params):
        self._params = params
        p = params
        self._weight_depth = p.groups * p.max_cin
        super().__init__({
            "i": In(stream.Signature(skip_layout(p))),
            "o": Out(stream.Signature(output_layout(p))),
            "write": In(ParamWriteSignature(p)),
            "busy": Out(1),   # a beat is in the pipeline or waiting on the output
        })
        # Operand registers, observable by testbenches (toggle counts of skipped taps).
        self.a_operand = Signal(data.ArrayLayout(signed(p.act_width), p.taps))
        self.w_operand = Signal(data.ArrayLayout(data.ArrayLayout(signed(p.weight_width), p.taps),
                                                 p.lanes))
        self.operand_load = Signal(p.taps)  # operand registers of tap t load on this edge
        self.operand_skip = Signal(p.taps)  # a beat passes with tap t skipped on this edge

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        taps, lanes = p.taps, p.lanes

        weight_row = data.ArrayLayout(signed(p.weight_width), lanes * taps)  # [lane * K*K + tap]
        m.submodules.weights = weights = Memory(shape=weight_row, depth=self._weight_depth,
                                                init=[])
        bias_row = data.ArrayLayout(signed(p.bias_width), lanes)
        m.submodules.biases = biases = Memory(shape=bias_row, depth=p.groups, init=[])

        w_write = weights.write_port(granularity=1)
        m.d.comb += [
            w_write.addr.eq(self.write.w_addr),
            w_write.data.eq(Cat(self.write.w_data for _ in range(lanes * taps))),
            w_write.en.eq(Mux(self.write.w_en, Const(1, lanes * taps) << self.write.w_index, 0)),
        ]
        b_write = biases.write_port(granularity=1)
        m.d.comb += [
            b_write.addr.eq(self.write.b_addr),
            b_write.data.eq(Cat(self.write.b_data for _ in range(lanes))),
            b_write.en.eq(Mux(self.write.b_en, Const(1, lanes) << self.write.b_lane, 0)),
        ]

        out_valid = Signal()
        advance = Signal()
        m.d.comb += [advance.eq(~out_valid | self.o.ready), self.i.ready.eq(advance)]

        meta = data.StructLayout({"first": 1, "last": 1, "end": 1, "group": range(p.groups),
                                  "lanes": range(lanes + 1), "shift": p.shift_width})

        def meta_of(window):
            return Cat(window.first, window.last, window.end, window.group, window.lanes,
                       window.shift)

        # S0 -> S1: register the beat; read its weight word.
        beat = self.i.payload
        w_read = weights.read_port()
        m.d.comb += [
            w_read.addr.eq(beat.window.group * p.max_cin + beat.window.channel),
            w_read.en.eq(advance),
        ]
        v1 = Signal()
        taps1 = Signal(data.ArrayLayout(signed(p.act_width), taps))
        skip1 = Signal(taps)
        meta1 = Signal(meta)
        with m.If(advance):
            m.d.sync += [
                v1.eq(self.i.valid),
                taps1.eq(beat.window.taps),
                skip1.eq(beat.skip_mask | beat.skip_zero),
                meta1.eq(meta_of(beat.window)),
            ]

        # S1 -> S2: operand registers, enabled only for taps that are performed.
        v2 = Signal()
        skip2 = Signal(taps)
        meta2 = Signal(meta)
        load = Signal(taps)
        m.d.comb += [load.eq(Mux(advance & v1, ~skip1, 0)), self.operand_load.eq(load),
                     self.operand_skip.eq(Mux(advance & v1, skip1, 0))]
        with m.If(advance):
            m.d.sync += [v2.eq(v1), skip2.eq(skip1), meta2.eq(meta1)]
        for t in range(taps):
            with m.If(load[t]):
                m.d.sync += self.a_operand[t].eq(taps1[t])
                for lane in range(lanes):
                    m.d.sync += self.w_operand[lane][t].eq(w_read.data[lane * taps + t])

        # S2 -> S3: products, forced to zero for skipped taps.
        product_shape = signed(p.act_width + p.weight_width)
        products = [[Signal(product_shape, name=f"product_l{lane}_t{t}") for t in range(taps)]
                    for lane in range(lanes)]
        v3 = Signal()
        meta3 = Signal(meta)
        with m.If(advance):
            m.d.sync += [v3.eq(v2), meta3.eq(meta2)]
            for lane in range(lanes):
                for t in range(taps):
                    m.d.sync += products[lane][t].eq(
                        Mux(skip2[t], 0, self.a_operand[t] * self.w_operand[lane][t]))

        # S3 -> S4: lane sums; read the bias word of the group.
        sum_shape = signed(p.act_width + p.weight_width + ceil_log2(taps) + 1)
        sums = [Signal(sum_shape, name=f"sum_l{lane}") for lane in range(lanes)]
        v4 = Signal()
        meta4 = Signal(meta)
        b_read = biases.read_port()
        m.d.comb += [b_read.addr.eq(meta3.group), b_read.en.eq(advance)]
        with m.If(advance):
            m.d.sync += [v4.eq(v3), meta4.eq(meta3)]
            for lane in range(lanes):
                m.d.sync += sums[lane].eq(_tree_sum(products[lane]))

        # S4 -> out: accumulate; requantize after the last channel.
        acc_shape = signed(p.acc_width)
        accs = [Signal(acc_shape, name=f"acc_l{lane}") for lane in range(lanes)]
        out = Signal(output_layout(p))
        shift = meta4.shift
        half = Mux(shift == 0, 0, Const(1, p.acc_width + 1) << (shift - 1)[:p.shift_width])
        lo, hi = -(1 << (p.out_width - 1)), (1 << (p.out_width - 1)) - 1
        with m.If(advance):
            m.d.sync += out_valid.eq(v4 & meta4.last)
            with m.If(v4):
                for lane in range(lanes):
                    total = Signal(acc_shape, name=f"total_l{lane}")
                    m.d.comb += total.eq(Mux(meta4.first, b_read.data[lane], accs[lane]) +
                                         sums[lane])
                    m.d.sync += accs[lane].eq(total)
                    rounded = Signal(signed(p.acc_width + 1), name=f"rounded_l{lane}")
                    m.d.comb += rounded.eq((total + half) >> shift)
                    value = Mux(rounded > hi, hi, Mux(rounded < lo, lo, rounded))
                    m.d.sync += out.data[lane].eq(Mux(lane < meta4.lanes, value, 0))
                m.d.sync += out.end.eq(meta4.end)
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.eq(out),
                     self.busy.eq(v1 | v2 | v3 | v4 | out_valid)]
        return m
