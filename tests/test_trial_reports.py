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
    assert all(v == ["settings differ between reports or cohorts: newly diagnosed and relapsed/refractory "
                    "vs relapsed/refractory"] for v in moves.values()), moves


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


def test_a_reviews_figure_for_a_named_population_is_a_figure_of_that_population(aml):
    """The review: 'patients with resistance to FLT3 inhibitor also had a better CR rate (45%)' [24]: a CR
    of 45% of that part of the study's population, with no count (none is printed)."""
    (r,) = [r for r in aml.subgroup_rates if r.study == "s-sora-ref24"]
    assert (r.cohort, r.label, r.measure, r.percent, r.events, r.n, r.source) == (
        "flt3i-resistant", "FLT3-inhibitor-resistant patients", "CR", 45, None, None, "review")


def test_a_claim_stated_in_words_is_a_statement_never_a_rate(aml):
    """Ref 26: 'all patients taking selinexor achieved clinical response', no number: stated with its
    source, and no rate (no 100%) is made of it anywhere in the brief."""
    (w,) = aml.worded
    assert (w.study, w.measure, w.source) == ("s-7plus3-elderly-ref26", "ORR", "review")
    assert "every patient who took selinexor responded" in w.statement
    rates = [*aml.subgroup_rates, *(r for g in aml.response for r in g.rates)]
    assert not [r for r in rates if r.study == "s-7plus3-elderly-ref26"]
    from xpo1cli.brief_render import markdown

    line = next(ln for ln in markdown(aml).splitlines() if "ref 26" in ln and "Stated in words" in ln)
    assert "every patient who took selinexor responded" in line and "[review]" in line and "100" not in line


def test_the_m6_dexamethasone_cohort_is_shown_as_that_cohort(ds):
    mm = bundled_brief("MM")
    (r,) = [r for r in mm.subgroup_rates if r.study == "sd-ph1-blood"]
    assert r.label == "expansion: selinexor 45 mg/m2 + dexamethasone 20 mg twice weekly"
    assert (r.measure, r.percent_reported, r.n, r.source) == ("ORR", 50, 12, "M6")
    assert (r.events, r.basis) == (6, "from percentage")  # 50% of 12 is 6 patients; the source prints no count
