"""The brief's labels a clinician reads beside the figures: what its evidence dates from, one row per
stated conflict, what a printed n counts, what a population is not, where safety figures are absent,
which outcomes a randomized trial leaves without a between-arm statistic."""

from __future__ import annotations

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_layout import evidence_text
from xpo1cli.catalogue import dates_in
from xpo1cli.data import load
from xpo1cli.query import Filters

from .conftest import DATA, bundled_brief


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


@pytest.fixture(scope="module")
def briefs(ds):
    cache: dict = {}

    def brief(disease: str):
        if disease not in cache:
            cache[disease] = bundled_brief(disease)
        return cache[disease]
    return brief


# --- 1 evidence as of -------------------------------------------------------------------------------


def test_mds_evidence_dates_from_the_latest_source_it_cites_not_a_protocol_page(briefs):
    b = briefs("MDS")
    assert "G12" in {c.source for c in b.citations}  # the conflict row cites it, so the source list does
    text = evidence_text(b)
    assert text.startswith("Evidence as of 20 July 2022:") and "G12: announcement date" in text
    assert "2016" not in text  # N8's protocol update is older


def test_mf_evidence_dates_from_the_data_cutoff_the_brief_prints(briefs):
    text = evidence_text(briefs("MF"))
    assert text.startswith("Evidence as of 1 August 2023:") and "N1: data cut-off" in text


def test_a_date_is_read_with_its_kind_and_never_from_an_identifier_or_a_plan():
    assert [(d.text, d.kind) for d in dates_in("company press release, 2017-03-02 (interim)", "X", "d")] \
        == [("2 March 2017", "press-release date")]
    assert [(d.text, d.kind) for d in dates_in("interview report dated 16 October 2024", "X", "d")] \
        == [("16 October 2024", "date of the report")]
    assert dates_in("EudraCT 2020-000605-84", "X", "d") == []  # a registry number
    assert dates_in("recruiting; expected completion March 2028", "X", "d") == []  # ahead, not evidence
    assert dates_in("https://doi.org/10.1038/s41375-022-01657-3", "X", "d") == []


def test_a_users_dataset_without_dates_says_so(ds):
    import copy

    bare = copy.copy(ds)
    bare.sources = ds.sources.assign(kind="article", title="t", citation=None)
    for table in ("studies", "outcomes", "cohorts", "approvals"):
        frame = getattr(ds, table)
        col = {"studies": "report", "outcomes": "timepoint", "cohorts": "label", "approvals": "note"}[table]
        setattr(bare, table, frame.assign(**{col: None}))
    b = build_brief(bare, Filters(disease="MF"))
    assert "no source of this brief states a date" in evidence_text(b)
    assert evidence_text(b) in markdown(b)


# --- 8 outcomes without a between-arm statistic ------------------------------------------------------


def test_a_randomized_trial_is_never_listed_as_having_no_randomized_evidence(briefs):
    for disease in ("MM", "AML"):
        b = briefs(disease)
        randomized = {t.trial for t in b.randomized}
        assert not [g for g in b.gaps if g.kind == "no randomized evidence" and g.subject in randomized]
        assert {g.subject for g in b.gaps if g.kind == "outcomes without a between-arm statistic"} & randomized


def test_os_tested_at_a_landmark_lacks_only_its_hazard_ratio_or_median(briefs):
    row = next(g for g in briefs("AML").gaps
               if g.kind == "outcomes without a between-arm statistic" and g.subject == "HOVON-103-SEL")
    assert "OS hazard ratio or median" in row.detail  # OS at 18 months is compared (p = 0.009)
    assert "OS rate" not in row.detail
    boston = next(g for g in briefs("MM").gaps
                  if g.kind == "outcomes without a between-arm statistic" and g.subject == "BOSTON")
    assert "OS," in boston.detail and "hazard ratio or median" not in boston.detail  # no landmark compared


# --- 9 an unanchored matched comparison is a data field ------------------------------------------------


def test_unanchored_maic_is_rated_down_from_the_data_field_not_its_description(ds):
    import copy

    from xpo1cli.indirect_brief import NO_ANCHOR, synthesis_rows

    maic = {r.comparison: r for r in synthesis_rows(ds, {"dreamm2-storm-maic"})}
    os_row = next(r for c, r in maic.items() if c.startswith("belantamab mafodotin vs Sd, OS"))
    assert os_row.certainty == "very low" and NO_ANCHOR in os_row.reasons  # low, minus one for no anchor

    renamed = copy.copy(ds)  # the same rows described without the words 'matching-adjusted'
    renamed.studies = ds.studies.assign(report=ds.studies["report"].str.replace("matching-adjusted", "matched"))
    assert all(r.certainty == "very low" for r in synthesis_rows(renamed, {"dreamm2-storm-maic"})
               if r.comparison.startswith("belantamab mafodotin vs Sd, OS"))

    anchored = copy.copy(ds)  # the field, not the words, decides
    anchored.syntheses = ds.syntheses.assign(anchored=ds.syntheses["anchored"].fillna(False).astype(bool) | True)
    row = next(r for r in synthesis_rows(anchored, {"dreamm2-storm-maic"})
               if r.comparison.startswith("belantamab mafodotin vs Sd, OS"))
    assert row.certainty == "low" and NO_ANCHOR not in row.reasons


# --- 2 one conflict, one row ----------------------------------------------------------------------------


def test_stomp_sdd_size_conflict_is_one_row_naming_every_number(briefs, ds):
    from xpo1cli.audit import audit

    rows = [g for g in briefs("MM").gaps if g.kind == "conflict" and g.subject.startswith("stomp-sdd-eha2019/")]
    assert len(rows) == 1
    detail = rows[0].detail
    for number in ("N=30", "N=34", "n=31", "add up to 40", "cohort of 34", "cohort of 31"):
        assert number in detail
    # the audit itself keeps every finding (the flag is kept; only the brief's rows are merged)
    found = audit(ds, {"stomp-sdd-eha2019"})
    assert len(found) == 4


def test_a_conflict_without_a_measure_absorbs_nothing(briefs):
    mf = [g for g in briefs("MF").gaps if g.kind == "conflict"]
    assert any("SENTRY-1 [N1] against SENTRY [N1]" in g.detail and "audit finds" not in g.detail for g in mf)


# --- 3 an n whose meaning no source states --------------------------------------------------------------


def test_sentry_tss50_n_is_as_printed_and_its_meaning_unstated(briefs):
    from xpo1cli.brief_render_cells import claim_rate_text
    from xpo1cli.brief_render_layout import sof_row

    b = briefs("MF")
    rate = next(r for g in b.response for r in g.rates if g.measure == "TSS50_sustained")
    assert rate.n_unclear and rate.enrolled == 12 and rate.events is None
    assert "n = 12 as printed, what the 12 counts is not stated" in claim_rate_text(rate)
    assert "12 in the cohort" not in claim_rate_text(rate)
    row = next(f for f in b.findings if f.measure == "TSS50_sustained")
    assert sof_row(row)[3] == "12 as printed (what the 12 counts is not stated) (1 trial)"
    svr = next(f for f in b.findings if f.measure == "SVR35")
    assert not svr.patients_unclear and sof_row(svr)[3] == "14 (1 trial)"  # ITT n = 14 is printed with it
    assert "n = 12 as printed" in markdown(b)


# --- 4 what a population is not; one trial, several reports ------------------------------------------


def test_mf_setting_rows_do_not_call_jak_inhibitor_naive_patients_newly_diagnosed(briefs):
    rows = {g.subject: g.detail for g in briefs("MF").gaps if g.kind == "population"}
    assert rows["newly diagnosed"] != "no clinical study in this setting"
    assert "state no setting" in rows["newly diagnosed"]
    assert "not taken to be newly diagnosed" in rows["newly diagnosed"]
    assert "JAK-inhibitor-naive myelofibrosis" in rows["setting not stated (the population as the source gives it)"]


def test_a_trial_with_two_reports_is_named_once_with_both(briefs, ds):
    rows = [g.detail for g in briefs("MF").gaps if g.kind == "population"]
    text = " ".join(rows)
    assert text.count("SENTRY-2 (reports sentry2-g23, sentry2-n1)") == 2  # no setting; no figures
    assert "sentry2-g23 (" not in text and "sentry2-n1 (" not in text
    st = ds.studies.set_index("study")
    assert st.at["sentry2-g23", "trial"] == st.at["sentry2-n1", "trial"] == "SENTRY-2"  # the data link them


def test_a_setting_gap_stays_plain_where_every_study_states_its_setting(briefs):
    rows = {g.subject: g.detail for g in briefs("TCL").gaps if g.kind == "population"}
    assert rows["newly diagnosed"] == "no clinical study in this setting"  # SEL-DICE-PH1 states relapsed/refractory
    wm = {g.subject: g.detail for g in briefs("WM").gaps if g.kind == "population"}
    assert "the trial of the next row states no setting" in wm["newly diagnosed"]


# --- 6 a percentage no count of its denominator gives ----------------------------------------------------


def test_dice_rates_say_which_counts_of_the_enrolled_would_give_them_marked_derived(ds, briefs):
    from xpo1cli.audit import audit

    found = audit(ds, {"sel-dice-ph1"})
    detail = dict(zip(found["measure"], found["detail"], strict=True))
    assert detail["ORR"] == ("no whole number of patients out of 10 prints as 91%; out of the 11 enrolled (the "
                             "enclosing cohort) 10*/11 would print as 91% (* derived here, not printed)")
    assert "9*/11 would print as 82%" in detail["CR"]
    tcl = markdown(briefs("TCL"))
    assert "10*/11 would print as 91% (* derived here, not printed)" in tcl
    assert "10/11" not in tcl.replace("10*/11", "")  # never as if printed


def test_a_percentage_without_an_enclosing_cohort_gets_no_fit(ds):
    from xpo1cli.audit import _parent_fit

    assert _parent_fit(ds.cohorts, "sel-dice-ph1", "all", 91) == ""  # 'enrolled' has no parent
    assert _parent_fit(ds.cohorts, "sel-dice-ph1", "evaluable", 50) == ""  # no count of 11 prints as 50%


# --- 5 where no adverse-event figure exists, the bottom line says so -----------------------------------


def test_mf_bottom_line_says_selinexor_ruxolitinib_has_no_adverse_event_figures(briefs):
    from xpo1cli.brief_render_claims import claim_text

    said = [claim_text(c) for c in briefs("MF").bottom_line if c.kind == "no harms"]
    assert said == ["No adverse-event figures for S-RUX (selinexor + ruxolitinib) in the sources."]


def test_no_harms_is_said_only_where_true(briefs, ds):
    from xpo1cli.brief_render_claims import claim_text

    tcl = briefs("TCL")  # DICE quantifies its adverse events: nothing to say
    assert not [c for c in tcl.bottom_line if c.kind == "no harms"]
    mds = {c.regimen: claim_text(c) for c in briefs("MDS").bottom_line if c.kind == "no harms"}
    assert set(mds) == {"S-IC", "E"}  # HOVON names deaths without rates; eltanexor's summary gives none
    assert "S-FLA" not in mds  # SELHEM has a harms statement of its own
    wm = {c.regimen: claim_text(c) for c in briefs("WM").bottom_line if c.kind == "no harms"}
    assert "studies of other diseases report some (xpo1 toxicity --regimen Sd)" in wm["Sd"]  # STORM's are MM's
    events = ds.adverse_events.merge(ds.studies[["study", "regimen"]], on="study")
    quantified = events[events["percent_reported"].notna() | events["count"].notna()]
    assert not set(quantified["regimen"]) & {"S-RUX", "E", "S-IC"}  # the claims' premise, from the data


# --- 7 subgroups and durability the data hold are shown ---------------------------------------------------


def test_dlbcl_shows_sadal_subgroup_orrs_with_their_source(briefs):
    b = briefs("DLBCL")
    sub = {(r.label, r.source): r for r in b.subgroup_rates if r.measure == "ORR"}
    assert sub[("with prior ASCT", "G32")].percent == 42.5
    assert sub[("responded to the last line of therapy", "G32")].percent == 35.9
    refractory = sub[("primary refractory DLBCL (n not stated)", "G32")]
    assert refractory.percent == 21.8 and "25.4% [G18]" in refractory.audit  # the two reports differ
    assert all(r.events is None and r.n is None for r in sub.values() if r.source == "G32")  # no n printed
    page = markdown(b)
    assert "Subgroups and other parts of a study's population, as reported" in page
    assert "| with prior ASCT " in page and "42.5% (no count printed)" in page
    assert "[G32]" in page or "G32" in {c.source for c in b.citations}


def test_dlbcl_shows_how_many_responders_are_still_responding_at_3_6_12_months(briefs):
    b = briefs("DLBCL")
    still = [(r.timepoint, r.percent, r.source) for r in b.landmark_rates if r.measure == "DOR_rate"]
    assert still == [("3 months", 56.0, "G19"), ("6 months", 38.0, "G19"), ("12 months", 15.0, "G19")]
    assert all(r.enrolled == 39 for r in b.landmark_rates)  # the 39 responders of the FDA population
    page = markdown(b)
    assert "Landmark rates of a time-to-event outcome, as reported" in page
    assert "share of responders still in response" in page and "G19" in {c.source for c in b.citations}


def test_a_subgroup_table_lists_no_randomized_arm_and_no_rate_section_3_shows(briefs):
    for disease in ("MM", "AML"):
        b = briefs(disease)
        arms = {(r.study, r.cohort) for t in b.randomized for r in t.rates}
        shown = {(r.study, r.cohort, r.measure) for g in b.response for r in g.rates}
        assert b.subgroup_rates
        for r in b.subgroup_rates:
            assert (r.study, r.cohort) not in arms and (r.study, r.cohort, r.measure) not in shown
            assert r.agent is not None and r.within  # an XPO1-inhibitor cohort's part, named


def test_wm_survival_rows_of_the_mixed_cohort_say_they_are_not_wm_evidence(briefs):
    page = markdown(briefs("WM"))
    survival = page[page.index("## 4 Survival"):page.index("## 5 Harms")]
    rows = [line for line in survival.splitlines() if "sd-phase1-ref12" in line]
    assert rows and all("not WM evidence: 3 of 84 patients had WM" in line for line in rows)
