"""MAC array: P output-channel lanes x K*K taps, one multiplier each, pipelined for the clock.

Every beat brings one input channel of one output position for one group of P output channels.
Each lane multiplies the K*K activations with its K*K weights of that channel, sums them in an
adder tree and accumulates over the input channels; after the last one it requantizes exactly as
:func:`golden.requantize` (round half up, saturate) into the output beat. The accumulator starts
from the bias, as the golden model's accumulator includes it.

Skipped taps (mask or zero gating) are really not computed: their operand registers are not
enabled, so they hold their previous values and the multiplier inputs (and so its output) do not
toggle, and the adder tree takes 0 for them. The same holds for the lanes beyond the last group's
output channels. Every multiplier has its own operand registers, next to its DSP block.

Pipeline (one beat per cycle). The pipeline never stalls: every stage register loads on every
edge, the output beats go into a :class:`hdl.credit.CreditQueue`, and a beat is taken only when
the queue has room for every output in flight (``i.ready`` is the queue's registered credit), so
no enable has to reach every register and the consumer's ``ready`` reaches only the queue::

    S1  beat registered; weight word read (its address travels with the beat)
    S2  operand registers, enabled per tap (not skipped) and per lane (the group's channels)
    SI  the multipliers' input registers (copies)
    S3  product registers (the multipliers' outputs; one DSP block per product)
    SP  the products registered again
    S4.. adder tree, two levels per stage (ceil(log2(K*K)) levels), skipped taps taken as 0
    SA  lane sums registered beside the group's bias word (read two stages earlier)
    SC  accumulate: first channel from the bias, else the accumulator, plus the lane sum
    SR  round: total + 2**(shift - 1), after the last channel
    SS  shift right by ``shift`` (arithmetic)
        saturate, zero the lanes beyond ``cout``: the output beat, into the output queue

``CoreParams.lean`` leaves out S1b, SI, S3 and SP: the weight word is used from the block
RAM's read register, the operand registers feed the multipliers, and the products (the skipped
taps' zeroed) go straight into the adder tree's first registers. Four stages fewer, for small
parts, whose clock is set elsewhere (measured on iCE40UP5K: the window generator's control).

:func:`latency` gives the clock edges from a beat entering the array to its output beat being
valid at ``o`` (the last channel's beat).

Weights live in a memory of one word per (group, input channel): ``P x K*K`` weights, address
``group * max_cin + channel`` (computed by the window generator's counters, not multiplied
here); biases in one word of ``P`` biases per group. Both are written through the ``write``
port (:class:`ParamWriteSignature`, driven by :class:`hdl.param_loader.ParamLoader`).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from . import credit, pipeline
from .arith import NO_RW_CHECK, lut_multiply
from .credit import CreditQueue
from .window_layout import output_layout, skip_layout

__all__ = ["MacArray", "ParamWriteSignature", "latency", "tree_stages"]


def _queue_depth(params):
    """Output queue entries: the pipeline's length plus slack for full rate."""
    return 1 << (latency(params) + 3).bit_length()


def tree_stages(params):
    """Pipeline stages of the adder tree: two adder levels each."""
    return -(-ceil_log2(params.taps) // 2)


def latency(params):
    """Clock edges from the transfer of a channel's last beat into the array to its output beat
    being valid on ``o``: S1b, S2, SI, S3, SP (lean: S2), the tree stages, SA, SC, SR, SS and
    the output queue (S1 is loaded on the transfer edge itself)."""
    return (1 if params.lean else 5) + tree_stages(params) + 4 + credit.LATENCY


class ParamWriteSignature(wiring.Signature):
    """Writes into the MAC array's parameter memories, one weight or one bias per cycle.

    ``w_*``: weight ``w_data`` into word ``w_addr = group * max_cin + channel`` at element
    ``lane * K*K + tap`` (``w_lane``, ``w_tap``). ``b_*``: bias ``b_data`` into word ``b_addr = group`` at
    lane ``b_lane``. Members are outputs of the writer (the parameter loader).
    """

    def __init__(self, params):
        p = params
        super().__init__({
            "w_addr": Out(range(p.groups * p.max_cin)),
            "w_lane": Out(range(p.lanes)),
            "w_tap": Out(range(p.taps)),
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
        super().__init__({
            "i": In(stream.Signature(skip_layout(p))),
            "o": Out(stream.Signature(output_layout(p))),
            "write": In(ParamWriteSignature(p)),
            "busy": Out(1),   # a beat is in the pipeline or waiting on the output
        })
        # Operand registers, observable by testbenches (toggle counts of skipped taps). The
        # activation operand is registered once per lane, so every multiplier has its own input
        # registers (one load each, next to its DSP block).
        self.a_operand = Signal(data.ArrayLayout(data.ArrayLayout(signed(p.act_width), p.taps),
                                                 p.lanes))
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
        # Written only while no frame is in flight, so a read never collides with a write that
        # matters: ``no_rw_check`` spares the collision logic Yosys would put after the memory.
        m.submodules.weights = weights = Memory(shape=weight_row, depth=p.groups * p.max_cin,
                                                init=[], attrs=NO_RW_CHECK)
        bias_row = data.ArrayLayout(signed(p.bias_width), lanes)
        m.submodules.biases = biases = Memory(shape=bias_row, depth=p.groups, init=[],
                                              attrs=NO_RW_CHECK)

        # Writes are registered here (enables already decoded per element) and land an edge
        # later: the loader's decisions end at these flip-flops, not at every element's write
        # enable. A frame reads the memories only long after a load's last write (the core
        # starts no frame while the loader is busy, and a window takes several edges to get
        # here).
        def stage(name, shape, value, **kwargs):
            return pipeline.stage(m, name, shape, value, **kwargs)

        w = self.write
        w_write = weights.write_port(granularity=1)  # one element (weight) per enable bit
        # the weight is registered once per lane, loaded only by writes into that lane (so the
        # copies stay apart in synthesis): one register fanning out to the whole word's block
        # RAMs took a clock period of routing
        w_data = []
        for lane in range(lanes):
            w_data.append(Signal(w.w_data.shape(), name=f"w_write_data_l{lane}"))
            with m.If(w.w_en & (w.w_lane == lane)):
                m.d.sync += w_data[lane].eq(w.w_data)
        b_data = stage("b_write_data", w.b_data.shape(), w.b_data)
        m.d.comb += [
            w_write.addr.eq(stage("w_write_addr", w.w_addr.shape(), w.w_addr)),
            w_write.data.eq(Cat(w_data[lane] for lane in range(lanes) for _ in range(taps))),
            w_write.en.eq(stage("w_write_en", lanes * taps,
                                Cat(w.w_en & (w.w_lane == lane) & (w.w_tap == t)
                                    for lane in range(lanes) for t in range(taps)),
                                keep_reset=True)),
        ]
        b_write = biases.write_port(granularity=1)
        m.d.comb += [
            b_write.addr.eq(stage("b_write_addr", w.b_addr.shape(), w.b_addr)),
            b_write.data.eq(Cat(b_data for _ in range(lanes))),
            b_write.en.eq(stage("b_write_en", lanes,
                                Mux(w.b_en, Const(1, lanes) << w.b_lane, 0), keep_reset=True)),
        ]

        # outputs in flight are at most the pipeline's length, plus the queue's own latency
        m.submodules.out = out = CreditQueue(output_layout(p), _queue_depth(p))
        wiring.connect(m, out.o, wiring.flipped(self.o))
        take = Signal()
        # ``i.ready`` is a copy of the credit register, kept apart: it ends at the enables of
        # the producer's whole output register, so it should sit there, not beside the queue
        ready = Signal(init=1, name="i_ready", attrs=pipeline.KEEP)
        m.d.sync += ready.eq(out.credit_next)
        m.d.comb += [self.i.ready.eq(ready), take.eq(self.i.valid & out.credit),
                     out.reserve.eq(take & self.i.payload.window.last)]

        meta = data.StructLayout({"first": 1, "last": 1, "end": 1, "group": range(p.groups),
                                  "lanes": range(lanes + 1), "shift": p.shift_width})

        # S1: register the beat; read its weight word.
        beat = self.i.payload
        # (asynchronous ports and plain registers, which Yosys folds into the block RAM without
        # collision logic: see the window generator's line buffer)
        w_read = weights.read_port(domain="comb")
        m.d.comb += w_read.addr.eq(beat.window.weight_addr)
        weights_read = stage("weights_read", weight_row, w_read.data)
        v1 = stage("v1", 1, take, keep_reset=True)
        taps0 = stage("taps0", data.ArrayLayout(signed(p.act_width), taps), beat.window.taps)
        skip0 = stage("skip0", taps, beat.skip_mask | beat.skip_zero)
        meta0 = stage("meta0", meta, Cat(beat.window.first, beat.window.last, beat.window.end,
                                         beat.window.group, beat.window.lanes,
                                         beat.window.shift))

        # S1b: the weight word in the block RAM's output register (a word straight from the
        # memory's array takes most of a clock period to arrive), the rest in step
        if p.lean:
            weights1, v1b, taps1, skip1, meta1 = weights_read, v1, taps0, skip0, meta0
        else:
            weights1 = stage("weights1", weight_row, weights_read)
            v1b = stage("v1b", 1, v1, keep_reset=True)
            taps1 = stage("taps1", data.ArrayLayout(signed(p.act_width), taps), taps0)
            skip1 = stage("skip1", taps, skip0)
            meta1 = stage("meta1", meta, meta0)

        # S2: operand registers, enabled only for taps that are performed.
        load = Signal(taps)
        m.d.comb += [load.eq(Mux(v1b, ~skip1, 0)), self.operand_load.eq(load),
                     self.operand_skip.eq(Mux(v1b, skip1, 0))]
        v2 = stage("v2", 1, v1b, keep_reset=True)
        skip2 = stage("skip2", taps, skip1)
        meta2 = stage("meta2", meta, meta1)
        # lanes beyond the group's output channels do not load either: their outputs are
        # zeroed, so their multipliers may hold (and each lane's registers have their own enable)
        for lane in range(lanes):
            active = Const(1) if lane == 0 else lane < meta1.lanes
            for t in range(taps):
                with m.If(load[t] & active):
                    m.d.sync += [self.a_operand[lane][t].eq(taps1[t]),
                                 self.w_operand[lane][t].eq(weights1[lane * taps + t])]

        # SI: the multipliers' own input registers, plain copies of the operand registers (held
        # operands stay held). With a fan-out of one each, the placer puts them at their DSP
        # block, so the multiplier's path is a DSP block between two adjacent registers.
        # (Yosys does not fold registers into ECP5 DSP blocks; these stand in for theirs.)
        if p.lean:
            vi, skipi, metai = v2, skip2, meta2
            a_in, w_in = self.a_operand, self.w_operand
        else:
            vi = stage("vi", 1, v2, keep_reset=True)
            skipi = stage("skipi", taps, skip2)
            metai = stage("metai", meta, meta2)
            operand_layout = data.ArrayLayout(signed(p.act_width), taps)
            a_in = [stage(f"a_in_l{lane}", operand_layout, self.a_operand[lane])
                    for lane in range(lanes)]
            w_in = [stage(f"w_in_l{lane}", data.ArrayLayout(signed(p.weight_width), taps),
                          self.w_operand[lane]) for lane in range(lanes)]

        # S3: products, and SP: the products registered again (their output registers)
        product_shape = signed(p.act_width + p.weight_width)

        def multiply(lane, t):
            a, w = a_in[lane][t], w_in[lane][t]
            if lane * taps + t < p.dsp_multipliers:
                return a * w            # a DSP block
            return lut_multiply(a, w)   # past the DSP budget (CoreParams.dsp_limit)
        # (the product registers keep their reset: Yosys 0.70's ice40_dsp packs reset-less ones
        # into SB_MAC16 and then drives the product to a constant, with "driver-driver
        # conflict" warnings; with a reset both DSP families take them)
        if p.lean:
            # lean: no product registers; the skipped taps' products are zeroed on their way
            # into the adder tree's first registers
            products = [[Mux(skipi[t], 0, multiply(lane, t)) for t in range(taps)]
                        for lane in range(lanes)]
            vp, metap = vi, metai
            metas = [meta1, meta2]
        else:
            v3 = stage("v3", 1, vi, keep_reset=True)
            meta3 = stage("meta3", meta, metai)
            products = [[stage(f"product_l{lane}_t{t}", product_shape, multiply(lane, t),
                               keep_reset=True)
                         for t in range(taps)] for lane in range(lanes)]
            vp = stage("vp", 1, v3, keep_reset=True)
            metap = stage("metap", meta, meta3)
            # skipped taps are zeroed as the products are registered again, from a copy of the
            # skip bits per lane (one bit would fan out to every product bit of every lane)
            skip3_lanes = [stage(f"skip3_l{lane}", taps, skipi, copy=True)
                           for lane in range(lanes)]
            products = [[stage(f"product_r_l{lane}_t{t}", product_shape,
                               Mux(skip3_lanes[lane][t], 0, products[lane][t]),
                               keep_reset=True)
                         for t in range(taps)] for lane in range(lanes)]
            metas = [meta3, metap]

        # S4..: adder tree, two levels per stage
        level = products
        valid, meta_now = vp, metap   # (``metas``: the meta of each stage, for the bias read)
        for s in range(tree_stages(p)):
            for _ in range(2):
                level = [[values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                          for i in range(0, len(values), 2)] for values in level]
            width = p.act_width + p.weight_width + min(ceil_log2(taps), 2 * (s + 1))
            level = [[stage(f"tree{s}_l{lane}_{i}", signed(width), value)
                      for i, value in enumerate(values)] for lane, values in enumerate(level)]
            valid = stage(f"v_tree{s}", 1, valid, keep_reset=True)
            meta_now = stage(f"meta_tree{s}", meta, meta_now)
            metas.append(meta_now)
        sums = [values[0] for values in level]

        # SA: the lane sums beside the group's bias word. The word is read two stages ahead
        # and registered, so the memory's output drives a register, not the accumulator's adder.
        acc_shape = signed(p.acc_width)
        b_read = biases.read_port(domain="comb")
        m.d.comb += b_read.addr.eq(metas[-2].group)
        bias_a = stage("bias_a", bias_row, stage("bias_read", bias_row, b_read.data))
        # (``va`` and ``meta_a`` are kept apart from their per-lane copies below as well:
        # Yosys would merge them into one of the copies, with both sets of loads)
        va = stage("va", 1, valid, keep_reset=True, copy=True)
        meta_a = stage("meta_a", meta, meta_now, copy=True)
        sums_a = [stage(f"sum_l{lane}", sums[lane].shape(), sums[lane])
                  for lane in range(lanes)]
        # SC: accumulate (first channel from the bias); after the last channel the register
        # holds the output's total, and the next beat may overwrite it one edge later, when SR
        # has taken it
        # (its valid and first-channel bits in a copy per lane: one register reaching every
        # accumulator bit of every lane took most of a clock period of routing)
        va_lanes = [stage(f"va_l{lane}", 1, valid, keep_reset=True, copy=True)
                    for lane in range(lanes)]
        first_lanes = [stage(f"first_a_l{lane}", 1, meta_now.first, copy=True)
                       for lane in range(lanes)]
        accs = [Signal(acc_shape, name=f"acc_l{lane}") for lane in range(lanes)]
        for lane in range(lanes):
            with m.If(va_lanes[lane]):
                m.d.sync += accs[lane].eq(Mux(first_lanes[lane], bias_a[lane], accs[lane]) +
                                          sums_a[lane])
        vt = stage("vt", 1, va & meta_a.last, keep_reset=True)
        meta_t = stage("meta_t", meta, meta_a)
        half = Mux(meta_a.shift == 0, 0,
                   Const(1, p.acc_width) << (meta_a.shift - 1)[:p.shift_width])
        half_t = stage("half", p.acc_width, half)
        # SR: round half up (one bit wider: the sum may carry)
        vr = stage("vr", 1, vt, keep_reset=True)
        meta_r = stage("meta_r", meta, meta_t)
        rounded = [stage(f"rounded_l{lane}", signed(p.acc_width + 1), accs[lane] + half_t)
                   for lane in range(lanes)]
        # SS: arithmetic shift
        vs = stage("vs", 1, vr, keep_reset=True)
        meta_s = stage("meta_s", meta, meta_r)
        shifted = [stage(f"shifted_l{lane}", signed(p.acc_width + 1),
                         rounded[lane] >> meta_r.shift) for lane in range(lanes)]
        # SO: saturate, lanes beyond cout are 0
        lo, hi = -(1 << (p.out_width - 1)), (1 << (p.out_width - 1)) - 1
        result = Signal(output_layout(p))
        for lane in range(lanes):
            value = shifted[lane]
            m.d.comb += result.data[lane].eq(
                Mux(lane < meta_s.lanes, Mux(value > hi, hi, Mux(value < lo, lo, value)), 0))
        m.d.comb += [result.end.eq(meta_s.end), out.i.payload.eq(result), out.i.valid.eq(vs)]
        m.d.comb += self.busy.eq(v1 | v1b | v2 | vi | vp | valid | va | vt | vr | vs | out.busy)
        return m
