"""Harms in the brief, per regimen: the bottom line gives each regimen's key harms (arm against arm
with both arms' figures, then each trial report's tolerability, serious and grade ≥3 events; a
label's only where no trial gives any) and leaves the rest to the harms section, every figure the
dataset's own; a dose-finding trial's story (DLTs, MTD, stopping, the authors'
judgement); doses never borrowed from another arm; class-wide advice said to be class-wide."""

from __future__ import annotations

import pytest

from xpo1cli.bottom_line import claim_rows
from xpo1cli.brief import build_brief
from xpo1cli.brief_model import HarmRow
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.brief_render_layout import layout
from xpo1cli.data import load
from xpo1cli.harms import MOST, most, regimen_harms
from xpo1cli.query import Filters
from xpo1cli.values import value_or_none
from xpo1cli.views import arm_dose

from .conftest import bundled_brief


@pytest.fixture(scope="module")
def ds():
    return load()


@pytest.fixture(scope="module")
def briefs(ds):
    return {d: bundled_brief(d) for d in ds.diseases["disease"]}


def harms_of(b, regimen):
    (c,) = [c for c in b.bottom_line if c.kind == "harms" and c.regimen == regimen]
    return c


def profile(b, ds, regimen):
    """A regimen's whole harms profile, of which the bottom line repeats the key figures."""
    (p,) = [p for p in regimen_harms(b, ds, set()) if p.regimen == regimen]
    return p


def figures(report) -> dict[tuple[str, str], float | int | None]:
    return {(h.term, h.grade): h.percent if h.percent is not None else h.count for h in report.rows}


def test_mm_bottom_line_has_one_harms_statement_per_regimen_with_harm_figures(ds, briefs):
    mm = briefs["MM"]
    assert [c.regimen for c in mm.bottom_line if c.kind == "harms"] == ["SVd", "Sd"]
    svd = harms_of(mm, "SVd").harms
    clear = {(d.term, d.grade): (d.exp_count, d.exp_n, d.ctl_count, d.ctl_n, d.difference, d.ci_low, d.ci_high)
             for d in svd.clear}
    assert clear == {("thrombocytopenia", "3-4"): (77, 195, 35, 207, 22.6, 13.9, 30.9),
                     ("fatigue", "3-4"): (26, 195, 2, 207, 12.4, 7.6, 17.9)}
    assert {d.term for d in svd.unclear} == {"anaemia", "pneumonia"}  # intervals include no difference
    # peripheral neuropathy is a between-arm result of the BOSTON statement already: not repeated
    assert "peripheral neuropathy" not in {d.term for d in [*svd.clear, *svd.unclear]}
    # the randomized differences are the bottom line's; the labels and a later report's arm figures
    # without counts are the harms section's
    # BOSTON's deaths are of the SVd arm only (Vd not stated): no arm to weigh them against
    assert svd.reports == [] and svd.elsewhere == ["the labels' figures", "arm figures without counts",
                                                   "deaths of one arm or cohort"]
    label = next(r for r in profile(mm, ds, "SVd").reports if r.scope == "label" and "Malaysian" in r.where)
    assert figures(label)[("infection", "3-4")] == 28 and figures(label)[("fatal infection", "")] == 4
    assert label.serious[0].term == "fatal infection"  # a death is stated first, whatever its frequency


def test_mm_sd_harms_give_storm_grade_3_4_and_tolerability_and_leave_the_label_pools_to_section_5(ds, briefs):
    sd = harms_of(briefs["MM"], "Sd").harms
    assert [r.scope for r in sd.reports] == ["study", "study"]
    storm, consensus = sd.reports
    assert storm.trial == "STORM" and storm.report is None  # the primary report first
    assert figures(storm) == {("thrombocytopenia", "3-4"): 59, ("anaemia", "3-4"): 44,
                              ("hyponatraemia", "3-4"): 22, ("neutropenia", "3-4"): 21}
    assert {h.term: h.percent for h in consensus.tolerability} == {
        "discontinued because of adverse events": 27, "dose adjustment needed": 58}
    whole = profile(briefs["MM"], ds, "Sd")
    assert {r.where: {h.n for h in r.rows} for r in whole.reports if r.scope == "label"} == {
        "label pooled: myeloma, selinexor 80 mg twice weekly + dexamethasone": {202},
        "label pooled (Malaysian product information): myeloma, selinexor + dexamethasone, 214 patients of "
        "whom 83 penta-refractory": {214}}
    text = claim_text(harms_of(briefs["MM"], "Sd"))
    assert "discontinued because of adverse events: 27%" in text and "grade 3-4: thrombocytopenia 59%" in text
    assert "nausea" not in text and "Label" not in text and "Section 5 also gives the labels' figures" in text
    assert "[S2, M19" in text and "SVd" not in text
    section = markdown(briefs["MM"]).split("## 5 Harms")[1].split("## 6")[0]
    assert "| nausea" in section and "| 75%" in section  # the label's figure, in the harms section


def test_mm_bottom_line_harms_bullets_stay_short_and_keep_bostons_arm_values(briefs):
    """On a phone each harms bullet of the MM bottom line stays a short paragraph: the randomized
    differences with both arms' figures, the single-arm grade 3-4 rates and discontinuation; the
    labels, the EHA report's arm figures without counts and the events named without rates are the
    harms section's."""
    texts = {c.regimen: claim_text(c) for c in briefs["MM"].bottom_line if c.kind == "harms"}
    assert set(texts) == {"SVd", "Sd"}
    assert all(len(t) < 700 for t in texts.values()), {r: len(t) for r, t in texts.items()}
    assert ("grade 3-4 thrombocytopenia 39% (77/195) in the SVd arm vs 17% (35/207) in the Vd arm, "
            "22.6 percentage points more (95% CI of the difference 13.9 to 30.9)") in texts["SVd"]
    assert "61.6%" not in texts["SVd"] and "named without rates" not in texts["SVd"]
    assert "discontinued because of adverse events: 27%" in texts["Sd"]
    section = markdown(briefs["MM"]).split("## 5 Harms")[1].split("## 6")[0]
    assert "61.6%" in section and "EHA 2023" in section  # the figure itself is unchanged, and shown there


@pytest.mark.parametrize("disease", ["MM", "AML", "DLBCL", "TCL", "MF", "WM", "NHL"])
def test_every_harm_figure_of_the_bottom_line_is_its_rows_own(ds, briefs, disease):
    """Each row a harms statement states resolves to one adverse_events row holding that figure."""
    ae = ds.adverse_events
    for c in [c for c in briefs[disease].bottom_line if c.kind == "harms"]:
        assert claim_rows(c)
        for r in c.harms.reports:
            for h in r.rows:
                key = ae["study"] == h.where if h.scope == "study" else ae["population"] == h.where
                (row,) = ae[key & (ae["term"] == h.term)
                            & (ae["grade"].fillna("") == h.grade)
                            & (ae["cohort"].fillna("") == (h.cohort or ""))].itertuples(index=False)
                if h.percent_basis == "reported":
                    assert h.percent == row.percent_reported
                assert h.count == value_or_none(row.count)
                assert h.regimen == c.regimen and h.role != "control"
            assert {h.regimen for h in r.rows} == {c.regimen}  # a statement never mixes regimens


def test_tcl_states_the_dose_finding_story_and_names_no_one_event_most_frequent(briefs):
    tcl = briefs["TCL"]
    (r,) = harms_of(tcl, "S-DICE").harms.reports
    said = {h.term: h.statement for h in r.tolerability}
    assert said["dose-limiting toxicity"].startswith("2 at dose level 2 (60 mg), 1 at dose level 1 (40 mg)")
    assert said["maximum tolerated dose"] == "selinexor 40 mg with DICE"
    assert said["the authors' judgement of tolerability"] == "poorly tolerated"
    stopped = next(h for h in r.tolerability if h.term.startswith("stopped treatment"))
    assert stopped.count == 5
    assert r.dose_levels == [("dose level 1 (selinexor 40 mg)", 6), ("dose level 2 (selinexor 60 mg)", 5)]
    text = " ".join(claim_text(c) for c in tcl.bottom_line)
    assert "anaemia 82%, thrombocytopenia 82%" in text  # the tie is shown as a tie
    assert "most frequent" not in text
    assert "figures of all dose levels together" in text


def test_dlbcl_label_harms_reach_the_bottom_line_where_no_trial_gives_any(ds, briefs):
    (r,) = harms_of(briefs["DLBCL"], "S").harms.reports
    assert figures(r) == {("thrombocytopenia", "3-4"): 49, ("thrombocytopenia", "4"): 18}
    (whole,) = profile(briefs["DLBCL"], ds, "S").reports
    assert figures(whole)[("thrombocytopenia", "all")] == 86  # any grade: the harms section's
    text = claim_text(harms_of(briefs["DLBCL"], "S"))
    assert "(n = 134)" in text and "Section 5 also gives other grades" in text


def test_a_label_naming_no_disease_joins_the_briefs_whose_studies_test_its_regimen(briefs):
    svd_label = "label (Malaysian product information): with bortezomib and dexamethasone"
    assert any(h.where == svd_label for h in briefs["MM"].harms)
    for d in ("DLBCL", "AML", "TCL", "WM"):
        assert not any(h.where == svd_label for h in briefs[d].harms)
        assert not any("myeloma" in h.where for h in briefs[d].harms if h.scope == "label")


def _row(term, percent, grade="3-4"):
    return HarmRow(where="x", ref=None, regimen="R", role=None, term=term, grade=grade, count=None, n=None,
                   percent=percent, percent_basis="reported", statement=None, scope="study", source="s")


def test_a_list_is_cut_but_never_between_two_equal_figures():
    rows = [_row(t, p) for t, p in [("a", 50), ("b", 40), ("c", 30), ("d", 20), ("e", 20), ("f", 10)]]
    kept, left = most(rows, MOST)
    assert [h.term for h in kept] == ["a", "b", "c", "d", "e"] and left == 1
    kept, left = most(rows[:3], MOST)
    assert len(kept) == 3 and left == 0


@pytest.mark.parametrize("regimen, dose", [
    ("SVd", "selinexor 100 mg once weekly + bortezomib once weekly + dexamethasone"),
    ("Vd", "bortezomib twice weekly + dexamethasone"),
    (None, None),  # a trial-level row names no arm: no arm's schedule is its
])
def test_an_arm_takes_its_own_part_of_a_schedule_written_arm_by_arm(ds, regimen, dose):
    schedule = ds.studies.set_index("study").at["boston-lancet-2020", "dose_schedule"]
    assert arm_dose(schedule, regimen, set(ds.regimens["regimen"])) == dose


def test_parts_naming_no_regimen_stay_with_every_arm(ds):
    codes = set(ds.regimens["regimen"])
    assert arm_dose("SR: selinexor 40 mg weekly; R: lenalidomide alone; 28-day cycles", "SR", codes) == \
        "selinexor 40 mg weekly; 28-day cycles"
    assert arm_dose("dose level 0: selinexor 60 mg; expansion at the recommended dose", "SDd", codes) == \
        "dose level 0: selinexor 60 mg; expansion at the recommended dose"


def test_the_xpo1_inhibitor_harms_table_never_shows_the_control_arms_schedule(briefs):
    for b in briefs.values():
        for h in b.harm_ranges:
            assert h.regimen is not None
            others = {a.regimen for t in b.randomized for a in t.arms if a.regimen != h.regimen}
            assert not any(f"{o}:" in (h.dose or "") for o in others), (h.regimen, h.dose)
    assert "Vd: bortezomib" not in markdown(briefs["MM"])


@pytest.mark.parametrize("disease", ["MF", "TCL", "WM", "MM"])
def test_class_wide_mitigations_are_said_to_be_not_disease_specific(briefs, disease):
    b = briefs[disease]
    assert b.mitigations and all(m.class_wide for m in b.mitigations)
    (table,) = [t for s in layout(b) for t in s.tables if t.kind == "mitigation"]
    assert f"from no study of {b.disease_name}; not disease-specific evidence" in table.caption
    assert {row[3] for row in table.rows} == {"class-wide"}


def test_rows_naming_no_regimen_are_stated_apart_never_as_a_regimens(ds, briefs):
    from xpo1cli.brief_render_claims import harms_text

    dlbcl = briefs["DLBCL"]
    apart = profile(dlbcl, ds, None)
    (r,) = apart.reports
    assert r.where == "label: DLBCL" and "nausea" in {h.term for h in r.named}
    assert harms_text(apart).startswith("Harms reported without a regimen or arm named: Label: DLBCL")
    assert not any(h.where == "label: DLBCL" for rep in harms_of(dlbcl, "S").harms.reports for h in rep.rows)
    sopra = next(r for r in profile(briefs["AML"], ds, None).reports if r.trial == "SOPRA")
    assert {h.role for h in sopra.rows} == {"arm not stated"}
    assert "SOPRA (arm not stated)" in harms_text(profile(briefs["AML"], ds, None))
    # events named without rates only: no key figure to repeat, so the bottom line leaves them to section 5
    for b in (dlbcl, briefs["AML"]):
        assert not [c for c in b.bottom_line if c.kind == "harms" and c.regimen is None]


def test_a_users_rows_drive_the_harms_statement(tmp_path):
    """The rules read the data: a discontinuation figure and two tied grade ≥3 events added to a
    user's copy reach SADAL's clause, ahead of the label's, the tie kept whole."""
    import csv

    from .conftest import run

    folder = tmp_path / "mine"
    run("package", str(folder))
    path = folder / "adverse_events.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    base = {k: "" for k in fields} | {"study": "sadal-lancet-2020", "agent": "selinexor", "section": "SADAL",
                                      "source": "D1"}
    rows += [base | {"id": "t-disc", "kind": "safety_statement", "category": "any",
                     "term": "discontinued because of adverse events", "percent_reported": "17"},
             *(base | {"id": f"t-{t}", "kind": "adverse_event", "category": "haematological", "term": t,
                       "grade": "3-4", "percent_reported": "31"} for t in ("thrombocytopenia", "neutropenia"))]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    b = build_brief(load(folder), Filters(disease="DLBCL"))
    c = harms_of(b, "S")
    assert [r.scope for r in c.harms.reports] == ["study"]  # a trial's figures: the label's are section 5's
    text = claim_text(c)
    assert "SADAL, selinexor 60 mg twice weekly: discontinued because of adverse events: 17%; grade 3-4: " \
           "neutropenia 31%, thrombocytopenia 31%" in text
    assert "Section 5 also gives the labels' figures" in text


def test_the_json_brief_carries_each_regimens_harms_as_data():
    import json

    from .conftest import run

    data = json.loads(run("brief", "--disease", "TCL", "--format", "json").stdout)
    (c,) = [c for c in data["bottom_line"] if c["kind"] == "harms"]
    (r,) = c["harms"]["reports"]
    assert c["harms"]["regimen"] == "S-DICE" and r["trial"] == "SEL-DICE-PH1"
    assert [(x["term"], x["count"]) for x in r["tolerability"] if x["count"] is not None] == [
        ("stopped treatment for reasons other than progression or lack of response", 5)]
    assert [(x["term"], x["percent"]) for x in r["severe"][:2]] == [("anaemia", 82.0), ("thrombocytopenia", 82.0)]
    assert r["dose_levels"] == [{"label": "dose level 1 (selinexor 40 mg)", "n": 6},
                                {"label": "dose level 2 (selinexor 60 mg)", "n": 5}]
    from xpo1cli.brief_render import brief_json

    mm = json.loads(json.dumps(brief_json(bundled_brief("MM")), ensure_ascii=False))  # as the command writes it
    svd = next(c for c in mm["bottom_line"] if c["kind"] == "harms")["harms"]
    thr = next(d for d in svd["differences"] if d["term"] == "thrombocytopenia")
    assert (thr["experimental"]["count"], thr["control"]["count"], thr["difference"], thr["interval"]) == \
        (77, 35, 22.6, {"low": 13.9, "high": 30.9, "level": 0.95})


def test_a_dose_clause_a_dose_finding_row_states_is_said_once(briefs):
    """A1's study dose text ('maximum tolerated dose not reached; expansion at selinexor 80 mg twice
    weekly') restates its two dose-finding rows: the bullet gives each fact once, by the row."""
    s73 = harms_of(briefs["AML"], "S-7+3").harms
    a1 = next(r for r in s73.reports if r.where == "sel-7plus3-ph1-ccr2020")
    assert a1.dose is None
    assert {(h.term, h.statement) for h in a1.tolerability} == {
        ("maximum tolerated dose", "not reached"), ("expansion dose", "selinexor 80 mg twice weekly")}
    text = claim_text(harms_of(briefs["AML"], "S-7+3"))
    assert text.count("80 mg twice weekly") == 1 and text.count("maximum tolerated dose") == 1


def test_a_dose_clause_no_row_states_is_kept():
    from xpo1cli.harms import unstated_dose
    mtd = HarmRow(where="x", ref=None, regimen="S", role=None, term="maximum tolerated dose", grade="any",
                  count=None, n=None, percent=None, percent_basis=None, statement="not reached", scope="study",
                  source="A", kind="dose_finding")
    assert unstated_dose("selinexor 60 mg twice weekly; maximum tolerated dose not reached", [mtd]) == \
        "selinexor 60 mg twice weekly"
    assert unstated_dose("maximum tolerated dose not reached", [mtd]) is None
    assert unstated_dose("selinexor 40 mg (DL1) or 60 mg (DL2)", [mtd]) == "selinexor 40 mg (DL1) or 60 mg (DL2)"
