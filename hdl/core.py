"""The convolution core: padding/window generator, block-mask register file, skip unit, MAC
array, parameter loader, mask-learning units, registers and performance counters.

Ports
-----
i : In(stream {data: signed(act_width), last})     input frame, raster order, channels innermost
i_param : In(stream {data: signed(16), last})      weights then biases (see ParamLoader)
i_grad : In(stream {data: signed(16), last})       gradients of a mask update (see MaskLearning;
                                                   only with ``CoreParams.learning``)
o : Out(stream {data: [signed(out_width)] * lanes, end})   one beat per output position and
                                                   group of ``lanes`` output channels
bus : In(RegisterBus)                              configuration and status (hdl.regmap)

Data path: ``i -> skid -> WindowGenerator -> SkipUnit -> MacArray -> o``; every boundary is a
registered one (a skid buffer: no ``ready`` crosses more than one stage), and so are the
``i_param`` and ``i_grad`` ports. :func:`latency` gives the edges from a window's issue to its
output beat being valid.

What a frame runs on (docs/core.md): the configuration applied (CTRL.APPLY_CONFIG), the mask
committed (CTRL.COMMIT_MASK or a learned update) and the weights loaded before the frame
started, that is before the cycle its first beat was first offered with the core ready to start
it (FRAMES_STARTED counts the frames that started; the first beat may wait in the input skid
buffer before that). A parameter load waits until no frame is in flight, and no frame starts
while a load waits or runs, so weights never change under a frame.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from . import mac as mac_unit
from . import skip as skip_unit
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
from .skid import SkidBuffer
from .skip import SkipUnit
from .window import WindowGenerator, input_layout
from .window_layout import output_layout

__all__ = ["ConvCore", "latency", "mac_input_delay", "INPUT_DELAY"]

#: edges from a beat's transfer at the core's ``i`` to it being offered to the window generator
INPUT_DELAY = 1


def mac_input_delay(params):
    """Edges from a window's issue to its transfer into the MAC array: valid at the window
    generator's output, one edge into the skip unit's register, one into the array."""
    return window_unit.latency(params) + skip_unit.latency(params) + 1


def latency(params):
    """Edges from a window's issue to its output beat being valid on ``o`` (the beat of the
    window's last input channel), with no stalls."""
    return mac_input_delay(params) + mac_unit.latency(params)


def _popcount(bits):
    """Number of set bits, as a tree of small adders."""
    values = [bits[i] for i in range(len(bits))]
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


def _times_lanes(count, lanes, max_lanes):
    """``count * lanes`` by shifts and adds (lanes is at most ``max_lanes``)."""
    total = 0
    for bit in range(max_lanes.bit_length()):
        total = total + Mux(lanes[bit], count << bit, 0)
    return total


class ConvCore(wiring.Component):
    def __init__(self, params=None):
        if params is None:
            params = CoreParams()
        if not isinstance(params, CoreParams):
            raise TypeError(f"params must be a CoreParams, not {params!r}")
        self._params = params
        ports = {
            "i": In(stream.Signature(input_layout(params))),
            "i_param": In(stream.Signature(param_layout())),
            "o": Out(stream.Signature(output_layout(params))),
            "bus": In(RegisterBus()),
        }
        if params.learning:
            ports["i_grad"] = In(stream.Signature(gradient_layout()))
        super().__init__(ports)
        self.in_skid = SkidBuffer(input_layout(params))
        self.param_skid = SkidBuffer(param_layout())
        self.grad_skid = SkidBuffer(gradient_layout()) if params.learning else None
        self.window = WindowGenerator(params)
        self.skip = SkipUnit(params)
        self.mac = MacArray(params)
        self.masks = BlockMaskRegisterFile(params.mask_bits)
        self.loader = ParamLoader(params)
        self.learning = MaskLearning(params) if params.learning else None
        self.registers = ControlRegisters(params, self.masks.words)
        taps, lanes = params.taps, params.lanes
        self.counters = None if not params.counters else PerfCounters({
            "cycles": 1, "input_stalls": 1, "output_stalls": 1, "windows": 1,
            "macs_performed": range(taps * lanes + 1),
            "macs_skipped_mask": range(taps * lanes + 1),
            "macs_skipped_zero": range(taps * lanes + 1),
            "mask_updates": 1,
        })
        assert not params.counters or self.counters.names == tuple(name for name, _ in COUNTERS)

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
        m.submodules.registers = regs = self.registers
        m.submodules.in_skid = in_skid = self.in_skid
        m.submodules.param_skid = param_skid = self.param_skid

        connect(m, flipped(self.bus), regs.bus)
        connect(m, flipped(self.i), in_skid.i)
        connect(m, in_skid.o, window.i)
        connect(m, window.o, skip.i)
        connect(m, skip.o, mac.i)
        connect(m, mac.o, flipped(self.o))
        connect(m, flipped(self.i_param), param_skid.i)
        connect(m, param_skid.o, loader.i)
        connect(m, loader.write, mac.write)

        busy = Signal()  # a frame is in flight somewhere in the datapath (a first beat waiting
        # in the input buffer is not: its frame has not started)
        busy_r = Signal()
        load_hold = Signal()
        frame_hold = Signal()
        m.d.comb += busy.eq(window.busy | skip.o.valid | mac.busy)
        m.d.sync += busy_r.eq(busy)

        # --- what frames, loads and updates run on ------------------------------------------
        m.d.comb += [
            window.config.eq(regs.config),
            loader.config.eq(regs.config),
            # weights never change under a frame: loads wait for the datapath to drain, and
            # frames wait while a load waits or runs. Both holds are registers: a frame that
            # starts this cycle (``window.start``; busy covers it from the next) holds the
            # loader from the next edge, and a load that decided to start in the same cycle
            # sees that in its CLAIM step and waits again; a waiting load word holds frames
            # from the next edge. The drained datapath releases the loader a cycle late,
            # which only delays a load by a cycle. Frames also wait while a configuration
            # just applied settles (the window generator registers its error flags).
            loader.hold.eq(load_hold),
            window.hold.eq(frame_hold | regs.config_settling),
        ]
        m.d.sync += [load_hold.eq(window.start | busy), frame_hold.eq(loader.busy)]

        # --- block mask: host and learning unit write the shadow bank, frames swap it in ------
        m.d.comb += [
            window.mask.eq(masks.active),
            window.mask_pending.eq(masks.pending),
            masks.swap.eq(window.mask_swap),
            regs.mask_pending.eq(masks.pending),
            masks.addr.eq(regs.mask.addr), masks.w_data.eq(regs.mask.w_data),
            masks.w_en.eq(regs.mask.w_en), masks.commit.eq(regs.mask.commit),
            masks.r_bank.eq(regs.mask.r_bank), regs.mask.r_data.eq(masks.r_data),
        ]

        # --- status and errors -------------------------------------------------------------------
        m.d.comb += [
            regs.status.mask_pending.eq(masks.pending),
            regs.status.param_loading.eq(loader.busy),
            regs.frame_taken.eq(window.taken),
            regs.error_in.param.eq(loader.error),
        ]
        for name, _ in window.error.shape():
            m.d.comb += regs.error_in[name].eq(window.error[name])

        # --- mask learning: beside the datapath, writing the shadow bank ----------------------
        if p.learning:
            m.submodules.learning = learning = self.learning
            m.submodules.grad_skid = grad_skid = self.grad_skid
            connect(m, flipped(self.i_grad), grad_skid.i)
            connect(m, grad_skid.o, learning.i_grad)
            m.d.comb += [
                learning.geometry.eq(regs.config),
                learning.hold.eq(regs.config_settling),
                learning.learning_rate.eq(regs.learning_rate),
                learning.direction.eq(regs.direction),
                learning.target.eq(regs.target),
                learning.threshold_w_data.eq(regs.threshold_w_data),
                learning.threshold_w_en.eq(regs.threshold_w_en),
                regs.threshold.eq(learning.threshold),
                learning.bank_busy.eq(masks.pending),
                masks.e_addr.eq(learning.mask_addr), masks.e_data.eq(learning.mask_data),
                masks.e_en.eq(learning.mask_en), masks.e_commit.eq(learning.commit),
                learning.o_scores.ready.eq(1),  # scores are for observation; dropped here
                regs.status.learning.eq(learning.busy),
                regs.error_in.grad_length.eq(learning.error.grad_length),
                regs.error_in.busy_write.eq(learning.error.busy_write),
                regs.error_in.threshold.eq(learning.error.threshold_range),
                regs.error_in.learn_config.eq(learning.error.config),
            ]
            # The register block refuses shadow-bank writes, commits and LEARNING and TARGET
            # writes while an update runs. A registered copy of ``busy`` is early enough: an
            # update writes the shadow bank and reads the rate, direction and target only many
            # cycles after it became busy.
            learning_busy = Signal()
            m.d.sync += learning_busy.eq(learning.busy)
            m.d.comb += regs.learning_busy.eq(learning_busy)

        # --- performance counters: increments registered and computed without multipliers ---
        taps, lanes = p.taps, p.lanes
        beat = skip.o.payload
        fire = Signal()
        n_performed = Signal(range(taps + 1))
        n_mask = Signal(range(taps + 1))
        n_zero = Signal(range(taps + 1))
        beat_lanes = Signal(range(lanes + 1))
        in_stall, out_stall = Signal(), Signal()
        stalls = [in_stall.eq(window.i.ready & ~window.i.valid),  # receiving, no beat
                  out_stall.eq(self.o.valid & ~self.o.ready)]
        if taps <= 9:
            # K <= 3: the skip bits counted in the cycle after the window
            m.d.sync += [
                fire.eq(skip.o.valid & skip.o.ready), beat_lanes.eq(beat.window.lanes),
                n_performed.eq(_popcount(~(beat.skip_mask | beat.skip_zero))),
                n_mask.eq(_popcount(beat.skip_mask)), n_zero.eq(_popcount(beat.skip_zero)),
                *stalls,
            ]
            counting = []
        else:
            # K >= 5: the skip bits registered, counted in groups of eight (registered), the
            # groups summed: a popcount of K*K bits in one cycle was a slow path
            fire0, fire1 = Signal(), Signal()
            skip_mask0, skip_zero0 = Signal(taps), Signal(taps)
            lanes0, lanes1 = Signal.like(beat_lanes), Signal.like(beat_lanes)
            m.d.sync += [
                fire0.eq(skip.o.valid & skip.o.ready), lanes0.eq(beat.window.lanes),
                skip_mask0.eq(beat.skip_mask), skip_zero0.eq(beat.skip_zero),
                fire1.eq(fire0), lanes1.eq(lanes0), *stalls,
            ]

            def group_counts(name, bits):
                counts = []
                for i, j in enumerate(range(0, taps, 8)):
                    count = Signal(range(min(8, taps - j) + 1), name=f"{name}_count{i}")
                    m.d.sync += count.eq(_popcount(bits[j:j + 8]))
                    counts.append(count)
                return counts
            groups = {"performed": group_counts("performed", ~(skip_mask0 | skip_zero0)),
                      "mask": group_counts("mask", skip_mask0),
                      "zero": group_counts("zero", skip_zero0)}
            m.d.sync += [
                fire.eq(fire1), beat_lanes.eq(lanes1),
                n_performed.eq(sum(groups["performed"])),
                n_mask.eq(sum(groups["mask"])), n_zero.eq(sum(groups["zero"])),
            ]
            counting = [fire0, fire1]
        fire2 = Signal()
        # STATUS.busy is a register (the units' busy signals are ORs of their stages), one
        # cycle late in both directions: it rises with a frame's second cycle in the datapath
        # and falls a cycle after the last counter increment landed
        status_busy = Signal()
        pending = busy | fire | fire2
        for valid in counting:
            pending = pending | valid
        m.d.sync += status_busy.eq(pending)
        macs = {name: Signal(range(taps * lanes + 1), name=f"inc_{name}")
                for name in ("performed", "mask", "zero")}
        m.d.sync += [
            fire2.eq(fire),
            macs["performed"].eq(Mux(fire, _times_lanes(n_performed, beat_lanes, lanes), 0)),
            macs["mask"].eq(Mux(fire, _times_lanes(n_mask, beat_lanes, lanes), 0)),
            macs["zero"].eq(Mux(fire, _times_lanes(n_zero, beat_lanes, lanes), 0)),
        ]
        # STATUS.busy also covers increments still on their way to the counters
        m.d.comb += regs.status.busy.eq(status_busy)
        if p.counters:   # (without them the registers' counter inputs stay 0)
            m.submodules.counters = counters = self.counters
            inc = counters.increment
            m.d.comb += [
                inc.cycles.eq(busy_r),
                inc.input_stalls.eq(in_stall),
                inc.output_stalls.eq(out_stall),
                inc.windows.eq(fire2),
                inc.macs_performed.eq(macs["performed"]),
                inc.macs_skipped_mask.eq(macs["mask"]),
                inc.macs_skipped_zero.eq(macs["zero"]),
                counters.clear.eq(regs.clear_counters),
                counters.clear_overflow.eq(regs.clear_overflow),
                regs.counters.eq(counters.value),
                regs.overflow.eq(counters.overflow),
            ]
            if p.learning:
                m.d.comb += inc.mask_updates.eq(self.learning.updater.done)
        return m
