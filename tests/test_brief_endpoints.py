"""Each disease's own endpoints in the brief, read as a haematologist checks them: evidence of a
disease comes from its own patients, each disease's critical outcome leads, and a figure says what
kind of figure it is."""

from __future__ import annotations

import csv

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.data import load
from xpo1cli.query import Filters

from .conftest import DATA, bundled_brief, run


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


def _brief(ds, disease):
    return bundled_brief(disease)


def _rewrite(path, change):
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    fields = list(rows[0])
    rows = [change(dict(r)) for r in rows]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


# --- a mixed cohort is its majority disease's evidence, not a minority's ---------------------------


def test_a_cohort_where_the_disease_is_a_small_minority_is_not_its_evidence(ds):
    b = _brief(ds, "WM")
    share = b.shares["sd-phase1-ref12"]
    # the report that splits the cohort by disease: 3 WM patients among 84 enrolled
    coh = ds.cohorts.set_index(["study", "cohort"])
    assert (share.patients, share.total, share.source) == (3, 84, "M6")
    assert coh.loc[(share.study, "escalation-wm"), "n"] == 3 and coh.loc[(share.study, "all"), "n"] == 84
    kinds = [c.kind for c in b.bottom_line]
    assert "single-arm" not in kinds and "no randomized" not in kinds
    claim = next(c for c in b.bottom_line if c.kind == "not disease-specific")
    text = claim_text(claim)
    assert text.startswith("No efficacy or safety results specific to Waldenström macroglobulinaemia")
    assert "3 patients with Waldenström macroglobulinaemia among 84" in text and "[M6, review]" in text
    assert not b.findings  # no summary-of-findings row rates the myeloma cohort as WM evidence
    md = markdown(b)
    assert "not WM evidence: 3 of 84 patients had WM [M6]" in md and "No finding to rate" in md


def test_the_majority_disease_keeps_the_mixed_cohort_labelled(ds):
    b = _brief(ds, "MM")
    assert b.shares["sd-phase1-ref12"].patients == 81 and b.minority("sd-phase1-ref12") is None
    single = next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "ORR")
    assert "sd-phase1-ref12" in {r.study for r in single.rates}
    assert "MM and WM in one cohort" in claim_text(single)


@pytest.mark.parametrize("disease", ["WM", "MM", "AML", "MDS", "TCL", "NKTCL"])
def test_no_claim_or_finding_rests_on_a_minority_cohort(ds, disease):
    b = _brief(ds, disease)
    for c in b.bottom_line:
        if c.kind == "single-arm":
            assert all(b.minority(r.study) is None for r in c.rates)
    for f in b.findings:
        assert all(b.minority(s) is None for s in f.reports)


def test_a_users_cohort_split_decides_the_share(tmp_path):
    folder = tmp_path / "mine"
    run("package", str(folder))

    def more_wm(r):  # a dataset whose disease split makes WM the larger part of the phase 1
        if r["label"].startswith("dose escalation, Waldenstr"):
            r["n"] = "60"
        return r

    _rewrite(folder / "cohorts.csv", more_wm)
    b = build_brief(load(folder), Filters(disease="WM"))
    assert b.minority("sd-phase1-ref12") is None
    assert [c.kind for c in b.bottom_line][:2] == ["no randomized", "single-arm"]


def test_a_cohort_of_unstated_share_led_by_another_disease_is_not_its_evidence(ds):
    b = _brief(ds, "MDS")
    row = ds.studies.set_index("study").loc["selhem-ph1"]
    assert row["disease"].split(";")[0] != "MDS"  # the study names acute leukaemia first
    share = b.minority("selhem-ph1")
    assert share is not None and share.patients is None and share.population == row["population"]
    claim = next(c for c in b.bottom_line if c.kind == "not disease-specific")
    text = claim_text(claim)
    assert text.startswith("Not evidence for myelodysplastic syndrome: SELHEM")  # the eltanexor figures are
    assert "up to 21 years" in text and "does not say how many of its patients had" in text
    single = [c for c in b.bottom_line if c.kind in ("single-arm", "single-arm median")]
    assert single and all(r.study != "selhem-ph1" for c in single for r in c.rates)
    md = markdown(b)
    assert "not MDS evidence: the number with MDS is not stated" in md
    # the MDS figures the sources do give: each said with the kind of source it comes from
    eltanexor = [claim_text(c) for c in single if "eltanexor-mds-isr" in claim_text(c)]
    assert any("53%" in t for t in eltanexor) and any("9.9 months" in t for t in eltanexor)
    kind = ds.sources.set_index("source").loc["G13", "kind"]
    assert all(f"from a {kind}" in t for t in eltanexor)
    # a study whose first disease is the brief's own keeps its figures (HOVON-103 in AML)
    assert _brief(ds, "AML").minority("hovon103-sel") is None


def test_a_conflict_over_which_trial_figures_belong_to_is_not_led_by_that_trial(ds):
    b = _brief(ds, "MDS")
    gap = next(g for g in b.gaps if g.kind == "conflict" and "which study" in g.subject)
    assert not gap.detail.startswith("KCP-8602-801:")
    first, second = gap.detail.split(" against ")
    assert "investigator-sponsored" in first and "[G13]" in first
    assert "KCP-8602-801 (NCT02649790)" in second and "[G12]" in second
    # a conflict about a trial's own report still names the trial first
    selhem = next(g for g in b.gaps if g.kind == "conflict" and g.subject.startswith("selhem-ph1"))
    assert selhem.detail.startswith("SELHEM: ")


# --- a regimen that a trial's own report does not confirm ----------------------------------------------


def test_a_regimen_another_report_of_the_trial_does_not_name_is_marked(ds):
    b = _brief(ds, "MM")
    rate = next(r for g in b.response for r in g.rates if r.study == "sd-phase1-ref12")
    primary = ds.studies.set_index("study").loc["sd-ph1-blood"]
    assert rate.regimen == "Sd" and rate.regimen_doubt == (primary["source"], primary["dose_schedule"])
    assert "without corticosteroids" in rate.regimen_doubt[1]
    single = next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "ORR")
    assert "regimen mixed (M6; section 3)" in claim_text(single)
    assert f"M6 names no single regimen: {primary['dose_schedule']}" in markdown(b)
    assert all(r.regimen_doubt is None for g in b.response for r in g.rates if r.trial != "SD-PH1")


# --- each disease's critical summary from the categories its sources print ------------------------------


def _printed(ds, study, cohort, measures, source):
    o = ds.outcomes  # one source's categories (another report may name the same patients otherwise)
    rows = o[(o["study"] == study) & (o["cohort"] == cohort) & o["measure"].isin(measures) & (o["source"] == source)]
    return int(rows["count"].sum()), set(rows["denominator"])


def test_aml_single_agent_bottom_line_leads_with_cr_cri_summed_from_cr_and_cri(ds):
    b = _brief(ds, "AML")
    single = [c for c in b.bottom_line if c.kind == "single-arm"]
    assert [c.measure for c in single][:1] == ["CR_CRi"]  # the disease's first critical outcome, not ORR
    rate = single[0].rates[0]
    count, dens = _printed(ds, rate.study, rate.cohort, ["CR", "CRi"], rate.source)
    assert (rate.events, {rate.n}, rate.basis) == (count, dens, "sum of categories") == (7, {81}, "sum of categories")
    assert "CR/CRi with S: SEL-AML-PH1 (single-arm; relapsed or refractory AML; dose escalation; selinexor dose " \
           "not stated) 7*/81 (8.6%)" \
        in claim_text(single[0])
    from xpo1cli.bottom_line import claim_rows

    assert [row["measure"] for row in claim_rows(single[0])] == ["CR", "CRi"]  # the rows it adds up
    ranks = {c.measure: c.rank for c in b.critical}
    assert ranks["CR_CRi"] < ranks["ORR"]


def test_mm_vgpr_or_better_is_summed_from_the_printed_categories_per_cohort(ds):
    b = _brief(ds, "MM")
    vgpr = {(r.study, r.cohort): r for g in b.response if g.measure == "≥VGPR" for r in g.rates}
    assert {k: (r.events, r.n) for k, r in vgpr.items()} == {
        ("storm-nejm-2019", "mitt"): (8, 122), ("svd-ref16", "evaluable"): (12, 40),
        ("spd-ref19", "pom-naive"): (7, 31), ("sdd-ref20", "dara-naive"): (5, 19),
        ("sid-phase1-ref14", "evaluable"): (2, 14)}
    for (study, cohort), r in vgpr.items():
        count, dens = _printed(ds, study, cohort, ["sCR", "CR", "VGPR"], r.source)
        assert (r.events, {r.n}) == (count, dens)
    # a sum of two printed categories is derived here; one printed category ('7 VGPR') is a printed count
    assert {k: r.basis for k, r in vgpr.items()} == {
        ("storm-nejm-2019", "mitt"): "sum of categories", ("svd-ref16", "evaluable"): "sum of categories",
        ("spd-ref19", "pom-naive"): "reported", ("sdd-ref20", "dara-naive"): "reported",
        ("sid-phase1-ref14", "evaluable"): "reported"}
    # one figure per trial: STORM's primary report, not also the review's summary of it
    assert sum(r.trial == "STORM" for r in vgpr.values()) == 1
    claim = next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "≥VGPR")
    assert "STORM (single-arm) 8*/122 (6.6%)" in claim_text(claim)
    md = markdown(b)
    assert md.count("≥VGPR not reported") == 2  # BOSTON prints no VGPR: each arm says so
    assert "12/40 is sum of categories; the source prints no count" in md
    assert "7/31 is sum of categories" not in md


def test_a_summary_of_one_printed_category_is_a_printed_count(ds):
    """The review prints '1 complete response (CR) and 7 partial response (PR)' of 84 for ref 12: its
    ≥CR of 1 is a count the source prints, not one derived here; STORM's ≥CR is its 2 sCR."""
    b = _brief(ds, "MM")
    cr = {(r.study, r.cohort): (r.events, r.n, r.basis) for g in b.response if g.measure == "CR_or_better"
          for r in g.rates}
    assert cr[("sd-phase1-ref12", "all")] == (1, 84, "reported")
    assert cr[("storm-nejm-2019", "mitt")] == (2, 122, "reported")
    assert cr[("svd-ref16", "evaluable")] == (3, 40, "reported")
    derived_rows = {g.subject for g in b.gaps if g.kind == "derived count"}
    assert "sd-phase1-ref12/all ≥CR" not in derived_rows and "storm-nejm-2019/mitt ≥VGPR" in derived_rows


def test_a_summary_is_added_only_where_the_breakdown_is_whole_and_none_is_printed(ds):
    from xpo1cli.counts import outcome_table, with_summaries

    o = outcome_table(ds, studies=["s-aml-ref22", "sd-phase1-ref12", "sel-7plus3-rand-ash2020"])
    out = with_summaries(o, "CR_CRi", ("CR", "CRi"), "sum of categories")
    added = out.iloc[len(o):]
    # s-aml-ref22 prints CR and CRi: summed; sd-phase1-ref12 prints CR but no CRi category and no whole
    # breakdown: none; the randomized trial prints CR/CRi itself: kept as printed, nothing added
    assert list(zip(added["study"], added["count_used"], added["denominator"], strict=True)) == [("s-aml-ref22", 7, 81)]
    assert with_summaries(o, "≥VGPR", ("sCR", "CR", "VGPR"), "x")["measure"].eq("≥VGPR").sum() == 0


# --- what kind of figure it is ----------------------------------------------------------------------------


def test_mf_tss50_figure_says_it_is_a_share_of_responders_and_the_rate_is_not_reported(ds):
    b = _brief(ds, "MF")
    claims = [claim_text(c) for c in b.bottom_line if c.kind == "single-arm"]
    assert any("share of TSS50 responders still responding at the cutoff" in t for t in claims)
    assert "Not reported with S-RUX: TSS50 rate." in claims[-1]
    # the population as the source states it (no setting is stated)
    study = ds.studies.set_index("study").loc["sentry-ph1-n1"]
    assert study["population"] == "JAK-inhibitor-naive myelofibrosis" and study["setting"] is None
    assert all("JAK-inhibitor-naive myelofibrosis" in t for t in claims)


def test_mf_summary_of_findings_reads_svr35_at_each_time_point_and_marks_intervals_of_derived_counts(ds):
    b = _brief(ds, "MF")
    svr = [f for f in b.findings if f.measure == "SVR35"]
    assert [(f.outcome, f.timepoint, round(f.estimate, 1)) for f in svr] == [
        ("SVR35 at week 12", "week 12", 71.4), ("SVR35 at week 24", "week 24", 78.6)]
    assert len({f.id for f in b.findings}) == len(b.findings)
    rates = [r for g in b.response if g.measure == "SVR35" for r in g.rates]
    assert {r.basis for r in rates} == {"from percentage"}  # 71% and 79% of 14: counts derived here
    assert all("computed from a derived count" in " ".join(f.notes) for f in svr)
    assert "(95% exact, computed from a derived count)" in markdown(b)


def test_a_press_release_figure_is_labelled_where_shown_and_not_merged_with_the_publication(ds):
    b = _brief(ds, "AML")
    sopra = next(t for t in b.randomized if t.trial == "SOPRA")
    kinds = dict(zip(ds.sources["source"], ds.sources["kind"], strict=True))
    interim = [r for r in sopra.rates if "press release" in kinds[r.source]]
    assert interim and all(r.source_kind == kinds[r.source] for r in interim)
    md = markdown(b)
    arm = next(line for line in md.splitlines() if line.startswith("| selinexor arm "))
    assert (f"CR/CRi 13% (no count printed) (not on P1's page; from P2, a {kinds['P2']}) [P2]"
            in arm)
    assert f"from a {kinds['P2']}" in next(line for line in md.splitlines() if "selinexor arm (interim)" in line)


# --- lymphoma: duration of response, responders' survival ---------------------------------------------------


def test_dlbcl_duration_of_response_is_in_the_summary_of_findings_and_the_bottom_line(ds):
    b = _brief(ds, "DLBCL")
    dor = next(f for f in b.findings if f.measure == "DOR")
    (m,) = dor.per_trial
    assert (m.study, m.label, m.median, m.source, m.within) == ("sadal-lancet-2020", "all responders", 9.3, "D2", True)
    assert [(x.label, x.median) for x in dor.nested] == [("complete responders", 23.0)]
    assert any(x.rule == "reporting" for x in dor.moves)  # a press release only
    claim = next(c for c in b.bottom_line if c.kind == "single-arm median")
    kind = ds.sources.set_index("source").at["D2", "kind"]
    assert claim_text(claim) == ("Single-arm evidence, median duration of response with S: SADAL 9.3 months in all "
                                 f"responders, 23 months in complete responders (from a {kind}). [D2]")


def test_a_median_not_reached_is_shown_with_its_note(ds):
    b = _brief(ds, "DLBCL")
    row = next(m for m in b.survival if m.study == "sadal-followup-2021" and m.cohort == "responders")
    assert row.median is None and row.note == "median not reached"
    assert "| median not reached" in markdown(b)
    assert all(m.median is not None for f in b.findings for m in f.per_trial)


def test_gaps_point_to_related_diseases_evidence_in_other_briefs(ds):
    gaps = {g.subject: g for g in _brief(ds, "AML").gaps if g.kind == "related evidence"}
    assert "SELHEM (paediatric)" in gaps["myelodysplastic syndrome"].detail
    assert "eltanexor-mds-isr" in gaps["myelodysplastic syndrome"].detail
    assert "xpo1 brief --disease MDS" in gaps["myelodysplastic syndrome"].detail


def test_a_pointer_to_another_brief_cites_nothing_here_and_a_planned_trial_is_named_once(ds):
    b = _brief(ds, "WM")
    related = [g for g in b.gaps if g.kind == "related evidence"]
    assert related and all(not g.sources for g in related)
    cited = {c.source for c in b.citations}
    marchs = set(ds.studies.loc[ds.studies["trial"] == "MARCH", "source"])  # a myeloma-only trial
    assert marchs and not marchs & cited
    mf = _brief(ds, "MF")
    planned = [p.trial for c in mf.bottom_line if c.kind == "planned" for p in c.planned]
    assert len(planned) == len(set(planned))


# --- a cohort whose printed categories conflict is shown, never counted -----------------------------


def test_a_cohort_whose_printed_categories_conflict_is_shown_not_counted(ds):
    b = _brief(ds, "MM")
    o = ds.outcomes[ds.outcomes["study"] == "skd-ref15"]
    printed = dict(zip(o["measure"], o["percent_reported"], strict=True))
    assert sum(printed.values()) > 100  # the categories cannot all be exclusive
    row = next(c for c in b.printed_categories if c.study == "skd-ref15")
    assert row.measure == "ORR" and dict(row.printed) == printed and row.n == 21
    assert all(r.study != "skd-ref15" for g in b.response for r in g.rates)  # not a rate, not pooled
    assert all("skd-ref15" not in f.reports for f in b.findings)
    md = markdown(b)
    line = next(x for x in md.splitlines() if "skd-ref15" in x and x.startswith("| SKd"))
    assert "printed MR 71%, PR 48%, VGPR 14% of 21" in line and "not counted as a rate" in line
    assert any(g.kind == "conflict" and g.subject.startswith("skd-ref15") for g in b.gaps)


# --- one trial under two identities ------------------------------------------------------------------


def test_two_reports_of_one_trial_giving_the_same_median_make_one_row(ds):
    b = _brief(ds, "MM")
    trial = ds.studies.set_index("study")["trial"]
    assert trial["storm-ref13"] == trial["storm-nejm-2019"] == "STORM"
    rows = [m for m in b.survival if trial.get(m.study) == "STORM" and m.measure in ("PFS", "OS") and m.n == 122]
    assert sorted((m.measure, m.median) for m in rows) == [("OS", 8.6), ("PFS", 3.7)]
    assert all(m.study == "storm-nejm-2019" and m.also == ["review ref 13 (storm-ref13) [review]"] for m in rows)
    assert "also review ref 13 (storm-ref13) [review]" in markdown(b)


def test_the_same_figure_for_different_populations_of_one_trial_is_a_conflict(ds):
    b = _brief(ds, "AML")
    gap = next(g for g in b.gaps if g.kind == "conflict" and g.subject == "SEL-AML-PH1 median OS")
    assert "2.7 months of non-responders" in gap.detail and "(s-aml-n11) [N11]" in gap.detail
    assert gap.sources == ["review", "N11"]
    both = {m.study for m in b.survival if m.measure == "OS" and m.median == 2.7}
    assert both == {"s-aml-ref22", "s-aml-n11"}  # both kept: they do not say the same thing


# --- labels a reader checks ----------------------------------------------------------------------


def test_units_ranges_and_gap_kinds_read_as_they_should(ds):
    from xpo1cli.brief_render_cells import spread_text

    b = _brief(ds, "MM")
    ttr = next(m for m in b.survival if m.study == "sd-phase1-ref12" and m.measure == "TTR")
    assert ttr.median == 1 and ttr.unit == "months"
    md = markdown(b)
    assert "| 1 month " in md and " 1 months" not in md
    dor = next(m for m in b.survival if m.study == "sid-phase1-ref14" and m.measure == "DOR")
    assert dor.range_low is None and spread_text(dor) == f"longest {dor.range_high:g} months" and "––" not in md
    kinds = {(g.kind, g.subject) for g in b.gaps}
    assert ("outcomes without a between-arm statistic", "BOSTON") in kinds
    assert not any(k == "no randomized evidence" and s in {t.trial for t in b.randomized} for k, s in kinds)
