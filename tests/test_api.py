"""The Python API (xpo1cli.api): what a notebook user gets is what the commands print, names are
resolved once, and every error is typed."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import xpo1cli
from xpo1cli.cli.errors import EXIT_DATA, EXIT_USAGE, library_error
from xpo1cli.render import render

from .conftest import DATA, one_row, run


@pytest.fixture(scope="module")
def ds():
    return xpo1cli.open()


def csv_of(frame) -> str:
    out = io.StringIO()
    render(frame, "csv", stream=out)
    return out.getvalue()


def test_importing_the_package_loads_no_data_stack():
    code = "import sys, xpo1cli; print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("args", "table"), [
    (["list", "-d", "MM"], lambda ds: ds.select(disease="MM").studies()),
    (["list", "--cohorts", "-r", "SVd", "--sort", "orr"], lambda ds: ds.select(regimen="SVd").cohorts(sort="orr")),
    (["response", "-d", "AML", "--ci", "wilson"], lambda ds: ds.select(disease="AML").response(ci="wilson")),
    (["survival", "-m", "OS", "--sort", "median"], lambda ds: ds.select().survival("OS", sort="median")),
    (["trials", "--disease", "MM"], lambda ds: ds.trials(disease="MM")),
    (["export", "cohorts"], lambda ds: ds.export("cohorts")),
])
def test_a_table_of_the_api_is_the_table_the_command_prints(ds, args, table):
    assert csv_of(table(ds)) == run(*args, "--format", "csv").stdout


def test_a_selection_filters_studies_and_arms_together(ds):
    svd = ds.select(disease="myeloma", regimen="S-Vd")
    assert "boston-lancet-2020" in set(svd.study_rows["study"])
    boston = {cohort for study, cohort in svd.arms if study == "boston-lancet-2020"}
    assert "svd" in boston and "vd" not in boston  # the trial keeps only the arm given S-Vd
    row = one_row(svd.studies(), study="boston-lancet-2020")
    assert row["regimen"] == "SVd" and row["n"] == 195


def test_a_partner_is_one_name_or_several(ds):
    one = ds.select(partner="bortezomib")
    both = ds.select(partner=["bortezomib", "dexamethasone"])
    assert len(both) <= len(one) and set(both.study_rows["study"]) <= set(one.study_rows["study"])


def test_compare_marks_the_randomized_pair_and_warns(ds):
    result = ds.select(disease="MM").compare("SVd", "Vd")
    boston = result.frame[result.frame["study"] == "boston-lancet-2020"]
    assert set(boston["comparison"]) == {"randomized, within one trial"}
    assert list(boston["n"]) == [195, 207]
    assert result.warnings[0].startswith("SVd vs Vd in BOSTON: a randomized comparison within one trial")


def test_compare_keeps_only_the_selected_studies(ds):
    every = ds.select().compare("SVd", "SPd").frame
    phase3 = ds.select(design="randomized phase 3").compare("SVd", "SPd").frame
    assert set(phase3["study"]) == {"boston-lancet-2020"} < set(every["study"])


def test_toxicity_reads_the_agent_as_the_drug_of_a_finding(ds):
    harms = ds.select(agent="eltanexor").toxicity()
    assert set(harms.findings["agent"].dropna()) <= {"eltanexor", "XPO1 inhibitor"}
    assert "eltanexor" in set(harms.findings["agent"])
    assert "class" in set(harms.findings["scope"])  # class-level findings apply to every agent
    only = ds.select().toxicity(arms=True)
    assert only.findings is None and {"risk_difference", "rd_ci_low"} <= set(only.arms.columns)


def test_pool_gives_the_figure_the_command_prints(ds):
    result = ds.select(disease="MM").pool("ORR", method="reml", knha=True, across_regimens=True, allow_mixed=True)
    fit = result.groups[0].summary
    printed = json.loads(run("pool", "-d", "MM", "--method", "REML", "--knha", "--across-regimens", "--allow-mixed",
                             "-f", "json").stdout)
    pooled = [r for r in printed if r["row"] == "random"][0]
    assert fit["method"] == "REML" and pooled["percent"] == pytest.approx(fit["estimate"])


@pytest.mark.parametrize(("call", "kind", "words"), [
    (lambda ds: ds.select(disease="myelomma"), xpo1cli.UnknownName, "did you mean MM"),
    (lambda ds: ds.select(regimen="S-Vdd"), xpo1cli.UnknownName, "unknown regimen 'S-Vdd'"),
    (lambda ds: ds.select(disease=" "), xpo1cli.InvalidValue, "disease needs a value"),
    (lambda ds: ds.select().pool("ORR", method="ML"), xpo1cli.InvalidValue, "known: DL, REML, PM"),
    (lambda ds: ds.select().pool("ORR", level=95), xpo1cli.InvalidValue, "did you mean 0.95?"),
    (lambda ds: ds.select().studies(sort="size"), xpo1cli.UnknownName, "unknown sort key 'size'"),
    (lambda ds: ds.select().compare("SVd"), xpo1cli.InvalidValue, "at least two regimens"),
    (lambda ds: ds.select(disease="AL").pool("ORR"), xpo1cli.PoolError, "at least two independent cohorts"),
    (lambda ds: ds.export("patients"), xpo1cli.InvalidValue, "unknown table 'patients'"),
])
def test_errors_are_typed_and_name_what_is_known(ds, call, kind, words):
    with pytest.raises(kind, match=words):
        call(ds)


def test_an_unknown_filter_is_a_type_error(ds):
    with pytest.raises(TypeError, match="unknown filters: diagnosis"):
        ds.select(diagnosis="MM")


def test_a_broken_dataset_raises_with_every_problem(tmp_path):
    shutil.copytree(DATA, tmp_path / "d")
    studies = tmp_path / "d" / "studies.csv"
    studies.write_text(studies.read_text(encoding="utf-8").replace("relapsed/refractory", "sometimes"),
                       encoding="utf-8")
    with pytest.raises(xpo1cli.DatasetError) as caught:
        xpo1cli.open(tmp_path / "d")
    assert len(caught.value.problems) >= 2
    assert all(p.file == "studies.csv" and p.column == "setting" for p in caught.value.problems[:2])
    assert xpo1cli.validate(tmp_path / "d") == caught.value.problems


def test_the_command_line_says_each_library_error_with_its_exit_code():
    said = library_error(xpo1cli.UnknownName("unknown disease 'X'; known: MM"))
    assert said == (EXIT_USAGE, "unknown disease 'X'; known: MM")
    assert library_error(xpo1cli.InvalidValue("bad")) == (EXIT_USAGE, "bad")
    assert library_error(xpo1cli.PoolError("none")) == (EXIT_USAGE, "none")
    code, text = library_error(xpo1cli.CrossRegimenPool(["S", "S-DEC"]))
    assert code == EXIT_USAGE and "2 regimens (S, S-DEC)" in text
    assert all(way in text for way in ("--regimen X", "--by regimen", "--across-regimens"))
    assert "--by regimen" not in library_error(xpo1cli.CrossRegimenPool(["S", "S-DEC"], by_regimen=False))[1]
    problem = xpo1cli.Problem("studies.csv", 3, "setting", "not allowed")
    assert library_error(xpo1cli.DatasetError([problem])) == (
        EXIT_DATA, "invalid dataset: studies.csv:3 [setting]: not allowed")
    assert library_error(KeyError("a bug")) is None


def test_a_pool_across_regimens_is_refused_with_the_regimens_unless_asked(ds):
    aml = ds.select(disease="AML", source="review")
    with pytest.raises(xpo1cli.CrossRegimenPool) as caught:
        aml.pool("ORR")
    assert caught.value.regimens == ["S", "S-DEC", "S-HiDAC-MITO"]
    assert isinstance(caught.value, xpo1cli.PoolError) and "across_regimens=True" in str(caught.value)
    with pytest.raises(xpo1cli.CrossRegimenPool, match="by='regimen'") as by_disease:
        aml.pool("ORR", by="disease")  # a split by another column still pools across regimens
    assert by_disease.value.by_regimen
    with pytest.raises(xpo1cli.CrossRegimenPool) as loo:  # leave-one-out refits the pool across regimens
        aml.pool("ORR", by="regimen", leave_one_out=True)
    assert not loo.value.by_regimen and "by='regimen'" not in str(loo.value)
    with pytest.raises(xpo1cli.MixedPool):  # across regimens does not imply a pool of several settings
        aml.pool("ORR", across_regimens=True)
    asked = aml.pool("ORR", across_regimens=True, allow_mixed=True)
    fit = asked.groups[0].summary
    assert asked.across_regimens and fit["across"] == ["S", "S-DEC", "S-HiDAC-MITO"]
    assert fit["estimate"] == pytest.approx(37.7104, abs=1e-3)  # the figure metafor gives (tests/test_pool.py)
    pooled = asked.groups[0].table.query("row != 'cohort'")
    assert set(pooled["regimen"]) == {"S;S-DEC;S-HiDAC-MITO"}
    assert all(label.startswith("across regimens") for label in pooled["cohort_label"])


def test_one_pool_per_regimen_has_no_figure_across_them(ds):
    result = ds.select(disease="MM", source="review").pool("ORR", by="regimen", allow_mixed=True)
    g = result.groups[0]
    assert not result.across_regimens and g.summary["overall"] is False
    assert g.summary["estimate"] is None and g.summary["tau2"] is None  # no cross-regimen figure anywhere
    assert set(g.table["row"]) == {"cohort", "random"}  # and no test comparing the regimens' cohorts
    assert g.table.loc[g.table["row"] == "random", "subgroup"].tolist() == ["Sd", "SRd"]
    assert g.summary["q_between"] is None
    across = ds.select(disease="MM", source="review").pool("ORR", by="regimen", across_regimens=True,
                                                           allow_mixed=True)
    assert across.groups[0].summary["q_between"] == pytest.approx(33.73182, abs=1e-4)


def test_a_pool_of_no_one_population_is_refused_unless_asked(ds):
    sd = ds.select(disease="MM", regimen="Sd")
    with pytest.raises(xpo1cli.MixedPool) as caught:
        sd.pool("ORR")
    assert isinstance(caught.value, xpo1cli.PoolError)
    assert caught.value.reason == "the pool mixes diseases (MM, WM; a cohort of several)"
    assert caught.value.cohorts == ["sd-phase1-ref12/all 8*/84", "storm-nejm-2019/mitt 32/122"]
    code, text = library_error(caught.value)
    assert code == EXIT_USAGE and "--allow-mixed" in text and "sd-phase1-ref12/all 8*/84" in text
    asked = sd.pool("ORR", allow_mixed=True)
    assert asked.allow_mixed and asked.groups[0].summary["estimate"] == pytest.approx(16.7516, abs=1e-3)
    assert asked.groups[0].summary["pi_low"] is None  # k = 2: no prediction interval
    by = ds.select(disease="MM").pool("ORR", by="regimen")
    subs = by.groups[0].summary["subgroups"]
    assert subs["Sd"]["refused"] == "the pool mixes diseases (MM, WM; a cohort of several)"
    assert subs["SRd"]["refused"] == "the pool mixes populations"
    assert "estimate" not in subs["Sd"] and subs["SVd"]["estimate"] == pytest.approx(62.5)


def test_a_pool_of_one_regimen_is_as_before(ds):
    """One regimen: nothing refused, nothing relabelled, with or without the keyword."""
    sel = ds.select(disease="MM", regimen="SRd")
    plain, asked = sel.pool("ORR", allow_mixed=True), sel.pool("ORR", across_regimens=True, allow_mixed=True)
    assert not plain.across_regimens and not asked.across_regimens
    pd.testing.assert_frame_equal(plain.groups[0].table, asked.groups[0].table)
    assert plain.groups[0].summary == asked.groups[0].summary
    assert "across" not in plain.groups[0].summary["label"]
