"""``padmask bench golden``: throughput of the golden masked convolution on the exact path.

Shape: N=8, Cin=16, Cout=16, 64x64, K=3, reflect padding 1, random block mask (block 4),
int8-valued data. Reports the median over repeats, in MAC slots per second (every slot of the
convolution counts, skipped or not, as in PyTorch's figure), and, when PyTorch is installed, the
ratio to ``torch.nn.functional.conv2d`` on the same shape in float32 with its reflect padding
done by ``torch.nn.functional.pad``, measured in the same run.
"""

import json
import time

import numpy as np

from ..golden import masked_conv2d, masked_input

SHAPE = dict(n=8, cin=16, cout=16, height=64, width=64, kernel=3)


def _median_seconds(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _reference(x, w, mask):
    """Independent int64 reference: one einsum per tap on the masked padded input."""
    xp, _ = masked_input(x, padding=1, mode="reflect", mask=mask, block=4)
    xp = xp.astype(np.int64)
    k = w.shape[2]
    n, _, hp, wp = xp.shape
    out = np.zeros((n, w.shape[0], hp - k + 1, wp - k + 1), dtype=np.int64)
    for ky in range(k):
        for kx in range(k):
            out += np.einsum("oc,nchw->nohw", w[:, :, ky, kx].astype(np.int64),
                             xp[:, :, ky:ky + out.shape[2], kx:kx + out.shape[3]])
    return out


def _torch_seconds(x, w, repeats):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    xt = torch.from_numpy(x.astype(np.float32))
    wt = torch.from_numpy(w.astype(np.float32))
    with torch.no_grad():
        return _median_seconds(lambda: F.conv2d(F.pad(xt, (1, 1, 1, 1), mode="reflect"), wt),
                               repeats)


def run(repeats=30, seed=0):
    s = SHAPE
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (s["n"], s["cin"], s["height"], s["width"])).astype(np.int8)
    w = rng.integers(-128, 128, (s["cout"], s["cin"], s["kernel"], s["kernel"])).astype(np.int8)
    grid = (-(-(s["height"] + 2) // 4), -(-(s["width"] + 2) // 4))
    mask = rng.integers(0, 2, grid).astype(bool)
    macs = s["n"] * s["cin"] * s["cout"] * s["height"] * s["width"] * s["kernel"] ** 2

    def golden_call():
        return masked_conv2d(x, w, padding=1, mode="reflect", mask=mask, block=4)

    exact = bool(np.array_equal(golden_call(), _reference(x, w, mask)))
    # The model picks float32 BLAS when every partial sum is an integer below 2**24.
    xp, _ = masked_input(x, padding=1, mode="reflect", mask=mask, block=4)
    bound = s["kernel"] ** 2 * s["cin"] * int(np.abs(xp.astype(np.int64)).max()) * \
        int(np.abs(w.astype(np.int64)).max())
    seconds = _median_seconds(golden_call, repeats)
    torch_seconds = _torch_seconds(x, w, repeats)
    return {
        "bench": "golden",
        "shape": "N=8 Cin=16 Cout=16 64x64 K=3 reflect pad 1 block 4 random mask int8",
        "macs": macs,
        "ms": seconds * 1e3,
        "gmac_per_s": macs / seconds / 1e9,
        "torch_ms": None if torch_seconds is None else torch_seconds * 1e3,
        "torch_gmac_per_s": None if torch_seconds is None else macs / torch_seconds / 1e9,
        "torch_ratio": None if torch_seconds is None else torch_seconds / seconds,
        "exact": exact,
        "sum_bound": bound,
        "float32_exact": bound <= 1 << 24,
        "repeats": repeats,
    }


def main(args):
    result = run(repeats=args.repeats or 30)
    if args.json:
        print(json.dumps(result))
        return 0 if result["exact"] else 1
    print(f"golden masked_conv2d, {result['shape']}")
    print(f"  golden : {result['ms']:7.3f} ms  {result['gmac_per_s']:6.1f} GMAC/s "
          f"(median of {result['repeats']})")
    if result["torch_ratio"] is None:
        print("  torch  : not installed (ratio not measured)")
    else:
        print(f"  torch  : {result['torch_ms']:7.3f} ms  {result['torch_gmac_per_s']:6.1f} GMAC/s "
              f"(F.pad reflect + F.conv2d, float32)")
        print(f"  ratio  : {result['torch_ratio']:.2f}x PyTorch")
    print(f"  exact  : {'yes' if result['exact'] else 'NO'} (against an int64 reference; "
          f"partial sums bounded by {result['sum_bound']:,} "
          f"{'<=' if result['float32_exact'] else '>'} 2**24)")
    return 0 if result["exact"] else 1
