"""`show REF` names the other reports of the study's trial and how to see them side by side."""

from __future__ import annotations

import json

import pytest

from xpo1cli.catalogue import other_reports, study_record
from xpo1cli.data import load

from .conftest import run


@pytest.fixture(scope="module")
def ds():
    return load()


def test_the_other_reports_are_the_trials_reports_but_this_one(ds):
    st = ds.studies
    for study, trial in zip(st["study"], st["trial"], strict=True):
        want = [] if not isinstance(trial, str) else [
            s for s in st.loc[st["trial"] == trial, "study"] if s != study]
        assert list(other_reports(ds, study)["study"]) == want, study
    assert list(other_reports(ds, "s-hidac-mito-ref25")["study"]) == ["s-hidac-mito-jho2018"]


def test_show_of_the_reviews_ref_names_the_later_journal_report():
    text = run("show", "25", "--format", "plain").stdout
    assert "Trial SEL-HIDAC-MITO-PH1 has another report in the data: s-hidac-mito-jho2018" in " ".join(text.split())
    assert "xpo1 show SEL-HIDAC-MITO-PH1" in text


def test_showing_the_whole_trial_names_no_report_it_already_shows():
    text = run("show", "SEL-HIDAC-MITO-PH1", "--format", "plain").stdout
    assert "side by side" in text and "has another report" not in text
    assert "other report" not in run("show", "BOSTON", "--format", "plain").stdout  # one report only


def test_machine_formats_carry_the_other_reports_apart_from_the_data():
    csv = run("show", "25", "--format", "csv")
    assert "s-hidac-mito-jho2018" in csv.stderr and "s-hidac-mito-jho2018" not in csv.stdout
    doc = json.loads(run("show", "13", "--format", "json").stdout)
    assert [r["study"] for r in doc["other_reports"]] == ["storm-nejm-2019", "storm-consensus-2020"]


def test_a_study_without_a_trial_has_no_other_reports(ds):
    lone = ds.studies.loc[ds.studies["trial"].isna(), "study"]
    assert len(lone) and study_record(ds, lone.iloc[0])["other_reports"].empty


def test_a_report_difference_credits_each_figure_to_the_source_of_its_own_row(ds):
    """STORM's NEJM report is cited from a news report (S3), but its ORR of 26% is S2's row (32/122, 26%):
    a figure is credited to the source that prints it, and every credited source holds that figure."""
    import re

    from xpo1cli.headline import report_differences

    diffs = report_differences(ds)
    storm = diffs[(diffs["trial"] == "STORM") & (diffs["metric"] == "orr_percent")]["reports"].iloc[0]
    assert "storm-nejm-2019 [S2]: 26" in storm and "[S3]" not in storm
    measure = {"orr_percent": "ORR", "median_pfs": "PFS", "median_os": "OS"}  # counts may be derived
    for r in diffs.itertuples():
        for study, source, value in re.findall(r"(\S+) \[([^\]]+)\]: ([\d.]+)", r.reports):
            if r.metric == "n":
                rows = ds.cohorts[(ds.cohorts["study"] == study) & (ds.cohorts["source"] == source)]
                assert float(value) in set(rows["n"].astype(float)), (r.trial, study, source)
            elif r.metric in measure:
                o = ds.outcomes
                rows = o[(o["study"] == study) & (o["source"] == source) & (o["measure"] == measure[r.metric])]
                held = {float(x) for col in ("count", "percent_reported", "median_months")
                        for x in rows[col].dropna()}
                held |= {round(100 * float(c) / float(d), 1) for c, d in
                         rows[["count", "denominator"]].dropna().itertuples(index=False)}
                assert float(value) in held, (r.trial, study, source, value)
