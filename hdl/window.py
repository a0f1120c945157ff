"""Padding/window generator: unpadded raster stream in, K x K windows out, padding made on chip.

Input: one activation per beat in raster order ``(y, x, c)`` (channels innermost), ``last`` on
the frame's final beat. Output: one window per beat for every output position ``(oy, ox)``,
output-channel group ``g`` and input channel ``c``, in that order (``c`` innermost), with each tap's
padding flag and its block's mask bit. Padding pixels are never stored and never sent by the
host: zero/constant taps are produced from the frame's constant, replicate/reflect taps read the
source pixel they copy.

Line buffer: ``2K`` row slots in a ring (four for K = 1: ``CoreParams.row_slots``). Slot ``s`` lives in row bank ``s mod K``, half
``s div K``, and each row is split into K column banks (column ``x`` in bank ``x mod K`` at
``(x div K) * max_cin + c``): K x K memories, each holding two rows (four for K = 1). The K source columns of a
window lie within K consecutive columns, whatever the mode (padding maps are 1-Lipschitz), so they
fall in distinct column banks; likewise its distinct source rows lie within K consecutive rows,
so they fall in distinct row banks. Every cycle each memory is read once: a whole window per
cycle, from memories with one write and one read port.

Flow control. The writer fills row slots in a ring of virtual rows (numbered across frames,
modulo ``2**vrow_width``); the reader (window sequencer) issues the windows of output row ``oy``
once the rows they need are complete (``need``: the first ``min(H, max(oy*s - top + K, K))``
rows) and publishes a low-water mark: the lowest virtual row a window not yet read may still
read, ``base + max(0, min(oy*s - top, H - K))`` as it was when the oldest window still before
the memory read was issued. The writer may start virtual row ``v`` only while
``v < low_water + 2K``. While the last windows of a frame read its last K rows, the next frame's
first K rows can arrive, which is every row its first windows need: back-to-back frames do not
stall, for any pads, and padding costs no cycles. Frame configurations travel from writer to
reader through a small queue, latched when the writer starts the frame.

Frame starts. The writer starts a frame when its first beat is offered, unless ``hold`` (a
parameter load waits or runs) or the applied configuration has an error flag (the frame is then
drained and the flags pulse, see :mod:`hdl.frame_check`). It latches the applied configuration
and, if a committed mask is pending (``mask_pending``), claims it for this frame: the reader
pulses ``mask_swap`` as it begins the frame, so the frame and every later one use the new mask,
and no earlier one does (each window takes its mask rows when it is issued). When the generator
is idle (nothing received, queued or being read), a pending mask is swapped in at once, which is
the same thing seen from any frame.

Designed for the clock: every division and product of the addressing is an incremental counter.
The reader keeps, per tap row and per tap column, the source index's residues and flags of the
current output row and column, updated by adding the stride; a tap's source row slot and column
bank then follow from a few small adds and selects. The reader never stalls: every stage
register loads on every edge, and a window is issued only when the output queue has room for
every window in flight (:class:`hdl.credit.CreditQueue`; no enable reaches every register, and
the consumer's ``ready`` reaches only the queue). Pipeline, each stage a register::

    A  sequencer (issue), per-row and per-column geometry, block row and column of each tap
    B  the window's geometry registered (loaded on the issue edge)
    C  source row slot (bank, half) per tap row, source column (bank, address base) per tap
       column (the padding maps)
    D  address per column bank, half per row bank: the memories' read addresses; mask rows:
       one of each group of four
    E  memory read (a block RAM's synchronous read); mask rows: the group
    F  the K x K words registered (the block RAMs' output registers); the taps' mask bits
       (left out when ``CoreParams.lean``: G selects from E's registers)
    G  per row bank, the word of each tap column (the crossbar's first step)
    H  the taps assembled (each tap's row bank, constant padding), then the output queue
       (for K = 3 the taps go from G into the queue directly, see ``_stage_h``)

:func:`latency` edges from a window's issue to it being valid on ``o``. The writer registers each
accepted beat and writes it on the next edge; a row counts as complete once its last beat is
written.

Length errors: a ``last`` before the configured end makes the writer fill the rest of the frame
with zeros (consuming nothing) so the frame still completes; a missing ``last`` at the end makes
it drop beats up to and including the next ``last``. Either way the length error pulses.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .arith import NO_RW_CHECK
from .frame_check import frame_error_layout
from .params import PadMode
from .regmap import CONFIG_ERRORS, config_layout
from . import credit, pipeline
from .credit import CreditQueue
from .fifo import BufferedFIFO
from .window_layout import window_layout

__all__ = ["WindowGenerator", "input_layout", "latency", "LOW_WATER_DELAY", "QUEUE_DEPTH"]


def _stage_h(params):
    """Stage H (the assembled taps registered before the output queue) and per-tap copies of
    the row-bank selects, for K >= 5: there the K*K-tap assembly and the queue's memory took
    most of a clock period of routing. For K = 3 the extra registers only moved the placement
    and cost clock on LFE5U-45F (measured), so they are left out."""
    return params.kernel >= 5


def latency(params):
    """Clock edges from a window being issued to it being valid on ``o``: B to G (H for
    K >= 5; no F when ``lean``), the queue."""
    return 5 + int(_stage_h(params)) - int(params.lean) + credit.LATENCY
#: windows the output queue holds (the reader's stages, the queue's own latency, slack)
QUEUE_DEPTH = 16
#: edges from a window's issue to its memory read: the low-water mark a window published stays
#: in force that long
LOW_WATER_DELAY = 3


def coord_width(params):
    """Signed width of the reader's coordinates: a tap's source row or column before the
    padding map (``-pad .. padded size + s``) and the row counts made from them (up to the
    padded size + K + 4), sized for the largest frame: the adders and comparisons of the
    sequencer are no wider than the frames need."""
    p = params
    reach = max(p.max_padded_height, p.max_padded_width) + 2 * p.kernel + 4
    return reach.bit_length() + 1


def input_layout(params):
    return data.StructLayout({"data": signed(params.act_width), "last": 1})


class WindowGenerator(wiring.Component):
    """See the module docstring.

    Ports
    -----
    i : In(stream)               input pixels
    config : In(config layout)   the applied configuration, latched when the writer starts a frame;
                                 its error flags are registered here first, so a new
                                 configuration must be stable for a cycle before a frame starts
                                 on it (the core holds frames while one settles)
    hold : In(1)                 do not start a frame (a parameter load waits or runs, a new
                                 configuration settles)
    mask : In(mask_bits)         the active bank of the block-mask register file
    mask_pending : In(1)         a committed mask waits for a frame
    mask_swap : Out(1)           swap the mask banks now (a frame boundary)
    o : Out(stream)              windows
    error : Out(frame error layout)  error pulses (config checks, input length)
    busy : Out(1)                a frame is being received or windows are being produced
    start : Out(1)               a frame starts (the writer takes its configuration); ``busy``
                                 covers it from the next cycle
    taken : Out(1)               a frame starts (``start``) or is rejected: the host's
                                 FRAMES_STARTED count
    """

    def __init__(self, params):
        self._params = params
        p = params
        super().__init__({
            "i": In(stream.Signature(input_layout(p))),
            "config": In(config_layout(p)),
            "hold": In(1),
            "mask": In(p.mask_bits),
            "mask_pending": In(1),
            "mask_swap": Out(1),
            "o": Out(stream.Signature(window_layout(p))),
            "error": Out(frame_error_layout()),
            "busy": Out(1),
            "start": Out(1),
            "taken": Out(1),
        })

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        k, slots = p.kernel, p.row_slots

        # --- line buffer memories: [row bank][column bank], two rows each --------------------
        self._low_bits = max(1, ceil_log2(p.bank_depth))
        # A row is written only into a slot no window still to be read needs (the low-water
        # rule), so a read never collides with a write that matters: ``no_rw_check``.
        banks = [[Memory(shape=signed(p.act_width), depth=p.row_halves << self._low_bits, init=[],
                         attrs=NO_RW_CHECK) for _ in range(k)] for _ in range(k)]
        for r in range(k):
            for b in range(k):
                m.submodules[f"line_r{r}_b{b}"] = banks[r][b]

        # --- frame descriptor queue (writer -> reader) ---------------------------------------
        desc_layout = data.StructLayout({
            "cfg": config_layout(p), "base": p.vrow_width, "base_slot": range(slots),
            "swap": 1})
        m.submodules.frames = frames = BufferedFIFO(width=desc_layout.size, depth=slots + 1)
        pushed = Signal(desc_layout)
        popped = data.View(desc_layout, frames.r_data)
        m.d.comb += frames.w_data.eq(pushed)

        low_water = Signal(p.vrow_width)  # from the reader: lowest virtual row still to be read
        self._low_water_next = Signal(p.vrow_width)  # ... and what it will be next cycle
        # from the writer: the virtual row being received, which is also the count of rows
        # completely written counting one that completes on this edge (the row moves on when
        # its last beat is taken, and that beat is written on the next edge), and one more:
        # registers, so the reader's frame start subtracts its base from flip-flops
        vrow = Signal(p.vrow_width, name="vrow")
        vrow_p1 = Signal(p.vrow_width, name="vrow_p1", init=1)
        vrow_p2 = Signal(p.vrow_width, name="vrow_p2", init=2)
        self._row_written = Signal()      # a row completes on this edge
        claimed = Signal()                # a queued or running frame will swap the mask
        writer_idle = Signal()
        reader_idle = Signal()
        self._swap_request = Signal()
        m.d.sync += self._swap_request.eq(0)
        self._writer_busy = Signal()
        self._reader_busy = Signal()

        rows = (vrow, vrow_p1, vrow_p2)
        self._writer(m, p, banks, frames, pushed, low_water, rows, claimed, writer_idle)
        self._reader(m, p, banks, frames, popped, low_water, rows, reader_idle)
        m.d.comb += self.busy.eq(self._writer_busy | self._reader_busy)

        # a pending mask with no frame received, queued or being read: swap it in now. The
        # request is a register (it reaches every bit of both banks); the swap lands on the
        # next edge, before any window of a later frame looks its mask up, and ``claimed``
        # keeps a frame starting meanwhile from claiming the same commit.
        empty = frames.level == 0
        with m.If(writer_idle & empty & reader_idle & self.mask_pending & ~claimed):
            m.d.sync += [self._swap_request.eq(1), claimed.eq(1)]
        with m.If(~self.mask_pending):
            m.d.sync += claimed.eq(0)
        m.d.comb += self.mask_swap.eq(self._swap_request)
        return m

    # ------------------------------------------------------------------------------------------
    def _writer(self, m, p, banks, frames, pushed, low_water, rows, claimed, writer_idle):
        k, slots = p.kernel, p.row_slots
        beat = self.i.payload
        vrow, vrow_p1, vrow_p2 = rows   # virtual row being received, and the next two
        slot = Signal(range(slots))     # its ring slot
        row_bank = Signal(range(k))     # slot mod K
        half = Signal(range(p.row_halves))   # slot div K
        y = Signal(range(p.max_height))
        x = Signal(range(p.max_width))
        x_mod = Signal(range(k))
        x_base = Signal(self._low_bits)  # (x div K) * max_cin, by increments of max_cin
        c = Signal(range(p.max_cin))

        width_m1 = Signal(range(p.max_width))    # the frame's last column, channel, row
        cin_m1 = Signal(range(p.max_cin))
        height_m1 = Signal(range(p.max_height))
        # c, x and y are at the frame's last channel, column, row: registers, made with the
        # counters' next values, so a take's decisions start from flip-flops
        final_x = Signal()
        final_c = Signal()
        final_y = Signal()
        frame_end = final_x & final_c & final_y

        # row_free: row ``vrow`` may be written (``vrow < low_water + 2K``). A register, made a
        # cycle ahead for both possible next rows; the take only picks one. Signed: the
        # reader's low water may pass the writer when a frame's last rows are never read.
        row_free = Signal()
        take = Signal()             # this cycle's beat goes into the write stage
        low_next = self._low_water_next

        def free(row):
            return (row - low_next)[:p.vrow_width].as_signed() < slots
        m.d.sync += row_free.eq(Mux(take & final_x & final_c, free(vrow_p1), free(vrow)))

        # write stage: an accepted beat is written on the next edge
        value = Signal(signed(p.act_width))
        w_valid = Signal()
        w_data = Signal(signed(p.act_width))
        w_addr = Signal(self._low_bits)
        w_half = Signal.like(half)
        w_row_bank = Signal(range(k))
        w_col_bank = Signal(range(k))
        # the row's last beat: the row is complete once written (``w_valid`` and the row's end
        # in one register, so the reader's row count adds a flip-flop)
        row_written = Signal()
        m.d.sync += [w_valid.eq(take), row_written.eq(take & final_x & final_c)]
        with m.If(take):
            m.d.sync += [w_data.eq(value), w_addr.eq(x_base + c), w_half.eq(half),
                         w_row_bank.eq(row_bank), w_col_bank.eq(x_mod)]
        for r in range(k):
            for b in range(k):
                port = banks[r][b].write_port()
                m.d.comb += [
                    port.addr.eq(Cat(w_addr, w_half)),
                    port.data.eq(w_data),
                    port.en.eq(w_valid & (w_row_bank == r) & (w_col_bank == b)),
                ]
        m.d.comb += self._row_written.eq(row_written)

        def step():
            """Advance (c, x, y) after a taken beat; move to the next row slot at a row end."""
            with m.If(~final_c):
                m.d.sync += [c.eq(c + 1), final_c.eq(c + 1 == cin_m1)]
            with m.Else():
                m.d.sync += [c.eq(0), final_c.eq(cin_m1 == 0)]
                with m.If(~final_x):
                    m.d.sync += [x.eq(x + 1), final_x.eq(x + 1 == width_m1)]
                    with m.If(x_mod == k - 1):
                        m.d.sync += [x_mod.eq(0), x_base.eq(x_base + p.max_cin)]
                    with m.Else():
                        m.d.sync += x_mod.eq(x_mod + 1)
                with m.Else():
                    m.d.sync += [x.eq(0), x_mod.eq(0), x_base.eq(0), y.eq(y + 1),
                                 final_x.eq(width_m1 == 0), final_y.eq(y + 1 == height_m1),
                                 vrow.eq(vrow_p1), vrow_p1.eq(vrow_p2),
                                 vrow_p2.eq(vrow_p2 + 1),
                                 slot.eq(Mux(slot == slots - 1, 0, slot + 1))]
                    with m.If(row_bank == k - 1):
                        m.d.sync += [row_bank.eq(0),
                                     half.eq(Mux(half == p.row_halves - 1, 0, half + 1))]
                    with m.Else():
                        m.d.sync += row_bank.eq(row_bank + 1)

        # (a register: the frame start's decisions begin at flip-flops of this unit)
        bad = Signal()
        m.d.sync += bad.eq(self.config.errors.as_value().any())

        with m.FSM(name="writer"):
            with m.State("START"):
                m.d.comb += writer_idle.eq(~self.i.valid)
                # the counters are unused here: they load on every edge, so the start's
                # decision does not reach their enables
                m.d.sync += [width_m1.eq(self.config.width - 1),
                             cin_m1.eq(self.config.cin - 1),
                             height_m1.eq(self.config.height - 1),
                             y.eq(0), x.eq(0), x_mod.eq(0), x_base.eq(0), c.eq(0),
                             final_x.eq(self.config.width == 1),
                             final_c.eq(self.config.cin == 1),
                             final_y.eq(self.config.height == 1)]
                with m.If(self.i.valid & ~self.hold):
                    with m.If(bad):
                        m.d.comb += self.taken.eq(1)
                        for name in CONFIG_ERRORS:
                            m.d.comb += self.error[name].eq(self.config.errors[name])
                        m.next = "DRAIN"
                    with m.Elif(frames.w_rdy):
                        swap = self.mask_pending & ~claimed
                        m.d.comb += [
                            pushed.cfg.eq(self.config),
                            pushed.base.eq(vrow),
                            pushed.base_slot.eq(slot),
                            pushed.swap.eq(swap),
                            frames.w_en.eq(1),
                            self.start.eq(1),
                            self.taken.eq(1),
                        ]
                        with m.If(swap):
                            m.d.sync += claimed.eq(1)
                        m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [self.i.ready.eq(row_free), self._writer_busy.eq(1),
                             value.eq(beat.data), take.eq(self.i.valid & row_free)]
                with m.If(take):
                    step()
                    with m.If(frame_end):
                        with m.If(beat.last):
                            m.next = "START"
                        with m.Else():
                            m.d.comb += self.error.length.eq(1)
                            m.next = "DRAIN"
                    with m.Elif(beat.last):
                        m.d.comb += self.error.length.eq(1)
                        m.next = "FILL"
            with m.State("FILL"):
                m.d.comb += [self._writer_busy.eq(1), value.eq(0), take.eq(row_free)]
                with m.If(take):
                    step()
                    with m.If(frame_end):
                        m.next = "START"
            with m.State("DRAIN"):
                m.d.comb += [self.i.ready.eq(1), self._writer_busy.eq(1)]
                with m.If(self.i.valid & beat.last):
                    m.next = "START"
        with m.If(w_valid):
            m.d.comb += self._writer_busy.eq(1)

    # ------------------------------------------------------------------------------------------
    def _reader(self, m, p, banks, frames, popped, low_water, rows, reader_idle):
        k, slots, mc = p.kernel, p.row_slots, p.max_cin
        log_block = ceil_log2(p.block)
        grid_h, grid_w = p.grid_shape
        row_bits = ceil_log2(slots)        # residues modulo 2K
        col_bits = ceil_log2(k) if k > 1 else 1
        coord = coord_width(p)

        # the reader never stalls: windows go into a queue with room for all in flight
        m.submodules.out = out = CreditQueue(window_layout(p), QUEUE_DEPTH)
        wiring.connect(m, out.o, wiring.flipped(self.o))

        def reg(name, shape, init=0):
            return Signal(shape, name=name, init=init)

        def values(n):
            """A shape for 0 .. n-1 (at least one bit)."""
            return range(max(n, 2))

        # ---- A: per-frame registers (set when the reader starts a frame) --------------------
        running = reg("running", 1)
        cfg = Signal(config_layout(p), name="r_cfg")
        base = reg("base", p.vrow_width)
        base_slot = reg("base_slot", range(slots))
        # the counters' second-to-last values (output rows - 2, output columns - 2, cin - 2)
        # and the one-value cases, so the "last" flags come from equalities with registers,
        # not from an increment and a comparison
        hout_m2 = reg("hout_m2", range(-1, p.max_padded_height + 1))
        wout_m2 = reg("wout_m2", range(-1, p.max_padded_width + 1))
        cin_m2 = reg("cin_m2", range(-1, p.max_cin + 1))
        one_c = reg("one_c", 1)
        one_x = reg("one_x", 1)
        h_last = reg("h_last", signed(coord))     # H - 1
        w_last = reg("w_last", signed(coord))     # W - 1
        cap = reg("cap", signed(coord))           # H - K: no window reads below it
        need_min = reg("need_min", range(p.max_height + 1))   # min(H, top + 1 if reflect else 1)

        # ---- A: sequencer -------------------------------------------------------------------
        c = reg("c", range(p.max_cin))
        g = reg("g", range(p.groups))
        gbase = reg("gbase", range(p.groups * mc))          # g * max_cin
        remaining = reg("remaining", range(p.max_cout + 1))  # cout - g * lanes
        ox = reg("ox", range(p.max_padded_width))
        oy = reg("oy", range(p.max_padded_height))

        # ---- A: geometry of the current output row (per tap row ky) -------------------------
        # t = oy*s - top + ky (source row before the padding map), its residue modulo 2K
        # offset by the frame's first slot, its flags, and how far past the last row it is
        t = [reg(f"t{ky}", signed(coord)) for ky in range(k)]
        t_nx = [reg(f"t_nx{ky}", signed(coord)) for ky in range(k)]   # t + s, kept ready
        t_res = [reg(f"t_res{ky}", range(slots)) for ky in range(k)]
        t_below = [reg(f"t_below{ky}", 1) for ky in range(k)]
        t_above = [reg(f"t_above{ky}", 1) for ky in range(k)]
        # (H - 1) - t_nx: its sign is the next row's t_above, with no comparison on the step
        t_room_nx = [reg(f"t_room_nx{ky}", signed(coord)) for ky in range(k)]
        need = reg("need", range(p.max_height + 1))    # rows this output row needs
        need_next = reg("need_next", range(p.max_height + 1))   # ... and the next one
        n_after = reg("n_after", signed(coord))   # t0 + s + K of the row after the next
        # (H - 1) - n_after and need_min - n_after: their signs are the comparisons that make
        # need_next, so the row step only selects
        n_room = reg("n_room", signed(coord))
        n_below_min = reg("n_below_min", signed(coord))
        low_rel = reg("low_rel", range(p.max_height + 1))   # max(0, min(t0, H - K))
        rows_avail = reg("rows_avail", range(p.max_height + 2 * slots + 1))  # rows done - base
        ready = reg("ready", 1)                         # rows_avail >= need
        low = reg("low", p.vrow_width)                  # its low-water mark
        brow = [reg(f"brow{ky}", values(grid_h)) for ky in range(k)]      # block row of ky
        brow_f = [reg(f"brow_f{ky}", values(p.block)) for ky in range(k)]  # row within block

        # ---- A: geometry of the current output column (per tap column kx) -------------------
        u = [reg(f"u{kx}", signed(coord)) for kx in range(k)]          # ox*s - left + kx
        u_nx = [reg(f"u_nx{kx}", signed(coord)) for kx in range(k)]    # u + s, kept ready
        u_q = [reg(f"u_q{kx}", signed(coord)) for kx in range(k)]      # floor(u / K) ...
        u_r = [reg(f"u_r{kx}", values(k)) for kx in range(k)]            # ... and u mod K
        u_qm = [reg(f"u_qm{kx}", signed(coord + ceil_log2(mc) + 1))
                for kx in range(k)]                                      # floor(u / K) * mc
        u_left = [reg(f"u_left{kx}", 1) for kx in range(k)]
        u_right = [reg(f"u_right{kx}", 1) for kx in range(k)]
        u_room_nx = [reg(f"u_room_nx{kx}", signed(coord)) for kx in range(k)]  # (W - 1) - u_nx
        bcol = [reg(f"bcol{kx}", values(grid_w)) for kx in range(k)]
        bcol_f = [reg(f"bcol_f{kx}", values(p.block)) for kx in range(k)]
        # the same at ox = 0, for the next output row
        u0 = [reg(f"u0_{kx}", signed(coord)) for kx in range(k)]
        u0_nx = [reg(f"u0_nx{kx}", signed(coord)) for kx in range(k)]
        u0_q = [reg(f"u0_q{kx}", signed(coord)) for kx in range(k)]
        u0_r = [reg(f"u0_r{kx}", values(k)) for kx in range(k)]
        u0_left = [reg(f"u0_left{kx}", 1) for kx in range(k)]
        u0_right = [reg(f"u0_right{kx}", 1) for kx in range(k)]
        u0_room_nx = [reg(f"u0_room_nx{kx}", signed(coord)) for kx in range(k)]

        stride = cfg.stride

        def advance_mod(res, limit):
            """``(res + stride) mod limit`` for ``res < limit``."""
            nxt = res + stride
            return Mux(nxt >= limit, nxt - limit, nxt)

        def col_init(kx, left):
            """Column geometry of tap kx at ox = 0: u = kx - left (|u| < K)."""
            value = kx - left
            return {"u": value, "q": Mux(value < 0, -1, 0),
                    "r": Mux(value < 0, value + k, value)[:max(1, ceil_log2(k))],
                    "left": value < 0}

        # ---- rows ready, issue --------------------------------------------------------------
        # ``ready`` is a register: whether the rows are there for this row and the next is
        # known a cycle ahead, and ``issue`` only picks. The four comparisons (this output
        # row or the next; a row written this cycle or not) are registers themselves, made
        # with the next cycle's row count and needs (``rows_avail_p1`` and ``_p2`` are kept
        # beside ``rows_avail``), so the issue's decisions start from flip-flops, not from
        # carry chains.
        inc = self._row_written
        running_next = Signal()    # what ``running`` and ``ready`` will be after this edge
        ready_next = Signal()
        m.d.comb += running_next.eq(running)
        # this cycle's issue moves to the next output row (``keep``: see ``copies`` below)
        row_step = Signal(name="row_step", attrs=pipeline.KEEP)
        rows_avail_p1 = reg("rows_avail_p1", range(p.max_height + 2 * slots + 2))
        rows_avail_p2 = reg("rows_avail_p2", range(p.max_height + 2 * slots + 3))
        m.d.sync += [rows_avail.eq(rows_avail + inc), rows_avail_p1.eq(rows_avail_p1 + inc),
                     rows_avail_p2.eq(rows_avail_p2 + inc)]
        # rows_avail (+ 1) >= need, and the same against need_next
        enough = reg("enough", 1)
        enough_p1 = reg("enough_p1", 1)
        enough_next = reg("enough_next", 1)
        enough_next_p1 = reg("enough_next_p1", 1)
        m.d.comb += ready_next.eq(Mux(row_step, Mux(inc, enough_next_p1, enough_next),
                                      Mux(inc, enough_p1, enough)))
        # the needs after this edge (on a row step the next row's, and need_next becomes
        # min(H, max(n_after, need_min))); a frame start loads its own values, below
        need_after = Mux(row_step, need_next, need)
        need_next_after = Mux(row_step, Mux(n_room < 0, cfg.height,
                                            Mux(n_below_min < 0, n_after, need_min)), need_next)
        avail_after = Mux(inc, rows_avail_p1, rows_avail)
        avail_after_p1 = Mux(inc, rows_avail_p2, rows_avail_p1)
        m.d.sync += [enough.eq(avail_after >= need_after),
                     enough_p1.eq(avail_after_p1 >= need_after),
                     enough_next.eq(avail_after >= need_next_after),
                     enough_next_p1.eq(avail_after_p1 >= need_next_after)]
        # "last" flags of the counters are registers, made with the counters' next values
        last_c = reg("last_c", 1)
        last_g = reg("last_g", 1)
        last_cg = reg("last_cg", 1)      # last_c & last_g, a register of its own
        last_x = Signal(name="last_x", attrs=pipeline.KEEP)
        last_y = reg("last_y", 1)
        # their next values (the sequencer's enables below are registers made from them)
        last_cg_next, last_x_next, last_y_next = Signal(), Signal(), Signal()
        m.d.comb += [last_cg_next.eq(last_cg), last_x_next.eq(last_x), last_y_next.eq(last_y)]
        m.d.sync += [last_cg.eq(last_cg_next), last_x.eq(last_x_next), last_y.eq(last_y_next)]
        cout_le_lanes = reg("cout_le_lanes", 1)    # one group only
        # The sequencer's enables are registers, made from the next values of the registers
        # they used to be ANDs of, so the wide updates hang on a flip-flop each, and their
        # fan-out is split three ways:
        # ``issue`` = running & ready & credit: the channel and group counters, stage B
        # ``end_position`` = issue & last_cg: the column geometry
        # ``row_step`` = end_position & last_x & ~last_y: the row geometry
        issue = reg("issue", 1)
        end_position = Signal(name="end_position", attrs=pipeline.KEEP)
        issue_next = running_next & ready_next & out.credit_next
        m.d.comb += out.reserve.eq(issue)
        end_position_next = issue_next & last_cg_next
        row_step_next = end_position_next & last_x_next & ~last_y_next
        m.d.sync += [running.eq(running_next), ready.eq(ready_next), issue.eq(issue_next),
                     end_position.eq(end_position_next), row_step.eq(row_step_next)]

        # The geometry of each tap column and tap row (a few dozen flip-flops each) moves on
        # copies of these enables and of ``last_x``, one per tap: a single register reaching
        # all of them took most of a clock period of routing on its own (the originals are
        # kept apart from their copies as well, see pipeline.KEEP).
        end_position_col = pipeline.copies(m, "end_position_col", end_position_next, k)
        last_x_col = pipeline.copies(m, "last_x_col", last_x_next, k)
        row_step_row = pipeline.copies(m, "row_step_row", row_step_next, k)

        # mask rows of the window's tap rows (the bank active when the window is issued)
        mask_rows = [self.mask[r * grid_w:min((r + 1) * grid_w, p.mask_bits)]
                     for r in range(grid_h)]

        # ---- frame start --------------------------------------------------------------------
        # The next frame's descriptor is taken from the queue ahead of time (``next_frame``),
        # and every register the start loads is computed from it in register steps: the
        # longer sums and the first row's needs first (``pre``: a cycle after the descriptor
        # arrives), then the values themselves (``prep``: a cycle later), and whether the
        # rows are there a cycle later still, so the start is a copy and no step has more
        # than one or two carry chains. While a frame runs, the next one's descriptor waits
        # here, so back-to-back frames lose no cycle.
        nxt = Signal(popped.shape(), name="next_frame")
        nxt_valid = reg("next_valid", 1)
        nxt_seen = reg("next_seen", 1)       # the pre registers hold next_frame's values
        nxt_seen2 = reg("next_seen2", 1)     # ... and the prep registers
        nxt_ready = reg("next_ready", 1)     # ... and the rows-there registers
        # ``start_frame`` (~running & next_ready) enables every register a start loads: like
        # ``issue`` it is a register, made from the next values
        start_frame = reg("start_frame", 1)
        nxt_seen_next = nxt_valid & ~start_frame
        nxt_seen2_next = nxt_seen & nxt_seen_next
        nxt_ready_next = nxt_seen2 & nxt_seen_next
        m.d.comb += reader_idle.eq(~running & ~nxt_valid)
        with m.If(frames.r_rdy & ~nxt_valid):
            m.d.comb += frames.r_en.eq(1)
            m.d.sync += [nxt.eq(popped), nxt_valid.eq(1)]
        m.d.sync += [nxt_seen.eq(nxt_seen_next), nxt_seen2.eq(nxt_seen2_next),
                     nxt_ready.eq(nxt_ready_next),
                     start_frame.eq(~running_next & nxt_ready_next)]
        with m.If(start_frame):
            m.d.sync += nxt_valid.eq(0)

        preps = []   # loaded on every edge (outside the start's condition, below)

        def prep(target, value):
            """``value`` (of the waiting descriptor) in a register, for ``target`` at the start."""
            staged = Signal.like(target, name=f"{target.name}_start")
            preps.append(staged.eq(value))
            return staged

        def pre(name, value):
            """A first step towards the start's values, from the waiting descriptor."""
            staged = Signal(value.shape(), name=f"{name}_pre")
            preps.append(staged.eq(value))
            return staged

        d = nxt
        top, left = d.cfg.pad_top, d.cfg.pad_left
        hp = d.cfg.height + d.cfg.pad_top + d.cfg.pad_bottom - p.kernel
        wp = d.cfg.width + d.cfg.pad_left + d.cfg.pad_right - p.kernel
        n1 = k - top + d.cfg.stride     # t0 + s + K of row 1
        # output rows and columns - 1; row 1's t0 + s + K, and that plus s; H - 1
        hout_pre = pre("hout", Mux(d.cfg.stride == 2, hp >> 1, hp))
        wout_pre = pre("wout", Mux(d.cfg.stride == 2, wp >> 1, wp))
        n1_pre = pre("n1", n1)
        n1s_pre = pre("n1s", n1 + d.cfg.stride)
        h_m1_pre = pre("h_m1", d.cfg.height - 1)
        # Rows the first output row needs: through its last tap row (K - top), and with reflect
        # padding at the top through row -t0 = top as well; every later row needs at least the
        # latter (``least``). Both at most the frame's height.
        reflect_top = d.cfg.mode == PadMode.REFLECT
        floor_rows = Mux(reflect_top, top + 1, 1)
        least_pre = pre("least", Mux(floor_rows > d.cfg.height, d.cfg.height, floor_rows))
        first_raw = Mux(reflect_top & (2 * top + 1 > k), top + 1, k - top)
        first_need_pre = pre("first_need", Mux(first_raw > d.cfg.height, d.cfg.height,
                                               first_raw))
        res0_pre = pre("res0", d.base_slot - top + slots)       # tap row 0's slot, + 2K
        room_row_pre = pre("room_row", d.cfg.height - 1 - d.cfg.stride + top)
        above_pre = pre("above", d.cfg.height - 1 + top)        # tap rows past it: t > H - 1
        room_col_pre = pre("room_col", d.cfg.width - 1 - d.cfg.stride + left)
        right_pre = pre("right", d.cfg.width - 1 + left)        # tap columns past it

        with m.If(start_frame):
            m.d.comb += running_next.eq(1)
            m.d.sync += self._swap_request.eq(d.swap)
            first_need, least = first_need_pre, least_pre
            rows_done, rows_done_p1, rows_done_p2 = rows  # the writer's vrow: the count after
            # this edge
            avail = (rows_done - d.base)[:p.vrow_width]
            # the row count at which the first output row is ready, in a register: the start
            # then takes one subtraction and a sign (the difference fits, see vrow_width)
            ready_at = Signal(p.vrow_width, name="ready_at_start")
            preps.append(ready_at.eq(d.base + first_need))
            # whether the rows are there, for the row counts after the edge before (and one
            # and two more), in registers: the start only picks, by whether a row was
            # completed on that edge (the ready_at register holds still by then)
            def reached(count):
                return (count - ready_at)[:p.vrow_width].as_signed() >= 0
            reached_q = [Signal(name=f"reached{i}") for i in range(3)]
            preps.extend(r.eq(reached(count)) for r, count in zip(reached_q, rows))
            # row 1's need: min(H, max(n1, first_need))
            need_next_start = prep(need_next, Mux(n1_pre >= d.cfg.height, d.cfg.height,
                                                  Mux(n1_pre > first_need, n1_pre, first_need)))
            hout, wout = hout_pre, wout_pre
            start_avail = (rows_done - d.base)[:p.vrow_width]
            start_avail_p1 = (rows_done_p1 - d.base)[:p.vrow_width]
            # cout fits one group of lanes (a constant when max_cout does: no constant
            # comparison in the Verilog)
            one_group = d.cfg.cout <= p.lanes if p.max_cout > p.lanes else 1
            m.d.sync += [
                enough.eq(ready_next),
                enough_p1.eq(Mux(inc, reached_q[2], reached_q[1])),
                enough_next.eq(start_avail >= need_next_start),
                enough_next_p1.eq(start_avail_p1 >= need_next_start),
            ]
            m.d.comb += [
                ready_next.eq(Mux(inc, reached_q[1], reached_q[0])),
                last_cg_next.eq(prep(last_cg, (d.cfg.cin == 1) & (one_group))),
                last_x_next.eq(prep(last_x, wout == 0)),
                last_y_next.eq(prep(last_y, hout == 0)),
            ]
            m.d.sync += [
                rows_avail.eq(avail),
                rows_avail_p1.eq((rows_done_p1 - d.base)[:p.vrow_width]),
                rows_avail_p2.eq((rows_done_p2 - d.base)[:p.vrow_width]),
                n_after.eq(prep(n_after, n1s_pre)),
                n_room.eq(prep(n_room, h_m1_pre - n1s_pre)),
                n_below_min.eq(prep(n_below_min, least - n1s_pre)),
                need_next.eq(need_next_start),
                cfg.eq(d.cfg), base.eq(d.base), base_slot.eq(d.base_slot),
                hout_m2.eq(prep(hout_m2, hout - 1)),
                wout_m2.eq(prep(wout_m2, wout - 1)),
                cin_m2.eq(prep(cin_m2, d.cfg.cin - 2)),
                one_c.eq(prep(one_c, d.cfg.cin == 1)),
                one_x.eq(prep(one_x, wout == 0)),
                last_c.eq(prep(last_c, d.cfg.cin == 1)),
                last_g.eq(prep(last_g, one_group)),
                cout_le_lanes.eq(prep(cout_le_lanes, one_group)),
                h_last.eq(prep(h_last, d.cfg.height - 1)),
                w_last.eq(prep(w_last, d.cfg.width - 1)),
                cap.eq(prep(cap, d.cfg.height - k)),
                need_min.eq(least), need.eq(first_need),
                c.eq(0), g.eq(0), gbase.eq(0), remaining.eq(d.cfg.cout), ox.eq(0), oy.eq(0),
            ]
            for ky in range(k):
                value = ky - top
                res = res0_pre + ky                 # in 0 .. 3 * slots
                m.d.sync += [
                    t[ky].eq(prep(t[ky], value)),
                    t_nx[ky].eq(prep(t_nx[ky], value + d.cfg.stride)),
                    t_res[ky].eq(prep(t_res[ky], Mux(res >= 2 * slots, res - 2 * slots,
                                                     Mux(res >= slots, res - slots, res)))),
                    t_below[ky].eq(prep(t_below[ky], value < 0)),
                    t_above[ky].eq(prep(t_above[ky], ky > above_pre)),
                    # (H - 1) - (t + s)
                    t_room_nx[ky].eq(prep(t_room_nx[ky], room_row_pre - ky)),
                    brow[ky].eq(ky >> log_block), brow_f[ky].eq(ky & (p.block - 1)),
                ]
            for kx in range(k):
                init = col_init(kx, left)
                u_init = prep(u[kx], init["u"])
                u_nx_init = prep(u_nx[kx], init["u"] + d.cfg.stride)
                q_init, r_init = prep(u_q[kx], init["q"]), prep(u_r[kx], init["r"])
                left_init = prep(u_left[kx], init["left"])
                right_init = prep(u_right[kx], kx > right_pre)   # u > W - 1
                room_init = prep(u_room_nx[kx], room_col_pre - kx)  # (W - 1) - (u + s)
                m.d.sync += [
                    u[kx].eq(u_init), u0[kx].eq(u_init),
                    u_nx[kx].eq(u_nx_init), u0_nx[kx].eq(u_nx_init),
                    u_q[kx].eq(q_init), u0_q[kx].eq(q_init),
                    u_r[kx].eq(r_init), u0_r[kx].eq(r_init),
                    u_qm[kx].eq(prep(u_qm[kx], Mux(init["u"] < 0, -mc, 0))),
                    u_left[kx].eq(left_init), u0_left[kx].eq(left_init),
                    u_right[kx].eq(right_init), u0_right[kx].eq(right_init),
                    u_room_nx[kx].eq(room_init), u0_room_nx[kx].eq(room_init),
                    bcol[kx].eq(kx >> log_block), bcol_f[kx].eq(kx & (p.block - 1)),
                ]
        m.d.sync += preps

        # ---- sequencer step -----------------------------------------------------------------
        def advance_block(block, within):
            """A tap's block index and its offset within the block, moved on by the stride."""
            if log_block == 0:
                m.d.sync += block.eq(block + stride)
            else:
                nf = within + stride
                m.d.sync += [within.eq(nf[:log_block]), block.eq(block + nf[log_block:])]

        def next_column(kx):
            nu = u_nx[kx]
            m.d.sync += [u[kx].eq(nu), u_nx[kx].eq(nu + stride),
                         u_left[kx].eq(nu < 0), u_right[kx].eq(u_room_nx[kx] < 0),
                         u_room_nx[kx].eq(u_room_nx[kx] - stride)]
            if k == 1:  # every column is its own quotient
                m.d.sync += [u_q[kx].eq(nu),
                             u_qm[kx].eq(u_qm[kx] + Mux(stride == 2, 2 * mc, mc))]
            else:       # the stride (1 or 2) is below K: at most one wrap
                nr = u_r[kx] + stride
                wrap = nr >= k
                m.d.sync += [
                    u_r[kx].eq(Mux(wrap, nr - k, nr)),
                    u_q[kx].eq(Mux(wrap, u_q[kx] + 1, u_q[kx])),
                    u_qm[kx].eq(Mux(wrap, u_qm[kx] + mc, u_qm[kx])),
                ]
            advance_block(bcol[kx], bcol_f[kx])

        def first_column(kx):
            m.d.sync += [u[kx].eq(u0[kx]), u_nx[kx].eq(u0_nx[kx]),
                         u_q[kx].eq(u0_q[kx]), u_r[kx].eq(u0_r[kx]),
                         u_qm[kx].eq(Mux(u0[kx] < 0, -mc, 0)),
                         u_left[kx].eq(u0_left[kx]), u_right[kx].eq(u0_right[kx]),
                         u_room_nx[kx].eq(u0_room_nx[kx]),
                         bcol[kx].eq(kx >> log_block),
                         bcol_f[kx].eq(kx & (p.block - 1))]

        def next_row():
            m.d.sync += [
                need.eq(need_next), n_after.eq(n_after + stride),
                n_room.eq(n_room - stride), n_below_min.eq(n_below_min - stride),
                need_next.eq(need_next_after),
            ]

        def next_tap_row(ky):
            nt = t_nx[ky]
            m.d.sync += [
                t[ky].eq(nt), t_nx[ky].eq(nt + stride),
                t_res[ky].eq(advance_mod(t_res[ky], slots)),
                t_below[ky].eq(nt < 0), t_above[ky].eq(t_room_nx[ky] < 0),
                t_room_nx[ky].eq(t_room_nx[ky] - stride),
            ]
            advance_block(brow[ky], brow_f[ky])

        # The counters' decisions, from registers (``last_cg``: the window is the last of its
        # position).
        next_last_c = Signal()
        next_last_g = Signal()
        m.d.comb += [next_last_c.eq(last_c), next_last_g.eq(last_g)]
        with m.If(issue):
            with m.If(~last_c):
                m.d.sync += c.eq(c + 1)
                m.d.comb += next_last_c.eq(c == cin_m2)
            with m.Else():
                m.d.sync += c.eq(0)
                m.d.comb += next_last_c.eq(one_c)
                with m.If(~last_g):
                    m.d.sync += [g.eq(g + 1), gbase.eq(gbase + mc),
                                 remaining.eq(remaining - p.lanes)]
                    m.d.comb += next_last_g.eq(remaining <= 2 * p.lanes)
                with m.Else():
                    m.d.sync += [g.eq(0), gbase.eq(0), remaining.eq(cfg.cout)]
                    m.d.comb += next_last_g.eq(cout_le_lanes)
        with m.If(issue):
            m.d.sync += [last_c.eq(next_last_c), last_g.eq(next_last_g)]
            m.d.comb += last_cg_next.eq(next_last_c & next_last_g)
        with m.If(end_position):
            with m.If(~last_x):
                m.d.sync += ox.eq(ox + 1)
                m.d.comb += last_x_next.eq(ox == wout_m2)
            with m.Else():
                m.d.sync += ox.eq(0)
                m.d.comb += last_x_next.eq(one_x)
                with m.If(~last_y):
                    m.d.sync += oy.eq(oy + 1)
                    m.d.comb += last_y_next.eq(oy == hout_m2)
                with m.Else():
                    m.d.comb += running_next.eq(0)
        with m.If(row_step):
            next_row()
        for kx in range(k):
            with m.If(end_position_col[kx]):
                with m.If(~last_x_col[kx]):
                    next_column(kx)
                with m.Else():
                    first_column(kx)
        for ky in range(k):
            with m.If(row_step_row[ky]):
                next_tap_row(ky)

        # The low-water mark follows the row two cycles late, which is only more careful: it
        # never rises. (When the frame is done, every row of it is behind: the next base.)
        t0 = t[0]
        low_base = Signal.like(base)     # the base low_rel is relative to
        m.d.sync += [
            low_rel.eq(Mux(~running, cfg.height,
                           Mux(t0 < 0, 0, Mux(t0 > cap, Mux(cap < 0, 0, cap), t0)))),
            low_base.eq(base),
            low.eq(low_base + low_rel),
        ]

        # ---- B: registers loaded on the issue edge (every stage loads on every edge) --------
        def stage(name, shape, value, **kwargs):
            return pipeline.stage(m, name, shape, value, **kwargs)

        meta_layout = data.StructLayout({
            "channel": range(p.max_cin), "group": range(p.groups),
            "weight_addr": range(p.groups * mc),
            "first": 1, "last": 1, "end": 1, "lanes": range(p.lanes + 1),
            "shift": p.shift_width, "zero_gating": 1,
            "mode": PadMode, "pad_value": signed(p.act_width),
        })
        meta_a = Signal(meta_layout)
        # (with a power-of-two max_cin the sum is a concatenation: its bits are the channel's
        # and the group's, and synthesis keeps one register per bit for both)
        weight_addr = Cat(c, g) if mc & (mc - 1) == 0 else gbase + c
        m.d.comb += [
            meta_a.channel.eq(c), meta_a.group.eq(g), meta_a.weight_addr.eq(weight_addr),
            meta_a.first.eq(c == 0), meta_a.last.eq(last_c),
            meta_a.end.eq(last_c & last_g & last_x & last_y),
            meta_a.lanes.eq(Mux(last_g, remaining, p.lanes)),
            meta_a.shift.eq(cfg.shift), meta_a.zero_gating.eq(cfg.zero_gating),
            meta_a.mode.eq(cfg.mode), meta_a.pad_value.eq(cfg.pad_value),
        ]
        vb = stage("vb", 1, issue, keep_reset=True)
        meta_b = stage("meta_b", meta_layout, meta_a)
        low_b = stage("low_b", p.vrow_width, low, keep_reset=True)
        base_slot_b = stage("base_slot_b", range(slots), base_slot)
        # Where C uses a coordinate, it is a padding distance (below K) or a residue (below 2K):
        # the registers keep only the low bits that range needs, so the adders are short. The
        # padding maps' first step (the residue of the row or column a padding tap copies,
        # before it is brought back into range) is made here, from the sequencer's registers,
        # so C only brings it into range and selects.
        near = signed(ceil_log2(4 * k) + 2)
        reflect_a = cfg.mode == PadMode.REFLECT
        tb_res = [stage(f"tb_res{ky}", range(slots), t_res[ky]) for ky in range(k)]
        tb_below = [stage(f"tb_below{ky}", 1, t_below[ky]) for ky in range(k)]
        tb_above = [stage(f"tb_above{ky}", 1, t_above[ky]) for ky in range(k)]
        # below (t < 0): reflect reads row -t, residue res - 2t (in res + 2 .. res + 2K - 2)
        tb_up = [stage(f"tb_up{ky}", near, t_res[ky] - 2 * t[ky]) for ky in range(k)]

        def past_end(res, coord, last):
            """Past the far edge, e = coord - last > 0: the source's residue, from the tap's
            residue ``res``: reflect reads coord - 2e, replicate coord - e."""
            e = coord - last
            return Mux(reflect_a, res - 2 * e, res - e)

        # above (t > H - 1)
        tb_down = [stage(f"tb_down{ky}", near, past_end(t_res[ky], t[ky], h_last))
                   for ky in range(k)]
        ub_r = [stage(f"ub_r{kx}", range(k), u_r[kx]) for kx in range(k)]
        ub_qm = [stage(f"ub_qm{kx}", u_qm[kx].shape(), u_qm[kx]) for kx in range(k)]
        ub_qm1 = [stage(f"ub_qm1_{kx}", u_qm[kx].shape(), u_qm[kx] - mc) for kx in range(k)]
        ub_qm2 = [stage(f"ub_qm2_{kx}", u_qm[kx].shape(), u_qm[kx] - 2 * mc) for kx in range(k)]
        ub_left = [stage(f"ub_left{kx}", 1, u_left[kx]) for kx in range(k)]
        ub_right = [stage(f"ub_right{kx}", 1, u_right[kx]) for kx in range(k)]
        # left: reflect reads column -u (< K: q = 0), replicate column 0
        ub_left_r = [stage(f"ub_left_r{kx}", near, Mux(reflect_a, -u[kx], 0)) for kx in range(k)]
        # right (u > W - 1; back > -2K)
        ub_back = [stage(f"ub_back{kx}", near, past_end(u_r[kx], u[kx], w_last))
                   for kx in range(k)]
        brow_b = [stage(f"brow_b{ky}", values(grid_h), brow[ky]) for ky in range(k)]
        bcol_b = [stage(f"bcol_b{kx}", values(grid_w), bcol[kx]) for kx in range(k)]

        # ---- C: source rows (slot residue) and columns (bank, q * max_cin) -------------------
        reflect = meta_b.mode == PadMode.REFLECT
        vc = stage("vc", 1, vb, keep_reset=True)
        meta_c = stage("meta_c", meta_layout, meta_b)
        low_c = stage("low_c", p.vrow_width, low_b, keep_reset=True)
        row_bank_c, row_half_c, pad_row_c = [], [], []
        for ky in range(k):
            res = tb_res[ky]
            # below: reflect reads row -t, replicate row 0 (the base slot)
            up = tb_up[ky]
            below = Mux(reflect, Mux(up >= slots, up - slots, up), base_slot_b)
            down = tb_down[ky]
            above = Mux(down < 0, down + slots, down)
            src = Mux(tb_below[ky], below, Mux(tb_above[ky], above, res))[:row_bits]
            if k == 1:   # one row bank: the slot is the half
                row_bank_c.append(stage(f"row_bank{ky}", values(k), 0))
                row_half_c.append(stage(f"row_half{ky}", range(p.row_halves), src))
            else:        # two halves
                row_bank_c.append(stage(f"row_bank{ky}", values(k),
                                        Mux(src >= k, src - k, src)))
                row_half_c.append(stage(f"row_half{ky}", range(p.row_halves), src >= k))
            pad_row_c.append(tb_below[ky] | tb_above[ky])
        pad_rows_c = stage("pad_rows", k, Cat(pad_row_c))
        col_bank_c, col_qm_c, pad_col_c = [], [], []
        for kx in range(k):
            r, qm = ub_r[kx], ub_qm[kx]
            left_r, back = ub_left_r[kx], ub_back[kx]
            right_r = Mux(back < -k, back + 2 * k, Mux(back < 0, back + k, back))
            right_qm = Mux(back < -k, ub_qm2[kx], Mux(back < 0, ub_qm1[kx], qm))
            bank = Mux(ub_left[kx], left_r, Mux(ub_right[kx], right_r, r))
            qm_src = Mux(ub_left[kx], 0, Mux(ub_right[kx], right_qm, qm))
            col_bank_c.append(stage(f"col_bank{kx}", values(k), bank[:col_bits]))
            col_qm_c.append(stage(f"col_qm{kx}", range(p.bank_depth), qm_src))
            pad_col_c.append(ub_left[kx] | ub_right[kx])
        pad_cols_c = stage("pad_cols", k, Cat(pad_col_c))
        # the mask rows of the window's tap rows, looked up two cycles after the issue: a swap
        # requested with a frame start lands (the register file takes a cycle to pass it to
        # every bit) before the frame's first window gets there. The lookup is a mux over
        # every row of the mask: it takes three stages (row within a group of four, group,
        # bit), so no stage has more than a few levels of logic.
        groups = [mask_rows[j:j + 4] for j in range(0, grid_h, 4)]
        brow_c = [stage(f"brow_c{ky}", values(grid_h), brow_b[ky]) for ky in range(k)]
        bcol_c = [stage(f"bcol_c{kx}", values(grid_w), bcol_b[kx]) for kx in range(k)]

        # ---- D: read addresses per column bank, halves per row bank -------------------------
        vd = stage("vd", 1, vc, keep_reset=True)
        meta_d = stage("meta_d", meta_layout, meta_c)
        low_d = stage("low_d", p.vrow_width, low_c, keep_reset=True)
        m.d.comb += [low_water.eq(low_d), self._low_water_next.eq(low_c)]
        addr_d = []
        for b in range(k):
            addr = Signal(self._low_bits, name=f"bank_addr{b}")
            for kx in range(k):
                with m.If(col_bank_c[kx] == b):
                    m.d.comb += addr.eq(col_qm_c[kx] + meta_c.channel)
            addr_d.append(stage(f"addr_d{b}", self._low_bits, addr))
        half_d = []
        for r in range(k):
            half = Signal(range(p.row_halves), name=f"half_r{r}")
            for ky in range(k):
                with m.If(row_bank_c[ky] == r):
                    m.d.comb += half.eq(row_half_c[ky])
            half_d.append(stage(f"half_d{r}", range(p.row_halves), half))
        row_bank_d = [stage(f"row_bank_d{ky}", values(k), row_bank_c[ky]) for ky in range(k)]
        col_bank_d = [stage(f"col_bank_d{kx}", values(k), col_bank_c[kx]) for kx in range(k)]
        pad_d = stage("pad_d", p.taps, Cat(pad_rows_c[ky] | pad_cols_c[kx]
                                           for ky in range(k) for kx in range(k)))
        rows_d = [[stage(f"mask_row{ky}_g{j}", grid_w,
                         Array(group)[brow_c[ky][:2]] if len(group) > 1 else group[0])
                   for j, group in enumerate(groups)] for ky in range(k)]
        brow_d = [stage(f"brow_d{ky}", values(grid_h), brow_c[ky]) for ky in range(k)]
        bcol_d = [stage(f"bcol_d{kx}", values(grid_w), bcol_c[kx]) for kx in range(k)]

        # ---- memory read (data in E) --------------------------------------------------------
        # An asynchronous read port and a plain register: Yosys folds the register into the
        # block RAM and, because the memory is marked no_rw_check, drops the collision logic it
        # would put after a synchronous port (which it emulates read-first, in soft logic).
        read_data = []
        for r in range(k):
            row = []
            for b in range(k):
                port = banks[r][b].read_port(domain="comb")
                m.d.comb += port.addr.eq(Cat(addr_d[b], half_d[r]))
                row.append(stage(f"read_r{r}_b{b}", signed(p.act_width), port.data))
            read_data.append(row)
        ve = stage("ve", 1, vd, keep_reset=True)
        meta_e = stage("meta_e", meta_layout, meta_d)
        row_bank_e = [stage(f"row_bank_e{ky}", values(k), row_bank_d[ky]) for ky in range(k)]
        col_bank_e = [stage(f"col_bank_e{kx}", values(k), col_bank_d[kx]) for kx in range(k)]
        pad_e = stage("pad_e", p.taps, pad_d)
        rows_e = [stage(f"mask_row{ky}", grid_w,
                        Array(rows_d[ky])[brow_d[ky][2:]] if len(groups) > 1 else rows_d[ky][0])
                  for ky in range(k)]
        bcol_e = [stage(f"bcol_e{kx}", values(grid_w), bcol_d[kx]) for kx in range(k)]

        # ---- E -> F: register the words, then assemble the taps ------------------------------
        keep_e = Cat(rows_e[ky].bit_select(bcol_e[kx], 1) for ky in range(k) for kx in range(k))
        if p.lean:
            # (lean: the crossbar starts from the block RAMs' read registers)
            vf, meta_f, words_f, pad_f = ve, meta_e, read_data, pad_e
            row_bank_f, col_bank_f, keep_f = row_bank_e, col_bank_e, keep_e
        else:
            vf = stage("vf", 1, ve, keep_reset=True)
            meta_f = stage("meta_f", meta_layout, meta_e)
            words_f = [[stage(f"word_r{r}_b{b}", signed(p.act_width), read_data[r][b])
                        for b in range(k)] for r in range(k)]
            row_bank_f = [stage(f"row_bank_f{ky}", values(k), row_bank_e[ky])
                          for ky in range(k)]
            col_bank_f = [stage(f"col_bank_f{kx}", values(k), col_bank_e[kx])
                          for kx in range(k)]
            pad_f = stage("pad_f", p.taps, pad_e)
            keep_f = stage("keep_f", p.taps, keep_e)

        # ---- F -> G: the bank -> tap crossbar in two steps, each a K:1 selection: per row
        # bank, the K tap columns' words; then per tap, its row bank's. (Selecting among all
        # K x K words at once would take K**4 word-wide wires: 19,208 for K = 7.)
        vg = stage("vg", 1, vf, keep_reset=True)
        meta_g = stage("meta_g", meta_layout, meta_f)
        # (for K >= 5 a copy of each tap row's bank per tap column, kept apart in synthesis:
        # each selects one tap's word, instead of one register selecting K of them)
        if _stage_h(p):
            row_bank_g = [[stage(f"row_bank_g{ky}_{kx}", values(k), row_bank_f[ky], copy=True)
                           for kx in range(k)] for ky in range(k)]
        else:
            row_bank_g = [[stage(f"row_bank_g{ky}", values(k), row_bank_f[ky])] * k
                          for ky in range(k)]
        pad_g = stage("pad_g", p.taps, pad_f)
        keep_g = stage("keep_g", p.taps, keep_f)
        cols_g = [[stage(f"col_r{r}_t{kx}", signed(p.act_width),
                         Array(words_f[r])[col_bank_f[kx]] if k > 1 else words_f[r][0])
                   for kx in range(k)] for r in range(k)]
        # which taps take the constant, and the constant, decided from F's registers: the
        # queue's input is only the row-bank selection and this one choice
        constant_mode = (meta_f.mode == PadMode.ZERO) | (meta_f.mode == PadMode.CONSTANT)
        const_g = stage("const_g", p.taps, Mux(constant_mode, pad_f, 0))
        const_value = stage("const_value_g", signed(p.act_width),
                            Mux(meta_f.mode == PadMode.CONSTANT, meta_f.pad_value, 0))
        # ---- G -> H: the assembled window registered, then into the output queue (the
        # selection of K*K taps from their row banks and the queue's memory, each on its own
        # side of a register: for K = 5 the two together took most of 10 ns of routing)
        window = Signal(window_layout(p), name="window_g") if _stage_h(p) else out.i.payload
        for ky in range(k):
            for kx in range(k):
                tap = ky * k + kx
                word = (Array(cols_g[r][kx] for r in range(k))[row_bank_g[ky][kx]] if k > 1
                        else cols_g[0][kx])
                m.d.comb += window.taps[tap].eq(Mux(const_g[tap], const_value, word))
        m.d.comb += [
            window.pad.eq(pad_g), window.keep.eq(keep_g),
            window.channel.eq(meta_g.channel), window.group.eq(meta_g.group),
            window.weight_addr.eq(meta_g.weight_addr),
            window.first.eq(meta_g.first), window.last.eq(meta_g.last),
            window.end.eq(meta_g.end), window.lanes.eq(meta_g.lanes),
            window.shift.eq(meta_g.shift), window.zero_gating.eq(meta_g.zero_gating),
        ]
        if _stage_h(p):
            m.d.comb += [out.i.payload.eq(stage("window_h", window_layout(p), window)),
                         out.i.valid.eq(stage("vh", 1, vg, keep_reset=True))]
        else:
            m.d.comb += out.i.valid.eq(vg)
        m.d.comb += self._reader_busy.eq(running | nxt_valid | out.busy)
