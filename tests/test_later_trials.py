"""The trials published after the review, checked against the later-trials source pack: one or
more figures of every source id, trial linking, arms and comparisons, and the audit sections."""

from __future__ import annotations

import csv
import io

import pytest

from xpo1cli import data

from .conftest import one_row, run, run_csv, run_json

DS = data.load()
# sources of the 2021-2026 pack (tests/test_trials_2021_2026.py checks them)
NEWER_PACK = {s for s in DS.sources["source"] if s[0] in "MNCG" and s[1:].isdigit()}  # later packs: own tests
NEWER_STUDIES = set(DS.studies.loc[DS.studies["source"].isin(NEWER_PACK), "study"])

# (source id, study, cohort, measure, field, value) as the pack prints them.
PACK_FIGURES = [
    ("B1", "boston-lancet-2020", "svd", "PFS", "median_months", 13.93),
    ("B1", "boston-lancet-2020", "svd", "PFS", "ci_low", 11.73),
    ("B1", "boston-lancet-2020", "vd", "PFS", "median_months", 9.46),
    ("B1", "boston-lancet-2020", "vd", "PFS", "ci_high", 10.78),
    ("B1", "boston-lancet-2020", "svd", "FU", "median_months", 13.2),
    ("B1", "boston-lancet-2020", "vd", "FU", "range_low", 9.4),
    ("B1", "boston-lancet-2020", "svd", "deaths", "count", 47),
    ("B2", "boston-lancet-2020", "svd", "ORR", "percent_reported", 76.4),
    ("B2", "boston-lancet-2020", "vd", "ORR", "percent_reported", 62.3),
    ("B2", "boston-lancet-2020", "svd", "CR_or_better", "percent_reported", 16.9),
    ("B2", "boston-lancet-2020", "vd", "CR_or_better", "percent_reported", 10.6),
    ("B3", "boston-lancet-2020", "pi-naive-svd", "PFS", "median_months", 29.5),
    ("B3", "boston-lancet-2020", "pi-naive-vd", "PFS", "median_months", 9.7),
    ("B3", "boston-lancet-2020", "len-refractory-svd", "OS", "median_months", 26.7),
    ("B3", "boston-lancet-2020", "len-refractory-vd", "OS", "median_months", 18.6),
    ("S1", "storm-nejm-2019", "mitt", "ORR", "ci_low", 19.0),
    ("S1", "storm-nejm-2019", "mitt", "ORR", "ci_high", 35.0),
    ("S1", "storm-nejm-2019", "responders-pr", "DOR", "median_months", 4.4),
    ("S1", "storm-nejm-2019", "responders-pr", "TTR", "median_weeks", 4.1),
    ("S1", "storm-nejm-2019", "responders-pr", "TTR", "range_high", 14),
    ("S2", "storm-nejm-2019", "mitt", "ORR", "count", 32),
    ("S2", "storm-nejm-2019", "mitt", "sCR", "count", 2),
    ("S2", "storm-nejm-2019", "mitt", "VGPR", "count", 6),
    ("S2", "storm-nejm-2019", "mitt", "PR", "count", 24),
    ("S2", "storm-nejm-2019", "mitt", "CBR", "count", 48),
    ("S2", "storm-nejm-2019", "mitt", "CBR", "percent_reported", 39),
    ("S2", "storm-nejm-2019", "mitt", "PFS", "median_months", 3.7),
    ("S2", "storm-nejm-2019", "mitt", "OS", "median_months", 8.6),
    ("S2", "storm-nejm-2019", "responders-mr", "OS", "median_months", 15.6),
    ("S4", "storm-nejm-2019", "penta-refractory", "ORR", "percent_reported", 25.3),
    ("L3", "storm-nejm-2019", "penta-refractory", "ORR", "count", 21),
    ("D1", "sadal-lancet-2020", "mitt", "ORR", "percent_reported", 28.3),
    ("D1", "sadal-lancet-2020", "mitt", "CR", "count", 15),
    ("D1", "sadal-lancet-2020", "mitt", "PR", "count", 21),
    ("D1", "sadal-lancet-2020", "mitt", "OS", "median_months", 9.1),
    ("D1", "sadal-lancet-2020", "mitt", "OS", "ci_high", 15.1),
    ("D2", "sadal-lancet-2020", "responders", "DOR", "median_months", 9.3),
    ("D2", "sadal-lancet-2020", "complete-responders", "DOR", "median_months", 23.0),
    ("D3", "sadal-followup-2021", "all", "ORR", "percent_reported", 29.1),
    ("D3", "sadal-followup-2021", "all", "OS", "median_months", 9.0),
    ("D3", "sadal-followup-2021", "all", "FU", "median_months", 14.8),
    ("D4", "sadal-posthoc-134", "all", "PFS", "median_months", 2.6),
    ("D5", "sadal-fda-134", "fda", "ORR", "percent_reported", 29),
    ("D5", "sadal-fda-134", "fda", "CR", "count", 18),
    ("D5", "sadal-fda-134", "fda", "PR", "count", 21),
    ("P1", "sopra-2021", "selinexor", "OS", "median_months", 3.2),
    ("P1", "sopra-2021", "pc", "OS", "median_months", 5.6),
    ("P2", "sopra-interim-2017", "selinexor", "CR_CRi", "percent_reported", 13),
    ("P2", "sopra-interim-2017", "pc", "CR_CRi", "percent_reported", 3),
    ("H1", "hovon103-sel", "s-ic", "CR_CRi", "percent_reported", 59),
    ("H1", "hovon103-sel", "ic", "CR_CRi", "ci_high", 91),
    ("H1", "hovon103-sel", "s-ic", "EFS_rate", "percent_reported", 26),
    ("H1", "hovon103-sel", "ic", "OS_rate", "percent_reported", 58),
    ("A1", "sel-7plus3-ph1-ccr2020", "evaluable", "CR_CRi", "count", 8),
    ("A1", "sel-7plus3-ph1-ccr2020", "evaluable", "CR_CRi", "percent_reported", 53),
    ("A1", "sel-7plus3-ph1-ccr2020", "all", "OS", "median_months", 10.3),
    ("A1", "sel-7plus3-ph1-ccr2020", "all", "FU", "median_months", 28.9),
    ("A1", "sel-7plus3-ph1-ccr2020", "all", "alive", "percent_reported", 38),
    ("A2", "sel-7plus3-rand-ash2020", "s-7plus3", "CR_CRi", "count", 18),
    ("A2", "sel-7plus3-rand-ash2020", "7plus3", "CR_CRi", "count", 3),
    ("A2", "sel-7plus3-rand-ash2020", "s-7plus3", "deaths", "count", 2),
    ("A2", "sel-7plus3-rand-ash2020", "7plus3", "deaths", "percent_reported", 14),
]

# (source id, comparison id, field, value)
PACK_COMPARISONS = [
    ("B1", "boston-pfs-hr", "estimate", 0.70), ("B1", "boston-pfs-hr", "ci_high", 0.93),
    ("B1", "boston-pfs-hr", "p_value", 0.0075), ("B2", "boston-orr-p", "p_value", 0.0012),
    ("B1", "boston-pn-or", "estimate", 0.50), ("B1", "boston-pn-or", "ci_low", 0.32),
    ("B3", "boston-pi-naive-pfs-hr", "estimate", 0.29),
    ("B3", "boston-len-refractory-os-hr", "estimate", 0.53),
    ("P1", "sopra-os-hr", "estimate", 1.18), ("P1", "sopra-os-hr", "ci_high", 1.75),
    ("P1", "sopra-os-hr", "p_value", 0.422), ("H1", "hovon-crcri-p", "p_value", 0.018),
    ("H1", "hovon-efs18-p", "p_value", 0.012), ("H1", "hovon-os18-p", "p_value", 0.009),
]

# (source id, adverse-event id, field, value)
PACK_EVENTS = [
    ("B1", "boston-svd-thrombocytopenia", "count", 77), ("B1", "boston-vd-thrombocytopenia", "count", 35),
    ("B1", "boston-svd-fatigue", "percent_reported", 13), ("B1", "boston-vd-neuropathy", "count", 70),
    ("S2", "storm-thrombocytopenia", "percent_reported", 59), ("S2", "storm-hyponatraemia", "percent_reported", 22),
    ("A1", "sel7plus3-febrile-neutropenia", "percent_reported", 67), ("A1", "sel7plus3-sepsis", "percent_reported", 14),
    ("L1", "label-mm-thrombocytopenia-34", "percent_reported", 61),
    ("L1", "label-dlbcl-thrombocytopenia-4", "percent_reported", 18),
    ("L2", "label-mm-neutropenia-all", "percent_reported", 34), ("L2", "label-mm-neutropenia-34", "n", 202),
]


@pytest.mark.parametrize("source,study,cohort,measure,field,value", PACK_FIGURES)
def test_pack_figure(source, study, cohort, measure, field, value):
    row = one_row(DS.outcomes, study=study, cohort=cohort, measure=measure, source=source)
    assert row[field] == pytest.approx(value)


@pytest.mark.parametrize("source,cid,field,value", PACK_COMPARISONS)
def test_pack_comparison(source, cid, field, value):
    row = one_row(DS.comparisons, id=cid)
    assert row["source"] == source and row[field] == pytest.approx(value)


@pytest.mark.parametrize("source,aid,field,value", PACK_EVENTS)
def test_pack_adverse_event(source, aid, field, value):
    row = one_row(DS.adverse_events, id=aid)
    assert row["source"] == source and row[field] == pytest.approx(value)


def test_every_source_id_is_checked_and_stated():
    checked = ({f[0] for f in PACK_FIGURES} | {c[0] for c in PACK_COMPARISONS}
               | {e[0] for e in PACK_EVENTS})
    later = set(DS.sources.loc[DS.sources["published_after_review"].astype(bool), "source"])
    later = {s for s in later if s not in NEWER_PACK}  # the 2021-2026 pack has its own tests
    # B4 and S3 state only citations, E1 only the eltanexor trial: checked below
    assert later - checked == {"B4", "E1", "S3"}
    assert DS.sources.set_index("source").at["S3", "citation"] == "N Engl J Med 2019;381:727-738"
    src = DS.sources.set_index("source")
    assert src.at["B4", "citation"] == "Grosicki S, Simonova M, Spicka I, et al. Lancet 2020;396(10262):1563-1573"
    assert (src.at["D3", "doi"], src.at["D3", "pmid"]) == ("10.1186/s13045-021-01122-1", "34271963")
    assert src.at["H1", "doi"] == "10.1038/s41375-022-01657-3"
    trials = DS.trials.set_index("trial")
    assert trials.at["KCP-8602-801", "registry"] == "NCT02649790"
    assert trials.at["KCP-8602-801", "planned_n"] == 119
    assert trials.at["BOSTON", "registry"] == "NCT03110562"
    assert trials.at["SOPRA", "registry"] == "NCT02088541"


def test_no_identifier_beyond_the_pack():
    """Only the citations, DOIs and PMIDs the pack states: the review has none."""
    src = DS.sources.set_index("source")
    src = src[~src.index.isin(NEWER_PACK)]  # the 2021-2026 pack's identifiers are tested with it
    stated_dois = {d for d in src["doi"] if isinstance(d, str)}
    assert stated_dois == {"10.1186/s13045-021-01122-1", "10.1038/s41375-022-01657-3"}
    assert {p for p in src["pmid"] if isinstance(p, str)} == {"34271963"}
    assert not isinstance(src.at["review", "citation"], str)


def test_show_storm_links_the_review_and_the_journal():
    out = run("show", "STORM", "-f", "plain").stdout
    assert "storm-ref13" in out and "storm-nejm-2019" in out
    assert f"{int((DS.studies['trial'] == 'STORM').sum())} reports side by side" in out
    doc = run_json("show", "storm")
    assert [r["study"] for r in doc["reports"] if r["study"] not in NEWER_STUDIES] == [
        "storm-ref13", "storm-nejm-2019"]
    assert {r["source"] for r in doc["reports"][1]["outcomes"]} >= {"S1", "S2", "S4", "L3"}


def test_show_sadal_marks_the_differences_between_reports():
    doc = run_json("show", "SADAL")
    side = {row["metric"]: row for row in doc["side_by_side"]}
    assert side["n"][""] == "≠"
    assert side["n"]["sadal-129-ref31"] == 129 and side["n"]["sadal-lancet-2020"] == 127
    assert side["depth"]["sadal-129-ref31"] == "CR 14/129 (10.9%)"
    assert side["depth"]["sadal-lancet-2020"] == "CR 15/127 (11.8%)"


def test_show_boston_arms_comparisons_and_events():
    out = run("show", "BOSTON", "-f", "plain").stdout
    assert "SVd arm" in out and "Vd arm" in out and "experimental" in out and "control" in out
    assert "0.0075" in out and "13.93" in out and "peripheral neuropathy" in out


def test_compare_svd_vd_is_randomized_within_boston():
    r = run("compare", "SVd", "Vd", "-f", "csv")
    rows = run_csv("compare", "SVd", "Vd")
    boston = [x for x in rows if x["study"] == "boston-lancet-2020"]
    assert [(x["compared"], x["n"], x["comparison"]) for x in boston] == [
        ("SVd", "195", "randomized, within one trial"), ("Vd", "207", "randomized, within one trial")]
    assert "randomized comparison within one trial" in r.stderr
    ref16 = next(x for x in rows if x["study"] == "svd-ref16")
    assert ref16["comparison"] == "cross-trial, not randomized"
    assert "HR 0.70 (0.53–0.93), p = 0.0075" in boston[0]["between_arms"]


def test_compare_svd_spd_keeps_each_trial_apart_with_the_warning():
    r = run("compare", "SVd", "SPd", "-f", "plain")
    assert "SVd · ref 16" in r.stdout and "SVd · BOSTON (SVd arm)" in r.stdout and "SPd · ref 19" in r.stdout
    assert "non-randomized" in r.stdout


def test_filters_source_design_randomized():
    later = run_csv("list", "--source", "later")
    assert all(row["source"] != "review" for row in later)
    assert len([row for row in later if row["study"] not in NEWER_STUDIES]) == 12
    rand = [row for row in run_csv("list", "--randomized") if row["study"] not in NEWER_STUDIES]
    assert {row["study"] for row in rand} == {"boston-lancet-2020", "sopra-2021", "sopra-interim-2017",
                                              "hovon103-sel", "sel-7plus3-rand-ash2020"}
    p3 = run_csv("list", "--design", "randomized phase 3")
    assert [row["study"] for row in p3 if row["study"] not in NEWER_STUDIES] == ["boston-lancet-2020"]
    assert "unknown source filter" in run("list", "--source", "press", code=2).stderr
    assert "unknown design" in run("list", "--design", "cohort", code=2).stderr
    ev = run_csv("list", "--sort", "evidence")
    assert ev[0]["design"] == "randomized phase 3"


def test_toxicity_arms_with_risk_difference():
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = {r["term"]: r for r in run_json("toxicity", "--arms")}
    tp = rows["thrombocytopenia"]
    assert (tp["exp_count"], tp["exp_n"], tp["ctl_count"], tp["ctl_n"]) == (77, 195, 35, 207)
    assert tp["risk_difference"] == round(100 * (77 / 195 - 35 / 207), 1)
    lo, hi = confint_proportions_2indep(77, 195, 35, 207, compare="diff", method="newcomb")
    assert (tp["rd_ci_low"], tp["rd_ci_high"]) == (round(100 * lo, 1), round(100 * hi, 1))
    assert tp["n_basis"] == "randomized n of each arm"
    assert rows["peripheral neuropathy"]["risk_difference"] < 0


def test_pool_one_report_per_trial_and_no_control_arms():
    r = run("pool", "-d", "NHL", "--allow-mixed", "-f", "csv")  # NHL and DLBCL, asked for
    # the peer-reviewed primary report stands for SADAL, not the larger regulatory population
    assert ("sadal-fda-134/fda [D5]: another report of the same trial (SADAL); the primary report "
            "sadal-lancet-2020 is pooled") in r.stderr
    assert "SADAL: pooled the primary report sadal-lancet-2020 [D1], population 'modified " \
        "intention-to-treat' (36/127)" in r.stderr
    rows = [x for x in run_csv("pool", "-d", "NHL", "--allow-mixed") if x["row"] == "cohort"]
    assert [x["trial"] for x in rows].count("SADAL") == 1
    sadal = next(x for x in rows if x["trial"] == "SADAL")
    assert (sadal["study"], sadal["report_role"], sadal["events"], sadal["n"], sadal["count_basis"]) == (
        "sadal-lancet-2020", "primary", "36", "127", "sum of categories")
    r = run("pool", "-d", "AML", "-m", "CR_CRi", "--by", "regimen", "-f", "csv")
    assert "sel-7plus3-rand-ash2020/7plus3 [A2]: control arm" in r.stderr
    # a single control arm is never pooled with the selinexor arms, and alone it is not pooled at all
    r = run("pool", "-d", "AML", "-m", "CR_CRi", "--include-controls", "--by", "regimen", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert "7plus3" not in {x["cohort"] for x in rows}
    assert {x["group"] for x in rows} == {"XPO1 inhibitor arms and cohorts"}
    assert ("not pooled, the only cohort of its group (control arms (no XPO1 inhibitor)): "
            "sel-7plus3-rand-ash2020/7plus3 3/7") in r.stderr


def test_audit_sections():
    rows = run_csv("audit")
    between = {(r["trial"], r["metric"]) for r in rows if r["section"] == "between reports of one trial"}
    assert ("SADAL", "n") in between and ("SADAL", "depth_count") in between
    assert ("SEL-7+3-PH1", "depth_count") in between  # the review's 10 CR/CRi against the abstract's 8
    a1 = next(r for r in rows if r["study"] == "sel7plus3-ph1-ccr2020" or r["study"] == "sel-7plus3-ph1-ccr2020")
    assert a1["section"] == "within a source" and a1["source"] == "A1" and "8/19 = 42.1%" in a1["computed"]


def test_eltanexor_says_no_figures():
    rows = run_csv("list", "--agent", "eltanexor")
    # the gap pack's MDS figures (secondary sources) stand in their own study, apart from the registered trial
    assert {r["study"] for r in rows} == {"eltanexor-mm-ref11", "eltanexor-ph12", "eltanexor-mds-isr"}
    rows = [r for r in rows if r["study"] != "eltanexor-mds-isr"]
    assert all(r["orr_count"] == "" and r["orr_percent"] == "" for r in rows)
    out = run("show", "eltanexor-ph12", "-f", "plain").stdout
    assert "no efficacy or adverse-event figures are public" in out


def test_sources_and_cite():
    rows = {r["source"]: r for r in run_csv("sources")}
    assert rows["B1"]["address"].startswith("https://bloodcancerstoday.com/")
    assert rows["review"]["published_after_review"] == "False"
    text = run("cite", "D3").stdout
    assert "J Hematol Oncol 2021;14:111" in text and "doi = {10.1186/s13045-021-01122-1}" in text
    assert "pmid = {34271963}" in text
    boston = run("cite", "BOSTON", "--bibtex").stdout
    assert "Lancet 2020;396(10262):1563-1573" in boston and "@misc{xpo1-b1," in boston
    assert "unknown source, study or trial" in run("cite", "XYZ", code=2).stderr


def test_list_by_a_control_regimen_shows_that_arm():
    rows = run_csv("list", "--regimen", "bortezomib + dexamethasone")
    assert [(r["study"], r["cohort"], r["regimen"], r["n"], r["median_pfs"]) for r in rows] == [
        ("boston-lancet-2020", "vd", "Vd", "207", "9.46")]
