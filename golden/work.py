"""Work counts of a masked convolution: the figures the hardware's performance counters must equal.

Every output pixel of every output channel needs ``K*K*Cin`` multiply-accumulate *slots*. A slot
is on an interior pixel, on an included padding pixel (block bit 1) or on a masked-out padding
pixel (block bit 0, skipped). Optionally, for given data, the performed slots whose activation is
zero are counted too: those are the ones zero gating (Eyeriss-style) would also skip.
"""

from dataclasses import dataclass

import numpy as np

from ._check import check_int
from .blocks import check_mask, padding_map
from .conv import masked_input, output_size
from .padding import normalize_padding

__all__ = ["WorkCounts", "tap_use", "work_counts"]


@dataclass(frozen=True)
class WorkCounts:
    mac_slots: int
    macs_interior: int
    macs_padding_included: int
    macs_padding_skipped: int
    #: performed MACs (interior + included padding) whose activation is zero; None without data
    macs_zero: int = None

    def macs_performed(self, *, zero_gating=False):
        performed = self.macs_interior + self.macs_padding_included
        if zero_gating:
            if self.macs_zero is None:
                raise ValueError("zero_gating needs counts computed with data (pass x)")
            performed -= self.macs_zero
        return performed


def _axis_use(padded, kernel, stride):
    """How many output positions read each padded position along one axis."""
    out = output_size(padded, kernel, stride)
    starts = np.arange(out) * stride
    pos = np.arange(padded)[:, None]
    return ((pos >= starts) & (pos < starts + kernel)).sum(axis=1)


def tap_use(height, width, *, kernel, stride=1, padding=0):
    """``(Hp, Wp)`` map: the number of windows that read each padded pixel."""
    kernel = check_int("kernel", kernel, minimum=1)
    stride = check_int("stride", stride, choices=(1, 2))
    p = normalize_padding(padding)
    rows = _axis_use(height + p.top + p.bottom, kernel, stride)
    cols = _axis_use(width + p.left + p.right, kernel, stride)
    return rows[:, None] * cols[None, :]


def work_counts(height, width, *, cin, cout, kernel, stride=1, padding=0, mask=None, block=4,
                frames=1, x=None, mode="zero", pad_value=0):
    """MAC slot counts for ``frames`` frames of ``cin`` channels into ``cout`` channels.

    With ``x`` (``(C, H, W)`` or ``(N, C, H, W)``; ``frames`` is then taken from it), also counts
    the performed MACs whose (padded, masked) activation is zero, under ``mode``/``pad_value``.
    """
    cin = check_int("cin", cin, minimum=1)
    cout = check_int("cout", cout, minimum=1)
    frames = check_int("frames", frames, minimum=1)
    mask = check_mask(mask, height, width, padding, block)
    use = tap_use(height, width, kernel=kernel, stride=stride, padding=padding)
    pad = padding_map(height, width, padding)
    rows = np.arange(pad.shape[0]) // block
    cols = np.arange(pad.shape[1]) // block
    bit = mask[rows[:, None], cols[None, :]]
    zero = None
    if x is not None:
        xp, keep = masked_input(x, padding=padding, mode=mode, pad_value=pad_value, mask=mask,
                                block=block)
        xp = xp.reshape((-1,) + xp.shape[-3:])
        if xp.shape[1] != cin:
            raise ValueError(f"x must have {cin} channels to match cin, not {xp.shape[1]}")
        frames = xp.shape[0]
        zero = int(((xp == 0) & keep).sum(axis=(0, 1)).ravel() @ use.ravel()) * cout
    scale = cin * cout * frames
    return WorkCounts(
        mac_slots=int(use.sum()) * scale,
        macs_interior=int(use[~pad].sum()) * scale,
        macs_padding_included=int(use[pad & bit].sum()) * scale,
        macs_padding_skipped=int(use[pad & ~bit].sum()) * scale,
        macs_zero=zero,
    )
