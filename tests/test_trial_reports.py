"""Reports of one trial are read as one trial: a rule about the trial's population applies to every
row of it, whichever report gives the row, and a disagreement between its reports is stated."""

from __future__ import annotations

import pytest

from xpo1cli.data import load

from .conftest import bundled_brief


@pytest.fixture(scope="module")
def ds():
    return load()


@pytest.fixture(scope="module")
def aml(ds):
    return bundled_brief("AML")


def test_every_row_of_a_trial_whose_reports_differ_on_its_setting_is_rated_down_alike(ds, aml):
    """SEL-AML-PH1: the review says relapsed or refractory AML, N11 newly diagnosed and relapsed/refractory.
    Its CR/CRi and ORR (from the review) and its medians (from N11) carry the same indirectness."""
    reports = set(ds.studies.loc[ds.studies["trial"] == "SEL-AML-PH1", "study"])
    assert reports == {"s-aml-ref22", "s-aml-n11"}
    rows = [f for f in aml.findings if f.effect is None and set(f.reports or []) & reports]
    assert {f.outcome for f in rows} >= {"CR/CRi", "ORR", "median OS", "median PFS"}
    moves = {f.outcome: [m.reason for m in f.moves if m.rule == "indirectness"] for f in rows}
    assert all(v == ["settings mixed, relapsed/refractory"] for v in moves.values()), moves


def test_a_cohort_label_names_a_population_not_only_a_citation(ds):
    labels = ds.cohorts.loc[ds.cohorts["study"] == "s-aml-n11", "label"].tolist()
    assert labels == ["newly diagnosed and relapsed/refractory AML (Garzon et al.)"]


def test_the_reports_disagreement_on_population_and_on_the_os_label_are_both_stated(aml):
    conflicts = [g for g in aml.gaps if g.kind == "conflict"]
    population = [g for g in conflicts if "population of the single-agent phase 1" in g.subject]
    assert len(population) == 1 and set(population[0].sources) == {"review", "N11"}
    assert "relapsed or refractory AML" in population[0].detail
    assert "newly diagnosed and relapsed/refractory AML" in population[0].detail
    os_label = [g for g in conflicts if g.subject == "SEL-AML-PH1 median OS"]
    assert len(os_label) == 1 and "non-responders" in os_label[0].detail
