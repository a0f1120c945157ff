"""Mask learning: the mask-generation unit and the threshold-update unit, with the threshold
register between them.

One *update*: the gradient of a batch streams in (``i_grad``, see :mod:`hdl.mask_gen`); the mask
generator scores every padding block against the current threshold, writes the new mask into
the shadow bank of the block-mask register file and commits it (it takes effect at the next
frame boundary); then the threshold unit computes the new threshold from the same scores and
stores it. The convolution datapath is not involved: frames keep flowing while an update runs.

While an update runs (``busy``), the gradient stream is not accepted after its ``last`` value
(backpressure: a second update waits, nothing is lost), and host writes to the threshold are
ignored with the ``busy_write`` error pulse. A host threshold above 1.0 (code 2**15) is ignored
with the ``threshold_range`` error pulse. The learning rate (``UQ(0, 16)``) has no invalid code;
the direction (0 pseudocode, 1 prose, 2 density) and the density rule's ``target`` share
(``UQ(1, 15)``) come checked from the register block (LEARNING, TARGET), like the rate, and are
read when the threshold unit starts.
The mask is written only while ``bank_busy`` is low (no committed mask waiting for its frame);
the update waits for it before its score pass.

An update whose first gradient value arrives while the geometry (the applied FRAME_SIZE or PADS)
is invalid is dropped: its values are consumed up to ``last``, nothing is written, and the
``config`` error pulses.

Reset: threshold 0.5 (code 2**14).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out, connect, flipped

from ..golden import fixed

from .mask_gen import SCORE_WIDTH, MaskGenerator, gradient_layout, score_layout
from .mask_regfile import WORD
from .regmap import config_layout
from .threshold_update import ThresholdUpdater

__all__ = ["MaskLearning", "learning_error_layout", "INITIAL_THRESHOLD", "update_latency"]

INITIAL_THRESHOLD = fixed.ONE // 2
#: cycles a geometry must hold before an update starts (its registered copies settle)
SETTLE = 4


def update_latency(params, padding_blocks):
    """Clock edges from the one taking an update's last gradient value to the first edge at
    which ``busy`` is sampled low (the new threshold and mask are in place)."""
    from .mask_gen import end_latency
    from .threshold_update import LATENCY
    return end_latency(params, padding_blocks) + LATENCY + 5


def learning_error_layout():
    return data.StructLayout({"grad_length": 1, "busy_write": 1, "threshold_range": 1,
                              "config": 1})


class MaskLearning(wiring.Component):
    def __init__(self, params, *, sum_shape=fixed.RELEVANCE_SUM):
        self._params = params
        self.mask_gen = MaskGenerator(params, sum_shape=sum_shape)
        self.updater = ThresholdUpdater(params)
        super().__init__({
            "i_grad": In(stream.Signature(gradient_layout())),
            "o_scores": Out(stream.Signature(score_layout(params))),
            "geometry": In(config_layout(params)),
            "hold": In(1),
            "bank_busy": In(1),
            "learning_rate": In(fixed.LEARNING_RATE.width),
            "direction": In(2),
            "target": In(SCORE_WIDTH),
            "threshold_w_data": In(SCORE_WIDTH),
            "threshold_w_en": In(1),
            "threshold": Out(SCORE_WIDTH),
            "mask_addr": Out(self.mask_gen.mask_addr.shape()),
            "mask_data": Out(WORD),
            "mask_en": Out(1),
            "commit": Out(1),
            "busy": Out(1),
            "updates": Out(32),
            "error": Out(learning_error_layout()),
            "avg_out": Out(SCORE_WIDTH),
            "avg_in": Out(SCORE_WIDTH),
            "share": Out(SCORE_WIDTH),
            "delta": Out(self.updater.delta.shape()),
        })

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        m.submodules.mask_gen = gen = self.mask_gen
        m.submodules.updater = upd = self.updater

        connect(m, gen.o_scores, flipped(self.o_scores))

        threshold = Signal(SCORE_WIDTH, init=INITIAL_THRESHOLD)
        updates = Signal(32)
        updating = Signal()  # between the mask generator's done and the threshold unit's done
        active = Signal()    # an update's values are arriving (its first came, its last not yet)
        dropping = Signal()  # ... and they are dropped: the geometry was invalid at the first
        busy = Signal()
        m.d.comb += busy.eq(gen.busy | updating | upd.busy | (active & dropping))

        # The geometry is registered; the units use the copy, which holds still from an
        # update's first value to its end. No update starts while ``hold`` is high (the core
        # holds it for a few cycles after an apply) or for a few cycles after reset, while the
        # copy and the mask generator's own registers of it settle.
        in_update = Signal()      # an update's first value was taken and it has not ended
        busy_r = Signal()
        settle = Signal(range(SETTLE + 1), init=SETTLE)
        settled = Signal()        # settle == 0, a flip-flop of its own
        geometry = Signal.like(self.geometry)
        m.d.sync += busy_r.eq(busy)
        with m.If(settle != 0):
            m.d.sync += settle.eq(settle - 1)
        m.d.sync += settled.eq(settle <= 1)
        with m.If(~in_update):
            m.d.sync += geometry.eq(self.geometry)
        grad = self.i_grad
        taken = grad.valid & grad.ready
        with m.If(taken):
            m.d.sync += in_update.eq(1)
        with m.Elif(~busy_r & ~active):
            m.d.sync += in_update.eq(0)
        # busy as the host sees it: until threshold writes are taken again
        m.d.comb += self.busy.eq(busy | busy_r | in_update)

        invalid = geometry.errors.frame_size | geometry.errors.pad
        drop = Signal()
        m.d.comb += drop.eq(Mux(active, dropping, invalid))
        # (the payload goes through ungated: the mask generator's data registers load on
        # every edge and its valid says which values count, so no decision reaches the data)
        m.d.comb += gen.i.payload.eq(grad.payload)
        with m.If(active | (~self.hold & settled)):
            with m.If(drop):
                m.d.comb += grad.ready.eq(1)
            with m.Else():
                m.d.comb += [gen.i.valid.eq(grad.valid), grad.ready.eq(gen.i.ready)]
        with m.If(taken):
            m.d.sync += active.eq(~grad.payload.last)
            with m.If(~active):
                m.d.sync += dropping.eq(invalid)
                m.d.comb += self.error.config.eq(invalid)

        # the threshold unit starts from a register (its start loads all its operands); the
        # mask generator's totals, the threshold, the rate, direction and target hold still
        # meanwhile
        start_update = Signal()
        m.d.sync += start_update.eq(gen.done)
        m.d.comb += [
            gen.geometry.eq(geometry),
            gen.threshold.eq(threshold),
            gen.bank_busy.eq(self.bank_busy),
            self.mask_addr.eq(gen.mask_addr), self.mask_data.eq(gen.mask_data),
            self.mask_en.eq(gen.mask_en), self.commit.eq(gen.commit),
            upd.start.eq(start_update),
            upd.totals.eq(gen.totals),
            upd.threshold.eq(threshold),
            upd.learning_rate.eq(self.learning_rate),
            upd.direction.eq(self.direction),
            upd.target.eq(self.target),
            self.threshold.eq(threshold),
            self.updates.eq(updates),
            self.avg_out.eq(upd.avg_out), self.avg_in.eq(upd.avg_in), self.share.eq(upd.share),
            self.delta.eq(upd.delta),
            self.error.grad_length.eq(gen.error),
        ]
        with m.If(gen.done):
            m.d.sync += updating.eq(1)
        with m.If(upd.done):
            m.d.sync += [threshold.eq(upd.new_threshold), updates.eq(updates + 1),
                         updating.eq(0)]
        with m.If(self.threshold_w_en):
            # (registered: an update reads the threshold many cycles after it becomes busy)
            with m.If(busy_r | in_update):
                m.d.comb += self.error.busy_write.eq(1)
            with m.Elif(self.threshold_w_data > fixed.ONE):
                m.d.comb += self.error.threshold_range.eq(1)
            with m.Else():
                m.d.sync += threshold.eq(self.threshold_w_data)
        return m
