"""The vectorized count derivation (and the arm inheritance of arm_table) gives, row for row, what
the rules give read one row at a time.

`counts.derive_counts` and `counts.outcome_table` derive counts with whole-column operations. The
reference below is those rules as first written, a loop over rows (kept here, not in the
package): on the bundled data, on a synthetic dataset and on generated breakdowns (repeated
categories, missing and zero denominators, printed percentages without counts, several sources
of one cohort) both must give the same counts, bases, percentages and derived ORR rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpo1cli import counts, data, query
from xpo1cli.counts import CATEGORIES, COMPOSITES, column, counts_from_percent

from .conftest import synthetic

ROOT = Path(__file__).resolve().parent.parent
Dataset = data.Dataset

# --- the reference: the rules read one row at a time --------------------------------------------


def ref_category_counts(outcomes: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, tuple[int, int | None]]]:
    """(study, cohort, source) -> {category: (reported count, denominator)} for the
    best-response categories whose count that source prints."""
    out: dict[tuple[str, str, str], dict[str, tuple[int, int | None]]] = {}
    for s, c, src, m, k, d in zip(column(outcomes, "study"), column(outcomes, "cohort"),
                                  column(outcomes, "source"), column(outcomes, "measure"),
                                  column(outcomes, "count"), column(outcomes, "denominator"),
                                  strict=True):
        if m in CATEGORIES and k is not None:
            out.setdefault((s, c, src), {})[m] = (int(k), None if d is None else int(d))
    return out


def ref_breakdown_sum(cats: dict[str, tuple[int, int | None]], measure: str, den: int) -> int | None:
    """Sum of the categories making up `measure` when the breakdown is whole: it reaches the
    measure's shallowest category, or its categories account for every patient."""
    parts = COMPOSITES[measure]
    have = {m: k for m, (k, d) in cats.items() if d == den}
    complete = sum(have.values()) == den
    if not (parts[-1] in have or complete):
        return None
    found = [have[m] for m in parts if m in have]
    return sum(found) if found or complete else None


def ref_derive_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with `count_used` and `count_basis`: reported, the sum of the categories the
    breakdown lists (see breakdown_sum), or the one whole count whose percentage prints as
    reported. Missing stays missing."""
    out = outcomes.copy()
    cats = ref_category_counts(out)
    used: list = []
    basis: list = []
    for s, c, src, m, count, den, pct in zip(column(out, "study"), column(out, "cohort"),
                                             column(out, "source"), column(out, "measure"),
                                             column(out, "count"), column(out, "denominator"),
                                             column(out, "percent_reported"), strict=True):
        if count is not None:
            used.append(int(count))
            basis.append("reported")
            continue
        derived, how = None, None
        if m in COMPOSITES and den is not None:
            derived = ref_breakdown_sum(cats.get((s, c, src), {}), m, int(den))
            how = "sum of categories" if derived is not None else None
        if derived is None and pct is not None and den is not None:
            ks = counts_from_percent(pct, int(den))
            if len(ks) == 1:
                derived, how = ks[0], "from percentage"
        used.append(derived)
        basis.append(how)
    out["count_used"] = pd.array(used, dtype="Int64")
    out["count_basis"] = pd.array(basis, dtype=object)
    dens = column(out, "denominator")
    out["percent_calc"] = pd.array(
        [round(100 * k / d, 1) if k is not None and d else None for k, d in zip(used, dens, strict=True)],
        dtype="Float64").astype("float64")
    return out


def ref_with_refs(ds: Dataset, out: pd.DataFrame) -> pd.DataFrame:
    """The rows with their study's ref number in front, on a fresh index."""
    refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
    out.insert(0, "ref", pd.array([refs.get(s) for s in out["study"]], dtype="Int64"))
    return out.reset_index(drop=True)


def ref_outcome_table(ds: Dataset, derive_orr: bool = True, studies: Iterable[str] | None = None,
                  cohorts: set[tuple[str, str]] | None = None,
                  measures: Iterable[str] | None = None) -> pd.DataFrame:
    """Outcomes (of the given studies) with the study's ref, the derived count and the computed
    percentage; with derive_orr, an ORR row (count_basis 'derived ORR') for cohorts whose whole
    breakdown is reported but whose ORR is not."""
    # the same rows, read as the package reads them; the derivation and refs are the reference's own
    out = ref_with_refs(ds, ref_derive_counts(counts.outcome_rows(ds, studies, cohorts, measures)))
    if not derive_orr:
        return out
    has_orr = {(s, c, src) for s, c, src, m in zip(out["study"], out["cohort"], out["source"],
                                                  out["measure"], strict=True) if m == "ORR"}
    first = {}
    for i, key in enumerate(zip(out["study"], out["cohort"], out["source"], strict=True)):
        first.setdefault(key, i)
    extra = []
    for key, cats in ref_category_counts(out).items():
        dens = {d for _, d in cats.values() if d is not None}
        if key in has_orr or len(dens) != 1:
            continue
        den = dens.pop()
        k = ref_breakdown_sum(cats, "ORR", den)
        if k is None:
            continue
        src = out.iloc[first[key]]
        row = dict.fromkeys(out.columns)
        row.update(ref=src["ref"], study=key[0], cohort=key[1], measure="ORR", denominator=den,
                   count_used=k, count_basis="derived ORR", percent_calc=round(100 * k / den, 1),
                   section=src["section"], source=key[2])
        extra.append(row)
    if extra:
        add = pd.DataFrame(extra, columns=out.columns).astype(out.dtypes.to_dict())
        out = pd.concat([out, add], ignore_index=True)
    return out.reset_index(drop=True)



# --- the comparisons -------------------------------------------------------------------------------


def same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=True)


def test_bundled_outcomes_derive_as_the_row_rules_do():
    ds = data.load()
    same(counts.derive_counts(ds.outcomes), ref_derive_counts(ds.outcomes))
    for derive_orr in (True, False):
        same(counts.outcome_table(ds, derive_orr=derive_orr), ref_outcome_table(ds, derive_orr=derive_orr))
    some = list(ds.studies["study"])[::3]
    same(counts.outcome_table(ds, studies=some, measures={"ORR"}),
         ref_outcome_table(ds, studies=some, measures={"ORR"}))


def test_a_synthetic_dataset_derives_as_the_row_rules_do(tmp_path):
    ds = synthetic(tmp_path / "synth", 150, seed=3)
    same(counts.outcome_table(ds), ref_outcome_table(ds))


MEASURES = (*CATEGORIES, *COMPOSITES, "PFS")


@st.composite
def outcome_frames(draw) -> pd.DataFrame:
    rows = draw(st.lists(st.tuples(
        st.sampled_from(["s1", "s2"]), st.sampled_from(["all", "sub"]), st.sampled_from(["review", "B1"]),
        st.sampled_from(MEASURES), st.one_of(st.none(), st.integers(0, 12)),
        st.one_of(st.none(), st.integers(1, 12)),  # a valid dataset's denominators are 1 or more
        st.one_of(st.none(), st.sampled_from([0.0, 8.3, 25.0, 33.3, 33, 50.0, 66.7, 100.0, 12.5]))),
        min_size=0, max_size=25))
    frame = pd.DataFrame(rows, columns=["study", "cohort", "source", "measure", "count", "denominator",
                                        "percent_reported"])
    for col in ("study", "cohort", "source", "measure"):
        frame[col] = frame[col].astype(object)
    for col in ("count", "denominator"):
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    frame["percent_reported"] = frame["percent_reported"].astype("float64")
    frame["section"] = pd.Series(["s"] * len(frame), dtype=object)
    return frame


@settings(max_examples=60, deadline=None, database=None)
@given(frame=outcome_frames())
def test_generated_breakdowns_derive_as_the_row_rules_do(frame):
    same(counts.derive_counts(frame), ref_derive_counts(frame))
    studies = pd.DataFrame({"study": ["s1", "s2"], "ref": pd.array([7, None], dtype="Int64")})
    ds = Dataset(root=ROOT, descriptor={}, tables={"outcomes": frame, "studies": studies})
    same(counts.outcome_table(ds), ref_outcome_table(ds))


@pytest.mark.parametrize("measure", list(COMPOSITES))
def test_a_whole_breakdown_gives_its_summary(measure):
    """Hand-checked: every category over 10 printed, the summary missing -> the sum of its parts."""
    parts = COMPOSITES[measure]
    rows = [("s1", "all", "review", c, 1, 10, None) for c in CATEGORIES]
    rows.append(("s1", "all", "review", measure, None, 10, None))
    frame = pd.DataFrame(rows, columns=["study", "cohort", "source", "measure", "count", "denominator",
                                        "percent_reported"])
    frame["count"] = pd.array(frame["count"].tolist(), dtype="Int64")
    frame["denominator"] = pd.array(frame["denominator"].tolist(), dtype="Int64")
    frame["percent_reported"] = frame["percent_reported"].astype("float64")
    got = counts.derive_counts(frame).iloc[-1]
    assert got["count_used"] == len(parts) and got["count_basis"] == "sum of categories"
    assert got["percent_calc"] == round(100 * len(parts) / 10, 1)


# --- what a cohort inherits from its parent ----------------------------------------------------


def ref_inherited(coh: pd.DataFrame, name: str) -> list:
    """The cohort column with a missing cell taken from the parent, recursively, as first written:
    a walk up from each cohort that stops at a loop (a dictionary of keys: the last row stands)."""
    own = {(s, c): (v, p) for s, c, v, p in zip(column(coh, "study"), column(coh, "cohort"),
                                                 column(coh, name), column(coh, "parent"), strict=True)}

    def walk(key, seen=()):
        value, parent = own[key]
        if value is None and parent is not None and (key[0], parent) in own and parent not in seen:
            return walk((key[0], parent), (*seen, key[1]))
        return value

    return [walk(k) for k in zip(column(coh, "study"), column(coh, "cohort"), strict=True)]


NAMES = ["all", "a", "b", "c", "d"]


@st.composite
def cohort_trees(draw):
    """Cohorts of two studies with parents that chain, skip a level, name no cohort, loop or
    repeat a key."""
    rows = draw(st.lists(st.tuples(st.sampled_from(["s1", "s2"]), st.sampled_from(NAMES),
                                   st.one_of(st.none(), st.sampled_from(NAMES + ["gone"])),
                                   st.one_of(st.none(), st.sampled_from(["SVd", "Vd", ""]))),
                         min_size=0, max_size=12))
    return pd.DataFrame(rows, columns=["study", "cohort", "parent", "regimen"], dtype=object)


@settings(max_examples=80, deadline=None, database=None)
@given(coh=cohort_trees())
def test_generated_cohort_trees_inherit_as_the_walk_does(coh):
    assert query.inherited(coh, "regimen") == ref_inherited(coh, "regimen")


def test_bundled_cohorts_inherit_as_the_walk_does():
    coh = data.load().cohorts
    for name in ("regimen", "arm"):
        assert query.inherited(coh, name) == ref_inherited(coh, name)
    assert query.inherited(coh, "arm").count(None) < len(coh)  # some arms are stated, some inherited


def test_percentages_round_as_python_rounds_for_every_count_up_to_400():
    d = np.repeat(np.arange(0, 401), 402).astype("float64")
    k = np.tile(np.arange(-1, 401), 401).astype("float64")
    k[::7] = np.nan  # missing counts stay missing
    got = counts.percent_of(k, d)
    want = [round(100 * a / b, 1) if a == a and b else np.nan for a, b in zip(k.tolist(), d.tolist(), strict=True)]
    np.testing.assert_array_equal(got, np.array(want))
    assert counts.percent_of(np.array([1.0, 49.0]), np.array([8.0, 400.0])).tolist() == [12.5, 12.2]


def test_percent_of_rounds_as_python_does():
    """Whole-array rounding near halves (23/2000 is 1.15 exactly, 1.149999... stored, which
    Python rounds down and NumPy's round up): every count over denominators up to 200 and some
    with such halves rounds as Python's round does; NaN where a value is missing or d is 0."""
    k, d = np.array([(k, d) for d in [*range(0, 201), 2000, 4000, 6000] for k in range(0, d + 2)],
                    dtype="float64").T
    k[::97], d[::89] = np.nan, np.nan
    want = np.array([round(100 * a / b, 1) if a == a and b == b and b else np.nan
                     for a, b in zip(k.tolist(), d.tolist(), strict=True)])
    with np.errstate(divide="ignore", invalid="ignore"):  # the halves NumPy gets wrong are there
        assert (np.round(100 * k / d, 1) != want).sum() > 100
    assert np.array_equal(counts.percent_of(k, d), want, equal_nan=True)
