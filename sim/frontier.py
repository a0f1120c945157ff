"""Accuracy against MACs skipped: learned masks, random masks of the same density, static masks.

For each workload (:data:`golden.workloads.WORKLOADS`) and seed:

* **static**: every padding block included in the dynamic variants' padding mode (``target``
  1.0, nothing skipped but what the mode makes zero), and none included, which is zero padding
  (``target`` 0.0, every padding tap skipped);
* **learned**: a dynamic run steered to each target share of included blocks (the density rule,
  ``rule`` ``density``), and the seed's two rules (``pseudocode``, ``prose``; ``target`` None).
  Its mask is learned in the first three quarters of the epochs and fixed in the last quarter
  (``TrainConfig.freeze_epochs``, a quarter rounded down: none in runs under 4 epochs), so the
  network settles on the mask it is tested with, as the static runs' networks do;
* **random**: for every learned run, static runs with a random mask that includes exactly as many
  padding blocks as the learned run's final mask (``draws`` masks per seed, default 2; their
  scores are averaged per seed first). Same network initialization and batches as the learned
  run.

A point's ``included`` is the share of padding blocks the core computes with its final mask
(:func:`golden.skipping_mask`: none for zero padding), ``blocks_included`` that count per seed,
and ``macs_skipped`` the share (percent) of the conv's MAC slots whose contribution is known to
be zero (:attr:`golden.WorkCounts.macs_skippable`): what the core's counters report when that
layer runs. ``accuracy_mean`` is the held-out score in the workload's
``metric``: accuracy in percent, or for denoising the PSNR in dB (``psnr_db``); ``accuracy_std`` is
its standard deviation over seeds (population form, as ``padmask train``'s table). For random
points ``accuracies`` holds the per-seed means over the draws, and ``accuracy_std`` is the
spread of every random run (seeds and draws): the spread of one random mask's result, as the
learned point's is of one learned run's.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from ..golden import skipping_mask, work_counts
from ..golden.train import VARIANTS, TrainConfig, train
from ..golden.workloads import WORKLOADS, load_workload

__all__ = ["DEFAULT_TARGETS", "RULES", "plan", "run_frontier", "format_table", "plot_frontier"]

DEFAULT_TARGETS = (0.25, 0.5, 0.75)
#: the seed's rules, swept as they are (no target)
RULES = ("pseudocode", "prose")

_DATA = {}


def _data(name):
    if name not in _DATA:
        _DATA[name] = load_workload(name)[1]
    return _DATA[name]


def _run(job):
    """One training run in a worker: (job, accuracy %, included blocks, MACs skipped %)."""
    workload, config = job
    x_train, _, _, _ = data = _data(workload)
    result = train(config, data)
    size = x_train.shape[-1]
    counts = work_counts(size, size, cin=1, cout=config.channels, kernel=config.kernel,
                         padding=config.padding, mask=result.mask, block=config.block,
                         mode=config.mode)
    # blocks included in the mask the core runs with: none where the padding is zero anyway
    skipping = skipping_mask(size, size, config.padding, config.block, result.mask,
                             mode=config.mode)
    included = int(skipping[result.pad_blocks].sum())
    return (job, result.score, included, int(result.pad_blocks.sum()),
            100 * counts.macs_skippable / counts.mac_slots)


def _config(workload, seed, epochs, **fields):
    schedule = dict(WORKLOADS[workload].schedule)
    if epochs is not None:
        schedule["epochs"] = epochs
    config = TrainConfig(seed=seed, **schedule, **fields)
    if config.direction is not None:
        config = replace(config, freeze_epochs=config.epochs // 4)
    return config


def plan(workloads, seeds, targets, epochs=None):
    """The first round of runs: (workload, TrainConfig) of every static and learned run."""
    mode = TrainConfig().dynamic_mode
    static = next(v for v, (m, d) in VARIANTS.items() if m == mode and d is None)
    jobs = []
    for workload in workloads:
        for seed in range(seeds):
            jobs.append((workload, _config(workload, seed, epochs, variant=static)))
            jobs.append((workload, _config(workload, seed, epochs, variant="zero")))
            for target in targets:
                jobs.append((workload, _config(workload, seed, epochs,
                                               variant="dynamic-density", target=target)))
            for rule in RULES:
                jobs.append((workload, _config(workload, seed, epochs,
                                               variant=f"dynamic-{rule}")))
    return jobs


def _key(workload, config):
    """The point a run belongs to: (workload, variant, rule, target)."""
    if config.direction is not None:
        rule = config.direction
        return workload, "learned", rule, config.target if rule == "density" else None
    return workload, "static", None, 0.0 if config.variant == "zero" else 1.0


@contextmanager
def _workers(count):
    """Worker processes with one BLAS thread each: the runs' matrices are small and the workers
    are the parallelism (a BLAS pool per worker would put more threads than cores to work).
    Spawned (not forked), so each worker's BLAS starts with that setting."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: "1" for name in names})
    try:
        with ProcessPoolExecutor(max_workers=max(1, count),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_frontier(workloads=tuple(WORKLOADS), *, seeds=5, targets=DEFAULT_TARGETS, draws=2,
                 epochs=None, workers=2, progress=None):
    """Every run of the frontier; returns the points (dicts, see the module docstring).

    ``progress(n)`` is called as runs finish; the total is :func:`run_count`.
    """
    first = plan(workloads, seeds, targets, epochs)
    runs = {}
    twins = []   # (learned key, seed, [random jobs])
    second = []
    with _workers(workers) as pool:
        for (workload, config), accuracy, included, blocks, skipped in pool.map(_run, first):
            key = _key(workload, config)
            runs[(key, config.seed)] = (accuracy, included, blocks, skipped)
            if config.direction is not None:   # learned: its random twins, same seed and count
                static = replace(config, variant=config.dynamic_mode, random_included=included)
                jobs = [(workload, replace(static, random_draw=d)) for d in range(draws)]
                twins.append((key, config.seed, jobs))
                second += jobs
            if progress is not None:
                progress(1)
        outcomes = {}
        for job, accuracy, included, blocks, skipped in pool.map(_run, second):
            outcomes[(job[0], job[1])] = (accuracy, included, blocks, skipped)
            if progress is not None:
                progress(1)
    every_draw = {}   # random point -> the score of each of its runs
    for key, seed, jobs in twins:
        got = [outcomes[(w, c)] for w, c in jobs]
        every_draw.setdefault(("random",) + key, []).extend(g[0] for g in got)
        # per seed: the mean over draws (same included count; MACs differ by the blocks' taps)
        runs[(("random",) + key, seed)] = (float(np.mean([g[0] for g in got])), got[0][1],
                                           got[0][2], float(np.mean([g[3] for g in got])))

    points = []
    keys = []
    for (key, _) in runs:
        if key not in keys:
            keys.append(key)
    for key in keys:
        per_seed = [runs[(key, s)] for s in range(seeds)]
        accuracy = np.array([r[0] for r in per_seed])
        random = key[0] == "random"
        workload, variant, rule, target = key[1:] if random else key
        points.append({
            "workload": workload,
            "metric": WORKLOADS[workload].metric,
            "variant": "random" if random else variant,
            "rule": rule,
            "padding": ("zero" if (variant == "static" and target == 0.0)
                        else TrainConfig().dynamic_mode),
            "target": target,
            "included": float(np.mean([r[1] / r[2] for r in per_seed])),
            "blocks_included": [r[1] for r in per_seed],
            "macs_skipped": float(np.mean([r[3] for r in per_seed])),
            "accuracy_mean": float(accuracy.mean()),
            # (as padmask train's table: the population form, ddof 0)
            "accuracy_std": float(np.std(every_draw[key] if random else accuracy)),
            "accuracies": [float(a) for a in accuracy],
            "seeds": seeds,
            "draws": draws if random else None,
        })
    order = {"static": 0, "learned": 1, "random": 2}
    points.sort(key=lambda p: (tuple(workloads).index(p["workload"]),
                               p["rule"] or "", -1 if p["target"] is None else p["target"],
                               order[p["variant"]]))
    return points


def run_count(workloads, seeds, targets, draws):
    learned = len(workloads) * seeds * (len(targets) + len(RULES))
    return len(workloads) * seeds * 2 + learned * (1 + draws)


def _label(point, short=False):
    if point["variant"] == "static":
        if short:
            return "all" if point["target"] == 1.0 else "zero"
        return "all padding" if point["target"] == 1.0 else "no padding (zero)"
    if short:
        return f"{point['target']:.2f}" if point["rule"] == "density" else point["rule"]
    target = f"target {point['target']:.2f}" if point["rule"] == "density" else "seed's rule"
    return f"{point['rule']}, {target}"


def format_table(points):
    """The points as the training table's columns, with each learned point's random twin and
    the difference of their means (learned - random) in units of the larger spread."""
    lines = []
    header = (f"{'workload':<9} {'variant':<8} {'mask':<26} {'padding':<8} "
              f"{'held-out score':>20} {'blocks included':>16} {'MACs skipped':>13}")
    lines.append(header)
    lines.append("-" * len(header))
    by_key = {(p["workload"], p["variant"], p["rule"], p["target"]): p for p in points}
    for p in points:
        unit = " dB" if p["metric"] == "psnr_db" else " %"
        text = (f"{p['workload']:<9} {p['variant']:<8} {_label(p):<26} {p['padding']:<8} "
                f"{p['accuracy_mean']:>10.2f} ± {p['accuracy_std']:.2f}{unit} "
                f"{100 * p['included']:>14.0f} % {p['macs_skipped']:>11.1f} %")
        if p["variant"] == "random":
            learned = by_key[(p["workload"], "learned", p["rule"], p["target"])]
            diff = learned["accuracy_mean"] - p["accuracy_mean"]
            spread = max(learned["accuracy_std"], p["accuracy_std"])
            text += f"   learned - random {diff:+.2f}"
            if spread > 0:
                text += f" ({diff / spread:+.1f} spread)"
        lines.append(text)
    return "\n".join(lines)


def plot_frontier(points, path):
    """Held-out accuracy against MACs skipped, one panel per workload; error bars are the
    spread over seeds, a dotted line joins each learned point to its random twin."""
    from ..golden.plots import _pyplot
    plt = _pyplot()
    workloads = list(dict.fromkeys(p["workload"] for p in points))
    fig, axes = plt.subplots(1, len(workloads), figsize=(5.4 * len(workloads), 4.6),
                             squeeze=False)
    style = {"learned": ("tab:blue", "o"), "random": ("tab:orange", "s"),
             "static": ("black", "D")}
    for ax, workload in zip(axes[0], workloads):
        mine = [p for p in points if p["workload"] == workload]
        for variant, (colour, marker) in style.items():
            sel = [p for p in mine if p["variant"] == variant]
            ax.errorbar([p["macs_skipped"] for p in sel], [p["accuracy_mean"] for p in sel],
                        yerr=[p["accuracy_std"] for p in sel], fmt=marker, color=colour,
                        capsize=3, label=variant)
            for p in sel:
                if variant != "random":
                    ax.annotate(_label(p, short=True), (p["macs_skipped"], p["accuracy_mean"]),
                                textcoords="offset points", xytext=(5, 4), fontsize=7)
        for p in mine:
            if p["variant"] == "learned":
                twin = next(q for q in mine if q["variant"] == "random"
                            and q["rule"] == p["rule"] and q["target"] == p["target"])
                ax.plot([p["macs_skipped"], twin["macs_skipped"]],
                        [p["accuracy_mean"], twin["accuracy_mean"]], ":", color="grey")
        ax.set_title(f"{workload} ({mine[0]['seeds']} seeds)")
        ax.set_xlabel("MACs skipped (% of the conv's MAC slots)")
        ax.set_ylabel("held-out PSNR (dB)" if mine[0]["metric"] == "psnr_db"
                      else "held-out accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Held-out score against MACs skipped: learned masks (labelled by target share "
                 "or rule), random masks with as many blocks, static masks", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
