"""The bare core's Verilog ports as a Markdown table, generated from the design (``padmask ports``).

Names, directions and widths come from the core's signature (Amaranth joins a port's path with
``__``: ``i.payload`` is ``i__payload``); bit fields from the payload layouts (first field at bit
0); values after reset from the simulated core itself: every input held at 0, the outputs as
they are before the first clock edge, which is what a synchronous reset leaves them at.
"""

from amaranth.hdl import Shape
from amaranth.lib import data, wiring
from amaranth.sim import Simulator

from ..hdl.core import ConvCore
from ..hdl.params import CoreParams
from ..hdl.regbus import READ_LATENCY

__all__ = ["ports", "markdown"]

#: what each port is (by its path in the core's signature)
_MEANING = {
    "i": "input pixels, one activation per beat in raster order (y, x, c), channels innermost; "
         "`last` on the frame's final beat",
    "i_param": "parameter load: weights (cout, cin, ky, kx) then biases (cout), one per beat; "
               "`last` on the final beat",
    "o": "output beats: one output position and group of `lanes` output channels per beat; "
         "`end` on the frame's final beat",
    "i_grad": "loss gradients of the padded frame for the mask-learning units, one per beat "
              "(only built with learning units)",
    "bus": "register bus: word addresses, writes act on the clock edge, reads are registered "
           "(docs/registers.md)",
}


#: the stream handshake, by direction and member
_HANDSHAKE = {
    ("in", "valid"): "the producer offers a beat (it must hold valid and payload until taken)",
    ("out", "ready"): "the core takes the offered beat on this rising edge (a register)",
    ("out", "valid"): "the core offers a beat (held with the payload until taken)",
    ("in", "ready"): "the consumer takes the offered beat on this rising edge",
}
_BUS = {
    "w_data": "write data", "w_en": "write `w_data` to `addr` on this edge",
    "r_en": "read `addr` on this edge",
    "r_data": f"read data: in `r_data` {READ_LATENCY} cycles after `r_en` (reads may follow "
              f"each other every cycle)",
}


def _fields(shape, offset=0, prefix=""):
    """[(msb, lsb, name, signed)] of a layout, first field at bit 0."""
    if isinstance(shape, data.StructLayout):
        out = []
        for name, field in shape:
            out += _fields(field.shape, offset + field.offset, f"{prefix}{name}")
        return out
    if isinstance(shape, data.ArrayLayout):
        out = []
        for i in range(shape.length):
            size = Shape.cast(shape.elem_shape).width
            out += _fields(shape.elem_shape, offset + i * size, f"{prefix}[{i}]")
        return out
    s = Shape.cast(shape)
    return [(offset + s.width - 1, offset, prefix, s.signed)]


def _outputs_at_start(component, flat):
    """{port path: value} of the outputs of ``component`` before its first clock edge, every
    input at 0 (``flat``: its flattened signature)."""
    values = {}
    sim = Simulator(component)

    async def sample(ctx):
        for path, member, value in flat:
            if member.flow == wiring.Out:
                # (a payload is a structure view: its bits as one number)
                values[path] = ctx.get(value.as_value() if hasattr(value, "as_value")
                                       else value)

    sim.add_testbench(sample)
    sim.run()
    return values


def ports(params=None):
    """[(verilog name, direction, width, fields text, value after reset, meaning)]."""
    params = params or CoreParams()
    core = ConvCore(params)
    flat = list(core.signature.flatten(core))
    after_reset = _outputs_at_start(core, flat)
    rows = [("clk", "in", 1, "", "", "clock (all logic on its rising edge)"),
            ("rst", "in", 1, "", "", "synchronous reset, active high")]
    for path, member, value in flat:
        shape = member.shape
        width = shape.size if isinstance(shape, data.Layout) else len(value)
        fields = ""
        if isinstance(shape, data.Layout):
            fields = ", ".join(
                f"[{msb}:{lsb}] {name}{' (signed)' if signed else ''}" if msb != lsb
                else f"[{msb}] {name}" for msb, lsb, name, signed in _fields(shape))
        direction = "in" if member.flow == wiring.In else "out"
        reset = f"{after_reset[path]:#x}" if path in after_reset else ""
        meaning = (_MEANING.get(path[0], "") if path[-1] == "payload" or path == ("bus", "addr")
                   else _HANDSHAKE.get((direction, path[-1]), _BUS.get(path[-1], "")))
        rows.append(("__".join(path), direction, width, fields, reset, meaning))
    return rows


#: the AXI top's ports, by name prefix and suffix
_AXI_STREAMS = {
    "s_axis_pixels": "the core's `i`: an activation, two's complement in the low bits; "
                     "`tlast` on the frame's final beat",
    "s_axis_params": "the core's `i_param`: a weight or bias (16 bits); `tlast` on the final",
    "s_axis_grads": "the core's `i_grad`: a loss gradient (16 bits); `tlast` on the final",
    "m_axis_out": "the core's `o`: lane j in bits from j x `out_width` up (two's complement), "
                  "zeros up to whole bytes; `tlast` on the frame's final beat",
}


def axi_ports(params=None):
    """[(name, direction, width, value during reset, meaning)] of hdl.axi_top.AxiConvTop;
    the outputs sampled with ``aresetn`` low."""
    from ..hdl.axi_top import AxiConvTop
    top = AxiConvTop(params or CoreParams())
    flat = list(top.signature.flatten(top))
    during_reset = _outputs_at_start(top, flat)   # (aresetn is 0 until driven)
    rows = []
    for path, member, value in flat:
        name = path[0]
        direction = "in" if member.flow == wiring.In else "out"
        stream = next((k for k in _AXI_STREAMS if name.startswith(k + "_")), None)
        if name == "aclk":
            meaning = "clock (all logic on its rising edge)"
        elif name == "aresetn":
            meaning = "reset, synchronous, active low (at least one clock edge)"
        elif stream and name.endswith("_tdata"):
            meaning = _AXI_STREAMS[stream]
        elif name.startswith("s_axil_") and name.endswith("addr"):
            meaning = "byte address = 4 x the word address of docs/registers.md"
        elif name == "s_axil_bresp":
            meaning = ("OKAY (0), or SLVERR (2) for an unmapped or read-only address or a "
                       "partial write (`wstrb` not 0b1111)")
        elif name == "s_axil_rresp":
            meaning = "OKAY (0), or SLVERR (2) for an unmapped address (`rdata` 0)"
        elif name == "s_axil_rdata":
            meaning = "registered read data"
        else:
            meaning = ""
        reset = f"{during_reset[path]:#x}" if path in during_reset else ""
        rows.append((name, direction, len(value), reset, meaning))
    return rows


def markdown(params=None):
    params = params or CoreParams()
    p = params
    lines = [
        "# Ports of the bare core (`padmask verilog`)",
        "",
        "Generated by `padmask ports` from the design (`sim/portdoc.py`); this is the default",
        f"core (K = {p.kernel}, {p.lanes} lanes, frames up to {p.max_height}x{p.max_width}, "
        f"{p.max_cin}/{p.max_cout} channels, learning units built); `padmask ports` with core",
        "options gives any other configuration. Struct payloads are packed first field at bit 0",
        "(`i__payload = {last, data}`). \"After reset\": the outputs with every input at 0 once",
        "reset has acted (a synchronous reset: during a reset cycle the outputs still show the",
        "registers' values from before it). Verilator's C++ names escape the double underscore:",
        "`i__valid` is `i___05Fvalid` there. How to drive one frame: docs/verilog.md.",
        "",
        "| port | direction | width | bit fields (first field at bit 0) | after reset | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name, direction, width, fields, reset, meaning in ports(params):
        lines.append(f"| `{name}` | {direction} | {width} | {fields} | {reset} | {meaning} |")
    lines += [
        "",
        "## The AXI top (`padmask generate`)",
        "",
        "The same core behind AXI ports (`hdl/axi_top.py`), same configuration. \"During "
        "reset\": the",
        "outputs while `aresetn` is low; every valid and ready is gated with it.",
        "",
        "| port | direction | width | during reset | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, direction, width, reset, meaning in axi_ports(params):
        lines.append(f"| `{name}` | {direction} | {width} | {reset} | {meaning} |")
    return "\n".join(lines) + "\n"
