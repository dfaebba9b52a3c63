"""`import ctgov` fed what a reviewer's folder may hold: files that are no records, records with
values of the wrong JSON type, numbers that are not numbers, a study given twice, arms that are no
XPO1 arm. Each is a problem naming the file and the place, or a figure kept in the registry tables
with the reason: never a crash, never a figure placed that the dataset's checks would refuse, and
never a comparator shown as a selinexor arm."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from tests.test_ctgov import FIXTURES, OM, myeloma_variant, run
from xpo1cli import ctgov
from xpo1cli.ctgov import mapping, records
from xpo1cli.data import load, validate
from xpo1cli.datapackage import DataError, Problem


def read(tmp_path: Path, name: str, content: str | bytes) -> list[tuple[str | None, str]]:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    problems: list[Problem] = []
    assert list(ctgov.iter_records([path], problems)) == []
    assert {Path(p.file).name for p in problems} == {name}
    return [(p.column, p.reason) for p in problems]


def test_files_that_are_no_records_are_named_with_why(tmp_path):
    assert read(tmp_path, "latin.json", b"\xff\xfe{}") == [(None, "not UTF-8 text, as the registry's JSON is")]
    assert read(tmp_path, "empty.json", "  \n") == [(None, "an empty file")]
    assert read(tmp_path, "list.json", "[1, 2]")[0][1].startswith("a JSON list: neither a study record")
    # NaN and Infinity are no JSON (Python's reader takes them): a figure is never read from them
    assert read(tmp_path, "nan.json", '{"a": NaN}') == [(None, "not a JSON file: NaN is no JSON value")]
    assert read(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000) == [
        (None, "not a study record: JSON nested too deeply")]


def test_values_of_the_wrong_json_type_are_problems_naming_their_place(tmp_path):
    d = myeloma_variant()
    om = d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]
    om["title"] = 12
    om["classes"][0]["categories"][0]["measurements"][1]["value"] = 47.2  # a number: '47.20' as posted?
    om["classes"].append([1])
    d["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = 10**30
    d["protocolSection"]["conditionsModule"]["conditions"].append(None)  # null is absent, not wrong
    d["protocolSection"]["armsInterventionsModule"]["armGroups"].append("arm")
    d["resultsSection"]["participantFlowModule"] = []
    d["resultsSection"]["adverseEventsModule"]["seriousEvents"][0]["stats"][1]["numAffected"] = -1
    got = read(tmp_path, "types.json", json.dumps(d))
    r = "resultsSection."
    assert [where for where, _ in (reason.split(": ", 1) for _, reason in got)] == [
        "protocolSection.designModule.enrollmentInfo.count",
        "protocolSection.armsInterventionsModule.armGroups[2]",
        r + "participantFlowModule",
        r + f"{OM}[0].title",
        r + f"{OM}[0].classes[0].categories[0].measurements[1].value",
        r + f"{OM}[0].classes[1]",
        r + "adverseEventsModule.seriousEvents[0].stats[1].numAffected"]
    assert got[2][1].endswith("a list where the registry gives an object")
    assert got[4][1].endswith("a number where the registry gives text (the figure as posted is not known)")
    assert got[6][1].endswith("-1 where the registry gives a count (a whole number of at least 0)")


def test_groups_without_ids_are_a_problem(tmp_path):
    d = myeloma_variant()
    for g in d["resultsSection"]["participantFlowModule"]["groups"]:
        g["id"] = None
    assert read(tmp_path, "noid.json", json.dumps(d)) == [
        (None, "participantFlowModule.groups: more than one group has no id")]


@pytest.mark.parametrize("text", ["NA", "<0.001", "1,234", "\u0663\u0662", "1e3", "5.", "+5", "NaN", "Infinity",
                                  "1_000", "0x10", "", "9" * 400])
def test_a_posted_value_that_is_no_plain_number_is_none(text):
    assert records.number(text) is None and records.whole(text) is None


def test_plain_numbers_are_numbers():
    assert (records.number(" 5 "), records.number("-0.25"), records.whole("158"), records.whole(2**53 + 1)) == (
        5.0, -0.25, 158, None)


def test_figures_the_dataset_would_refuse_stay_in_the_registry_table_with_the_reason(tmp_path):
    d = myeloma_variant()
    om = d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]
    om["denoms"][0]["counts"][1]["value"] = "0"  # a percentage of nobody
    om["classes"][0]["categories"][0]["measurements"][0]["value"] = "107.0"  # above 100%
    an = om["analyses"][0]
    an.update(pValue="5", ciLowerLimit="32")  # p above 1; the interval's lower limit above its estimate
    done, out = run([d], tmp_path)
    assert validate(tmp_path / "out") == []
    m = out.registry_measurements.set_index(["nct_id", "path"])
    at = f"{OM}[0].classes[0].categories[0].measurements"
    assert m.loc[("NCT02552212", f"{at}[1]"), "not_placed"] == "no whole-number denominator of at least 1"
    assert m.loc[("NCT02552212", f"{at}[0]"), "not_placed"] == "value 107.0 is outside what a ORR can be"
    assert not (out.outcomes["study"] == "ctgov-nct02552212").any()
    c = out.comparisons[out.comparisons["study"] == "ctgov-nct02552212"].iloc[0]
    # OR 15.231 stays with its posted p text; neither the p of 5 nor the interval 32 to 31.623 is placed
    assert (c.estimate, c.p_text) == (15.231, "5") and pd.isna(c.p_value) and pd.isna(c.ci_low)
    assert c.note == "registry interval does not hold the estimate: in the registry table only"
    a = out.registry_analyses.set_index(["nct_id", "path"]).loc[("NCT02552212", f"{OM}[0].analyses[0]")]
    assert (a.p_value, a.ci_lower, a.ci_upper) == ("5", "32", "31.623")


@pytest.mark.parametrize("allocation", ["NON_RANDOMIZED", None])
def test_a_comparator_arm_outside_a_randomized_record_is_never_a_selinexor_cohort(tmp_path, allocation):
    """Outside a randomized trial the curated tables hold no control arm: a cohort without its own
    regimen takes the study's. The placebo arm of a record not stated as randomized stays in the
    registry tables, with the reason, and is never pooled or listed as selinexor."""
    d = myeloma_variant()
    design = d["protocolSection"]["designModule"]["designInfo"]
    if allocation is None:
        del design["allocation"]
    else:
        design["allocation"] = allocation
    _, out = run([d], tmp_path)
    assert validate(tmp_path / "out") == []
    from xpo1cli.query import arm_table

    arms = arm_table(out)
    arms = arms[arms["study"] == "ctgov-nct02552212"]
    assert sorted(arms["label"]) == ["Selinexor 200 mg Q2W", "Selinexor 200 mg Q2W (FAS)",
                                     "Selinexor 200 mg Q2W (SS)"]
    m = out.registry_measurements.set_index(["nct_id", "path"])
    placebo = m.loc[("NCT02552212", f"{OM}[0].classes[0].categories[0].measurements[0]")]
    assert placebo.group_title == "Placebo (FAS)" and placebo.not_placed == mapping.NOT_XPO1
    ev = out.registry_event_counts.set_index(["nct_id", "path"])
    assert ev.loc[("NCT02552212", "adverseEventsModule.seriousEvents[0].stats[0]"), "not_placed"] == mapping.NOT_XPO1
    assert not (out.comparisons["study"] == "ctgov-nct02552212").any()  # no control arm to compare with


def test_a_record_whose_arms_name_no_xpo1_inhibitor_is_not_placed(tmp_path):
    d = myeloma_variant()
    d["protocolSection"]["armsInterventionsModule"]["armGroups"] = []  # two result groups, no protocol arm
    _, out = run([d], tmp_path)
    assert validate(tmp_path / "out") == []
    rec = out.registry_records.set_index("nct_id").loc["NCT02552212"]
    assert pd.isna(rec.study) and rec.placed == mapping.NO_XPO1_ARM
    assert not out.studies["study"].str.startswith("ctgov-").any()


def dated(d: dict, when: str, value: str) -> dict:
    d = copy.deepcopy(d)
    d["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = when
    d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0][
        "measurements"][1]["value"] = value
    return d


def records_of(tmp_path: Path, docs: dict[str, dict]) -> list:
    for name, doc in docs.items():
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    return [r for name in docs for r in ctgov.iter_records([tmp_path / name], [])]


@pytest.mark.parametrize("order", [("new.json", "old.json"), ("old.json", "new.json")])
def test_the_later_update_of_a_record_wins_whatever_the_order(tmp_path, order):
    v = myeloma_variant()
    docs = {"new.json": dated(v, "2023-05-01", "50.0"), "old.json": dated(v, "2022-08-18", "47.2")}
    ds = load()
    done = ctgov.import_records(records_of(tmp_path, {k: docs[k] for k in order}), ds.descriptor, ds.tables)
    m = done.tables["registry_measurements"].set_index(["nct_id", "path"])
    assert m.loc[("NCT02552212", f"{OM}[0].classes[0].categories[0].measurements[1]"), "value"] == "50.0"
    assert ("an earlier update of the record was set aside", "updated 2022-08-18", "NCT02552212") in done.notes


def test_two_versions_of_the_same_date_with_other_figures_are_refused(tmp_path):
    v = myeloma_variant()
    ds = load()
    same = records_of(tmp_path, {"a.json": dated(v, "2022-08-18", "47.2"), "b.json": dated(v, "2022-08-18", "47.2")})
    assert ctgov.import_records(same, ds.descriptor, ds.tables).records == ["NCT02552212"]  # one record, twice
    other = records_of(tmp_path, {"a.json": dated(v, "2022-08-18", "47.2"), "c.json": dated(v, "2022-08-18", "60")})
    with pytest.raises(ctgov.RecordProblems) as err:
        ctgov.import_records(other, ds.descriptor, ds.tables)
    (p,) = err.value.problems
    assert Path(p.file).name == "c.json" and p.reason.startswith("NCT02552212 is also in ")
    assert p.reason.endswith("with the same last update (2022-08-18) and other figures: "
                             "which is the later version is not known")


def test_the_command_refuses_a_same_date_clash_and_writes_nothing(tmp_path):
    from tests.conftest import run as cli

    v = myeloma_variant()
    records_of(tmp_path, {"a.json": dated(v, "2022-08-18", "47.2"), "c.json": dated(v, "2022-08-18", "60")})
    result = cli("import", "ctgov", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "--into",
                 str(tmp_path / "out"), code=1)
    assert "c.json: NCT02552212 is also in" in result.stderr and "nothing written" in result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "out").exists()


def test_the_real_records_pass_the_shape_check():
    for path in sorted(FIXTURES.glob("NCT*.json")):
        assert records._shape(json.loads(path.read_text(encoding="utf-8")), records.SHAPE) == [], path.name


def test_a_folder_is_replaced_only_when_it_is_an_earlier_import_and_nothing_more(tmp_path):
    from xpo1cli.data import write_package

    own = tmp_path / "own"
    write_package(load(), own)  # a user's own dataset: extended from a new folder, never replaced
    assert ctgov.refused_target(own).startswith("is a dataset but no earlier import")
    done, _ = run([myeloma_variant()], tmp_path)
    assert ctgov.refused_target(tmp_path / "out") is None
    (tmp_path / "out" / "NOTES.md").write_text("mine", encoding="utf-8")
    assert ctgov.refused_target(tmp_path / "out") == (
        "holds files its dataset does not name (NOTES.md), which replacing the folder would remove")
    with pytest.raises(DataError):
        ctgov.write_imported(done, tmp_path / "out")
    assert (tmp_path / "out" / "NOTES.md").read_text(encoding="utf-8") == "mine"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert ctgov.refused_target(tmp_path / "file") == "is a file, not a folder"


def test_the_command_leaves_a_users_dataset_as_it_was(tmp_path):
    from tests.conftest import run as cli
    from xpo1cli.data import write_package

    own = tmp_path / "own"
    write_package(load(), own)
    (own / "NOTES.md").write_text("mine", encoding="utf-8")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in own.iterdir())
    result = cli("import", "ctgov", str(FIXTURES / "NCT02552212.json"), "--into", str(own), code=2)
    assert "is a dataset but no earlier import" in result.stderr and "nothing written" in result.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in own.iterdir()) == before
    # extending it: a new folder, with the user's dataset as the base
    cli("--data", str(own), "import", "ctgov", str(FIXTURES / "NCT02552212.json"), "--into", str(tmp_path / "new"))
    assert validate(tmp_path / "new") == []


def boston_with_pfs() -> dict:
    """The myeloma variant under BOSTON's registry id (NCT03110562, in trials.csv) with a PFS
    outcome built here: medians per arm and a hazard ratio whose interval is 90%."""
    d = myeloma_variant()
    d["protocolSection"]["identificationModule"]["nctId"] = "NCT03110562"
    oms = d["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]
    g = copy.deepcopy(oms[0]["groups"])  # OG000 Placebo (FAS), OG001 Selinexor 200 mg Q2W (FAS)
    oms.append({
        "title": "Progression-Free Survival", "paramType": "MEDIAN", "unitOfMeasure": "months",
        "dispersionType": "95% Confidence Interval", "groups": g,
        "denoms": [{"counts": [{"groupId": "OG000", "value": "158"}, {"groupId": "OG001", "value": "159"}]}],
        "classes": [{"categories": [{"measurements": [
            {"groupId": "OG000", "value": "9.5", "lowerLimit": "8.1", "upperLimit": "10.8"},
            {"groupId": "OG001", "value": "13.9", "lowerLimit": "11.7", "upperLimit": "NA"}]}]}],
        "analyses": [{"groupIds": ["OG001", "OG000"], "paramType": "Hazard Ratio (HR)", "paramValue": "0.70",
                      "ciPctValue": "90", "ciNumSides": "TWO_SIDED", "ciLowerLimit": "0.55", "ciUpperLimit": "0.89",
                      "groupDescription": "Selinexor 200 mg Q2W vs Placebo"}]})
    return d


def test_the_diff_sets_the_record_beside_the_publications_whole_arms_not_their_subgroups(tmp_path):
    _, out = run([boston_with_pfs()], tmp_path)
    diff = ctgov.registry_differences(out)
    pfs = diff[diff["figure"].str.startswith("PFS median")]
    # BOSTON's arms (B1): 13.93 and 9.46 months; its subgroups (B3, M15: PI-naive, one prior line) are
    # other populations and are not set beside the record's whole arms
    assert sorted(zip(pfs["arm"], pfs["registry"], pfs["publication"], pfs["publication_source"], strict=True)) == [
        ("control", "9.5", "9.46", "B1"), ("experimental", "13.9", "13.93", "B1")]
    hr = diff[diff["figure"].str.startswith("PFS HR")].set_index("figure")
    # the record's 90% interval is not stored as 95%: set beside B1's 0.53-0.93 as a difference of level
    assert set(hr.index) == {"PFS HR ci_low", "PFS HR ci_high"}
    assert (hr.loc["PFS HR ci_low", "registry"], hr.loc["PFS HR ci_low", "publication"]) == ("–", "0.53")
    assert set(hr["difference"]) == {"interval level"}
    c = out.comparisons[out.comparisons["study"] == "ctgov-nct03110562"].set_index("measure").loc["PFS"]
    assert (c.estimate, pd.isna(c.ci_low), c.note) == (
        0.7, True, "registry interval is 90% two-sided: in the registry table only")


def test_a_terms_file_with_bad_rows_names_each_line(tmp_path):
    terms = tmp_path / "terms.csv"
    terms.write_text("kind,term,code\ncondition,Axial Spondyloarthritis,NOPE\noutcome,ASAS40,ORR\n"
                     "drug,Certolizumab,selinexor\ncondition,,MM\noutcome,BASDAI,VGPR\n", encoding="utf-8")
    problems: list[Problem] = []
    rows = ctgov.read_terms(terms, problems, ctgov.known_codes(load().tables))
    assert rows == [("outcome", "ASAS40", "ORR")]
    assert [(p.row, p.column, p.reason[:40]) for p in problems] == [
        (2, "code", "condition code 'NOPE' is not one of the "),
        (4, "kind", "a row needs kind (condition, interventio"),
        (5, "kind", "a row needs kind (condition, interventio"),
        (6, "code", "outcome code 'VGPR' is not one of the da")]


def test_the_command_refuses_an_unknown_code_in_the_terms_before_reading_records(tmp_path):
    from tests.conftest import run as cli

    terms = tmp_path / "terms.csv"
    terms.write_text("kind,term,code\ncondition,Axial Spondyloarthritis,NOPE\n", encoding="utf-8")
    result = cli("import", "ctgov", str(FIXTURES / "NCT02552212.json"), "--into", str(tmp_path / "out"),
                 "--terms", str(terms), code=1)
    assert "terms.csv:2 [code]: condition code 'NOPE' is not one of the dataset's: AL, AML" in result.stderr
    assert "invalid dataset" not in result.stderr and not (tmp_path / "out").exists()


def test_frictionless_validates_an_import(tmp_path):
    """Every registry table is a tabular data resource, as the package's profile requires."""
    frictionless = pytest.importorskip("frictionless")
    run([boston_with_pfs()], tmp_path)
    report = frictionless.validate(str(tmp_path / "out" / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]


def test_a_folder_of_mixed_files_reads_the_records_and_names_what_cannot_be_read(tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub" / "x.json").mkdir(parents=True)  # a folder named like a record: looked into
    (folder / "sub" / "r.json").write_text((FIXTURES / "NCT05594173.json").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    (folder / "notes.txt").write_text("not a record", encoding="utf-8")  # not named *.json: not read
    (folder / "link.json").symlink_to(FIXTURES / "NCT00763412.json")
    (folder / "gone.json").symlink_to(tmp_path / "nowhere.json")
    os.mkfifo(folder / "pipe.json")
    problems: list[Problem] = []
    assert [r.nct for r in ctgov.iter_records([folder], problems)] == ["NCT00763412", "NCT05594173"]
    assert sorted((Path(p.file).name, p.reason) for p in problems) == [
        ("gone.json", "not a regular file (a broken link or a pipe)"),
        ("pipe.json", "not a regular file (a broken link or a pipe)")]
