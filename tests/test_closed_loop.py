"""The closed loop: training with masks and thresholds from the simulated learning units."""

import numpy as np
import pytest

from padmask.golden.train import TrainConfig, load_digits, train
from padmask.sim.closed_loop import train_hardware
from padmask.sim.verilator_learner import VerilatorLearner, build_learner


@pytest.fixture(scope="module")
def data():
    x_train, y_train, x_test, y_test = load_digits()
    return x_train[:128], y_train[:128], x_test[:64], y_test[:64]


@pytest.mark.parametrize("simulator", ["amaranth", "verilator"])
@pytest.mark.parametrize("variant", ["dynamic-pseudocode", "dynamic-prose", "dynamic-density"])
def test_hardware_loop_equals_the_golden_fixed_point_loop(data, variant, simulator):
    # (density: a target away from the initial share, so the threshold has to move)
    config = TrainConfig(variant=variant, epochs=3, mask_interval=2, threshold_lr=0.2, seed=3,
                         target=0.3)
    exe = build_learner(8, 8, config.padding, config.block) if simulator == "verilator" else None
    hardware = train_hardware(config, data, exe=exe)
    golden_run = train(config, data)
    assert hardware.hardware["updates"] == 6
    assert hardware.hardware["mismatches"] == 0
    assert hardware.hardware["simulator"] == simulator
    assert hardware.thresholds == golden_run.thresholds
    assert len(hardware.masks) == len(golden_run.masks) == 6
    for a, b in zip(hardware.masks, golden_run.masks):
        np.testing.assert_array_equal(a, b)
    assert hardware.test_accuracy == golden_run.test_accuracy
    assert len(set(hardware.thresholds)) > 2  # the threshold really moved


def test_hardware_loop_needs_fixed_point(data):
    with pytest.raises(ValueError, match="numerics must be 'fixed', not 'float'"):
        train_hardware(TrainConfig(numerics="float"), data)


def test_fixed_point_loop_stays_close_to_the_float_loop(data):
    """The two loops differ only by quantization (gradients to SQ(1, 15), floored means and
    scores, rounded delta); over a short run their thresholds stay within 0.01 and their masks
    agree on at least 90 % of the padding blocks, update by update."""
    for variant in ("dynamic-pseudocode", "dynamic-prose"):
        runs = {n: train(TrainConfig(variant=variant, epochs=3, mask_interval=1, seed=1,
                                     numerics=n), data) for n in ("fixed", "float")}
        fixed_run, float_run = runs["fixed"], runs["float"]
        gap = np.abs(np.array(fixed_run.thresholds) - np.array(float_run.thresholds))
        assert gap.max() < 0.01
        pad = fixed_run.pad_blocks
        agreement = [np.mean(a[pad] == b[pad]) for a, b in zip(fixed_run.masks, float_run.masks)]
        assert min(agreement) >= 0.9


def test_the_verilator_learner_reports_a_disagreement():
    """Updates the hardware computes with another learning rate than the golden replay uses
    are counted as mismatches (and the training takes the hardware's threshold)."""
    exe = build_learner(8, 8, 2, 2)
    learner = VerilatorLearner(exe, height=8, width=8, padding=2, block=2, threshold=0.5,
                               learning_rate=0.2, direction="pseudocode")
    learner.learning_rate_raw //= 2   # the golden replay's rate only
    rng = np.random.default_rng(0)
    thresholds = [learner.update(rng.normal(0, 1e-3, (4, 1, 12, 12)) *
                                 rng.random((1, 1, 12, 12)))[1] for _ in range(4)]
    assert learner.updates == 4
    assert learner.mismatches >= 3   # (a zero delta, rare, agrees whatever the rate)
    assert len(set(thresholds)) > 1
    summary = learner.close()
    assert summary["grads_taken"] == summary["grads"] == 4 * 4 * 80
