"""The bundled dataset against figures read in the review, and the package's own constraints."""

from __future__ import annotations

import csv
import json

import pytest

from xpo1cli import catalogue, checks, counts, data, datapackage
from xpo1cli.audit import audit

from .conftest import DATA, first_fast

DS = data.load()

# (study, cohort, measure, field, value) as the review prints them.
REVIEW_FIGURES = [
    ("sd-phase1-ref12", "all", "ORR", "percent_reported", 10),
    ("sd-phase1-ref12", "all", "CR", "count", 1),
    ("sd-phase1-ref12", "all", "PR", "count", 7),
    ("sd-phase1-ref12", "all", "MR", "count", 13),
    ("sd-phase1-ref12", "all", "MR", "percent_reported", 15),
    ("sd-phase1-ref12", "all", "CBR", "percent_reported", 25),
    ("sd-phase1-ref12", "all", "TTR", "median_months", 1),
    ("sd-phase1-ref12", "all", "TTR", "range_high", 3),
    ("sd-phase1-ref12", "all", "DOR", "median_months", 5),
    ("sd-phase1-ref12", "all", "DOR", "range_low", 2),
    ("sd-phase1-ref12", "all", "DOR", "range_high", 11),
    ("storm-ref13", "all", "ORR", "count", 32),
    ("storm-ref13", "all", "ORR", "percent_reported", 26),
    ("storm-ref13", "all", "sCR", "count", 2),
    ("storm-ref13", "all", "VGPR", "count", 6),
    ("storm-ref13", "all", "PR", "count", 24),
    ("storm-ref13", "all", "PFS", "median_months", 3.7),
    ("storm-ref13", "all", "OS", "median_months", 8.6),
    ("sid-phase1-ref14", "evaluable", "VGPR", "count", 2),
    ("sid-phase1-ref14", "evaluable", "PR", "count", 1),
    ("sid-phase1-ref14", "evaluable", "SD", "count", 7),
    ("sid-phase1-ref14", "evaluable", "PD", "count", 4),
    ("sid-phase1-ref14", "evaluable", "DOR", "range_high", 14),
    ("skd-ref15", "all", "MR", "percent_reported", 71),
    ("skd-ref15", "all", "PR", "percent_reported", 48),
    ("skd-ref15", "all", "VGPR", "percent_reported", 14),
    ("svd-ref16", "evaluable", "ORR", "count", 25),
    ("svd-ref16", "evaluable", "ORR", "denominator", 40),
    ("svd-ref16", "evaluable", "ORR", "percent_reported", 63),
    ("svd-ref16", "evaluable", "CR", "count", 3),
    ("svd-ref16", "evaluable", "VGPR", "count", 9),
    ("svd-ref16", "evaluable", "PR", "count", 13),
    ("svd-ref16", "evaluable", "PFS", "median_months", 9),
    ("srd-ndmm-ref17", "evaluable", "ORR", "count", 6),
    ("srd-ndmm-ref17", "evaluable", "ORR", "percent_reported", 86),
    ("srd-rrmm-ref18", "evaluable", "ORR", "percent_reported", 73),
    ("srd-rrmm-ref18", "len-sensitive", "ORR", "percent_reported", 91),
    ("spd-ref19", "pom-naive", "ORR", "percent_reported", 58),
    ("spd-ref19", "pom-naive", "VGPR", "count", 7),
    ("spd-ref19", "pom-naive", "PR", "count", 11),
    ("spd-ref19", "pom-naive", "PFS", "median_months", 12.2),
    ("spd-ref19", "len-pom-refractory", "ORR", "percent_reported", 31),
    ("spd-ref19", "len-pom-refractory", "PR", "count", 4),
    ("spd-ref19", "len-pom-refractory", "PFS", "median_months", 4.2),
    ("sdd-ref20", "dara-naive", "ORR", "percent_reported", 74),
    ("sdd-ref20", "dara-naive", "VGPR", "count", 5),
    ("sdd-ref20", "dara-naive", "PR", "count", 9),
    ("sdd-ref20", "dara-naive", "MR", "count", 2),
    ("sdd-ref20", "dara-naive", "SD", "count", 2),
    ("sdd-ref20", "dara-naive", "PD", "count", 1),
    ("sdd-ref20", "dara-refractory", "PD", "count", 1),
    ("sdd-ref20", "dara-refractory", "SD", "count", 1),
    ("sdoxd-ref21", "all", "ORR", "percent_reported", 15),
    ("sdoxd-ref21", "all", "CBR", "percent_reported", 26),
    ("s-aml-ref22", "evaluable", "ORR", "count", 11),
    ("s-aml-ref22", "evaluable", "ORR", "percent_reported", 14),
    ("s-aml-ref22", "evaluable", "CR", "count", 5),
    ("s-aml-ref22", "evaluable", "CRi", "count", 2),
    ("s-aml-ref22", "responders", "PFS", "median_months", 5.1),
    ("s-aml-ref22", "non-responders", "PFS", "median_months", 1.3),
    ("s-aml-ref22", "responders", "OS", "median_months", 9.7),
    ("s-aml-ref22", "non-responders", "OS", "median_months", 2.7),
    ("s-dec-ref23", "all", "ORR", "count", 10),
    ("s-dec-ref23", "all", "ORR", "percent_reported", 40),
    ("s-dec-ref23", "untreated-elderly", "ORR", "count", 4),
    ("s-dec-ref23", "untreated-elderly", "ORR", "denominator", 5),
    ("s-dec-ref23", "responders", "PFS", "median_months", 11.8),
    ("s-dec-ref23", "responders", "OS", "median_months", 12.9),
    ("s-dec-ref23", "non-responders", "PFS", "median_months", 4.4),
    ("s-dec-ref23", "non-responders", "OS", "median_months", 5.9),
    ("s-sora-ref24", "flt3i-resistant", "CR", "percent_reported", 45),
    ("s-hidac-mito-ref25", "all", "CR", "count", 10),
    ("s-hidac-mito-ref25", "all", "CR", "percent_reported", 50),
    ("s-hidac-mito-ref25", "all", "CRi", "count", 3),
    ("s-hidac-mito-ref25", "all", "PR", "count", 1),
    ("s-hidac-mito-ref25", "all", "PD", "count", 6),
    ("s-hidac-mito-ref25", "all", "PD", "percent_reported", 30),
    ("s-hidac-mito-ref25", "all", "ORR", "percent_reported", 70),
    ("s-7plus3-ref47", "evaluable", "CR_CRi", "count", 10),
    ("s-7plus3-ref47", "evaluable", "CR_CRi", "denominator", 19),
    ("s-7plus3-ref47", "evaluable", "CR_CRi", "percent_reported", 53),
    ("s-clag-ref27", "all", "CR_CRi", "count", 18),
    ("s-clag-ref27", "all", "CR_CRi", "percent_reported", 45),
    ("s-clag-ref27", "all", "DOR", "median_months", 9.1),
    ("s-clag-ref27", "all", "PFS", "median_months", 6.1),
    ("s-clag-ref27", "all", "OS", "median_months", 7.8),
    ("s-nhl-phase1-ref30", "evaluable", "ORR", "count", 22),
    ("s-nhl-phase1-ref30", "evaluable", "ORR", "percent_reported", 31),
    ("s-nhl-phase1-ref30", "evaluable", "CR", "count", 4),
    ("s-nhl-phase1-ref30", "evaluable", "PR", "count", 18),
    ("s-nhl-phase1-ref30", "evaluable", "SD", "count", 21),
    ("s-nhl-phase1-ref30", "evaluable", "DCR", "percent_reported", 61),
    ("sadal-interim-ref31", "interim", "ORR", "percent_reported", 34.4),
    ("sadal-interim-ref31", "interim", "CR", "count", 5),
    ("sadal-interim-ref31", "interim", "PR", "count", 6),
    ("sadal-interim-ref31", "interim", "DOR", "median_months", 8.4),
    ("sadal-129-ref31", "all", "ORR", "percent_reported", 27.6),
    ("sadal-129-ref31", "all", "CR", "count", 14),
    ("sadal-129-ref31", "all", "PR", "count", 21),
    ("s-cns-dlbcl-case-ref32", "all", "CR", "count", 1),
]

# (study, cohort, n) as the review prints them.
REVIEW_POPULATIONS = [
    ("sd-phase1-ref12", "all", 84), ("storm-ref13", "all", 122), ("sid-phase1-ref14", "all", 18),
    ("sid-phase1-ref14", "evaluable", 14), ("skd-ref15", "all", 21), ("svd-ref16", "all", 42),
    ("svd-ref16", "evaluable", 40), ("srd-ndmm-ref17", "all", 8), ("srd-ndmm-ref17", "evaluable", 7),
    ("srd-rrmm-ref18", "all", 18), ("srd-rrmm-ref18", "evaluable", 15),
    ("srd-rrmm-ref18", "len-sensitive", 11), ("spd-ref19", "all", 48),
    ("spd-ref19", "pom-naive", 31), ("spd-ref19", "len-pom-refractory", 13),
    ("sdd-ref20", "all", 25), ("sdd-ref20", "dara-naive", 19), ("sdd-ref20", "dara-refractory", 2),
    ("sdoxd-ref21", "all", 27), ("s-aml-ref22", "all", 95), ("s-aml-ref22", "evaluable", 81),
    ("s-aml-ref22", "responders", 11), ("s-dec-ref23", "all", 25),
    ("s-dec-ref23", "relapsed-refractory", 20), ("s-dec-ref23", "untreated-elderly", 5),
    ("s-dec-ref23", "responders", 10), ("s-hidac-mito-ref25", "all", 20),
    ("s-7plus3-ref47", "all", 21), ("s-7plus3-ref47", "evaluable", 19), ("s-clag-ref27", "all", 40),
    ("s-nhl-phase1-ref30", "all", 79), ("s-nhl-phase1-ref30", "dose-escalation", 47),
    ("s-nhl-phase1-ref30", "expansion", 32), ("s-nhl-phase1-ref30", "evaluable", 70),
    ("sadal-interim-ref31", "all", 110), ("sadal-interim-ref31", "interim", 32),
    ("sadal-129-ref31", "all", 129), ("s-cns-dlbcl-case-ref32", "all", 1),
]

# Studies the review describes in words only: what they are, not a number.
REVIEW_QUALITATIVE = {
    "s-mm-resensitization-ref10": dict(agent="selinexor", disease="MM", setting="relapsed/refractory"),
    "s-7plus3-elderly-ref26": dict(regimen="S-7+3", disease="AML",
                                   findings="every patient given selinexor had a clinical response "
                                            "(no numbers given)"),
    "eltanexor-mm-ref11": dict(agent="eltanexor", disease="MM", evidence_type="clinical trial"),
    "sd-nhl-preclinical-ref28": dict(regimen="Sd", disease="NHL", evidence_type="preclinical"),
    "s-mcl-preclinical-ref29": dict(regimen="S", disease="MCL", evidence_type="preclinical"),
    "s-cns-dlbcl-case-ref32": dict(regimen="S", disease="DLBCL", evidence_type="case report"),
}


def _outcome(study, cohort, measure):
    o = DS.outcomes
    rows = o[(o["study"] == study) & (o["cohort"] == cohort) & (o["measure"] == measure)]
    assert len(rows) == 1, (study, cohort, measure)
    return rows.iloc[0]


@pytest.mark.parametrize("study,cohort,measure,field,value", REVIEW_FIGURES)
def test_review_figure(study, cohort, measure, field, value):
    assert _outcome(study, cohort, measure)[field] == pytest.approx(value)


@pytest.mark.parametrize("study,cohort,n", REVIEW_POPULATIONS)
def test_review_population(study, cohort, n):
    c = DS.cohorts
    assert int(c[(c["study"] == study) & (c["cohort"] == cohort)]["n"].iloc[0]) == n


@pytest.mark.parametrize("study,fields", sorted(REVIEW_QUALITATIVE.items()))
def test_review_qualitative(study, fields):
    row = DS.studies.set_index("study").loc[study]
    for k, v in fields.items():
        assert row[k] == v


def test_every_study_has_a_checked_figure():
    checked = ({f[0] for f in REVIEW_FIGURES} | {p[0] for p in REVIEW_POPULATIONS}
               | set(REVIEW_QUALITATIVE))
    review = set(DS.studies.loc[DS.studies["source"] == "review", "study"])
    assert review - checked == set()


def test_every_review_ref_is_a_study():
    refs = {int(r) for r in DS.studies["ref"].dropna()}
    assert refs == {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                    30, 31, 32, 47}


def test_regimen_codes_the_review_names():
    assert {"Sd", "SId", "SKd", "SVd", "SRd", "SPd", "SDd"} <= set(DS.regimens["regimen"])


def test_class_level_facts():
    ae = DS.adverse_events
    cats = set(ae.loc[(ae["kind"] == "adverse_event") & (ae["source"] == "review"), "category"])
    assert cats == {"gastrointestinal", "haematological", "neurological and constitutional",
                    "infection", "hepatic", "metabolic"}
    assert {"megestrol acetate", "ondansetron"} <= set(ae.loc[ae["kind"] == "mitigation", "term"])
    cns = ae[ae["kind"] == "cns_penetration"]
    assert "eltanexor" in set(cns["agent"]) and 9 in set(cns["ref"].dropna())
    appr = DS.approvals.set_index("id")
    assert appr.at["fda-mm-sd", "ref"] == 8 and appr.at["fda-mm-sd", "regimen"] == "Sd"


def test_no_identifier_the_sources_do_not_state():
    """Only the later-trials pack states identifiers; the review states none."""
    src = DS.sources.set_index("source")
    assert src.at["review", "citation"] is None or str(src.at["review", "citation"]) == "nan"


# --- the package's constraints ----------------------------------------------------------------


def _descriptor():
    return json.loads((DATA / "datapackage.json").read_text())


def _rows(name):
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bundled_data_is_valid():
    assert data.validate() == []


ENUMS = [(res["name"], f["name"], f["constraints"]["enum"])
         for res in _descriptor()["resources"] for f in res["schema"]["fields"]
         if "enum" in f.get("constraints", {})]


@pytest.mark.parametrize("table,column,allowed", first_fast(ENUMS))
def test_enum_holds_and_is_enforced(table, column, allowed, tmp_path):
    values = {r[column] for r in _rows(table)} - {""}
    assert values <= set(allowed)
    bad = _copy_with(tmp_path, table, column, "not-an-allowed-value")
    problems = data.validate(bad)
    assert any(p.column == column and "not one of" in p.reason for p in problems)


KEYS = [(res["name"], res["schema"]["primaryKey"]) for res in _descriptor()["resources"]]


@pytest.mark.parametrize("table,key", first_fast(KEYS))
def test_primary_key_unique_and_enforced(table, key, tmp_path):
    rows = _rows(table)
    keys = [tuple(r[k] for k in key) for r in rows]
    assert len(keys) == len(set(keys))
    dup = tmp_path / "dup"
    _copy_package(dup)
    with open(dup / f"{table}.csv", "a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n").writerow(rows[0])
    assert any("duplicate key" in p.reason for p in data.validate(dup))


FKS = [(res["name"], fk["fields"], fk["reference"]["resource"] or res["name"])
       for res in _descriptor()["resources"] for fk in res["schema"].get("foreignKeys", [])]


@pytest.mark.parametrize("table,fields,target", first_fast(FKS))
def test_foreign_key_enforced(table, fields, target, tmp_path):
    fields = [fields] if isinstance(fields, str) else fields
    bad = _copy_with(tmp_path, table, fields[-1], "dangling-reference")
    assert any(f"not found in {target}" in p.reason for p in data.validate(bad))


def _copy_package(dest):
    dest.mkdir(parents=True, exist_ok=True)
    for f in DATA.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())


def _copy_with(tmp_path, table, column, value):
    dest = tmp_path / "pkg"
    _copy_package(dest)
    rows = _rows(table)
    target = next((r for r in rows if r[column]), rows[0])
    target[column] = value
    with open(dest / f"{table}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return dest


# --- derived counts and the audit --------------------------------------------------------------


def test_counts_derived_not_stored():
    o = counts.outcome_table(DS)
    o = o[o["source"] == "review"].set_index(["study", "cohort", "measure"])
    assert o.at[("srd-rrmm-ref18", "evaluable", "ORR"), "count_used"] == 11  # 73% of 15
    assert o.at[("srd-rrmm-ref18", "evaluable", "ORR"), "count_basis"] == "from percentage"
    assert o.at[("spd-ref19", "pom-naive", "ORR"), "count_used"] == 18  # 7 VGPR + 11 PR
    assert o.at[("sid-phase1-ref14", "evaluable", "ORR"), "count_basis"] == "derived ORR"
    assert o.at[("sid-phase1-ref14", "evaluable", "ORR"), "count_used"] == 3
    assert o.at[("s-sora-ref24", "flt3i-resistant", "CR"), "count_used"] is __import__("pandas").NA


def test_rounding_as_printed():
    assert counts.percent_matches(25, 40, 63)  # 62.5 printed as 63
    assert counts.percent_matches(25, 40, 62)  # and as 62 by round-half-even
    assert not counts.percent_matches(35, 129, 27.6)
    assert counts.percent_matches(11, 32, 34.4)
    assert list(counts.counts_from_percent(73, 15)) == [11]


def test_audit_finds_exactly_the_disagreements_inside_sources():
    found = audit(DS)
    newer = set(DS.studies.loc[DS.studies["source"].str.fullmatch(r"[MN]\d+"), "study"])
    # the 2021-2026 pack's findings and stated conflicts have their own tests
    found = found[~found["study"].isin(newer) & ~found["check"].str.startswith("stated conflict")]
    got = sorted(zip(found["study"], found["measure"], found["check"], strict=True))
    assert got == [
        ("sadal-129-ref31", "ORR", "percentage vs count"),  # 14 CR + 21 PR = 35/129 = 27.1%, printed 27.6%
        ("sel-7plus3-ph1-ccr2020", "CR_CRi", "percentage vs count"),  # A1 prints "8 (53%)" of 19
        ("skd-ref15", "MR+PR+VGPR", "categories vs 100%"),  # 71% + 48% + 14% = 133%
    ]
    sadal = found[found["study"] == "sadal-129-ref31"].iloc[0]
    assert sadal["ref"] == 31 and "27.1%" in sadal["computed"]


def test_trusted_fast_load_equals_the_checked_load():
    """The bundled data loads through a fast path that skips the checks; it must give exactly
    the frames the checked path gives."""
    import pandas as pd

    root = datapackage.bundled_root()
    descriptor, frames, problems = checks.check(root)
    assert problems == []
    fast = data._trusted_frames(root, descriptor)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame.drop(columns=datapackage.LINE).reset_index(drop=True), fast[name])


def test_published_after_review_is_one_rule_for_every_source():
    """The review states no date of its own, so the flag is false for the review and true for every
    later source, whatever date (or none) the later source states: BELLINI's and BOSTON's 2020 news
    reports (C25, C40) are marked alike, as are undated pages and pages with a date."""
    src = DS.sources
    assert dict(zip(src["source"], src["published_after_review"], strict=True)) == {
        s: s != "review" for s in src["source"]}
    assert "no date of its own" in next(
        f["description"] for r in DS.descriptor["resources"] if r["name"] == "sources"
        for f in r["schema"]["fields"] if f["name"] == "published_after_review")
    assert list(catalogue.sources_table(DS, "review")["source"]) == ["review"]
