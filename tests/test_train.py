"""Training procedure and the padmask command (short runs)."""

import json

import numpy as np
import pytest

from padmask.golden import fixed
from padmask.golden.train import MaskLearner, TrainConfig, load_digits, train
from padmask.sim import cli


@pytest.fixture(scope="module")
def data():
    x_train, y_train, x_test, y_test = load_digits()
    # a small slice keeps these tests fast
    return x_train[:256], y_train[:256], x_test[:128], y_test[:128]


@pytest.mark.parametrize("numerics", ["fixed", "float"])
def test_directions_move_the_threshold_as_documented(data, numerics):
    runs = {}
    for variant in ("dynamic-pseudocode", "dynamic-prose"):
        config = TrainConfig(variant=variant, epochs=2, numerics=numerics, threshold_lr=0.05,
                             mask_interval=1)
        runs[variant] = train(config, data)
        thresholds = np.array(runs[variant].thresholds)
        assert len(thresholds) == 1 + 2 * 8  # initial + one per step (256 / 32 per epoch)
        steps = np.diff(thresholds)
        assert (steps <= 0).all() if variant == "dynamic-pseudocode" else (steps >= 0).all()
        assert steps.any()
    assert runs["dynamic-prose"].included[-1] < runs["dynamic-pseudocode"].included[-1]


def test_static_variants_use_every_block(data):
    result = train(TrainConfig(variant="replicate", epochs=1), data)
    assert result.mask.all() and not result.thresholds
    assert 0.0 <= result.test_accuracy <= 1.0


def test_training_learns(data):
    result = train(TrainConfig(variant="dynamic-pseudocode", epochs=4), data)
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert result.test_accuracy > 0.8  # chance is 0.1


def test_fixed_learner_keeps_exact_codes():
    learner = MaskLearner(padding=2, block=2, threshold=0.5, learning_rate=0.02,
                          direction="pseudocode")
    assert learner.threshold_raw == fixed.ONE // 2
    assert learner.learning_rate_raw == round(0.02 * 2**16)
    g = np.random.default_rng(0).normal(size=(4, 1, 12, 12))
    mask, threshold = learner.update(g)
    assert threshold == learner.threshold_raw / fixed.ONE
    assert mask.shape == (6, 6)


def test_bad_config():
    with pytest.raises(ValueError, match="variant must be one of 'zero', 'replicate', 'reflect', "
                                         "'dynamic-pseudocode', 'dynamic-prose', not 'dynamic'"):
        TrainConfig(variant="dynamic")
    with pytest.raises(ValueError, match="epochs must be at least 1, not 0"):
        TrainConfig(epochs=0)


def test_train_command_prints_table_and_writes_plots(tmp_path, capsys):
    assert cli.main(["train", "--seeds", "1", "--epochs", "1", "--out", str(tmp_path),
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    for variant in ("zero", "replicate", "reflect", "dynamic-pseudocode", "dynamic-prose"):
        assert f"\n{variant} " in out
    assert (tmp_path / "threshold_trajectory.png").stat().st_size > 1000
    assert (tmp_path / "learned_masks.png").stat().st_size > 1000


def test_bench_golden_json(capsys):
    assert cli.main(["bench", "golden", "--json", "--repeats", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["exact"] is True
    assert result["gmac_per_s"] > 0
    assert "torch_ratio" in result
