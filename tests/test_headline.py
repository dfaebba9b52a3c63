"""The headline figures of all cohorts at once (views.headline_figures) are, cohort for cohort,
what the rules give read one cohort at a time: the cohort's rows grouped by measure and by source
(by_cohort in tests/reference_rules.py), its primary source chosen among them, and its depth summaries from that
source's rows (depth). Checked on the bundled data, a synthetic dataset and generated
outcome rows (several sources and reports of one measure, landmarks, missing counts,
percentages without counts, breakdowns over one or several denominators)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpo1cli import counts, data, query, views
from xpo1cli.counts import CATEGORIES

from .conftest import synthetic
from .reference_rules import by_cohort, depth

ROOT = Path(__file__).resolve().parent.parent


def ref_figures(outcomes: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """(study, cohort) -> its figures, one cohort at a time."""
    grouped = by_cohort(outcomes)
    per_source: dict = {}
    for (study, cohort, source), rows in by_cohort(outcomes, by_source=True).items():
        per_source.setdefault((study, cohort), {})[source] = rows
    out = {}
    for key, g in grouped.items():
        sources = per_source[key]
        primary_source = max(sources, key=lambda src: (
            "ORR" in sources[src] and sources[src]["ORR"].count_used is not None, "ORR" in sources[src],
            sum(r.count_used is not None for r in sources[src].values())))
        primary = sources[primary_source]
        fig = dict.fromkeys(["orr_count", "orr_denominator", "orr_calc", "orr_reported", "orr_basis", "orr_source"])
        if "ORR" in g:
            r = primary["ORR"] if "ORR" in primary else g["ORR"]
            fig.update(orr_count=r.count_used, orr_denominator=r.denominator, orr_calc=r.percent_calc,
                       orr_reported=r.percent_reported,
                       orr_basis=r.count_basis if r.count_used is not None else None, orr_source=r.source)
        fig["pfs"] = g["PFS"].median_months if "PFS" in g else None
        fig["os"] = g["OS"].median_months if "OS" in g else None
        fig["pfs_source"] = g["PFS"].source if "PFS" in g else None
        fig["os_source"] = g["OS"].source if "OS" in g else None
        fig["depth_source"] = primary_source
        for label in views.DEPTH_LABELS:
            d = depth(primary, label)
            fig[f"{label}:given"] = d is not None
            for part in ("count", "denominator", "percent", "basis"):
                fig[f"{label}:{part}"] = d[part] if d is not None else None
        out[key] = fig
    return out


def plain(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def same_figures(outcomes: pd.DataFrame) -> None:
    want = ref_figures(outcomes)
    table = views.headline_figures(outcomes)
    assert len({len(column) for column in table.values()}) == 1  # every column one cell per cohort
    got = {(r["study"], r["cohort"]): {k: plain(v) for k, v in r.items() if k not in ("study", "cohort")}
           for r in pd.DataFrame(table).to_dict("records")}
    assert set(got) == set(want)
    for key, fig in want.items():
        # a depth summary not given has no figures; its cells are not read
        for label in views.DEPTH_LABELS:
            if not fig[f"{label}:given"]:
                for part in ("count", "denominator", "percent", "basis"):
                    fig[f"{label}:{part}"] = got[key][f"{label}:{part}"] = None
        assert got[key] == {k: plain(v) for k, v in fig.items()}, key


def test_bundled_figures_are_the_rules_read_one_cohort_at_a_time():
    ds = data.load()
    same_figures(counts.outcome_table(ds))
    same_figures(counts.outcome_table(ds, studies=query.filter_studies(ds, query.Filters(disease="MM"))["study"]))


def test_synthetic_figures_are_the_rules_read_one_cohort_at_a_time(tmp_path):
    ds = synthetic(tmp_path / "synth", 120, seed=5)
    same_figures(counts.outcome_table(ds))


MEASURES = (*CATEGORIES, "ORR", "CR_CRi", "CR_or_better", "CBR", "PFS", "OS")


@st.composite
def outcome_frames(draw) -> pd.DataFrame:
    rows = draw(st.lists(st.tuples(
        st.sampled_from(["s1", "s2"]), st.sampled_from(["all", "sub"]), st.sampled_from(["review", "B1", "C2"]),
        st.sampled_from(MEASURES), st.one_of(st.none(), st.sampled_from(["12 mo"])),
        st.one_of(st.none(), st.integers(0, 12)), st.one_of(st.none(), st.integers(1, 12)),
        st.one_of(st.none(), st.sampled_from([0.0, 8.3, 25.0, 33.3, 50.0, 66.7, 100.0])),
        st.one_of(st.none(), st.sampled_from([4.5, 11.0]))),
        min_size=0, max_size=30))
    frame = pd.DataFrame(rows, columns=["study", "cohort", "source", "measure", "timepoint", "count",
                                        "denominator", "percent_reported", "median_months"])
    for col in ("study", "cohort", "source", "measure", "timepoint"):
        frame[col] = frame[col].astype(object)
    for col in ("count", "denominator"):
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    for col in ("percent_reported", "median_months"):
        frame[col] = frame[col].astype("float64")
    frame["section"] = pd.Series(["s"] * len(frame), dtype=object)
    return frame


@settings(max_examples=80, deadline=None, database=None)
@given(frame=outcome_frames())
def test_generated_figures_are_the_rules_read_one_cohort_at_a_time(frame):
    studies = pd.DataFrame({"study": ["s1", "s2"], "ref": pd.array([7, None], dtype="Int64")})
    ds = data.Dataset(root=ROOT, descriptor={}, tables={"outcomes": frame, "studies": studies})
    same_figures(counts.outcome_table(ds))


@pytest.mark.parametrize("filters", [dict(), dict(disease="MM"), dict(regimen="SVd"), dict(disease="AML"),
                                     dict(partner=["dexamethasone"]), dict(agent="eltanexor")])
def test_headline_rows_keep_the_study_and_arm_order(filters):
    ds = data.load()
    studies = query.filter_studies(ds, query.Filters(**filters))
    matched = query.filter_arms(ds, query.Filters(**filters), studies)
    for every in (False, True):
        frame = views.headline(ds, studies, all_cohorts=every, matched=matched)
        place = {s: i for i, s in enumerate(studies["study"])}
        assert [place[s] for s in frame["study"]] == sorted(place[s] for s in frame["study"])
        arms = query.arm_table(ds).reset_index(drop=True)
        row_of = {(s, c): i for i, (s, c) in enumerate(zip(arms["study"], arms["cohort"], strict=True))}
        for _, g in frame.groupby("study", sort=False):
            at = [row_of[(s, c)] for s, c in zip(g["study"], g["cohort"], strict=True)]
            assert at == sorted(at)
