"""The dataset checker under hostile cells, rows and files: every number read exactly or refused
with its file, line and column; white space read one way in every file; interval order, hierarchy
loops, named pipes and oversized files reported before anything is parsed; counts worked out of a
percentage in a few steps at any denominator. Ends with a seeded fuzz of user datasets whose
cells are drawn from these classes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xpo1cli import checks, counts, csvread, data, datapackage
from xpo1cli.cli import app

from .conftest import DATA, sh

INT64 = 2**63 - 1


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    """Every check here reads the files (nothing kept between runs)."""
    monkeypatch.setenv("XPO1_CACHE", "off")
    monkeypatch.delenv(datapackage.MAX_FILE_ENV, raising=False)


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


def problems_of(d: Path) -> list[datapackage.Problem]:
    return data.validate(d)


def only(problems, **where) -> datapackage.Problem:
    hits = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert len(hits) == 1, (where, [str(p) for p in problems])
    return hits[0]


# --- counts from a percentage ------------------------------------------------------------------


def old_counts_from_percent(percent: float, denominator: int) -> list[int]:
    """The rule as first written: every count tried, one at a time."""
    return [k for k in range(denominator + 1) if counts.percent_matches(k, denominator, percent)]


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
            assert list(counts.counts_from_percent(pct, n)) == old_counts_from_percent(pct, n), (pct, n)


def test_counts_from_a_percentage_agree_with_the_whole_array_rule():
    rng = random.Random(7)
    for n in (1, 2, 3, 7, 15, 40, 84, 122, 129, 250, 333):
        ks = np.arange(n + 1, dtype="float64")
        for pct in percents_for(n, rng):
            hit = counts.percents_match(ks, np.full(n + 1, float(n)), np.full(n + 1, pct))
            assert list(counts.counts_from_percent(pct, n)) == np.flatnonzero(hit).tolist(), (pct, n)


@pytest.mark.parametrize("n", [122, 10**7, 10**12, 2**53 + 1, INT64, 9_200_000_000_000_000_000])
def test_counts_from_a_percentage_at_any_denominator(n):
    """The run of counts ends where percent_matches stops agreeing, at denominators the old rule
    would have taken from seconds (122) to centuries (9.2e18) to search."""
    matches = counts.percent_matches
    for pct in (53.6, 10.0, 0.0, 100.0, 33.33, 12.345678):
        found = counts.counts_from_percent(pct, n)
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
               and r[col["measure"]] not in counts.COMPOSITES)
    set_cell(package, "outcomes", "denominator", "9000000", row)
    set_cell(package, "outcomes", "percent_reported", "12.345678", row)
    out = counts.derive_counts(data.load(package).outcomes).iloc[row - 1]
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


# --- whole numbers: exact, ASCII, in range -------------------------------------------------------


@pytest.mark.parametrize("value", [str(2**53 + 1), str(INT64), str(INT64 - 1), "+0009007199254740993"])
def test_a_whole_number_is_read_exactly_in_a_column_with_empty_cells(package, value):
    """studies.ref has empty cells: the column was once read through a float (2**53 + 1 became
    2**53 and validate said valid)."""
    assert "" in [r[1] for r in read_rows(package, "studies")[1:]]
    line = set_cell(package, "studies", "ref", value, row=3)
    assert problems_of(package) == []
    got = data.load(package).studies["ref"]
    assert str(got.dtype) == "Int64" and int(got.iloc[line - 2]) == int(value)


@pytest.mark.parametrize("value", [str(-(2**53) - 3), str(-INT64)])
def test_a_negative_whole_number_is_said_as_written(package, value):
    line = set_cell(package, "studies", "ref", value, row=3)
    found = only(problems_of(package), file="studies.csv", row=line, column="ref")
    assert found.reason == f"{value} is below the minimum 1"


@pytest.mark.parametrize("value", [str(INT64 + 1), str(-INT64 - 2), "9" * 19 + "0", "1" + "0" * 4400, "-" + "9" * 30])
def test_a_whole_number_beyond_64_bits_is_a_located_problem(package, value):
    line = set_cell(package, "studies", "ref", value, row=3)
    found = only(problems_of(package), file="studies.csv", row=line, column="ref")
    assert "is too large for an integer" in found.reason and len(found.reason) < 200


@pytest.mark.parametrize("value", ["\u0663\u0662", "\uff13\uff12", "\u06f3\u06f2", "\u0969", "3\u0662", "\U0001d7d1"])
def test_digits_other_than_ascii_are_a_located_problem(package, value):
    """Arabic-Indic, full-width, Persian, Devanagari and mathematical digits are not 0-9: once
    they passed and the cell silently became empty."""
    line = set_cell(package, "studies", "ref", value, row=3)
    found = only(problems_of(package), file="studies.csv", row=line, column="ref")
    assert found.reason == f"'{value}' is not an integer (only the digits 0-9 are read as numbers)"
    row = first_row(package, "outcomes", percent_reported="*")
    line = set_cell(package, "outcomes", "percent_reported", "\u0664\u0665\u066b\u0665", row)
    found = only(problems_of(package), file="outcomes.csv", row=line, column="percent_reported")
    assert found.reason.endswith("is not a number (only the digits 0-9 are read as numbers)")


def test_show_by_a_ref_written_in_other_digits_is_refused_not_emptied(package):
    line = set_cell(package, "studies", "ref", "\u0661\u0663", row=first_row(package, "studies", ref="13"))
    r = CliRunner().invoke(app, ["--data", str(package), "show", "13"])
    assert r.exit_code == 1 and f"studies.csv:{line} [ref]" in r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


# --- white space: one rule in every file ----------------------------------------------------------

WHITE = [chr(c) for c in range(sys.maxunicode + 1) if not chr(c).strip()]


def test_the_white_space_a_cell_loses_is_all_that_python_strips():
    listed = {c.decode() for c in csvread._ODD_ASCII_SPACE} | set(csvread._WIDE_SPACE) | {" ", "\n", "\r"}
    assert listed == set(WHITE)


def padded_elsewhere(d: Path) -> None:
    """Pad one unrelated cell of the same file with plain spaces (the old sign to strip)."""
    rows = read_rows(d, "studies")
    rows[5][rows[0].index("population")] = "  " + rows[5][rows[0].index("population")] + "  "
    write_rows(d, "studies", rows)


@pytest.mark.parametrize("space", [c for c in WHITE if c not in "\n\r"])
@pytest.mark.parametrize("elsewhere", ["", " ", "\t"])
def test_a_cell_loses_any_white_space_at_its_ends_whether_or_not_the_file_is_padded(space, elsewhere):
    """A leading no-break space was once stripped only when another cell of the file was padded."""
    text = f"ref,disease,population\n{space}13{space},{space}MM,{elsewhere}all{elsewhere}\n"
    got = csvread._parse(text, "t.csv", [])
    assert (got["ref"][0], got["disease"][0], got["population"][0]) == ("13", "MM", "all")


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\x1c"])
@pytest.mark.parametrize("elsewhere", [False, True])
def test_a_padded_value_loads_as_the_value(tmp_path, space, elsewhere):
    d = tmp_path / "pkg"
    shutil.copytree(DATA, d)
    row = first_row(d, "studies", ref="13")
    set_cell(d, "studies", "ref", f"{space}13{space}", row)
    set_cell(d, "studies", "disease", f"{space}MM", row)
    if elsewhere:
        padded_elsewhere(d)
    assert problems_of(d) == []
    studies = data.load(d).studies
    assert int(studies["ref"].iloc[row - 1]) == 13 and studies["disease"].iloc[row - 1] == "MM"


def test_white_space_inside_a_cell_is_kept(package):
    row = first_row(package, "studies", ref="13")
    set_cell(package, "studies", "population", "\u00a0 a\u00a0b\tc \u3000", row)
    padded = _parse_cells(package / "studies.csv", "population")
    assert padded[row - 1] == "a\u00a0b\tc"
    set_cell(package, "studies", "ref", "1\u00a03", row)
    assert "'1\u00a03' is not an integer" in only(problems_of(package), column="ref").reason


def _parse_cells(path: Path, column: str) -> list:
    return list(csvread._parse(path.read_text(encoding="utf-8"), path.name, [])[column])


@pytest.mark.parametrize("text", [
    'a,b\n"\n x\t",2\n', 'a,b\n1,"y\r\n"\n', '"\nz",b\n1,2\n', 'a,b\n1," q "\n', 'a,b\n1,"r\n"',
    "a,b\n1,s\u2028\n", "a,b\n\u00a01,2\n", "a,b\n1,2\u00a0", "a,b\n1\x1f,2\n", "a,b\r\n1,t \r\n"])
def test_cells_read_as_python_strips_them_in_any_layout(text):
    """Whatever the layout (a quoted cell's line break, a record separator, a padded line end),
    each cell is the csv module's cell stripped."""
    got = csvread._parse(text, "t.csv", [])
    want = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    header = [h.strip() for h in want[0]]
    assert [list(map(str, got[h])) for h in header] == [[r[i] for r in want[1:]] for i in range(len(header))]


# --- rows narrower or wider than the header ----------------------------------------------------------


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("keep", [1, 5, 10])
def test_a_row_with_fewer_cells_than_the_header_is_a_located_problem(package, quoted, keep):
    rows = read_rows(package, "cohorts")
    rows[3] = rows[3][:keep]
    if quoted:
        rows[1][rows[0].index("label")] = "all, \"quoted\"\npatients"
    write_rows(package, "cohorts", rows)
    line = 4 + (1 if quoted else 0)  # the quoted cell spans two lines above it
    found = only(problems_of(package), file="cohorts.csv", row=line)
    assert found.column is None and found.reason == f"{keep} cells where the header has {len(rows[0])}"


def test_a_row_with_more_cells_than_the_header_is_a_located_problem(package):
    rows = read_rows(package, "cohorts")
    rows[3] = [*rows[3], "extra"]
    write_rows(package, "cohorts", rows)
    found = only(problems_of(package), file="cohorts.csv")
    assert found.row == 4 and found.reason == f"{len(rows[0]) + 1} cells where the header has {len(rows[0])}"


# --- intervals and hierarchies ---------------------------------------------------------------------


def test_an_inverted_confidence_interval_is_a_located_problem(package):
    row = first_row(package, "comparisons", ci_low="*", ci_high="*")
    line = set_cell(package, "comparisons", "ci_low", "0.99", row)
    found = only(problems_of(package), file="comparisons.csv", row=line, column="ci_low")
    assert "has its lower limit above its upper one" in found.reason


@pytest.mark.parametrize("table,estimate,low,high,value", [
    ("comparisons", "estimate", "ci_low", "ci_high", "0.2"),
    ("outcomes", "percent_reported", "ci_low", "ci_high", "99"),
    ("syntheses", "value", "low", "high", "99"),
    ("comparator_results", "estimate", "ci_low", "ci_high", "40")])
def test_an_estimate_outside_its_interval_is_a_located_problem(package, table, estimate, low, high, value):
    row = first_row(package, table, **{estimate: "*", low: "*", high: "*"})
    line = set_cell(package, table, estimate, value, row)
    found = only(problems_of(package), file=f"{table}.csv", row=line, column=estimate)
    assert found.reason.startswith(f"{value} lies outside its ")


def test_an_estimate_beyond_its_one_limit_is_a_located_problem(package):
    row = first_row(package, "outcomes", median_months="*", ci_low="*", ci_high="")
    line = set_cell(package, "outcomes", "median_months", "0.5", row)
    found = only(problems_of(package), file="outcomes.csv", row=line, column="median_months")
    assert re.fullmatch(r"0\.5 lies outside its interval [0-9.]+-", found.reason)


def test_a_disease_that_is_its_own_ancestor_is_a_located_problem(package):
    rows = read_rows(package, "diseases")
    at = {r[0]: i for i, r in enumerate(rows)}
    parent = rows[0].index("parent")
    child = next(r[0] for r in rows[1:] if r[parent])  # a disease with a parent: make the parent its child
    top = rows[at[child]][parent]
    rows[at[top]][parent] = child
    write_rows(package, "diseases", rows)
    found = [p for p in problems_of(package) if "own ancestor" in p.reason]
    assert {(p.file, p.row, p.column) for p in found} == {("diseases.csv", at[child] + 1, "parent"),
                                                            ("diseases.csv", at[top] + 1, "parent")}
    assert f"disease '{top}' is its own ancestor: {top} -> {child} -> {top}" in [p.reason for p in found]


def test_a_cohort_that_is_its_own_parent_is_a_located_problem(package):
    row = first_row(package, "cohorts", parent="*")
    rows = read_rows(package, "cohorts")
    cohort = rows[row][rows[0].index("cohort")]
    line = set_cell(package, "cohorts", "parent", cohort, row)
    found = only([p for p in problems_of(package) if "own ancestor" in p.reason])
    assert (found.file, found.row, found.column) == ("cohorts.csv", line, "parent")
    assert found.reason == f"cohort '{cohort}' is its own ancestor: {cohort} -> {cohort}"


def test_loops_are_found_among_many_rows():
    """Pointer doubling over whole arrays: rows on a loop, not those leading into one."""
    keys = np.arange(1000) + 7
    parents = np.append(np.arange(1, 1000) + 7, 500 + 7)  # a tail of 500 rows into a loop of 500
    found = checks._cycles(keys, parents)
    assert [row for row, _ in found] == list(range(500, 1000))
    assert found[0][1] == [*range(500, 1000), 500]
    assert checks._cycles(keys, np.full(1000, -1)) == [] and checks._cycles(keys[:0], keys[:0]) == []


# --- files that are not regular files, and sizes ------------------------------------------------------

fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@fifo
def test_a_named_pipe_in_place_of_the_descriptor_is_refused_unread(package):
    (package / "datapackage.json").unlink()
    os.mkfifo(package / "datapackage.json")
    assert [str(p) for p in problems_of(package)] == [
        "datapackage.json: not a regular file (a named pipe); the descriptor is not read"]


@fifo
@pytest.mark.parametrize("table", ["outcomes", "comparator_results"])
def test_a_named_pipe_in_place_of_a_table_is_refused_unread(package, table):
    (package / f"{table}.csv").unlink()
    os.mkfifo(package / f"{table}.csv")
    found = only(problems_of(package), file=f"{table}.csv")
    assert found.reason == "not a regular file (a named pipe); the table is not read"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_in_place_of_a_table_is_refused_unread(package):
    (package / "outcomes.csv").unlink()
    (package / "outcomes.csv").symlink_to("/dev/zero")
    found = only(problems_of(package), file="outcomes.csv")
    assert found.reason == "not a regular file (a device or a socket); the table is not read"


def test_a_file_over_the_size_limit_stops_the_check_before_any_table_is_parsed(package, monkeypatch):
    parsed = []
    monkeypatch.setattr(checks, "_parse", lambda *a: parsed.append(a[1]))
    monkeypatch.setenv(datapackage.MAX_FILE_ENV, "0.01")  # 10 KiB: outcomes and studies are larger
    big = sorted(p.name for p in package.glob("*.csv") if p.stat().st_size > 0.01 * 1024 * 1024)
    found = problems_of(package)
    assert parsed == []
    assert sorted(p.file for p in found) == big
    assert all(p.row is None and "over the limit of 10485 bytes" in p.reason
               and f"raise {datapackage.MAX_FILE_ENV}" in p.reason for p in found)


def test_the_size_limit_is_raised_for_bigger_data(package, monkeypatch):
    monkeypatch.setenv(datapackage.MAX_FILE_ENV, "0.01")
    assert problems_of(package)
    data._CACHE.clear()
    monkeypatch.setenv(datapackage.MAX_FILE_ENV, "1")
    assert problems_of(package) == []


@pytest.mark.parametrize("value", ["0", "-5", "lots", "nan", "inf", "1e30"])
def test_a_size_limit_that_is_no_size_is_said(package, monkeypatch, value):
    monkeypatch.setenv(datapackage.MAX_FILE_ENV, value)
    assert [(p.file, p.row, p.column) for p in problems_of(package)] == [(datapackage.MAX_FILE_ENV, None, None)]


def test_a_file_that_grows_past_the_limit_after_its_check_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\n" * 100)
    assert datapackage.read_regular(path, 1000) == b"a\n" * 100
    with pytest.raises(ValueError, match="too large"):
        datapackage.read_regular(path, 150)


# --- a seeded fuzz of user datasets --------------------------------------------------------------------
# A copy of the bundled data with a few cells (or a row's shape, an interval's order, a parent)
# changed to values drawn from the classes above. Whatever is drawn: a dataset that validates
# loads every changed cell as the value its text writes; one that does not is refused with
# every problem located to its file, line and column (a row's width: file and line); nothing
# ever raises or prints an internal error. XPO1_FUZZ_CASES=1000 runs more cases than the 160 here.

CELLS = {
    "integer": ["0", "7", "+12", "007", "-1", str(2**53 + 1), str(INT64), str(INT64 + 1), "9" * 25, "1" + "0" * 4400,
                "\u0661\u0663", "\uff13\uff12", "\u00a042", "42\u3000", "\t5 ", "1.0", "1e3", "", " ", "\u200b5",
                "10000001", "10000000", "٣"],
    "number": ["0", "12.5", "1e-3", "-0.0", "99.95", "100.0001", "nan", "inf", "-Infinity", "1e309", "1e-400",
               "\u0661\u0662\u066b\u0665", "\u00a012.5", "12.5\u2009", "", "-3", "1_000", "0x10", "5.", ".5", "١٢"],
    "boolean": ["true", "FALSE", " yes\u00a0", "0", "1", "maybe", "", "\u00a0no"],
    "string": ["", " ", "\u00a0MM\u00a0", "MM", "x", "\u0663\u0662", "a;b", "\u202e", 'say "q"', "two\nlines",
               "=1+1", "\u3000all", "x" * 300],
}
PADS = [" ", "\t", "\u00a0", "\u2009", "\u3000", "\x1f", "\u2028", "\x0b"]  # white space a cell may carry
FUZZ_CASES = int(os.environ.get("XPO1_FUZZ_CASES", "160"))
WIDTH = re.compile(r"\d+ cells where the header has \d+|fewer cells than the header has")


def schema_types() -> dict[str, dict[str, str]]:
    desc = datapackage._bundled_descriptor()
    return {r["name"]: {f["name"]: f.get("type", "string") for f in r["schema"]["fields"]} for r in desc["resources"]}


def expected(kind: str, text: str):
    """The value a valid cell's text writes, read without any float detour."""
    s = text.strip()
    if s == "":
        return None
    if kind == "integer":
        return int(s)
    if kind == "number":
        return float(s)
    if kind == "boolean":
        return csvread._BOOL[s.lower()]
    return s


def loaded(frame, row: int, column: str):
    value = frame[column].iloc[row]
    if value is None or value is pd_na() or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def pd_na():
    import pandas as pd

    return pd.NA


def mutate(d: Path, rng: random.Random, types: dict) -> list[tuple[str, int, str, str]]:
    """Change one to three things in the package at d; the cells set, as (table, data row,
    column, text)."""
    cells = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        table = rng.choice(["outcomes", "studies", "cohorts", "comparisons", "adverse_events", "syntheses",
                            "trials", "diseases", "comparator_results", "trial_arms"] if kind < 0.85
                           else ["outcomes", "cohorts", "studies"])
        rows = read_rows(d, table)
        row = rng.randrange(1, len(rows))
        if kind < 0.7:  # a cell: a value of its column's type, or its own value padded
            column = rng.choice(rows[0])
            at = rows[0].index(column)
            if rng.random() < 0.5:
                text = rng.choice(CELLS[types[table][column]])
            else:
                text = "".join(rng.choices(PADS, k=rng.randint(0, 2))) + rows[row][at] + \
                    "".join(rng.choices(PADS, k=rng.randint(0, 2)))
            rows[row][at] = text
            cells = [c for c in cells if c[:3] != (table, row, column)] + [(table, row, column, text)]
        elif kind < 0.75 and table in ("outcomes", "comparisons", "syntheses", "comparator_results"):
            low, high = ("low", "high") if table == "syntheses" else ("ci_low", "ci_high")  # limits swapped
            lo_at, hi_at = rows[0].index(low), rows[0].index(high)
            rows[row][lo_at], rows[row][hi_at] = rows[row][hi_at], rows[row][lo_at]
            cells = [c for c in cells if c[:2] != (table, row)]
        elif kind < 0.8 and table == "diseases":  # a parent that loops back
            rows[row][rows[0].index("parent")] = rows[rng.randrange(1, len(rows))][0]
            cells = [c for c in cells if c[:2] != (table, row)]
        elif kind < 0.85 and table == "outcomes":  # a percentage over a huge denominator, no count
            col = {name: i for i, name in enumerate(rows[0])}
            rows[row][col["count"]] = ""
            rows[row][col["denominator"]] = rng.choice(["9999999", "10000001", str(INT64), "122"])
            rows[row][col["percent_reported"]] = rng.choice(["53.6", "0.1", "33.333333", "100"])
            cells = [c for c in cells if c[:2] != (table, row)]
        else:  # a row narrower or wider than the header
            rows[row] = rows[row][:rng.randrange(1, len(rows[0]))] if rng.random() < 0.7 else [*rows[row], "extra"]
            cells = [c for c in cells if c[:2] != (table, row)]
        write_rows(d, table, rows)
    return cells


def fuzz(tmp_path: Path, seed: int, cases: int) -> tuple[int, int]:
    rng = random.Random(seed)
    types = schema_types()
    valid = invalid = 0
    for case in range(cases):
        d = tmp_path / f"case{case}"
        shutil.copytree(DATA, d)
        cells = mutate(d, rng, types)
        try:
            problems = data.validate(d)
        except Exception as exc:  # noqa: BLE001 - any escape is the failure this fuzz looks for
            raise AssertionError(f"case {case}: {type(exc).__name__}: {exc}") from exc
        if problems:
            invalid += 1
            for p in problems:
                assert p.file and p.row is not None, (case, str(p))
                assert p.column is not None or WIDTH.fullmatch(p.reason), (case, str(p))
                assert "internal error" not in p.reason, (case, str(p))
        else:
            valid += 1
            ds = data.load(d)
            for table, row, column, text in cells:
                got, want = loaded(ds.tables[table], row - 1, column), expected(types[table][column], text)
                assert got == want and type(got) is type(want), (case, table, row, column, text, got)
            counts.derive_counts(ds.outcomes)  # every count a percentage allows, at any denominator
        if case % 25 == 0:  # a few commands on it, in-process
            for args in (["list", "-f", "csv"], ["response", "-f", "json"], ["audit", "-f", "csv"]):
                r = CliRunner().invoke(app, ["--data", str(d), *args])
                assert r.exit_code in (0, 1) and (r.exit_code == 0) == (not problems), (case, args, r.stderr[-500:])
                assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (case, args, r.stderr[-800:])
        data._CACHE.pop(d.resolve(), None)
        shutil.rmtree(d)
    return valid, invalid


@pytest.mark.parametrize("seed", [24, 2026, 53, 1717])  # four parts, which pytest-xdist runs side by side
def test_fuzz_user_datasets_with_hostile_cells(tmp_path, seed):
    cases = FUZZ_CASES // 4
    valid, invalid = fuzz(tmp_path, seed=seed, cases=cases)
    assert valid >= cases // 10 and invalid >= cases // 10, (valid, invalid)  # both sides are reached


def test_hostile_datasets_through_the_installed_program(tmp_path):
    """A handful of real runs: a valid dataset of exact huge numbers and padded cells, and an
    invalid one of foreign digits, a short row, an inverted interval and a loop."""
    good = tmp_path / "good"
    shutil.copytree(DATA, good)
    row = first_row(good, "studies", ref="13")
    set_cell(good, "studies", "ref", "\u00a0" + str(2**53 + 1), row)
    set_cell(good, "studies", "disease", "MM\u3000", row)
    study = read_rows(good, "studies")[row][0]
    listed = json.loads(sh("--data", str(good), "list", "-f", "json", cwd=tmp_path).stdout)
    assert [s["ref"] for s in listed if s["study"] == study] == [2**53 + 1]  # exact, not 2**53
    shown = sh("--data", str(good), "show", study, "-f", "json", cwd=tmp_path)
    assert str(2**53 + 1) in shown.stdout and shown.stderr == ""
    assert sh("--data", str(good), "validate", cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad"
    shutil.copytree(DATA, bad)
    set_cell(bad, "studies", "ref", "\u0661\u0663", first_row(bad, "studies", ref="13"))
    rows = read_rows(bad, "cohorts")
    rows[3] = rows[3][:4]
    write_rows(bad, "cohorts", rows)
    set_cell(bad, "comparisons", "ci_low", "0.99", first_row(bad, "comparisons", ci_low="*", ci_high="*"))
    set_cell(bad, "diseases", "parent", "MM", first_row(bad, "diseases", disease="MM"))
    for args, code in ((["validate", "-f", "csv"], 1), (["list"], 1), (["show", "13"], 1)):
        p = sh("--data", str(bad), *args, cwd=tmp_path, check_code=code)
        assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    found = list(csv.DictReader(io.StringIO(sh("--data", str(bad), "validate", "-f", "csv", cwd=tmp_path,
                                               check_code=1).stdout)))
    assert {(f["file"], f["column"]) for f in found} >= {("studies.csv", "ref"), ("cohorts.csv", ""),
                                                          ("comparisons.csv", "ci_low"), ("diseases.csv", "parent")}
