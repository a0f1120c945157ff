"""Synthesis in CI: a small configuration through Yosys (the fpga extra's build), checked for
its DSP count (exactly the MAC array's multipliers plus the learning-rate product), latches
(none) and warnings from the design (none). Placement and timing are a benchmark
(`padmask synth`), not a test."""

import pytest

from padmask.hdl.core import ConvCore
from padmask.hdl.params import CoreParams
from padmask.sim import synth

SMALL = CoreParams(kernel=3, lanes=2, max_height=16, max_width=16, max_cin=4, max_cout=4)


@pytest.mark.parametrize("params", [SMALL, CoreParams(kernel=3, lanes=2, max_height=16,
                                                      max_width=16, max_cin=4, max_cout=4,
                                                      learning=False, dsp_limit=10)],
                         ids=["learning", "no-learning-lut-multipliers"])
def test_synthesis_maps_multipliers_to_dsp_blocks_only(params, tmp_path):
    report = synth.run(ConvCore(params), target="ecp5", seeds=1, workdir=tmp_path,
                       place_design=False)
    assert report["dsp"] == params.dsp_multipliers + params.learning
    assert report["latches"] == 0
    assert report["yosys_warnings"] == []
    assert report["lut"] > 0 and report["ff"] > 0 and report["bram"] + report["lutram"] > 0
