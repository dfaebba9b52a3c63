"""The whole-column audit gives, finding for finding, what its rules give read one row at a time.

`audit.audit` screens the outcome rows, the (study, cohort, source) groups and the cohorts with
whole-column operations and reads only those that can fail a check. The reference below is the
audit as first written, a loop over every row and group (kept here, not in the package), over
the reference derivation of tests/test_derive.py: on the bundled data (whole, for some studies,
and with the outcome table a listing passes in), on a synthetic dataset with figures altered
here and there, and on generated tables that reach every check, both must give the same frame:
rows, order, cells and dtypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from xpo1cli import audit, counts, data
from xpo1cli.counts import CATEGORIES, COMPOSITES, column, decimals_of, plain_rows, printed_as_cumulative
from xpo1cli.values import first_rows, key_codes, missing, row_tuples, value_or_none

from .conftest import synthetic
from .test_derive import ROOT, ref_outcome_table

Dataset = data.Dataset

# --- the reference: the checks read one row at a time ---------------------------------------------


def ref_percent_matches(count: int, denominator: int, percent: float) -> bool:
    exact = 100 * count / denominator
    d = decimals_of(percent)
    tol = 0.5 * 10**-d + 1e-9
    return abs(exact - percent) <= tol


def ref_parent_fit(coh: pd.DataFrame, study: str, cohort: str, pct: float) -> str:
    """Row by row: the counts of the enclosing cohort's n that print as pct, marked derived."""
    coh = coh if "label" in coh.columns else coh.assign(label=None)
    rows = {(r.study, r.cohort): r for r in plain_rows(coh[["study", "cohort", "parent", "n", "label"]])}
    me = rows.get((study, cohort))
    whole = rows.get((study, me.parent)) if me is not None and isinstance(me.parent, str) else None
    if whole is None or value_or_none(whole.n) is None:
        return ""
    n = int(whole.n)
    fits = [k for k in range(n + 1) if n > 0 and ref_percent_matches(k, n, pct)]  # none of 0 patients
    if not fits:
        return ""
    label = whole.label if isinstance(whole.label, str) else whole.cohort
    return (f"; out of the {n} {label} (the enclosing cohort) "
            + " or ".join(f"{k}*/{n}" for k in fits) + f" would print as {pct:g}% (* derived here, not printed)")


def ref_finding(ref, study, cohort, measure, check, reported, computed, detail, source=None) -> dict:
    return dict(zip(audit.FINDING_COLUMNS,
                    [ref, study, cohort, measure, check, reported, computed, detail, source], strict=True))


def ref_audit(ds: Dataset, studies: set[str] | None = None, outcomes: pd.DataFrame | None = None
              ) -> pd.DataFrame:
    """Every internal inconsistency of the dataset's figures (of the given studies), in a stable
    order. `outcomes`: the studies' outcome_table when the caller has it already."""
    if outcomes is None:
        out = ref_outcome_table(ds, derive_orr=False, studies=studies)
    else:  # the audit reads what the sources print: no derived ORR rows
        out = outcomes[outcomes["count_basis"] != "derived ORR"]
    coh = ds.cohorts
    if studies is not None:
        coh = coh[coh["study"].isin(set(studies))]
    refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
    found: list[dict] = []

    # 1. printed percentage against its count (reported, or the listed breakdown's sum)
    rows = plain_rows(out[audit.READ])
    for r in rows:
        pct, den, k = value_or_none(r.percent_reported), value_or_none(r.denominator), value_or_none(r.count_used)
        if pct is None or den is None:
            continue
        if k is not None and r.count_basis != "from percentage":
            if not ref_percent_matches(int(k), int(den), pct):
                how = "" if r.count_basis == "reported" else f" ({r.count_basis})"
                found.append(ref_finding(
                    r.ref, r.study, r.cohort, r.measure, "percentage vs count", f"{pct:g}%",
                    f"{k}/{den} = {100 * k / den:.1f}%",
                    f"printed {pct:g}% but {k}/{den}{how} is {100 * k / den:.1f}%", r.source))
        elif k is None:
            found.append(ref_finding(
                r.ref, r.study, r.cohort, r.measure, "percentage vs denominator", f"{pct:g}%",
                "no whole count", f"no whole number of patients out of {den} prints as {pct:g}%"
                + ref_parent_fit(coh, r.study, r.cohort, pct), r.source))

    groups: dict[tuple[str, str, str], list] = {}
    for r in rows:  # each source's figures are checked against each other
        groups.setdefault((r.study, r.cohort, r.source), []).append(r)
    for (study, cohort, source), g in groups.items():
        ref = refs.get(study)
        counts = {r.measure: int(r.count) for r in g if not missing(r.count)}
        # 2. categories listed inside a reported total must not exceed it
        for measure, parts in COMPOSITES.items():
            if measure in counts:
                inside = sum(counts.get(m, 0) for m in parts)
                if inside > counts[measure]:
                    found.append(ref_finding(
                        ref, study, cohort, measure, "categories vs total", counts[measure], inside,
                        f"{'+'.join(m for m in parts if m in counts)} = {inside} exceeds "
                        f"{measure} {counts[measure]}", source))
        # 3. mutually exclusive categories cannot cover more than everyone
        cats = [r for r in g if r.measure in CATEGORIES]
        dens = {int(r.denominator) for r in cats if not missing(r.denominator)}
        cat_counts = [int(r.count) for r in cats if not missing(r.count)]
        if len(dens) == 1 and sum(cat_counts) > next(iter(dens)):
            found.append(ref_finding(
                ref, study, cohort, "+".join(r.measure for r in cats), "categories vs denominator",
                next(iter(dens)), sum(cat_counts),
                f"response categories add up to {sum(cat_counts)} patients of {next(iter(dens))}", source))
        printed = [r for r in cats if not missing(r.percent_reported)]
        pcts = [float(r.percent_reported) for r in printed]
        if printed_as_cumulative(pcts):
            found.append(ref_finding(
                ref, study, cohort, "+".join(r.measure for r in printed),
                "categories vs 100%", "100%", f"{sum(pcts):g}%",
                f"mutually exclusive response categories printed as {' + '.join(f'{p:g}%' for p in pcts)}"
                f" = {sum(pcts):g}%; they may be cumulative ('or better') rates", source))
        # 4. nested summaries: CR/CRi <= ORR <= CBR <= DCR
        order = ["CR_CRi", "ORR", "CBR", "DCR"]
        rates = {r.measure: value_or_none(r.percent_calc) for r in g if r.measure in order}
        rates = {m: v for m, v in rates.items() if v is not None}
        present = [m for m in order if m in rates]
        for a, b in zip(present, present[1:], strict=False):
            if rates[a] > rates[b] + 1e-9:
                found.append(ref_finding(ref, study, cohort, f"{a}>{b}", "nested rates",
                                         f"{rates[b]:g}%", f"{rates[a]:g}%",
                                         f"{a} {rates[a]:g}% is above {b} {rates[b]:g}%", source))

    # 5. populations: a cohort within its parent; disjoint subgroups within the parent together;
    #    an outcome's denominator within its cohort.
    size = dict(zip(zip(coh["study"], coh["cohort"], strict=True), column(coh, "n"), strict=True))
    for r in plain_rows(coh[["study", "cohort", "parent", "n"]]):
        n, parent_n = r.n, size.get((r.study, r.parent)) if r.parent is not None else None
        if n is not None and parent_n is not None and n > parent_n:
            found.append(ref_finding(refs.get(r.study), r.study, r.cohort, "n", "cohort within parent",
                                     parent_n, n, f"cohort of {n} is larger than its parent "
                                     f"'{r.parent}' of {parent_n}"))
    parts = coh[coh["partition"].notna() & coh["parent"].notna()]
    totals = parts.groupby(["study", "parent", "partition"], sort=True)["n"].sum()  # missing n counts 0
    for (study, parent, partition), total in totals.items():
        parent_n = size.get((study, parent))
        total = int(total)
        if parent_n is not None and total > parent_n:
            found.append(ref_finding(refs.get(study), study, parent, "n", "subgroups within whole",
                                     parent_n, total, f"disjoint subgroups by {partition} add up to "
                                     f"{total}, more than the {parent_n} of '{parent}'"))
    for r in rows:
        n, den = size.get((r.study, r.cohort)), value_or_none(r.denominator)
        if n is not None and den is not None and den > n:
            found.append(ref_finding(r.ref, r.study, r.cohort, r.measure, "denominator within cohort",
                                     n, den, f"denominator {den} is larger than the cohort's {n}",
                                     r.source))

    # 6. conflicts the sources print that no count can show (a dose, a ratio, a population):
    #    each stored conflict names both readings and their sources
    heads = {s: c for s, c, h in zip(coh["study"], coh["cohort"], coh["headline"], strict=True) if h}
    trial_of = {}
    if "trial" in ds.studies.columns:
        for s, t in zip(ds.studies["study"], ds.studies["trial"], strict=True):
            trial_of[s] = t
    for r in row_tuples(ds.conflicts):
        study = r.study if isinstance(r.study, str) else None
        if studies is not None and study not in set(studies):
            continue
        # a trial leads the text only where the conflict's study is a report of that trial
        whose = None
        if isinstance(r.trial, str) and (study is None or trial_of.get(study) == r.trial):
            whose = r.trial
        found.append(ref_finding(refs.get(study), study, heads.get(study), r.topic,
                                 f"stated conflict ({r.kind})", f"{r.reading_a} [{r.source_a}]",
                                 f"{r.reading_b} [{r.source_b}]",
                                 f"{whose + ': ' if whose else ''}{r.reading_a} "
                                 f"[{r.source_a}] against {r.reading_b} [{r.source_b}]"
                                 + (f"; {r.note}" if isinstance(r.note, str) else ""), r.source_a))

    frame = pd.DataFrame(found, columns=audit.FINDING_COLUMNS)
    frame["ref"] = frame["ref"].astype("Int64")
    frame["reported"] = frame["reported"].astype(str)
    frame["computed"] = frame["computed"].astype(str)
    return frame.sort_values(["ref", "study", "cohort", "measure", "check"], kind="stable",
                             na_position="last").reset_index(drop=True)


# --- the comparisons -------------------------------------------------------------------------------


def same(ds: Dataset, studies: set[str] | None = None, cohorts: set[tuple[str, str]] | None = None,
         passed: bool = False) -> pd.DataFrame:
    """Audit ds both ways, alone or (`passed`) with the outcome table a listing passes in
    (counts.outcome_table, derived ORR rows and all, of the studies' shown cohorts); assert the
    frames are equal; return the package's."""
    if passed:
        got = audit.audit(ds, studies, counts.outcome_table(ds, studies=studies, cohorts=cohorts))
        want = ref_audit(ds, studies, ref_outcome_table(ds, studies=studies, cohorts=cohorts))
    else:
        got, want = audit.audit(ds, studies), ref_audit(ds, studies)
    pd.testing.assert_frame_equal(got, want, check_dtype=True)
    return got


def test_the_bundled_audit_is_the_row_rules_audit():
    ds = data.load()
    assert len(same(ds)) > 10
    names = list(ds.studies["study"])
    for some in (names[::3], names[1::2], ["skd-ref15", "sadal-129-ref31", "stomp-sdd-eha2019"], []):
        same(ds, set(some))
        same(ds, set(some), passed=True)
    headline = ds.cohorts[ds.cohorts["headline"].astype(bool)]
    same(ds, set(names), set(zip(headline["study"], headline["cohort"], strict=True)), passed=True)


def altered(ds: Dataset, seed: int) -> Dataset:
    """ds with a few figures changed at random: percentages off their counts, counts dropped or
    raised, denominators past their cohort, cohorts larger than their parents, refs for some
    studies and a stated conflict: every check has something to find."""
    rng = np.random.default_rng(seed)
    out, coh, studies = ds.outcomes.copy(), ds.cohorts.copy(), ds.studies.copy()

    def some(frame, share):
        return rng.random(len(frame)) < share

    with_den = out["denominator"].notna().to_numpy()
    off = some(out, 0.05) & with_den
    out.loc[off, "percent_reported"] = np.round(rng.uniform(0, 100, int(off.sum())), 1)
    out.loc[some(out, 0.05), "count"] = pd.NA
    bump = some(out, 0.05) & out["measure"].isin(CATEGORIES).to_numpy() & out["count"].notna().to_numpy()
    out.loc[bump, "count"] = out.loc[bump, "count"] + 30
    out.loc[some(out, 0.02) & with_den, "denominator"] = 999
    coh.loc[some(coh, 0.05), "n"] = coh["n"] * 3
    coh.loc[some(coh, 0.05), "n"] = pd.NA
    studies["ref"] = pd.array([i if i % 3 else None for i in range(len(studies))], dtype="Int64")
    conflicts = pd.DataFrame({"id": ["c1", "c2"], "trial": ["T1", None], "study": [studies["study"].iloc[0], None],
                              "topic": ["dose", "label"], "kind": ["between sources", "within one source"],
                              "reading_a": ["40 mg", "n = 1"], "source_a": ["review", "review"],
                              "reading_b": ["60 mg", "n = 2"], "source_b": ["review", "review"],
                              "note": [None, "a note"]})
    tables = dict(ds.tables, outcomes=out, cohorts=coh, studies=studies, conflicts=conflicts)
    return Dataset(root=ds.root, descriptor=ds.descriptor, tables=tables)


def test_a_synthetic_dataset_audits_as_the_row_rules_do(tmp_path):
    ds = synthetic(tmp_path / "synth", 120, seed=5)
    same(ds)
    changed = altered(ds, seed=2)
    found = same(changed)
    assert set(found["check"]) >= {"percentage vs count", "percentage vs denominator", "categories vs total",
                                   "categories vs denominator", "categories vs 100%", "nested rates",
                                   "cohort within parent", "denominator within cohort"}
    same(changed, set(changed.studies["study"].iloc[::2]), passed=True)


def test_percents_match_as_percent_matches_does():
    """The whole-array test of a printed percentage against its count, on every count over every
    denominator up to 60 printed with 0 to 3 decimals and a little off: as the one-row rule."""
    cases = [(k, d, round(100 * k / d + off, places)) for d in range(1, 61) for k in range(0, d + 1)
             for places in range(4) for off in (0.0, 0.04, -0.06, 0.5, 1.0)]
    k, d, pct = (np.array(c, dtype="float64") for c in zip(*cases, strict=True))
    want = [ref_percent_matches(int(a), int(b), p) for a, b, p in cases]
    assert counts.percents_match(k, d, pct).tolist() == want


# --- generated tables ------------------------------------------------------------------------------

OUTCOME_COLUMNS = ["study", "cohort", "source", "measure", "count", "denominator", "percent_reported"]
MEASURES = (*CATEGORIES, *COMPOSITES, "PFS")
# printed percentages: whole, one and two decimals; pairs that add up to just over, exactly and
# just under the cumulative cut-off of 100.5% (50.25 + 50.3, 50.25 + 50.25, 50.2 + 50.25)
PERCENTS = [0.0, 8.3, 12.5, 25.0, 33, 33.3, 33.33, 50.0, 50.2, 50.25, 50.3, 60.0, 66.7, 75, 91.7, 100.0]
COUNTS = st.one_of(st.none(), st.integers(0, 12))
DENOMINATORS = st.one_of(st.none(), st.integers(1, 12))  # a valid dataset's denominators are 1 or more


def outcome_frame(rows: list[tuple]) -> pd.DataFrame:
    """Outcome rows (OUTCOME_COLUMNS) typed as a loaded dataset types them."""
    out = pd.DataFrame(rows, columns=OUTCOME_COLUMNS)
    for col in ("study", "cohort", "source", "measure"):
        out[col] = out[col].astype(object)
    for col in ("count", "denominator"):
        out[col] = pd.array(out[col].tolist(), dtype="Int64")
    out["percent_reported"] = out["percent_reported"].astype("float64")
    out["section"] = pd.Series(["s"] * len(out), dtype=object)
    return out


def dataset(outcomes: pd.DataFrame, cohorts: pd.DataFrame | None = None, conflicts: pd.DataFrame | None = None
            ) -> Dataset:
    studies = pd.DataFrame({"study": ["s1", "s2"], "ref": pd.array([7, None], dtype="Int64")})
    if cohorts is None:
        cohorts = pd.DataFrame({"study": ["s1"], "cohort": ["all"], "parent": [None], "partition": [None],
                                "n": pd.array([None], dtype="Int64"), "headline": pd.array([True], dtype="boolean")})
    if conflicts is None:
        conflicts = pd.DataFrame({"id": ["c1"], "trial": [None], "study": ["s2"], "topic": ["dose"],
                                  "kind": ["between sources"], "reading_a": ["40 mg"], "source_a": ["review"],
                                  "reading_b": ["60 mg"], "source_b": ["B1"], "note": [None]})
    return Dataset(root=ROOT, descriptor={}, tables={"outcomes": outcomes, "cohorts": cohorts, "studies": studies,
                                                     "conflicts": conflicts})


@st.composite
def datasets(draw) -> Dataset:
    """Outcome rows of two studies over listed cohorts, one not listed and a missing one, from two
    sources and a missing one; cohorts (one may be listed twice, one without a name, held as None
    or NaN) with parents, partitions and missing n."""
    rows = draw(st.lists(st.tuples(
        st.sampled_from(["s1", "s2"]), st.sampled_from(["all", "sub", "sub2", "gone", None]),
        st.sampled_from(["review", "B1", None]), st.sampled_from(MEASURES), COUNTS, DENOMINATORS,
        st.one_of(st.none(), st.sampled_from(PERCENTS))), min_size=0, max_size=30))
    cohorts = draw(st.lists(st.tuples(
        st.sampled_from(["s1", "s2"]), st.sampled_from(["all", "sub", "sub2", None]),
        st.sampled_from([None, "all", "sub"]), st.sampled_from([None, "dose"]),
        st.one_of(st.none(), st.integers(0, 14)), st.booleans()), min_size=0, max_size=8))
    coh = pd.DataFrame(cohorts, columns=["study", "cohort", "parent", "partition", "n", "headline"])
    as_none = draw(st.booleans())  # missing names as None (as a loaded table holds them) or NaN
    for col in ("study", "cohort", "parent", "partition"):
        coh[col] = pd.Series([None if as_none and pd.isna(v) else v for v in coh[col]], dtype=object)
    coh["n"] = pd.array(coh["n"].tolist(), dtype="Int64")
    coh["headline"] = pd.array(coh["headline"].tolist(), dtype="boolean")
    return dataset(outcome_frame(rows), coh)


@settings(max_examples=60, deadline=None, database=None)
@given(ds=datasets(), studies=st.sampled_from([None, {"s1"}, {"s1", "s2"}]),
       cohorts=st.sampled_from([None, {("s1", "all"), ("s1", "sub"), ("s2", "sub2")}]), passed=st.booleans())
def test_generated_tables_audit_as_the_row_rules_do(ds, studies, cohorts, passed):
    # counts.outcome_table's derived ORR rows need every row's cohort and source
    assume(not passed or ds.outcomes[["cohort", "source"]].notna().all(axis=None))
    same(ds, studies, cohorts, passed)


def group_of(*rows: tuple) -> list[tuple]:
    """(measure, count, denominator, percent) rows as one source's rows for one cohort."""
    return [("s1", "all", "review", *row) for row in rows]


@settings(max_examples=150, deadline=None, database=None)
@example(rows=group_of(("CR", 2, 10, None), ("PR", 2, 10, None), ("ORR", 9, 10, None), ("ORR", 1, 10, None)))
@example(rows=group_of(("CR", 3, 10, None), ("ORR", 2, 10, None), ("ORR", None, 10, None)))
@example(rows=group_of(("CR_CRi", 5, 10, None), ("ORR", None, None, None), ("CBR", 4, 10, None)))
@example(rows=group_of(("ORR", 6, 10, None), ("ORR", None, None, None), ("DCR", 5, 10, None)))
@example(rows=group_of(("CR", 8, 10, None), ("PR", 8, 12, None)))
@example(rows=group_of(("CR", None, None, 50.25), ("PR", None, None, 50.3)))
@example(rows=group_of(("CR", None, None, 50.2), ("PR", None, None, 50.25)))
@example(rows=group_of(("CR", None, None, 50.25), ("PR", None, None, 50.25)))
@given(rows=st.lists(st.tuples(
    st.just("s1"), st.sampled_from(["all", "sub"]), st.sampled_from(["review", None]),
    st.sampled_from(["CR", "PR", "VGPR", "SD", "CR_CRi", "ORR", "CBR", "DCR"]), COUNTS, DENOMINATORS,
    st.one_of(st.none(), st.sampled_from(PERCENTS))), min_size=1, max_size=12))
def test_the_group_screen_picks_the_failing_groups(rows):
    """On a few groups of rows, summaries repeated or missing among them, a missing source: the
    groups are numbered as a dict of them numbers them, and the whole-column screen of checks 2-4
    marks exactly the groups in which the one-group rules find something (or whose printed
    category percentages add up to within a rounding error of the cut-off). The examples: the
    last count or rate of a repeated summary is the one read (a missing count leaves the one
    before, a missing rate none); a summary without a rate is skipped; two denominators; sums
    of printed percentages just over, at and just under the cut-off."""
    out = counts.outcome_table(dataset(outcome_frame(rows)), derive_orr=False)
    group = key_codes(out["study"], out["cohort"], out["source"])
    screened = audit._groups_that_may_fail(out, group, len(first_rows(group)))
    groups: dict[tuple, list] = {}
    for r in plain_rows(out[audit.READ]):
        groups.setdefault((r.study, r.cohort, r.source), []).append(r)
    keys = zip(column(out, "study"), column(out, "cohort"), column(out, "source"), strict=True)
    assert group.tolist() == [list(groups).index(key) for key in keys]
    for g, ((study, cohort, source), mine) in enumerate(groups.items()):
        found = audit._within_source(None, study, cohort, source, mine)
        pcts = [r.percent_reported for r in mine if r.measure in CATEGORIES and r.percent_reported is not None]
        assert screened[g] == bool(found) or (screened[g] and len(pcts) > 1 and 100.5 - 1e-6 < sum(pcts) <= 100.5)


def test_every_check_is_reached_by_hand_made_rows():
    """One table that fails each check, several sources of one cohort and repeated measures
    among them: the frames are equal and every check is in it."""
    rows = [  # study, cohort, source, measure, count, denominator, percent
        ("s1", "all", "review", "CR", 3, 10, 40.0),  # percentage vs count
        ("s1", "all", "review", "PR", None, 10, 55.0),  # percentage vs denominator
        ("s1", "all", "review", "VGPR", 9, 10, 90.0),  # categories above the denominator
        ("s1", "all", "review", "ORR", 5, 10, 50.0),  # categories above ORR; ORR above DCR
        ("s1", "all", "review", "DCR", 4, 10, 40.0),
        ("s1", "all", "B1", "CR", 2, 10, 60.0),  # the same cohort from a second source
        ("s1", "all", "B1", "PR", 2, 10, 60.0),  # printed as cumulative
        ("s1", "all", "B1", "ORR", 9, 10, None),
        ("s1", "all", "B1", "ORR", 1, 10, None),  # repeated: the last count is the one read
        ("s1", "sub", "review", "ORR", 4, 30, 13.3),  # denominator above the cohort
        ("s2", "all", "review", "CR_CRi", 5, 10, 50.0),
        ("s2", "all", "review", "ORR", 4, 10, 40.0),
    ]
    coh = pd.DataFrame({"study": ["s1", "s1", "s1", "s2"], "cohort": ["all", "sub", "sub2", "all"],
                        "parent": [None, "all", "all", None], "partition": [None, "dose", "dose", None],
                        "n": pd.array([20, 25, 10, None], dtype="Int64"),
                        "headline": pd.array([True, False, False, True], dtype="boolean")})
    conflicts = pd.DataFrame({"id": ["c1"], "trial": ["T"], "study": ["s1"], "topic": ["dose"],
                              "kind": ["within one source"], "reading_a": ["a"], "source_a": ["review"],
                              "reading_b": ["b"], "source_b": ["review"], "note": ["why"]})
    ds = dataset(outcome_frame(rows), coh, conflicts)
    found = same(ds)
    assert set(found["check"]) == {
        "percentage vs count", "percentage vs denominator", "categories vs total", "categories vs denominator",
        "categories vs 100%", "nested rates", "cohort within parent", "subgroups within whole",
        "denominator within cohort", "stated conflict (within one source)"}
    # two sources of one cohort: in the order their rows first appear
    assert list(found.loc[(found["check"] == "categories vs total") & (found["measure"] == "ORR"),
                          "source"]) == ["review", "B1"]
    same(ds, {"s1"}, {("s1", "all")}, passed=True)


def test_a_missing_cohort_name_is_looked_up_as_the_rules_do():
    """The rules find a cohort in a dict keyed on the cohort table's cells by names read as None
    where missing: an outcome row without a cohort meets a cell holding None, not one holding NaN."""
    rows = [("s1", None, "review", "ORR", 3, 5, None), ("s1", "all", "review", "ORR", 3, 5, None)]
    for gap in (None, np.nan):
        coh = pd.DataFrame({"study": ["s1", "s1"], "cohort": pd.Series([gap, "all"], dtype=object),
                            "parent": pd.Series([None, gap], dtype=object), "partition": [None, None],
                            "n": pd.array([1, 2], dtype="Int64"), "headline": pd.array([True, False], dtype="boolean")})
        found = same(dataset(outcome_frame(rows), coh))
        assert (found["cohort"].isna() & (found["check"] == "denominator within cohort")).sum() == (gap is None)
