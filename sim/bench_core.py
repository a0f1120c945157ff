"""``padmask bench core``: throughput of the simulated convolution core.

For each frame size: back-to-back frames (K=3, pads 1, stride 1, reflect padding, random block
mask, Cin = Cout = 4, the default 4 lanes), input always valid, output always ready. Reports the
steady-state cycles per frame (between the last output beats of consecutive frames) against

    ideal_cycles = max(input beats, MAC slots / multipliers)

their ratio, the MAC-slot utilization (slots / (cycles x multipliers)), the MACs the mask skipped
per frame (performance counter), the Amaranth simulator's speed, and the operand toggles of
skipped taps (which must be 0). Every output is checked against the golden model, and the
cycle counts against the golden timing model. A last measurement compares the multiplier
operand toggles of one frame with wide non-zero padding (constant 77, pads 2) under an all-ones
and an all-zeros mask.
"""

import json
import time

import numpy as np
from amaranth.sim import Simulator

from .. import golden
from ..hdl.core import ConvCore
from ..hdl.params import KERNELS, CoreParams
from ..hdl.regmap import Ctrl, Reg

from . import regs
from .frames import (FrameConfig, expected_outputs, frame_mask, input_beats, mask_words,
                     output_tuple, param_words)
from .stream import Scoreboard, put
from .timing import ideal_cycles, schedule

__all__ = ["run", "main", "SIZES"]

SIZES = (8, 16, 32, 64)


def _simulate(params, cfg, xs, w, bias, full_mask, *, monitor_toggles=True):
    """Stream frames back to back with no stalls; return outputs, edges, counters, toggles."""
    dut = ConvCore(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    mac = dut.mac
    taps, act, wgt, lanes = params.taps, params.act_width, params.weight_width, params.lanes
    a_masks = [sum(((1 << act) - 1) << ((lane * taps + t) * act) for lane in range(lanes))
               for t in range(taps)]
    w_masks = [sum(((1 << wgt) - 1) << ((lane * taps + t) * wgt) for lane in range(lanes))
               for t in range(taps)]
    state = {"edge": 0, "start": None, "outputs": [], "out_edges": [], "toggles": 0,
             "skipped_toggles": 0, "counters": None}
    total_out = sum(len(expected_outputs(params, cfg, x, w, bias, full_mask)) for x in xs)

    async def host(ctx):
        await regs.configure(ctx, dut.bus, cfg)
        await put(ctx, dut.i_param, param_words(w, bias))
        await regs.load_mask(ctx, dut.bus, mask_words(params, full_mask))
        await regs.write(ctx, dut.bus, Reg.CTRL, Ctrl.CLEAR_COUNTERS)
        ctx.set(dut.o.ready, 1)
        state["start"] = state["edge"]
        for x in xs:
            for beat in input_beats(x):
                ctx.set(dut.i.payload, beat)
                ctx.set(dut.i.valid, 1)
                await ctx.tick().until(dut.i.ready)
        ctx.set(dut.i.valid, 0)
        while len(state["outputs"]) < total_out:
            await ctx.tick()
        await regs.wait_idle(ctx, dut.bus)
        state["counters"] = await regs.read_counters(ctx, dut.bus)

    async def monitor(ctx):
        previous = None
        samples = (dut.o.valid, dut.o.ready, dut.o.payload, mac.a_operand.as_value(),
                   mac.w_operand.as_value(), mac.operand_skip)
        while True:
            _, _, valid, ready, payload, a_op, w_op, skipped = await ctx.tick().sample(*samples)
            state["edge"] += 1
            if valid and ready:
                state["outputs"].append(output_tuple(payload, lanes))
                state["out_edges"].append(state["edge"])
            if monitor_toggles:
                # operands sampled before edge e, so (this sample ^ previous) is what edge
                # e - 1 changed, and the taps skipped on edge e - 1 are the previous flags
                if previous is not None:
                    a_prev, w_prev, skipped_prev = previous
                    a_diff, w_diff = a_prev ^ a_op, w_prev ^ w_op
                    state["toggles"] += bin(a_diff).count("1") + bin(w_diff).count("1")
                    for t in range(taps):
                        if skipped_prev >> t & 1:
                            state["skipped_toggles"] += (bin(a_diff & a_masks[t]).count("1") +
                                                         bin(w_diff & w_masks[t]).count("1"))
                previous = (a_op, w_op, skipped)

    sim.add_testbench(host)
    sim.add_testbench(monitor, background=True)
    started = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - started
    state["out_edges"] = [e - state["start"] for e in state["out_edges"]]
    state["seconds"] = seconds
    return state


def _frame_data(rng, params, cfg, count):
    xs = [rng.integers(-128, 128, (cfg.cin, cfg.height, cfg.width)) for _ in range(count)]
    k = params.kernel
    w = rng.integers(-128, 128, (cfg.cout, cfg.cin, k, k))
    bias = rng.integers(-2000, 2000, cfg.cout)
    return xs, w, bias


def _steady_state(params, cfg, *, frames=3, seed=0, monitor_toggles=True):
    """Back-to-back frames of ``cfg`` with a random mask, checked against the golden model
    and the timing model; cycles between the last output beats of the last two frames."""
    rng = np.random.default_rng(seed)
    grid = golden.block_grid_shape(cfg.height, cfg.width, cfg.padding, params.block)
    full = frame_mask(params, cfg, rng.integers(0, 2, grid).astype(bool))
    xs, w, bias = _frame_data(rng, params, cfg, frames)
    state = _simulate(params, cfg, xs, w, bias, full, monitor_toggles=monitor_toggles)
    expected = [b for x in xs for b in expected_outputs(params, cfg, x, w, bias, full)]
    Scoreboard(expected).check(state["outputs"])
    per_frame = len(expected) // frames
    last = [state["out_edges"][(i + 1) * per_frame - 1] for i in range(frames)]
    model = schedule(params, [cfg] * frames)
    model_last = [model.output_edges[(i + 1) * per_frame - 1] for i in range(frames)]
    state["cycles"] = last[-1] - last[-2]
    state["model_agrees"] = np.diff(model_last).tolist() == np.diff(last).tolist()
    return state


def measure(size, *, frames=3, seed=0, params=None):
    params = params or CoreParams()
    cfg = FrameConfig(size, size, cin=4, cout=4, padding=(1, 1, 1, 1), mode="reflect", shift=8)
    state = _steady_state(params, cfg, frames=frames, seed=seed)
    cycles = state["cycles"]
    ideal = ideal_cycles(params, cfg)
    ho, wo = cfg.output_size(params.kernel)
    slots = ho * wo * params.taps * cfg.cin * cfg.cout
    counts = state["counters"]
    return {
        "bench": "core",
        "frame": f"{size}x{size}",
        "cycles_per_frame": cycles,
        "ideal_cycles": ideal,
        "ratio": cycles / ideal,
        "utilization": slots / (cycles * params.lanes * params.taps),
        "macs_skipped": counts["macs_skipped_mask"] // frames,
        "macs_performed": counts["macs_performed"] // frames,
        "mac_slots": slots,
        "sim_cycles_per_s": state["edge"] / state["seconds"],
        "skipped_tap_operand_toggles": state["skipped_toggles"],
        "exact": True,
        "model_agrees": state["model_agrees"],
        "frames": frames,
    }


#: the sweep's frame: small enough for the simulator, long enough that a frame's one extra
#: cycle stays below 1 % of the smallest configuration (128 input beats)
SWEEP_FRAME = (8, 16)


def sweep_points(kernels=KERNELS):
    """(kernel, pads, cin, cout) of the sweep: pads 0, 1 and K-1 on every side; channel pairs
    (1, P), (4, P), (4, 2P) and the elaboration's maxima, for the default elaboration of each K."""
    for k in kernels:
        p = CoreParams(kernel=k)
        for pad in sorted({0, 1, k - 1} & set(range(k))):
            for cin, cout in ((1, p.lanes), (4, p.lanes), (4, 2 * p.lanes),
                              (p.max_cin, p.max_cout)):
                yield k, pad, cin, cout


def measure_point(point, *, frames=3, seed=0):
    """One sweep configuration: steady-state cycles per frame against
    ``bound = max(input beats, windows) + 1`` and ``ideal = max(input beats, MAC slots /
    multipliers)``."""
    k, pad, cin, cout = point
    params = CoreParams(kernel=k)
    height, width = SWEEP_FRAME
    cfg = FrameConfig(height, width, cin=cin, cout=cout, padding=(pad,) * 4, mode="reflect",
                      shift=8)
    started = time.perf_counter()
    state = _steady_state(params, cfg, frames=frames, seed=seed, monitor_toggles=False)
    ho, wo = cfg.output_size(k)
    windows = ho * wo * -(-cout // params.lanes) * cin
    ideal = ideal_cycles(params, cfg)
    return {
        "kernel": k, "pads": pad, "cin": cin, "cout": cout, "frame": f"{height}x{width}",
        "input_beats": cfg.input_count(), "windows": windows,
        "cycles_per_frame": state["cycles"],
        "bound": max(cfg.input_count(), windows) + 1,
        "ideal": ideal,
        "ratio": state["cycles"] / ideal,
        "exact": True,
        "model_agrees": state["model_agrees"],
        "seconds": time.perf_counter() - started,
    }


def sweep(*, workers=2, frames=3, kernels=KERNELS, progress=None):
    """Every sweep point, in order, measured in ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    points = list(sweep_points(kernels))
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(measure_point, point, frames=frames) for point in points]
        for future in futures:
            result = future.result()
            if progress is not None:
                progress(result)
            yield result


def measure_toggles(*, seed=1, params=None):
    """Operand toggles of one 16x16 frame with wide constant padding, mask all 1 vs all 0."""
    params = params or CoreParams()
    rng = np.random.default_rng(seed)
    cfg = FrameConfig(16, 16, cin=4, cout=4, padding=(2, 2, 2, 2), mode="constant",
                      pad_value=77, shift=8)
    xs, w, bias = _frame_data(rng, params, cfg, 1)
    result = {"bench": "core-toggles", "frame": "16x16 constant 77, pads 2"}
    grid = golden.block_grid_shape(16, 16, cfg.padding, params.block)
    for name, bit in (("ones", True), ("zeros", False)):
        full = frame_mask(params, cfg, np.full(grid, bit))
        state = _simulate(params, cfg, xs, w, bias, full)
        Scoreboard(expected_outputs(params, cfg, xs[0], w, bias, full)).check(state["outputs"])
        result[f"operand_toggles_mask_{name}"] = state["toggles"]
        result[f"skipped_tap_operand_toggles_mask_{name}"] = state["skipped_toggles"]
        result[f"macs_skipped_mask_{name}"] = state["counters"]["macs_skipped_mask"]
    return result


def run(sizes=SIZES, frames=3):
    return [measure(size, frames=frames) for size in sizes] + [measure_toggles()]


def main_sweep(args):
    """``padmask bench core --sweep``: one line (or JSON object) per configuration, then the
    worst ratio."""
    kernels = tuple(int(k) for k in args.kernels.split(",")) if args.kernels else KERNELS
    if not args.json:
        h, w = SWEEP_FRAME
        print(f"padmask core, back-to-back {h}x{w} frames (reflect, random mask, no stalls), "
              f"default elaboration of each K (4 lanes, 16/16 channels); "
              f"bound = max(input beats, windows) + 1")
        print(f"{'K':>2} {'pads':>4} {'cin':>4} {'cout':>4} {'input':>6} {'windows':>8} "
              f"{'cycles/frame':>13} {'bound':>6} {'ideal':>6} {'ratio':>7}")
    results = []
    for r in sweep(workers=args.workers, frames=args.frames, kernels=kernels):
        results.append(r)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"{r['kernel']:>2} {r['pads']:>4} {r['cin']:>4} {r['cout']:>4} "
                  f"{r['input_beats']:>6} {r['windows']:>8} {r['cycles_per_frame']:>13} "
                  f"{r['bound']:>6} {r['ideal']:>6} {r['ratio']:>7.4f}", flush=True)
    worst = max(r["ratio"] for r in results)
    at_bound = all(r["cycles_per_frame"] == r["bound"] for r in results)
    agrees = all(r["model_agrees"] for r in results)
    summary = {"worst_ratio": worst, "configurations": len(results),
               "all_at_bound": at_bound, "model_agrees": agrees, "exact": True}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"worst ratio {worst:.4f} over {len(results)} configurations; every one at its "
              f"bound: {'yes' if at_bound else 'NO'}; cycles equal the timing model: "
              f"{'yes' if agrees else 'NO'}; outputs exact against the golden model")
    return 0 if at_bound and agrees else 1


def main(args):
    if args.sweep:
        return main_sweep(args)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else SIZES
    results = []
    if not args.json:
        print("padmask core, K=3, lanes 4 (36 multipliers), pads 1 reflect, Cin = Cout = 4, "
              "random block mask (block 4), back-to-back frames, no stalls")
        print(f"{'frame':>7} {'cycles/frame':>13} {'ideal':>7} {'ratio':>7} "
              f"{'utilization':>11} {'MACs skipped':>13} {'sim cycles/s':>13} "
              f"{'skipped-tap toggles':>20}")
    ok = True
    for size in sizes:
        r = measure(size, frames=args.frames)
        results.append(r)
        ok &= r["model_agrees"] and r["skipped_tap_operand_toggles"] == 0
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"{r['frame']:>7} {r['cycles_per_frame']:>13} {r['ideal_cycles']:>7} "
                  f"{r['ratio']:>7.4f} {r['utilization']:>11.4f} {r['macs_skipped']:>13} "
                  f"{r['sim_cycles_per_s']:>13.0f} {r['skipped_tap_operand_toggles']:>20}",
                  flush=True)
    t = measure_toggles()
    ok &= t["skipped_tap_operand_toggles_mask_zeros"] == 0
    if args.json:
        print(json.dumps(t))
    else:
        print(f"outputs exact against the golden model; cycles equal the timing model: "
              f"{'yes' if all(r['model_agrees'] for r in results) else 'NO'}")
        print(f"FINN-style separate padding stage on 64x64, pads 1: (66*66)/(64*64) = "
              f"{66 * 66 / (64 * 64):.3f}")
        print(f"operand toggles, {t['frame']}: mask all ones {t['operand_toggles_mask_ones']}, "
              f"all zeros {t['operand_toggles_mask_zeros']} "
              f"(MACs skipped {t['macs_skipped_mask_zeros']}); toggles on skipped taps: "
              f"{t['skipped_tap_operand_toggles_mask_zeros']}")
    return 0 if ok else 1
