"""Harms per regimen: a regimen's toxicity listing holds that regimen's rows only, each saying whose
figure it is; rows that name no regimen are counted in a note, never shown as the regimen's."""

from __future__ import annotations

import pandas as pd
import pytest

from xpo1cli.data import load
from xpo1cli.query import Filters, filter_arms, filter_studies
from xpo1cli.views import label_regimen, toxicity_table

from .conftest import run, run_csv


@pytest.fixture(scope="module")
def ds():
    return load()


def listing(ds, **filters) -> pd.DataFrame:
    f = Filters(**filters)
    studies = filter_studies(ds, f)
    return toxicity_table(ds, studies, matched=filter_arms(ds, f, studies), arm_filters=f)


@pytest.mark.parametrize("population, agent, regimen", [
    ("label: with bortezomib and dexamethasone", "selinexor", "SVd"),
    ("label (Malaysian product information): with bortezomib and dexamethasone", "selinexor", "SVd"),
    ("label pooled: myeloma, selinexor 80 mg twice weekly + dexamethasone", "selinexor", "Sd"),
    ("label pooled: DLBCL, selinexor 60 mg twice weekly", "selinexor", "S"),
    ("label: DLBCL", "selinexor", None),  # names no drug: no regimen is guessed
    (None, "XPO1 inhibitor", None),
])
def test_a_label_row_takes_the_regimen_its_population_names(ds, population, agent, regimen):
    assert label_regimen(ds, population, agent) == regimen


@pytest.mark.parametrize("regimen", ["SVd", "Sd", "S", "Vd", "S-7+3"])
def test_a_regimens_listing_is_exactly_its_rows_of_the_whole_profile(ds, regimen):
    """Filtered by regimen, the listing is the rows of the same studies that carry that regimen;
    every row without a regimen is counted, none shown."""
    f = Filters(regimen=regimen)
    shown = listing(ds, regimen=regimen)
    everything = toxicity_table(ds, filter_studies(ds, f))
    assert len(shown) and set(shown["regimen"]) == {regimen}
    mine = everything[everything["regimen"] == regimen].reset_index(drop=True)
    pd.testing.assert_frame_equal(shown, mine)
    assert shown.attrs["no_regimen"] == everything["regimen"].isna().sum() > 0


def test_svd_holds_no_figure_of_the_sd_label_or_single_agent_dlbcl(ds):
    """The figures the issue found listed under SVd: the Sd label pools (n = 202, 214) and the
    single-agent DLBCL label (n = 134)."""
    shown = listing(ds, regimen="SVd")
    assert not set(shown["n"].dropna()) & {202, 214, 134}
    boston = shown[shown["study"] == "boston-lancet-2020"]
    assert set(boston["cohort"]) == {"svd"}  # the Vd arm is not SVd's
    sd = listing(ds, regimen="Sd")
    assert {202, 214} <= set(sd["n"].dropna()) and 134 not in set(sd["n"].dropna())


def test_a_partner_filter_keeps_the_label_rows_of_regimens_with_that_partner(ds):
    shown = listing(ds, partner=("bortezomib",))
    assert set(shown["regimen"]) == {"SVd", "Vd"}
    assert (shown["scope"] == "label").any()


def test_without_a_treatment_filter_nothing_is_left_out(ds):
    full = toxicity_table(ds)
    assert full.attrs["no_regimen"] == 0 and full["regimen"].isna().any()


def test_the_cli_lists_svd_rows_and_counts_the_rest_on_stderr():
    result = run("toxicity", "--regimen", "SVd", "--format", "csv")
    rows = run_csv("toxicity", "--regimen", "SVd")
    assert rows and {r["regimen"] for r in rows} == {"SVd"}
    assert "name no regimen" in result.stderr and "not shown" in result.stderr
    table = run("toxicity", "--regimen", "SVd", "--format", "plain").stdout
    assert "name no regimen" in table and "SVd (label)" in table


def test_a_regimens_brief_lists_that_regimens_harms_only(ds):
    from xpo1cli.brief import build_brief

    b = build_brief(ds, Filters(disease="MM", regimen="SVd"))
    assert b.harms and {h.regimen for h in b.harms} == {"SVd"}
    assert all(h.regimen == "SVd" for h in b.harm_ranges)
    assert b.mitigations  # the class's advice stays
