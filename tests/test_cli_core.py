"""The hardware parts of the padmask command: demo, verilog, bench core."""

import json

from padmask.sim import cli


def test_demo_runs_a_frame_through_the_core_and_writes_verilog(tmp_path, capsys):
    assert cli.main(["demo", "--seeds", "1", "--epochs", "1", "--quiet", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bit-exact with golden.masked_conv2d + requantize" in out
    assert "error flags 0" in out
    text = (tmp_path / "padmask_core.v").read_text()
    assert "module padmask_core" in text
    assert (tmp_path / "threshold_trajectory.png").exists()


def test_verilog_command(tmp_path, capsys):
    path = tmp_path / "core_k5.v"
    assert cli.main(["verilog", "--output", str(path), "--kernel", "5", "--lanes", "2",
                     "--max-height", "16", "--max-width", "16", "--max-cin", "4",
                     "--max-cout", "4", "--name", "conv5"]) == 0
    assert "module conv5" in path.read_text()


def test_bench_core_json(capsys):
    assert cli.main(["bench", "core", "--json", "--sizes", "8", "--frames", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    frame, toggles = lines
    for key in ("frame", "cycles_per_frame", "ideal_cycles", "ratio", "utilization",
                "macs_skipped", "sim_cycles_per_s", "skipped_tap_operand_toggles"):
        assert key in frame
    assert frame["frame"] == "8x8" and frame["model_agrees"]
    assert frame["skipped_tap_operand_toggles"] == 0
    assert toggles["skipped_tap_operand_toggles_mask_zeros"] == 0
    assert toggles["macs_skipped_mask_zeros"] > 0 == toggles["macs_skipped_mask_ones"]
