"""The trials of 2021-2026, checked against that source pack (ids M1-M20, N1-N13): figures as the
pack prints them with their source id, links to trials already in the data, the conflicts the
pack lists, and the new diseases, measures, age groups, syntheses and registered trials."""

from __future__ import annotations

import pytest

from xpo1cli import data

from .conftest import run, run_csv, run_json

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
]

# (source id, study, cohort, n) as printed.
PACK_POPULATIONS = [
    ("M1", "march-bmcmed-2022", "all", 82),
    ("M1", "march-bmcmed-2022", "triple-class-refractory", 20),
    ("M2", "march-bmcmed-2022", "prior-car-t", 10),
    ("M3", "sealand-ash2025", "all", 149),
    ("M3", "sealand-ash2025", "sr", 84),
    ("M3", "sealand-ash2025", "r", 65),
]


def _row(frame, **key):
    mask = True
    for k, v in key.items():
        mask = mask & (frame[k] == v)
    rows = frame[mask]
    assert len(rows) == 1, key
    return rows.iloc[0]


@pytest.mark.parametrize("source,study,cohort,measure,field,value", PACK_FIGURES)
def test_pack_figure(source, study, cohort, measure, field, value):
    row = _row(DS.outcomes, study=study, cohort=cohort, measure=measure, source=source)
    assert row[field] == pytest.approx(value)


@pytest.mark.parametrize("source,study,cohort,n", PACK_POPULATIONS)
def test_pack_population(source, study, cohort, n):
    row = _row(DS.cohorts, study=study, cohort=cohort)
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
