"""A trained layer deployed to the core: the power-of-two quantization (golden/deploy.py) and the
main job's deployment to the generated Verilog on Verilator (sim/deploy.py)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from padmask import golden
from padmask.golden import fixed
from padmask.golden.deploy import quantize_layer, scale_exponent
from padmask.golden.train import TrainConfig, load_digits, train
from padmask.hdl.params import CoreParams
from padmask.sim.deploy import deploy
from padmask.sim.frames import mask_words


@given(st.floats(1e-3, 1e4), st.sampled_from([fixed.ACTIVATION, fixed.WEIGHT, fixed.BIAS]))
@settings(max_examples=200, deadline=None)
def test_the_scale_is_the_largest_that_fits(peak, shape):
    f = scale_exponent(np.array([0.0, -peak, peak / 3]), shape)
    assert np.floor(peak * 2.0 ** f + 0.5) <= shape.max_raw
    assert np.floor(peak * 2.0 ** (f + 1) + 0.5) > shape.max_raw


def test_values_beyond_every_scale_are_an_error():
    with pytest.raises(ValueError, match="do not fit"):
        scale_exponent(np.array([1e12]), fixed.ACTIVATION)


def test_quantized_layer_is_the_float_layer_within_its_steps():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (20, 2, 6, 6))
    w = rng.normal(0, 0.3, (3, 2, 3, 3))
    b = rng.normal(0, 0.5, 3)
    mask = rng.integers(0, 2, golden.block_grid_shape(6, 6, 1, 2)).astype(bool)
    layer = quantize_layer(w, b, x, padding=1, mode="reflect", block=2, mask=mask)
    x_q = layer.quantize_input(x)
    assert np.abs(x_q).max() <= 127 and np.abs(layer.w).max() <= 127
    assert np.abs(x_q).max() > 63 and np.abs(layer.w).max() > 63   # the scales are used
    acc = layer.accumulate(x_q, mask)
    y = layer.forward(x_q, mask)
    assert y.max() <= 127 and acc.max() > 0
    # the smallest shift: one less would saturate the largest accumulator
    assert fixed.round_shift(np.int64(acc.max()), layer.shift - 1) > 127
    reference = golden.masked_conv2d(x, w, bias=b, padding=1, mode="reflect", mask=mask, block=2)
    step = 2.0 ** (layer.shift - layer.fx - layer.fw)
    error = np.abs(layer.dequantize(y) - reference)[reference > -step * 128]
    # output rounding (half a step) plus input and weight rounding through 18 products
    bound = step / 2 + 18 * (2.0 ** -layer.fx * np.abs(w).max() + 2.0 ** -layer.fw * 4) + \
        2.0 ** -(layer.fx + layer.fw)
    assert error.max() <= bound


@pytest.fixture(scope="module")
def trained():
    x_train, y_train, x_test, y_test = load_digits()
    data = (x_train[:256], y_train[:256], x_test[:24], y_test[:24])
    return train(TrainConfig(variant="dynamic-prose", epochs=2, mask_interval=2), data), data


def test_the_deployed_layer_runs_bit_exact_on_verilator(trained, tmp_path):
    result, data = trained
    r = deploy(result, data, tmp_path / "layer")
    assert r["exact"] and r["report"] == []
    assert r["frames"] == 24
    assert r["output_beats"] == 24 * 8 * 8 * 2          # 8 channels in 2 groups of 4 lanes
    assert r["macs_skipped_mask"] > 0                  # the learned mask leaves blocks out
    assert r["macs_performed"] + r["macs_skipped_mask"] == r["mac_slots"]
    # back to back, the Verilog keeps the golden timing model's pace
    assert r["cycles_per_frame"] == r["model_cycles_per_frame"]
    assert r["ideal_cycles_per_frame"] <= r["cycles_per_frame"]
    labels = result.classify(outputs_from_files(tmp_path / "layer", r["output_beats"]))
    assert r["accuracy_deployed"] == np.mean(labels == data[3])


def test_zero_padding_deploys_with_every_padding_tap_skipped(tmp_path):
    """Fair accounting: a zero-padding layer runs on the core with every padding block masked
    out (the same outputs), so the core's mask counter reports every padding MAC as skipped:
    the training table's "MACs skipped" (golden.work_counts(...).macs_skippable)."""
    x_train, y_train, x_test, y_test = load_digits()
    data = (x_train[:128], y_train[:128], x_test[:8], y_test[:8])
    result = train(TrainConfig(variant="zero", epochs=1), data)
    r = deploy(result, data, tmp_path / "layer")
    assert r["exact"] and r["report"] == []
    c = result.config
    counts = golden.work_counts(8, 8, cin=1, cout=c.channels, kernel=c.kernel,
                                padding=c.padding, mask=result.mask, block=c.block,
                                mode=c.mode, frames=8)
    assert counts.macs_padding_skipped == 0 < counts.macs_skippable
    assert r["macs_skipped_mask"] == counts.macs_skippable


def _hex(path, width):
    """A $readmemh image's values, as two's complement of ``width`` bits."""
    values = [int(v, 16) for v in path.read_text().split()]
    return [v - (1 << width) if v >> (width - 1) else v for v in values]


def outputs_from_files(directory, beats):
    """The deployed layer's outputs (dequantized), recomputed from the exported files alone."""
    info = json.loads((directory / "layer.json").read_text())
    params = CoreParams(**json.loads((directory / "core.json").read_text()))
    cout, k = params.max_cout, params.kernel
    values = _hex(directory / "params.memh", 16)
    assert len(values) == cout * k * k + cout
    w = np.array(values[:cout * k * k]).reshape(cout, 1, k, k)
    bias = np.array(values[cout * k * k:])
    x_q = np.array(_hex(directory / "inputs.memh", 8)).reshape(-1, 1, 8, 8)
    frame, mask = info["frame"], np.array(info["mask"], dtype=bool)
    full = np.ones(params.grid_shape, dtype=bool)
    full[:mask.shape[0], :mask.shape[1]] = mask
    assert [int(v, 16) for v in (directory / "mask.memh").read_text().split()] == \
        mask_words(params, full)
    assert len((directory / "outputs.memh").read_text().split()) == beats
    acc = golden.masked_conv2d(x_q, w, bias=bias, padding=tuple(frame["padding"]),
                               mode=frame["mode"], mask=mask, block=params.block)
    return golden.requantize(acc, info["shift"]) * 2.0 ** -info["output_exponent"]
