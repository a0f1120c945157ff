"""Training procedure and the padmask command (short runs)."""

import json

import numpy as np
import pytest

from padmask import golden
from padmask.golden import mask_update_fixed, quantize_gradients
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


def test_static_variants_use_every_block_and_differ_by_padding(data):
    results = {v: train(TrainConfig(variant=v, epochs=1), data)
               for v in ("zero", "replicate", "reflect")}
    for result in results.values():
        assert result.mask.all() and not result.thresholds and not result.masks
        assert result.test_accuracy > 0.4        # one epoch on 256 images; chance is 0.1
    # same seed, same data: only the padding differs, and it reaches the result
    losses = {v: r.epoch_losses[0] for v, r in results.items()}
    assert len(set(losses.values())) == 3


def test_random_mask_baseline_includes_exactly_the_given_blocks(data):
    """A static variant with ``random_included``: a fixed random mask of that many padding
    blocks (the baseline of a learned mask of that density), the same for the same seed, other
    blocks for another seed, and the network starts as the unmasked variant's does."""
    pad = golden.padding_blocks(8, 8, 2, 2)
    runs = [train(TrainConfig(variant="reflect", epochs=1, random_included=n, seed=seed), data)
            for n, seed in ((7, 0), (7, 0), (7, 1), (0, 0))]
    for r, n in zip(runs, (7, 7, 7, 0)):
        assert r.mask[pad].sum() == n and r.mask[~pad].all()
        assert not r.thresholds and not r.masks
    assert np.array_equal(runs[0].mask, runs[1].mask)
    assert runs[0].test_accuracy == runs[1].test_accuracy
    assert not np.array_equal(runs[0].mask, runs[2].mask)
    # the mask reaches the result: with none of the padding included, reflect padding is zero
    # padding
    zero = train(TrainConfig(variant="zero", epochs=1), data)
    assert runs[3].epoch_losses == pytest.approx(zero.epoch_losses, rel=1e-12)
    assert runs[0].epoch_losses != zero.epoch_losses


def test_random_block_mask_draws_uniformly():
    rng = np.random.default_rng(5)
    pad = golden.padding_blocks(6, 6, 1, 2)
    counts = sum(golden.random_block_mask(6, 6, 1, 2, 3, rng).astype(int) for _ in range(4000))
    share = counts[pad] / 4000
    assert np.allclose(share, 3 / pad.sum(), atol=0.04)   # every padding block equally likely
    assert (counts[~pad] == 4000).all()
    with pytest.raises(ValueError, match=f"included must be at most the {pad.sum()} padding "
                                         "blocks, not 99"):
        golden.random_block_mask(6, 6, 1, 2, 99, rng)


def test_training_learns(data):
    result = train(TrainConfig(variant="dynamic-pseudocode", epochs=4), data)
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert result.test_accuracy > 0.8  # chance is 0.1


def test_fixed_learner_carries_exact_codes_from_update_to_update():
    """The learner quantizes its settings once (0.5 -> 16384, 0.02 -> 1311) and carries the
    threshold code from one update to the next, exactly as the fixed-point model does."""
    learner = MaskLearner(padding=2, block=2, threshold=0.5, learning_rate=0.02,
                          direction="pseudocode")
    rng = np.random.default_rng(0)
    threshold_code = 16384
    for _ in range(3):
        g = rng.normal(size=(4, 1, 12, 12)) * rng.random((1, 1, 12, 12))
        mask, threshold = learner.update(g)
        raw, _ = quantize_gradients(g)
        reference = mask_update_fixed(raw, 2, 2, threshold_code, 1311, "pseudocode")
        assert np.array_equal(mask, reference.mask)
        assert threshold == reference.threshold / 2**15
        threshold_code = reference.threshold
    assert threshold_code < 16384  # the pseudocode direction lowered it


def test_bad_config():
    with pytest.raises(ValueError, match="variant must be one of 'zero', 'replicate', 'reflect', "
                                         "'dynamic-pseudocode', 'dynamic-prose', 'dynamic-density', "
                                         "not 'dynamic'"):
        TrainConfig(variant="dynamic")
    with pytest.raises(ValueError, match="epochs must be at least 1, not 0"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="random_included is for the static variants, not "
                                         "'dynamic-prose', which learns its mask"):
        TrainConfig(variant="dynamic-prose", random_included=3)
    with pytest.raises(ValueError, match="random_included must be at least 0, not -1"):
        TrainConfig(variant="zero", random_included=-1)
    with pytest.raises(ValueError, match=r"target must be a share within \[0, 1\], not 1.5"):
        TrainConfig(variant="dynamic-density", target=1.5)
    with pytest.raises(ValueError, match="random_draw must be at least 0, not -1"):
        TrainConfig(variant="reflect", random_included=2, random_draw=-1)
    with pytest.raises(TypeError, match="target must be a real number, not '0.5'"):
        TrainConfig(variant="dynamic-density", target="0.5")
    with pytest.raises(ValueError, match=r"freeze_epochs must be below epochs \(3\) for a variant "
                                         "that learns its mask, not 3"):
        TrainConfig(variant="dynamic-prose", epochs=3, freeze_epochs=3)
    with pytest.raises(ValueError, match=r"target must be a share within \[0, 1\] for direction "
                                         "'density', not None"):
        MaskLearner(padding=2, block=2, threshold=0.5, learning_rate=0.1, direction="density")


def test_frozen_mask_stops_updating_for_the_last_epochs(data):
    """freeze_epochs: mask updates only in the first epochs; the final mask is the last one."""
    runs = [train(TrainConfig(variant="dynamic-density", epochs=3, freeze_epochs=f,
                              mask_interval=1), data) for f in (0, 2)]
    assert len(runs[0].thresholds) == 1 + 3 * 8   # initial + one per step (8 steps per epoch)
    assert len(runs[1].thresholds) == 1 + 1 * 8
    assert np.array_equal(runs[1].mask, runs[1].masks[-1])
    # the first epoch is the same run until the freeze
    assert runs[0].thresholds[:9] == runs[1].thresholds


def test_density_variant_steers_the_share_of_included_blocks(data):
    """dynamic-density: the share of included padding blocks follows the target (each update
    sees one batch's scores, so it scatters around it); the golden fixed-point loop's codes."""
    shares = {}
    for target in (0.2, 0.8):
        r = train(TrainConfig(variant="dynamic-density", target=target, epochs=4,
                              mask_interval=1, threshold_lr=0.25), data)
        shares[target] = np.mean(r.included[len(r.included) // 2:])
        assert abs(shares[target] - target) < 0.15, (target, r.included)
    assert shares[0.2] < shares[0.8]


def test_random_draws_differ_and_repeat(data):
    masks = [train(TrainConfig(variant="reflect", epochs=1, random_included=9, random_draw=d),
                   data).mask for d in (0, 1, 1)]
    assert not np.array_equal(masks[0], masks[1]) and np.array_equal(masks[1], masks[2])


def test_train_command_prints_table_and_writes_plots(tmp_path, capsys):
    assert cli.main(["train", "--seeds", "1", "--epochs", "1", "--out", str(tmp_path),
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    for variant in ("zero", "replicate", "reflect", "dynamic-pseudocode", "dynamic-prose",
                    "dynamic-density"):
        assert f"\n{variant} " in out
    assert (tmp_path / "threshold_trajectory.png").stat().st_size > 1000
    assert (tmp_path / "learned_masks.png").stat().st_size > 1000


def test_bench_golden_json(capsys):
    assert cli.main(["bench", "golden", "--json", "--repeats", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["exact"] is True
    assert result["gmac_per_s"] > 0
    assert "torch_ratio" in result
