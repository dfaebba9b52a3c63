"""Counts and percentages of the outcome rows: the response categories and their composites,
whether a count matches its printed percentage, the counts a breakdown or a percentage gives,
and the outcome table with derived rows. Pure functions of the dataset; no printing."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import Dataset
from .values import (
    first_rows,
    key_codes,
    last_values,
)

TIME_MEASURES = ("PFS", "OS", "DOR", "TTR", "FU")
# Mutually exclusive best-response categories, deepest first.
CATEGORIES = ("sCR", "CR", "CRi", "VGPR", "PR", "MR", "SD", "PD")
# A summary measure is the sum of these categories; the last one is the shallowest it includes,
# and a breakdown must reach it before the categories are taken to make up the whole.
COMPOSITES = {
    "CR_CRi": ("CR", "CRi"),
    "CR_or_better": ("sCR", "CR"),
    "ORR": ("sCR", "CR", "CRi", "VGPR", "PR"),
    "CBR": ("sCR", "CR", "CRi", "VGPR", "PR", "MR"),
    "DCR": ("sCR", "CR", "CRi", "VGPR", "PR", "MR", "SD"),
}
# Categories printed as rates that add up to more than everyone are read as cumulative ("or
# better") rates: the summary each one then is.
CUMULATIVE_READING = {"MR": "CBR", "PR": "ORR", "VGPR": "≥VGPR", "CR": "≥CR"}
CUMULATIVE_BASIS = "cumulative reading of the printed {} rate"


def printed_as_cumulative(percents: Iterable[float]) -> bool:
    """Whether mutually exclusive categories printed as these percentages cover more than
    everyone (over 100.5%, beyond rounding), so they can only be cumulative rates."""
    pcts = [float(p) for p in percents]
    return len(pcts) > 1 and sum(pcts) > 100.5



# --- counts and percentages -------------------------------------------------------------------


def decimals_of(percent: float) -> int:
    text = f"{percent:.6f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def rounding_tolerance(percent: float) -> float:
    """How far a percentage printed this way may be from the exact one: half its last digit."""
    return 0.5 * 10**-decimals_of(percent) + 1e-9


def percent_matches(count: int, denominator: int, percent: float) -> bool:
    """Whether count/denominator, rounded as printed, gives the printed percentage."""
    exact = 100 * count / denominator
    return abs(exact - percent) <= rounding_tolerance(percent)


def percents_match(counts: np.ndarray, denominators: np.ndarray, percents: np.ndarray) -> np.ndarray:
    """percent_matches over whole arrays (whole counts and denominators as float64, none missing),
    with the same arithmetic; the tolerance is worked out once per distinct percentage."""
    which, values = pd.factorize(percents)
    tolerance = np.array([rounding_tolerance(p) for p in values.tolist()], dtype="float64")
    return np.abs(100 * counts / denominators - percents) <= tolerance[which]


def counts_from_percent(percent: float, denominator: int) -> range:
    """Whole counts over denominator that print as percent (those percent_matches accepts), in a
    few steps at any denominator. The counts within rounding of percent x denominator / 100 form
    one run: its ends are worked out from that bound in exact arithmetic, then settled by
    percent_matches itself, whose float arithmetic may take or leave a count a hair beyond the
    exact bound (the settling looks only near each end)."""
    from fractions import Fraction

    n = int(denominator)
    if n <= 0 or not math.isfinite(percent):
        return range(0)
    tolerance = rounding_tolerance(percent)

    def below(k: int) -> bool:  # the count prints under the percentage's rounding interval
        return 100 * k / n - percent < -tolerance

    def above(k: int) -> bool:
        return 100 * k / n - percent > tolerance

    low = Fraction(percent) - Fraction(tolerance)
    high = Fraction(percent) + Fraction(tolerance)
    first = _first_true(lambda k: not below(k), math.ceil(low * n / 100), n)
    after = _first_true(above, math.floor(high * n / 100) + 1, n)
    return range(first, max(first, after))


def _first_true(test, guess: int, n: int) -> int:
    """The least k in 0..n for which test holds (n + 1 if none), for a test false then true
    along 0..n, searched outward from guess in doubling steps, then by halving: a few calls when
    the guess is near."""
    guess = min(max(guess, 0), n + 1)
    step = 1
    if guess > n or test(guess):  # the answer is at or below the guess
        high = guess
        low = guess - step
        while low >= 0 and test(low):
            high, step = low, 2 * step
            low = guess - step
        low = max(low, -1)
    else:
        low = guess
        high = guess + step
        while high <= n and not test(high):
            low, step = high, 2 * step
            high = guess + step
        high = min(high, n + 1)
    while high - low > 1:  # test(low) is false (or low is -1), test(high) true (or high is n + 1)
        mid = (low + high) // 2
        if test(mid):
            high = mid
        else:
            low = mid
    return high


def column(frame: pd.DataFrame, name: str) -> list:
    """A column as a plain list with missing values as None (fast row loops without pandas)."""
    series = frame[name]
    values = series.to_numpy(dtype=object, copy=True)
    values[series.isna().to_numpy()] = None
    return values.tolist()


def plain_rows(frame: pd.DataFrame) -> list[tuple]:
    """The rows as named tuples of plain Python values, None where missing: a row loop over
    them avoids pandas' per-cell cost (several times faster on large user datasets)."""
    from collections import namedtuple

    row = namedtuple("Row", list(frame.columns))
    return [row(*values) for values in zip(*(column(frame, c) for c in frame.columns), strict=True)]


KEY = ["study", "cohort", "source"]  # one source's figures for one cohort


@dataclass(frozen=True)
class Breakdowns:
    """Each (study, cohort, source) whose source prints the count of a best-response category, in
    the order such a count first appears (`keys`, and `at`: key -> row), with each category's
    count and denominator (`k`, `d`: one row per key, one column per CATEGORIES entry; NaN where
    not printed; a category printed twice: the last)."""

    keys: list
    at: dict
    k: np.ndarray
    d: np.ndarray

    def rows(self, keys) -> tuple[np.ndarray, np.ndarray]:
        """k and d for any keys (all NaN for a key without a breakdown)."""
        pos = np.fromiter((self.at.get(key, len(self.keys)) for key in keys), dtype=np.int64)
        blank = np.full((1, len(CATEGORIES)), np.nan)
        return np.vstack([self.k, blank])[pos], np.vstack([self.d, blank])[pos]


def breakdowns(outcomes: pd.DataFrame) -> Breakdowns:
    """The printed category counts of every (study, cohort, source), in one pass over those rows."""
    cats = outcomes[outcomes["measure"].isin(CATEGORIES) & outcomes["count"].notna()]
    parts = [np.array(column(cats, c), dtype=object) for c in KEY]
    row = key_codes(*parts)  # keys numbered in the order they first appear
    firsts = first_rows(row)
    at = {key: i for i, key in enumerate(zip(*(p[firsts].tolist() for p in parts), strict=True))}
    col = cats["measure"].map({c: j for j, c in enumerate(CATEGORIES)}).to_numpy(dtype=np.int64)
    shape = (len(at), len(CATEGORIES))  # in file order a category printed twice keeps the last
    return Breakdowns(keys=list(at), at=at,
                      k=last_values(row, col, cats["count"].to_numpy(dtype="float64", na_value=np.nan), shape),
                      d=last_values(row, col, cats["denominator"].to_numpy(dtype="float64", na_value=np.nan), shape))


def breakdown_sums(k: np.ndarray, d: np.ndarray, measures: np.ndarray, dens: np.ndarray,
                   composites: dict[str, tuple[str, ...]] = COMPOSITES) -> np.ndarray:
    """For rows of k and d (category counts and denominators, aligned with measures and dens),
    the summary measure's count as the sum of its categories (`composites`: measure -> its
    categories, the shallowest last) when the breakdown is whole: the categories printed over the
    same denominator reach the measure's shallowest category, or account for every patient. NaN
    where it is not whole (or the measure is no summary)."""
    have = (d == dens[:, None]) & ~np.isnan(k)
    counted = np.where(have, k, 0.0)
    complete = counted.sum(axis=1) == dens
    out = np.full(len(dens), np.nan)
    for measure, parts in composites.items():
        cols = [CATEGORIES.index(c) for c in parts]
        found = have[:, cols].any(axis=1)
        whole = (have[:, cols[-1]] | complete) & (found | complete)
        out = np.where((measures == measure) & whole, counted[:, cols].sum(axis=1), out)
    return out


def one_printed(k: np.ndarray, have: np.ndarray, cols: list[int]) -> np.ndarray:
    """For rows of k (category counts) and `have` (the categories a sum reads), the rows whose sum of
    the categories `cols` is one printed count: one category read, every other one printed as 0 or
    not at all (the breakdown is whole). The source then prints the summary's count ('1 complete
    response' is a ≥CR of 1): reported, not derived."""
    given = have[:, cols]
    nonzero = given & (np.where(have, k, 0.0)[:, cols] > 0)
    return given.any(axis=1) & (nonzero.sum(axis=1) <= 1)


def derive_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Outcomes with `count_used` and `count_basis`: reported, the sum of the categories the
    breakdown lists (see breakdown_sums), or the one whole count whose percentage prints as
    reported. Missing stays missing. Vectorized over the rows; the percentage rule loops only
    over rows that have nothing else."""
    out = outcomes.copy()
    count = out["count"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    dens = out["denominator"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    measures = out["measure"].to_numpy(dtype=object)
    used = count.copy()
    basis = np.where(~np.isnan(count), "reported", None).astype(object)
    need = np.isnan(count) & ~np.isnan(dens) & pd.Series(measures).isin(list(COMPOSITES)).to_numpy()
    if need.any():
        rows = out.loc[need, KEY]
        k, d = breakdowns(out).rows(zip(rows["study"], rows["cohort"], rows["source"], strict=True))
        sums = breakdown_sums(k, d, measures[need], dens[need])
        found = ~np.isnan(sums)
        idx = np.flatnonzero(need)
        used[idx[found]] = sums[found]
        basis[idx[found]] = "sum of categories"
    pct = out["percent_reported"].to_numpy(dtype="float64", na_value=np.nan)
    for i in np.flatnonzero(np.isnan(used) & ~np.isnan(pct) & ~np.isnan(dens)):
        ks = counts_from_percent(float(pct[i]), int(dens[i]))
        if len(ks) == 1:
            used[i], basis[i] = ks[0], "from percentage"
    out["count_used"] = pd.array(used, dtype="Int64")  # NaN -> NA
    out["count_basis"] = pd.array(basis, dtype=object)
    out["percent_calc"] = percent_of(used, dens)
    return out


def percent_of(counts: np.ndarray, dens: np.ndarray) -> np.ndarray:
    """100 * count / denominator rounded to one decimal as Python rounds; NaN where either is
    missing or the denominator is 0."""
    counts, dens = np.asarray(counts, dtype="float64"), np.asarray(dens, dtype="float64")
    ok = ~np.isnan(counts) & ~np.isnan(dens) & (dens != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(ok, 100 * counts / dens, np.nan)
    tenths = exact * 10
    out = np.rint(tenths) / 10
    # near a half the product by 10 may round across it (and far from 0 it is not exact): those
    # few are rounded as Python rounds
    near = (np.abs(tenths - np.floor(tenths) - 0.5) < 1e-6) | ~(np.abs(exact) < 1e8)
    for i in np.flatnonzero(ok & near):
        out[i] = round(float(exact[i]), 1)
    return out


def outcome_rows(ds: Dataset, studies: Iterable[str] | None = None, cohorts: set[tuple[str, str]] | None = None,
                 measures: Iterable[str] | None = None) -> pd.DataFrame:
    """The stored outcome rows of the given studies, cohorts and measures (with the categories
    every derived count is summed from): what count derivation reads."""
    base = ds.outcomes
    if studies is not None:
        base = base[base["study"].isin(set(studies))]
    if measures is not None:
        base = base[base["measure"].isin({*measures, *CATEGORIES})]
    if cohorts is not None:  # derivation stays within one cohort's rows, so this changes no figure
        base = base[of_cohorts(base, cohorts)]
    return base


def of_cohorts(frame: pd.DataFrame, cohorts: set[tuple[str, str]]) -> np.ndarray:
    """Whether each row's (study, cohort) is one of these cohorts."""
    keys = pd.MultiIndex.from_arrays([frame["study"].astype(object), frame["cohort"].astype(object)])
    return keys.isin(list(cohorts))


def with_refs(ds: Dataset, out: pd.DataFrame) -> pd.DataFrame:
    """The rows with their study's ref number in front, on a fresh index."""
    studies = ds.studies.drop_duplicates("study", keep="last")  # a study listed twice: its last ref
    at = pd.Index(studies["study"]).get_indexer(out["study"])
    out.insert(0, "ref", pd.array(studies["ref"], dtype="Int64").take(at, allow_fill=True))
    return out.reset_index(drop=True)


def outcome_table(ds: Dataset, derive_orr: bool = True, studies: Iterable[str] | None = None,
                  cohorts: set[tuple[str, str]] | None = None,
                  measures: Iterable[str] | None = None) -> pd.DataFrame:
    """Outcomes (of the given studies) with the study's ref, the derived count and the computed
    percentage; with derive_orr, an ORR row (count_basis 'derived ORR') for cohorts whose whole
    breakdown is reported but whose ORR is not."""
    out = with_refs(ds, derive_counts(outcome_rows(ds, studies, cohorts, measures)))
    if not derive_orr:
        return out
    # an added ORR row is never the source's own row (the audit leaves it out): always 'derived ORR'
    return with_summaries(out, "ORR", COMPOSITES["ORR"], "derived ORR", printed=False)


def with_summaries(out: pd.DataFrame, measure: str, parts: tuple[str, ...], basis: str,
                   printed: bool = True) -> pd.DataFrame:
    """The outcome table (as outcome_table gives it) with a row of the summary `measure` (the sum of
    `parts`, categories with the shallowest last; count_basis `basis`) for each cohort whose source
    prints a whole breakdown over one denominator but no row of that measure. With `printed`, a sum
    that is one printed category's count (one_printed) is 'reported'."""
    b = breakdowns(out)
    if not b.keys:
        return out
    # a breakdown over one denominator, from a source that prints no row of the measure for the cohort
    have = out[out["measure"] == measure]
    has_row = set(zip(have["study"], have["cohort"], have["source"], strict=True))
    d = np.where(np.isnan(b.k), np.nan, b.d)  # denominators of the printed categories only
    lo, hi = np.where(np.isnan(d), np.inf, d).min(axis=1), np.where(np.isnan(d), -np.inf, d).max(axis=1)
    one = (lo == hi) & np.isfinite(lo) & np.array([key not in has_row for key in b.keys], dtype=bool)
    sums = breakdown_sums(b.k[one], b.d[one], np.full(int(one.sum()), measure, dtype=object), lo[one],
                          {measure: parts})
    ok = ~np.isnan(sums)
    if not ok.any():
        return out
    keys = [key for key, chosen in zip(b.keys, one, strict=True) if chosen]
    keys = [key for key, kept in zip(keys, ok, strict=True) if kept]
    den, sums = lo[one][ok], sums[ok]
    firsts = out[KEY].drop_duplicates()  # each key's first row: the derived row takes its ref and section
    first = dict(zip(zip(firsts["study"], firsts["cohort"], firsts["source"], strict=True), firsts.index,
                     strict=True))
    src = out.iloc[[first[key] for key in keys]]
    add = pd.DataFrame({c: pd.Series([None] * len(keys), dtype=out[c].dtype) for c in out.columns})
    for j, c in enumerate(KEY):
        add[c] = [key[j] for key in keys]
    add["ref"] = src["ref"].to_numpy()
    add["section"] = src["section"].to_numpy()
    add["measure"] = measure
    add["denominator"] = pd.array(den.astype("int64"), dtype=out["denominator"].dtype)
    add["count_used"] = pd.array(sums.astype("int64"), dtype="Int64")
    kk, dd = b.k[one][ok], b.d[one][ok]
    single = (one_printed(kk, (dd == den[:, None]) & ~np.isnan(kk), [CATEGORIES.index(c) for c in parts])
              if printed else np.zeros(len(den), dtype=bool))
    add["count_basis"] = np.where(single, "reported", basis)
    add["percent_calc"] = percent_of(sums, den)
    add = add.astype(out.dtypes.to_dict())
    return pd.concat([out, add], ignore_index=True)
