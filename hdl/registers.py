"""The core's registers, decoded from the table in :mod:`hdl.regmap`.

Writes act on the clock edge. Reads are registered twice: ``r_data`` holds the value the register
at ``addr`` had on the ``r_en`` edge from two cycles after ``r_en``, and keeps it until the next
read's data replaces it. Reading a counter's
``_LO`` word snapshots its high bits, which the ``_HI`` word returns, so the two reads of a
counter always belong together whatever the counter does between them.

Configuration (FRAME_SIZE .. SHIFT) is *staged*: writes land in the staged copy, and
CTRL.APPLY_CONFIG copies the whole staged configuration into the *applied* one in one cycle,
with the checks that combine fields (:func:`hdl.frame_check.cross_errors`).
Frames, parameter loads and mask updates read only the applied configuration, so none of them can
see a half-written one. A field written out of range is stored truncated with its register's
error flag in the configuration, and the register's ERRORS flag is set at once; a frame started while an invalid
configuration is applied is rejected (:mod:`hdl.frame_check`).

Writes that are ignored, each with its error flag (docs/registers.md): reserved bits in CTRL or
LEARNING, LEARNING.direction 3, read-only or unmapped addresses (``bad_write``); a TARGET above
1.0 or with reserved bits (``threshold``); LEARNING, TARGET, a mask shadow word or a mask commit
while a mask update runs (``busy_write``); a mask shadow word or a mask commit while a committed
mask waits for its frame (``mask_pending``). Without the learning units THRESHOLD, LEARNING and
TARGET refuse every write (``bad_write``).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .frame_check import cross_errors
from .learning import SETTLE
from .regbus import RegisterBus
from .regmap import (CONFIG_REGISTERS, COUNTER_WIDTH, COUNTERS, MASK_ACTIVE,
                     MASK_SHADOW, REGISTERS, by_name, config_layout, config_reset, error_layout)

__all__ = ["ControlRegisters", "MaskHostSignature", "status_layout"]


#: error flags a register write can raise
_WRITE_ERRORS = tuple(r.error for r in CONFIG_REGISTERS) + (
    "threshold", "bad_write", "busy_write", "mask_pending")


def status_layout():
    return data.StructLayout({f.name: 1 for f in by_name("STATUS").fields})


class MaskHostSignature(wiring.Signature):
    """The host's port into the block-mask register file (outputs of the register block)."""

    def __init__(self, words):
        addr = max(1, (words - 1).bit_length())
        super().__init__({
            "addr": Out(addr), "w_data": Out(32), "w_en": Out(1), "commit": Out(1),
            "r_bank": Out(1), "r_data": In(32),
        })


def _in_range(register, word, params):
    """True when every field of ``word`` is within its bounds and no reserved bit is set."""
    ok = (word & register.reserved) == 0
    for f in register.fields:
        bounds = f.bounds(params)
        if bounds is None:
            continue
        value = word[f.offset:f.offset + f.width]
        if f.signed:
            value = value.as_signed()
        lo, hi = bounds
        # (a bound the field's width already guarantees is not compared: no constant-true
        # comparisons in the Verilog)
        if f.signed or lo > 0:
            ok &= value >= lo
        if f.signed or hi < (1 << f.width) - 1:
            ok &= value <= hi
    return ok


def _word(register, fields):
    """The register's word from a configuration view (field values placed at their offsets)."""
    word = Const(0, 32)
    for f in register.fields:
        value = Value.cast(fields[f.name])
        word |= (value.as_signed() if f.signed else value.as_unsigned()) << f.offset
    return word[:32]


class ControlRegisters(wiring.Component):
    """See the module docstring.

    Ports
    -----
    bus : In(RegisterBus)
    config : Out(config layout)        the applied configuration
    learning_rate, direction : Out     LEARNING
    target : Out(16)                   TARGET (the density rule's share)
    threshold_w_data, threshold_w_en : Out   a THRESHOLD write (the learning unit checks it)
    threshold : In(16)                 the current threshold, for reads
    learning_busy : In(1)              a mask update runs
    mask : Out(MaskHostSignature)      host access to the mask register file
    mask_pending : In(1)               a committed mask waits for its frame
    clear_counters : Out(1)            CTRL.CLEAR_COUNTERS
    clear_overflow : Out(counters)     COUNTER_OVERFLOW write-1-to-clear
    counters : In(array of COUNTER_WIDTH), overflow : In(counters)
    status : In(status layout)         STATUS bits (config_invalid is computed here)
    frame_taken : In(1)                a frame took its configuration (FRAMES_STARTED counts)
    error_in : In(error layout)        error pulses of the other units
    errors : Out(error layout)         the sticky ERRORS flags
    config_settling : Out(1)           (register) the configuration was applied in the last
                                       few cycles: units holding registered copies wait
    """

    def __init__(self, params, mask_words):
        self._params = params
        self._mask_words = mask_words
        # (made here, for formal harnesses that compare the applied configuration with it)
        self._staged = Signal(config_layout(params), init=config_reset(params), name="staged")
        n = len(COUNTERS)
        super().__init__({
            "bus": In(RegisterBus()),
            "config": Out(config_layout(params)),
            "learning_rate": Out(16), "direction": Out(2), "target": Out(16),
            "threshold_w_data": Out(16), "threshold_w_en": Out(1),
            "threshold": In(16), "learning_busy": In(1),
            "mask": Out(MaskHostSignature(mask_words)),
            "mask_pending": In(1),
            "clear_counters": Out(1), "clear_overflow": Out(n),
            "counters": In(data.ArrayLayout(COUNTER_WIDTH, n)), "overflow": In(n),
            "status": In(status_layout()),
            "frame_taken": In(1),
            "error_in": In(error_layout()),
            "errors": Out(error_layout()),
            "config_settling": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._params
        bus = self.bus
        wdata = bus.w_data
        words = self._mask_words

        staged = self._staged
        applied = Signal(config_layout(p), init=config_reset(p))
        cross = cross_errors(staged, p)  # checked before applying: a frame start reads flags
        settling = Signal(range(SETTLE + 1))
        settling_any = Signal()     # settling != 0, a flip-flop of its own
        m.d.comb += self.config_settling.eq(settling_any)
        m.d.sync += settling_any.eq(settling > 1)
        with m.If(settling != 0):
            m.d.sync += settling.eq(settling - 1)
        m.d.comb += self.config.eq(applied)
        learning = by_name("LEARNING")
        target_reg = by_name("TARGET")
        rate = Signal(16)
        direction = Signal(2)
        target = Signal(16, init=target_reg.field("share").reset_value(p))
        m.d.comb += [self.learning_rate.eq(rate), self.direction.eq(direction),
                     self.target.eq(target)]

        # errors raised by this cycle's write (only the flags a write can raise: a signal with
        # bits nobody drives would be a constant-only process in the Verilog)
        write_errors = [name for name in _WRITE_ERRORS
                        if p.learning or name not in ("threshold", "busy_write")]
        pulse = Signal(data.StructLayout({name: 1 for name in write_errors}))
        raised = Signal(error_layout())
        m.d.comb += raised.eq(self.error_in)
        for name in write_errors:
            m.d.comb += raised[name].eq(self.error_in[name] | pulse[name])
        errors = self.errors
        m.d.sync += errors.eq(errors.as_value() | raised.as_value())

        mask = self.mask
        m.d.comb += [mask.addr.eq(bus.addr[:len(mask.addr)]), mask.w_data.eq(wdata),
                     mask.r_bank.eq(bus.addr >= MASK_ACTIVE)]
        # the shadow bank is off limits while a mask update or a committed mask owns it
        mask_locked = self.learning_busy | self.mask_pending

        def refuse_mask_access():
            if not p.learning:   # (no update can own the bank)
                m.d.comb += pulse.mask_pending.eq(1)
                return
            with m.If(self.learning_busy):
                m.d.comb += pulse.busy_write.eq(1)
            with m.Else():
                m.d.comb += pulse.mask_pending.eq(1)

        ctrl = by_name("CTRL")
        with m.If(bus.w_en):
            with m.Switch(bus.addr):
                for reg in CONFIG_REGISTERS:
                    with m.Case(reg.addr):
                        ok = _in_range(reg, wdata, p)
                        for f in reg.fields:
                            m.d.sync += staged[f.name].eq(wdata[f.offset:f.offset + f.width])
                        m.d.sync += staged.errors[reg.error].eq(~ok)
                        m.d.comb += pulse[reg.error].eq(~ok)
                with m.Case(ctrl.addr):
                    with m.If(wdata & ctrl.reserved):
                        m.d.comb += pulse.bad_write.eq(1)
                    with m.Else():
                        with m.If(wdata[ctrl.field("commit_mask").offset]):
                            with m.If(mask_locked):
                                refuse_mask_access()
                            with m.Else():
                                m.d.comb += mask.commit.eq(1)
                        m.d.comb += self.clear_counters.eq(
                            wdata[ctrl.field("clear_counters").offset])
                        with m.If(wdata[ctrl.field("apply_config").offset]):
                            m.d.sync += [applied.eq(staged), settling.eq(SETTLE),
                                         settling_any.eq(1)]
                            for name, flag in cross.items():
                                m.d.sync += applied.errors[name].eq(flag)
                with m.Case(by_name("ERRORS").addr):
                    m.d.sync += errors.eq(errors.as_value() & ~wdata[:len(errors.as_value())] |
                                          raised.as_value())
                with m.Case(by_name("COUNTER_OVERFLOW").addr):
                    m.d.comb += self.clear_overflow.eq(wdata)
                if not p.learning:  # no learning units: nothing to set
                    with m.Case(by_name("THRESHOLD").addr, learning.addr, target_reg.addr):
                        m.d.comb += pulse.bad_write.eq(1)
                else:
                    with m.Case(by_name("THRESHOLD").addr):
                        with m.If(wdata & by_name("THRESHOLD").reserved):
                            m.d.comb += pulse.threshold.eq(1)
                        with m.Else():
                            m.d.comb += [self.threshold_w_data.eq(wdata),
                                         self.threshold_w_en.eq(1)]
                    with m.Case(learning.addr):
                        # (reserved bits or direction 3)
                        with m.If(~_in_range(learning, wdata, p)):
                            m.d.comb += pulse.bad_write.eq(1)
                        with m.Elif(self.learning_busy):
                            m.d.comb += pulse.busy_write.eq(1)
                        with m.Else():
                            for f, store in zip(learning.fields, (rate, direction)):
                                m.d.sync += store.eq(wdata[f.offset:f.offset + f.width])
                    with m.Case(target_reg.addr):
                        # (a share above 1.0 or reserved bits: checked first, as LEARNING's)
                        with m.If(~_in_range(target_reg, wdata, p)):
                            m.d.comb += pulse.threshold.eq(1)
                        with m.Elif(self.learning_busy):
                            m.d.comb += pulse.busy_write.eq(1)
                        with m.Else():
                            m.d.sync += target.eq(wdata[:16])
                with m.Case(*range(MASK_SHADOW, MASK_SHADOW + words)):
                    with m.If(mask_locked):
                        refuse_mask_access()
                    with m.Else():
                        m.d.comb += mask.w_en.eq(1)
                with m.Default():
                    m.d.comb += pulse.bad_write.eq(1)

        # --- reads (registered twice) ---------------------------------------------------------
        # A read is two short steps instead of one wide multiplexer behind live status logic:
        # on the ``r_en`` edge each group of 16 registers (and the mask word) is selected by
        # the address's low bits into a register of its own, beside a one-hot flag saying
        # whether the read names it; on the next edge ``r_data`` takes the flagged one. Every
        # value is sampled on the ``r_en`` edge.
        snapshots = [Signal(COUNTER_WIDTH - 32, name=f"{name}_hi_snapshot")
                     for name, _ in COUNTERS]
        status = Signal(status_layout())
        m.d.comb += [status.eq(self.status), status.config_invalid.eq(applied.errors.as_value().any())]
        frames_started = Signal(32)
        with m.If(self.frame_taken):
            m.d.sync += frames_started.eq(frames_started + 1)

        def value_of(reg):
            """What reading ``reg`` returns (None: 0). A counter's _LO word also gets the
            snapshot of the counter's high bits that its _HI word returns."""
            if reg.name == "STATUS":
                return status
            if reg.name == "FRAMES_STARTED":
                return frames_started
            if reg.name == "ERRORS":
                return errors
            if reg.name == "COUNTER_OVERFLOW":
                return self.overflow if p.counters else None
            if reg.name == "THRESHOLD":
                return self.threshold if p.learning else None
            if reg.name == "LEARNING":
                return Cat(rate, direction) if p.learning else None
            if reg.name == "TARGET":
                return target if p.learning else None
            if reg.kind == "config":
                return _word(reg, staged)
            if reg.name.startswith("APPLIED_"):
                return _word(reg, applied)
            if reg.name.endswith(("_LO", "_HI")):
                if not p.counters:
                    return None
                index = (reg.addr - by_name(f"{COUNTERS[0][0].upper()}_LO").addr) // 2
                if reg.name.endswith("_LO"):
                    with m.If(bus.r_en & (bus.addr == reg.addr)):
                        m.d.sync += snapshots[index].eq(self.counters[index][32:])
                    return self.counters[index][:32]
                return snapshots[index]
            if reg.access == "R":  # constants: identification and parameters
                return Const(sum(f.reset_value(p) << f.offset for f in reg.fields), 32)
            return None

        groups = {}
        for reg in REGISTERS:
            value = value_of(reg)
            if value is not None:
                groups.setdefault(reg.addr >> 4, []).append((reg.addr & 0xF, value))
        selected, group_q = {}, {}
        for g, members in sorted(groups.items()):
            selected[g] = Signal(32, name=f"read_group{g}")
            with m.Switch(bus.addr[:4]):
                for low, value in members:
                    with m.Case(low):
                        m.d.comb += selected[g].eq(value)
            group_q[g] = Signal(32, name=f"read_group{g}_q")
        mask_q = Signal(32, name="read_mask_q")
        # which of them the read names, one-hot, decoded on the first step as well
        in_mask = ((bus.addr >= MASK_SHADOW) & (bus.addr < MASK_SHADOW + words) |
                   (bus.addr >= MASK_ACTIVE) & (bus.addr < MASK_ACTIVE + words))
        mask_sel = Signal(name="read_mask_sel")
        group_sel = {g: Signal(name=f"read_group{g}_sel") for g in group_q}
        r_en_q = Signal(name="read_en_q")
        m.d.sync += r_en_q.eq(bus.r_en)
        with m.If(bus.r_en):
            m.d.sync += [mask_q.eq(mask.r_data), mask_sel.eq(in_mask)]
            for g, q in group_q.items():
                m.d.sync += [q.eq(selected[g]), group_sel[g].eq(bus.addr[4:] == g)]
        read = Signal(32)
        value = Mux(mask_sel, mask_q, 0)
        for g, q in group_q.items():
            value = value | Mux(group_sel[g], q, 0)
        m.d.comb += read.eq(value)
        with m.If(r_en_q):
            m.d.sync += bus.r_data.eq(read)
        return m
