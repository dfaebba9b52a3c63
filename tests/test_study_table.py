"""The study and arm tables computed over whole columns (query.study_table, query.arm_table)
are, row for row, what the rules give read one cohort row at a time. The arm table: each
cohort's regimen (its own, else its nearest ancestor's, else its study's), that regimen's agent
(else the study's) and partners. The study table: the regimens of a study's cohorts
in file order, the partners of its regimen, n enrolled (the 'all' cohort's, else the sum of its
top-level arms' when each gives one, else its top-level headline population's; of cohorts listed
twice the last row), n evaluable and the design. Checked on the bundled data, a synthetic
dataset and generated cohort tables (cohorts listed twice, arms without n, studies listed
twice, no headline population)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpo1cli import counts, data, query
from xpo1cli.data import Dataset
from xpo1cli.values import LIST_SEP, row_tuples, split_list, value_or_none

from .conftest import synthetic


def reference(ds: Dataset) -> pd.DataFrame:
    """The study table, one cohort row at a time."""
    studies = ds.studies.copy()
    partners = dict(zip(ds.regimens["regimen"], ds.regimens["partners"], strict=True))
    arms: dict[str, list[str]] = {}
    size: dict[tuple[str, str], int | None] = {}
    top_arms: dict[str, list] = {}
    headline_n: dict[str, int | None] = {}
    for c in row_tuples(ds.cohorts, index=False):
        size[(c.study, c.cohort)] = value_or_none(c.n)
        if isinstance(c.regimen, str):
            arms.setdefault(c.study, [])
            if c.regimen not in arms[c.study]:
                arms[c.study].append(c.regimen)
        if c.arm in ("experimental", "control") and not isinstance(c.parent, str):
            top_arms.setdefault(c.study, []).append(value_or_none(c.n))
        if c.headline and not isinstance(c.parent, str):
            headline_n[c.study] = value_or_none(c.n)
    studies["arm_regimens"] = [LIST_SEP.join(arms.get(s, [])) or None for s in studies["study"]]
    studies["partners"] = [LIST_SEP.join(split_list(partners.get(r))) or None for r in studies["regimen"]]

    def enrolled(study):
        if (study, "all") in size:
            return size[(study, "all")]
        ns = top_arms.get(study)
        if ns and all(n is not None for n in ns):
            return sum(ns)
        return headline_n.get(study)

    studies["n_enrolled"] = pd.array([enrolled(s) for s in studies["study"]], dtype="Int64")
    studies["n_evaluable"] = pd.array([size.get((s, "evaluable")) for s in studies["study"]], dtype="Int64")
    studies["design"] = [query.design(r.evidence_type, r.phase, r.randomized) for r in row_tuples(studies)]
    later = dict(zip(ds.sources["source"], ds.sources["published_after_review"], strict=True))
    studies["later"] = [bool(later.get(s, False)) for s in studies["source"]]
    return studies


def reference_arms(ds: Dataset) -> pd.DataFrame:
    """The arm table, one cohort row at a time."""
    regimens = ds.regimens.set_index("regimen")
    reg_agent = {r: value_or_none(a) for r, a in zip(regimens.index, regimens["agent"], strict=True)}
    reg_partners = {r: value_or_none(p) for r, p in zip(regimens.index, regimens["partners"], strict=True)}
    study_regimen = dict(zip(ds.studies["study"], ds.studies["regimen"], strict=True))
    study_agent = dict(zip(ds.studies["study"], ds.studies["agent"], strict=True))
    coh = ds.cohorts
    study = counts.column(coh, "study")
    regimen, arm = query.inherited(coh, "regimen"), query.inherited(coh, "arm")
    # a control arm keeps its own regimen (or none): never the study's, nor the study's agent
    regimen = [r or (None if a == "control" else value_or_none(study_regimen.get(s)))
               for s, r, a in zip(study, regimen, arm, strict=True)]
    out = coh.copy()
    out["regimen"] = regimen
    out["arm"] = arm
    out["agent"] = [reg_agent.get(r) if r in reg_agent
                    else (None if a == "control" else value_or_none(study_agent.get(s)))
                    for s, r, a in zip(study, regimen, arm, strict=True)]
    out["partners"] = [reg_partners.get(r) for r in regimen]
    return out.reset_index(drop=True)


def same(ds: Dataset) -> None:
    pd.testing.assert_frame_equal(query.study_table(ds), reference(ds), check_exact=True)
    pd.testing.assert_frame_equal(query.arm_table(ds), reference_arms(ds), check_exact=True)


def test_bundled_data():
    same(data.load())


def test_synthetic_data(tmp_path):
    same(synthetic(tmp_path, 200, seed=5))


BUNDLED = data.load()
IDS = ["s1", "s2", "s3", "s4"]
GENERATED = ["study", "cohort", "parent", "arm", "regimen", "n", "headline"]
cohort_rows = st.lists(st.fixed_dictionaries({
    "study": st.sampled_from(IDS[:3] + ["elsewhere"]),
    "cohort": st.sampled_from(["all", "evaluable", "a", "b", "c"]),
    "parent": st.sampled_from([None, "all", "a"]),
    "arm": st.sampled_from([None, "experimental", "control", "other"]),
    "regimen": st.sampled_from([None, "not-a-listed-regimen", *BUNDLED.regimens["regimen"].head(4)]),
    "n": st.one_of(st.none(), st.integers(0, 500)),
    "headline": st.booleans(),
}), max_size=25)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=cohort_rows, twice=st.booleans())
def test_generated_cohorts(rows, twice):
    studies = BUNDLED.studies.head(4).copy()
    studies["study"] = IDS if not twice else [*IDS[:3], IDS[2]]  # a study listed twice
    studies.loc[studies.index[1], ["regimen", "agent"]] = None  # a study without a regimen or agent
    cohorts = pd.DataFrame(rows, columns=GENERATED).reindex(columns=BUNDLED.cohorts.columns)
    cohorts = cohorts.astype({c: BUNDLED.cohorts[c].dtype for c in cohorts.columns})
    ds = Dataset(root=BUNDLED.root, descriptor=BUNDLED.descriptor,
                 tables={**BUNDLED.tables, "studies": studies.reset_index(drop=True), "cohorts": cohorts})
    same(ds)


@pytest.mark.parametrize("cells", [
    (["a", "a", None, float("nan"), "b"], [1, 1, 2, 2, 1]),
])
def test_per_distinct_calls_once_per_distinct_row_and_reads_missing_alike(cells):
    from xpo1cli.values import per_distinct

    calls = []

    def f(x, y):
        calls.append((x, y))
        return f"{x}-{y}"

    got = per_distinct(f, *cells)
    assert got == ["a-1", "a-1", "None-2", "None-2", "b-1"]
    assert len(calls) == 3
