"""The whole-column response table (response.response_table) is, row for row and cell for cell, what
its rules give read one source's rows of one cohort at a time: each cohort's rows grouped by
source and measure (by_cohort, tests/reference_rules.py), each depth summary from them (depth), the categories
printed as cumulative rates read as the summaries they are (counts.printed_as_cumulative), the
denominator most of the source's measures give. The reference below is that row loop, kept here
rather than in the package. Checked on the bundled data (with and without treatment filters, for
each measure and both intervals), on a synthetic dataset and on generated tables: several
sources a cohort, landmarks, percentages without counts, rates that add up to more than 100%,
stored depth summaries against sums of categories, the depth labels of each disease, a measure
asked for and arm filters.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpo1cli import data, query
from xpo1cli.audit import cohort_flags
from xpo1cli.counts import CATEGORIES, CUMULATIVE_BASIS, CUMULATIVE_READING, outcome_table, printed_as_cumulative
from xpo1cli.headline import depth_labels
from xpo1cli.query import UnknownName, arm_table
from xpo1cli.response import (
    ALL_RESPONSE,
    DEPTH_KEYS,
    DEPTH_NAMES,
    SUMMARIES,
    norm_measure,
    response_columns,
    response_key,
    response_table,
)
from xpo1cli.values import row_tuples, value_or_none

from .conftest import synthetic
from .reference_rules import by_cohort, depth
from .test_derive import ROOT

# --- the reference: one source's rows of one cohort at a time ---------------------------------------


def ref_response_table(ds, studies: pd.DataFrame, measure: str | None = None, method: str = "exact",
                       level: float = 0.95, matched: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    from xpo1cli.stats import percent_cis

    measures = ALL_RESPONSE
    if measure is not None:
        wanted = {norm_measure(m) for m in ALL_RESPONSE}
        key = norm_measure(measure)
        if key not in wanted:
            raise UnknownName(f"unknown response measure '{measure}'; known: "
                              f"{', '.join(m for m in ALL_RESPONSE)}")
        measures = tuple(m for m in ALL_RESPONSE if norm_measure(m) == key)
    outcomes = outcome_table(ds, studies=studies["study"])
    flags = cohort_flags(ds, set(studies["study"]), outcomes)
    outcomes = outcomes[outcomes["measure"].isin(CATEGORIES + SUMMARIES)]
    grouped = by_cohort(outcomes, by_source=True)
    sources_of: dict[tuple[str, str], list[str]] = {}
    for study, cohort, src in grouped:
        sources_of.setdefault((study, cohort), []).append(src)
    cohorts: dict[str, list[tuple]] = {}
    for c in row_tuples(arm_table(ds), index=False):
        if matched is None or (c.study, c.cohort) in matched:
            cohorts.setdefault(c.study, []).append(c)
    rows, intervals = [], []
    blank = dict.fromkeys(response_columns(measures))
    keys = {m: response_key(m) for m in measures}
    for s in row_tuples(studies):
        labels = depth_labels(s.disease)
        for c, src in ((co, src) for co in cohorts.get(s.study, [])
                       for src in sources_of.get((s.study, co.cohort), [])):
            study, cohort = s.study, c.cohort
            by = grouped[(study, cohort, src)]  # plain rows: None where missing
            row = blank.copy()
            dens = [int(r.denominator) for r in by.values() if r.denominator is not None]
            row.update(ref=s.ref, study=study, cohort=cohort, cohort_label=c.label,
                       disease=s.disease, regimen=c.regimen, arm=c.arm, agent=c.agent,
                       n=value_or_none(c.n), source=src,
                       denominator=max(set(dens), key=dens.count) if dens else None,
                       audit=flags.get((study, cohort)))
            got_any = False
            printed = {m: r.percent_reported for m, r in by.items()
                       if m in CATEGORIES and r.percent_reported is not None}
            cumulative = ({CUMULATIVE_READING[m]: m for m in printed if m in CUMULATIVE_READING}
                          if printed_as_cumulative(printed.values()) else {})
            for m in measures:
                k = keys[m]
                if m in cumulative.values():
                    continue  # not a category of its own: read as the summary it is
                if m in cumulative:
                    r = by[cumulative[m]]
                    val = (None, r.denominator, r.percent_reported, CUMULATIVE_BASIS.format(cumulative[m]))
                elif m in DEPTH_KEYS or (m == "CR_CRi" and "CR/CRi" in labels):
                    d = depth(by, DEPTH_NAMES.get(m, m)) if DEPTH_NAMES.get(m, m) in labels else None
                    val = d and (d["count"], d["denominator"], d["percent"], d["basis"])
                elif m in by:
                    r = by[m]
                    pct = r.percent_reported
                    val = (r.count_used, r.denominator, pct if pct is not None else r.percent_calc,
                           r.count_basis)
                else:
                    val = None
                if not val:
                    continue
                cnt, den, pct, basis = val
                got_any = got_any or cnt is not None or pct is not None
                row[f"{k}_n"], row[f"{k}_pct"] = cnt, pct
                if m not in CATEGORIES:
                    row[f"{k}_basis"] = basis if cnt is not None or m in cumulative else "percentage only"
                    if cnt is not None and den:
                        intervals.append((row, k, int(cnt), int(den)))
            if got_any:
                rows.append(row)
    if intervals:  # every interval in one call
        lows, highs = percent_cis([i[2] for i in intervals], [i[3] for i in intervals], method, level)
        for (row, k, _, _), lo, hi in zip(intervals, lows, highs, strict=True):
            row[f"{k}_ci_low"], row[f"{k}_ci_high"] = lo, hi
    frame = pd.DataFrame(rows, columns=response_columns(measures))
    for col in frame.columns:
        if col in ("ref", "n", "denominator") or col.endswith("_n"):
            frame[col] = frame[col].astype("Int64")
        elif col.endswith(("_pct", "_ci_low", "_ci_high")):
            frame[col] = frame[col].astype("float64")
    return frame


# --- the comparison ---------------------------------------------------------------------------------


def cell(value):
    """A cell as something == compares exactly: missing cells kept apart by kind (None, NaN, NA)."""
    if value is None or value is pd.NA:
        return repr(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return type(value).__name__, value


def outcome(call):
    """What a call gives: its frame, or the exception it raises (type and message)."""
    try:
        return call()
    except (ValueError, UnknownName) as error:
        return type(error), str(error)


def same(ds, studies: pd.DataFrame, **options) -> pd.DataFrame | None:
    """Build the table both ways; assert the frames are the same: columns, dtypes, rows in order,
    cells (missing ones of the same kind) and index. Returns the package's frame (None where both
    raise the same error)."""
    got = outcome(lambda: response_table(ds, studies, **options))
    want = outcome(lambda: ref_response_table(ds, studies, **options))
    if isinstance(want, tuple):
        assert got == want
        return None
    assert isinstance(got, pd.DataFrame), got
    pd.testing.assert_frame_equal(got, want, check_dtype=True, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    for col in want.columns:
        assert [cell(v) for v in got[col].tolist()] == [cell(v) for v in want[col].tolist()], col
    return got


# --- the bundled data and a synthetic dataset --------------------------------------------------------

FILTERS = [dict(), dict(disease="MM"), dict(disease="AML"), dict(disease="NHL"), dict(regimen="SVd"),
           dict(partner=["dexamethasone"]), dict(partner=["bortezomib"], disease="MM"), dict(agent="eltanexor"),
           dict(source="review")]


@pytest.mark.parametrize("filters", FILTERS)
def test_the_bundled_table_is_the_rules_read_one_source_at_a_time(filters):
    ds = data.load()
    f = query.Filters(**filters)
    studies = query.filter_studies(ds, f)
    matched = query.filter_arms(ds, f, studies)
    frame = same(ds, studies, matched=matched)
    assert frame is not None and (len(frame) > 0 or filters.get("agent"))
    same(ds, studies, matched=matched, method="wilson", level=0.9)


@pytest.mark.parametrize("measure", [*ALL_RESPONSE, "ge_vgpr", "cr/cri", "nothing"])
def test_each_measure_of_the_bundled_table_is_the_rules_one(measure):
    ds = data.load()
    same(ds, query.filter_studies(ds, query.Filters()), measure=measure)


def test_the_bundled_table_reads_cumulative_rates_and_depth_as_the_rules_do():
    """The bundled data has what the rules turn on: rates printed as cumulative, depth summaries
    summed from categories and printed, several sources of one cohort."""
    ds = data.load()
    frame = same(ds, query.filter_studies(ds, query.Filters()))
    bases = set(frame.filter(like="_basis").stack().dropna())
    assert {"sum of categories", "percentage only", "reported"} <= bases
    assert any(b.startswith("cumulative reading") for b in bases)
    assert frame.groupby(["study", "cohort"])["source"].nunique().max() > 1


def test_a_synthetic_table_is_the_rules_read_one_source_at_a_time(tmp_path):
    ds = synthetic(tmp_path / "synth", 150, seed=7)
    studies = query.filter_studies(ds, query.Filters())
    assert len(same(ds, studies)) > 300
    same(ds, query.filter_studies(ds, query.Filters(disease="MM")), method="wilson")
    f = query.Filters(regimen=ds.studies["regimen"].iloc[0])
    studies = query.filter_studies(ds, f)
    same(ds, studies, matched=query.filter_arms(ds, f, studies), measure="ORR")
    # some studies listed again and out of order, some cohorts matched: rows follow the studies given
    again = pd.concat([studies.iloc[::-1], studies.iloc[:3]], ignore_index=True)
    some = set(zip(ds.cohorts["study"], ds.cohorts["cohort"], strict=True))
    same(ds, again, matched={k for i, k in enumerate(sorted(some)) if i % 3})


# --- generated tables ------------------------------------------------------------------------------

MEASURES = (*CATEGORIES, *SUMMARIES, "PFS")
# whole and one-decimal rates, among them pairs past the cumulative cut-off of 100.5%, at it and
# just under it (50.25 + 50.3, 50.25 + 50.25, 50.2 + 50.25)
PERCENTS = [0.0, 8.3, 25.0, 33.3, 40.0, 50.0, 50.2, 50.25, 50.3, 60.0, 66.7, 75.0, 100.0]
DISEASES = ["MM", "WM", "AML", "MDS;AML", "NHL", "DLBCL", "MF", None]
COHORTS = ["all", "arm-a", "arm-b", "sub"]


def generated_dataset(rows: list[tuple], diseases: tuple, arms: bool, twice: bool) -> data.Dataset:
    """Two studies of the given diseases, each with a whole population and two arms or subgroups
    (one listed twice when `twice`), and the outcome rows drawn."""
    out = pd.DataFrame(rows, columns=["study", "cohort", "source", "measure", "timepoint", "count", "denominator",
                                      "percent_reported"])
    for col in ("study", "cohort", "source", "measure", "timepoint"):
        out[col] = out[col].astype(object)
    for col in ("count", "denominator"):
        out[col] = pd.array(out[col].tolist(), dtype="Int64")
    out["percent_reported"] = out["percent_reported"].astype("float64")
    out["median_months"] = np.nan
    out["section"] = pd.Series(["s"] * len(out), dtype=object)
    studies = pd.DataFrame({"study": ["s1", "s2"], "ref": pd.array([7, None], dtype="Int64"),
                            "disease": pd.Series(list(diseases), dtype=object),
                            "regimen": ["SVd", "Sd"], "agent": ["selinexor", "selinexor"]})
    cohorts = [(s, c, None if c == "all" else "all", (c.replace("arm-", "") if arms and c.startswith("arm") else None),
                None, c, n) for s in ("s1", "s2") for c, n in zip(COHORTS, (12, 6, 6, None), strict=True)]
    if twice:
        cohorts.append(("s1", "arm-a", "all", "a" if arms else None, "SPd", "arm-a again", 6))
    coh = pd.DataFrame(cohorts, columns=["study", "cohort", "parent", "arm", "regimen", "label", "n"])
    coh["n"] = pd.array(coh["n"].tolist(), dtype="Int64")
    coh["partition"], coh["headline"] = None, pd.array([c == "all" for c in coh["cohort"]], dtype="boolean")
    regimens = pd.DataFrame({"regimen": ["SVd", "Sd", "SPd"], "agent": ["selinexor"] * 3,
                             "partners": ["bortezomib;dexamethasone", "dexamethasone", "pomalidomide;dexamethasone"]})
    conflicts = pd.DataFrame(columns=["id", "trial", "study", "topic", "kind", "reading_a", "source_a", "reading_b",
                                      "source_b", "note"], dtype=object)
    return data.Dataset(root=ROOT, descriptor={}, tables={"outcomes": out, "studies": studies, "cohorts": coh,
                                                          "regimens": regimens, "conflicts": conflicts})


# (study, cohort, source): a few reports, so that each gets several rows; one of a cohort not listed
REPORTS = [("s1", "all", "review"), ("s1", "all", "B1"), ("s1", "arm-a", "review"), ("s2", "all", "C2"),
           ("s2", "sub", "review"), ("s1", "gone", "review")]


@st.composite
def datasets(draw) -> data.Dataset:
    rows = draw(st.lists(st.tuples(
        st.sampled_from(REPORTS), st.sampled_from(MEASURES), st.one_of(st.none(), st.none(), st.just("12 mo")),
        st.one_of(st.none(), st.integers(0, 12)), st.one_of(st.none(), st.integers(1, 12), st.just(6)),
        st.one_of(st.none(), st.sampled_from(PERCENTS), st.sampled_from(PERCENTS))), min_size=4, max_size=40))
    # and often a report whose categories are printed as rates that may add up to more than 100%
    rates = draw(st.lists(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from([None, 3, 6]),
                                    st.sampled_from([25.0, 40.0, 50.25, 60.0, 75.0])), max_size=4))
    report = draw(st.sampled_from(REPORTS))
    rows = [(*r, *rest) for r, *rest in rows] + [(*report, m, None, k, 12, pct) for m, k, pct in rates]
    diseases = (draw(st.sampled_from(DISEASES)), draw(st.sampled_from(DISEASES)))
    return generated_dataset(draw(st.permutations(rows)), diseases, arms=draw(st.booleans()), twice=draw(st.booleans()))


MATCHED = [None, None, {("s1", "arm-a"), ("s2", "all"), ("s2", "sub")}, {("s1", "all")}, set()]


@settings(max_examples=80, deadline=None, database=None)
@given(ds=datasets(), order=st.sampled_from([[0, 1], [1, 0], [1], [0, 1, 0]]), matched=st.sampled_from(MATCHED),
       measure=st.one_of(st.none(), st.none(), st.sampled_from(ALL_RESPONSE)),
       method=st.sampled_from(["exact", "wilson"]))
def test_generated_tables_are_the_rules_read_one_source_at_a_time(ds, order, matched, measure, method):
    studies = ds.studies.iloc[order].reset_index(drop=True)
    same(ds, studies, matched=matched, measure=measure, method=method)


def test_generated_rows_reach_every_rule():
    """Hand-made rows for each rule the generated tables are meant to reach, each checked."""
    def rows(*given):
        return [("s1", "all", *r) for r in given]

    cases = {
        # a whole breakdown (depth as a sum of categories) and a stored ≥CR beside it
        "summed": rows(("review", "CR", None, 2, 12, None), ("review", "VGPR", None, 3, 12, None),
                       ("review", "PR", None, 4, 12, None), ("review", "ORR", None, 9, 12, None),
                       ("review", "CR_or_better", None, None, 12, 25.0)),
        # rates past 100%: read as cumulative ORR, ≥VGPR and ≥CR
        "cumulative": rows(("review", "PR", None, None, 12, 75.0), ("review", "VGPR", None, None, 12, 50.25),
                           ("review", "CR", None, None, 12, 25.0)),
        # at the cut-off exactly: not cumulative
        "cut-off": rows(("review", "PR", None, None, 12, 50.25), ("review", "VGPR", None, None, 12, 50.25)),
        # rates adding up to 100.5 or a hair over it, by the order they are added in: taken in the
        # order they first appear (58.2 + 28.6 + 13.7 is over, 6.4 + 15.9 + 78.2 is not)
        "over by order": rows(("review", "PR", None, None, 12, 58.2), ("review", "VGPR", None, None, 12, 28.6),
                              ("review", "CR", None, None, 12, 13.7)),
        "not over by order": rows(("review", "PR", None, None, 12, 6.4), ("review", "VGPR", None, None, 12, 15.9),
                                  ("review", "CR", None, None, 12, 78.2)),
        # two sources, the measure given twice (the one with a count stands for it) and a landmark
        "sources": rows(("review", "ORR", None, None, None, None), ("review", "ORR", None, 4, 10, None),
                        ("B1", "ORR", "12 mo", 3, 8, None), ("B1", "CR", None, 1, 8, None),
                        ("B1", "PR", None, 2, 10, None), ("review", "DCR", None, None, None, 66.7)),
        # denominators tied between measures: the one max() meets first in a set of them (9 of 12, 9)
        "tied": rows(("review", "ORR", None, 3, 12, None), ("review", "DCR", None, 5, 9, None)),
    }
    for name, drawn in cases.items():
        for disease in ("MM", "AML", "NHL"):
            ds = generated_dataset(drawn, (disease, "AML"), arms=False, twice=False)
            frame = same(ds, ds.studies)
            assert frame is not None and len(frame), name

    def table(name: str) -> pd.DataFrame:
        ds = generated_dataset(cases[name], ("MM", "AML"), arms=False, twice=False)
        return response_table(ds, ds.studies)

    frame = table("cumulative")
    assert frame["orr_basis"].iloc[0] == CUMULATIVE_BASIS.format("PR") and pd.isna(frame["pr_pct"].iloc[0])
    frame = table("summed")
    assert frame["ge_vgpr_basis"].iloc[0] == "sum of categories" and frame["ge_cr_pct"].iloc[0] == 25.0
    assert table("over by order")["orr_basis"].iloc[0] == CUMULATIVE_BASIS.format("PR")
    assert table("not over by order")["pr_pct"].iloc[0] == 6.4
    frame = table("sources")
    assert frame["source"].tolist() == ["review", "B1"] and frame["orr_n"].iloc[0] == 4
    assert table("tied")["denominator"].iloc[0] == 9


def test_no_rows_and_no_studies_give_the_rules_empty_table():
    ds = generated_dataset([], ("MM", "AML"), arms=True, twice=False)
    assert len(same(ds, ds.studies)) == 0
    ds = generated_dataset([("s1", "all", "review", "ORR", None, 3, 12, None)], ("MM", "AML"), arms=True, twice=False)
    assert len(same(ds, ds.studies.iloc[:0])) == 0
    assert len(same(ds, ds.studies, matched=set(), measure="ORR")) == 0
