"""Mask-generation unit: per-block gradient relevance, scores and mask bits, in hardware.

Input: the gradient dL/dx~ of one update (a batch), as :data:`golden.fixed.GRADIENT` codes, one
per beat, **padding positions only**, plane after plane (one plane per channel and image), each in
raster order of the padded frame; ``last`` on the final value of the update. Interior pixels are
never sent: their gradients do not enter any relevance.

Accumulation (one value per cycle, always ready while accumulating): per block of the padded
frame, ``sum |g|`` saturating at :data:`golden.fixed.RELEVANCE_SUM` and the number of values, in a
memory with a one-stage read-modify-write pipeline (its read port is transparent to its write
port, so consecutive values of one block add up correctly). The end-of-update pass reads every
padding block once and clears it; after reset the unit first clears the whole memory (one block
per cycle), so a reset in the middle of an accumulation leaves nothing behind.

End of update, after ``last``, a sequential pass over the block grid (every index of the largest
grid, in mask-bit order):

1. *means*: for every padding block, ``relevance = floor(sum / count)`` (a restoring divider),
   and the largest relevance;
2. *scores*: for every padding block, ``score = floor(relevance * 2**15 / largest)`` (all 0 if
   the largest is 0), ``bit = score >= threshold`` (the threshold latched when this pass starts),
   and the sums and counts of the included and masked-out scores; blocks without padding get bit
   1. Mask words are written into the shadow bank as they fill, then a commit is requested.
   The pass starts only once ``bank_busy`` is low: while a committed mask waits for its frame,
   the shadow bank is that mask, and writing it would let a frame see a mix of two masks.

Every score also leaves on ``o_scores`` (block index, relevance, score, bit); the pass waits if
that stream is not ready. End-of-update latency, from the ``last`` value to ``done``, when
``bank_busy`` is low: ``2 + 2 * blocks + 36 * padding_blocks`` cycles (``blocks`` of the largest
grid), see :func:`end_latency`. Then ``totals`` hold the threshold unit's operands until the next update.

Matches :func:`golden.mask_update_fixed` bit for bit (mask and scores; the threshold is the
threshold unit's). A ``last`` that is not at the end of a plane pulses ``error`` (the update still
completes, from the values received).
"""

from amaranth.hdl import Module, Mux, Signal, Value, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ..golden import fixed

from .divider import Divider, divider_latency
from .mask_regfile import WORD
from .regmap import config_layout

__all__ = ["MaskGenerator", "gradient_layout", "score_layout", "totals_layout", "end_latency",
           "COUNT_WIDTH", "DIVIDER_LATENCY"]

COUNT_WIDTH = 24                    #: values per block and update, up to 2**24 - 1
SCORE_WIDTH = fixed.SCORE.width     #: 16: codes 0..2**15
DIVIDER_LATENCY = divider_latency(SCORE_WIDTH)  #: 17 cycles per division


def gradient_layout():
    return data.StructLayout({"data": signed(fixed.GRADIENT.width), "last": 1})


def score_layout(params):
    return data.StructLayout({
        "block": range(params.mask_bits),
        "relevance": SCORE_WIDTH,
        "score": SCORE_WIDTH,
        "bit": 1,
    })


def totals_layout(params):
    """Operands of the threshold update: sums and counts of masked-out and included scores."""
    count = ceil_log2(params.mask_bits + 1)
    return data.StructLayout({
        "sum_out": SCORE_WIDTH + count, "n_out": count,
        "sum_in": SCORE_WIDTH + count, "n_in": count,
    })


def end_latency(params, padding_blocks):
    """Clock edges from the one taking the ``last`` gradient value to the first cycle with
    ``done`` high (``o_scores`` always ready, ``bank_busy`` low): one cycle per block index and
    pass, plus a division and a memory read per padding block and pass."""
    return 2 + 2 * params.mask_bits + (DIVIDER_LATENCY + 1) * 2 * padding_blocks


class MaskGenerator(wiring.Component):
    """See the module docstring. ``sum_shape`` (default :data:`golden.fixed.RELEVANCE_SUM`) is
    the per-block sum format; tests narrow it to reach saturation quickly."""

    def __init__(self, params, *, sum_shape=fixed.RELEVANCE_SUM):
        self._params = params
        self._sum_shape = sum_shape
        p = params
        self._words = -(-p.mask_bits // WORD)
        super().__init__({
            "i": In(stream.Signature(gradient_layout())),
            "geometry": In(config_layout(p)),
            "threshold": In(SCORE_WIDTH),
            "bank_busy": In(1),
            "mask_addr": Out(range(max(2, self._words))),
            "mask_data": Out(WORD),
            "mask_en": Out(1),
            "commit": Out(1),
            "o_scores": Out(stream.Signature(score_layout(p))),
            "totals": Out(totals_layout(p)),
            "done": Out(1),
            "busy": Out(1),
            "error": Out(1),
        })

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        geo = self.geometry
        log_block = ceil_log2(p.block)
        grid_h, grid_w = p.grid_shape
        blocks = p.mask_bits
        sum_shape = self._sum_shape
        sum_max = sum_shape.max_raw

        height, width = geo.height, geo.width
        top, left = geo.pad_top, geo.pad_left
        hp = height + geo.pad_top + geo.pad_bottom
        wp = width + geo.pad_left + geo.pad_right
        sides = (geo.pad_left != 0) | (geo.pad_right != 0)

        acc_layout = data.StructLayout({"sum": sum_shape.width, "count": COUNT_WIDTH})
        m.submodules.sums = sums = Memory(shape=acc_layout, depth=blocks, init=[])
        m.submodules.relevance = relevance = Memory(shape=SCORE_WIDTH, depth=blocks, init=[])
        m.submodules.divider = divider = Divider(max(sum_shape.width, SCORE_WIDTH) + SCORE_WIDTH,
                                                 max(COUNT_WIDTH, SCORE_WIDTH), SCORE_WIDTH)

        acc_write = sums.write_port()
        acc_read = sums.read_port(transparent_for=(acc_write,))
        rel_write = relevance.write_port()
        rel_read = relevance.read_port()

        # --- walker over the padding positions of a plane ------------------------------------
        # (y, x) is the next position; ``fresh`` means "at the start of a plane", whose first
        # padding position depends on the geometry (and is recomputed, so reset needs no care)
        y = Signal(range(p.max_padded_height + 1))
        x = Signal(range(p.max_padded_width + 1))
        fresh = Signal(init=1)

        def interior(row):
            return (row >= top) & (row < top + height)

        def first_x(row):
            return Mux(interior(row) & (left == 0), left + width, 0)

        start_row = Mux((top == 0) & ~sides, top + height, 0)
        ey = Signal.like(y)
        ex = Signal.like(x)
        m.d.comb += [ey.eq(Mux(fresh, start_row, y)), ex.eq(Mux(fresh, first_x(start_row), x))]

        next_x = Signal.like(x)
        next_y = Signal.like(y)
        plane_end = Signal()
        nx = Mux(interior(ey) & (ex + 1 == left), left + width, ex + 1)
        ny_plain = ey + 1
        ny = Mux(~sides & interior(ny_plain), top + height, ny_plain)
        with m.If(nx < wp):
            m.d.comb += [next_x.eq(nx), next_y.eq(ey)]
        with m.Elif(ny < hp):
            m.d.comb += [next_x.eq(first_x(ny)), next_y.eq(ny)]
        with m.Else():
            m.d.comb += plane_end.eq(1)

        block_of = Signal(range(blocks))
        m.d.comb += block_of.eq((ey >> log_block) * grid_w + (ex >> log_block))

        # --- accumulate pipeline ---------------------------------------------------------------
        v1 = Signal()
        b1 = Signal(range(blocks))
        mag1 = Signal(fixed.GRADIENT.width + 1)
        g = self.i.payload.data
        fire = self.i.valid & self.i.ready
        m.d.comb += [acc_read.addr.eq(block_of), acc_read.en.eq(1)]
        m.d.sync += v1.eq(fire)
        with m.If(fire):
            m.d.sync += [b1.eq(block_of), mag1.eq(Mux(g < 0, -g, g)),
                         x.eq(next_x), y.eq(next_y), fresh.eq(plane_end)]
        old = acc_read.data
        total = Signal(sum_shape.width + 1)
        m.d.comb += total.eq(old.sum + mag1)
        m.d.comb += [
            acc_write.addr.eq(b1),
            acc_write.en.eq(v1),
            acc_write.data.sum.eq(Mux(total > sum_max, sum_max, total)),
            acc_write.data.count.eq(old.count + 1),
        ]

        # --- block-grid pass -------------------------------------------------------------------
        index = Signal(range(blocks + 1))
        br = Signal(range(grid_h + 1))
        bc = Signal(range(grid_w + 1))
        grid_rows = (hp + p.block - 1) >> log_block
        grid_cols = (wp + p.block - 1) >> log_block
        in_frame = (br < grid_rows) & (bc < grid_cols)
        # a block holds padding unless its part of the frame lies inside the interior
        r0, c0 = br << log_block, bc << log_block
        r1 = Mux(r0 + p.block > hp, hp, r0 + p.block)
        c1 = Mux(c0 + p.block > wp, wp, c0 + p.block)
        inside = (r0 >= top) & (r1 <= top + height) & (c0 >= left) & (c1 <= left + width)
        pad_block = Signal()
        m.d.comb += pad_block.eq(in_frame & ~inside)
        last_index = index == blocks - 1

        largest = Signal(SCORE_WIDTH)
        threshold = Signal(SCORE_WIDTH)
        word = Signal(WORD)
        totals = Signal(totals_layout(p))
        m.d.comb += self.totals.eq(totals)
        score_now = Signal(SCORE_WIDTH)

        m.d.comb += [rel_read.addr.eq(index), rel_read.en.eq(1), rel_write.addr.eq(index)]

        def advance_grid():
            """Move to the next block index (row-major over the largest grid)."""
            with m.If(bc == grid_w - 1):
                m.d.sync += [bc.eq(0), br.eq(br + 1)]
            with m.Else():
                m.d.sync += bc.eq(bc + 1)
            m.d.sync += index.eq(index + 1)

        def emit_bit(bit):
            """Put this block's mask bit into the word; write full words and the last one."""
            new_word = Signal(WORD, name="new_word")
            m.d.comb += new_word.eq(word | (Value.cast(bit).as_unsigned() << index[:5]))
            m.d.sync += word.eq(Mux(index[:5] == WORD - 1, 0, new_word))
            with m.If((index[:5] == WORD - 1) | last_index):
                m.d.comb += [self.mask_en.eq(1), self.mask_data.eq(new_word),
                             self.mask_addr.eq(index >> 5)]

        started = Signal()  # an update's first value has arrived

        with m.FSM(name="mask_gen", init="CLEAR"):
            # after reset the sums may hold a half-finished update: zero them all first
            # (not "busy": no update is running; gradients simply wait)
            with m.State("CLEAR"):
                m.d.comb += [acc_write.addr.eq(index), acc_write.en.eq(1), acc_write.data.eq(0)]
                m.d.sync += index.eq(index + 1)
                with m.If(index == blocks - 1):
                    m.d.sync += index.eq(0)
                    m.next = "ACCUMULATE"
            with m.State("ACCUMULATE"):
                m.d.comb += [self.i.ready.eq(1), self.busy.eq(started | fire)]
                with m.If(fire):
                    m.d.sync += started.eq(1)
                    with m.If(self.i.payload.last):
                        m.d.comb += self.error.eq(~plane_end)
                        m.next = "FLUSH"
            with m.State("FLUSH"):  # the last value's write lands on this edge
                m.d.comb += self.busy.eq(1)
                m.d.sync += [index.eq(0), br.eq(0), bc.eq(0), largest.eq(0), fresh.eq(1),
                             started.eq(0)]
                m.next = "MEAN_READ"
            # pass 1: relevance of every padding block, and the largest
            with m.State("MEAN_READ"):
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index)]
                with m.If(index == blocks):
                    # pass 2 writes the shadow bank: wait while it holds a committed mask
                    with m.If(~self.bank_busy):
                        m.d.sync += [index.eq(0), br.eq(0), bc.eq(0),
                                     threshold.eq(self.threshold), word.eq(0), totals.eq(0)]
                        m.next = "SCORE_READ"
                with m.Elif(pad_block):
                    m.next = "MEAN_START"
                with m.Else():
                    advance_grid()
            with m.State("MEAN_START"):
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index),
                             divider.start.eq(1),
                             divider.dividend.eq(acc_read.data.sum),
                             divider.divisor.eq(acc_read.data.count),
                             # the block is read once: clear it for the next update
                             acc_write.addr.eq(index), acc_write.en.eq(1),
                             acc_write.data.eq(0)]
                m.next = "MEAN_WAIT"
            with m.State("MEAN_WAIT"):
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index)]
                with m.If(divider.done):
                    m.d.comb += [rel_write.en.eq(1), rel_write.data.eq(divider.quotient)]
                    with m.If(divider.quotient > largest):
                        m.d.sync += largest.eq(divider.quotient)
                    advance_grid()
                    m.next = "MEAN_READ"
            # pass 2: scores, mask bits, totals
            with m.State("SCORE_READ"):
                m.d.comb += self.busy.eq(1)
                with m.If(index == blocks):
                    m.d.comb += [self.commit.eq(1), self.done.eq(1)]
                    m.next = "ACCUMULATE"
                with m.Elif(pad_block):
                    m.next = "SCORE_START"
                with m.Else():
                    emit_bit(1)
                    advance_grid()
            with m.State("SCORE_START"):
                m.d.comb += [self.busy.eq(1), divider.start.eq(1),
                             divider.dividend.eq(rel_read.data << fixed.SCORE.f_bits),
                             divider.divisor.eq(largest)]
                m.next = "SCORE_WAIT"
            with m.State("SCORE_WAIT"):
                m.d.comb += self.busy.eq(1)
                with m.If(divider.done):
                    m.d.comb += score_now.eq(Mux(largest == 0, 0, divider.quotient))
                    bit = score_now >= threshold
                    m.d.comb += [
                        self.o_scores.valid.eq(1),
                        self.o_scores.payload.block.eq(index),
                        self.o_scores.payload.relevance.eq(rel_read.data),
                        self.o_scores.payload.score.eq(score_now),
                        self.o_scores.payload.bit.eq(bit),
                    ]
                    with m.If(self.o_scores.ready):
                        emit_bit(bit)
                        with m.If(bit):
                            m.d.sync += [totals.sum_in.eq(totals.sum_in + score_now),
                                         totals.n_in.eq(totals.n_in + 1)]
                        with m.Else():
                            m.d.sync += [totals.sum_out.eq(totals.sum_out + score_now),
                                         totals.n_out.eq(totals.n_out + 1)]
                        advance_grid()
                        m.next = "SCORE_READ"
        return m
