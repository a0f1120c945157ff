"""The workloads and the accuracy/MACs frontier (short runs of each workload)."""

import json

import numpy as np
import pytest

from padmask import golden
from padmask.golden.train import TrainConfig, psnr, train
from padmask.golden.workloads import (DENOISE_IMAGES, TEXTURE_IMAGES, WORKLOADS, load_denoise,
                                      load_textures, load_workload)
from padmask.sim import cli
from padmask.sim.frontier import RULES, run_count, run_frontier


def test_textures_are_disjoint_normalized_tiles_of_every_image():
    x_train, y_train, x_test, y_test = load_textures()
    assert x_train.shape == (400 * 10, 1, 8, 8) and x_test.shape == (220 * 10, 1, 8, 8)
    assert np.array_equal(np.bincount(y_train), [400] * len(TEXTURE_IMAGES))
    assert np.array_equal(np.bincount(y_test), [220] * len(TEXTURE_IMAGES))
    # each tile on its own: mean 0, std about 1 (flat tiles were dropped)
    assert np.abs(x_train.mean(axis=(2, 3))).max() < 1e-9
    assert np.abs(x_test.std(axis=(2, 3)) - 1).max() < 0.1
    # no tile is both trained on and held out
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1).round(9)}
    assert not any(row.tobytes() in train_rows for row in x_test.reshape(len(x_test), -1).round(9))
    # the same split for the same seed, another for another
    assert np.array_equal(load_textures()[2], x_test)
    assert not np.array_equal(load_textures(split_seed=1)[2], x_test)


def test_denoise_pairs():
    noisy, clean, noisy_test, clean_test = load_denoise()
    n = len(DENOISE_IMAGES)
    assert noisy.shape == clean.shape == (500 * n, 1, 8, 8)
    assert noisy_test.shape == clean_test.shape == (150 * n, 1, 8, 8)
    assert clean.min() >= -0.5 - 1e-12 and clean.max() <= 0.5 + 1e-12
    noise = np.concatenate([(noisy - clean).ravel(), (noisy_test - clean_test).ravel()])
    assert abs(noise.mean()) < 2e-3 and abs(noise.std() - 0.1) < 2e-3
    # 20 dB: the noisy input's PSNR (peak 1.0, sigma 0.1)
    assert psnr(noisy_test, clean_test) == pytest.approx(20.0, abs=0.1)
    train_rows = {row.tobytes() for row in clean.reshape(len(clean), -1)}
    assert sum(row.tobytes() in train_rows for row in clean_test.reshape(len(clean_test), -1)) \
        < 0.01 * len(clean_test)   # flat tiles (saturated sky, paper) may repeat; no reuse


def test_denoising_learns_and_the_padding_reaches_the_borders():
    """A short run improves on the noisy input; zero and reflect padding give different border
    errors but the same interior (the conv's 5x5 window reaches 2 pixels beyond the border)."""
    noisy, clean, noisy_test, clean_test = load_denoise()
    data = (noisy[::4], clean[::4], noisy_test[::4], clean_test[::4])
    runs = {mode: train(TrainConfig(variant=mode, epochs=2, learning_rate=0.1), data)
            for mode in ("zero", "reflect")}
    for r in runs.values():
        assert r.metric == "psnr_db" and r.test_accuracy is None
        assert r.score > psnr(data[2], data[3]) + 1.0
    assert runs["zero"].score != runs["reflect"].score
    with pytest.raises(ValueError, match="kernel must be 2 \\* padding \\+ 1, not 5 with padding 1"):
        train(TrainConfig(variant="zero", epochs=1, padding=1), data)


def test_load_workload_checks_its_name():
    assert set(WORKLOADS) == {"digits", "denoise", "textures"}
    with pytest.raises(ValueError, match="workload must be one of 'digits', 'denoise', "
                                         "'textures', not 'x'"):
        load_workload("x")


@pytest.fixture(scope="module")
def points():
    return run_frontier(tuple(WORKLOADS), seeds=2, targets=(0.5,), draws=2, epochs=1)


def test_frontier_points(points):
    """One static point per extreme, one learned point per target and rule, and a random twin
    with as many blocks included as the learned run, per workload."""
    # per workload and seed: 2 static, 3 learned (one target, two rules), 2 draws of each twin
    assert run_count(tuple(WORKLOADS), 2, (0.5,), 2) == len(WORKLOADS) * 2 * (2 + 3 + 3 * 2)
    for workload in WORKLOADS:
        mine = {(p["variant"], p["rule"], p["target"]): p for p in points
                if p["workload"] == workload}
        expected = {("static", None, 0.0), ("static", None, 1.0), ("learned", "density", 0.5),
                    ("random", "density", 0.5)}
        expected |= {(v, rule, None) for rule in RULES for v in ("learned", "random")}
        assert set(mine) == expected
        for p in mine.values():
            assert p["seeds"] == 2 and len(p["accuracies"]) == 2
            assert p["metric"] == WORKLOADS[workload].metric
            assert 0 <= p["accuracy_mean"] <= 100 and p["accuracy_std"] >= 0
            assert p["draws"] == (2 if p["variant"] == "random" else None)
        # the extremes: every padding tap skipped (zero padding), none (reflect, all included)
        counts = golden.work_counts(8, 8, cin=1, cout=8, kernel=5, padding=2, block=2,
                                    mask=np.zeros((6, 6), dtype=bool))
        every = 100 * counts.macs_padding_skipped / counts.mac_slots
        zero, full = mine[("static", None, 0.0)], mine[("static", None, 1.0)]
        assert zero["padding"] == "zero" and zero["included"] == 0
        assert zero["macs_skipped"] == pytest.approx(every)
        assert full["padding"] == "reflect" and full["included"] == 1 and full["macs_skipped"] == 0
        for rule, target in (("density", 0.5), ("pseudocode", None), ("prose", None)):
            learned, random = mine[("learned", rule, target)], mine[("random", rule, target)]
            # seed by seed, and each seed's count is its own (not one shared count)
            assert random["blocks_included"] == learned["blocks_included"]
            assert 0 <= learned["macs_skipped"] <= every


def test_random_twins_are_the_learned_runs_count_per_seed_averaged_over_draws(points):
    """Rebuild the digits' density-0.5 random point from its runs: per seed, the mean over the
    draws of a random mask with that seed's learned count; the spread over every run."""
    twin = next(p for p in points if p["workload"] == "digits" and p["variant"] == "random"
                and p["rule"] == "density")
    data = load_workload("digits")[1]
    scores = [[train(TrainConfig(variant="reflect", seed=seed, epochs=1, random_included=n,
                                 random_draw=draw), data).score for draw in range(2)]
              for seed, n in enumerate(twin["blocks_included"])]
    assert twin["accuracies"] == pytest.approx([np.mean(s) for s in scores])
    assert twin["accuracy_std"] == pytest.approx(np.std(scores))
    assert len({s for pair in scores for s in pair}) > 1   # the draws are different masks


def test_frontier_command_json_and_plot(tmp_path, capsys):
    assert cli.main(["frontier", "--workloads", "digits", "--seeds", "1", "--epochs", "1",
                     "--targets", "0.3", "--json", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    points = [json.loads(line) for line in lines]
    assert len(points) == 2 + 2 * (1 + len(RULES))
    for p in points:
        for key in ("workload", "variant", "target", "macs_skipped", "accuracy_mean",
                    "accuracy_std", "seeds"):
            assert key in p
        assert p["variant"] in ("learned", "random", "static")
    assert (tmp_path / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frontier_command_table(tmp_path, capsys):
    assert cli.main(["frontier", "--workloads", "digits", "--seeds", "1", "--epochs", "1",
                     "--targets", "0.5", "--quiet", "--no-plot", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "held-out score" in out and "learned - random" in out
    assert not (tmp_path / "frontier.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["--workloads", "cifar"], "unknown workload 'cifar'"),
    (["--targets", "0.5,1.5"], "--targets must be shares within [0, 1]"),
    (["--targets", "half"], "--targets must be numbers"),
    (["--draws", "0"], "--draws must be at least 1, not 0"),
    (["--workers", "0"], "--workers must be at least 1, not 0"),
    (["--workloads", ","], "--workloads names no workload: ','"),
])
def test_frontier_command_bad_arguments(argv, message):
    with pytest.raises(SystemExit, match=message.replace("[", r"\[").replace("]", r"\]")):
        cli.main(["frontier", "--no-plot", "--quiet"] + argv)
