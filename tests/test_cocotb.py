"""The cocotb testbench of the AXI top (sim/cocotb_axi_tb.py) on Verilator and Icarus: one layer
through AXI4-Lite and AXI4-Stream (random pauses and backpressure) against the golden model."""

import shutil

import pytest

from padmask.sim import cli


@pytest.mark.parametrize("sim", [
    "verilator",
    pytest.param("icarus", marks=pytest.mark.skipif(
        shutil.which("iverilog") is None,
        reason="Icarus Verilog is not installed (apt-get install iverilog; .ci/run does)")),
])
def test_cocotb_one_layer(sim, tmp_path, capsys):
    assert cli.main(["cocotb", "--sim", sim, "--out", str(tmp_path)]) == 0
    assert "1 test(s), 0 failed" in capsys.readouterr().out
    results = (tmp_path / sim / "results.xml").read_text()
    assert "one_layer_against_the_golden_model" in results and "<failure" not in results
