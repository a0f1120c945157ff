"""The ``padmask`` command.

``padmask demo``         the main job: ``train``, then one frame through the simulated core
                         against the golden model, and the core's Verilog in build/
``padmask train``        train the digits CNN with every padding variant and compare them
``padmask verilog``      write the core's Verilog for a chosen configuration
``padmask bench golden`` throughput of the golden masked convolution (and ratio to PyTorch)
``padmask bench core``   cycles per frame of the simulated core against the ideal
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _train(args):
    from golden import work_counts
    from golden.plots import plot_masks, plot_thresholds
    from golden.train import VARIANTS, TrainConfig, load_digits, steps_per_run, train

    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    data = load_digits()
    configs = [TrainConfig(variant=v, seed=s, epochs=args.epochs, numerics=args.numerics,
                           threshold_lr=args.threshold_lr, block=args.block)
               for v in VARIANTS for s in range(args.seeds)]
    total = sum(steps_per_run(c, len(data[1])) for c in configs)
    bar = tqdm(total=total, unit="step", desc="training", disable=args.quiet or tqdm is None,
               file=sys.stderr)
    start = time.perf_counter()
    results = []
    for config in configs:
        bar.set_postfix_str(f"{config.variant} seed {config.seed}")
        results.append(train(config, data, progress=bar.update))
    bar.close()
    elapsed = time.perf_counter() - start

    c0 = configs[0]
    print(f"\nDigits CNN: masked conv 1->{c0.channels}, {c0.kernel}x{c0.kernel}, padding "
          f"{c0.padding}, block {c0.block}x{c0.block}; {c0.epochs} epochs, {args.seeds} seeds; "
          f"{len(data[1])} train / {len(data[3])} held-out images; mask numerics: {c0.numerics}")
    header = (f"{'variant':<20} {'padding':<10} {'held-out accuracy':>20} "
              f"{'final threshold':>17} {'blocks included':>16} {'MACs skipped':>13}")
    print(header)
    print("-" * len(header))
    for variant in VARIANTS:
        runs = [r for r in results if r.config.variant == variant]
        acc = np.array([r.test_accuracy for r in runs]) * 100
        mode = runs[0].config.mode
        skipped = []
        for r in runs:  # share of conv MAC slots the final mask skips (hardware counters)
            c = r.config
            counts = work_counts(8, 8, cin=1, cout=c.channels, kernel=c.kernel,
                                 padding=c.padding, mask=r.mask, block=c.block)
            skipped.append(100 * counts.macs_padding_skipped / counts.mac_slots)
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
    if not args.no_plots:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        plot_thresholds(results, out / "threshold_trajectory.png")
        plot_masks(results, out / "learned_masks.png")
        print(f"plots: {out / 'threshold_trajectory.png'}, {out / 'learned_masks.png'}")
    return 0


def _simulate(args):
    from hdl.params import CoreParams
    from sim.core_demo import simulate_frame, write_verilog

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
    status = _train(args)
    return status or _simulate(args)


def _verilog(args):
    from hdl.params import CoreParams
    from sim.core_demo import write_verilog

    params = CoreParams(kernel=args.kernel, lanes=args.lanes, max_height=args.max_height,
                        max_width=args.max_width, max_cin=args.max_cin, max_cout=args.max_cout,
                        block=args.block)
    print(write_verilog(args.output, params, name=args.name))
    return 0


def _bench(args):
    if args.target == "golden":
        from sim.bench_golden import main
    else:
        from sim.bench_core import main
    return main(args)


def _training_options(parser):
    parser.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    parser.add_argument("--block", type=int, default=2, help="mask block edge (default 2)")
    parser.add_argument("--threshold-lr", type=float, default=0.02,
                        help="threshold learning rate (default 0.02)")
    parser.add_argument("--numerics", choices=("fixed", "float"), default="fixed",
                        help="mask learning in the hardware's fixed point (default) or float")
    parser.add_argument("--out", default="build",
                        help="directory of plots and Verilog (default build)")
    parser.add_argument("--no-plots", action="store_true", help="do not write plots")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser():
    parser = argparse.ArgumentParser(prog="padmask", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the main job: training comparison, one frame through "
                                       "the simulated core, Verilog to build/")
    _training_options(demo)
    demo.set_defaults(run=_demo)

    train = sub.add_parser("train", help="compare padding variants on the digits CNN")
    _training_options(train)
    train.set_defaults(run=_train)

    verilog = sub.add_parser("verilog", help="write the core's Verilog")
    verilog.add_argument("--output", default="build/padmask_core.v")
    verilog.add_argument("--name", default="padmask_core", help="top module name")
    for name, default in (("kernel", 3), ("lanes", 4), ("max-height", 64), ("max-width", 64),
                          ("max-cin", 16), ("max-cout", 16), ("block", 4)):
        verilog.add_argument(f"--{name}", type=int, default=default, help=f"(default {default})")
    verilog.set_defaults(run=_verilog)

    bench = sub.add_parser("bench", help="benchmarks")
    bench.add_argument("target", choices=("golden", "core"), help="what to measure")
    bench.add_argument("--json", action="store_true", help="one JSON object per line")
    bench.add_argument("--repeats", type=int, default=30,
                       help="golden: timed repeats (median reported)")
    bench.add_argument("--sizes", default="", help="core: frame sizes, e.g. 8,16 (default "
                       "8,16,32,64)")
    bench.add_argument("--frames", type=int, default=3,
                       help="core: back-to-back frames per size (default 3)")
    bench.set_defaults(run=_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "seeds", 1) < 1:
        build_parser().error(f"--seeds must be at least 1, not {args.seeds}")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
