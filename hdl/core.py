"""The convolution core: padding/window generator, block-mask register file, skip unit, MAC
array, parameter loader, configuration/status registers and performance counters.

Ports
-----
i : In(stream {data: signed(act_width), last})     input frame, raster order, channels innermost
i_param : In(stream {data: signed(16), last})      weights then biases (see ParamLoader)
i_grad : In(stream {data: signed(16), last})       gradients of a mask update (see MaskLearning)
o : Out(stream {data: [signed(out_width)] * lanes, end})   one beat per output position and
                                                   group of ``lanes`` output channels
bus : In(RegisterBus)                              configuration and status (hdl.regmap)

Data path: ``i -> WindowGenerator -> SkipUnit -> MacArray -> o``. From a frame's point of view
the latency from a window being issued to its output beat is ``window.LATENCY + mac.LATENCY``
edges; the configuration registers are sampled when the core starts a frame, so the host may
write the next frame's configuration as soon as the current frame's first beat was accepted.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from . import mac as mac_unit
from . import window as window_unit
from .frame_check import error_layout
from .mac import MacArray
from .learning import MaskLearning
from .mask_gen import gradient_layout
from .mask_regfile import BlockMaskRegisterFile
from .param_loader import ParamLoader, param_layout
from .params import CoreParams
from .regbus import RegisterBus
from .regmap import COUNTERS, ID_VALUE, MASK_ACTIVE, MASK_SHADOW, MASK_WORDS_MAX, Ctrl, Reg
from .skip import SkipUnit
from .window import WindowGenerator, input_layout
from .window_layout import output_layout

__all__ = ["ConvCore", "LATENCY"]

#: edges from a window's issue to its output beat being valid (last input channel)
LATENCY = window_unit.LATENCY + mac_unit.LATENCY


class ConvCore(wiring.Component):
    def __init__(self, params=None):
        if params is None:
            params = CoreParams()
        if not isinstance(params, CoreParams):
            self._MustUse__silence = True  # never built: no "created but never used" warning
            raise TypeError(f"params must be a CoreParams, not {params!r}")
        if -(-params.mask_bits // 32) > MASK_WORDS_MAX:
            self._MustUse__silence = True
            raise ValueError(f"the block grid must fit {MASK_WORDS_MAX * 32} bits, not "
                             f"{params.mask_bits} (use a larger block or smaller frames)")
        self._params = params
        super().__init__({
            "i": In(stream.Signature(input_layout(params))),
            "i_param": In(stream.Signature(param_layout())),
            "o": Out(stream.Signature(output_layout(params))),
            "i_grad": In(stream.Signature(gradient_layout())),
            "bus": In(RegisterBus()),
        })
        self.window = WindowGenerator(params)
        self.skip = SkipUnit(params)
        self.mac = MacArray(params)
        self.masks = BlockMaskRegisterFile(params.mask_bits)
        self.loader = ParamLoader(params)
        self.learning = MaskLearning(params)

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        m.submodules.window = window = self.window
        m.submodules.skip = skip = self.skip
        m.submodules.mac = mac = self.mac
        m.submodules.masks = masks = self.masks
        m.submodules.loader = loader = self.loader
        m.submodules.learning = learning = self.learning

        connect(m, flipped(self.i), window.i)
        connect(m, window.o, skip.i)
        connect(m, skip.o, mac.i)
        connect(m, mac.o, flipped(self.o))
        connect(m, flipped(self.i_param), loader.i)
        connect(m, loader.write, mac.write)
        m.d.comb += [masks.frame_start.eq(window.frame_start), window.mask.eq(masks.active)]
        connect(m, flipped(self.i_grad), learning.i_grad)
        m.d.comb += [
            learning.o_scores.ready.eq(1),  # scores are for observation; the core drops them
            masks.e_addr.eq(learning.mask_addr), masks.e_data.eq(learning.mask_data),
            masks.e_en.eq(learning.mask_en), masks.e_commit.eq(learning.commit),
        ]

        # --- configuration registers -----------------------------------------------------------
        cfg = Signal(p.frame_config_layout, init={"height": p.max_height, "width": p.max_width,
                                                 "stride": 1, "cin": 1, "cout": 1})
        m.d.comb += [window.config.eq(cfg), loader.cin.eq(cfg.cin), loader.cout.eq(cfg.cout),
                     learning.geometry.eq(cfg)]
        rate = Signal(16)
        direction = Signal()
        m.d.comb += [learning.learning_rate.eq(rate), learning.direction.eq(direction)]

        bus = self.bus
        data = bus.w_data
        errors = Signal(error_layout())
        error_pulse = Signal(error_layout())
        m.d.comb += [
            error_pulse.eq(window.error),
            error_pulse.param.eq(loader.error),
            error_pulse.grad_length.eq(learning.error.grad_length),
            error_pulse.threshold.eq(learning.error.threshold_range),
        ]

        busy = Signal()
        m.d.comb += busy.eq(window.busy | skip.o.valid | mac.busy)

        counters = {name: Signal(32, name=f"count_{name}") for name in COUNTERS}
        lanes = skip.o.payload.window.lanes
        fire = skip.o.valid & skip.o.ready
        taps = p.taps
        skipped_mask = sum(skip.o.payload.skip_mask[t] for t in range(taps))
        skipped_zero = sum(skip.o.payload.skip_zero[t] for t in range(taps))
        performed = taps - skipped_mask - skipped_zero
        increments = {
            "cycles": busy,
            "input_stalls": busy & self.i.ready & ~self.i.valid,
            "output_stalls": self.o.valid & ~self.o.ready,
            "windows": fire,
            "macs_performed": fire * performed * lanes,
            "macs_skipped_mask": fire * skipped_mask * lanes,
            "macs_skipped_zero": fire * skipped_zero * lanes,
            "mask_updates": learning.updater.done,
        }
        clear = bus.w_en & (bus.addr == Reg.CTRL) & (data & Ctrl.CLEAR_COUNTERS).any()
        for name, counter in counters.items():
            with m.If(clear):
                m.d.sync += counter.eq(0)
            with m.Else():
                m.d.sync += counter.eq(counter + increments[name])

        m.d.sync += errors.eq(errors.as_value() | error_pulse.as_value())
        m.d.comb += [
            masks.addr.eq(bus.addr[:len(masks.addr)]),
            masks.w_data.eq(data),
            masks.r_bank.eq(bus.addr >= MASK_ACTIVE),
        ]
        with m.If(bus.w_en):
            with m.Switch(bus.addr):
                with m.Case(Reg.CTRL):
                    m.d.comb += masks.commit.eq((data & Ctrl.COMMIT_MASK).any())
                with m.Case(Reg.ERRORS):
                    m.d.sync += errors.eq(errors.as_value() & ~data[:len(errors.as_value())] |
                                          error_pulse.as_value())
                with m.Case(Reg.FRAME_SIZE):
                    m.d.sync += [cfg.height.eq(data[:16]), cfg.width.eq(data[16:])]
                with m.Case(Reg.PADS):
                    m.d.sync += [cfg.pad_top.eq(data[0:4]), cfg.pad_bottom.eq(data[4:8]),
                                 cfg.pad_left.eq(data[8:12]), cfg.pad_right.eq(data[12:16])]
                with m.Case(Reg.MODE):
                    m.d.sync += [cfg.mode.eq(data[0:2]), cfg.stride.eq(data[4:6]),
                                 cfg.zero_gating.eq(data[8])]
                with m.Case(Reg.PAD_VALUE):
                    m.d.sync += cfg.pad_value.eq(data[:p.act_width])
                with m.Case(Reg.CHANNELS):
                    m.d.sync += [cfg.cin.eq(data[:16]), cfg.cout.eq(data[16:])]
                with m.Case(Reg.SHIFT):
                    m.d.sync += cfg.shift.eq(data[:8])
                with m.Case(Reg.THRESHOLD):
                    m.d.comb += [learning.threshold_w_data.eq(data[:16]),
                                 learning.threshold_w_en.eq(1),
                                 error_pulse.busy_write.eq(learning.error.busy_write)]
                with m.Case(Reg.LEARNING):
                    with m.If(learning.busy):
                        m.d.comb += error_pulse.busy_write.eq(1)
                    with m.Else():
                        m.d.sync += [rate.eq(data[:16]), direction.eq(data[16])]
                with m.Case(*range(MASK_SHADOW, MASK_SHADOW + masks.words)):
                    with m.If(learning.busy):
                        m.d.comb += error_pulse.busy_write.eq(1)
                    with m.Else():
                        m.d.comb += masks.w_en.eq(1)

        read = bus.r_data
        with m.Switch(bus.addr):
            with m.Case(Reg.ID):
                m.d.comb += read.eq(ID_VALUE)
            with m.Case(Reg.INFO):
                m.d.comb += read.eq(p.kernel | p.lanes << 8 | p.block << 16 | p.acc_width << 24)
            with m.Case(Reg.MAX_FRAME):
                m.d.comb += read.eq(p.max_height | p.max_width << 16)
            with m.Case(Reg.MAX_CHANNELS):
                m.d.comb += read.eq(p.max_cin | p.max_cout << 16)
            with m.Case(Reg.STATUS):
                m.d.comb += read.eq(Cat(busy, masks.pending, loader.busy, learning.busy))
            with m.Case(Reg.ERRORS):
                m.d.comb += read.eq(errors)
            with m.Case(Reg.FRAME_SIZE):
                m.d.comb += read.eq(Cat(cfg.height, cfg.width))
            with m.Case(Reg.PADS):
                m.d.comb += read.eq(Cat(cfg.pad_top, cfg.pad_bottom, cfg.pad_left, cfg.pad_right))
            with m.Case(Reg.MODE):
                m.d.comb += read.eq(cfg.mode.as_value() | cfg.stride << 4 |
                                    cfg.zero_gating << 8)
            with m.Case(Reg.PAD_VALUE):
                m.d.comb += read.eq(cfg.pad_value)
            with m.Case(Reg.CHANNELS):
                m.d.comb += read.eq(Cat(cfg.cin, cfg.cout))
            with m.Case(Reg.SHIFT):
                m.d.comb += read.eq(cfg.shift)
            with m.Case(Reg.THRESHOLD):
                m.d.comb += read.eq(learning.threshold)
            with m.Case(Reg.LEARNING):
                m.d.comb += read.eq(Cat(rate, direction))
            for index, name in enumerate(COUNTERS):
                with m.Case(Reg.COUNTER_BASE + index):
                    m.d.comb += read.eq(counters[name])
            with m.Case(*range(MASK_SHADOW, MASK_SHADOW + masks.words),
                        *range(MASK_ACTIVE, MASK_ACTIVE + masks.words)):
                m.d.comb += read.eq(masks.r_data)
        return m
