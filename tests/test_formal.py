"""Formal properties (sim/formal.py, padmask formal): every property holds, proven or bounded,
its cover is reachable (the assertions are not vacuous), and a deliberately broken variant of its
unit fails it (the property can fail)."""

import pytest

from padmask.sim.formal import PROPERTIES, check


@pytest.mark.parametrize("prop", PROPERTIES, ids=[p.name for p in PROPERTIES])
def test_property_holds_and_is_reachable(prop, tmp_path):
    holds, reachable = check(prop, tmp_path)
    assert holds["result"] == ("proven" if prop.induction else "bounded"), holds
    assert holds["depth"] == prop.depth
    assert reachable["result"] == "proven", reachable


@pytest.mark.parametrize("prop", [p for p in PROPERTIES if p.mutant],
                         ids=[p.name for p in PROPERTIES if p.mutant])
def test_a_broken_unit_fails_its_property(prop, tmp_path):
    [broken] = check(prop, tmp_path, mutant=True)
    assert broken["result"] == "failed", broken


def test_formal_command_json(tmp_path, capsys):
    import json

    from padmask.sim import cli
    assert cli.main(["formal", "--json", "--only", "skid", "--out", str(tmp_path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["result"] for r in lines] == ["proven", "proven"]
    for r in lines:
        assert set(r) == {"name", "unit", "result", "depth", "seconds"}
