"""The hardware parts of the padmask command: demo, verilog, bench core, bench verilator."""

import json
import re
from pathlib import Path

import pytest

from padmask.sim import cli


def test_demo_deploys_the_learned_layer_to_verilog(tmp_path, capsys):
    """The main job: training, then the learned layer exported, its Verilog on Verilator
    against the golden model, one summary."""
    assert cli.main(["demo", "--seeds", "1", "--epochs", "1", "--quiet", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Deployed: dynamic-prose, seed 0" in out
    assert re.search(r"bit-exact  yes: 449 frames, 57,472 output beats", out)
    assert re.search(r"accuracy   \d+\.\d\d % held-out with the int8 layer", out)
    assert re.search(r"cycles     (\d+) per frame back to back \(ideal 128, ratio [\d.]+; "
                     r"timing model \1\)", out)
    layer = tmp_path / "layer"
    for name in ("core.json", "layer.json", "params.memh", "mask.memh", "inputs.memh",
                 "outputs.memh"):
        assert (layer / name).stat().st_size > 0
    assert "module padmask_core" in (layer / "padmask_core.v").read_text()
    assert (tmp_path / "threshold_trajectory.png").exists()


def test_demo_without_verilator_runs_a_frame_on_the_amaranth_simulator(tmp_path, capsys,
                                                                      monkeypatch):
    from padmask.sim import verilator
    monkeypatch.setattr(verilator, "available", lambda: False)
    assert cli.main(["demo", "--seeds", "1", "--epochs", "1", "--quiet", "--no-plots",
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "needs the verilator extra" in out
    assert "bit-exact with golden.masked_conv2d + requantize" in out
    assert "error flags 0" in out
    assert "module padmask_core" in (tmp_path / "padmask_core.v").read_text()


def test_verilog_command(tmp_path, capsys):
    """The flags reach the design: the output port is 2 lanes x 8 bits + end, and the line
    buffer is 5 x 5 memories of two rows, each ceil(16 / 5) * 4 = 16 words deep (32 words)."""
    path = tmp_path / "core_k5.v"
    assert cli.main(["verilog", "--output", str(path), "--kernel", "5", "--lanes", "2",
                     "--max-height", "16", "--max-width", "16", "--max-cin", "4",
                     "--max-cout", "4", "--name", "conv5"]) == 0
    text = path.read_text()
    assert "module conv5(" in text
    assert "output [16:0] o__payload;" in text
    memories = set(re.findall(r"reg \[7:0\] (line_r\d_b\d) \[31:0\]", text))
    assert memories == {f"line_r{r}_b{b}" for r in range(5) for b in range(5)}


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


def test_bench_verilator_json(capsys):
    assert cli.main(["bench", "verilator", "--json", "--repeats", "1"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("cycles_per_s", "pysim_cycles_per_s", "speedup", "cycles", "mismatches"):
        assert key in r
    assert r["mismatches"] == 0 and r["hangs"] == 0
    assert r["outputs"] == 3 * 64 * 64 * 4       # three frames, four groups of four lanes
    # (the rates are rounded to whole cycles per second: pysim's by up to 0.5 in about 1,000)
    assert r["speedup"] == pytest.approx(r["cycles_per_s"] / r["pysim_cycles_per_s"], rel=1e-3)


def test_register_map_document_is_the_generated_one(capsys):
    """docs/registers.md is `padmask regmap`'s output: regenerate with
    `padmask regmap --output docs/registers.md` when the table changes."""
    assert cli.main(["regmap"]) == 0
    generated = capsys.readouterr().out
    committed = (Path(__file__).parent.parent / "docs" / "registers.md").read_text()
    assert generated == committed
    for name in ("FRAME_SIZE", "APPLIED_FRAME_SIZE", "CYCLES_LO", "MASK_SHADOW", "ERRORS"):
        assert f"| {name} |" in generated


def test_port_document_is_the_generated_one(capsys):
    """docs/ports.md is `padmask ports`'s output: regenerate with
    `padmask ports --output docs/ports.md` when the ports change."""
    assert cli.main(["ports"]) == 0
    generated = capsys.readouterr().out
    committed = (Path(__file__).parent.parent / "docs" / "ports.md").read_text()
    assert generated == committed
    assert "| `o__payload` | out | 33 | [7:0] data[0] (signed)" in generated
    assert "| `o__valid` | out | 1 |  | 0x0 |" in generated        # low after reset


def test_ports_follow_the_configuration(capsys):
    assert cli.main(["ports", "--lanes", "2", "--no-learning"]) == 0
    text = capsys.readouterr().out
    assert "| `o__payload` | out | 17 |" in text and "i_grad" not in text


def test_generate_writes_the_axi_top(tmp_path, capsys):
    config = tmp_path / "k5.json"
    config.write_text('{"kernel": 5, "lanes": 2, "max_height": 16, "max_width": 16, '
                      '"max_cin": 4, "max_cout": 4, "learning": false}')
    path = tmp_path / "axi.v"
    assert cli.main(["generate", "--config", str(config), "--output", str(path),
                     "--lint"]) == 0
    text = path.read_text()
    assert "module padmask_axi(" in text
    assert "output [15:0] m_axis_out_tdata;" in text         # 2 lanes x 8 bits
    assert "s_axis_grads" not in text                          # no learning units
    assert "0 warnings outside the waived categories" in capsys.readouterr().out

