"""The trials of 2021-2026, checked against that source pack (ids M1-M20, N1-N13): figures as the
pack prints them with their source id, links to trials already in the data, the conflicts the
pack lists, and the new diseases, measures, age groups, syntheses and registered trials."""

from __future__ import annotations

import pytest

from xpo1cli import data

from .conftest import one_row, run, run_csv, run_json

DS = data.load()
PACK = {s for s in DS.sources["source"] if s[0] in "MN" and s[1:].isdigit()}

# (source id, study, cohort, measure, field, value) exactly as the pack prints them.
PACK_FIGURES = [
    ("M1", "march-bmcmed-2022", "all", "ORR", "percent_reported", 29.3),
    ("M1", "march-bmcmed-2022", "all", "ORR", "ci_low", 19.7),
    ("M1", "march-bmcmed-2022", "all", "ORR", "ci_high", 40.4),
    ("M1", "march-bmcmed-2022", "all", "DOR", "median_months", 4.7),
    ("M1", "march-bmcmed-2022", "all", "PFS", "median_months", 3.7),
    ("M1", "march-bmcmed-2022", "all", "OS", "median_months", 13.2),
    ("M1", "march-bmcmed-2022", "triple-class-refractory", "ORR", "percent_reported", 25.0),
    ("M1", "march-bmcmed-2022", "triple-class-refractory", "ORR", "ci_high", 49.1),
    ("M6", "sd-ph1-blood", "sd45", "ORR", "percent_reported", 50),
    ("M6", "sd-ph1-blood", "sd45", "CBR", "percent_reported", 58),
    ("M15", "boston-lancet-2020", "prior1-svd", "PFS", "median_months", 21),
    ("M15", "boston-lancet-2020", "prior1-vd", "PFS", "median_months", 10.7),
    ("M19", "storm-consensus-2020", "approval", "ORR", "percent_reported", 25.3),
    ("N1", "sentry-ph1-n1", "itt-tss", "TSS50_sustained", "percent_reported", 58),
    ("N3", "sel-dice-ph1", "evaluable", "ORR", "percent_reported", 91),
    ("N3", "sel-dice-ph1", "evaluable", "CR", "percent_reported", 82),
    ("N4", "s-hidac-mito-jho2018", "all", "CR", "count", 10),
    ("N4", "s-hidac-mito-jho2018", "all", "ORR", "percent_reported", 70),
    ("N4", "s-hidac-mito-jho2018", "responders", "HSCT", "count", 8),
    ("N6", "selhem-ph1", "evaluable", "CR_CRi", "count", 7),
    ("N6", "selhem-ph1", "evaluable", "CR_CRi", "percent_reported", 47),
    ("N9", "rw-aml-tongji", "all", "CR", "count", 4),
    ("N9", "rw-aml-tongji", "all", "ORR", "percent_reported", 80.0),
    ("N9", "rw-aml-tongji", "all", "HSCT", "count", 5),
    ("N10", "rw-aml-tongji", "all", "alive", "count", 7),
    ("N10", "rw-aml-tongji", "all", "deaths", "count", 3),
    ("N11", "s-dec-n11", "all", "PFS", "median_months", 5.9),
    ("N11", "s-dec-n11", "all", "OS", "ci_high", 10.4),
    ("N11", "s-dec-n11", "responders", "PFS", "median_months", 11.8),
    ("N11", "s-aml-n11", "all", "ORR", "percent_reported", 14),
    ("N11", "s-aml-n11", "all", "PFS", "median_months", 1.7),
]

# timepointed figures: (source, study, cohort, measure, timepoint, field, value)
PACK_TIMED = [
    ("N1", "sentry-ph1-n1", "itt", "SVR35", "week 12", "percent_reported", 71),
    ("N1", "sentry-ph1-n1", "itt", "SVR35", "week 24", "percent_reported", 79),
]

# (source id, comparison id, field, value)
PACK_COMPARISONS = [
    ("M7", "boston-prior1-pfs-p", "p_text", "0.0148"), ("M7", "boston-pi-naive-pfs-p", "p_text", "0.0003"),
    ("M7", "boston-no-prior-asct-pfs-p", "p_text", "0.0341"),
    ("M7", "boston-imid-refractory-pfs-p", "p_text", "0.0051"),
    ("M15", "boston-prior1-pfs-hr", "estimate", 0.62),
]

# (source id, adverse-event id, field, value)
PACK_EVENTS = [
    ("M15", "boston-svd-thrombocytopenia-eha2023", "percent_reported", 61.6),
    ("M15", "boston-vd-thrombocytopenia-eha2023", "percent_reported", 28.6),
    ("M19", "storm-m19-dose-adjustment", "percent_reported", 58),
    ("M19", "storm-m19-discontinued", "percent_reported", 27),
    ("M20", "label-my-sd-thrombocytopenia", "n", 214),
    ("M20", "label-my-sd-thrombocytopenia", "percent_reported", 75),
    ("M20", "label-my-sd-serious-pneumonia", "percent_reported", 7.5),
    ("M20", "label-my-svd-any-infection", "percent_reported", 70),
    ("N3", "dice-thrombocytopenia", "percent_reported", 82),
    ("N3", "dice-nausea", "percent_reported", 64),
    ("N3", "dice-stopped", "count", 5),
    ("N4", "hidac-sae", "count", 6),
    ("N4", "hidac-febrile-neutropenia", "percent_reported", 70),
    ("N6", "selhem-dlt", "count", 2),
    ("N7", "selhem-ph2-dose-n7", "statement", "55 mg/m2 per dose, six doses (results summary)"),
    ("N8", "selhem-ph2-dose-n8", "statement", "40 mg/m2 (trial page, protocol update January 2016)"),
    ("N10", "rw-aml-hyponatraemia", "grade", "1-2"),
    ("N11", "sel-aml-n11-paused", "percent_reported", 15),
]

# (source id, synthesis id, field, value)
PACK_SYNTHESES = [
    ("M8", "m8-patients", "value", 477), ("M8", "m8-orr", "value", 43), ("M8", "m8-orr", "low", 18),
    ("M8", "m8-orr", "high", 67), ("M8", "m8-scr", "low", -2), ("M8", "m8-pd", "high", 23),
    ("M9", "m9-rcts", "value", 47), ("M9", "m9-2l-pfs-rank", "value", 6), ("M9", "m9-2l-pfs-rank", "out_of", 21),
    ("M9", "m9-3l-orr-rank", "out_of", 25), ("N11", "n11-patients", "value", 286),
    ("N11", "n11-evaluated", "value", 259),
]

# (source id, study, cohort, n) as printed.
PACK_POPULATIONS = [
    ("M1", "march-bmcmed-2022", "all", 82),
    ("M1", "march-bmcmed-2022", "triple-class-refractory", 20),
    ("M2", "march-bmcmed-2022", "prior-car-t", 10),
    ("M3", "sealand-ash2025", "all", 149),
    ("M3", "sealand-ash2025", "sr", 84),
    ("M3", "sealand-ash2025", "r", 65),
    ("M6", "sd-ph1-blood", "all", 84), ("M6", "sd-ph1-blood", "escalation-mm", 22),
    ("M6", "sd-ph1-blood", "escalation-wm", 3), ("M6", "sd-ph1-blood", "expansion-mm", 59),
    ("M10", "stomp-sdd-eha2019", "all", 30), ("M10", "stomp-sdd-eha2019", "baseline", 34),
    ("M10", "stomp-sdd-eha2019", "dl0", 3), ("M10", "stomp-sdd-eha2019", "dl-1", 6),
    ("M10", "stomp-sdd-eha2019", "expansion", 31), ("M11", "stomp-spd-ash2019", "all", 51),
    ("N1", "sentry-ph1-n1", "itt", 14), ("N1", "sentry-ph1-n1", "itt-tss", 12),
    ("N3", "sel-dice-ph1", "all", 11), ("N3", "sel-dice-ph1", "evaluable", 10),
    ("N3", "sel-dice-ph1", "dl1", 6), ("N3", "sel-dice-ph1", "dl2", 5),
    ("N4", "s-hidac-mito-jho2018", "all", 20), ("N4", "s-hidac-mito-jho2018", "s80", 17),
    ("N6", "selhem-ph1", "all", 18), ("N6", "selhem-ph1", "toxicity", 17), ("N6", "selhem-ph1", "dl-55", 6),
    ("N6", "selhem-ph1", "dl-70", 5), ("N6", "selhem-ph1", "evaluable", 15),
    ("N9", "rw-aml-tongji", "all", 10), ("N11", "s-dec-n11", "all", 25), ("N11", "s-aml-n11", "all", 81),
    ("N11", "s-sora-n11", "all", 14), ("N12", "sel-ia-ash2015", "enrolled", 21),
]


@pytest.mark.parametrize("source,study,cohort,measure,field,value", PACK_FIGURES)
def test_pack_figure(source, study, cohort, measure, field, value):
    row = one_row(DS.outcomes, study=study, cohort=cohort, measure=measure, source=source)
    assert row[field] == pytest.approx(value)


@pytest.mark.parametrize("source,study,cohort,n", PACK_POPULATIONS)
def test_pack_population(source, study, cohort, n):
    row = one_row(DS.cohorts, study=study, cohort=cohort)
    assert (row["source"], row["n"]) == (source, n)


def test_pack_sources_kind_and_identifiers_as_the_pack_states():
    src = DS.sources.set_index("source")
    expected = {f"M{i}" for i in range(1, 21) if i != 16} | {f"N{i}" for i in range(1, 14)}
    assert expected == PACK
    assert src.loc[sorted(PACK), "published_after_review"].astype(bool).all()
    assert src.at["M2", "kind"] == ("copy of the Europe PMC abstract page of the same article, served "
                                    "through a web proxy (same abstract text as M1, continues further)")
    assert src.at["M20", "kind"] == ("product information, adverse reactions section (MIMS Malaysia, "
                                     "served from a MIMS development host)")
    assert src.at["N11", "kind"].endswith("a secondary source")
    assert (src.at["M1", "citation"], src.at["M1", "doi"]) == ("BMC Med. 2022 Apr 5;20(1):108",
                                                               "10.1186/s12916-022-02305-4")
    assert src.at["M7", "doi"] == "10.1186/s13045-021-01071-9"
    assert src.at["N5", "doi"] == "10.1186/s13045-017-0550-8"
    # the pack states no PMID and no other DOI
    assert not any(isinstance(p, str) for p in src.loc[sorted(PACK), "pmid"])
    assert {d for d in src.loc[sorted(PACK), "doi"] if isinstance(d, str)} == {
        "10.1186/s12916-022-02305-4", "10.1186/s13045-021-01071-9", "10.1186/s13045-017-0550-8"}


def test_march_as_a_user_sees_it():
    rows = run_csv("list", "-d", "MM", "--source", "later")
    march = next(r for r in rows if r["study"] == "march-bmcmed-2022")
    assert (march["n"], march["orr_percent"], march["median_pfs"], march["median_os"]) == (
        "82", "29.3", "3.7", "13.2")
    out = run("show", "MARCH", "-f", "plain").stdout
    assert "19.7–40.4" in out and "M2" in out  # the page the results were read on is named


def test_sealand_arms_and_futility_stop():
    doc = run_json("show", "sealand-ash2025")
    arms = {c["cohort"]: c for c in doc["cohorts"]}
    assert (arms["sr"]["arm"], arms["sr"]["regimen"], arms["sr"]["n"]) == ("experimental", "SR", 84)
    assert (arms["r"]["arm"], arms["r"]["regimen"], arms["r"]["n"]) == ("control", "R", 65)
    assert doc["outcomes"] == []  # the stored copy ends before any on-treatment result
    assert "futility" in doc["findings"]
    assert "median age 62 (39-75)" in doc["population"] and "62 (34-76)" in doc["population"]
    assert "CR/sCR at screening 37% (31)" in doc["population"]
    trial = DS.trials.set_index("trial").loc["SEALAND"]
    assert (trial["registry"], trial["planned_n"], trial["phase"]) == ("ACTRN12620000291987", 290, "3")
    rows = run_csv("list", "--regimen", "R")
    assert ("sealand-ash2025", "r", "control") in {(r["study"], r["cohort"], r["arm"]) for r in rows}


@pytest.mark.parametrize("source,study,cohort,measure,timepoint,field,value", PACK_TIMED)
def test_pack_figure_at_its_timepoint(source, study, cohort, measure, timepoint, field, value):
    row = one_row(DS.outcomes, study=study, cohort=cohort, measure=measure, timepoint=timepoint, source=source)
    assert row[field] == pytest.approx(value)


@pytest.mark.parametrize("source,cid,field,value", PACK_COMPARISONS)
def test_pack_comparison(source, cid, field, value):
    row = one_row(DS.comparisons, id=cid)
    assert row["source"] == source and row[field] == (pytest.approx(value) if isinstance(value, float) else value)


@pytest.mark.parametrize("source,aid,field,value", PACK_EVENTS)
def test_pack_adverse_event(source, aid, field, value):
    row = one_row(DS.adverse_events, id=aid)
    assert row["source"] == source
    assert row[field] == (value if isinstance(value, str) else pytest.approx(value))


@pytest.mark.parametrize("source,sid,field,value", PACK_SYNTHESES)
def test_pack_synthesis(source, sid, field, value):
    row = one_row(DS.syntheses, id=sid)
    assert row["source"] == source and row[field] == pytest.approx(value)


def test_design_facts_in_words():
    st = DS.studies.set_index("study")
    trials = DS.trials.set_index("trial")
    assert "median age 67 years (38-90), men 57.1%" in st.at["boston-lancet-2020", "population"]  # M17
    assert "SVd 69% / Vd 70%" in st.at["boston-lancet-2020", "population"]  # M17
    assert "R-ISS stage III at diagnosis 18.5%" in st.at["boston-lancet-2020", "population"]  # M18
    assert "median age 68 years (44-83)" in st.at["stomp-sdd-eha2019", "population"]  # M10
    assert trials.at["XPORT-MM-031", "registry"] == "NCT05028348"  # M12
    assert (trials.at["SCOPE", "registry"], trials.at["SCOPE", "status"]) == (
        "NCT04764942", "active, not recruiting")  # M13
    assert "MC1882" in trials.at["SCOPE", "note"]  # a Mayo Clinic protocol number, not a registry id
    assert "confirmatory trial" in trials.at["BENCH", "note"]  # M14
    assert DS.approvals.set_index("id").at["china-mm-conditional", "source"] == "M14"
    assert "expected completion in March 2028" in trials.at["SENTRY", "note"]  # N2
    assert trials.at["SENTRY-2", "registry"] == "NCT05980806"  # N1
    assert trials.at["SEL-RGDP-PH23", "registry"] == "EudraCT 2020-000605-84"  # N13
    assert trials.at["SEL-IA-PH2", "registry"] == "NCT02249091"  # N12
    assert "40 mg/m2 orally twice weekly from day 2" in st.at["sel-ia-ash2015", "dose_schedule"]  # N12
    assert trials.at["SELHEM", "registry"] == "NCT02212561"  # N6
    assert "up to 21 years" in trials.at["SELHEM", "note"]  # N8
    assert "closed July 2019" in trials.at["SELHEM", "note"]  # N7
    assert trials.at["SEL-DICE-PH1", "registry"] == "NCT03212937"  # N3
    assert trials.at["SENTRY", "registry"] == "NCT04562389"  # N1
    n5 = DS.sources.set_index("source").at["N5", "citation"]
    assert n5 == "Journal of Hematology & Oncology 2018, vol. 11, no. 1"
    conflict = DS.conflicts.set_index("id").at["sealand-dexamethasone", "source_b"]
    assert conflict == "M4"  # the registry title names dexamethasone
    assert DS.cohorts.set_index(["study", "cohort"]).loc[("sealand-ash2025", "all"), "source"] == "M3"
    assert DS.sources.set_index("source").at["M5", "kind"] == "trial listing (Cancer Council Victoria trials search)"


def test_every_source_of_the_pack_is_used():
    used = set()
    for table in ("studies", "cohorts", "outcomes", "comparisons", "adverse_events", "trials", "approvals",
                  "syntheses"):
        used |= set(getattr(DS, table)["source"].dropna())
    used |= set(DS.conflicts["source_a"]) | set(DS.conflicts["source_b"])
    # cited in words where they add facts to another source's row: M5 (registry listing), M17 and
    # M18 (BOSTON baseline), N5 (the HiDAC/Mito article's citation)
    assert used | {"M5", "M17", "M18", "N5"} >= PACK
    assert "M5" in DS.conflicts.set_index("id").at["sealand-dexamethasone", "note"]
    assert "(M5)" in DS.studies.set_index("study").at["sealand-ash2025", "dose_schedule"]
    assert "N5" in DS.studies.set_index("study").at["s-hidac-mito-jho2018", "report"]


# --- linked reports --------------------------------------------------------------------------------

@pytest.mark.parametrize("trial,review_study,new_study", [
    ("SD-PH1", "sd-phase1-ref12", "sd-ph1-blood"),
    ("SEL-HIDAC-MITO-PH1", "s-hidac-mito-ref25", "s-hidac-mito-jho2018"),
    ("SEL-DEC-PH1", "s-dec-ref23", "s-dec-n11"),
    ("SEL-AML-PH1", "s-aml-ref22", "s-aml-n11"),
    ("STORM", "storm-ref13", "storm-consensus-2020"),
])
def test_reports_of_a_trial_are_linked_side_by_side(trial, review_study, new_study):
    doc = run_json("show", trial)
    studies = [r["study"] for r in doc["reports"]]
    assert review_study in studies and new_study in studies
    assert "linked" in DS.trials.set_index("trial").at[trial, "note"] or trial == "STORM"


def test_reports_not_linked_without_facts():
    st = DS.studies.set_index("study")
    for study in ("sdd-ref20", "spd-ref19", "s-sora-ref24"):
        assert not isinstance(st.at[study, "trial"], str), study
    assert "not linked" in DS.trials.set_index("trial").at["STOMP", "note"]
    assert "not linked" in DS.trials.set_index("trial").at["SEL-SORA-PH12", "note"]


def test_pool_keeps_the_whole_population_of_a_linked_trial():
    r = run("pool", "-d", "MM", "--by", "regimen", "-f", "csv")
    assert "SD-PH1: pooled the review summary report sd-phase1-ref12 [review], population 'all patients " \
        "(MM and WM)' (8/84)" in r.stderr


# --- conflicts: every one the pack lists is flagged by the audit -------------------------------------

def _audit():
    return run_csv("audit")


def test_conflicts_are_flagged():
    rows = _audit()
    within = {(r["study"], r["cohort"], r["measure"], r["check"]) for r in rows}
    # DICE: 91% and 82% printed beside 10 evaluable and 11 enrolled (N3); no whole count of 10 gives either
    assert ("sel-dice-ph1", "evaluable", "ORR", "percentage vs denominator") in within
    assert ("sel-dice-ph1", "evaluable", "CR", "percentage vs denominator") in within
    # SDd: N = 30 in the design, 34 in the baseline table, cohorts 3 + 6 + 31 (M10)
    assert ("stomp-sdd-eha2019", "baseline", "n", "cohort within parent") in within
    assert ("stomp-sdd-eha2019", "all", "n", "subgroups within whole") in within
    sdd = next(r for r in rows if r["study"] == "stomp-sdd-eha2019" and r["check"] == "subgroups within whole")
    assert (sdd["reported"], sdd["computed"]) == ("30", "40")
    stated = {r["measure"]: r for r in rows if r["section"] == "stated conflict"}
    assert stated["selinexor dose carried into phase II"]["reported"].startswith("40 mg/m2")  # N8
    assert stated["selinexor dose carried into phase II"]["computed"].startswith("55 mg/m2")  # N7
    assert stated["randomization ratio against arm sizes"]["computed"] == "84 vs 65 randomized [M3]"
    label = stated["Sd label safety population and thrombocytopenia (all grades)"]
    assert "n = 202" in label["reported"] and "[L1]" in label["reported"]
    assert "n = 214" in label["computed"] and "[M20]" in label["computed"]
    storm = stated["ORR cited for STORM"]
    assert storm["reported"].startswith("25.3%") and "[M19]" in storm["reported"]
    assert "anti-CD3 mAb" in stated["prior antibody required for entry"]["computed"]
    assert "(n = 12)" in stated["ITT population of the phase 1 portion"]["computed"]
    between = {(r["trial"], r["metric"]) for r in rows if r["section"] == "between reports of one trial"}
    assert ("STORM", "orr_percent") in between  # 25.3 (M19) beside 26 (review, S1)
    # the label's two populations are both stored, each with its own n
    ae = DS.adverse_events.set_index("id")
    us, my = ae.loc["label-mm-thrombocytopenia-all"], ae.loc["label-my-sd-thrombocytopenia"]
    assert (us["n"], us["percent_reported"], my["n"], my["percent_reported"]) == (202, 74, 214, 75)


def test_audit_text_names_the_stated_conflicts():
    out = run("audit", "-f", "plain").stdout
    assert "Stated conflicts:" in out and "55 mg/m2" in out


def test_no_conflict_where_the_pack_finds_none():
    rows = _audit()
    assert not [r for r in rows if r["study"] in ("s-hidac-mito-jho2018", "march-bmcmed-2022")]


# --- diseases, measures, age, trials, syntheses as a user runs them ----------------------------------

def test_list_myelofibrosis():
    rows = run_csv("list", "--disease", "MF")
    # the gap pack adds SENTRY-2 as an interview names it (G23) and selinexor + ruxolitinib at ASH 2024 (G24)
    assert {r["study"] for r in rows} == {"sentry-ph1-n1", "sentry-ph3-n2", "sentry2-n1", "sentry2-g23",
                                          "sel-rux-mf-pumch-ash2024"}
    assert run_csv("list", "--disease", "myelofibrosis") == rows
    diseases = {r["disease"]: r for r in run_csv("diseases")}
    assert diseases["MF"]["parent"] == ""


def test_list_nhl_includes_t_and_nk_cell_lymphoma():
    rows = run_csv("list", "--disease", "NHL")
    assert "sel-dice-ph1" in {r["study"] for r in rows}
    assert {r["study"] for r in run_csv("list", "--disease", "NK/T-cell lymphoma")} == {"sel-dice-ph1"}
    diseases = {r["disease"]: r for r in run_csv("diseases")}
    assert (diseases["TCL"]["parent"], diseases["NKTCL"]["parent"]) == ("NHL", "NHL")
    assert {"TCL", "NKTCL"} <= set(diseases["NHL"]["includes"].split(";"))


def test_myelofibrosis_measures_at_their_timepoints():
    doc = run_json("show", "sentry-ph1-n1")
    got = {(o["measure"], o["timepoint"], o["percent_reported"]) for o in doc["outcomes"]}
    assert ("SVR35", "week 12", 71.0) in got and ("SVR35", "week 24", 79.0) in got
    tss = next(o for o in doc["outcomes"] if o["measure"] == "TSS50_sustained")
    assert tss["denominator"] is None and "TSS50 rate itself is not stated" in tss["note"]


def test_age_filter():
    kids = run_csv("list", "--age", "paediatric")
    # the gap pack's paediatric trials are design only
    assert {r["study"] for r in kids} == {"selhem-ph1", "nct04898894-registry", "sel-paeds-al-ash2018"}
    assert run_csv("list", "--age", "children") == kids
    adults = {r["study"] for r in run_csv("list", "--age", "adult")}
    assert {"sopra-2021", "hovon103-sel", "sealand-ash2025", "boston-lancet-2020"} <= adults
    assert "selhem-ph1" not in adults
    rest = {r["study"] for r in run_csv("list", "--age", "non-paediatric")}
    assert "selhem-ph1" not in rest and "march-bmcmed-2022" in rest  # age not stated: kept
    assert {r["study"] for r in run_csv("response", "--age", "paediatric")} == {"selhem-ph1"}
    assert "unknown age group" in run("list", "--age", "teen", code=2).stderr


def test_ongoing_trials_listing():
    """Ongoing only where a source states a recruitment status; a trial none states one is not
    guessed ongoing from a lack of figures, nor 'registered' for being in a registry."""
    rows = {r["trial"]: r for r in run_csv("trials", "--status", "ongoing")}
    assert set(rows) == {"SCOPE", "SENTRY"}
    assert rows["SCOPE"]["status"] == "active, not recruiting"
    assert rows["SENTRY"]["status"] == "recruiting" and rows["SENTRY"]["results"] == "reported"
    unreported = {r["trial"]: r for r in run_csv("trials", "--status", "unreported")}
    for trial in ("XPORT-MM-031", "SCOPE", "BENCH", "SENTRY-2", "SEL-RGDP-PH23", "KCP-8602-801"):
        assert unreported[trial]["results"] == "no result report in our sources", trial
    assert unreported["XPORT-MM-031"]["status"] == ""  # the listing states no status
    for done in ("SEALAND", "SELHEM", "BOSTON", "MARCH", "STOMP", "SEL-IA-PH2"):
        assert done not in rows and done not in unreported, done
    everything = {r["trial"]: r for r in run_csv("trials")}
    assert everything["SEALAND"]["status"] == "stopped early"
    mm = {r["trial"] for r in run_csv("trials", "--status", "unreported", "--disease", "MM")}
    assert "SENTRY-2" not in mm and "XPORT-MM-031" in mm
    reg = DS.studies.set_index("study")
    for s in ("xport-mm-031-listing", "scope-listing", "bench-m14", "sentry2-n1", "sel-rgdp-eudract"):
        assert reg.at[s, "report_role"] == "registration", s
    assert not DS.outcomes["study"].isin(["xport-mm-031-listing", "scope-listing", "bench-m14", "sentry2-n1",
                                          "sel-rgdp-eudract", "sel-ia-ash2015", "stomp-sdd-eha2019",
                                          "stomp-spd-ash2019"]).any()


def test_syntheses_are_kept_apart_and_never_pooled():
    syn = set(DS.studies.loc[DS.studies["evidence_type"] == "systematic review", "study"])
    assert syn == {"selinexor-mm-meta-analysis", "xvd-network-meta-analysis", "selinexor-aml-systematic-review",
                   "dreamm2-storm-maic", "selinexor-thesis-meta-analysis"}  # the comparator and gap packs
    assert not DS.outcomes["study"].isin(syn).any()
    r = run("pool", "-d", "MM", "--by", "regimen", "-f", "csv")
    pooled = {x["study"] for x in run_csv("pool", "-d", "MM", "--by", "regimen")}
    assert not pooled & syn
    assert ("published pooled ORR of selinexor-mm-meta-analysis (population selinexor-based treatment in "
            "myeloma (6 studies, 477 patients)) [M8, peer-reviewed systematic review and "
            "meta-analysis (Front. Pharmacol., 03 December 2021)]: 43% (18 to 67%") in r.stderr
    # each published figure says whose it is: the thesis's subgroup and regimen figures are told apart
    assert "published pooled ORR of selinexor-thesis-meta-analysis (population XVd group; regimen SVd)" in r.stderr
    assert ("published pooled ORR of selinexor-thesis-meta-analysis (population 7 or more prior treatments) "
            in r.stderr)
    aml = {x["study"] for x in run_csv("pool", "-d", "AML", "-m", "CR_CRi", "--by", "regimen")}
    assert "rw-aml-tongji" not in aml  # a real-world series is not pooled with trials
    rows = run_csv("syntheses", "--disease", "MM")
    orr = next(x for x in rows if x["measure"] == "ORR")
    assert (orr["value"], orr["low"], orr["high"], orr["source"]) == ("43.0", "18.0", "67.0", "M8")
    assert orr["source_kind"].startswith("peer-reviewed systematic review")
    out = run("show", "xvd-network-meta-analysis", "-f", "plain").stdout
    assert "never pooled again" in out and "PFS rank" in out
    assert {x["study"] for x in run_csv("list", "--type", "review")} == syn


def test_source_kind_is_visible_for_secondary_sources():
    rows = {r["source"]: r for r in run_csv("sources")}
    assert rows["N1"]["kind"].startswith("news/feature article")
    assert rows["M6"]["kind"].startswith("news report of a phase 1 journal article")
    text = run("cite", "s-dec-n11").stdout
    assert "a secondary source" in text


def test_a_design_no_source_states_is_said_to_be_unstated():
    rows = {r["study"]: r for r in run_csv("list", "-d", "MM")}
    assert rows["bench-m14"]["design"] == "phase 3, randomization not stated"  # M14 names no design
    assert rows["scope-listing"]["design"] == "phase 1/2, randomization not stated"
    mf = {r["study"]: r["design"] for r in run_csv("list", "-d", "MF")}
    assert all(d.endswith("randomization not stated") for d in mf.values()), mf
    assert "bench-m14" not in {r["study"] for r in run_csv("list", "--non-randomized")}
    assert "bench-m14" not in {r["study"] for r in run_csv("list", "--randomized")}
    assert {r["study"] for r in run_csv("list", "--design", "randomization not stated")} >= {"bench-m14"}


def test_reports_of_different_regimens_in_one_trial_are_not_compared():
    rows = run_csv("audit")
    between = {r["trial"] for r in rows if r["section"] == "between reports of one trial"}
    assert not any(t.startswith("STOMP") for t in between)  # SDd and SPd are two arms, not two reports
    stated = {r["trial"] for r in rows if r["section"] == "stated conflict"} if rows else set()
    assert any(r["study"] == "stomp-sdd-eha2019" and r["section"] == "stated conflict" for r in rows), stated


def test_the_paediatric_study_shows_its_response():
    (selhem,) = [r for r in run_csv("list", "--age", "paediatric") if r["study"] == "selhem-ph1"]
    assert (selhem["depth"], selhem["depth_count"], selhem["depth_denominator"]) == ("CR/CRi", "7", "15")
