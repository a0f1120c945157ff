"""Register packing for ECP5 netlists: flip-flops into the DSP and block-RAM blocks' own registers.

Yosys's ``synth_ecp5`` maps multipliers to combinational MULT18X18D blocks and memories to
DP16KD blocks without their output registers, and leaves every register in the fabric (its
``synth_ice40`` has ``ice40_dsp`` for this; ECP5 has nothing). The placer then has to put a
register beside each of dozens of DSP blocks, and does not: the multiplier's path carries two
long routes. This pass does, on the synthesized JSON netlist, what a vendor tool's packer does:

* a MULT18X18D whose A and B inputs all come from flip-flops that feed nothing else gets them as
  its input registers (REG_INPUTA/B); if every used P output feeds exactly one flip-flop, those
  become its output register (REG_OUTPUT);
* a DP16KD read port whose every used output feeds exactly one flip-flop gets them as its output
  register (REGMODE OUTREG).

Only flip-flops of one clock, one clock enable and one synchronous reset per register group are
taken, with reset value 0, which the blocks' registers reproduce exactly (they reset to 0,
synchronously with RESETMODE SYNC). nextpnr times the packed blocks with their registered
timing models. The netlist's function does not change; the RTL and its verification do not
depend on this pass (it only serves ``padmask synth``).
"""

import json
from collections import defaultdict

__all__ = ["pack", "PackReport"]


class PackReport(dict):
    """Counts of what was packed: ``dsp_input``, ``dsp_output``, ``bram_output`` (blocks) and
    ``flip_flops`` (the fabric flip-flops they replaced)."""


def _ff_key(cell):
    """What must be equal for flip-flops to share one block register."""
    p, c = cell["parameters"], cell["connections"]
    return (p.get("CLKMUX", "CLK").strip(), tuple(c["CLK"]), p.get("CEMUX", "1").strip(),
            tuple(c.get("CE", ["1"])), p.get("LSRMUX", "LSR").strip(), tuple(c.get("LSR", ["0"])),
            p.get("REGSET", "RESET").strip(), p.get("SRMODE", "LSR_OVER_CE").strip())


def _packable_key(key):
    clkmux, _, cemux, _, lsrmux, _, regset, srmode = key
    return (clkmux == "CLK" and cemux in ("1", "CE") and lsrmux == "LSR" and regset == "RESET"
            and srmode == "LSR_OVER_CE")


def pack(path_in, path_out):
    """Pack registers in the netlist at ``path_in``; write it to ``path_out``; a PackReport."""
    with open(path_in) as f:
        design = json.load(f)
    # the top module (Yosys marks it with a "top" attribute, a binary string)
    module = next(m for m in design["modules"].values()
                  if "1" in str(m.get("attributes", {}).get("top", "")))
    cells = module["cells"]

    drivers, sinks = {}, defaultdict(list)
    for name, cell in cells.items():
        directions = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            for index, bit in enumerate(bits):
                if isinstance(bit, str):
                    continue
                if directions.get(port) == "output":
                    drivers[bit] = (name, port)
                else:
                    sinks[bit].append((name, port, index))
    for port in module.get("ports", {}).values():
        for bit in port["bits"]:
            if isinstance(bit, str):
                continue
            if port["direction"] == "output":
                sinks[bit].append(("$top", "port", 0))

    removed = set()
    report = PackReport(dsp_input=0, dsp_output=0, bram_output=0)

    def input_ffs(cell_name, pins):
        """The flip-flops driving ``pins`` alone (None if any pin is not such a flip-flop)."""
        cell = cells[cell_name]
        ffs = {}
        for pin in pins:
            for bit in cell["connections"][pin]:
                if isinstance(bit, str):
                    continue
                driver = drivers.get(bit)
                if driver is None or driver[1] != "Q" or cells[driver[0]]["type"] != "TRELLIS_FF":
                    return None
                if driver[0] in removed:
                    return None
                if any(s[0] != cell_name or s[1] not in pins for s in sinks[bit]):
                    return None
                ffs[driver[0]] = bit
        return ffs

    def output_ffs(cell_name, pins):
        """The flip-flop each used output pin feeds alone (None if any feeds something else)."""
        cell = cells[cell_name]
        ffs = {}
        for pin in pins:
            for bit in cell["connections"][pin]:
                if isinstance(bit, str) or not sinks[bit]:
                    continue
                if len(sinks[bit]) != 1:
                    return None
                sink, port, _ = sinks[bit][0]
                if sink == "$top" or port != "DI" or cells[sink]["type"] != "TRELLIS_FF" \
                        or sink in removed:
                    return None
                ffs[pin] = sink
        return ffs

    def common_key(names):
        keys = {_ff_key(cells[n]) for n in names}
        if len(keys) != 1:
            return None
        key = keys.pop()
        return key if _packable_key(key) else None

    def control(key, ce_pin, rst_pin):
        _, clk, cemux, ce, _, lsr, _, _ = key
        return {"CLK0": list(clk), ce_pin: list(ce) if cemux == "CE" else ["1"],
                rst_pin: list(lsr)}

    for name in list(cells):
        cell = cells[name]
        if cell["type"] == "MULT18X18D":
            conn, params = cell["connections"], cell["parameters"]
            a = input_ffs(name, [f"A{i}" for i in range(18)])
            b = input_ffs(name, [f"B{i}" for i in range(18)])
            p = output_ffs(name, [f"P{i}" for i in range(36)])
            ins_key = common_key(list(a) + list(b)) if a and b else None
            out_key = common_key(list(p.values())) if p else None
            if ins_key is not None and out_key is not None and ins_key[1] != out_key[1]:
                out_key = None   # one clock for the block (the registers have resets of their own)
            if ins_key is not None:
                for ffs in (a, b):
                    for ff, q_bit in ffs.items():
                        d_bit = cells[ff]["connections"]["DI"][0]
                        for pin in conn:
                            if pin[0] in "AB" and pin[1:].isdigit():
                                conn[pin] = [d_bit if x == q_bit else x for x in conn[pin]]
                        removed.add(ff)
                conn.update(control(ins_key, "CE0", "RST0"))
                cell.setdefault("port_directions", {}).update(
                    {pin: "input" for pin in ("CLK0", "CE0", "RST0")})
                params.update(REG_INPUTA_CLK="CLK0", REG_INPUTA_CE="CE0", REG_INPUTA_RST="RST0",
                              REG_INPUTB_CLK="CLK0", REG_INPUTB_CE="CE0", REG_INPUTB_RST="RST0",
                              RESETMODE="SYNC")
                report["dsp_input"] += 1
            if out_key is not None:
                for pin, ff in p.items():
                    conn[pin] = list(cells[ff]["connections"]["Q"])
                    removed.add(ff)
                ctrl = control(out_key, "CE1", "RST1")
                conn["CLK0"], conn["CE1"], conn["RST1"] = ctrl["CLK0"], ctrl["CE1"], ctrl["RST1"]
                cell.setdefault("port_directions", {}).update(
                    {pin: "input" for pin in ("CLK0", "CE1", "RST1")})
                params.update(REG_OUTPUT_CLK="CLK0", REG_OUTPUT_CE="CE1", REG_OUTPUT_RST="RST1",
                              RESETMODE="SYNC")
                report["dsp_output"] += 1
        elif cell["type"] == "DP16KD":
            conn, params = cell["connections"], cell["parameters"]
            for port in "AB":
                pins = [f"DO{port}{i}" for i in range(18)]
                used = [pin for pin in pins if any(not isinstance(bit, str) and sinks[bit]
                                                    for bit in conn.get(pin, []))]
                if not used:
                    continue
                ffs = output_ffs(name, pins)
                key = common_key(list(ffs.values())) if ffs and len(ffs) == len(used) else None
                if key is None or params.get(f"REGMODE_{port}", "NOREG") != "NOREG":
                    continue
                _, clk, cemux, ce, _, lsr, _, _ = key
                if list(clk) != conn[f"CLK{port}"]:
                    continue
                if params.get("RESETMODE", "SYNC") == "ASYNC" and conn.get(f"RST{port}") == ["0"]:
                    params["RESETMODE"] = "SYNC"   # the port's reset is unused: make it sync
                elif params.get("RESETMODE", "SYNC") != "SYNC":
                    continue
                if conn.get(f"RST{port}", ["0"]) not in (["0"], list(lsr)):
                    continue
                for pin, ff in ffs.items():
                    conn[pin] = list(cells[ff]["connections"]["Q"])
                    removed.add(ff)
                conn[f"OCE{port}"] = list(ce) if cemux == "CE" else ["1"]
                conn[f"RST{port}"] = list(lsr)
                cell.setdefault("port_directions", {}).update(
                    {f"OCE{port}": "input", f"RST{port}": "input"})
                params[f"REGMODE_{port}"] = "OUTREG"
                report["bram_output"] += 1

    for name in removed:
        del cells[name]
    report["flip_flops"] = len(removed)
    with open(path_out, "w") as f:
        json.dump(design, f)
    return report
