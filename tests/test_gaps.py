"""The gap pack (G1-G32): approvals after 2020, eltanexor in MDS from secondary sources, SADAL
survival by subgroup and the post-hoc analyses, paediatric trials. Each stored figure against the
pack's row as it prints it, with its source id; the pack's text too where it is beside the project."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from xpo1cli import data

from .conftest import ROOT, one_row, run_csv

DS = data.load()


def pack_text() -> str | None:
    folder = Path(os.environ.get("XPO1_PACKS") or ROOT.parent / "shared" / "sources")
    path = folder / "gaps-2026-12.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


# (approval id, source, regimen, authority, the pack's text that the row's date or indication holds)
PACK_APPROVALS = [
    ("eu-chmp-sd-2021", "G1", "Sd", "EMA (CHMP)", "28 January 2021"),
    ("eu-ec-sd-conditional", "G2", "Sd", "European Commission", "30 March 2021"),
    ("eu-chmp-svd-2022", "G3", "SVd", "EMA (CHMP)", "20 May 2022"),
    ("eu-ec-svd-full-2022", "G4", "SVd", "European Commission", "21 July 2022"),
    ("ch-sd-2025", "G5", "Sd", "Swissmedic", "29 April 2025"),
    ("china-sd-nmpa-2021", "G6", "Sd", "China NMPA", "17 December 2021"),
    ("china-s-dlbcl-nmpa", "G10", "S", "China NMPA", "SEARCH: 60 patients in China"),
    ("tw-sd-2022", "G7", "Sd", "Taiwan TFDA", "21 October 2022"),
    ("tw-svd-2022", "G7", "SVd", "Taiwan TFDA", "21 October 2022"),
    ("tw-s-dlbcl-2022", "G7", "S", "Taiwan TFDA", "21 October 2022"),
    ("hk-sd-2023", "G8", "Sd", "Hong Kong (regulator not named on the stored page)", "17 July 2023"),
    ("macau-sd-2023", "G9", "Sd", "Macau (regulator not named on the stored page)", "7 December 2023"),
    ("au-tga-registration", "G26", None, "TGA (Australia)", "3 March 2022"),
    ("au-svd-indication", "G27", "SVd", "TGA (Australia)", "SVd after ≥1 prior therapy"),
    ("au-sd-indication", "G27", "Sd", "TGA (Australia)", "Xd after ≥3 prior therapies"),
    ("au-pbs-sd", "G28", "Sd", "PBS (Australia)", "1 September 2022"),
    ("kr-sd", "G29", "Sd", "MFDS (South Korea)", "October 2020"),
    ("kr-s-dlbcl", "G29", "S", "MFDS (South Korea)", "MFDS approval of Xd and of DLBCL monotherapy"),
    ("th-svd", "G11", "SVd", "Thai FDA", "SVd and Xd"), ("th-sd", "G11", "Sd", "Thai FDA", "SVd and Xd"),
    ("fda-eltanexor-mds-orphan", "G12", "E", "FDA", "January 2022"),
    ("fda-eltanexor-mds-fast-track", "G12", "E", "FDA", "20 July 2022"),
    ("ec-eltanexor-mds-orphan", "G12", "E", "European Commission", "20 July 2022"),
    ("fda-s-mf-fast-track", "G23", "S", "FDA", "July 2023 (agrees with N1)"),
]

FU, PH, MED, PCT = "sadal-followup-2021", "sadal-posthoc-134", "median_months", "percent_reported"
# (source, study, cohort, measure, field, value, the pack's text)
PACK_OUTCOMES = [
    ("G13", "eltanexor-mds-isr", "all", "ORR", PCT, 53, "overall response rate, % | 53"),
    ("G13", "eltanexor-mds-isr", "all", "OS", MED, 9.9, "median overall survival, months | 9.9"),
    ("G17", FU, "non-responders", "OS", MED, 4.9, "not reached / 4.9 (p < 0.0001)"),
    ("G17", FU, "age-lt70", "OS", MED, 11.1, "age < 70 / age ≥ 70 | 11.1 / 7.8"),
    ("G17", FU, "age-ge70", "OS", MED, 7.8, "age < 70 / age ≥ 70 | 11.1 / 7.8"),
    ("G17", FU, "prior-asct", "OS", MED, 10.9, "with prior ASCT / without | 10.9 / 7.8"),
    ("G17", FU, "no-prior-asct", "OS", MED, 7.8, "with prior ASCT / without | 10.9 / 7.8"),
    ("G17", FU, "refractory-last", "OS", MED, 7.0, "not refractory | 7.0 / 11.1"),
    ("G17", FU, "not-refractory-last", "OS", MED, 11.1, "not refractory | 7.0 / 11.1"),
    ("G32", PH, "prior-asct", "ORR", PCT, 42.5, "with prior ASCT | 42.5 / 50.0"),
    ("G32", PH, "prior-asct", "DCR", PCT, 50.0, "with prior ASCT | 42.5 / 50.0"),
    ("G32", PH, "responded-last", "ORR", PCT, 35.9, "last line of therapy | 35.9 / 43.5"),
    ("G32", PH, "responded-last", "DCR", PCT, 43.5, "last line of therapy | 35.9 / 43.5"),
    ("G32", PH, "primary-refractory", "ORR", PCT, 21.8, "primary refractory DLBCL, % | 21.8"),
    ("G18", PH, "primary-refractory", "ORR", PCT, 25.4, "(subgroup n not shown) | 25.4 / 10"),
    ("G18", PH, "primary-refractory", "CR", PCT, 10, "(subgroup n not shown) | 25.4 / 10"),
]
# G19: of the 39 responders of the FDA population, the share still in response at each landmark
PACK_DURABILITY = [("3 months", 56), ("6 months", 38), ("12 months", 15)]
G19_TEXT = "responders, n; still in response at 3 / 6 / 12 months, % | 39; 56 / 38 / 15 | G19"
# (comparison id, source, statistic, estimate, lower, upper, the pack's text)
PACK_COMPARISONS = [
    ("rw-bp-ttf-hr", "G31", "HR", 0.50, 0.27, 0.92, "| | 0.50 (0.27–0.92) | G31 |"),
    ("rw-bp-stop-or", "G31", "OR", 4.0, 1.75, 9.3, "| 4.0 (1.75–9.3) | | G31 |"),
]
# (synthesis id, regimen, value, unit, the pack's text)
PACK_SYNTHESES = [
    ("g25-studies", None, 10, "count", "| studies; patients | 10; 649 | G25 |"),
    ("g25-patients", None, 649, "count", "| studies; patients | 10; 649 | G25 |"),
    ("g25-orr", None, 49, "percent", "clinical benefit rate, % | 49 / 59 | G25"),
    ("g25-cbr", None, 59, "percent", "clinical benefit rate, % | 49 / 59 | G25"),
    ("g25-orr-lt7", None, 57, "percent", "< 7 / ≥ 7 | 57 / 24 | G25"),
    ("g25-orr-ge7", None, 24, "percent", "< 7 / ≥ 7 | 57 / 24 | G25"),
    ("g25-orr-svd", "SVd", 84, "percent", "XVd / XKd / XPd / Xd | 84 / 60 / 69 / 24 | G25"),
    ("g25-orr-skd", "SKd", 60, "percent", "XVd / XKd / XPd / Xd | 84 / 60 / 69 / 24 | G25"),
    ("g25-orr-spd", "SPd", 69, "percent", "XVd / XKd / XPd / Xd | 84 / 60 / 69 / 24 | G25"),
    ("g25-orr-sd", "Sd", 24, "percent", "XVd / XKd / XPd / Xd | 84 / 60 / 69 / 24 | G25"),
]
# the pack's numbered flags and the conflicts row that keeps each (flags 7 and 10 are not conflicts:
# a figure held back for want of an address, and snapshots of a count at different dates)
PACK_FLAGS = {1: "eu-svd-indication-wording", 2: "au-sd-two-populations", 3: "sd-us-approval-month",
              4: "eltanexor-mds-which-study", 5: "sadal-primary-refractory-orr", 6: "thesis-meta-analysis-garbled",
              8: "sentry-phase3-name", 9: "rw-bp-ttf-direction"}
NEW_SOURCES = ("G16", "G19", "G23", "G24", "G25", "G31")


@pytest.mark.parametrize("aid,source,regimen,authority,text", PACK_APPROVALS, ids=[a[0] for a in PACK_APPROVALS])
def test_pack_approval(aid, source, regimen, authority, text):
    row = one_row(DS.approvals, id=aid)
    assert (row["source"], row["regimen"], row["authority"]) == (source, regimen, authority)
    stated = " ".join(v for v in (row["note"], row["indication"], row["pathway"]) if isinstance(v, str))
    words = text.replace("≥", "at least ").replace("Xd", "").replace("SVd", "").split()
    assert text in stated or all(w in stated for w in words if w[0].isdigit()), stated


@pytest.mark.parametrize("source,study,cohort,measure,field,value,text", PACK_OUTCOMES)
def test_pack_outcome(source, study, cohort, measure, field, value, text):
    row = one_row(DS.outcomes, study=study, cohort=cohort, measure=measure, source=source)
    assert row[field] == pytest.approx(value)


def test_rows_stand_on_their_pack_rows():
    text = pack_text()
    if text is None:
        pytest.skip("the source pack is not beside the project")
    lines = text.splitlines()
    for aid, source, *_, snippet in PACK_APPROVALS:
        assert any(snippet in ln and source in ln for ln in lines), aid
    for source, *_, snippet in PACK_OUTCOMES:
        assert any(snippet in ln and source in ln for ln in lines), snippet
    for *_, snippet in (*PACK_COMPARISONS, *PACK_SYNTHESES, ("", G19_TEXT)):
        assert snippet in text, snippet
    src = DS.sources.set_index("source")
    for s in {a[1] for a in PACK_APPROVALS} | {o[0] for o in PACK_OUTCOMES} | set(NEW_SOURCES):
        assert src.at[s, "address"] in text, s
    assert src.at["G31", "doi"] in text and src.at["G31", "citation"].endswith("2024-01-15")


def test_responders_median_not_reached_is_empty_and_said():
    row = one_row(DS.outcomes, study="sadal-followup-2021", cohort="responders", measure="OS", source="G17")
    assert row["median_months"] != row["median_months"] and row["note"] == "median not reached"


def test_eltanexor_mds_figures_stand_apart_from_the_registered_trial():
    st = one_row(DS.studies, study="eltanexor-mds-isr")
    assert st["trial"] is None or st["trial"] != st["trial"]  # never attached to NCT02649790 (flag 4)
    assert DS.sources.set_index("source").at["G13", "kind"].endswith("(secondary)")
    conflicts = DS.conflicts.set_index("id")
    assert conflicts.at["eltanexor-mds-which-study", "source_b"] == "G12"
    assert conflicts.at["sadal-primary-refractory-orr", "reading_b"] == "21.8%"
    assert conflicts.at["sd-us-approval-month", "reading_a"] == "In June 2019"


def test_paediatric_trials_listed_with_their_age_group():
    rows = {r["trial"]: r for r in run_csv("trials")}
    assert {"NCT03071276", "NCT04898894"} <= set(rows)
    st = DS.studies.set_index("study")
    assert st.at["nct04898894-registry", "age_group"] == "paediatric"
    assert st.at["sel-paeds-al-ash2018", "age_group"] == "paediatric"


@pytest.mark.parametrize("timepoint,value", PACK_DURABILITY)
def test_pack_durable_responses(timepoint, value):
    row = one_row(DS.outcomes, study="sadal-fda-134", cohort="responders", measure="DOR_rate", timepoint=timepoint)
    assert row["source"] == "G19" and row["percent_reported"] == pytest.approx(value)
    assert one_row(DS.cohorts, study="sadal-fda-134", cohort="responders")["n"] == 39


@pytest.mark.parametrize("cid,source,statistic,estimate,low,high,text", PACK_COMPARISONS,
                         ids=[c[0] for c in PACK_COMPARISONS])
def test_pack_comparison(cid, source, statistic, estimate, low, high, text):
    row = one_row(DS.comparisons, id=cid)
    assert (row["source"], row["statistic"], row["study"]) == (source, statistic, "rw-mm-best-practices")
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((estimate, low, high))


def test_best_practices_series_is_real_world_and_apart_from_trials():
    st = one_row(DS.studies, study="rw-mm-best-practices")
    assert st["evidence_type"] == "real-world series" and not st["randomized"]
    assert not isinstance(st["trial"], str) and st["source"] == "G31"
    cohorts = DS.cohorts[DS.cohorts["study"] == "rw-mm-best-practices"].set_index("cohort")
    assert cohorts.at["pre-bp", "n"] == 68 and cohorts.at["post-bp", "n"] == 41
    assert pd.isna(cohorts.at["all", "n"])  # the total is not printed: never filled
    # the post-BP HR is of post against pre, the OR of pre against post, as the pack prints them
    assert one_row(DS.comparisons, id="rw-bp-ttf-hr")["cohort_a"] == "post-bp"
    assert one_row(DS.comparisons, id="rw-bp-stop-or")["cohort_a"] == "pre-bp"


def test_best_practices_baseline_figures_stand_in_the_population_as_printed():
    """Every figure of the pack's G16 rows (pre-BP and post-BP columns) is in the study's population."""
    text = pack_text()
    if text is None:
        pytest.skip("the source pack is not beside the project")
    population = one_row(DS.studies, study="rw-mm-best-practices")["population"]
    rows = [ln for ln in text.split("## 4.")[1].split("## 5.")[0].splitlines() if ln.endswith("| G16 |")]
    assert len(rows) == 7
    for ln in rows:
        pre, post = ln.split("|")[2:4]
        for figure in re.findall(r"\d+(?:\.\d+)?", pre + " " + post):
            assert re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d.])", population), (figure, ln)
    assert "cohort 1 is the pre-BP group is a reading" in population  # the pack's caveat is kept


@pytest.mark.parametrize("sid,regimen,value,unit,text", PACK_SYNTHESES, ids=[s[0] for s in PACK_SYNTHESES])
def test_pack_thesis_synthesis(sid, regimen, value, unit, text):
    row = one_row(DS.syntheses, id=sid)
    assert (row["source"], row["study"], row["unit"]) == ("G25", "selinexor-thesis-meta-analysis", unit)
    assert row["value"] == pytest.approx(value)
    assert (row["regimen"] if isinstance(row["regimen"], str) else None) == regimen


def test_thesis_meta_analysis_is_a_secondary_synthesis_of_no_named_trial():
    st = one_row(DS.studies, study="selinexor-thesis-meta-analysis")
    assert st["evidence_type"] == "systematic review" and not isinstance(st["trial"], str)
    assert "secondary" in DS.sources.set_index("source").at["G25", "kind"]
    # only the first two pooled rates are mapped (flag 6): no sCR/CR/VGPR/PR/MR/PD rows
    measures = set(DS.syntheses.loc[DS.syntheses["study"] == st["study"], "measure"])
    assert measures == {"studies", "patients", "ORR", "CBR"}


def test_myelofibrosis_identities_are_design_only():
    s2 = one_row(DS.studies, study="sentry2-g23")
    assert (s2["trial"], s2["phase"], s2["regimen"], s2["report_role"]) == ("SENTRY-2", "2", "S", "registration")
    assert "NCT05980806" in one_row(DS.trials, trial="SENTRY-2")["registry"]
    rux = one_row(DS.studies, study="sel-rux-mf-pumch-ash2024")
    assert (rux["regimen"], rux["disease"], rux["source"]) == ("S-RUX", "MF", "G24") and "#1002" in rux["report"]
    for study in ("sentry2-g23", "sel-rux-mf-pumch-ash2024"):
        assert not (DS.outcomes["study"] == study).any()  # no figure the stored pages do not give
    text = pack_text()
    if text is not None:
        assert any("NCT05980806" in ln and "16 October 2024" in ln and "G23" in ln for ln in text.splitlines())
        assert any("#1002" in ln and "G24" in ln for ln in text.splitlines())


def test_every_conflict_flag_of_the_pack_is_kept():
    conflicts = DS.conflicts.set_index("id")
    assert set(PACK_FLAGS.values()) <= set(conflicts.index)
    text = pack_text()
    if text is None:
        pytest.skip("the source pack is not beside the project")
    flags = re.split(r"\n(?=\d+\. \*\*)", text.split("## Conflicts and flags")[1].split("## Verification")[0])
    by_number = {int(f.split(".")[0]): " ".join(f.split()) for f in flags if f[:1].isdigit()}
    assert set(by_number) == set(range(1, 11))
    for number, cid in PACK_FLAGS.items():
        row = conflicts.loc[cid]
        for source in (row["source_a"], row["source_b"]):
            assert source in by_number[number] or source == "S4", (cid, source)
