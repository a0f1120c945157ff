"""PNG figures of a training comparison: threshold trajectories and learned block masks."""

import numpy as np

__all__ = ["plot_thresholds", "plot_masks"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_thresholds(results, path):
    """Threshold and fraction of padding blocks included, per mask update, per seed."""
    plt = _pyplot()
    dynamic = [r for r in results if r.thresholds]
    variants = sorted({r.config.variant for r in dynamic})
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    colours = dict(zip(variants, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    for r in dynamic:
        label = f"{r.config.variant} (seed {r.config.seed})"
        steps = np.arange(len(r.thresholds)) * r.config.mask_interval
        axes[0].plot(steps, r.thresholds, color=colours[r.config.variant], alpha=0.7, label=label)
        axes[1].plot(steps, r.included, color=colours[r.config.variant], alpha=0.7)
    axes[0].set_ylabel("threshold")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set_ylabel("padding blocks included")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].set_xlabel("training step")
    fig.suptitle("Threshold trajectory (mask = score >= threshold)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_masks(results, path):
    """Final block masks of the dynamic runs: included, masked out, or interior (no padding)."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    dynamic = [r for r in results if r.thresholds]
    variants = sorted({r.config.variant for r in dynamic})
    seeds = sorted({r.config.seed for r in dynamic})
    fig, axes = plt.subplots(len(variants), len(seeds), squeeze=False,
                             figsize=(2.2 * len(seeds) + 1, 2.4 * len(variants)))
    cmap = ListedColormap(["#d62728", "#2ca02c", "#dddddd"])
    for r in dynamic:
        ax = axes[variants.index(r.config.variant)][seeds.index(r.config.seed)]
        image = np.where(r.pad_blocks, r.mask.astype(int), 2)
        ax.imshow(image, cmap=cmap, vmin=0, vmax=2)
        ax.set_title(f"{r.config.variant}\nseed {r.config.seed}, "
                     f"threshold {r.thresholds[-1]:.3f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Learned block masks: green included, red masked out, grey interior", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
