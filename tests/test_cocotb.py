"""The cocotb testbench of the AXI top (sim/cocotb_axi_tb.py) on Verilator: one layer through
AXI4-Lite and AXI4-Stream (random pauses and backpressure) against the golden model."""

from padmask.sim import cli


def test_cocotb_one_layer_on_verilator(tmp_path, capsys):
    assert cli.main(["cocotb", "--sim", "verilator", "--out", str(tmp_path)]) == 0
    assert "1 test(s), 0 failed" in capsys.readouterr().out
    results = (tmp_path / "verilator" / "results.xml").read_text()
    assert "one_layer_against_the_golden_model" in results and "<failure" not in results
