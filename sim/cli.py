"""The ``padmask`` command.

``padmask train``        train the digits CNN with every padding variant and compare them
``padmask bench golden`` throughput of the golden masked convolution (and ratio to PyTorch)
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


def _bench(args):
    if args.target == "golden":
        from sim.bench_golden import main
        return main(args)
    raise AssertionError(args.target)


def build_parser():
    parser = argparse.ArgumentParser(prog="padmask", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="compare padding variants on the digits CNN")
    train.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    train.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    train.add_argument("--block", type=int, default=2, help="mask block edge (default 2)")
    train.add_argument("--threshold-lr", type=float, default=0.02,
                       help="threshold learning rate (default 0.02)")
    train.add_argument("--numerics", choices=("fixed", "float"), default="fixed",
                       help="mask learning in the hardware's fixed point (default) or float")
    train.add_argument("--out", default="build", help="directory of the PNG plots (default build)")
    train.add_argument("--no-plots", action="store_true", help="do not write plots")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    bench = sub.add_parser("bench", help="benchmarks")
    bench.add_argument("target", choices=("golden",), help="what to measure")
    bench.add_argument("--json", action="store_true", help="one JSON object per line")
    bench.add_argument("--repeats", type=int, default=30, help="timed repeats (median reported)")
    bench.set_defaults(run=_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "seeds", 1) < 1:
        build_parser().error(f"--seeds must be at least 1, not {args.seeds}")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
