"""The dataset checker under hostile cells, rows and files: every number read exactly or refused
with its file, line and column; white space read one way in every file; interval order, hierarchy
loops, named pipes and oversized files reported before anything is parsed; counts worked out of a
percentage in a few steps at any denominator. Ends with a seeded fuzz of user datasets whose
cells are drawn from these classes.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from xpo1cli import data, query

from .conftest import DATA

INT64 = 2**63 - 1


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    """Every check here reads the files (nothing kept between runs)."""
    monkeypatch.setenv("XPO1_CACHE", "off")
    monkeypatch.delenv(data.MAX_FILE_ENV, raising=False)


@pytest.fixture
def package(tmp_path) -> Path:
    dest = tmp_path / "pkg"
    shutil.copytree(DATA, dest)
    return dest


def read_rows(d: Path, table: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((d / f"{table}.csv").read_text(encoding="utf-8"), newline="")))


def write_rows(d: Path, table: str, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (d / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


def set_cell(d: Path, table: str, column: str, value: str, row: int = 1) -> int:
    """Set a cell by data row (1: the first under the header); its file line (header: 1)."""
    rows = read_rows(d, table)
    rows[row][rows[0].index(column)] = value
    write_rows(d, table, rows)
    return row + 1


def first_row(d: Path, table: str, **filled) -> int:
    """The first data row whose named columns hold these values ('*': any non-empty value)."""
    rows = read_rows(d, table)
    for i, r in enumerate(rows[1:], start=1):
        cells = dict(zip(rows[0], r, strict=True))
        if all((cells[k].strip() != "") if v == "*" else cells[k] == v for k, v in filled.items()):
            return i
    raise AssertionError(f"no row of {table} with {filled}")


def problems_of(d: Path) -> list[data.Problem]:
    return data.validate(d)


def only(problems, **where) -> data.Problem:
    hits = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert len(hits) == 1, (where, [str(p) for p in problems])
    return hits[0]


# --- counts from a percentage ------------------------------------------------------------------


def old_counts_from_percent(percent: float, denominator: int) -> list[int]:
    """The rule as first written: every count tried, one at a time."""
    return [k for k in range(denominator + 1) if query.percent_matches(k, denominator, percent)]


def percents_for(n: int, rng: random.Random) -> set[float]:
    """Printed percentages over n: exact ones rounded to 0-4 decimals and a little off, the ends,
    halves, and values no count gives."""
    found = {0.0, 100.0, 50.0, 0.5, 99.5, 99.95, 33.3, 33.33, 66.7, 12.5, 0.05, 27.6, 150.0, -1.0, 1e-7}
    for _ in range(12):
        k, places = rng.randint(0, n), rng.randint(0, 4)
        found.add(round(100 * k / n + rng.choice([0, 0.04, -0.06, 0.5, 1.0, 0.05, -0.05, 0.005]), places))
    return found


def test_counts_from_a_percentage_are_those_the_old_rule_found():
    rng = random.Random(24)
    for n in range(1, 301):
        for pct in percents_for(n, rng):
            assert list(query.counts_from_percent(pct, n)) == old_counts_from_percent(pct, n), (pct, n)


def test_counts_from_a_percentage_agree_with_the_whole_array_rule():
    rng = random.Random(7)
    for n in (1, 2, 3, 7, 15, 40, 84, 122, 129, 250, 333):
        ks = np.arange(n + 1, dtype="float64")
        for pct in percents_for(n, rng):
            hit = query.percents_match(ks, np.full(n + 1, float(n)), np.full(n + 1, pct))
            assert list(query.counts_from_percent(pct, n)) == np.flatnonzero(hit).tolist(), (pct, n)


@pytest.mark.parametrize("n", [122, 10**7, 10**12, 2**53 + 1, INT64, 9_200_000_000_000_000_000])
def test_counts_from_a_percentage_at_any_denominator(n):
    """The run of counts ends where percent_matches stops agreeing, at denominators the old rule
    would have taken from seconds (122) to centuries (9.2e18) to search."""
    matches = query.percent_matches
    for pct in (53.6, 10.0, 0.0, 100.0, 33.33, 12.345678):
        found = query.counts_from_percent(pct, n)
        near = round(pct * n / 100)
        if not found:  # no count prints as pct: none of those nearest the exact one does
            assert not any(matches(k, n, pct) for k in range(max(0, near - 3), min(n, near + 3) + 1))
            continue
        lo, hi = found[0], found[-1]
        assert matches(lo, n, pct) and matches(hi, n, pct) and matches((lo + hi) // 2, n, pct)
        assert lo == 0 or not matches(lo - 1, n, pct)
        assert hi == n or not matches(hi + 1, n, pct)


def test_a_count_from_a_percentage_over_a_large_denominator_is_derived_at_once(package):
    rows = read_rows(package, "outcomes")
    col = {name: i for i, name in enumerate(rows[0])}
    row = next(i for i, r in enumerate(rows[1:], start=1) if r[col["count"]] == "" and r[col["percent_reported"]]
               and r[col["measure"]] not in query.COMPOSITES)
    set_cell(package, "outcomes", "denominator", "9000000", row)
    set_cell(package, "outcomes", "percent_reported", "12.345678", row)
    out = query.derive_counts(data.load(package).outcomes).iloc[row - 1]
    assert (out["count_used"], out["count_basis"]) == (1_111_111, "from percentage")  # 12.3456777...%


@pytest.mark.parametrize("table,column", [("outcomes", "denominator"), ("outcomes", "count"),
                                          ("adverse_events", "n"), ("cohorts", "n"), ("trials", "planned_n")])
def test_a_count_of_patients_beyond_any_trial_is_a_located_problem(package, table, column):
    line = set_cell(package, table, column, "10000001")
    found = only(problems_of(package), file=f"{table}.csv", row=line, column=column,
                 reason="10000001 is above the maximum 10000000")
    assert found.reason == "10000001 is above the maximum 10000000"


def test_a_denominator_at_the_bound_is_read(package):
    row = first_row(package, "outcomes", count="", denominator="*")
    set_cell(package, "outcomes", "denominator", "10000000", row)
    assert problems_of(package) == []
    assert int(data.load(package).outcomes["denominator"].iloc[row - 1]) == 10_000_000
