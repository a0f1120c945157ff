"""Packaging: one installed top-level package, and the train extra's message."""

import importlib.metadata
import importlib.util

import pytest

import padmask
from padmask.sim import cli


def test_one_top_level_package():
    dist = importlib.metadata.distribution("padmask")
    assert dist.read_text("top_level.txt").split() == ["padmask"]
    assert dist.version == padmask.__version__
    # the subpackages resolve under padmask, wherever the source folders are
    for name in ("golden", "hdl", "sim"):
        spec = importlib.util.find_spec(f"padmask.{name}")
        assert spec is not None and spec.submodule_search_locations


def test_train_without_the_extra_names_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real(name, *a))
    assert cli.missing_train_extra() == ["scikit-learn"]
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--quiet"])
    assert str(info.value) == ("padmask train: training needs the train extra (scikit-learn "
                               "missing): pip install 'padmask[train]'")
