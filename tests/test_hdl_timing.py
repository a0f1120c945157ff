"""Cycle-exact checks: with no stalls, every input beat, window and output beat moves on the
clock edge the golden timing model (sim/timing.py) predicts, and the skip vectors entering the
MAC array match the golden model's padding and mask, cycle by cycle."""

import dataclasses

import numpy as np
import pytest

from padmask.sim.frames import FrameConfig, expected_counters
from padmask.sim.harness import FrameSpec, run_core
from padmask.sim.stream import Scoreboard
from padmask.sim.timing import schedule, skip_schedule
from tests.core_cases import SMALL, mask_for, weights


CASES = {
    "K3-mixed": (3, [
        FrameConfig(5, 6, cin=2, cout=3, padding=(1, 2, 2, 1), mode="reflect", shift=6),
        FrameConfig(4, 8, cin=2, cout=3, padding=(2, 0, 0, 2), mode="constant", pad_value=-9,
                    stride=2, shift=4, zero_gating=True),
        FrameConfig(8, 3, cin=2, cout=3, padding=(0, 1, 1, 0), mode="replicate"),
        FrameConfig(8, 8, cin=2, cout=3, padding=(2, 2, 2, 2), mode="zero", zero_gating=True),
    ]),
    "K1": (1, [FrameConfig(7, 7, cin=3, cout=3, padding=(0, 0, 0, 0), mode="zero")] * 2),
    "K5-stride2": (5, [
        FrameConfig(7, 9, cin=2, cout=3, padding=(4, 1, 2, 3), mode="reflect", stride=2),
        FrameConfig(6, 8, cin=2, cout=3, padding=(2, 2, 2, 2), mode="replicate"),
    ]),
    "K7": (7, [FrameConfig(8, 7, cin=2, cout=2, padding=(3, 3, 3, 3), mode="constant",
                           pad_value=3, zero_gating=True)] * 2),
}


@pytest.mark.parametrize("case, lean", [(case, False) for case in CASES] +
                         [("K3-mixed", True), ("K1", True), ("K5-stride2", True)])
def test_cycle_exact(case, lean):
    # (lean: the pipeline without the registers for the clock of large parts; other latencies,
    # the same model)
    kernel, cfgs = CASES[case]
    params = dataclasses.replace(SMALL[kernel], lean=lean)
    rng = np.random.default_rng(21)
    full = mask_for(rng, params, cfgs[0], "random")
    frames = [FrameSpec(c, rng.integers(-2, 3, (c.cin, c.height, c.width)), full) for c in cfgs]
    w, bias = weights(rng, params, cfgs[0].cin, cfgs[0].cout)
    result = run_core(params, frames, w=w, bias=bias, back_to_back=True)
    model = schedule(params, cfgs)

    assert result.input_edges == model.input_edges
    assert result.output_edges == model.output_edges
    Scoreboard(skip_schedule(params, frames)).check(result.skip_edges)
    counters = {k: result.counters[k] for k in ("windows", "macs_performed",
                                                 "macs_skipped_mask", "macs_skipped_zero")}
    assert counters == expected_counters(params, frames)
    assert result.counters["input_stalls"] == 0 and result.counters["output_stalls"] == 0
