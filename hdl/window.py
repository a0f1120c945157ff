"""Padding/window generator: unpadded raster stream in, K x K windows out, padding made on chip.

Input: one activation per beat in raster order ``(y, x, c)`` (channels innermost), ``last`` on
the frame's final beat. Output: one window per beat for every output position ``(oy, ox)``,
output-channel group ``g`` and input channel ``c``, in that order (``c`` innermost), with each tap's
padding flag and its block's mask bit. Padding pixels are never stored and never sent by the
host: zero/constant taps are produced from the frame's constant, replicate/reflect taps read the
source pixel they copy.

Line buffer: ``2K`` row slots in a ring. Slot ``s`` lives in row bank ``s mod K``, half
``s div K``, and each row is split into K column banks (column ``x`` in bank ``x mod K`` at
``(x div K) * max_cin + c``): K x K memories, each holding two rows. The K source columns of a
window lie within K consecutive columns, whatever the mode (padding maps are 1-Lipschitz), so they
fall in distinct column banks; likewise its distinct source rows lie within K consecutive rows,
so they fall in distinct row banks. Every cycle each memory is read once: a whole window per
cycle, from memories with one write and one read port.

Flow control. The writer fills row slots in a ring of virtual rows (numbered across frames,
modulo ``2**vrow_width``); the reader (window sequencer) issues the windows of output row ``oy``
once every source row they read is complete, and publishes a low-water mark: the lowest virtual
row it may still read, ``base + max(0, min(oy*s - top, H - K))``. The writer may start virtual row
``v`` only while ``v < low_water + 2K``. While the last windows of a frame read its last K rows,
the next frame's first K rows can arrive, which is every row its first windows read: back-to-back
frames do not stall, for any pads, and padding costs no cycles. Frame configurations travel from
writer to reader through a small queue, latched when the writer starts the frame; a frame is
checked then (see :mod:`hdl.frame_check`).

Frame starts. The writer starts a frame when its first beat is offered, unless ``hold`` (a
parameter load waits or runs). It then latches the applied configuration and, if a committed mask
is pending (``mask_pending``), claims it for this frame: the reader pulses ``mask_swap`` as it
begins the frame, so the frame and every later one use the new mask, and no earlier frame does.
When the generator is idle (nothing received, queued or being read), a pending mask is swapped
in at once, which is the same thing seen from any frame.

Length errors: a ``last`` before the configured end makes the writer fill the rest of the frame
with zeros (consuming nothing) so the frame still completes; a missing ``last`` at the end makes
it drop beats up to and including the next ``last``. Either way the length error pulses.

Latency: a window leaves :data:`LATENCY` = 1 edge after it was issued (memory read). Per frame
the writer spends one cycle deciding on the frame and the reader one cycle starting it.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .divmod import divmod_const
from .frame_check import config_errors, frame_error_layout
from .params import PadMode
from .regmap import config_layout
from .window_layout import window_layout

__all__ = ["WindowGenerator", "input_layout", "LATENCY"]

#: clock edges from a window being issued to it being valid on ``o``
LATENCY = 1


def input_layout(params):
    return data.StructLayout({"data": signed(params.act_width), "last": 1})


class WindowGenerator(wiring.Component):
    """See the module docstring.

    Ports
    -----
    i : In(stream)               input pixels
    config : In(config layout)   the applied configuration, latched when the writer starts a frame
    hold : In(1)                 do not start a frame (a parameter load waits or runs)
    mask : In(mask_bits)         the active bank of the block-mask register file
    mask_pending : In(1)         a committed mask waits for a frame
    mask_swap : Out(1)           swap the mask banks now (a frame boundary)
    o : Out(stream)              windows
    error : Out(frame error layout)  error pulses (config checks, input length)
    busy : Out(1)                a frame is being received or windows are being produced
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
        })

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        k, slots = p.kernel, p.row_slots

        # --- line buffer memories: [row bank][column bank], two rows each --------------------
        self._low_bits = ceil_log2(p.bank_depth)
        banks = [[Memory(shape=signed(p.act_width), depth=2 << self._low_bits, init=[])
                  for _ in range(k)] for _ in range(k)]
        for r in range(k):
            for b in range(k):
                m.submodules[f"line_r{r}_b{b}"] = banks[r][b]

        # --- frame descriptor queue (writer -> reader) ---------------------------------------
        desc_layout = data.StructLayout({
            "cfg": config_layout(p), "base": p.vrow_width, "base_slot": range(slots),
            "swap": 1})
        m.submodules.frames = frames = SyncFIFO(width=desc_layout.size, depth=slots + 1)
        pushed = Signal(desc_layout)
        popped = data.View(desc_layout, frames.r_data)
        m.d.comb += frames.w_data.eq(pushed)

        low_water = Signal(p.vrow_width)  # from the reader: lowest virtual row still to be read
        w_vrow = Signal(p.vrow_width)     # writer: virtual row being written (= rows complete)
        claimed = Signal()                # a queued or running frame will swap the mask
        writer_idle = Signal()
        reader_idle = Signal()

        self._writer(m, p, banks, frames, pushed, low_water, w_vrow, claimed, writer_idle)
        self._reader(m, p, banks, frames, popped, low_water, w_vrow, reader_idle)

        # a pending mask with no frame received, queued or being read: swap it in now
        with m.If(writer_idle & ~frames.r_rdy & reader_idle & self.mask_pending & ~claimed):
            m.d.comb += self.mask_swap.eq(1)
        with m.If(self.mask_swap):
            m.d.sync += claimed.eq(0)
        return m

    # ------------------------------------------------------------------------------------------
    def _writer(self, m, p, banks, frames, pushed, low_water, w_vrow, claimed, writer_idle):
        k, slots = p.kernel, p.row_slots
        beat = self.i.payload
        cfg = Signal(config_layout(p))  # latched at frame start
        slot = Signal(range(slots))     # ring slot of row w_vrow: row bank slot mod K, half
        row_bank = Signal(range(k))
        half = Signal()
        y = Signal(range(p.max_height))
        x_div = Signal(range(-(-p.max_width // k)))
        x_mod = Signal(range(k))
        x_end = Signal()  # x == width - 1
        x = Signal(range(p.max_width))
        c = Signal(range(p.max_cin))

        row_free = Signal()
        # Signed: the reader's low water may pass the writer when a frame's last rows are
        # never read (stride 2).
        m.d.comb += row_free.eq((w_vrow - low_water)[:p.vrow_width].as_signed() < slots)
        final_x = x == cfg.width - 1
        final_c = c == cfg.cin - 1
        final_y = y == cfg.height - 1
        frame_end = final_x & final_c & final_y
        m.d.comb += x_end.eq(final_x)

        write = Signal()
        value = Signal(signed(p.act_width))
        low = Signal(self._low_bits)
        m.d.comb += low.eq(x_div * p.max_cin + c)
        for r in range(k):
            for b in range(k):
                port = banks[r][b].write_port()
                m.d.comb += [
                    port.addr.eq(Cat(low, half)),
                    port.data.eq(value),
                    port.en.eq(write & (row_bank == r) & (x_mod == b)),
                ]

        def step():
            """Advance (c, x, y) after a written beat; complete rows."""
            with m.If(~final_c):
                m.d.sync += c.eq(c + 1)
            with m.Else():
                m.d.sync += c.eq(0)
                with m.If(~final_x):
                    m.d.sync += x.eq(x + 1)
                    with m.If(x_mod == k - 1):
                        m.d.sync += [x_mod.eq(0), x_div.eq(x_div + 1)]
                    with m.Else():
                        m.d.sync += x_mod.eq(x_mod + 1)
                with m.Else():
                    m.d.sync += [x.eq(0), x_mod.eq(0), x_div.eq(0), y.eq(y + 1),
                                 w_vrow.eq(w_vrow + 1),
                                 slot.eq(Mux(slot == slots - 1, 0, slot + 1))]
                    with m.If(row_bank == k - 1):
                        m.d.sync += [row_bank.eq(0), half.eq(~half)]
                    with m.Else():
                        m.d.sync += row_bank.eq(row_bank + 1)

        errors = config_errors(self.config, p)
        bad = Cat(errors.values()).any()

        with m.FSM(name="writer"):
            with m.State("START"):
                m.d.comb += writer_idle.eq(~self.i.valid)
                with m.If(self.i.valid & ~self.hold):
                    with m.If(bad):
                        for name, flag in errors.items():
                            m.d.comb += self.error[name].eq(flag)
                        m.next = "DRAIN"
                    with m.Elif(frames.w_rdy):
                        swap = self.mask_pending & ~claimed
                        m.d.comb += [
                            pushed.cfg.eq(self.config),
                            pushed.base.eq(w_vrow),
                            pushed.base_slot.eq(slot),
                            pushed.swap.eq(swap),
                            frames.w_en.eq(1),
                        ]
                        with m.If(swap):
                            m.d.sync += claimed.eq(1)
                        m.d.sync += [cfg.eq(self.config), y.eq(0), x.eq(0), x_div.eq(0),
                                     x_mod.eq(0), c.eq(0)]
                        m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [self.i.ready.eq(row_free), self.busy.eq(1),
                             value.eq(beat.data), write.eq(self.i.valid & row_free)]
                with m.If(write):
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
                m.d.comb += [self.busy.eq(1), value.eq(0), write.eq(row_free)]
                with m.If(write):
                    step()
                    with m.If(frame_end):
                        m.next = "START"
            with m.State("DRAIN"):
                m.d.comb += [self.i.ready.eq(1), self.busy.eq(1)]
                with m.If(self.i.valid & beat.last):
                    m.next = "START"

    # ------------------------------------------------------------------------------------------
    def _reader(self, m, p, banks, frames, popped, low_water, w_vrow, reader_idle):
        k, slots = p.kernel, p.row_slots
        cfg = Signal(config_layout(p))
        base = Signal(p.vrow_width)
        base_slot = Signal(range(slots))
        end_vrow = Signal(p.vrow_width)  # base + height of the last frame read (idle low water)

        oy = Signal(range(p.max_padded_height))
        ox = Signal(range(p.max_padded_width))
        row0 = Signal(range(p.max_padded_height + 2))  # oy * stride
        col0 = Signal(range(p.max_padded_width + 2))   # ox * stride
        g = Signal(range(p.groups))
        c = Signal(range(p.max_cin))
        remaining = Signal(range(p.max_cout + 1))      # cout - g * lanes
        hout = Signal(range(p.max_padded_height + 1))
        wout = Signal(range(p.max_padded_width + 1))

        # Stage B (window being presented on o).
        valid_b = Signal()
        advance = Signal()
        m.d.comb += advance.eq(~valid_b | self.o.ready)
        issue = Signal()

        height, width = cfg.height, cfg.width

        # --- row geometry of output row oy ---------------------------------------------------
        def source(pos, before, size, mode):
            """Source index along one axis and whether ``pos`` (padded) is padding."""
            t = Signal(signed(14))
            m.d.comb += t.eq(pos - before)
            below = t < 0
            above = t >= size
            reflected = Mux(below, -t, Mux(above, 2 * (size - 1) - t, t))
            clamped = Mux(below, 0, Mux(above, size - 1, t))
            src = Mux(mode == PadMode.REFLECT, reflected, clamped)
            return src[:13].as_unsigned(), below | above

        src_rows, pad_rows, bank_of, half_of = [], [], [], []
        for ky in range(k):
            src, pad = source(row0 + ky, cfg.pad_top, height, cfg.mode)
            src_row = Signal(range(p.max_height), name=f"src_row{ky}")
            m.d.comb += src_row.eq(src)
            _, slot_no = divmod_const(base_slot + src_row, slots, slots - 1 + p.max_height - 1)
            slot_sig = Signal(range(slots), name=f"slot{ky}")
            row_bank = Signal(range(k), name=f"row_bank{ky}")
            m.d.comb += [slot_sig.eq(slot_no),
                         row_bank.eq(Mux(slot_sig >= k, slot_sig - k, slot_sig))]
            src_rows.append(src_row)
            pad_rows.append(pad)
            bank_of.append(row_bank)
            half_of.append(slot_sig >= k)
        max_src = src_rows[0]
        for src_row in src_rows[1:]:
            max_src = Mux(src_row > max_src, src_row, max_src)
        rows_ready = Signal()
        m.d.comb += rows_ready.eq((w_vrow - base)[:p.vrow_width] > max_src)

        # --- column geometry of output column ox ---------------------------------------------
        src_q, src_r, pad_cols = [], [], []
        for kx in range(k):
            src, pad = source(col0 + kx, cfg.pad_left, width, cfg.mode)
            src_col = Signal(range(p.max_width), name=f"src_col{kx}")
            m.d.comb += src_col.eq(src)
            q, r = divmod_const(src_col, k, p.max_width - 1)
            q_sig = Signal(range(-(-p.max_width // k)), name=f"col_q{kx}")
            r_sig = Signal(range(k), name=f"col_r{kx}")
            m.d.comb += [q_sig.eq(q), r_sig.eq(r)]
            src_q.append(q_sig)
            src_r.append(r_sig)
            pad_cols.append(pad)

        # --- memory reads: column bank b serves whichever tap column lands in it, row bank r
        # whichever tap row (same source row for every tap row that lands in it) --------------
        read_data = []
        bank_addr = [Signal(self._low_bits, name=f"bank_addr{b}") for b in range(k)]
        for b in range(k):
            for kx in range(k):
                with m.If(src_r[kx] == b):
                    m.d.comb += bank_addr[b].eq(src_q[kx] * p.max_cin + c)
        row_half = [Signal(name=f"row_half{r}") for r in range(k)]
        for r in range(k):
            for ky in range(k):
                with m.If(bank_of[ky] == r):
                    m.d.comb += row_half[r].eq(half_of[ky])
        for r in range(k):
            row = []
            for b in range(k):
                port = banks[r][b].read_port()
                m.d.comb += [port.addr.eq(Cat(bank_addr[b], row_half[r])), port.en.eq(advance)]
                row.append(port.data)
            read_data.append(row)

        # --- mask bits of the window's blocks -------------------------------------------------
        grid_h, grid_w = p.grid_shape
        log_block = ceil_log2(p.block)
        mask_rows = Array(self.mask[r * grid_w:min((r + 1) * grid_w, p.mask_bits)]
                          for r in range(grid_h))
        keep = Signal(p.taps)
        for ky in range(k):
            block_row = ((row0 + ky) >> log_block)[:ceil_log2(grid_h + 1)]
            bits = Signal(grid_w, name=f"mask_row{ky}")
            m.d.comb += bits.eq(mask_rows[block_row])
            for kx in range(k):
                block_col = (col0 + kx) >> log_block
                m.d.comb += keep[ky * k + kx].eq(bits.bit_select(block_col, 1))

        pad = Cat(pad_rows[ky] | pad_cols[kx] for ky in range(k) for kx in range(k))
        constant = (cfg.mode == PadMode.ZERO) | (cfg.mode == PadMode.CONSTANT)

        # --- stage B registers -----------------------------------------------------------------
        b_slot = [Signal(range(k), name=f"b_row_bank{ky}") for ky in range(k)]
        b_bank = [Signal(range(k), name=f"b_bank{kx}") for kx in range(k)]
        b_const_taps = Signal(p.taps)
        b_const = Signal(signed(p.act_width))
        out = Signal(window_layout(p))  # registered fields of the window
        last_c = c == cfg.cin - 1
        last_g = remaining <= p.lanes
        last_x = ox == wout - 1
        last_y = oy == hout - 1
        with m.If(advance):
            m.d.sync += valid_b.eq(issue)
            with m.If(issue):
                m.d.sync += [b_slot[ky].eq(bank_of[ky]) for ky in range(k)]
                m.d.sync += [b_bank[kx].eq(src_r[kx]) for kx in range(k)]
                m.d.sync += [
                    b_const_taps.eq(Mux(constant, pad, 0)),
                    b_const.eq(Mux(cfg.mode == PadMode.CONSTANT, cfg.pad_value, 0)),
                    out.pad.eq(pad),
                    out.keep.eq(keep),
                    out.channel.eq(c),
                    out.group.eq(g),
                    out.first.eq(c == 0),
                    out.last.eq(last_c),
                    out.end.eq(last_c & last_g & last_x & last_y),
                    out.lanes.eq(Mux(last_g, remaining, p.lanes)),
                    out.shift.eq(cfg.shift),
                    out.zero_gating.eq(cfg.zero_gating),
                ]
        slot_array = Array(Array(row) for row in read_data)
        for ky in range(k):
            for kx in range(k):
                t = ky * k + kx
                word = slot_array[b_slot[ky]][b_bank[kx]]
                m.d.comb += self.o.payload.taps[t].eq(Mux(b_const_taps[t], b_const, word))
        m.d.comb += [
            self.o.payload.pad.eq(out.pad),
            self.o.payload.keep.eq(out.keep),
            self.o.payload.channel.eq(out.channel),
            self.o.payload.group.eq(out.group),
            self.o.payload.first.eq(out.first),
            self.o.payload.last.eq(out.last),
            self.o.payload.end.eq(out.end),
            self.o.payload.lanes.eq(out.lanes),
            self.o.payload.shift.eq(out.shift),
            self.o.payload.zero_gating.eq(out.zero_gating),
            self.o.valid.eq(valid_b),
        ]

        # --- sequencer -------------------------------------------------------------------------
        top_row = Signal(signed(15))   # first source row of this output row's window
        cap = Signal(signed(15))       # no later window reads below height - K
        need_lo = Signal(signed(15))
        m.d.comb += [
            top_row.eq(row0 - cfg.pad_top),
            cap.eq(height - k),
            need_lo.eq(Mux(top_row > cap, cap, top_row)),
        ]
        lowest = Mux(need_lo < 0, 0, need_lo)

        with m.FSM(name="reader"):
            with m.State("IDLE"):
                m.d.comb += [low_water.eq(end_vrow), reader_idle.eq(1)]
                with m.If(frames.r_rdy):
                    d = popped
                    m.d.comb += [frames.r_en.eq(1), self.mask_swap.eq(d.swap)]
                    hp_new = d.cfg.height + d.cfg.pad_top + d.cfg.pad_bottom - k
                    wp_new = d.cfg.width + d.cfg.pad_left + d.cfg.pad_right - k
                    m.d.sync += [
                        cfg.eq(d.cfg), base.eq(d.base), base_slot.eq(d.base_slot),
                        oy.eq(0), ox.eq(0), row0.eq(0), col0.eq(0), g.eq(0), c.eq(0),
                        remaining.eq(d.cfg.cout),
                        hout.eq(Mux(d.cfg.stride == 2, hp_new >> 1, hp_new) + 1),
                        wout.eq(Mux(d.cfg.stride == 2, wp_new >> 1, wp_new) + 1),
                    ]
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [low_water.eq(base + lowest), self.busy.eq(1),
                             issue.eq(rows_ready & advance)]
                with m.If(issue):
                    with m.If(~last_c):
                        m.d.sync += c.eq(c + 1)
                    with m.Else():
                        m.d.sync += c.eq(0)
                        with m.If(~last_g):
                            m.d.sync += [g.eq(g + 1), remaining.eq(remaining - p.lanes)]
                        with m.Else():
                            m.d.sync += [g.eq(0), remaining.eq(cfg.cout)]
                            with m.If(~last_x):
                                m.d.sync += [ox.eq(ox + 1), col0.eq(col0 + cfg.stride)]
                            with m.Else():
                                m.d.sync += [ox.eq(0), col0.eq(0)]
                                with m.If(~last_y):
                                    m.d.sync += [oy.eq(oy + 1), row0.eq(row0 + cfg.stride)]
                                with m.Else():
                                    m.d.sync += end_vrow.eq(base + height)
                                    m.next = "IDLE"
        return m
