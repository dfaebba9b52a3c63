"""The gap pack (G1-G32): approvals after 2020, eltanexor in MDS from secondary sources, SADAL
survival by subgroup and the post-hoc analyses, paediatric trials. Each stored figure against the
pack's row as it prints it, with its source id; the pack's text too where it is beside the project."""

from __future__ import annotations

import os
from pathlib import Path

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
    src = DS.sources.set_index("source")
    for s in {a[1] for a in PACK_APPROVALS} | {o[0] for o in PACK_OUTCOMES}:
        assert src.at[s, "address"] in text, s


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
