"""The two independent extractions of the review: every difference has a settlement."""

from __future__ import annotations

import importlib.util

from .conftest import ROOT


def _reconcile():
    spec = importlib.util.spec_from_file_location("reconcile", ROOT / "qa" / "reconcile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_difference_is_settled():
    rec = _reconcile()
    diffs = rec.differences()
    settled = rec.settlements()
    unsettled = [d for d in diffs if (d["key"], d["field"]) not in settled]
    assert unsettled == []
    assert len(diffs) == 16


def test_settlements_that_changed_the_data_hold():
    rec = _reconcile()
    changed = [k for k, s in rec.settlements().items() if s["settled"] == "first changed"]
    assert sorted(changed) == [("s-7plus3-elderly-ref26/all/ORR", "percent_reported"),
                               ("study ref 10 n -", "row")]
    # neither shows up as a difference any more: the data now agrees with the second extraction
    keys = {(d["key"], d["field"]) for d in rec.differences()}
    assert not keys & set(changed)
