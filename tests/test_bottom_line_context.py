"""Every trial the bottom line names says whom it enrolled and, for the XPO1-inhibitor arm, at which
dose, where the bottom line first names it (the report it cites, as the data states them), and never
again; a trial's words are the lead of the data's own population and dose cells."""

from __future__ import annotations

import re

import pytest

from xpo1cli.bottom_line import named_trials
from xpo1cli.brief import build_brief
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.data import load
from xpo1cli.query import Filters
from xpo1cli.toxicity import arm_dose
from xpo1cli.values import lead_clause


@pytest.fixture(scope="module")
def ds():
    return load()


@pytest.fixture(scope="module")
def briefs(ds):
    return {d: build_brief(ds, Filters(disease=d)) for d in ("MM", "AML", "DLBCL", "TCL", "MDS", "MF")}


def contexts(b) -> dict:
    return {t: x for c in b.bottom_line for t, x in c.contexts.items()}


@pytest.mark.parametrize("disease, trial, population, dose", [
    ("AML", "HOVON-103-SEL", "AML or high-risk MDS, age over 65", "intensive chemotherapy with or without selinexor"),
    ("AML", "SOPRA", "older patients with relapsed/refractory AML",
     "selinexor 60 mg twice weekly vs physician's choice"),
    ("AML", "SEL-7+3-RAND", "newly diagnosed AML, age 60 or over", None),
    ("DLBCL", "SADAL", "relapsed/refractory DLBCL", "selinexor 60 mg twice weekly"),
    ("TCL", "SEL-DICE-PH1", "relapsed/refractory T-cell and NK/T-cell lymphoma", None),
    ("MM", "BOSTON", "previously treated myeloma, 1-3 prior lines",
     "selinexor 100 mg once weekly + bortezomib once weekly + dexamethasone"),
    ("MM", "STORM", "penta-exposed triple-class-refractory myeloma",
     "selinexor 80 mg + dexamethasone 20 mg twice weekly"),
])
def test_a_trial_says_its_population_and_dose_where_first_named(briefs, disease, trial, population, dose):
    b = briefs[disease]
    first = next(c for c in b.bottom_line if trial in {t for t, _, _ in named_trials(c)})
    x = first.contexts[trial]
    assert x.population == population
    if dose is not None:
        assert x.dose == dose
    text = claim_text(first)
    assert population in text and (dose is None or dose in text)
    # said once: no later bullet repeats it
    said = re.compile(re.escape(trial) + r" \([^)]*" + re.escape(population))
    assert sum(bool(said.search(claim_text(c))) for c in b.bottom_line) == 1
    assert sum(trial in c.contexts for c in b.bottom_line) == 1


def test_boston_says_the_selinexor_arms_dose_never_the_control_arms(briefs):
    x = contexts(briefs["MM"])["BOSTON"]
    assert "twice weekly" not in x.dose  # Vd's bortezomib schedule is the control arm's


@pytest.mark.parametrize("disease", ["MM", "AML", "DLBCL", "TCL", "MDS", "MF"])
def test_each_context_is_the_cited_reports_own_cells_and_each_trial_gets_one(ds, briefs, disease):
    info = ds.studies.set_index("study")
    codes = set(ds.regimens["regimen"])
    b = briefs[disease]
    introduced: dict[str, int] = {}  # trial -> the claim that first names it
    for i, c in enumerate(b.bottom_line):
        for trial, study, regimen in named_trials(c):
            if trial in introduced:  # named again: no context, unless in the same claim (another report)
                assert trial not in c.contexts or introduced[trial] == i
                continue
            introduced[trial] = i
            if c.kind == "not disease-specific":
                continue
            x = c.contexts[trial]
            assert x.study == study
            assert x.population == lead_clause(info.at[study, "population"])
            want = lead_clause(arm_dose(info.at[study, "dose_schedule"], regimen, codes)) if regimen else None
            assert x.dose == want


def test_the_randomized_summary_of_findings_names_the_enrolled_population_with_its_qualifiers(briefs):
    md = markdown(briefs["AML"])
    assert "population as the trial enrolled it: AML or high-risk MDS, age over 65" in md
    assert "population as the trial enrolled it: AML, MDS" not in md


@pytest.mark.parametrize("text, lead", [
    ("previously treated myeloma, 1-3 prior lines. Baseline as M17 reports it: 402 enrolled", "previously treated "
     "myeloma, 1-3 prior lines"),
    ("relapsed/refractory T-cell and NK/T-cell lymphoma; median age 60 years", "relapsed/refractory T-cell and "
     "NK/T-cell lymphoma"),
    ("children with acute leukaemia (St. Jude's page lists ages up to 21 years)", "children with acute leukaemia"),
    ("AML (the review (ref 22) says R/R AML); more", "AML"),
    (None, None), ("", None),
])
def test_the_lead_of_a_cell_is_its_first_clause_without_notes(text, lead):
    assert lead_clause(text) == lead
