"""Synthesis in CI: a small configuration through Yosys (the fpga extra's build), checked for
its DSP count (exactly the MAC array's multipliers plus the learning-rate product), latches
(none) and warnings from the design (none). Placement and timing are a benchmark
(`padmask synth`), not a test."""

import pytest

from padmask.hdl.core import ConvCore
from padmask.hdl.params import CoreParams
from padmask.sim import synth

SMALL = CoreParams(kernel=3, lanes=2, max_height=16, max_width=16, max_cin=4, max_cout=4)


UP5K_LIKE = CoreParams(kernel=3, lanes=1, max_height=16, max_width=16, max_cin=4, max_cout=4,
                       learning=False, dsp_limit=8)


@pytest.mark.parametrize("params, target", [
    (SMALL, "ecp5"),
    (CoreParams(kernel=3, lanes=2, max_height=16, max_width=16, max_cin=4, max_cout=4,
                learning=False, dsp_limit=10), "ecp5"),
    (UP5K_LIKE, "ice40"),
], ids=["learning", "no-learning-lut-multipliers", "ice40-eight-dsp"])
def test_synthesis_maps_multipliers_to_dsp_blocks_only(params, target, tmp_path):
    report = synth.run(ConvCore(params), target=target, seeds=1, workdir=tmp_path,
                       place_design=False)
    assert report["dsp"] == params.dsp_multipliers + params.learning
    assert report["latches"] == 0
    assert report["yosys_warnings"] == []
    assert report["lut"] > 0 and report["ff"] > 0 and report["bram"] + report["lutram"] > 0


def test_bracketed_names_are_renamed_but_bit_selects_are_not():
    text = "  wire width 8 \\counters[0]\n  connect \\a [2:0] \\b[1].c [0]\n"
    assert synth._plain_names(text) == ("  wire width 8 \\counters_0_\n"
                                        "  connect \\a [2:0] \\b_1_.c [0]\n")


def test_the_documented_up5k_configuration_fits(tmp_path):
    """The iCE40UP5K configuration of docs/synthesis.md: nextpnr's packer fits it into the
    part's logic cells (placement and timing: `padmask synth --target ice40`)."""
    params = CoreParams(**synth.UP5K)
    report = synth.run(ConvCore(params), target="ice40", seeds=1, workdir=tmp_path,
                       place_design=False)
    assert report["dsp"] == 8 and report["latches"] == 0 and report["yosys_warnings"] == []
    assert report["logic_cells_available"] == 5280
    assert report["logic_cells"] <= report["logic_cells_available"], report["logic_cells"]

