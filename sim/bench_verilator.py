"""``padmask bench verilator``: the generated Verilog on Verilator against the Amaranth simulator.

The default core replays three back-to-back 64x64 frames (16/16 channels, reflect padding, pads
1, random block mask; no stalls) from a golden vector file, ``--repeats`` times; the figure is
the median of the harness's own cycles per second (its simulation loop, not the build or the
file reading). The Amaranth simulator runs the same configuration on 8x8 frames in the same
run: its rate is the difference of two runs (one and two frames) divided by the difference of
their wall times, so the elaboration both pay cancels out. Every output beat, the error flags
and the performance counters are compared with the golden model (``mismatches``).

The model is built with profile-guided optimization (:func:`sim.verilator.build`), trained on
two small frames of other data: clang where clang++ and llvm-profdata are installed, else gcc
(``build`` in the report says which).
"""

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ..hdl.params import CoreParams
from . import verilator
from .frames import FrameConfig, frame_mask
from .harness import FrameSpec, run_core
from .vectors import write_vectors

__all__ = ["main", "measure"]


def _frames(rng, params, size, count):
    cfg = FrameConfig(size, size, cin=16, cout=16, padding=(1, 1, 1, 1), mode="reflect",
                      shift=10)
    frames = []
    for _ in range(count):
        x = rng.integers(-128, 128, (cfg.cin, size, size))
        grid = (-(-(size + 2) // params.block),) * 2
        frames.append(FrameSpec(cfg, x, frame_mask(params, cfg, rng.integers(0, 2, grid))))
    return frames


def _pysim_rate(params, rng, w, bias):
    timings = []
    for count in (1, 2):
        frames = _frames(rng, params, 8, count)
        # (the same mask for both frames: consecutive frames then need no host wait)
        frames = [FrameSpec(f.cfg, f.x, frames[0].full_mask) for f in frames]
        started = time.perf_counter()
        result = run_core(params, frames, w=w, bias=bias, record=False)
        timings.append((result.cycles, time.perf_counter() - started))
    (c1, t1), (c2, t2) = timings
    return (c2 - c1) / (t2 - t1), c2 - c1


def measure(repeats=3, progress=None, profiled=True):
    params = CoreParams()
    rng = np.random.default_rng(5)
    w = rng.integers(-128, 128, (16, 16, 3, 3))
    bias = rng.integers(-2**15, 2**15, 16)
    def training(path):
        # (profile-guided optimization learns from two small frames of other data, not from
        # the measured run)
        train_rng = np.random.default_rng(99)
        small = _frames(train_rng, params, 16, 2)
        small = [FrameSpec(f.cfg, f.x, small[0].full_mask) for f in small]
        write_vectors(path, params, small, w=w, bias=bias, back_to_back=True)

    started = time.perf_counter()
    exe = verilator.build(params, progress=progress, profile=training if profiled else None)
    build_seconds = time.perf_counter() - started
    frames = _frames(rng, params, 64, 3)
    frames = [FrameSpec(f.cfg, f.x, frames[0].full_mask) for f in frames]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.txt"
        write_vectors(path, params, frames, w=w, bias=bias, back_to_back=True)
        for i in range(repeats):
            if progress:
                progress(f"Verilator run {i + 1} of {repeats}")
            runs.append(verilator.replay(exe, path))
    if progress:
        progress("the Amaranth simulator on the same configuration (8x8 frames)")
    pysim, pysim_cycles = _pysim_rate(params, rng, w, bias)
    rate = statistics.median(r["cycles_per_s"] for r in runs)
    last = runs[-1]
    return {
        "config": "default core (K=3, 4 lanes, 64x64, 16/16 channels)",
        "frames": "3 back-to-back 64x64, 16/16 channels, reflect, pads 1, random mask",
        "cycles": last["cycles"], "outputs": last["outputs"],
        "cycles_per_s": round(rate), "cycles_per_s_runs": [round(r["cycles_per_s"]) for r in runs],
        "pysim_cycles_per_s": round(pysim), "pysim_cycles": pysim_cycles,
        "speedup": round(rate / pysim, 1),
        "mismatches": sum(r["mismatches"] + r["extra"] + r["missing"] + r["read_mismatches"]
                          for r in runs),
        "hangs": sum(bool(r["hang"]) for r in runs),
        "build_seconds": round(build_seconds, 1),
        "build": f"{verilator.profile_compiler()}, profile-guided" if profiled else "gcc",
    }


def main(args):
    import sys

    def progress(text):
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    r = measure(repeats=args.repeats or 5, progress=progress)
    if args.json:
        print(json.dumps(r))
        return 0 if r["mismatches"] == 0 and r["hangs"] == 0 else 1
    print(f"{r['frames']} on Verilator: {r['cycles']} cycles, {r['outputs']} output beats, "
          f"{r['mismatches']} mismatches")
    print(f"  {r['cycles_per_s']:,} cycles/s (median of {r['cycles_per_s_runs']}); Amaranth "
          f"simulator {r['pysim_cycles_per_s']:,} cycles/s on the same configuration; "
          f"speedup {r['speedup']}x (model build: {r['build']}, {r['build_seconds']} s, once)")
    return 0 if r["mismatches"] == 0 and r["hangs"] == 0 else 1
