"""ClinicalTrials.gov records into the dataset: real records (tests/fixtures/ctgov, unedited) and
variants built from them in code. Every figure checked here was read by hand from the record at
the path quoted beside it."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from xpo1cli import ctgov
from xpo1cli.data import load, validate
from xpo1cli.datapackage import DataError, Problem

FIXTURES = Path(__file__).parent / "fixtures" / "ctgov"
OM = "outcomeMeasuresModule.outcomeMeasures"  # paths are inside the record's resultsSection


def record(nct: str) -> dict:
    return json.loads((FIXTURES / f"{nct}.json").read_text(encoding="utf-8"))


def myeloma_variant() -> dict:
    """NCT02552212 (certolizumab in axial spondyloarthritis) recast as a selinexor trial in myeloma:
    the condition, the experimental drug, the flow group's title, one outcome's title and the
    analysis' words changed; every posted figure left as the registry holds it."""
    d = copy.deepcopy(record("NCT02552212"))
    p = d["protocolSection"]
    p["conditionsModule"]["conditions"] = ["Multiple Myeloma"]
    iv = p["armsInterventionsModule"]["interventions"][0]
    iv.update(type="DRUG", name="Selinexor", otherNames=["KPT-330"])
    p["armsInterventionsModule"]["armGroups"][0].update(label="Selinexor 200 mg Q2W",
                                                        interventionNames=["Drug: Selinexor"])
    r = d["resultsSection"]
    r["participantFlowModule"]["groups"][1]["title"] = "Selinexor 200 mg Q2W"
    om = r["outcomeMeasuresModule"]["outcomeMeasures"][0]
    om["title"] = "Overall Response Rate"
    om["groups"][1]["title"] = "Selinexor 200 mg Q2W (FAS)"
    om["analyses"][0]["groupDescription"] = "Odds ratio: Selinexor/Placebo from logistic regression."
    r["adverseEventsModule"]["eventGroups"][1]["title"] = "Selinexor 200 mg Q2W (SS)"
    return d


def run(records: list[dict], tmp_path: Path, base=None, name="out"):
    for i, rec in enumerate(records):
        (tmp_path / f"r{i}.json").write_text(json.dumps(rec), encoding="utf-8")
    problems: list[Problem] = []
    recs = list(ctgov.iter_records(sorted(tmp_path.glob("r*.json")), problems))
    assert problems == []
    ds = base or load()
    done = ctgov.import_records(recs, ds.descriptor, ds.tables)
    ctgov.write_imported(done, tmp_path / name)
    return done, load(tmp_path / name)


def test_the_real_records_keep_every_posted_figure_in_the_registry_tables(tmp_path):
    problems: list[Problem] = []
    recs = list(ctgov.iter_records([FIXTURES], problems))
    assert problems == [] and [r.nct for r in recs] == [
        "NCT00763412", "NCT02210780", "NCT02552212", "NCT03418623", "NCT04207047", "NCT05594173"]
    ds = load()
    done = ctgov.import_records(recs, ds.descriptor, ds.tables)
    ctgov.write_imported(done, tmp_path / "out")
    out = load(tmp_path / "out")
    assert validate(tmp_path / "out") == []
    recs_t = out.registry_records.set_index("nct_id")
    # none is an XPO1 trial in a blood cancer: kept, not placed, and said so
    assert recs_t["study"].isna().all()
    assert "no XPO1 inhibitor among the interventions" in recs_t.loc["NCT02552212", "placed"]
    assert recs_t.loc["NCT02552212", "conditions_unmapped"] == (
        "Axial Spondyloarthritis;Nonradiographic Axial Spondyloarthritis;Nr-axSpA")
    assert recs_t.loc["NCT03418623", "has_results"] == False  # noqa: E712 (a boolean column)
    assert recs_t.loc["NCT02552212", "enrollment"] == 317  # protocolSection.designModule.enrollmentInfo.count
    assert recs_t.loc["NCT02552212", "last_update"] == "2022-08-18"
    assert len(out.studies) == len(ds.studies) and len(out.outcomes) == len(ds.outcomes)
    an = out.registry_analyses.set_index(["nct_id", "path"])
    # NCT02210780 outcomeMeasures[3].analyses[0]: a 90% interval, kept at its own level
    row = an.loc[("NCT02210780", f"{OM}[3].analyses[0]")]
    assert (row.param_type, row.param_value, row.ci_pct, row.ci_lower, row.ci_upper, row.p_value) == (
        "Percentage Difference", "34.0", "90", "24.29", "43.75", "<0.0001")
    assert (out.registry_analyses["ci_pct"] == "90").sum() == 7  # the fixture's README: 7 analyses at 90%
    m = out.registry_measurements.set_index(["nct_id", "path"])
    # NCT02210780 outcomeMeasures[3]: posted as percentages of 97 per group
    got = m.loc[("NCT02210780", f"{OM}[3].classes[0].categories[0].measurements[1]")]
    assert (got.value, got.denominator, got.group_title, got.unit) == ("44.3", "97", "Dupilumab 300 mg qw",
                                                                       "Percentage of participants")
    # NCT00763412 outcomeMeasures[0] (BMI): mean with its full range, as posted
    got = m.loc[("NCT00763412", f"{OM}[0].classes[0].categories[0].measurements[0]")]
    assert (got.param_type, got.value, got.lower, got.upper, got.dispersion) == (
        "MEAN", "19.63", "15.56", "22.64", "Full Range")
    ev = out.registry_events.set_index(["nct_id", "path"]).loc[("NCT02552212", "adverseEventsModule.seriousEvents[0]")]
    assert (ev.term, ev.organ_system, ev.vocabulary, ev.kind) == ("Glaucoma", "Eye disorders", "MedDRA19.0", "serious")
    got = out.registry_event_counts.set_index(["nct_id", "path"]).loc[
        ("NCT02552212", "adverseEventsModule.seriousEvents[0].stats[1]")]
    assert (got.group_id, got.affected, got.at_risk, got.events) == ("EG001", 1, 159, 1)
    grp = out.registry_event_groups.set_index(["nct_id", "group_id"]).loc[("NCT02552212", "EG001")]
    assert grp.title == "CZP 200 mg Q2W (SS)"


def test_a_placed_record_becomes_a_study_with_arms_outcomes_and_its_odds_ratio(tmp_path):
    done, out = run([myeloma_variant()], tmp_path)
    study = out.studies.set_index("study").loc["ctgov-nct02552212"]
    assert (study.trial, study.agent, study.disease, study.phase, study.randomized, study.source) == (
        "NCT02552212", "selinexor", "MM", "3", True, "ctgov:NCT02552212")
    src = out.sources.set_index("source").loc["ctgov:NCT02552212"]
    assert src.address == "https://clinicaltrials.gov/study/NCT02552212"
    coh = out.cohorts[out.cohorts["study"] == "ctgov-nct02552212"].set_index("label")
    # the protocol's two arms; participantFlowModule.periods[0].milestones STARTED: 158 placebo, 159 selinexor
    assert coh.loc["Placebo", "n"] == 158 and coh.loc["Placebo", "arm"] == "control"
    assert coh.loc["Selinexor 200 mg Q2W", "n"] == 159 and coh.loc["Selinexor 200 mg Q2W", "arm"] == "experimental"
    assert coh.loc["Selinexor 200 mg Q2W", "headline"] == True and coh.loc["Selinexor 200 mg Q2W", "regimen"] == "S"  # noqa: E712
    flow = "participantFlowModule.periods[0].milestones[0]"  # STARTED: FG000 Placebo, FG001 the selinexor arm
    assert coh.loc["Placebo", "section"] == f"{flow}.achievements[0]"
    assert coh.loc["Selinexor 200 mg Q2W", "section"] == f"{flow}.achievements[1]"
    # the analysis sets are cohorts under their arm; the open-label extension group is no arm: not a cohort
    assert coh.loc["Placebo (FAS)", "parent"] == coh.loc["Placebo", "cohort"]
    assert "SFE OL CZP 200 mg Q2W" not in coh.index
    # the placebo arm is nobody's selinexor arm: no regimen of its own, none taken from the study
    from xpo1cli.query import arm_table

    arms = arm_table(out)
    placebo = arms[(arms["study"] == "ctgov-nct02552212") & (arms["label"] == "Placebo (FAS)")].iloc[0]
    assert placebo["arm"] == "control" and pd.isna(placebo["regimen"]) and pd.isna(placebo["agent"])
    orr = out.outcomes[(out.outcomes["study"] == "ctgov-nct02552212") & (out.outcomes["measure"] == "ORR")]
    # outcomeMeasures[0]: 7.0% of 158 and 47.2% of 159, posted as percentages: no count is stored
    byc = orr.set_index("cohort")
    sel = coh.loc["Selinexor 200 mg Q2W (FAS)", "cohort"]
    assert byc.loc[sel, "percent_reported"] == 47.2 and byc.loc[sel, "denominator"] == 159
    assert pd.isna(byc.loc[sel, "count"])
    assert byc.loc[sel, "section"] == f"{OM}[0].classes[0].categories[0].measurements[1]"
    cmp_ = out.comparisons[out.comparisons["study"] == "ctgov-nct02552212"]
    assert len(cmp_) == 1  # the other analyses are differences or have titles naming no measure
    c = cmp_.iloc[0]
    # outcomeMeasures[0].analyses[0]: OR 15.231 (7.336 to 31.623), p '<0.001'
    assert (c.statistic, c.estimate, c.ci_low, c.ci_high, c.p_text) == ("OR", 15.231, 7.336, 31.623, "<0.001")
    assert pd.isna(c.p_value) and c.cohort_a == sel
    # the export shows the derived count (75 of 159 is 47.2%) marked as derived, the stored row does not
    from xpo1cli.catalogue import export_table

    ex = export_table(out, "outcomes")
    ex = ex[(ex["study"] == "ctgov-nct02552212") & (ex["cohort"] == sel)].iloc[0]
    assert pd.isna(ex["count"]) and (ex["count_used"], ex["count_basis"]) == (75, "from percentage")
    ae = out.adverse_events[out.adverse_events["study"] == "ctgov-nct02552212"]
    assert set(ae["statement"].str.endswith("grade not stated")) == {True} and ae["grade"].isna().all()
    # seriousEvents[0].stats[1]: glaucoma (eye disorders) in 1 of 159 of the selinexor group
    glaucoma = ae.set_index("section").loc["adverseEventsModule.seriousEvents[0].stats[1]"]
    assert (glaucoma.term, glaucoma.category, glaucoma["count"], glaucoma.n, glaucoma.agent) == (
        "glaucoma", "ocular", 1, 159, "selinexor")
    # placebo's events name no drug: kept in the registry table, with the reason
    ev = out.registry_event_counts.set_index(["nct_id", "path"]).loc[
        ("NCT02552212", "adverseEventsModule.seriousEvents[0].stats[0]")]
    assert ev.not_placed == "the group's drugs are not known"


def test_orientation_not_stated_in_words_is_not_placed(tmp_path):
    d = myeloma_variant()
    d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["analyses"][0]["groupDescription"] = (
        "Odds ratio from logistic regression.")
    _, out = run([d], tmp_path)
    assert (out.comparisons["study"] == "ctgov-nct02552212").sum() == 0
    an = out.registry_analyses.set_index(["nct_id", "path"]).loc[("NCT02552212", f"{OM}[0].analyses[0]")]
    assert an.not_placed == "the record's words do not say which arm is the numerator"


def test_malformed_numbers_stay_in_the_registry_table_with_the_reason(tmp_path):
    d = myeloma_variant()
    meas = d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0]
    meas["measurements"][1]["value"] = "NA"
    _, out = run([d], tmp_path)
    row = out.registry_measurements.set_index(["nct_id", "path"]).loc[
        ("NCT02552212", f"{OM}[0].classes[0].categories[0].measurements[1]")]
    assert row.value == "NA" and row.not_placed == "value 'NA' is not a number" and pd.isna(row.placed_as)


def test_reimport_replaces_the_records_rows_and_lists_what_changed(tmp_path):
    d = myeloma_variant()
    run([d], tmp_path)
    newer = copy.deepcopy(d)
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2023-01-02"
    cat = newer["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0]
    cat["measurements"][1]["value"] = "48.4"
    for f in tmp_path.glob("r*.json"):
        f.unlink()
    done, out = run([newer], tmp_path, base=load(tmp_path / "out"))
    ch = done.changes
    assert ((ch["column"] == "value") & (ch["before"] == "47.2") & (ch["after"] == "48.4")).sum() == 1
    assert (out.studies["study"] == "ctgov-nct02552212").sum() == 1  # replaced, not doubled
    orr = out.outcomes[(out.outcomes["study"] == "ctgov-nct02552212") & (out.outcomes["measure"] == "ORR")]
    assert sorted(orr["percent_reported"]) == [7.0, 48.4]


def test_reimport_matches_adverse_events_by_term_and_organ_system_not_by_place(tmp_path):
    """A newer record without its first serious event (Glaucoma, Eye disorders: seriousEvents[0]
    of NCT02552212) shifts every later event up one place: only that event and its counts are
    reported removed, and the one count that changed (Upper respiratory tract infection, other
    events, group EG001: 30 affected of 159, otherEvents[1].stats[1]) is reported at its place."""
    d = myeloma_variant()
    run([d], tmp_path)
    newer = copy.deepcopy(d)
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2023-01-02"
    ae = newer["resultsSection"]["adverseEventsModule"]
    gone = ae["seriousEvents"].pop(0)
    assert (gone["term"], gone["organSystem"]) == ("Glaucoma", "Eye disorders")
    urti = ae["otherEvents"][1]
    assert urti["term"] == "Upper respiratory tract infection" and urti["stats"][1] == {
        "groupId": "EG001", "numEvents": 38, "numAffected": 30, "numAtRisk": 159}
    urti["stats"][1]["numAffected"] = 31
    for f in tmp_path.glob("r*.json"):
        f.unlink()
    done, out = run([newer], tmp_path, base=load(tmp_path / "out"))
    ch = done.changes
    events = ch[ch["table"].isin(["registry_events", "registry_event_counts", "registry_event_groups"])]
    removed = "adverseEventsModule.seriousEvents[0]"
    assert sorted(map(tuple, events[["table", "path", "column", "before", "after"]].to_numpy())) == [
        ("registry_event_counts", "adverseEventsModule.otherEvents[1].stats[1]", "affected", "30", "31"),
        *[("registry_event_counts", f"{removed}.stats[{k}]", "(row)", "present", "") for k in range(5)],
        ("registry_events", removed, "(row)", "present", "")]
    assert set(ch["table"]) == {"registry_records", "registry_events", "registry_event_counts"}
    # the curated tables hold the newer record's events: no glaucoma, 31 with an infection
    mine = out.adverse_events[out.adverse_events["study"] == "ctgov-nct02552212"]
    assert "glaucoma" not in set(mine["term"])
    assert mine.loc[mine["term"] == "upper respiratory tract infection", "count"].tolist() == [31]


def test_registry_against_publication_for_a_curated_trial(tmp_path):
    """A record that names BOSTON's registry id (NCT03110562, in trials.csv) joins BOSTON as one
    more report; where its figures differ from the publications, both are listed with their sources."""
    d = myeloma_variant()
    d["protocolSection"]["identificationModule"]["nctId"] = "NCT03110562"
    p = d["protocolSection"]["armsInterventionsModule"]
    p["interventions"].append({"type": "DRUG", "name": "Bortezomib"})
    p["interventions"].append({"type": "DRUG", "name": "Dexamethasone"})
    p["armGroups"][0]["interventionNames"] += ["Drug: Bortezomib", "Drug: Dexamethasone"]
    p["armGroups"][1]["interventionNames"] = ["Drug: Bortezomib", "Drug: Dexamethasone"]
    # STARTED moved to the second milestone, its figures in another order: FG001 (159), FG002, FG000 (158)
    period = d["resultsSection"]["participantFlowModule"]["periods"][0]
    started = period["milestones"].pop(0)
    started["achievements"] = [started["achievements"][i] for i in (1, 2, 0)]
    period["milestones"].insert(1, started)
    _, out = run([d], tmp_path)
    study = out.studies.set_index("study").loc["ctgov-nct03110562"]
    assert study.trial == "BOSTON" and study.regimen == "SVd"
    diff = ctgov.registry_differences(out)
    # BOSTON's ORR: 76.4% of 195 in the publication against the record's 47.2% of 159
    assert len(diff) and set(diff["trial"]) == {"BOSTON"}
    assert ((diff["figure"] == "ORR n") | diff["figure"].str.startswith("ORR")).any()
    n = diff[diff["figure"] == "n"].set_index("arm")  # the arms' sizes differ (159 against 195)
    flow = "participantFlowModule.periods[0].milestones[1]"
    assert (n.loc["experimental", "registry"], n.loc["experimental", "registry_place"]) == (
        "159", f"{flow}.achievements[0]")
    assert (n.loc["control", "registry"], n.loc["control", "registry_place"]) == ("158", f"{flow}.achievements[2]")


def test_bad_input_names_the_file_and_place(tmp_path):
    (tmp_path / "a.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"studies": [record("NCT03418623"), {"x": 1}]}), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps([1, 2]), encoding="utf-8")
    problems: list[Problem] = []
    recs = list(ctgov.iter_records([tmp_path, tmp_path / "missing.json"], problems))
    assert [r.nct for r in recs] == ["NCT03418623"]
    text = [(Path(p.file).name, p.column, p.reason[:20]) for p in problems]
    assert ("a.json", None, "not a JSON file: Exp") in text
    assert ("b.json", "studies[1]", "not a ClinicalTrials") in text
    assert ("c.json", None, "a JSON list: neither") in text
    assert ("missing.json", None, "no such file or fold") in text


def test_nothing_is_written_when_the_target_is_not_a_dataset(tmp_path):
    target = tmp_path / "full"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    ds = load()
    done = ctgov.import_records(ctgov.iter_records([FIXTURES / "NCT00763412.json"], []), ds.descriptor, ds.tables)
    with pytest.raises(DataError):
        ctgov.write_imported(done, target)
    assert os.listdir(target) == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["full"]  # no temporary folder left


def test_users_terms_extend_the_mapping(tmp_path):
    d = myeloma_variant()
    d["protocolSection"]["conditionsModule"]["conditions"] = ["Relapsed Refractory Multiple Myeloma"]
    _, out = run([d], tmp_path)
    assert out.registry_records.set_index("nct_id").loc["NCT02552212", "study"] is pd.NA or pd.isna(
        out.registry_records.set_index("nct_id").loc["NCT02552212", "study"])
    terms = tmp_path / "terms.csv"
    terms.write_text("kind,term,code\ncondition,Relapsed Refractory Multiple Myeloma,MM\n", encoding="utf-8")
    problems: list[Problem] = []
    extra = ctgov.read_terms(terms, problems)
    ds = load()
    recs = ctgov.iter_records([tmp_path / "r0.json"], problems)
    done = ctgov.import_records(recs, ds.descriptor, ds.tables, extra)
    assert problems == [] and done.tables["registry_records"]["study"].iloc[-1] == "ctgov-nct02552212"


# --- the command: wiring, exit codes, messages ----------------------------------------------------

def test_command_imports_lists_the_unplaced_and_the_diff(tmp_path):
    from tests.conftest import run

    d = myeloma_variant()
    d["protocolSection"]["identificationModule"]["nctId"] = "NCT03110562"  # BOSTON's registry id
    rec = tmp_path / "boston.json"
    rec.write_text(json.dumps(d), encoding="utf-8")
    out = tmp_path / "with-registry"
    result = run("import", "ctgov", str(rec), str(FIXTURES / "NCT03418623.json"), "--into", str(out),
                 "--diff", "--format", "csv")
    err = result.stderr
    assert "imported 2 record(s)" in err and "1 placed in the curated tables" in err
    assert "Alcohol Use Disorder: 1 record(s): NCT03418623" in err
    assert "no results posted (design only):\n    1 record(s): NCT03418623" in err
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {r["trial"] for r in rows} == {"BOSTON"}
    n = [r for r in rows if r["figure"] == "n" and r["arm"] == "experimental"]
    # the record's 159 started against the publication's SVd arm of 195 (B1)
    assert any(r["registry"] == "159" and r["publication"] == "195" for r in n)
    # show finds the trial by its registry id; the record is one more report of BOSTON
    shown = run("--data", str(out), "show", "NCT03110562", "--format", "csv").stdout
    assert "ctgov:NCT03110562" in shown and "boston-lancet-2020" in shown
    # a second import of the same records says what changed: nothing
    again = run("import", "ctgov", str(rec), "--into", str(out))
    assert "0 posted figure(s) changed since the last import" in again.stderr


def test_command_refuses_bad_input_and_writes_nothing(tmp_path):
    from tests.conftest import run

    bad = tmp_path / "bad.json"
    bad.write_text('{"studies": [{"protocolSection": {}}]}', encoding="utf-8")
    result = run("import", "ctgov", str(bad), "--into", str(tmp_path / "out"), code=1)
    assert "bad.json" in result.stderr and "studies[0]" in result.stderr
    assert not (tmp_path / "out").exists()
    result = run("import", "nope", str(bad), "--into", str(tmp_path / "out"), code=2)
    assert "unknown registry 'nope'; known: ctgov" in result.stderr
    result = run("import", "ctgov", str(FIXTURES / "NCT03418623.json"), "--into", "", code=2)
    assert "--into needs a folder" in result.stderr


def test_duplicate_group_ids_are_a_problem_naming_the_place(tmp_path):
    d = record("NCT02552212")
    d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][2]["groups"][1]["id"] = "OG000"
    (tmp_path / "dup.json").write_text(json.dumps(d), encoding="utf-8")
    problems: list[Problem] = []
    assert list(ctgov.iter_records([tmp_path / "dup.json"], problems)) == []
    assert [(p.column, p.reason) for p in problems] == [
        (None, f"{OM}[2].groups: group id OG000 is given to more than one group")]


# --- every figure of two records, as read by hand from the record files -------------------------
# (path under resultsSection, group id, value, lower or spread, upper) — transcribed from the JSON

NCT05594173 = [  # chewing study: one flow group, 2 outcome measures x 6 groups (mean, SD), 1 event
    ("participantFlowModule.periods[0].milestones[0].achievements[0]", "FG000", "20", None, None),  # STARTED
    ("participantFlowModule.periods[0].milestones[1].achievements[0]", "FG000", "17", None, None),  # COMPLETED
    ("participantFlowModule.periods[0].milestones[2].achievements[0]", "FG000", "3", None, None),  # NOT COMPLETED
    *[(f"outcomeMeasuresModule.outcomeMeasures[0].classes[0].categories[0].measurements[{i}]", f"OG00{i}", v, sd,
       None) for i, (v, sd) in enumerate([("22", "11"), ("15", "6"), ("15", "4"), ("28", "13"), ("6", "3"),
                                          ("11", "4")])],
    *[(f"outcomeMeasuresModule.outcomeMeasures[1].classes[0].categories[0].measurements[{i}]", f"OG00{i}", v, sd,
       None) for i, (v, sd) in enumerate([("14.7", "5.4"), ("13", "4.3"), ("12.4", "2.7"), ("25.1", "10.5"),
                                          ("5.8", "2.6"), ("9.9", "2.3")])],
]
NCT00763412 = [  # repaglinide pilot: 8 and 8 started, 4 and 4 analysed; means with their full range
    ("participantFlowModule.periods[0].milestones[0].achievements[0]", "FG000", "8", None, None),
    ("participantFlowModule.periods[0].milestones[0].achievements[1]", "FG001", "8", None, None),
    ("participantFlowModule.periods[0].milestones[1].achievements[0]", "FG000", "4", None, None),
    ("participantFlowModule.periods[0].milestones[1].achievements[1]", "FG001", "4", None, None),
    ("participantFlowModule.periods[0].milestones[2].achievements[0]", "FG000", "4", None, None),
    ("participantFlowModule.periods[0].milestones[2].achievements[1]", "FG001", "4", None, None),
]
for _om, _classes in enumerate([  # outcome measure → classes → (placebo, repaglinide) as (value, low, high)
        [[("19.63", "15.56", "22.64"), ("21.19", "20.78", "21.8")]],  # BMI
        [[("19.82", "12", "37.8"), ("26.21", "8.78", "34.26")],  # body composition: fat, lean
         [("77.15", "59.54", "87.84"), ("70.83", "62.82", "87.8")]],
        [[("9.6", "0.7", "27.5"), ("2", "0.6", "3.7")]],  # CRP
        [[("101.5", "91", "121"), ("94.5", "85", "108")], [("185.75", "145", "258"), ("184", "123", "266")]],
        [[("0.14", "0.13", "0.17"), ("0.34", "0.13", "1")], [("10.4", "0.54", "28.6"), ("6", "2.2", "11.9")],
         [("5.8", "3.59", "10.79"), ("5.2", "3.1", "8.33")], [("5.1", "2.05", "7.5"), ("3.6", "1.99", "5.3")]],
        [[("-1.21", "-1.94", "0.08"), ("-0.26", "-0.31", "0.72")]],  # weight z score
        [[("4.25", "4", "5"), ("5", "5", "5")]],  # Tanner stage
        [[("90.5", "71", "99"), ("91.5", "74", "108")]],  # FEV1
        [[("1.5", "0.8", "2.3"), ("1.6", "0.6", "2.5")], [("7.5", "5", "8.7"), ("7.7", "4.2", "11.9")]],  # C-peptide
]):
    for _c, _pair in enumerate(_classes):
        for _g, (_v, _lo, _hi) in enumerate(_pair):
            NCT00763412.append((f"outcomeMeasuresModule.outcomeMeasures[{_om}].classes[{_c}].categories[0]"
                                f".measurements[{_g}]", f"OG00{_g}", _v, _lo, _hi))


@pytest.mark.parametrize(("nct", "figures"), [("NCT05594173", NCT05594173), ("NCT00763412", NCT00763412)])
def test_every_figure_of_a_record_is_in_the_registry_tables(tmp_path, nct, figures):
    ds = load()
    done = ctgov.import_records(ctgov.iter_records([FIXTURES / f"{nct}.json"], []), ds.descriptor, ds.tables)
    m = done.tables["registry_measurements"]
    m = m[m["nct_id"] == nct]
    got = {(r.path, r.group_id, r.value, r.lower if pd.notna(r.lower) else
            (r.spread if pd.notna(r.spread) else None), r.upper if pd.notna(r.upper) else None)
           for r in m.itertuples(index=False)}
    assert got == set(figures)  # every figure, and nothing else
    analysed = m[m["path"].str.contains("outcomeMeasures")]
    assert set(analysed["denominator"]) == ({"14"} if nct == "NCT05594173" else {"4"})
    groups = done.tables["registry_event_groups"]
    groups = groups[groups["nct_id"] == nct]
    totals = {(r.group_id, r.deaths_affected, r.deaths_at_risk, r.serious_affected, r.serious_at_risk,
               r.other_affected, r.other_at_risk) for r in groups.itertuples(index=False)}
    ev = done.tables["registry_events"]
    ev = ev[ev["nct_id"] == nct]
    counts = done.tables["registry_event_counts"]
    counts = counts[counts["nct_id"] == nct]
    if nct == "NCT05594173":  # eventGroups[0]: no deaths or serious events of 18; 1 of 18 other
        assert totals == {("EG000", 0, 18, 0, 18, 1, 18)}
        (one,) = ev.itertuples(index=False)  # otherEvents[0]
        assert (one.path, one.term, one.organ_system, one.kind) == (
            "adverseEventsModule.otherEvents[0]", "Digestive complaints", "Gastrointestinal disorders", "other")
        (n,) = counts.itertuples(index=False)  # otherEvents[0].stats[0]
        assert (n.group_id, n.affected, n.at_risk, n.events) == ("EG000", 1, 18, 1)
    else:  # eventGroups: 0 of 8 deaths, serious and other events in each group; no event terms
        assert totals == {(g, 0, 8, 0, 8, 0, 8) for g in ("EG000", "EG001")}
        assert ev.empty and counts.empty
