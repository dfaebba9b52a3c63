"""The comparator pack (C1-C43): randomized trials with no XPO1-inhibitor arm, entered for the
anchored indirect comparisons. Every stored figure is checked against the text of its pack row
(as the pack prints it, with its source id); where the pack itself is beside the project (the
shared sources folder), the row text is also found in it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from xpo1cli import data

from .conftest import ROOT, one_row

DS = data.load()
PACK_FILE = "comparators-2026-12.md"


def pack_text() -> str | None:
    """The pack's text where it is beside the project (XPO1_PACKS names another folder)."""
    folder = Path(os.environ.get("XPO1_PACKS") or ROOT.parent / "shared" / "sources")
    path = folder / PACK_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else None


# (result id, source id, the pack row's text as printed, {field: stored value})
PACK_RESULTS = [
    ("endeavor-pfs-primary", "C3",
     "medians 18.7 vs 9.4 mo; HR 0.53 (0.44–0.65), p < 0.0001; median FU 11.9 (Kd) / 11.1 (Vd) mo",
     dict(value_a=18.7, value_b=9.4, estimate=0.53, ci_low=0.44, ci_high=0.65, p_text="< 0.0001",
          followup_a=11.9, followup_b=11.1, data_cut="primary")),
    ("endeavor-os-ia2", "C4",
     "medians 47.6 (42.5–NE) vs 40.0 (32.6–42.3) mo; HR 0.791 (0.648–0.964), one-sided p = 0.010; "
     "median FU 37.5 vs 36.9 mo",
     dict(value_a=47.6, value_a_low=42.5, value_b=40.0, value_b_low=32.6, value_b_high=42.3, estimate=0.791,
          ci_low=0.648, ci_high=0.964, p_value=0.010, followup_a=37.5, followup_b=36.9, data_cut="interim",
          cut_date="2017-01-03")),
    ("endeavor-os-updated", "C5", "medians 47.8 vs 38.8 mo; HR 0.76 (0.633–0.915); median FU 44.3 vs 43.7 mo",
     dict(value_a=47.8, value_b=38.8, estimate=0.76, ci_low=0.633, ci_high=0.915, followup_a=44.3,
          followup_b=43.7, data_cut="updated", cut_date="2017-07-19")),
    ("endeavor-duration-ia2", "C4", "48 vs 27 weeks", dict(value_a=48, value_b=27, unit="weeks")),
    ("endeavor-ae3-updated", "C5", "exposure-adjusted: 162.31 (Kd) vs 175.90 (Vd) per 100 patient-years",
     dict(value_a=162.31, value_b=175.90, unit="per 100 patient-years")),
    ("endeavor-pn2", "C42", "7% vs 35%", dict(value_a=7, value_b=35, unit="percent")),
    ("castor-pfs-primary", "C12", "median FU 7.4 mo (C12)", dict(followup=7.4, data_cut="primary")),
    ("castor-pfs-fu19", "C10", "16.7 vs 7.1 mo; HR 0.31 (0.24–0.39), p < 0.0001",
     dict(followup=19.4, value_a=16.7, value_b=7.1, estimate=0.31, ci_low=0.24, ci_high=0.39)),
    ("castor-orr-fu19", "C10", "83.8% vs 63.2%", dict(value_a=83.8, value_b=63.2, unit="percent")),
    ("castor-pfs-fu40", "C11", "16.7 vs 7.1 mo; HR 0.31 (0.25–0.40), p < 0.0001",
     dict(followup=40.0, value_a=16.7, value_b=7.1, estimate=0.31, ci_low=0.25, ci_high=0.40)),
    ("castor-pfs-lenref-fu40", "C11", "7.8 vs 4.9 mo; HR 0.44 (0.28–0.68); n 60 vs 81",
     dict(value_a=7.8, value_b=4.9, estimate=0.44, ci_low=0.28, ci_high=0.68, n_a=60, n_b=81,
          population="lenalidomide-refractory")),
    ("castor-os-final", "C12", "49.6 vs 38.5 mo; HR 0.74 (0.59–0.92), p = 0.0075",
     dict(followup=72.6, value_a=49.6, value_b=38.5, estimate=0.74, ci_low=0.59, ci_high=0.92, p_value=0.0075,
          data_cut="final")),
    ("castor-thrombo-final", "C12", "46.1% vs 32.9%", dict(value_a=46.1, value_b=32.9)),
    ("lepus-pfs", "C29", "14.8 vs 6.3 mo; HR 0.35 (0.24–0.51), p < 0.00001",
     dict(followup=25.1, value_a=14.8, value_b=6.3, estimate=0.35, ci_low=0.24, ci_high=0.51, p_text="< 0.00001")),
    ("lepus-orr", "C29", "84.7% vs 66.7% (p = 0.00314)", dict(value_a=84.7, value_b=66.7, p_value=0.00314)),
    ("optimismm-pfs-primary", "C14", "11.20 (9.66–13.73) vs 7.10 (5.88–8.48) mo; HR 0.61 (0.49–0.77), p < 0.0001",
     dict(followup=15.9, value_a=11.20, value_a_low=9.66, value_a_high=13.73, value_b=7.10, value_b_low=5.88,
          value_b_high=8.48, estimate=0.61, ci_low=0.49, ci_high=0.77)),
    ("optimismm-pfs-final", "C14", "HR 0.56 (0.46–0.68), p < 0.0001",
     dict(followup=64.5, cut_date="2022-05-13", estimate=0.56, ci_low=0.46, ci_high=0.68, data_cut="final")),
    ("optimismm-os-final", "C14", "35.6 vs 31.6 mo; HR 0.94 (0.77–1.15), p = 0.571",
     dict(value_a=35.6, value_b=31.6, estimate=0.94, ci_low=0.77, ci_high=1.15, p_value=0.571)),
    ("panorama-pfs", "C20", "0.63 (0.52–0.76), p < 0.0001 (company report)",
     dict(estimate=0.63, ci_low=0.52, ci_high=0.76, p_text="< 0.0001")),
    ("panorama-fu", "C18", "| median FU (PanoVd arm) | 6.47 mo | C18 |", dict(followup_a=6.47)),
    ("panorama-os-final", "C19", "40.3 (35.0–44.8) vs 35.8 (29.0–40.6) mo; HR 0.94 (0.78–1.14), p = 0.54",
     dict(cut_date="2015-06-29", value_a=40.3, value_a_low=35.0, value_a_high=44.8, value_b=35.8, value_b_low=29.0,
          value_b_high=40.6, estimate=0.94, ci_low=0.78, ci_high=1.14, p_value=0.54)),
    ("elo-vd-pfs", "C23", "9.7 vs 6.9 mo; HR 0.72 with a **70%** CI of 0.59–0.88; stratified p = 0.09",
     dict(value_a=9.7, value_b=6.9, estimate=0.72, ci_low=0.59, ci_high=0.88, ci_level=70, p_value=0.09)),
    ("elo-vd-orr", "C23", "66% vs 63%", dict(value_a=66, value_b=63)),
    ("elo-vd-os-early", "C23", "HR 0.61 (70% CI 0.43–0.85)",
     dict(estimate=0.61, ci_low=0.43, ci_high=0.85, ci_level=70)),
    ("bellini-pfs-primary", "C25", "22.4 vs 11.5 mo; HR 0.63 (0.44–0.90), p = 0.010",
     dict(followup=18.7, assessment="IRC", value_a=22.4, value_b=11.5, estimate=0.63, ci_low=0.44, ci_high=0.90,
          p_value=0.010)),
    ("bellini-orr-primary", "C25", "82% vs 68% (p = 0.0081)", dict(value_a=82, value_b=68, p_value=0.0081)),
    ("bellini-deaths-primary", "C25", "21% vs 11%", dict(value_a=21, value_b=11)),
    ("bellini-os-primary", "C25", "HR 2.03 (1.04–3.95), p = 0.034",
     dict(estimate=2.03, ci_low=1.04, ci_high=3.95, p_value=0.034)),
    ("bellini-os-final", "C26", "OS HR 1.19 (p = 0.39; CI not printed)",
     dict(followup=45.6, estimate=1.19, p_value=0.39)),
    ("bellini-pfs-final", "C26", "PFS 23.4 vs 11.4 mo, HR 0.58 (p = 0.00026)",
     dict(value_a=23.4, value_b=11.4, estimate=0.58, p_value=0.00026)),
    ("bellini-thrombo-final", "C26", "thrombocytopenia 26% vs 40%", dict(value_a=26, value_b=40)),
    ("bellini-neutro-final", "C26", "neutropenia 30% vs 8%", dict(value_a=30, value_b=8)),
    ("dreamm7-pfs-primary", "C30", "36.6 vs 13.4 mo; HR 0.41 (0.31–0.53), p < 0.00001",
     dict(followup=28.2, value_a=36.6, value_b=13.4, estimate=0.41, ci_low=0.31, ci_high=0.53)),
    ("dreamm7-orr-primary", "C30", "82.7% vs 71.3%", dict(value_a=82.7, value_b=71.3)),
    ("dreamm7-os-ia1", "C30", "| OS, first IA | HR 0.57 (0.40–0.80) | C30 |",
     dict(estimate=0.57, ci_low=0.40, ci_high=0.80)),
    ("dreamm7-os-ia2", "C31", "HR 0.58 (0.43–0.79), p = 0.0002",
     dict(followup=39.4, estimate=0.58, ci_low=0.43, ci_high=0.79, p_value=0.0002)),
    ("dreamm7-trae-primary", "C30", "90% vs 67% (primary, C30)", dict(value_a=90, value_b=67)),
    ("dreamm7-trae-ia2", "C31", "92% vs 67% (later, C31)", dict(value_a=92, value_b=67)),
    ("dreamm7-thrombo-ia2", "C31", "thrombocytopenia 56% vs 35% (C31)", dict(value_a=56, value_b=35)),
    ("candor-pfs-final", "C32", "PFS 28.4 vs 15.2 mo, HR 0.64 (0.49–0.83)",
     dict(followup=50, value_a=28.4, value_b=15.2, estimate=0.64, ci_low=0.49, ci_high=0.83)),
    ("candor-os-final", "C32", "OS 50.8 vs 43.6 mo, HR 0.78 (0.60–1.03), p = 0.042",
     dict(value_a=50.8, value_b=43.6, estimate=0.78, ci_low=0.60, ci_high=1.03, p_value=0.042)),
]

# (trial, arm, regimen, n, source, the pack row's text)
PACK_ARMS = [
    ("BOSTON", "svd", "SVd", 195, "C40", "SVd 195, Vd 207"), ("BOSTON", "vd", "Vd", 207, "C40", "SVd 195, Vd 207"),
    ("ENDEAVOR", "kd", "Kd", 464, "C3", "929 in total: Kd 464, Vd 465"),
    ("ENDEAVOR", "vd", "Vd", 465, "C3", "929 in total: Kd 464, Vd 465"),
    ("CASTOR", "dvd", "DVd", 251, "C11", "498: DVd 251, Vd 247"),
    ("CASTOR", "vd", "Vd", 247, "C11", "498: DVd 251, Vd 247"),
    ("LEPUS", "dvd", "DVd", 141, "C29", "211: DVd 141, Vd 70"), ("LEPUS", "vd", "Vd", 70, "C29", "211: DVd 141, Vd 70"),
    ("OPTIMISMM", "pvd", "PVd", 281, "C14", "PVd 281, Vd 278"),
    ("OPTIMISMM", "vd", "Vd", 278, "C14", "PVd 281, Vd 278"),
    ("PANORAMA-1", "panovd", "PanoVd", 387, "C18;C19", "768: PanoVd 387, Vd 381"),
    ("PANORAMA-1", "vd", "Vd", 381, "C18;C19", "768: PanoVd 387, Vd 381"),
    ("ELO-VD", "evd", "EVd", 77, "C23", "152: EVd 77, Vd 75 (150 treated)"),
    ("ELO-VD", "vd", "Vd", 75, "C23", "152: EVd 77, Vd 75 (150 treated)"),
    ("BELLINI", "venvd", "VenVd", 194, "C26", "Ven 194, placebo 97"),
    ("BELLINI", "vd", "Vd", 97, "C26", "Ven 194, placebo 97"),
    ("DREAMM-7", "bvd", "BVd", 243, "C30", "494: BVd 243, DVd 251"),
    ("DREAMM-7", "dvd", "DVd", 251, "C30", "494: BVd 243, DVd 251"),
    ("CANDOR", "kdd", "KdD", None, "C32", "n per arm, Kd schedule | not verified"),
    ("CANDOR", "kd", "Kd", None, "C32", "n per arm, Kd schedule | not verified"),
]

# (trial, arm, field, stored value, the pack's text): the common comparator's definition
PACK_SCHEDULES = [
    ("BOSTON", "vd", "schedule", "V 1.3 mg/m² twice a week for the first 24 weeks, then once a week; d 20 mg four "
     "times a week for 24 weeks, then twice a week", None),
    ("ENDEAVOR", "vd", "route", "IV or SC", "V 1.3 mg/m² IV or SC"),
    ("CASTOR", "vd", "duration", "8 cycles only", "V 1.3 mg/m² + d 20 mg for 8 cycles only"),
    ("LEPUS", "vd", "duration", "8 cycles", "V 1.3 mg/m² + d 20 mg for 8 cycles"),
    ("PANORAMA-1", "vd", "route", "IV", "8 × 21-d cycles twice weekly, then 4 × 6-wk cycles weekly | IV"),
    ("BELLINI", "vd", "route", "SC or IV", "then 35-d cycles until progression | SC or IV"),
    ("DREAMM-7", "dvd", "duration", "up to 8 cycles", "d1, 4, 8, 11 of 21-d cycles, up to 8 cycles"),
]

# (trial, population, prior lines, region, source)
PACK_TRIALS = [
    ("ENDEAVOR", "1-3 prior lines and at least a partial response to at least one line", "1-3", None, "C3"),
    ("CASTOR", "at least 1 prior line", "≥1", None, "C11"),
    ("LEPUS", "Chinese patients, at least 1 prior line", "≥1", "China", "C29"),
    ("OPTIMISMM", "1-3 prior regimens, including a lenalidomide-containing regimen for at least 2 consecutive cycles",
     "1-3", None, "C14"),
    ("PANORAMA-1", "1-3 previous regimens", "1-3", None, "C17"),
    ("BELLINI", "1-3 previous therapies", "1-3", None, "C25"),
    ("DREAMM-7", "at least 1 prior line", "≥1", None, "C30"),
    ("CANDOR", "1-3 prior therapies", "1-3", None, "C32"),
]


def printed(value) -> list[str]:
    """The ways a stored number can stand in the pack's text (1.0 as '1.0' or '1', 0.40 as '0.40')."""
    if isinstance(value, str):
        return [value]
    forms = {f"{value:g}"}
    for d in range(1, 4):
        forms.add(f"{value:.{d}f}")
    return sorted(forms)


@pytest.mark.parametrize("rid,source,snippet,fields", PACK_RESULTS, ids=[r[0] for r in PACK_RESULTS])
def test_pack_result(rid, source, snippet, fields):
    row = one_row(DS.comparator_results, id=rid)
    assert row["source"] == source
    for field, value in fields.items():
        if isinstance(value, str):
            assert row[field] == value, field
        else:
            assert row[field] == pytest.approx(value), field
            if field not in ("ci_level", "followup", "followup_a", "followup_b", "n_a", "n_b"):
                assert any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", snippet) for f in printed(value)), field


def test_every_result_row_is_checked_here():
    assert set(DS.comparator_results["id"]) == {r[0] for r in PACK_RESULTS}


def test_result_rows_stand_on_their_pack_rows():
    text = pack_text()
    if text is None:
        pytest.skip("the source pack is not beside the project")
    lines = text.splitlines()
    for rid, source, snippet, _ in PACK_RESULTS:
        holding = [ln for ln in lines if snippet in ln]
        assert holding, f"{rid}: '{snippet}' is not in the pack"
        assert any(re.search(rf"\b{source}\b", ln) for ln in holding), f"{rid}: {source} not on the row"
    for *_, snippet in PACK_ARMS + [s for s in PACK_SCHEDULES if s[-1]]:
        assert snippet in text
    for *_, field, value, _snippet in PACK_SCHEDULES:
        if field == "schedule":
            assert value in text


@pytest.mark.parametrize("trial,arm,regimen,n,source,snippet", PACK_ARMS)
def test_pack_arm(trial, arm, regimen, n, source, snippet):
    row = one_row(DS.trial_arms, trial=trial, arm=arm)
    assert (row["regimen"], row["source"]) == (regimen, source)
    assert pd.isna(row["n"]) if n is None else row["n"] == n
    if n is not None:
        assert str(n) in snippet


@pytest.mark.parametrize("trial,arm,field,value,snippet", PACK_SCHEDULES)
def test_pack_schedule(trial, arm, field, value, snippet):
    assert one_row(DS.trial_arms, trial=trial, arm=arm)[field] == value


@pytest.mark.parametrize("trial,population,prior_lines,region,source", PACK_TRIALS)
def test_pack_trial_population(trial, population, prior_lines, region, source):
    row = one_row(DS.comparator_trials, trial=trial)
    assert (row["population"], row["prior_lines"], row["region"], row["source"]) == (
        population, prior_lines, region, source)


def test_schedules_left_empty_where_the_pack_did_not_verify_them():
    arms = DS.trial_arms.set_index(["trial", "arm"])
    for key in [("OPTIMISMM", "vd"), ("ELO-VD", "vd"), ("CANDOR", "kd")]:
        assert arms.loc[key, ["frequency", "duration", "route", "schedule"]].isna().all(), key


def test_comparator_trials_are_not_xpo1_studies_or_trials():
    trials = set(DS.comparator_trials["trial"])
    assert not trials & set(DS.trials["trial"]) and not trials & set(DS.studies["trial"].dropna())
    # every arm's trial is a comparator trial or an XPO1 trial whose arm schedule a source states
    assert set(DS.trial_arms["trial"]) <= trials | set(DS.trials["trial"])
    # no comparator regimen names an XPO1 inhibitor
    regimens = DS.regimens.set_index("regimen")
    compared = set(DS.trial_arms.loc[DS.trial_arms["trial"].isin(trials), "regimen"])
    assert regimens.loc[sorted(compared), "agent"].isna().all()


def test_the_pack_conflicts_are_kept_with_both_readings():
    conflicts = DS.conflicts.set_index("id")
    expected = {"endeavor-phase": ("C3", "C42"), "endeavor-os-cuts": ("C4", "C5"),
                "castor-pfs-ci-cuts": ("C10", "C11"), "castor-primary-followup": ("C12", "C41"),
                "panorama-os-median": ("C19", "C22"), "dreamm7-trae-cuts": ("C30", "C31")}
    for cid, (a, b) in expected.items():
        assert (conflicts.at[cid, "source_a"], conflicts.at[cid, "source_b"]) == (a, b)
    assert conflicts.at["panorama-os-median", "reading_a"] == "40.3 months"
    # figures read once and not re-found are never stored as results
    assert not DS.comparator_results["source"].isin(["C22", "C41"]).any()


def test_sources_carry_the_pack_addresses():
    src = DS.sources.set_index("source")
    used = set(DS.comparator_results["source"]) | set(DS.comparator_trials["source"])
    assert all(isinstance(src.at[s, "address"], str) and src.at[s, "address"].startswith("http") for s in used)
    assert src.at["C23", "address"].endswith("Randomized-phase-2-study-elotuzumab-plus")
    # the XVd network meta-analysis (C35) is the page M9 already holds
    assert src.at["M9", "address"] == "https://pmc.ncbi.nlm.nih.gov/articles/PMC8460427"
    text = pack_text()
    if text is not None:
        for s in used:
            assert src.at[s, "address"] in text, s


def test_show_finds_a_comparator_trial_with_its_reports_and_conflicts():
    from .conftest import run, run_json

    out = run("show", "endeavor", "-f", "plain").stdout
    assert "comparator trial (no XPO1-inhibitor arm)" in out
    assert "0.791 (0.648–0.964, 95%)" in out and "0.76 (0.633–0.915, 95%)" in out
    assert "phase II" in out  # the pack's conflict, both readings kept
    doc = run_json("show", "ELO-VD")
    pfs = next(r for r in doc["results"] if r["id"] == "elo-vd-pfs")
    assert (pfs["estimate"], pfs["ci_low"], pfs["ci_high"], pfs["ci_level"]) == (0.72, 0.59, 0.88, 70)
    assert {a["regimen"] for a in doc["arms"]} == {"EVd", "Vd"}


def test_the_published_maic_is_kept_as_printed_and_named_by_indirect():
    from xpo1cli import indirect

    syn = DS.syntheses.set_index("id")
    for sid, figures in (("c34-os-hr", (0.53, 0.34, 0.83)), ("c34-dor-hr", (0.41, 0.21, 0.83))):
        assert tuple(syn.loc[sid, ["value", "low", "high"]]) == figures
    assert (syn.at["c34-n-belamaf", "value"], syn.at["c34-n-sd", "value"]) == (97, 123)
    assert syn.loc[["c34-os-hr", "c34-dor-hr"], "source"].eq("C34").all()
    text = pack_text()
    if text is not None:
        assert "OS HR 0.53 (0.34–0.83), p = 0.005; DoR HR 0.41 (0.21–0.83), p = 0.013" in text
        assert "belamaf 2.5 mg/kg (n = 97) vs Sd 80/20 mg (n = 123)" in text
    ans = indirect.compare(DS, "SVd", "IRd")
    assert any("PFS rank, second line (2L): 6 of 21 [M9]" in p for p in ans.published)
