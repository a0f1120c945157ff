"""The convolution core: padding/window generator, block-mask register file, skip unit, MAC
array, parameter loader, mask-learning units, registers and performance counters.

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
edges.

What a frame runs on (docs/core.md): the configuration applied (CTRL.APPLY_CONFIG), the mask
committed (CTRL.COMMIT_MASK or a learned update) and the weights loaded before the frame
started, that is before the cycle its first beat was first offered with the core ready to start
it. A parameter load waits until no frame is in flight, and no frame starts while a load waits
or runs, so weights never change under a frame.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from . import mac as mac_unit
from . import window as window_unit
from .counters import PerfCounters
from .learning import MaskLearning
from .mac import MacArray
from .mask_gen import gradient_layout
from .mask_regfile import BlockMaskRegisterFile
from .param_loader import ParamLoader, param_layout
from .params import CoreParams
from .regbus import RegisterBus
from .regmap import COUNTERS
from .registers import ControlRegisters
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
            raise TypeError(f"params must be a CoreParams, not {params!r}")
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
        self.registers = ControlRegisters(params, self.masks.words)
        taps, lanes = params.taps, params.lanes
        self.counters = PerfCounters({
            "cycles": 1, "input_stalls": 1, "output_stalls": 1, "windows": 1,
            "macs_performed": range(taps * lanes + 1),
            "macs_skipped_mask": range(taps * lanes + 1),
            "macs_skipped_zero": range(taps * lanes + 1),
            "mask_updates": 1,
        })
        assert self.counters.names == tuple(name for name, _ in COUNTERS)

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
        m.submodules.registers = regs = self.registers
        m.submodules.counters = counters = self.counters

        connect(m, flipped(self.bus), regs.bus)
        connect(m, flipped(self.i), window.i)
        connect(m, window.o, skip.i)
        connect(m, skip.o, mac.i)
        connect(m, mac.o, flipped(self.o))
        connect(m, flipped(self.i_param), loader.i)
        connect(m, loader.write, mac.write)
        connect(m, flipped(self.i_grad), learning.i_grad)

        busy = Signal()  # a frame is in flight somewhere in the datapath
        m.d.comb += busy.eq(window.busy | skip.o.valid | mac.busy)

        # --- what frames, loads and updates run on ------------------------------------------
        m.d.comb += [
            window.config.eq(regs.config),
            loader.config.eq(regs.config),
            learning.geometry.eq(regs.config),
            learning.learning_rate.eq(regs.learning_rate),
            learning.direction.eq(regs.direction),
            learning.threshold_w_data.eq(regs.threshold_w_data),
            learning.threshold_w_en.eq(regs.threshold_w_en),
            regs.threshold.eq(learning.threshold),
            regs.learning_busy.eq(learning.busy),
            # weights never change under a frame: loads wait for the datapath to drain, and
            # frames wait while a load waits or runs
            loader.hold.eq(busy),
            window.hold.eq(loader.busy),
        ]

        # --- block mask: host and learning unit write the shadow bank, frames swap it in ------
        m.d.comb += [
            window.mask.eq(masks.active),
            window.mask_pending.eq(masks.pending),
            masks.swap.eq(window.mask_swap),
            learning.bank_busy.eq(masks.pending),
            regs.mask_pending.eq(masks.pending),
            masks.addr.eq(regs.mask.addr), masks.w_data.eq(regs.mask.w_data),
            masks.w_en.eq(regs.mask.w_en), masks.commit.eq(regs.mask.commit),
            masks.r_bank.eq(regs.mask.r_bank), regs.mask.r_data.eq(masks.r_data),
            masks.e_addr.eq(learning.mask_addr), masks.e_data.eq(learning.mask_data),
            masks.e_en.eq(learning.mask_en), masks.e_commit.eq(learning.commit),
            learning.o_scores.ready.eq(1),  # scores are for observation; the core drops them
        ]

        # --- status and errors -------------------------------------------------------------------
        m.d.comb += [
            regs.status.busy.eq(busy),
            regs.status.mask_pending.eq(masks.pending),
            regs.status.param_loading.eq(loader.busy),
            regs.status.learning.eq(learning.busy),
            regs.error_in.param.eq(loader.error),
            regs.error_in.grad_length.eq(learning.error.grad_length),
            regs.error_in.busy_write.eq(learning.error.busy_write),
            regs.error_in.threshold.eq(learning.error.threshold_range),
            regs.error_in.learn_config.eq(learning.error.config),
        ]
        for name, _ in window.error.shape():
            m.d.comb += regs.error_in[name].eq(window.error[name])

        # --- performance counters -------------------------------------------------------------
        lanes = skip.o.payload.window.lanes
        fire = skip.o.valid & skip.o.ready
        taps = p.taps
        skipped_mask = sum(skip.o.payload.skip_mask[t] for t in range(taps))
        skipped_zero = sum(skip.o.payload.skip_zero[t] for t in range(taps))
        performed = taps - skipped_mask - skipped_zero
        inc = counters.increment
        m.d.comb += [
            inc.cycles.eq(busy),
            inc.input_stalls.eq(busy & self.i.ready & ~self.i.valid),
            inc.output_stalls.eq(self.o.valid & ~self.o.ready),
            inc.windows.eq(fire),
            inc.macs_performed.eq(fire * performed * lanes),
            inc.macs_skipped_mask.eq(fire * skipped_mask * lanes),
            inc.macs_skipped_zero.eq(fire * skipped_zero * lanes),
            inc.mask_updates.eq(learning.updater.done),
            counters.clear.eq(regs.clear_counters),
            counters.clear_overflow.eq(regs.clear_overflow),
            regs.counters.eq(counters.value),
            regs.overflow.eq(counters.overflow),
        ]
        return m
