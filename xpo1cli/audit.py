"""Self-audit: recompute what the sources print and list every disagreement beyond rounding.

Nothing is corrected: a finding names the study, ref, cohort and measure, what was printed and
what the counts give, so a reader can go back to the source.
"""

from __future__ import annotations

import pandas as pd

from .data import Dataset
from .query import CATEGORIES, COMPOSITES, column, outcome_table, percent_matches, plain_rows, printed_as_cumulative
from .values import missing, row_tuples, value_or_none

# the outcome columns the checks read (plain_rows of the rest would be wasted work)
READ = ["ref", "study", "cohort", "measure", "count", "denominator", "percent_reported", "count_used",
        "count_basis", "percent_calc", "source"]
FINDING_COLUMNS = ["ref", "study", "cohort", "measure", "check", "reported", "computed", "detail",
                   "source"]


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

    # 1. printed percentage against its count (reported, or the listed breakdown's sum)
    rows = plain_rows(out[READ])
    for r in rows:
        pct, den, k = value_or_none(r.percent_reported), value_or_none(r.denominator), value_or_none(r.count_used)
        if pct is None or den is None:
            continue
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
                "no whole count", f"no whole number of patients out of {den} prints as {pct:g}%",
                r.source))

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
        order = ["CR_CRi", "ORR", "CBR", "DCR"]
        rates = {r.measure: value_or_none(r.percent_calc) for r in g if r.measure in order}
        rates = {m: v for m, v in rates.items() if v is not None}
        present = [m for m in order if m in rates]
        for a, b in zip(present, present[1:], strict=False):
            if rates[a] > rates[b] + 1e-9:
                found.append(_finding(ref, study, cohort, f"{a}>{b}", "nested rates",
                                      f"{rates[b]:g}%", f"{rates[a]:g}%",
                                      f"{a} {rates[a]:g}% is above {b} {rates[b]:g}%", source))

    # 5. populations: a cohort within its parent; disjoint subgroups within the parent together;
    #    an outcome's denominator within its cohort.
    size = dict(zip(zip(coh["study"], coh["cohort"], strict=True), column(coh, "n"), strict=True))
    for r in plain_rows(coh[["study", "cohort", "parent", "n"]]):
        n, parent_n = r.n, size.get((r.study, r.parent)) if r.parent is not None else None
        if n is not None and parent_n is not None and n > parent_n:
            found.append(_finding(refs.get(r.study), r.study, r.cohort, "n", "cohort within parent",
                                  parent_n, n, f"cohort of {n} is larger than its parent "
                                  f"'{r.parent}' of {parent_n}"))
    parts = coh[coh["partition"].notna() & coh["parent"].notna()]
    totals = parts.groupby(["study", "parent", "partition"], sort=True)["n"].sum()  # missing n counts 0
    for (study, parent, partition), total in totals.items():
        parent_n = size.get((study, parent))
        total = int(total)
        if parent_n is not None and total > parent_n:
            found.append(_finding(refs.get(study), study, parent, "n", "subgroups within whole",
                                  parent_n, total, f"disjoint subgroups by {partition} add up to "
                                  f"{total}, more than the {parent_n} of '{parent}'"))
    for r in rows:
        n, den = size.get((r.study, r.cohort)), value_or_none(r.denominator)
        if n is not None and den is not None and den > n:
            found.append(_finding(r.ref, r.study, r.cohort, r.measure, "denominator within cohort",
                                  n, den, f"denominator {den} is larger than the cohort's {n}",
                                  r.source))

    # 6. conflicts the sources print that no count can show (a dose, a ratio, a population):
    #    each stored conflict names both readings and their sources
    heads = {s: c for s, c, h in zip(coh["study"], coh["cohort"], coh["headline"], strict=True) if h}
    for r in row_tuples(ds.conflicts):
        study = r.study if isinstance(r.study, str) else None
        if studies is not None and study not in set(studies):
            continue
        found.append(_finding(refs.get(study), study, heads.get(study), r.topic,
                              f"stated conflict ({r.kind})", f"{r.reading_a} [{r.source_a}]",
                              f"{r.reading_b} [{r.source_b}]",
                              f"{r.trial + ': ' if isinstance(r.trial, str) else ''}{r.reading_a} "
                              f"[{r.source_a}] against {r.reading_b} [{r.source_b}]"
                              + (f"; {r.note}" if isinstance(r.note, str) else ""), r.source_a))

    frame = pd.DataFrame(found, columns=FINDING_COLUMNS)
    frame["ref"] = frame["ref"].astype("Int64")
    frame["reported"] = frame["reported"].astype(str)
    frame["computed"] = frame["computed"].astype(str)
    return frame.sort_values(["ref", "study", "cohort", "measure", "check"], kind="stable",
                             na_position="last").reset_index(drop=True)


def cohort_flags(ds: Dataset, studies: set[str], outcomes: pd.DataFrame | None = None
                 ) -> dict[tuple[str, str], str]:
    """(study, cohort) -> a short warning naming the audit findings on it, for the views."""
    found = audit(ds, studies, outcomes)
    flags: dict[tuple[str, str], list[str]] = {}
    for r in row_tuples(found):
        flags.setdefault((r.study, r.cohort), []).append(f"{r.measure}: {r.check}")
    return {k: "; ".join(v) for k, v in flags.items()}
