"""The domain and presentation layers called directly, without the CLI: name resolution and
filters (query), the clinical tables (views), pooling (synthesis), the human views (present),
cells and formats (render) and missing values (values). One loaded dataset for the module."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from xpo1cli import catalogue, data, present, query, render, reports, values, views
from xpo1cli.synthesis import PoolError, pool


@pytest.fixture(scope="module")
def ds():
    return data.load()


def studies_of(ds, **filters):
    return query.filter_studies(ds, query.Filters(**filters))


def by_cohort(frame: pd.DataFrame) -> dict:
    return {(r["study"], r["cohort"]): r for r in render.records(frame)}


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", [None, float("nan"), pd.NA])
def test_missing_cells(cell):
    assert values.missing(cell) and values.value_or_none(cell) is None
    assert values.split_list(cell) == []


def test_numpy_scalars_become_python_values():
    frame = pd.DataFrame({"k": [3], "p": [62.5]})
    k, p = values.value_or_none(frame["k"].iloc[0]), values.value_or_none(frame["p"].iloc[0])
    assert (k, type(k), p, type(p)) == (3, int, 62.5, float)
    assert values.split_list(" MM; WM ;") == ["MM", "WM"]


# --- query: names and filters -----------------------------------------------------------------------


def test_regimen_aliases_resolve_to_one_code(ds):
    resolver = query.Resolver(ds)
    assert {resolver.regimen(n) for n in ("SVd", "S-Vd", "svd", "selinexor+bortezomib+dex")} == {"SVd"}
    with pytest.raises(query.UnknownName):
        resolver.regimen("no such regimen")


def test_a_broader_disease_includes_its_narrower_ones(ds):
    nhl = set(studies_of(ds, disease="NHL")["study"])
    assert set(studies_of(ds, disease="DLBCL")["study"]) <= nhl
    assert set(studies_of(ds, disease="MCL")["study"]) <= nhl


def test_adding_a_filter_never_adds_studies(ds):
    mm = set(studies_of(ds, disease="MM")["study"])
    assert set(studies_of(ds, disease="MM", partner=("bortezomib",))["study"]) <= mm
    assert set(studies_of(ds, disease="MM", min_n=100)["study"]) <= mm


# --- views: the clinical tables -------------------------------------------------------------------


def test_headline_of_svd_ref16(ds):
    head = by_cohort(views.headline(ds, studies_of(ds, source="review", disease="MM")))
    svd = head[("svd-ref16", "evaluable")]
    assert (svd["n"], svd["orr_count"], svd["orr_denominator"], svd["median_pfs"]) == (40, 25, 40, 9.0)


@pytest.mark.parametrize("filters", [dict(disease="MM"), dict(regimen="SVd"), dict(regimen="Vd"),
                                     dict(disease="AML", phase="1")])
def test_headline_from_shared_figures_is_the_headline_alone(ds, filters):
    # compare reads every cohort of the studies it compares once; a headline built from those
    # shared figures must be the one built from its own cohorts' figures
    studies = studies_of(ds, **filters)
    matched = query.filter_arms(ds, query.Filters(**filters), studies)
    alone = views.headline(ds, studies, matched=matched)
    shared = views.cohort_figures(ds, list(studies_of(ds)["study"]))
    pd.testing.assert_frame_equal(views.headline(ds, studies, matched=matched, shared=shared), alone)
    assert alone["audit"].notna().any() or filters != dict(disease="MM")  # flags travel too


def test_response_table_counts_and_not_reported(ds):
    rows = by_cohort(views.response_table(ds, studies_of(ds, source="review", disease="MM")))
    svd = rows[("svd-ref16", "evaluable")]
    assert (svd["cr_n"], svd["vgpr_n"], svd["pr_n"], svd["orr_n"], svd["orr_pct"]) == (3, 9, 13, 25, 63.0)
    assert svd["scr_n"] is None and svd["mr_n"] is None  # not reported stays missing, never 0
    assert (svd["orr_ci_low"], svd["orr_ci_high"]) == (45.8, 77.3)


def test_compare_frame_keeps_numbers_as_numbers(ds):
    frame = views.compare_frame(ds, ["SVd", "SPd"])
    assert "between_arms" not in frame  # the statistics as printed are added by reports
    assert pd.api.types.is_numeric_dtype(frame["orr_count"])
    boston = frame[frame["study"] == "boston-lancet-2020"]
    assert any("HR 0.70 (0.53–0.93), p = 0.0075" in (t or "") for t in reports.between_arms(ds, boston))


# --- synthesis -------------------------------------------------------------------------------------


def test_pool_of_the_review_aml_cohorts(ds):
    result = pool(ds, studies_of(ds, disease="AML", source="review"), "ORR", across_regimens=True,
                  allow_mixed=True)
    assert [g.name for g in result.groups] == [views.XPO1_GROUP]
    fit = result.groups[0].summary
    assert (fit["k"], round(fit["estimate"], 1), round(fit["ci_low"], 1), round(fit["ci_high"], 1)) == (
        3, 37.7, 11.5, 73.8)
    assert result.measure == "ORR" and result.level == 0.95 and not result.pools_controls
    assert any("overlaps the pooled population" in w for w in present.pool_warnings(result))


def test_pool_with_leave_one_out_names_the_most_influential_cohort(ds):
    result = pool(ds, studies_of(ds, disease="AML", source="review"), "ORR", leave_one_out=True,
                  across_regimens=True, allow_mixed=True)
    top = result.groups[0].most_influential
    assert top is not None and top["study"] in set(result.included["study"])
    assert present.pool_influence(result)[0].startswith(f"{views.XPO1_GROUP}: leaving out {top['study']}/")


def test_pool_of_one_cohort_is_refused(ds):
    with pytest.raises(PoolError, match="at least two independent cohorts"):
        pool(ds, studies_of(ds, regimen="SVd", source="review"), "ORR")


# --- present and render -----------------------------------------------------------------------------


def test_rate_and_fraction_in_the_clinic_notation():
    assert present.rate(25, 63.0, 45.8, 77.3, "reported") == "25 (63%) [45.8–77.3]"
    assert present.rate(None, None) == "NR"
    assert values.fraction(8, 84, 10.0, "sum of categories") == "8*/84 (10%)"
    assert values.cell(9.0) == "9" and values.cell(None) == values.MISSING


def test_show_sections_of_one_study(ds):
    rec = catalogue.study_record(ds, "svd-ref16")
    titles = [s.title for s in present.show_sections(rec)]
    assert titles[0].startswith("svd-ref16 (ref 16)") and titles[1:3] == ["Cohorts and arms", "Outcomes"]


def test_csv_and_json_of_one_frame_hold_the_same_rows(ds):
    frame = views.headline(ds, studies_of(ds, disease="WM"))
    as_csv, as_json = io.StringIO(), io.StringIO()
    render.render(frame, "csv", stream=as_csv)
    render.render(frame, "json", stream=as_json)
    rows = json.loads(as_json.getvalue())
    assert len(rows) == len(frame) == as_csv.getvalue().count("\n") - 1
    assert [r["study"] for r in rows] == list(frame["study"])
