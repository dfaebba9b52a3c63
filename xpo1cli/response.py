"""The response table: every response measure of each cohort, as reported or derived from its
counts, with the cumulative reading of printed rates. Pure functions; no printing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .audit import cohort_flags
from .counts import CATEGORIES, CUMULATIVE_BASIS, CUMULATIVE_READING, outcome_table, printed_as_cumulative
from .data import Dataset
from .headline import Picked, depth_labels, depth_summaries, standing_rows
from .query import UnknownName, arm_table
from .values import (
    all_matches,
    column_cells,
    first_rows,
    inferred_frame,
    key_codes,
    most_frequent,
    per_distinct,
)

# --- response ----------------------------------------------------------------------------------

SUMMARIES = ("ORR", "CR_CRi", "CR_or_better", "CBR", "DCR")
DEPTH_KEYS = {"≥VGPR": "ge_vgpr", "≥CR": "ge_cr"}
DEPTH_NAMES = {"CR_CRi": "CR/CRi"}  # the summary measure that is AML's depth summary
ID_COLUMNS = ["ref", "study", "cohort", "cohort_label", "disease", "regimen", "arm", "agent", "n", "denominator",
              "source", "audit"]


def response_key(measure: str) -> str:
    return DEPTH_KEYS.get(measure, measure.lower())


def response_columns(measures: tuple[str, ...]) -> list[str]:
    cols = list(ID_COLUMNS)
    for m in measures:
        k = response_key(m)
        cols += [f"{k}_n", f"{k}_pct"]
        if m not in CATEGORIES:
            cols += [f"{k}_ci_low", f"{k}_ci_high", f"{k}_basis"]
    return cols


ALL_RESPONSE = (*CATEGORIES, *SUMMARIES, "≥VGPR", "≥CR")


def response_table(ds: Dataset, studies: pd.DataFrame, measure: str | None = None,
                   method: str = "exact", level: float = 0.95,
                   matched: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per cohort with response data: every category as count and % (as printed, else
    computed), the summaries with a confidence interval, depth summaries of the disease.
    Anything the source does not give stays missing, never zero.

    A row is one source's report of one cohort: for each study, each of its cohorts (in the arm
    table's order; with `matched`, only those) and each source reporting on the cohort (in file
    order), kept where it gives any count or percentage. Of a measure given twice, the row with a
    count stands for it (then the first), as the tests' `by_cohort` chooses; a depth summary is as
    their `depth` gives it from the source's rows (tests/reference_rules.py). All rows are worked
    out at once, over whole columns."""
    from .stats import percent_cis

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
    o = outcomes[outcomes["measure"].isin(CATEGORIES + SUMMARIES)].reset_index(drop=True)
    read = Picked(o)

    # each source's report of a cohort (study, cohort, source), numbered in file order, and the row
    # standing for each of its measures (a landmark, with a timepoint, is a measure of its own)
    study, cohort = o["study"].to_numpy(dtype=object), o["cohort"].to_numpy(dtype=object)
    src = key_codes(study, cohort, o["source"].to_numpy(dtype=object))
    src_first = first_rows(src)
    n_src = len(src_first)
    measure_key = key_codes(src, o["measure"].to_numpy(dtype=object), o["timepoint"].to_numpy(dtype=object))
    stands = standing_rows(measure_key, o["count_used"].notna().to_numpy(), int(measure_key.max(initial=-1)) + 1)
    of_src, measure_of = src[stands], o["measure"].to_numpy(dtype=object)[stands]
    plain = o["timepoint"].isna().to_numpy()[stands]
    at: dict[str, np.ndarray] = {}  # measure -> each source's row standing for it, -1 for none
    for m in (*CATEGORIES, *SUMMARIES):
        hit = plain & (measure_of == m)
        at[m] = np.full(n_src, -1, dtype=np.int64)
        at[m][of_src[hit]] = stands[hit]
    # the denominator most of the source's measures (landmarks too) are given over
    den = read.numbers("denominator", stands)
    denominator = most_frequent(of_src[~np.isnan(den)], den[~np.isnan(den)], n_src)
    cumulative = _read_as_cumulative(read, at, measure_key)
    depth_names = tuple(DEPTH_NAMES.get(m, m) for m in ("CR_CRi", *DEPTH_KEYS))
    depths = depth_summaries(read, at, depth_names)

    # the rows: each study's cohorts, each cohort's sources
    arms = arm_table(ds)
    if matched is not None:
        arms = arms[np.array([k in matched for k in zip(arms["study"], arms["cohort"], strict=True)], dtype=bool)]
    arm_at, src_at = all_matches([arms["study"], arms["cohort"]], [study[src_first], cohort[src_first]])
    s, pair = all_matches([studies["study"]], [arms["study"].to_numpy(dtype=object)[arm_at]])
    a, g = arm_at[pair], src_at[pair]
    of_study = per_distinct(depth_labels, studies["disease"])  # each study row's depth summaries
    labels = {name: np.array([name in own for own in of_study], dtype=bool)[s] for name in depth_names}

    n_rows = len(g)
    nothing, blank = np.zeros(n_rows, dtype=bool), np.full(n_rows, np.nan)
    got_any = nothing.copy()
    figures: dict[str, dict] = {}  # measure -> count, denominator, percent and basis of each row
    for m in measures:
        # whether the measure is given, and its figures
        out = given, cnt, den, pct, basis = (nothing.copy(), blank.copy(), blank.copy(), blank.copy(),
                                             np.full(n_rows, None, dtype=object))
        # a category read as cumulative is no category of its own: it shows as the summary it is
        skipped = cumulative[m][g] if m in cumulative else nothing
        as_read = cumulative[CUMULATIVE_OF[m]][g] if m in CUMULATIVE_OF else nothing
        if as_read.any():
            row = at[CUMULATIVE_OF[m]][g]
            _put(out, as_read, True, blank, read.numbers("denominator", row), read.numbers("percent_reported", row),
                 CUMULATIVE_BASIS.format(CUMULATIVE_OF[m]))
        # a depth summary, as `depth` gives it; nothing where it is not one of the disease's
        name = DEPTH_NAMES.get(m, m)
        as_depth = ~as_read if m in DEPTH_KEYS else labels[name] if m in DEPTH_NAMES else nothing
        if as_depth.any():
            _put(out, as_depth & labels[name] & depths[f"{name}:given"][g], True,
                 *(depths[f"{name}:{part}"][g] for part in ("count", "denominator", "percent", "basis")))
        # any other measure as the source gives it: the percentage as printed, else computed
        row = np.where(skipped | as_read | as_depth, -1, at[m][g]) if m in at else np.full(n_rows, -1)
        printed = read.numbers("percent_reported", row)
        _put(out, row >= 0, True, read.numbers("count_used", row), read.numbers("denominator", row),
             np.where(np.isnan(printed), read.numbers("percent_calc", row), printed), read.texts("count_basis", row))
        got_any |= ~np.isnan(cnt) | ~np.isnan(pct)
        if m not in CATEGORIES:  # a summary given without a count: a percentage only, unless read as cumulative
            basis[given & np.isnan(cnt) & ~as_read] = "percentage only"
        figures[m] = {"count": cnt, "denominator": den, "percent": pct, "basis": basis}

    keep = np.flatnonzero(got_any)
    s, a, g = s[keep], a[keep], g[keep]
    study_of, cohort_of = column_cells(studies, "study", s), column_cells(arms, "cohort", a)
    columns = {
        "ref": column_cells(studies, "ref", s), "study": study_of, "cohort": cohort_of,
        "cohort_label": column_cells(arms, "label", a), "disease": column_cells(studies, "disease", s),
        "regimen": column_cells(arms, "regimen", a), "arm": column_cells(arms, "arm", a),
        "agent": column_cells(arms, "agent", a),
        "n": column_cells(arms, "n", a), "denominator": denominator[g],
        "source": read.texts("source", src_first)[g].tolist(),
        "audit": [flags.get(k) for k in zip(study_of, cohort_of, strict=True)]}
    # the summaries' intervals (of a count over a denominator other than 0) in one call, row by
    # row and measure by measure
    with_interval = [m for m in measures if m not in CATEGORIES]
    low, high = np.full((len(keep), len(with_interval)), np.nan), np.full((len(keep), len(with_interval)), np.nan)
    if with_interval:
        counts = np.column_stack([figures[m]["count"][keep] for m in with_interval])
        dens = np.column_stack([figures[m]["denominator"][keep] for m in with_interval])
        rows, cols = np.nonzero(~np.isnan(counts) & ~np.isnan(dens) & (dens != 0))
        if len(rows):
            low[rows, cols], high[rows, cols] = percent_cis(
                counts[rows, cols].astype(np.int64).tolist(), dens[rows, cols].astype(np.int64).tolist(),
                method, level)
    for m in measures:
        k = response_key(m)
        columns[f"{k}_n"], columns[f"{k}_pct"] = figures[m]["count"][keep], figures[m]["percent"][keep]
        if m in with_interval:
            j = with_interval.index(m)
            columns[f"{k}_ci_low"], columns[f"{k}_ci_high"] = low[:, j], high[:, j]
            columns[f"{k}_basis"] = figures[m]["basis"][keep].tolist()
    frame = inferred_frame(columns, response_columns(measures))
    for col in frame.columns:
        if col in ("ref", "n", "denominator") or col.endswith("_n"):
            frame[col] = frame[col].astype("Int64")
        elif col.endswith(("_pct", "_ci_low", "_ci_high")):
            frame[col] = frame[col].astype("float64")
    return frame


def _put(columns: tuple, rows: np.ndarray, *values) -> None:
    """Each column's cells at `rows` set from its value: an array of every row, or one value."""
    for column, value in zip(columns, values, strict=True):
        column[rows] = value[rows] if isinstance(value, np.ndarray) else value


# a summary whose printed rate is read cumulatively -> the category that prints it
CUMULATIVE_OF = {summary: category for category, summary in CUMULATIVE_READING.items()}


def _read_as_cumulative(read: Picked, at: dict[str, np.ndarray], codes: np.ndarray) -> dict[str, np.ndarray]:
    """For each category of CUMULATIVE_READING, whether each source's printed rate of it is read
    as the cumulative rate it would be: printed_as_cumulative decides on the rates the source
    prints for its categories (`at[m]`: each source's row for category m), taken in the order
    the categories first appear in its rows (`codes`: each row's measure, numbered in that order)."""
    pct = np.column_stack([read.numbers("percent_reported", at[m]) for m in CATEGORIES])
    printed = ~np.isnan(pct)
    several = printed.sum(axis=1) > 1
    total = np.where(printed, pct, 0.0).sum(axis=1)
    over = several & (total > 100.5)
    # a sum this near the cut-off may round apart from printed_as_cumulative's, taken in another
    # order: those are decided by printed_as_cumulative itself
    near = np.flatnonzero(several & (np.abs(total - 100.5) < 1e-6))
    if len(near):
        rows = np.column_stack([at[m] for m in CATEGORIES])[near]
        first = np.where(printed[near], codes[np.maximum(rows, 0)], np.iinfo(np.int64).max)
        order = np.argsort(first, axis=1, kind="stable")
        for i, rates, shown in zip(near, np.take_along_axis(pct[near], order, axis=1),
                                   np.take_along_axis(printed[near], order, axis=1), strict=True):
            over[i] = printed_as_cumulative(rates[shown].tolist())
    return {m: over & printed[:, CATEGORIES.index(m)] for m in CUMULATIVE_READING}


def norm_measure(text: str) -> str:
    return text.casefold().replace("≥", "ge").replace(">=", "ge").replace("/", "_").replace(" ", "")
