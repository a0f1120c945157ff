"""The core behind AXI ports: what ``padmask generate`` writes for FPGA flows.

* ``aclk``, ``aresetn`` (synchronous, active low: the core's ``rst`` is ``~aresetn``);
* AXI4-Stream slaves ``s_axis_pixels`` (the core's ``i``), ``s_axis_params`` (``i_param``) and,
  with learning units, ``s_axis_grads`` (``i_grad``): ``tdata`` the beat's value, two's
  complement in the low bits of a whole number of bytes, ``tlast`` the beat's ``last``;
* AXI4-Stream master ``m_axis_out`` (``o``): ``tdata`` the lanes' values, lane ``j`` in the
  ``out_width`` bits from ``j x out_width`` up, zeros up to whole bytes; ``tlast`` the beat's
  ``end`` (the frame's last beat);
* AXI4-Lite slave ``s_axil`` (:class:`hdl.axi_lite.AxiLiteToRegisters`): the register map at
  byte addresses ``4 x`` the word addresses of docs/registers.md.

During reset every ``tvalid``, ``tready`` and AXI4-Lite ``ready``/``valid`` is low (the core's
registered outputs only clear on the reset's clock edge, so they are gated with ``aresetn``).
"""

from amaranth.hdl import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .axi_lite import AxiLiteToRegisters
from .core import ConvCore
from .params import CoreParams

__all__ = ["AxiConvTop", "byte_width"]


def byte_width(bits):
    """``bits`` rounded up to whole bytes (AXI4-Stream ``tdata``)."""
    return -(-bits // 8) * 8


def _stream_ports(prefix, width, slave):
    to_core, from_core = (In, Out) if slave else (Out, In)
    return {f"{prefix}_tdata": to_core(width), f"{prefix}_tvalid": to_core(1),
            f"{prefix}_tready": from_core(1), f"{prefix}_tlast": to_core(1)}


class AxiConvTop(wiring.Component):
    def __init__(self, params=None):
        params = params or CoreParams()
        if not isinstance(params, CoreParams):
            raise TypeError(f"params must be a CoreParams, not {params!r}")
        self._params = params
        self.core = ConvCore(params)
        self.lite = AxiLiteToRegisters(self.core.masks.words)
        p = params
        ports = {"aclk": In(1), "aresetn": In(1)}
        ports.update(_stream_ports("s_axis_pixels", byte_width(p.act_width), True))
        ports.update(_stream_ports("s_axis_params", 16, True))
        if p.learning:
            ports.update(_stream_ports("s_axis_grads", 16, True))
        ports.update(_stream_ports("m_axis_out", byte_width(p.lanes * p.out_width), False))
        lite = {name: member for name, member in self.lite.signature.members.items()
                if name != "bus"}
        ports.update({f"s_axil_{name}": member for name, member in lite.items()})
        super().__init__(ports)

    @property
    def params(self):
        return self._params

    def elaborate(self, platform):
        m = Module()
        p = self._params
        m.domains.sync = cd = ClockDomain("sync")
        m.d.comb += [cd.clk.eq(self.aclk), cd.rst.eq(~self.aresetn)]
        m.submodules.core = core = self.core
        m.submodules.lite = lite = self.lite
        run = self.aresetn    # (every handshake output is gated with it: low during reset)

        def slave(prefix, port):
            m.d.comb += [
                port.payload.data.eq(getattr(self, f"{prefix}_tdata")),
                port.payload.last.eq(getattr(self, f"{prefix}_tlast")),
                port.valid.eq(getattr(self, f"{prefix}_tvalid") & run),
                getattr(self, f"{prefix}_tready").eq(port.ready & run),
            ]
        slave("s_axis_pixels", core.i)
        slave("s_axis_params", core.i_param)
        if p.learning:
            slave("s_axis_grads", core.i_grad)
        m.d.comb += [
            self.m_axis_out_tdata.eq(core.o.payload.data.as_value()),
            self.m_axis_out_tlast.eq(core.o.payload.end),
            self.m_axis_out_tvalid.eq(core.o.valid & run),
            core.o.ready.eq(self.m_axis_out_tready),
        ]
        wiring.connect(m, lite.bus, core.bus)
        for name, member in lite.signature.members.items():
            if name == "bus":
                continue
            outer, inner = getattr(self, f"s_axil_{name}"), getattr(lite, name)
            if member.flow == In:
                m.d.comb += inner.eq(outer)
            elif name in ("awready", "wready", "arready", "bvalid", "rvalid"):
                m.d.comb += outer.eq(inner & run)
            else:
                m.d.comb += outer.eq(inner)
        return m

