"""Mask-generation unit: per-block gradient relevance, scores and mask bits, in hardware.

Input: the gradient dL/dx~ of one update (a batch), as :data:`golden.fixed.GRADIENT` codes, one
per beat, **padding positions only**, plane after plane (one plane per channel and image), each in
raster order of the padded frame; ``last`` on the final value of the update. Interior pixels are
never sent: their gradients do not enter any relevance.

Accumulation (one value per cycle, always ready while accumulating): per block of the padded
frame, ``sum |g|`` saturating at :data:`golden.fixed.RELEVANCE_SUM` (a sticky bit records the
carry out of the format; the saturation is applied where the sum is read) and the number of
values, in a memory, through a pipeline designed for the clock: the value's position (a walker
over the padding positions, no division), its block (a constant product as shifts and adds),
the memory read, the word registered, the add, the result registered and written; the three
writes made since a value's read are forwarded to it, so consecutive values of one block add
up correctly. The end-of-update pass reads every
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
``bank_busy`` is low: ``9 + 4 * blocks + 39 * padding_blocks`` cycles (``blocks`` of the largest
grid), see :func:`end_latency`. Then ``totals`` hold the threshold unit's operands until the next
update.

Matches :func:`golden.mask_update_fixed` bit for bit (mask and scores; the threshold is the
threshold unit's). A ``last`` that is not at the end of a plane pulses ``error`` (the update still
completes, from the values received).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ..golden import fixed

from .divider import Divider, divider_latency
from .mask_regfile import WORD
from .regmap import config_layout
from .arith import NO_RW_CHECK, times_const

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
    ``done`` high (``o_scores`` always ready, ``bank_busy`` low): the accumulate pipeline
    draining (5), two cycles per block index and pass (the decision, then the registered step),
    a registered restart before each pass, plus a division, a memory read and its output
    register per padding block and pass, and a register for each score."""
    return 9 + 4 * params.mask_bits + (2 * DIVIDER_LATENCY + 5) * padding_blocks


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
        # per-update constants of the geometry (it holds still during an update)
        th = Signal(range(p.max_padded_height + 1))     # top + height
        lw = Signal(range(p.max_padded_width + 1))      # left + width
        hp = Signal(range(p.max_padded_height + 1))
        wp = Signal(range(p.max_padded_width + 1))
        sides = Signal()
        lw_is_end = Signal()                            # no right padding
        start_y = Signal(range(p.max_padded_height + 1))   # a plane's first padding position
        start_x = Signal(range(p.max_padded_width + 1))
        start_in_rows = Signal()
        m.d.sync += [
            th.eq(top + height), lw.eq(left + width),
            hp.eq(height + geo.pad_top + geo.pad_bottom),
            wp.eq(width + geo.pad_left + geo.pad_right),
            sides.eq((geo.pad_left != 0) | (geo.pad_right != 0)),
            lw_is_end.eq(geo.pad_right == 0),
        ]
        # (in two register steps: the geometry holds still for SETTLE cycles before an update)
        no_top = (top == 0) & ~((geo.pad_left != 0) | (geo.pad_right != 0))
        m.d.sync += start_y.eq(Mux(no_top, top + height, 0))
        first_in_rows = (start_y >= top) & (start_y < th)
        m.d.sync += [start_in_rows.eq(first_in_rows),
                     start_x.eq(Mux(first_in_rows & (left == 0), lw, 0))]

        # ``over``: the sum has passed the format's maximum. The values are magnitudes, so the
        # saturating sum is ``max if over else sum``; a sticky bit keeps the saturation (a
        # carry fanning out to every bit of the sum) out of the accumulation's loop.
        acc_layout = data.StructLayout({"sum": sum_shape.width, "over": 1,
                                        "count": COUNT_WIDTH})
        # (a read that meets a write of its block is replaced by forwarding, and the relevance
        # memory is written and read in different passes: collisions never matter)
        m.submodules.sums = sums = Memory(shape=acc_layout, depth=blocks, init=[],
                                          attrs=NO_RW_CHECK)
        m.submodules.relevance = relevance = Memory(shape=SCORE_WIDTH, depth=blocks, init=[],
                                                    attrs=NO_RW_CHECK)
        m.submodules.divider = divider = Divider(max(sum_shape.width, SCORE_WIDTH) + SCORE_WIDTH,
                                                 max(COUNT_WIDTH, SCORE_WIDTH), SCORE_WIDTH)

        acc_write = sums.write_port()
        acc_read = sums.read_port()
        rel_write = relevance.write_port()
        rel_read = relevance.read_port()
        # the read data registered on every edge: the divider's operands come from these
        # (Yosys puts them into the block RAM's output register)
        acc_q = Signal(acc_layout)
        rel_q = Signal(SCORE_WIDTH)
        m.d.sync += [acc_q.eq(acc_read.data), rel_q.eq(rel_read.data)]

        # --- walker over the padding positions of a plane ------------------------------------
        # (y, x) is the position of the next value; ``in_rows``: y is an interior row. Between
        # updates the walker sits at a plane's first padding position. Its decisions are flags
        # kept beside x and y (x at the last left padding column of an interior row, at the
        # row's end; y at the last row above, inside, of the plane), made for the next position
        # as it is taken: an equality with a per-update constant for a step by one, a constant
        # for a jump. So a step starts from flip-flops and waits for no comparison.
        def const(name, lo, hi, value):
            sig = Signal(range(lo, hi + 1), name=name)
            m.d.sync += sig.eq(value)
            return sig
        wp_full = width + geo.pad_left + geo.pad_right
        hp_full = height + geo.pad_top + geo.pad_bottom
        mw, mh = p.max_padded_width, p.max_padded_height
        left_m2 = const("left_m2", -2, mw, left - 2)
        wp_m2 = const("wp_m2", -2, mw, wp_full - 2)
        top_m2 = const("top_m2", -2, mh, top - 2)
        th_m2 = const("th_m2", -2, mh, top + height - 2)
        hp_m2 = const("hp_m2", -2, mh, hp_full - 2)
        no_bottom = const("no_bottom", 0, 1, geo.pad_bottom == 0)
        no_left = const("no_left", 0, 1, left == 0)
        left_is_1 = const("left_is_1", 0, 1, left == 1)
        right_is_1 = const("right_is_1", 0, 1, geo.pad_right == 1)      # lw == wp - 1
        bottom_is_1 = const("bottom_is_1", 0, 1, geo.pad_bottom == 1)   # th == hp - 1
        wp_is_1 = const("wp_is_1", 0, 1, wp_full == 1)
        # the flags of the first position, in as many register steps as start_x and start_y
        # (start_y is th or 0, start_x is lw or 0, and each equality follows from the geometry)
        start_skip = const("start_skip", 0, 1, first_in_rows & (left == 1))
        start_end = const("start_end", 0, 1, Mux(first_in_rows & (left == 0),
                                                  geo.pad_right == 1, wp_full == 1))
        start_y_th = const("start_y_th", 0, 1, ~no_top & (top + height == 1))
        start_y_top = const("start_y_top", 0, 1, ~no_top & (top == 1))
        start_y_hp = const("start_y_hp", 0, 1, Mux(no_top, geo.pad_bottom == 1, hp_full == 1))

        y = Signal(range(p.max_padded_height + 1))
        x = Signal(range(p.max_padded_width + 1))
        in_rows = Signal()
        x_skip = Signal()       # in_rows & (x == left - 1): the interior columns come next
        x_end = Signal()        # x == wp - 1
        y_th = Signal()         # y == top + height - 1
        y_top = Signal()        # y == top - 1
        y_hp = Signal()         # y == hp - 1
        # the next row: it enters the interior rows after row top - 1, leaves them after th - 1;
        # without side padding the interior rows are skipped
        ny_in_rows = (in_rows & ~y_th) | y_top
        jump_row = ~sides & ny_in_rows
        ny_final = Mux(jump_row, th, y + 1)
        ny_final_in_rows = ny_in_rows & sides
        row_x0 = Mux(ny_final_in_rows & no_left, lw, 0)
        last_row = Mux(jump_row, no_bottom, y_hp)           # the next row is past the plane
        next_x = Signal.like(x)
        next_y = Signal.like(y)
        next_in_rows = Signal()
        next_flags = Signal(5)      # x_skip, x_end, y_th, y_top, y_hp at the next position
        plane_end = Signal()
        same_row = Cat(x_skip, x_end, y_th, y_top, y_hp)
        new_row = Cat(ny_final_in_rows & left_is_1,
                      Mux(ny_final_in_rows & no_left, right_is_1, wp_is_1),
                      Mux(jump_row, Cat(Const(0, 2), bottom_is_1),
                          Cat(y == th_m2, y == top_m2, y == hp_m2)))

        def to_next_row():
            m.d.comb += [next_x.eq(row_x0), next_y.eq(ny_final),
                         next_in_rows.eq(ny_final_in_rows), plane_end.eq(last_row),
                         next_flags.eq(new_row)]
        with m.If(x_skip):                        # skip the interior columns
            m.d.comb += [next_x.eq(lw), next_y.eq(y), next_in_rows.eq(in_rows),
                         next_flags.eq(Cat(Const(0, 1), right_is_1, same_row[2:]))]
            with m.If(lw_is_end):                 # no right padding: that was the row's end
                to_next_row()
        with m.Elif(~x_end):
            m.d.comb += [next_x.eq(x + 1), next_y.eq(y), next_in_rows.eq(in_rows),
                         next_flags.eq(Cat(in_rows & (x == left_m2), x == wp_m2,
                                           same_row[2:]))]
        with m.Else():
            to_next_row()

        # --- accumulate pipeline: position -> block -> read -> add, with forwarding -----------
        g = self.i.payload.data
        fire = self.i.valid & self.i.ready
        started = Signal()  # an update's first value has arrived
        walker = Cat(x, y, in_rows, x_skip, x_end, y_th, y_top, y_hp)
        at_start = Cat(start_x, start_y, start_in_rows, start_skip, start_end, start_y_th,
                       start_y_top, start_y_hp)
        with m.If(fire):
            with m.If(plane_end):
                m.d.sync += walker.eq(at_start)
            with m.Else():
                m.d.sync += walker.eq(Cat(next_x, next_y, next_in_rows, next_flags))
        with m.Elif(~started):
            m.d.sync += walker.eq(at_start)
        # S1: the value's position and magnitude
        v1 = Signal()
        y1 = Signal.like(y)
        x1 = Signal.like(x)
        mag1 = Signal(fixed.GRADIENT.width + 1)
        # (the data registers load on every edge, ``v1`` says whether they hold a value: the
        # acceptance decision reaches one flip-flop, not every bit)
        m.d.sync += [v1.eq(fire), y1.eq(y), x1.eq(x), mag1.eq(Mux(g < 0, -g, g))]
        # S2: its block (a constant product as shifts and adds); the sums are read here
        v2 = Signal()
        b2 = Signal(range(blocks))
        mag2 = Signal.like(mag1)
        m.d.sync += [v2.eq(v1), b2.eq(times_const(y1 >> log_block, grid_w) + (x1 >> log_block)),
                     mag2.eq(mag1)]
        # S3: the memory's word arrives (read on the edge that ended S2)
        v3 = Signal()
        b3 = Signal.like(b2)
        mag3 = Signal.like(mag1)
        m.d.sync += [v3.eq(v2), b3.eq(b2), mag3.eq(mag2)]
        # S4: the word registered; add. S5: the result registered (``written[0]``) and written
        # to the memory, so the adder's path ends at flip-flops beside it, not at the block RAM.
        # The three writes made since a value's read (on the edges ending S2, S3 and S4 of the
        # values ahead of it) are forwarded.
        v4 = Signal()
        b4 = Signal.like(b2)
        mag4 = Signal.like(mag1)
        old4 = Signal(acc_layout)
        m.d.sync += [v4.eq(v3), b4.eq(b3), mag4.eq(mag3), old4.eq(acc_read.data)]
        # the results of the last two values (latest first), their blocks and valid bits (the
        # third write to forward is ``forward_value``, taken from ``written[1]`` a cycle ago)
        written = [Signal(acc_layout, name=f"written{i}") for i in range(2)]
        written_block = [Signal.like(b2, name=f"written_block{i}") for i in range(2)]
        written_valid = [Signal(name=f"written_valid{i}") for i in range(2)]
        # which write to forward is decided a stage ahead (in S3): the value in S4 now is
        # ``written[0]`` next cycle, ``written[0]`` now is ``written[1]``, and so on. The older
        # two are chosen there as well (``forward_value``), so S4 picks between two words.
        # The block comparisons themselves are made a stage earlier still, in S2, with the
        # blocks that will be in those places (a comparison then drives flip-flops, and the
        # registered result the word's multiplexer).
        forward_run = Signal()
        forward_old = Signal()
        forward_value = Signal(acc_layout)
        run3 = Signal()         # in S3: v4 & (b4 == b3)
        old1_3 = Signal()       # in S3: written_valid[0] & (written_block[0] == b3)
        old2_3 = Signal()       # in S3: written_valid[1] & (written_block[1] == b3)
        m.d.sync += [run3.eq(v3 & (b3 == b2)), old1_3.eq(v4 & (b4 == b2)),
                     old2_3.eq(written_valid[0] & (written_block[0] == b2))]
        m.d.sync += [forward_run.eq(run3), forward_old.eq(old1_3 | old2_3),
                     forward_value.eq(Mux(old1_3, written[0], written[1]))]
        # Both candidates are summed and the forwarding picks a result, not an operand: the
        # loop through ``written[0]`` (a run of values in one block) is an adder and a mux.
        def accumulate(name, old):
            old = data.View(acc_layout, old)
            total = Signal(sum_shape.width + 1, name=f"total_{name}")
            result = Signal(acc_layout, name=f"new_{name}")
            m.d.comb += [
                total.eq(old.sum + mag4),
                result.sum.eq(total[:sum_shape.width]),
                # the sum format's maximum is all ones: a carry out passes it
                result.over.eq(old.over | total[-1]),
                result.count.eq(old.count + 1),
            ]
            return result
        new_run = accumulate("run", written[0])
        new_base = accumulate("base", Mux(forward_old, forward_value, old4))
        new = Signal(acc_layout)
        m.d.comb += [
            new.eq(Mux(forward_run, new_run, new_base)),
            acc_read.addr.eq(b2), acc_read.en.eq(1),
            acc_write.addr.eq(written_block[0]), acc_write.en.eq(written_valid[0]),
            acc_write.data.eq(written[0]),
        ]
        m.d.sync += [written[0].eq(new), written[1].eq(written[0]),
                     written_block[0].eq(b4), written_valid[0].eq(v4),
                     written_block[1].eq(written_block[0]), written_valid[1].eq(written_valid[0])]
        accumulating = v1 | v2 | v3 | v4 | written_valid[0]

        # --- block-grid pass ------------------------------------------------------------------
        index = Signal(range(blocks + 1))
        bc = Signal(range(grid_w + 1))
        grid_rows = Signal(range(grid_h + 1))
        grid_cols = Signal(range(grid_w + 1))
        m.d.sync += [grid_rows.eq((hp + p.block - 1) >> log_block),
                     grid_cols.eq((wp + p.block - 1) >> log_block)]
        # a block holds padding unless its part of the frame lies inside the interior (its end
        # is clipped to the padded frame, which reaches past the interior only with a pad).
        # Each grid row's and column's two flags (in the frame, inside the interior) depend on
        # the update's geometry alone: they are registers, and the pass shifts through copies
        # of them, so the block's decision is one LUT of four flip-flops.
        row_flags = Signal(2 * grid_h)
        col_flags = Signal(2 * grid_w)
        m.d.sync += [
            row_flags.eq(Cat(Cat(j < grid_rows,
                                 (j * p.block >= top) & (((j + 1) * p.block <= th) | no_bottom))
                             for j in range(grid_h))),
            col_flags.eq(Cat(Cat(j < grid_cols,
                                 (j * p.block >= left) & (((j + 1) * p.block <= lw) | lw_is_end))
                             for j in range(grid_w))),
        ]
        row_walk = Signal.like(row_flags)
        col_walk = Signal.like(col_flags)
        pad_block = Signal()
        m.d.comb += pad_block.eq(row_walk[0] & col_walk[0] & ~(row_walk[1] & col_walk[1]))
        # the pass's decisions are flags kept with the counters (registers, no compare)
        index_last = Signal(init=blocks == 1)     # index == blocks - 1
        index_end = Signal()                      # index == blocks
        bc_last = Signal(init=grid_w == 1)        # bc == grid_w - 1

        # the index's bit within its mask word, one-hot (it follows the index), so putting a
        # bit into the word decodes nothing
        word_pos = Signal(WORD, init=1)

        def step_index():
            m.d.sync += [index.eq(index + 1), index_end.eq(index_last),
                         index_last.eq(index == blocks - 2),
                         word_pos.eq(word_pos.rotate_left(1))]

        largest = Signal(SCORE_WIDTH)
        threshold = Signal(SCORE_WIDTH)
        word = Signal(WORD)
        totals = Signal(totals_layout(p))
        m.d.comb += self.totals.eq(totals)
        score = Signal(SCORE_WIDTH)
        score_bit = Signal()        # score >= threshold
        largest_zero = Signal()     # every relevance was 0: every score is 0

        m.d.comb += [rel_read.addr.eq(index), rel_read.en.eq(1), rel_write.addr.eq(index)]

        # Moving to the next block index is a registered request (``step``): the walk's
        # registers (index, flags, the shifted row and column flags, a few dozen flip-flops)
        # load on the edge after the decision, from one flip-flop, instead of at the end of the
        # pass's decision logic. The pass looks at the block again only after the step.
        step = Signal()

        def advance_grid():
            """Move to the next block index (row-major over the largest grid), one edge later."""
            m.d.sync += step.eq(1)

        with m.If(step):
            m.d.sync += step.eq(0)
            with m.If(bc_last):
                m.d.sync += [bc.eq(0), bc_last.eq(grid_w == 1), row_walk.eq(row_walk >> 2),
                             col_walk.eq(col_flags)]
            with m.Else():
                m.d.sync += [bc.eq(bc + 1), bc_last.eq(bc == grid_w - 2),
                             col_walk.eq(col_walk >> 2)]
            step_index()

        # Going back to the first block is a registered request as well (``restart``).
        restart = Signal()

        def restart_grid():
            """Back to block index 0, one edge later."""
            m.d.sync += restart.eq(1)

        with m.If(restart):
            m.d.sync += [restart.eq(0), index.eq(0), index_end.eq(0), word_pos.eq(1),
                         index_last.eq(blocks == 1), bc.eq(0), bc_last.eq(grid_w == 1),
                         row_walk.eq(row_flags), col_walk.eq(col_flags)]

        # mask words and the commit leave through registers (one edge later, in order)
        mask_en = Signal()
        commit = Signal()
        m.d.sync += [self.mask_en.eq(mask_en), self.commit.eq(commit)]

        # A block's mask bit goes into the word on the edge after the pass decides it (the
        # index moves on only on the edge after that, see ``step``): the word's logic starts
        # from two flip-flops, not from the pass's decision.
        # A scored block's score enters the totals the same way (``score`` holds still until
        # the next block's division ends).
        emit = Signal()
        emit_value = Signal()
        emit_scored = Signal()
        m.d.sync += emit.eq(0)

        def emit_bit(bit, scored=False):
            """Put this block's mask bit into the word, and its score into the totals if
            ``scored`` (next edge)."""
            m.d.sync += [emit.eq(1), emit_value.eq(bit), emit_scored.eq(scored)]

        with m.If(emit & emit_scored):
            with m.If(emit_value):
                m.d.sync += [totals.sum_in.eq(totals.sum_in + score),
                             totals.n_in.eq(totals.n_in + 1)]
            with m.Else():
                m.d.sync += [totals.sum_out.eq(totals.sum_out + score),
                             totals.n_out.eq(totals.n_out + 1)]
        with m.If(emit):   # write full words and the last one
            new_word = Signal(WORD, name="new_word")
            m.d.comb += new_word.eq(word | Mux(emit_value, word_pos, 0))
            m.d.sync += word.eq(Mux(word_pos[WORD - 1], 0, new_word))
            with m.If(word_pos[WORD - 1] | index_last):
                m.d.comb += mask_en.eq(1)
                m.d.sync += [self.mask_data.eq(new_word), self.mask_addr.eq(index >> 5)]

        # The divider starts from registers: ``div_go`` (set by the LOAD states, so it is high
        # in the START states) and the pass (``scoring``) choosing the operands, all of them
        # registers too; no decoding of the state on the way.
        div_go = Signal()
        scoring = Signal()
        m.d.sync += div_go.eq(0)
        m.d.comb += [divider.start.eq(div_go),
                     divider.dividend.eq(Mux(scoring, rel_q << fixed.SCORE.f_bits,
                                             Mux(acc_q.over, sum_max, acc_q.sum))),
                     divider.divisor.eq(Mux(scoring, largest, acc_q.count))]

        with m.FSM(name="mask_gen", init="CLEAR"):
            # after reset the sums may hold a half-finished update: zero them all first
            # (not "busy": no update is running; gradients simply wait)
            with m.State("CLEAR"):
                m.d.comb += [acc_write.addr.eq(index), acc_write.en.eq(1), acc_write.data.eq(0)]
                step_index()
                with m.If(index_last):
                    restart_grid()
                    m.next = "ACCUMULATE"
            with m.State("ACCUMULATE"):
                m.d.comb += [self.i.ready.eq(1), self.busy.eq(started | fire)]
                with m.If(fire):
                    m.d.sync += started.eq(1)
                    with m.If(self.i.payload.last):
                        m.d.comb += self.error.eq(~plane_end)
                        m.next = "FLUSH"
            with m.State("FLUSH"):  # the last values' writes land
                m.d.comb += self.busy.eq(1)
                restart_grid()
                m.d.sync += largest.eq(0)
                with m.If(~accumulating):
                    m.d.sync += started.eq(0)
                    m.next = "MEAN_READ"
            # pass 1: relevance of every padding block, and the largest
            with m.State("MEAN_READ"):
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index)]
                with m.If(step | restart):
                    pass                      # the walk moves on this edge
                with m.Elif(index_end):
                    # pass 2 writes the shadow bank: wait while it holds a committed mask
                    with m.If(~self.bank_busy):
                        restart_grid()
                        m.d.sync += [threshold.eq(self.threshold), word.eq(0), totals.eq(0),
                                     largest_zero.eq(largest == 0)]
                        m.next = "SCORE_READ"
                with m.Elif(pad_block):
                    m.next = "MEAN_LOAD"
                with m.Else():
                    advance_grid()
            # the block's sums reach the divider from a register (the memory's output register),
            # not straight from the memory's array
            with m.State("MEAN_LOAD"):
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index)]
                m.d.sync += [div_go.eq(1), scoring.eq(0)]
                m.next = "MEAN_START"
            with m.State("MEAN_START"):    # the division starts (div_go)
                m.d.comb += [self.busy.eq(1), acc_read.addr.eq(index),
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
                with m.If(step | restart):
                    pass                      # the walk moves on this edge
                with m.Elif(index_end):
                    m.d.comb += [commit.eq(1), self.done.eq(1)]
                    m.next = "ACCUMULATE"
                with m.Elif(pad_block):
                    m.next = "SCORE_LOAD"
                with m.Else():
                    emit_bit(1)
                    advance_grid()
            with m.State("SCORE_LOAD"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [div_go.eq(1), scoring.eq(1)]
                m.next = "SCORE_START"
            with m.State("SCORE_START"):   # the division starts (div_go)
                m.d.comb += self.busy.eq(1)
                m.next = "SCORE_WAIT"
            with m.State("SCORE_WAIT"):
                m.d.comb += self.busy.eq(1)
                with m.If(divider.done):
                    # the comparison is made here, into a register, so the emit's word and
                    # totals logic starts from flip-flops
                    result = Mux(largest_zero, 0, divider.quotient)
                    m.d.sync += [score.eq(result), score_bit.eq(result >= threshold)]
                    m.next = "SCORE_EMIT"
            with m.State("SCORE_EMIT"):
                m.d.comb += self.busy.eq(1)
                bit = score_bit
                m.d.comb += [
                    self.o_scores.valid.eq(1),
                    self.o_scores.payload.block.eq(index),
                    self.o_scores.payload.relevance.eq(rel_read.data),
                    self.o_scores.payload.score.eq(score),
                    self.o_scores.payload.bit.eq(bit),
                ]
                with m.If(self.o_scores.ready):
                    emit_bit(bit, scored=True)
                    advance_grid()
                    m.next = "SCORE_READ"
        return m
