"""Verilator lint (-Wall) of the generated Verilog: no warnings outside the documented waived
categories (sim/verilator.py, docs/verilog.md), for the default core and the small-part
options; and the check itself catches what it must."""

import dataclasses
import re

import pytest

from padmask.hdl.params import CoreParams
from padmask.sim import synth
from padmask.sim.core_demo import write_verilog
from padmask.sim.verilator import WAIVED, lint
from tests.core_cases import SMALL


@pytest.mark.parametrize("params", [
    CoreParams(),
    SMALL[1], SMALL[5], SMALL[7],
    CoreParams(**synth.UP5K),
    dataclasses.replace(SMALL[3], learning=False, dsp_limit=5),
], ids=["default", "K1", "K5", "K7", "up5k", "no-learning-lut-multipliers"])
def test_generated_verilog_is_lint_clean(params, tmp_path):
    path = write_verilog(tmp_path / "padmask_core.v", params)
    assert [str(w) for w in lint(path)] == []


def test_lint_reports_what_is_not_waived(tmp_path):
    # an undriven output, a latch and a blocking assignment in a clocked process: none of
    # them waived, each reported
    path = tmp_path / "bad.v"
    path.write_text("""module bad(input wire clk, input wire en, input wire d,
           output wire o, output reg q, output reg l);
  always @(*) if (en) l = d;
  always @(posedge clk) q = d;
endmodule
""")
    categories = {w.category for w in lint(path)}
    assert {"UNDRIVEN", "LATCH", "BLKSEQ"} <= categories
    assert not categories & set(WAIVED)


def test_the_waived_categories_are_the_documented_ones():
    from pathlib import Path
    doc = (Path(__file__).parent.parent / "docs" / "verilog.md").read_text()
    documented = set(re.findall(r"^\| ([A-Z]+) \|", doc, re.M))
    assert documented == set(WAIVED)

