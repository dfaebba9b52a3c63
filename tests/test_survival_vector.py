"""The survival table built over whole columns (views.survival_table) is, row for row and cell
for cell, what the rule read one outcome row at a time gives: the row's cohort as arm_table
lists it (a cohort listed twice: its last row), the study's disease, the median in weeks where
the source gives weeks, else in months. Checked on the bundled data and a synthetic dataset,
with and without a measure and an arm filter, deriving the outcome rows itself or handed a
caller's outcome table."""

from __future__ import annotations

import pandas as pd
import pytest

from xpo1cli import data, query, views
from xpo1cli.counts import TIME_MEASURES, outcome_table
from xpo1cli.query import arm_table
from xpo1cli.values import missing, row_tuples, value_or_none

from .conftest import synthetic


def reference(ds, studies, measure=None, matched=None) -> pd.DataFrame:
    """The survival table, one outcome row at a time."""
    wanted = [m for m in TIME_MEASURES if measure is None or m.casefold() == measure.casefold()]
    o = outcome_table(ds, derive_orr=False, studies=studies["study"])
    o = o[o["measure"].isin(wanted)]
    arms = {(c.study, c.cohort): c for c in row_tuples(arm_table(ds), index=False)}
    disease = dict(zip(studies["study"], studies["disease"], strict=True))
    rows = []
    for r in row_tuples(o):
        if matched is not None and (r.study, r.cohort) not in matched:
            continue
        c = arms[(r.study, r.cohort)]
        weeks = not missing(r.median_weeks)
        rows.append({"ref": r.ref, "study": r.study, "cohort": r.cohort, "cohort_label": c.label,
                     "disease": disease[r.study], "regimen": c.regimen, "arm": c.arm,
                     "agent": c.agent, "n": value_or_none(c.n), "measure": r.measure,
                     "median": r.median_weeks if weeks else r.median_months,
                     "unit": "weeks" if weeks else "months",
                     "range_low": r.range_low, "range_high": r.range_high, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "note": r.note, "source": r.source, "section": r.section})
    frame = pd.DataFrame(rows, columns=views.SURVIVAL_COLUMNS)
    frame["ref"] = frame["ref"].astype("Int64")
    frame["n"] = frame["n"].astype("Int64")
    for col in ("median", "range_low", "range_high", "ci_low", "ci_high"):
        frame[col] = frame[col].astype("float64")
    order = {m: i for i, m in enumerate(TIME_MEASURES)}
    study_order = {s: i for i, s in enumerate(studies["study"])}
    frame["_m"] = frame["measure"].map(order)
    frame["_s"] = frame["study"].map(study_order)
    return (frame.sort_values(["_s", "cohort", "_m"], kind="stable")
            .drop(columns=["_m", "_s"]).reset_index(drop=True))


@pytest.fixture(scope="module", params=["bundled", "synthetic"])
def dataset(request, tmp_path_factory):
    if request.param == "bundled":
        return data.load()
    return synthetic(tmp_path_factory.mktemp("surv"), 300, seed=11)


def matched_cohorts(ds, studies) -> set:
    """Every other cohort of the studies: an arm filter that keeps some rows and drops others."""
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(studies["study"])]
    return set(list(zip(arms["study"], arms["cohort"], strict=True))[::2])


@pytest.mark.parametrize("measure", [None, "PFS", "os", "DOR"])
@pytest.mark.parametrize("arm_filter", [False, True])
def test_survival_table_is_the_row_by_row_rule(dataset, measure, arm_filter):
    studies = query.study_table(dataset)
    for chosen in (studies, studies[studies["disease"] == "MM"], studies.iloc[::-3]):
        matched = matched_cohorts(dataset, chosen) if arm_filter else None
        want = reference(dataset, chosen, measure, matched)
        assert len(want) > 0 or measure == "DOR"
        every = outcome_table(dataset, studies=studies["study"])  # more studies than chosen, every measure
        for outcomes in (None, every):
            got = views.survival_table(dataset, chosen, measure=measure, matched=matched, outcomes=outcomes)
            pd.testing.assert_frame_equal(got, want, check_dtype=True, check_exact=True)


def test_an_arm_filter_that_keeps_no_row_gives_an_empty_table(dataset):
    studies = query.study_table(dataset)
    for matched in (set(), {("no such study", "all")}):
        got = views.survival_table(dataset, studies, matched=matched)
        pd.testing.assert_frame_equal(got, reference(dataset, studies, matched=matched), check_exact=True)
        assert got.empty and list(got.columns) == views.SURVIVAL_COLUMNS


def test_the_weeks_of_a_median_win_over_its_months():
    """A source giving weeks: the median, its unit, its CI and range read in weeks."""
    ds = data.load()
    table = views.survival_table(ds, query.study_table(ds))
    weeks = table[table["unit"] == "weeks"]
    assert len(weeks) and (table["unit"].isin(["weeks", "months"])).all()
