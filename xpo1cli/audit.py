"""Self-audit: recompute what the sources print and list every disagreement beyond rounding.

Nothing is corrected: a finding names the study, ref, cohort and measure, what was printed and
what the counts give, so a reader can go back to the source.

Each check first runs over whole columns, which singles out the rows, groups of rows and cohorts
that can fail it (findings are rare); only those are read one at a time, to word each finding
and, where the whole-column test only narrows the search, to decide it by the rules written out
below.
"""

from __future__ import annotations

from itertools import compress

import numpy as np
import pandas as pd

from .counts import (
    CATEGORIES,
    COMPOSITES,
    column,
    outcome_table,
    percent_matches,
    percents_match,
    plain_rows,
    printed_as_cumulative,
)
from .data import Dataset
from .values import first_rows, key_codes, last_match, last_values, missing, row_tuples, value_or_none

# the outcome columns the checks read (plain_rows of the rest would be wasted work)
READ = ["ref", "study", "cohort", "measure", "count", "denominator", "percent_reported", "count_used",
        "count_basis", "percent_calc", "source"]
FINDING_COLUMNS = ["ref", "study", "cohort", "measure", "check", "reported", "computed", "detail",
                   "source"]
NESTED = ("CR_CRi", "ORR", "CBR", "DCR")  # summaries each within the next: CR/CRi <= ORR <= CBR <= DCR
COUNTED = (*COMPOSITES, *CATEGORIES)  # the measures whose counts the categories-vs-total check reads
_UNMATCHED = object()  # a cell no name equals


def _finding(ref, study, cohort, measure, check, reported, computed, detail, source=None) -> dict:
    return dict(zip(FINDING_COLUMNS,
                    [ref, study, cohort, measure, check, reported, computed, detail, source], strict=True))


def audit(ds: Dataset, studies: set[str] | None = None, outcomes: pd.DataFrame | None = None
          ) -> pd.DataFrame:
    """Every internal inconsistency of the dataset's figures (of the given studies), in a stable
    order. `outcomes`: the studies' outcome_table when the caller has it already."""
    if outcomes is None:
        out = outcome_table(ds, derive_orr=False, studies=studies)
    else:  # the audit reads what the sources print: no derived ORR rows
        out = outcomes[outcomes["count_basis"] != "derived ORR"]
    coh = ds.cohorts
    if studies is not None:
        coh = coh[coh["study"].isin(set(studies))]
    refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
    found: list[dict] = []

    # the outcome rows each check may find something in, over whole columns; they are read once
    # (misprinted: a percentage its count does not give, or that no whole count gives)
    pcts, dens, used = (_numbers(out, c) for c in ("percent_reported", "denominator", "count_used"))
    printed = ~np.isnan(pcts) & ~np.isnan(dens)
    counted = printed & ~np.isnan(used) & ~out["count_basis"].isin(["from percentage"]).to_numpy()
    misprinted = printed & np.isnan(used)
    misprinted[counted] = ~percents_match(used[counted], dens[counted], pcts[counted])
    group = key_codes(out["study"], out["cohort"], out["source"])
    first = first_rows(group)
    in_failing_group = _groups_that_may_fail(out, group, len(first))[group]
    # cohort sizes by row of coh, as plain values and as numbers; the last: a cohort not listed
    size, sizes = [*column(coh, "n"), None], np.append(_numbers(coh, "n"), np.nan)
    cohort_at = _cohort_rows(coh, out["study"].iloc[first], out["cohort"].iloc[first])[group]
    over_cohort = dens > sizes[cohort_at]
    read = misprinted | in_failing_group | over_cohort
    rows = _rows(out, read)

    # 1. printed percentage against its count (reported, or the listed breakdown's sum)
    for r in compress(rows, misprinted[read]):
        pct, den, k = value_or_none(r.percent_reported), value_or_none(r.denominator), value_or_none(r.count_used)
        if k is not None and r.count_basis != "from percentage":
            if not percent_matches(int(k), int(den), pct):
                how = "" if r.count_basis == "reported" else f" ({r.count_basis})"
                found.append(_finding(
                    r.ref, r.study, r.cohort, r.measure, "percentage vs count", f"{pct:g}%",
                    f"{k}/{den} = {100 * k / den:.1f}%",
                    f"printed {pct:g}% but {k}/{den}{how} is {100 * k / den:.1f}%", r.source))
        elif k is None:
            found.append(_finding(
                r.ref, r.study, r.cohort, r.measure, "percentage vs denominator", f"{pct:g}%",
                "no whole count", f"no whole number of patients out of {den} prints as {pct:g}%"
                + _parent_fit(coh, r.study, r.cohort, pct), r.source))

    # 2.-4. each source's figures are checked against each other, group by group in the order
    #       they first appear (all the rows of a group that may fail are read)
    groups: dict[tuple[str, str, str], list] = {}
    for r in compress(rows, in_failing_group[read]):
        groups.setdefault((r.study, r.cohort, r.source), []).append(r)
    for (study, cohort, source), g in groups.items():
        found += _within_source(refs.get(study), study, cohort, source, g)

    # 5. populations: a cohort within its parent; disjoint subgroups within the parent together;
    #    an outcome's denominator within its cohort (a missing n, or a cohort not listed, is no
    #    finding: NaN compares false)
    parent_at = np.where(coh["parent"].notna(), _cohort_rows(coh, coh["study"], coh["parent"]), -1)
    larger = np.flatnonzero(sizes[:-1] > sizes[parent_at])
    for r, at in zip(plain_rows(coh.iloc[larger][["study", "cohort", "parent", "n"]]), parent_at[larger],
                     strict=True):
        found.append(_finding(refs.get(r.study), r.study, r.cohort, "n", "cohort within parent",
                              size[at], r.n, f"cohort of {r.n} is larger than its parent "
                              f"'{r.parent}' of {size[at]}"))
    parts = coh[coh["partition"].notna() & coh["parent"].notna()]
    totals = parts.groupby(["study", "parent", "partition"], sort=True)["n"].sum()  # missing n counts 0
    parent_at = _cohort_rows(coh, totals.index.get_level_values("study"), totals.index.get_level_values("parent"))
    over = totals.to_numpy(dtype="float64") > sizes[parent_at]
    for ((study, parent, partition), total), at in zip(totals[over].items(), parent_at[over], strict=True):
        found.append(_finding(refs.get(study), study, parent, "n", "subgroups within whole",
                              size[at], int(total), f"disjoint subgroups by {partition} add up to "
                              f"{int(total)}, more than the {size[at]} of '{parent}'"))
    for r, at in zip(compress(rows, over_cohort[read]), cohort_at[over_cohort], strict=True):
        den = value_or_none(r.denominator)
        found.append(_finding(r.ref, r.study, r.cohort, r.measure, "denominator within cohort",
                              size[at], den, f"denominator {den} is larger than the cohort's {size[at]}",
                              r.source))

    # 6. conflicts the sources print that no count can show (a dose, a ratio, a population):
    #    each stored conflict names both readings and their sources
    named = coh[coh["study"].isin(set(ds.conflicts["study"]))]  # the studies a conflict names
    heads = {s: c for s, c, h in zip(named["study"], named["cohort"], named["headline"], strict=True) if h}
    trial_of = (dict(zip(ds.studies["study"], ds.studies["trial"], strict=True))
                if "trial" in ds.studies.columns else {})
    for r in row_tuples(ds.conflicts):
        study = r.study if isinstance(r.study, str) else None
        # the trial leads the text only where the figures are its own (the study is a report of it):
        # a conflict over which trial a study's figures belong to names that trial in a reading instead
        whose = r.trial if isinstance(r.trial, str) and (study is None or trial_of.get(study) == r.trial) else None
        if studies is not None and study not in set(studies):
            continue
        found.append(_finding(refs.get(study), study, heads.get(study), r.topic,
                              f"stated conflict ({r.kind})", f"{r.reading_a} [{r.source_a}]",
                              f"{r.reading_b} [{r.source_b}]",
                              f"{whose + ': ' if whose else ''}{r.reading_a} "
                              f"[{r.source_a}] against {r.reading_b} [{r.source_b}]"
                              + (f"; {r.note}" if isinstance(r.note, str) else ""), r.source_a))

    frame = pd.DataFrame(found, columns=FINDING_COLUMNS)
    frame["ref"] = frame["ref"].astype("Int64")
    frame["reported"] = frame["reported"].astype(str)
    frame["computed"] = frame["computed"].astype(str)
    return frame.sort_values(["ref", "study", "cohort", "measure", "check"], kind="stable",
                             na_position="last").reset_index(drop=True)


def _parent_fit(coh: pd.DataFrame, study: str, cohort: str, pct: float) -> str:
    """Where a printed percentage fits no whole count of its own denominator, the counts that would
    give it out of the enclosing cohort (the enrolled patients, say): derived here, never printed."""
    from .counts import counts_from_percent

    at = coh[(coh["study"] == study) & (coh["cohort"] == cohort)]
    parent = value_or_none(at["parent"].iloc[0]) if len(at) else None
    whole = coh[(coh["study"] == study) & (coh["cohort"] == parent)] if parent else at.iloc[:0]
    n = value_or_none(whole["n"].iloc[0]) if len(whole) else None
    if n is None:
        return ""
    fits = list(counts_from_percent(pct, int(n)))
    if not fits:
        return ""
    label = (value_or_none(whole["label"].iloc[0]) if "label" in whole.columns else None) or parent
    return (f"; out of the {int(n)} {label} (the enclosing cohort) "
            f"{' or '.join(f'{x}*/{int(n)}' for x in fits)} would print as {pct:g}% (* derived here, not printed)")


def cohort_flags(ds: Dataset, studies: set[str], outcomes: pd.DataFrame | None = None
                 ) -> dict[tuple[str, str], str]:
    """(study, cohort) -> a short warning naming the audit findings on it, for the views."""
    found = audit(ds, studies, outcomes)
    flags: dict[tuple[str, str], list[str]] = {}
    for r in row_tuples(found):
        flags.setdefault((r.study, r.cohort), []).append(f"{r.measure}: {r.check}")
    return {k: "; ".join(v) for k, v in flags.items()}


def _within_source(ref, study: str, cohort: str, source: str, g: list) -> list[dict]:
    """Checks 2-4 on one source's rows for one cohort (`g`, plain rows in file order)."""
    found = []
    counts = {r.measure: int(r.count) for r in g if not missing(r.count)}
    # 2. categories listed inside a reported total must not exceed it
    for measure, parts in COMPOSITES.items():
        if measure in counts:
            inside = sum(counts.get(m, 0) for m in parts)
            if inside > counts[measure]:
                found.append(_finding(
                    ref, study, cohort, measure, "categories vs total", counts[measure], inside,
                    f"{'+'.join(m for m in parts if m in counts)} = {inside} exceeds "
                    f"{measure} {counts[measure]}", source))
    # 3. mutually exclusive categories cannot cover more than everyone
    cats = [r for r in g if r.measure in CATEGORIES]
    dens = {int(r.denominator) for r in cats if not missing(r.denominator)}
    cat_counts = [int(r.count) for r in cats if not missing(r.count)]
    if len(dens) == 1 and sum(cat_counts) > next(iter(dens)):
        found.append(_finding(
            ref, study, cohort, "+".join(r.measure for r in cats), "categories vs denominator",
            next(iter(dens)), sum(cat_counts),
            f"response categories add up to {sum(cat_counts)} patients of {next(iter(dens))}", source))
    printed = [r for r in cats if not missing(r.percent_reported)]
    pcts = [float(r.percent_reported) for r in printed]
    if printed_as_cumulative(pcts):
        found.append(_finding(
            ref, study, cohort, "+".join(r.measure for r in printed),
            "categories vs 100%", "100%", f"{sum(pcts):g}%",
            f"mutually exclusive response categories printed as {' + '.join(f'{p:g}%' for p in pcts)}"
            f" = {sum(pcts):g}%; they may be cumulative ('or better') rates", source))
    # 4. nested summaries: CR/CRi <= ORR <= CBR <= DCR
    rates = {r.measure: value_or_none(r.percent_calc) for r in g if r.measure in NESTED}
    rates = {m: v for m, v in rates.items() if v is not None}
    present = [m for m in NESTED if m in rates]
    for a, b in zip(present, present[1:], strict=False):
        if rates[a] > rates[b] + 1e-9:
            found.append(_finding(ref, study, cohort, f"{a}>{b}", "nested rates",
                                  f"{rates[b]:g}%", f"{rates[a]:g}%",
                                  f"{a} {rates[a]:g}% is above {b} {rates[b]:g}%", source))
    return found


def _groups_that_may_fail(out: pd.DataFrame, group: np.ndarray, groups: int) -> np.ndarray:
    """Whether each (study, cohort, source) group (numbered as each row's `group`) can fail
    check 2, 3 or 4, over whole columns. Never false where _within_source finds something; true
    almost only there (a sum of printed percentages within rounding error of the cumulative
    cut-off is read again)."""
    codes, measures = pd.factorize(out["measure"])
    count, den = _numbers(out, "count"), _numbers(out, "denominator")
    pct, rate = _numbers(out, "percent_reported"), _numbers(out, "percent_calc")
    # 2. each group's last count of each summary and category, summaries against their parts
    at = _places(codes, measures, COUNTED)
    has = (at >= 0) & ~np.isnan(count)
    counts = last_values(group[has], at[has], count[has], (groups, len(COUNTED)))
    fails = np.zeros(groups, dtype=bool)
    for measure, parts in COMPOSITES.items():
        inside = np.nansum(counts[:, [COUNTED.index(m) for m in parts]], axis=1)
        fails |= inside > counts[:, COUNTED.index(measure)]  # False where the summary has no count
    # 3. the categories' counts against their one denominator, and their printed percentages
    cat = _places(codes, measures, CATEGORIES) >= 0
    with_den = cat & ~np.isnan(den)
    lo, hi = np.full(groups, np.inf), np.full(groups, -np.inf)
    np.minimum.at(lo, group[with_den], den[with_den])
    np.maximum.at(hi, group[with_den], den[with_den])
    counted = cat & ~np.isnan(count)
    fails |= (lo == hi) & (np.bincount(group[counted], count[counted], minlength=groups) > lo)
    shown = cat & ~np.isnan(pct)
    # printed_as_cumulative decides; its sum may round apart from this one in the last bits
    fails |= ((np.bincount(group[shown], minlength=groups) > 1)
              & (np.bincount(group[shown], pct[shown], minlength=groups) > 100.5 - 1e-6))
    # 4. each group's last rate of each nested summary against the next one it has
    at = _places(codes, measures, NESTED)
    rates = last_values(group[at >= 0], at[at >= 0], rate[at >= 0], (groups, len(NESTED)))
    following = np.full(groups, np.nan)
    for j in range(len(NESTED) - 2, -1, -1):
        following = np.where(np.isnan(rates[:, j + 1]), following, rates[:, j + 1])
        fails |= rates[:, j] > following + 1e-9
    return fails


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 with NaN where missing (whole numbers stay exact)."""
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def _rows(out: pd.DataFrame, chosen: np.ndarray) -> list[tuple]:
    """The chosen outcome rows (a mask), in file order, as plain rows of the columns READ."""
    return plain_rows(out.iloc[np.flatnonzero(chosen), out.columns.get_indexer(READ)])


def _places(codes: np.ndarray, values: pd.Index, names: tuple) -> np.ndarray:
    """For factorized values (codes into values, -1 for missing), each one's position among
    names, -1 for a value not among them."""
    return np.array([names.index(v) if v in names else -1 for v in values] + [-1], dtype=np.int64)[codes]


def _cohort_rows(coh: pd.DataFrame, study: pd.Series | pd.Index, cohort: pd.Series | pd.Index) -> np.ndarray:
    """The row in coh of each (study, cohort) pair's cohort, -1 where none is listed, as the rules
    find it: in a dict keyed on coh's own cells (a cohort listed twice: its last row) by names
    read as None where missing, which finds a cell holding None but not one holding NaN."""
    among = []
    for name in ("study", "cohort"):
        cells = coh[name].to_numpy(dtype=object, copy=True)
        gaps = np.flatnonzero(pd.isna(cells))
        cells[[i for i in gaps if cells[i] is not None]] = _UNMATCHED
        among.append(cells)
    return last_match([study.to_numpy(dtype=object), cohort.to_numpy(dtype=object)], among)
