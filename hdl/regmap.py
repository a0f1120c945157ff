"""Register map of the convolution core: one declarative table of registers and fields.

The table is the single definition used by the hardware decode (:mod:`hdl.registers`), the
host-side helpers (:mod:`sim.regs`), the frame configuration layout and the documentation
(``docs/registers.md`` is generated from it by ``padmask regmap``, and a test keeps it in step).

Word addresses on :class:`hdl.regbus.RegisterBus`; every register is 32 bits. Each field has a bit
range, a reset value and, where not every code of its bits is meaningful, a valid range; bits
outside every field are reserved and must be written as 0. What an out-of-range write does is
the register's ``on_bad`` text, and the error flag it sets is the register's ``error``.
"""

from dataclasses import dataclass
from enum import IntEnum, IntFlag

from amaranth.hdl import signed
from amaranth.lib import data

from ..golden import fixed
from .params import MASK_WORDS_MAX, PadMode

__all__ = ["ID_VALUE", "COUNTERS", "COUNTER_WIDTH", "MASK_SHADOW", "MASK_ACTIVE", "MASK_WORDS_MAX",
           "Field", "Register", "REGISTERS", "CONFIG_REGISTERS", "CONFIG_ERRORS", "APPLIED_OFFSET",
           "Reg", "Ctrl",
           "Status", "by_name", "ERROR_BITS", "error_layout", "config_layout", "config_reset",
           "encode", "decode", "check"]

ID_VALUE = 0x50414D4B  #: "PAMK"

#: performance counters, in address order (see COUNTER_WIDTH)
COUNTERS = (
    ("cycles", "cycles with the core busy (a frame received, computed or sent)"),
    ("input_stalls", "busy cycles where the core could take an input beat and none came"),
    ("output_stalls", "cycles where an output beat waited for the consumer"),
    ("windows", "window beats computed (output position x group x input channel)"),
    ("macs_performed", "multiplications performed (active lanes only)"),
    ("macs_skipped_mask", "multiplications skipped by the block mask"),
    ("macs_skipped_zero", "multiplications skipped by zero gating"),
    ("mask_updates", "mask/threshold updates completed by the learning units"),
)
#: counter width: 2**48 multiplications at 196 per cycle and 200 MHz is about two hours; a
#: counter that carries out of its top bit sets its sticky COUNTER_OVERFLOW bit
COUNTER_WIDTH = 48

MASK_SHADOW = 0x200       #: RW  shadow bank, word j = mask bits 32j .. 32j + 31
MASK_ACTIVE = 0x300       #: R   active bank, same layout


@dataclass(frozen=True)
class Field:
    """``width`` bits from ``offset``. ``lo``/``hi`` bound the valid values (ints or the name of
    a :class:`hdl.params.CoreParams` attribute); ``None`` means every code of the bits is valid.
    ``signed`` fields span their bits as two's complement (a 32-bit field: the whole word)."""

    name: str
    offset: int
    width: int
    doc: str
    reset: object = 0
    lo: object = None
    hi: object = None
    signed: bool = False

    @property
    def mask(self):
        return ((1 << self.width) - 1) << self.offset

    def resolve(self, value, params):
        return getattr(params, value) if isinstance(value, str) else value

    def bounds(self, params):
        """``(lo, hi)`` of the valid values, or None when every code is valid."""
        if self.lo is None and self.hi is None:
            return None
        full_lo = -(1 << (self.width - 1)) if self.signed else 0
        full_hi = (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1
        lo = full_lo if self.lo is None else self.resolve(self.lo, params)
        hi = full_hi if self.hi is None else self.resolve(self.hi, params)
        return lo, hi

    def reset_value(self, params):
        return self.resolve(self.reset, params)

    def range_text(self):
        if self.lo is None and self.hi is None:
            return "any"
        lo = "" if self.lo is None else str(self.lo)
        hi = "" if self.hi is None else str(self.hi)
        return f"{lo}..{hi}"


@dataclass(frozen=True)
class Register:
    """``access``: R (read only), RW, W (strobes, reads 0), W1C (sticky flags, write 1 to clear).
    ``kind``: "config" registers are staged and take effect on CTRL.APPLY_CONFIG (see
    docs/core.md); the others act at once."""

    name: str
    addr: int
    access: str
    doc: str
    fields: tuple = ()
    error: str = None        #: error flag an out-of-range write sets
    on_bad: str = ""         #: what an out-of-range write does
    kind: str = "plain"

    @property
    def reserved(self):
        used = 0
        for f in self.fields:
            used |= f.mask
        return 0xFFFFFFFF & ~used

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


def _flags(names_docs):
    return tuple(Field(name, i, 1, doc) for i, (name, doc) in enumerate(names_docs))


#: the ERRORS register's sticky flags, in bit order
ERROR_BITS = (
    ("frame_size", "FRAME_SIZE written out of range; a frame started while it is applied is "
                   "rejected"),
    ("pad", "PADS written out of range (a pad >= K); frames rejected while applied"),
    ("reflect", "frame rejected: reflect mode with a pad >= the frame size on its axis"),
    ("mode", "MODE written out of range (stride not 1 or 2); frames rejected while applied"),
    ("channels", "CHANNELS written out of range; frames and parameter loads rejected while "
                 "applied"),
    ("kernel", "frame rejected: the padded frame is smaller than K"),
    ("shift", "SHIFT written above the accumulator width; frames rejected while applied"),
    ("length", "an input frame had fewer beats than configured (the rest is zeros) or more "
               "(dropped up to last)"),
    ("param", "malformed parameter stream (see docs/core.md)"),
    ("grad_length", "a gradient update's last value not at the end of a plane"),
    ("busy_write", "THRESHOLD, LEARNING, TARGET, the mask shadow bank or a mask commit written "
                   "during a mask update (ignored)"),
    ("threshold", "THRESHOLD or TARGET written above 1.0 or with a reserved bit (ignored)"),
    ("pad_value", "PAD_VALUE written outside the activation range; frames rejected while "
                  "applied"),
    ("mask_pending", "mask shadow bank or mask commit written while a committed mask waits for "
                     "its frame (ignored)"),
    ("bad_write", "write to a read-only or unmapped address, or with reserved bits set in CTRL "
                  "or LEARNING, or LEARNING.direction 3 (ignored)"),
    ("learn_config", "gradients of a mask update arrived while the applied FRAME_SIZE or PADS "
                     "is invalid (the update is dropped)"),
)

_CONFIG_BAD = ("the field is stored truncated and the register marked invalid; frames started "
               "while it is applied are rejected (STATUS.config_invalid)")

REGISTERS = (
    Register("ID", 0x000, "R", "identification", (
        Field("id", 0, 32, '"PAMK"', reset=ID_VALUE),)),
    Register("INFO", 0x001, "R", "elaboration parameters", (
        Field("kernel", 0, 8, "K", reset="kernel"),
        Field("lanes", 8, 8, "P, output channels in parallel", reset="lanes"),
        Field("block", 16, 8, "mask block edge", reset="block"),
        Field("acc_width", 24, 8, "accumulator width", reset="acc_width"))),
    Register("MAX_FRAME", 0x002, "R", "largest frame", (
        Field("max_height", 0, 16, "", reset="max_height"),
        Field("max_width", 16, 16, "", reset="max_width"))),
    Register("MAX_CHANNELS", 0x003, "R", "largest channel counts", (
        Field("max_cin", 0, 16, "", reset="max_cin"),
        Field("max_cout", 16, 16, "", reset="max_cout"))),
    Register("CTRL", 0x004, "W", "strobes; several may be set in one write", (
        Field("commit_mask", 0, 1, "swap the mask banks at the next frame start"),
        Field("clear_counters", 1, 1, "zero every counter and COUNTER_OVERFLOW"),
        Field("apply_config", 2, 1, "copy the staged configuration (0x008-0x00D) to the "
                                    "applied one; frames started from now on use it")),
        error="bad_write", on_bad="the write is ignored"),
    Register("STATUS", 0x005, "R", "state", _flags((
        ("busy", "a frame is being received, computed or sent (a register: it follows the "
                 "datapath by a cycle)"),
        ("mask_pending", "a committed mask waits for its frame start"),
        ("param_loading", "a parameter load is in progress or waiting for frames to finish"),
        ("learning", "a mask/threshold update is in progress"),
        ("config_invalid", "the applied configuration has a field out of range: frames are "
                           "rejected")))),
    Register("ERRORS", 0x006, "W1C", "sticky error flags", _flags(ERROR_BITS)),
    Register("COUNTER_OVERFLOW", 0x007, "W1C", "sticky: the counter carried out of its "
             f"{COUNTER_WIDTH} bits", _flags(COUNTERS)),
    Register("FRAME_SIZE", 0x008, "RW", "frame height and width (unpadded)", (
        Field("height", 0, 16, "", reset="max_height", lo=1, hi="max_height"),
        Field("width", 16, 16, "", reset="max_width", lo=1, hi="max_width")),
        error="frame_size", on_bad=_CONFIG_BAD, kind="config"),
    Register("PADS", 0x009, "RW", "pads per side", (
        Field("pad_top", 0, 4, "", hi="max_pad"),
        Field("pad_bottom", 4, 4, "", hi="max_pad"),
        Field("pad_left", 8, 4, "", hi="max_pad"),
        Field("pad_right", 12, 4, "", hi="max_pad")),
        error="pad", on_bad=_CONFIG_BAD, kind="config"),
    Register("MODE", 0x00A, "RW", "padding mode, stride, zero gating", (
        Field("mode", 0, 2, "0 zero, 1 constant, 2 replicate, 3 reflect"),
        Field("stride", 4, 4, "", reset=1, lo=1, hi=2),
        Field("zero_gating", 8, 1, "skip multiplications by a zero activation")),
        error="mode", on_bad=_CONFIG_BAD, kind="config"),
    Register("PAD_VALUE", 0x00B, "RW", "the constant of mode 1, two's complement", (
        Field("pad_value", 0, 32, "", lo="act_min", hi="act_max", signed=True),),
        error="pad_value", on_bad=_CONFIG_BAD, kind="config"),
    Register("CHANNELS", 0x00C, "RW", "input and output channels", (
        Field("cin", 0, 16, "", reset=1, lo=1, hi="max_cin"),
        Field("cout", 16, 16, "", reset=1, lo=1, hi="max_cout")),
        error="channels", on_bad=_CONFIG_BAD, kind="config"),
    Register("SHIFT", 0x00D, "RW", "requantization shift", (
        Field("shift", 0, 8, "", hi="acc_width"),),
        error="shift", on_bad=_CONFIG_BAD, kind="config"),
    Register("THRESHOLD", 0x00E, "RW", "mask threshold, UQ(1, 15) code", (
        Field("threshold", 0, 16, "", reset=fixed.ONE // 2, hi=fixed.ONE),),
        error="threshold", on_bad="the write is ignored (any write is ignored, with "
                                  "ERRORS.busy_write, while an update runs)"),
    Register("LEARNING", 0x00F, "RW", "threshold learning", (
        Field("rate", 0, 16, "learning rate, UQ(0, 16)"),
        Field("direction", 16, 2, "0 pseudocode, 1 prose, 2 density (toward TARGET)", hi=2)),
        error="bad_write", on_bad="the write is ignored (any write is ignored, with "
                                  "ERRORS.busy_write, while an update runs)"),
) + tuple(
    Register(f"{name.upper()}_{half}", 0x010 + 2 * i + (half == "HI"), "R",
             f"counter {name}, bits 31:0 (the read snapshots bits {COUNTER_WIDTH - 1}:32)"
             if half == "LO" else f"counter {name}, bits {COUNTER_WIDTH - 1}:32 (snapshot)",
             (Field("value", 0, 32 if half == "LO" else COUNTER_WIDTH - 32, doc),))
    for i, (name, doc) in enumerate(COUNTERS) for half in ("LO", "HI")
)

REGISTERS = REGISTERS + (
    Register("FEATURES", 0x026, "R", "elaboration options", (
        Field("learning", 0, 1, "the mask-learning units are built", reset="learning"),
        Field("counters", 1, 1, "the performance counters are built", reset="counters"),
        Field("lean", 2, 1, "built without the registers for the clock of large parts",
              reset="lean"),
        Field("lut_multipliers", 8, 16, "multipliers built from LUTs (past the DSP budget)",
              reset="lut_multipliers"))),
    Register("FRAMES_STARTED", 0x027, "R", "frames that started (took their configuration and "
             "any committed mask) or were rejected, since reset; wraps modulo 2**32", (
                 Field("count", 0, 32, "a frame's sequence number: the host waits for it to "
                                       "pass a frame before applying the next frame's "
                                       "configuration (docs/core.md)"),)),
    Register("TARGET", 0x028, "RW", "threshold learning: the density rule's target "
             "(LEARNING.direction 2)", (
        Field("share", 0, 16, "target share of included padding blocks for direction 2, "
                              "UQ(1, 15)", reset=fixed.ONE // 2, hi=fixed.ONE),),
        error="threshold", on_bad="the write is ignored (any write is ignored, with "
                                  "ERRORS.busy_write, while an update runs)"),
)

#: configuration registers, staged by the host and applied as a whole
CONFIG_REGISTERS = tuple(r for r in REGISTERS if r.kind == "config")
#: read-only mirror of the applied configuration: APPLIED_<name> at this offset from <name>
APPLIED_OFFSET = 0x018

REGISTERS = REGISTERS + tuple(
    Register(f"APPLIED_{r.name}", r.addr + APPLIED_OFFSET, "R",
             f"the applied {r.name} (what frames started now run on)", r.fields)
    for r in CONFIG_REGISTERS)


def by_name(name):
    for r in REGISTERS:
        if r.name == name:
            return r
    raise KeyError(name)


#: register word addresses by name (``Reg.FRAME_SIZE``)
Reg = IntEnum("Reg", {r.name: r.addr for r in REGISTERS})
#: CTRL strobes and STATUS bits by name (``Ctrl.APPLY_CONFIG``, ``Status.BUSY``)
Ctrl = IntFlag("Ctrl", {f.name.upper(): 1 << f.offset for f in by_name("CTRL").fields})
Status = IntFlag("Status", {f.name.upper(): 1 << f.offset for f in by_name("STATUS").fields})


def _storage_shape(f, params):
    if f.name == "mode":
        return PadMode
    if f.signed:
        return signed(params.act_width)
    bounds = f.bounds(params)
    if bounds is None:
        return f.width
    return range(max(2, bounds[1] + 1))


#: error flags a frame's configuration can carry: one per configuration register (a field
#: written out of range), then the checks that combine fields (hdl.frame_check)
CONFIG_ERRORS = tuple(r.error for r in CONFIG_REGISTERS) + ("reflect", "kernel")


def config_layout(params):
    """The frame configuration: every field of the configuration registers, stored wide enough
    for its valid range, and its error flags (:data:`CONFIG_ERRORS`; all computed before the
    configuration is applied, so a frame start only reads flags). Frames, parameter loads and
    mask updates read the *applied* copy."""
    fields = {f.name: _storage_shape(f, params) for r in CONFIG_REGISTERS for f in r.fields}
    fields["errors"] = data.StructLayout({name: 1 for name in CONFIG_ERRORS})
    return data.StructLayout(fields)


def config_reset(params):
    """Reset value of the configuration (a dict for ``Signal(config_layout(p), init=...)``)."""
    return {f.name: f.reset_value(params) for r in CONFIG_REGISTERS for f in r.fields}


def error_layout():
    return data.StructLayout({name: 1 for name, _ in ERROR_BITS})


def encode(register, **values):
    """A register word from field values (host side); unknown names raise KeyError."""
    word = 0
    for name, value in values.items():
        f = register.field(name)
        word |= (int(getattr(value, "value", value)) << f.offset) & f.mask  # enums by value
    return word


def decode(register, word):
    """Field values of a register word (host side); signed fields are sign-extended."""
    out = {}
    for f in register.fields:
        value = (word & f.mask) >> f.offset
        if f.signed and value >> (f.width - 1):
            value -= 1 << f.width
        out[f.name] = value
    return out


def check(register, word, params):
    """Host-side twin of the hardware's write check: True if every field is in range and no
    reserved bit is set."""
    if word & register.reserved:
        return False
    for f in register.fields:
        bounds = f.bounds(params)
        if bounds is not None and not bounds[0] <= decode(register, word)[f.name] <= bounds[1]:
            return False
    return True
