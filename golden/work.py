"""Work counts of a masked convolution: the figures the hardware's performance counters must equal.

Every output pixel of every output channel needs ``K*K*Cin`` multiply-accumulate *slots*. A slot
is on an interior pixel, on an included padding pixel (block bit 1) or on a masked-out padding
pixel (block bit 0, skipped). Optionally, for given data, the performed slots whose activation is
zero are counted too: those are the ones zero gating (Eyeriss-style) would also skip.

Fair accounting of the padding: an included padding slot whose value is zero whatever the data
(mode ``zero``, or ``constant`` with ``pad_value`` 0) contributes nothing, so it can be skipped as
well as a masked-out one. ``WorkCounts.macs_skippable`` counts both; :func:`skipping_mask` is
the block mask that makes the core skip all of them (its ``macs_skipped_mask`` counter then
reports exactly ``macs_skippable``) with the same outputs.
"""

from dataclasses import dataclass

import numpy as np

from ._check import check_choice, check_int
from .blocks import check_mask, padding_map
from .conv import masked_input, output_size
from .padding import MODES, normalize_padding

__all__ = ["WorkCounts", "tap_use", "work_counts", "padding_known_zero", "skipping_mask"]


@dataclass(frozen=True)
class WorkCounts:
    mac_slots: int
    macs_interior: int
    macs_padding_included: int
    macs_padding_skipped: int
    #: performed MACs (interior + included padding) whose activation is zero; None without data
    macs_zero: int = None
    #: included padding slots whose value is zero whatever the data (mode zero, or constant 0)
    macs_padding_zero: int = 0

    @property
    def macs_skippable(self):
        """Every padding slot whose contribution is known to be zero: masked out, or included
        with a value that is zero by its mode (what :func:`skipping_mask` has the core skip)."""
        return self.macs_padding_skipped + self.macs_padding_zero

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


def padding_known_zero(mode, pad_value=0):
    """Whether every padding value is zero whatever the data: mode ``zero``, or ``constant``
    with ``pad_value`` 0."""
    check_choice("mode", mode, MODES)
    return mode == "zero" or (mode == "constant" and pad_value == 0)


def skipping_mask(height, width, padding, block, mask=None, *, mode="zero", pad_value=0):
    """The block mask that skips every padding slot whose contribution is known to be zero:
    all zeros where the padding is zero by its mode (the outputs are those of ``mask``, or of
    no mask), else ``mask`` itself (all ones for None)."""
    mask = check_mask(mask, height, width, padding, block)
    return np.zeros_like(mask) if padding_known_zero(mode, pad_value) else mask


def work_counts(height, width, *, cin, cout, kernel, stride=1, padding=0, mask=None, block=4,
                frames=1, x=None, mode="zero", pad_value=0):
    """MAC slot counts for ``frames`` frames of ``cin`` channels into ``cout`` channels.

    With ``x`` (``(C, H, W)`` or ``(N, C, H, W)``; ``frames`` is then taken from it), also counts
    the performed MACs whose (padded, masked) activation is zero, under ``mode``/``pad_value``.
    ``mode``/``pad_value`` also say which included padding slots are zero whatever the data
    (``macs_padding_zero``).
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
    included = int(use[pad & bit].sum()) * scale
    return WorkCounts(
        mac_slots=int(use.sum()) * scale,
        macs_interior=int(use[~pad].sum()) * scale,
        macs_padding_included=included,
        macs_padding_skipped=int(use[pad & ~bit].sum()) * scale,
        macs_zero=zero,
        macs_padding_zero=included if padding_known_zero(mode, pad_value) else 0,
    )
