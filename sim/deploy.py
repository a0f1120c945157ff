"""The main job's second half: a trained layer deployed to the generated Verilog.

:func:`deploy` takes a trained digits network (:class:`golden.train.TrainResult`), quantizes its
masked convolution for the core (:mod:`golden.deploy`), exports the layer (the core's
configuration, the learned mask, the register program, ``$readmemh`` images of the parameter
stream, the mask words, the inputs and the expected outputs), writes the Verilog of a core
sized for it, and runs every held-out image through that Verilog on Verilator, frame after
frame, against the golden model: outputs beat by beat, the error flags and the performance
counters. The deployed network's accuracy is the rest of the trained network (ReLU, pooling,
dense, in float) on the int8 outputs.
"""

import json
import shutil
import statistics
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from .. import golden
from ..golden.deploy import quantize_layer
from ..hdl.param_loader import param_layout
from ..hdl.params import CoreParams
from ..hdl.regmap import MASK_SHADOW, Ctrl, Reg
from ..hdl.window_layout import output_layout
from . import verilator
from .frames import (FrameConfig, expected_counters, expected_outputs, frame_mask, input_beats,
                     mask_words, param_words)
from .harness import FrameSpec
from .timing import ideal_cycles, schedule
from .vectors import config_writes, pack, write_vectors

__all__ = ["layer_params", "deploy"]

#: output channels computed in parallel by the deployed core
LANES = 4


def layer_params(config, height, width):
    """The smallest core for the digits layer of ``config`` (golden.train.TrainConfig):
    inference only (the host writes the learned mask), ``LANES`` lanes."""
    return CoreParams(kernel=config.kernel, lanes=min(LANES, config.channels),
                      max_height=height, max_width=width, max_cin=1,
                      max_cout=config.channels, block=config.block, learning=False)


def _hex_lines(values, width):
    digits = -(-width // 4)
    mask = (1 << width) - 1
    return "".join(f"{int(v) & mask:0{digits}x}\n" for v in values)


def _export(out, params, cfg, layer, full_mask, result):
    """The layer's files; returns their names."""
    core = {f.name: getattr(params, f.name) for f in fields(params)}
    (out / "core.json").write_text(json.dumps(core, indent=2) + "\n")
    registers = list(config_writes(cfg))
    registers += [(MASK_SHADOW + j, word) for j, word in enumerate(mask_words(params, full_mask))]
    registers.append((int(Reg.CTRL), int(Ctrl.APPLY_CONFIG | Ctrl.COMMIT_MASK)))
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    c = result.config
    info = {
        "network": f"digits CNN, variant {c.variant}, seed {c.seed}",
        "frame": asdict(cfg),
        "activation_exponent": layer.fx, "weight_exponent": layer.fw, "shift": layer.shift,
        "output_exponent": layer.fx + layer.fw - layer.shift,
        "mask": full_mask[:grid[0], :grid[1]].astype(int).tolist(),
        "registers": [[f"{a:#05x}", f"{v:#010x}"] for a, v in registers],
        "host": "write the registers in order (word addresses, docs/registers.md), stream "
                "params.memh into i_param (last on the final word), then each frame of "
                "inputs.memh into i (last on each frame's final beat); o must match outputs.memh",
    }
    (out / "layer.json").write_text(json.dumps(info, indent=2) + "\n")
    p_layout = param_layout()
    beats = param_words(layer.w, layer.bias)
    (out / "params.memh").write_text(_hex_lines(
        [b["data"] for b in beats], p_layout["data"].shape.width))
    (out / "mask.memh").write_text(_hex_lines(mask_words(params, full_mask), 32))
    return ["core.json", "layer.json", "params.memh", "mask.memh"]


def deploy(result, data, out="build/layer", *, progress=None):
    """Deploy ``result``'s conv layer and run the held-out images through its Verilog; the
    summary dict."""
    say = progress or (lambda text: None)
    x_train, _, x_test, y_test = data
    conv = result.layers[0]
    height, width = x_test.shape[-2:]
    # (zero padding: every padding block masked out, which gives the same outputs, so the
    # core skips every padding multiplication and its counters report them; golden.work)
    mask = golden.skipping_mask(height, width, conv.padding, conv.block, result.mask,
                                mode=conv.mode)
    layer = quantize_layer(conv.w, conv.b, x_train, padding=conv.padding, mode=conv.mode,
                           block=conv.block, mask=mask)
    params = layer_params(result.config, height, width)
    cfg = FrameConfig(height, width, cin=1, cout=result.config.channels, padding=conv.padding,
                      mode=conv.mode, shift=layer.shift)
    full = frame_mask(params, cfg, mask)
    x_q = layer.quantize_input(x_test)
    frames = [FrameSpec(cfg, x, full) for x in x_q]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = _export(out, params, cfg, layer, full, result)
    # vectors: the inputs and the expected outputs as the ports carry them
    out_layout = output_layout(params)
    (out / "inputs.memh").write_text(_hex_lines(
        [b["data"] for f in frames for b in input_beats(f.x)], 8))
    expected = [pack(out_layout, {"data": list(lanes), "end": end}) for f in frames
                for lanes, end in expected_outputs(params, cfg, f.x, layer.w, layer.bias, full)]
    (out / "outputs.memh").write_text(_hex_lines(expected, out_layout.as_shape().width))
    files += ["inputs.memh", "outputs.memh"]

    say("Verilog of the layer's core and its Verilator model")
    # (a few ten thousand cycles: an unoptimized model, quicker to build than to speed up)
    exe = verilator.build(params, out / "verilator", progress=say, optimize=False)
    shutil.copy(exe.parent.parent / "padmask_core.v", out / "padmask_core.v")
    files.append("padmask_core.v")
    counters = expected_counters(params, frames)
    vectors = out / "verilator" / "vectors.txt"
    write_vectors(vectors, params, frames, w=layer.w, bias=layer.bias, back_to_back=True,
                  expected_counters=counters)
    say(f"{len(frames)} frames through the Verilog on Verilator")
    run = verilator.replay(exe, vectors)
    exact = (run["mismatches"] == run["extra"] == run["missing"] == run["read_mismatches"] == 0
             and not run["hang"] and run["inputs_taken"] == run["inputs"])

    y = layer.forward(x_q, mask)          # = the Verilog's outputs when exact
    deployed = float(np.mean(result.classify(layer.dequantize(y)) == y_test))
    ends = run["frame_ends"]
    per_frame = statistics.median(np.diff(ends)) if len(ends) > 1 else None
    model = schedule(params, [cfg] * 3).output_edges
    beats = len(expected) // len(frames)
    model_per_frame = model[3 * beats - 1] - model[2 * beats - 1]
    ho, wo = cfg.output_size(params.kernel)
    slots = len(frames) * ho * wo * params.taps * cfg.cin * cfg.cout
    return {
        "variant": result.config.variant, "seed": result.config.seed,
        "layer": f"conv 1->{cfg.cout}, {params.kernel}x{params.kernel}, {cfg.mode} padding "
                 f"{cfg.padding[0]}, block {params.block}x{params.block}",
        "core": f"K={params.kernel}, {params.lanes} lanes, {height}x{width}, "
                f"{params.max_cin}/{params.max_cout} channels, no learning units",
        "blocks_included": float(mask[result.pad_blocks].mean()),
        "exponents": (layer.fx, layer.fw, layer.shift),
        "accuracy_float": result.test_accuracy, "accuracy_deployed": deployed,
        "frames": len(frames), "output_beats": run["outputs"], "cycles": run["cycles"],
        "exact": exact, "report": run["report"],
        "macs_performed": counters["macs_performed"],
        "macs_skipped_mask": counters["macs_skipped_mask"], "mac_slots": slots,
        "cycles_per_frame": per_frame, "model_cycles_per_frame": model_per_frame,
        "ideal_cycles_per_frame": ideal_cycles(params, cfg),
        "verilator_cycles_per_s": run["cycles_per_s"],
        "params": params, "directory": str(out), "files": files,
    }
