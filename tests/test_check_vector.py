"""Checking a dataset over whole columns gives, problem for problem and cell for cell, what the
checks read one cell or one row at a time give.

`checks._check_table` works out each rule that reads a cell's text (a type, a pattern) once for
each distinct text of a column and spreads the answer to the rows holding it; `csvread._parse`
finds blank rows and missing cells over whole columns; `checks._check_content` splits each
distinct list of names once; `checks.check` checks a key once when the package's schema and the
program's both name it. The reference below is the check as first written (kept here, not in
the package): pandas' text columns read cell by cell with their string methods, and loops over
every row. On the bundled data, on a synthetic dataset with cells altered here and there, and on
generated tables of bad cells, both give the same typed frames (cells and dtypes), the same
problems in the same order, or the same error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xpo1cli import checks, csvread, datapackage
from xpo1cli.datapackage import INT64, LINE, Problem
from xpo1cli.values import row_tuples, split_list

from .conftest import DATA, synthetic

# an integer over 2**63 read as a float cannot be held as a whole number: both checks raise
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

# --- the reference: cells read one at a time, rows looped over ------------------------------------


def ref_parse(text: str, fname: str, problems: list[Problem]):
    """The table as a frame of stripped strings (pandas' text dtype) with a LINE column."""
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            problems.append(Problem(fname, 1, name, "duplicate column"))
            return None
        if name == LINE:
            problems.append(Problem(fname, 1, name, "unknown column"))
            return None
        seen.add(name)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=True,
                            na_values=[], skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        return csvread._locate(text, fname, problems, str(exc))
    if not isinstance(frame.index, pd.RangeIndex):
        return csvread._locate(text, fname, problems, "rows have more cells than the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    # each record's first line and its cells, as the csv module reads them
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, widths, previous = [], [], 0
    for row in reader:
        starts.append(previous + 1)
        widths.append(len(row))
        previous = reader.line_num
    if len(starts) - 1 >= len(frame):
        frame[LINE] = pd.Series(starts[1:len(frame) + 1], dtype="int64")
        frame["width"] = pd.Series(widths[1:len(frame) + 1], dtype="int64")
    else:  # records the csv module and pandas split differently
        frame[LINE] = frame.index + 2
        frame["width"] = -1
    for col in frame.columns.drop([LINE, "width"]):  # every cell without the white space at its ends
        frame[col] = frame[col].str.strip()
    cells = frame.drop(columns=[LINE, "width"])
    blank = (cells.isna() | (cells == "")).all(axis=1)
    frame = frame[~blank]
    known = frame["width"] >= 0
    short = frame.drop(columns=[LINE, "width"]).isna().any(axis=1) | (known & (frame["width"] < len(cells.columns)))
    for line, width in zip(frame.loc[short, LINE], frame.loc[short, "width"], strict=True):
        problems.append(Problem(fname, int(line), None, f"{width} cells where the header has {len(cells.columns)}"
                                if width >= 0 else "fewer cells than the header has"))
    frame = frame.drop(columns="width")
    frame = frame[~short]
    return frame.reset_index(drop=True)


def ref_check_table(name: str, spec: dict, root: Path, problems: list[Problem], contract: dict | None = None):
    """One table as a typed frame with a LINE column; every rule applied to every cell."""
    own_rules = {f["name"]: f.get("constraints", {}) for f in (contract or {}).get("schema", {}).get("fields", [])}
    fname = spec.get("path", f"{name}.csv")
    try:
        text = csvread._read_text(root / fname)
    except (ValueError, OSError) as exc:
        problems.append(Problem(fname, None, None, str(exc)))
        return None
    if not text.strip():
        problems.append(Problem(fname, None, None, "empty file (no header)"))
        return None
    ragged: list[Problem] = []
    raw = ref_parse(text, fname, ragged)
    if raw is None:
        problems += ragged
        return None
    fields = spec["schema"]["fields"]
    names = [f["name"] for f in fields]
    missing = [n for n in names if n not in raw.columns]
    for n in missing:
        problems.append(Problem(fname, 1, n, "missing column"))
    for h in raw.columns:
        if h != LINE and h not in names:
            problems.append(Problem(fname, 1, h, "unknown column"))
    problems += ragged  # after what is wrong with the header
    if missing:
        return None
    lines = raw[LINE]
    typed = pd.DataFrame({LINE: lines})

    def report(mask, col, reason):
        if mask.any():
            for line, value in zip(lines[mask], raw.loc[mask, col], strict=True):
                problems.append(Problem(fname, int(line), col, reason(value)))

    for f in fields:
        col, kind = f["name"], f.get("type", "string")
        rules = [f.get("constraints", {})]
        if own_rules.get(col) and own_rules[col] != rules[0]:
            rules.append(own_rules[col])
        text_col = raw[col]
        empty = text_col == ""
        if any(c.get("required") for c in rules):
            report(empty, col, lambda v: "required value is empty")
        full = ~empty
        if kind == "integer":
            ok = text_col.str.fullmatch(r"[+-]?[0-9]+")  # ASCII digits only
            huge = ok & text_col.str.len().gt(18)
            if huge.any():
                huge[huge] = [len(v) > 5000 or abs(int(v)) > INT64 for v in text_col[huge]]
                report(full & huge, col, lambda v: f"'{datapackage._clip(v)}' is too large for an integer "
                       "(more than 9223372036854775807)")
                ok &= ~huge
            report(full & ~ok & ~huge, col,
                   lambda v: f"'{datapackage._clip(v)}' is not an integer{checks._digits_hint(v)}")
            values = pd.Series(pd.array([int(v) if k else None for v, k in zip(text_col, ok, strict=True)],
                                        dtype="Int64"), index=text_col.index)  # whole numbers read exactly
        elif kind == "number":
            values = pd.to_numeric(text_col.where(full), errors="coerce").astype("float64")
            bad = full & (values.isna() | values.abs().eq(float("inf")))
            report(bad, col, lambda v: f"'{datapackage._clip(v)}' is not a number{checks._digits_hint(v)}")
            values = values.where(~bad)
        elif kind == "boolean":
            values = text_col.str.lower().map(csvread._BOOL)
            report(full & values.isna(), col, lambda v: f"'{datapackage._clip(v)}' is not a boolean")
            values = values.astype("boolean")
        else:
            values = text_col.astype(object)
            values[~full] = None
        present = values.notna()
        for cons in rules:
            if "enum" in cons:
                allowed = ", ".join(map(str, cons["enum"]))
                if len(allowed) > 120:
                    allowed = allowed[:117] + "..."
                report(present & ~values.isin(cons["enum"]), col,
                       lambda v, a=allowed: f"'{datapackage._clip(v)}' is not one of: {a}")
            if "minimum" in cons:
                report(present & (values < cons["minimum"]).fillna(False).astype(bool), col,
                       lambda v, m=cons["minimum"]: f"{v} is below the minimum {m}")
            if "maximum" in cons:
                report(present & (values > cons["maximum"]).fillna(False).astype(bool), col,
                       lambda v, m=cons["maximum"]: f"{v} is above the maximum {m}")
            if "pattern" in cons:
                report(present & ~text_col.str.fullmatch(cons["pattern"]).fillna(False).astype(bool), col,
                       lambda v, p=cons["pattern"]: f"'{datapackage._clip(v)}' does not match the pattern {p}")
        typed[col] = values
    return typed[[LINE, *names]]


def ref_unresolved(frame, fields, target, target_fields):
    def keys(table, columns):
        cells = [table[c].astype(object).where(table[c].notna(), None) for c in columns]
        return pd.Index(cells[0], dtype=object) if len(cells) == 1 else pd.MultiIndex.from_arrays(cells)

    return ~keys(frame, fields).isin(keys(target, target_fields))


def ref_check_keys(frames: dict, descriptor: dict, problems: list[Problem], paths: dict | None = None) -> None:
    """Every primary key of the descriptor checked for duplicates, every foreign key resolved."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    for name, frame in frames.items():
        if name not in specs:
            continue
        spec = specs[name]["schema"]
        fname = (paths or {}).get(name) or specs[name].get("path", f"{name}.csv")
        pk = spec.get("primaryKey")
        if pk:
            pk = datapackage.as_fields(pk)
            keyed = frame[[*pk, LINE]].astype({f: object for f in pk}).fillna("")
            dup = keyed.duplicated(subset=pk, keep="first")
            if dup.any():
                first = keyed[~dup].set_index(pk)[LINE]
                for r in row_tuples(keyed[dup], index=False):
                    key = tuple(getattr(r, f) for f in pk)
                    at = first.loc[key if len(pk) > 1 else key[0]]
                    problems.append(Problem(fname, int(getattr(r, LINE)),
                                            ",".join(pk), f"duplicate key {'/'.join(map(str, key))} "
                                            f"(first at line {int(at)})"))
        for fk in datapackage.foreign_keys(spec):
            fields = datapackage.as_fields(fk["fields"])
            target = fk["reference"]["resource"] or name
            tfields = datapackage.as_fields(fk["reference"]["fields"])
            if target not in frames:
                continue
            src = frame[frame[fields].notna().all(axis=1)]
            if src.empty:
                continue
            dangling = ref_unresolved(src, fields, frames[target], tfields)
            for r in row_tuples(src[dangling], index=False):
                key = "/".join(str(getattr(r, f)) for f in fields)
                problems.append(Problem(fname, int(getattr(r, LINE)), ",".join(fields),
                                        f"'{key}' not found in {target}"))


def ref_check_content(frames: dict, descriptor: dict, problems: list[Problem]) -> None:
    """The checks the Table Schema cannot express, each list of names split row by row."""
    paths = {r["name"]: datapackage.resource_file(r) for r in descriptor["resources"]}
    drugs = set(frames["drugs"]["drug"])
    diseases = set(frames["diseases"]["disease"])
    for table, col, known, what in (("regimens", "partners", drugs, "drugs"),
                                    ("studies", "disease", diseases, "diseases"),
                                    ("trials", "disease", diseases, "diseases")):
        for line, value in zip(frames[table][LINE], frames[table][col], strict=True):
            for item in split_list(value):
                if item not in known:
                    problems.append(Problem(paths[table], int(line), col,
                                            f"'{item}' not found in {what}"))
    coh = frames["cohorts"]
    with_parent = coh[coh["parent"].notna()]
    if len(with_parent):
        missing = ref_unresolved(with_parent, ["study", "parent"], coh, ["study", "cohort"])
        for r in row_tuples(with_parent[missing], index=False):
            problems.append(Problem(paths["cohorts"], int(getattr(r, LINE)), "parent",
                                    f"parent cohort '{r.parent}' not found in study {r.study}"))
    heads = coh[coh["headline"].fillna(False).astype(bool)].groupby("study").size()
    studies = frames["studies"]
    count = studies["study"].map(heads).fillna(0).astype(int)
    for line, n in zip(studies.loc[count != 1, LINE], count[count != 1], strict=True):
        problems.append(Problem(paths["studies"], int(line), "study",
                                f"study needs exactly one headline cohort, has {n}"))
    for table, den in (("outcomes", "denominator"), ("adverse_events", "n")):
        f = frames[table]
        bad = (f["count"] > f[den]).fillna(False).astype(bool)
        for line, k, d in zip(f.loc[bad, LINE], f.loc[bad, "count"], f.loc[bad, den], strict=True):
            problems.append(Problem(paths[table], int(line), "count", f"count {k} is above the {den} {d}"))
    o = frames["outcomes"]
    lo, med, hi = o["range_low"], o["median_months"].fillna(o["median_weeks"]), o["range_high"]
    bad = (lo > hi).fillna(False)
    for line, a, b in zip(o.loc[bad, LINE], lo[bad], hi[bad], strict=True):
        problems.append(Problem(paths["outcomes"], int(line), "range_low",
                                f"range low {a:g} is above range high {b:g}"))
    bad = ((med < lo) | (med > hi)).fillna(False)
    for line, m, a, b in zip(o.loc[bad, LINE], med[bad], lo[bad], hi[bad], strict=True):
        problems.append(Problem(paths["outcomes"], int(line), "median_months",
                                f"median {m:g} lies outside its range {a:g}-{b:g}"))
    for table, estimates, low, high, what in checks.INTERVALS:  # row by row: limits in order, then estimates
        rows = frames[table].to_dict("records")
        limits = [tuple(None if pd.isna(r[c]) else float(r[c]) for c in (low, high)) for r in rows]
        for r, (a, b) in zip(rows, limits, strict=True):
            if a is not None and b is not None and a > b:
                problems.append(Problem(paths[table], int(r[LINE]), low,
                                        f"{what} {a:g}-{b:g} has its lower limit above its upper one"))
        for r, (a, b) in zip(rows, limits, strict=True):
            given = [c for c in estimates if not pd.isna(r[c])]
            if len(given) != 1 or (a is not None and b is not None and a > b):
                continue
            value = float(r[given[0]])
            if (a is not None and value < a) or (b is not None and value > b):
                shown = f"{'' if a is None else f'{a:g}'}-{'' if b is None else f'{b:g}'}"
                problems.append(Problem(paths[table], int(r[LINE]), given[0],
                                        f"{value:g} lies outside its {what} {shown}"))
    for table, key, what in (("diseases", ["disease"], "disease"), ("cohorts", ["study", "cohort"], "cohort")):
        rows = frames[table].to_dict("records")
        first: dict = {}
        for i, r in enumerate(rows):
            first.setdefault(tuple(r[c] for c in key), i)
        for i, r in enumerate(rows):  # follow the parents from each row until they end or repeat
            chain, at, back = [i], i, False
            while not pd.isna(rows[at]["parent"]):
                at = first.get((*(rows[at][c] for c in key[:-1]), rows[at]["parent"]))
                back = at == i
                if at is None or at in chain:
                    break
                chain.append(at)
            if back:
                names = [rows[j][key[-1]] for j in [*chain, i]]
                text = " -> ".join(names[:8]) + (" -> ..." if len(names) > 8 else "")
                problems.append(Problem(paths[table], int(r[LINE]), "parent",
                                        f"{what} '{names[0]}' is its own ancestor: {text}"))


def ref_check(root: Path) -> tuple[dict, dict, list[Problem]]:
    """`checks.check` with the reference parts: the package's keys and the program's each checked."""
    descriptor = datapackage.read_descriptor(root)
    problems: list[Problem] = []
    specs = {r["name"]: r for r in descriptor.get("resources", [])}
    for name in datapackage.TABLES:
        if name not in specs:
            problems.append(Problem("datapackage.json", None, None, f"no resource named {name}"))
    contract = {r["name"]: r for r in datapackage._bundled_descriptor()["resources"]}
    unread = {name: datapackage.file_problem(root / datapackage.resource_file(spec), datapackage.max_file_bytes())
              for name, spec in specs.items()
              if name not in datapackage.OPTIONAL_TABLES or os.path.lexists(root / datapackage.resource_file(spec))}
    if any(reason and "too large" in reason for reason in unread.values()):
        return descriptor, {}, problems + [Problem(datapackage.resource_file(specs[n]), None, None, reason)
                                           for n, reason in unread.items() if reason]
    frames: dict = {}
    for name in datapackage.TABLES:
        if name in specs:
            parsed = ref_check_table(name, specs[name], root, problems, contract.get(name))
            if parsed is not None:
                frames[name] = parsed
    for name in datapackage.OPTIONAL_TABLES:  # a missing optional table reads as an empty one
        if name in specs and (root / datapackage.resource_file(specs[name])).exists():
            parsed = ref_check_table(name, specs[name], root, problems, contract.get(name))
        else:
            parsed = checks.empty_table(contract[name])
        if parsed is not None:
            frames[name] = parsed
    if all(name in frames for name in (*datapackage.TABLES, *datapackage.OPTIONAL_TABLES)):
        paths = {r["name"]: datapackage.resource_file(r) for r in descriptor["resources"]}
        ref_check_keys(frames, descriptor, problems)
        ref_check_keys(frames, {"resources": list(contract.values())}, problems, paths)
        ref_check_content(frames, descriptor, problems)
    return descriptor, frames, list(dict.fromkeys(problems))


# --- comparing the two ---------------------------------------------------------------------------


def outcome(check, *args):
    """What a check gives: (result, None), or (None, the error's type and message)."""
    try:
        return check(*args), None
    except Exception as exc:  # noqa: BLE001 - an error must be the same error
        return None, (type(exc), str(exc))


def same_frames(frames: dict, ref_frames: dict) -> None:
    assert list(frames) == list(ref_frames)
    for name in frames:
        pd.testing.assert_frame_equal(frames[name], ref_frames[name], check_exact=True,
                                      check_index_type=True, check_column_type=True)


def same_check(root: Path) -> list[Problem]:
    """`checks.check` and the reference give the same frames and problems at root; the problems."""
    (new, error), (ref, ref_error) = outcome(checks.check, root), outcome(ref_check, root)
    assert error == ref_error
    if error is not None:
        return []
    assert new[2] == ref[2]
    same_frames(new[1], ref[1])
    return new[2]


def package_copy(folder: Path) -> Path:
    """A copy of the bundled data package in folder, read as a user's dataset."""
    shutil.copytree(DATA, folder)
    return folder


def read_rows(root: Path, table: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((root / f"{table}.csv").read_text(encoding="utf-8"), newline="")))


def write_rows(root: Path, table: str, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (root / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


def set_cells(root: Path, table: str, column: str, cells: dict[int, str]) -> None:
    """Set cells of a column by data row (1 is the first row under the header)."""
    rows = read_rows(root, table)
    at = rows[0].index(column)
    for row, value in cells.items():
        rows[row][at] = value
    write_rows(root, table, rows)


# --- the bundled and a synthetic dataset -----------------------------------------------------------


def test_the_bundled_data_checks_as_the_row_rules_do():
    assert same_check(DATA) == []


def test_a_users_copy_of_the_bundled_data_checks_as_the_row_rules_do(tmp_path):
    assert same_check(package_copy(tmp_path / "pkg")) == []


def test_a_synthetic_dataset_checks_as_the_row_rules_do(tmp_path):
    root = synthetic(tmp_path / "syn", 60, seed=5).root
    assert same_check(root) == []
    set_cells(root, "outcomes", "count", {1: "x", 2: "-3", 3: "007", 4: "١٢", 5: "1.0", 6: "9" * 25})
    set_cells(root, "outcomes", "percent_reported", {3: "150", 4: "abc", 5: "inf", 6: " 7 "})
    set_cells(root, "outcomes", "measure", {7: "orr", 8: "", 9: "ORR"})
    set_cells(root, "outcomes", "cohort", {10: "nowhere", 11: "Bad Name"})
    set_cells(root, "cohorts", "headline", {1: "maybe", 2: "TRUE", 3: ""})
    set_cells(root, "cohorts", "parent", {4: "gone"})
    set_cells(root, "cohorts", "cohort", {5: "Bad Name"})
    set_cells(root, "studies", "disease", {1: "MM;XX", 2: "XX; MM ;YY", 3: "MM;XX", 4: ""})
    set_cells(root, "regimens", "partners", {1: "nothing;dexamethasone", 2: "nothing"})
    rows = read_rows(root, "outcomes")
    write_rows(root, "outcomes", [*rows[:20], rows[12], [""] * len(rows[0]), *rows[20:], rows[30]])
    problems = same_check(root)
    reasons = " | ".join(p.reason for p in problems)
    for found in ("is not an integer", "is too large for an integer", "is not a number", "is above the maximum",
                  "is not one of", "is not a boolean", "not found in diseases", "not found in drugs",
                  "duplicate key", "not found in cohorts", "parent cohort", "required value is empty",
                  "below the minimum", "does not match the pattern"):
        assert found in reasons, found


# --- generated bad cells ----------------------------------------------------------------------------

TEXTS = st.one_of(
    st.sampled_from(["", " ", "0", "-0", "+5", "007", "12", "50", "-1", "3.5", "1.0", "1e3", "1e999", "-inf",
                     "nan", "NaN", "inf", "true", "TRUE", "Yes", "no", "1", "maybe", "ORR", "orr", "CR",
                     "\u00a0ORR", "ORR ", " CR", "١٢", "²", "9223372036854775807", "9223372036854775808",
                     "-9223372036854775808", "123456789012345678", "0000000000000000000042", "9" * 30,
                     "9" * 5001, "a-b", "A", "x.y", "a b", "a,b", 'say "x"', "two\nlines", "cr\rlf"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats().map(repr),
    st.text(alphabet="0123456789+-.eE ", max_size=6),
    st.text(max_size=4))

# a table reaching every rule: each type, each constraint, the program's rules beside the package's
SPEC = {"name": "t", "path": "t.csv", "schema": {"fields": [
    {"name": "i", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "j", "type": "integer", "constraints": {"enum": [1, 2, 3], "maximum": 2}},
    {"name": "x", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
    {"name": "b", "type": "boolean", "constraints": {"required": True}},
    {"name": "s", "type": "string", "constraints": {"pattern": "[a-z0-9][a-z0-9+.-]*"}},
    {"name": "e", "type": "string", "constraints": {"enum": ["ORR", "CR"], "required": True}},
    {"name": "n"}]}}
CONTRACT = {"schema": {"fields": [
    {"name": "x", "type": "number", "constraints": {"maximum": 50}},
    {"name": "s", "type": "string", "constraints": {"required": True, "pattern": "[a-z].*"}},
    {"name": "n", "type": "string", "constraints": {"enum": ["a", "b", ""]}}]}}
HEADER = [f["name"] for f in SPEC["schema"]["fields"]]


@st.composite
def tables(draw) -> str:
    """A CSV text of the table above: generated cells, rows of the header's width or (now and
    then) not, a repeated row, a blank line, cells padded or not."""
    ragged = draw(st.integers(0, 9)) == 0
    width = st.integers(len(HEADER) - 2, len(HEADER) + 1) if ragged else st.just(len(HEADER))
    rows = draw(st.lists(width.flatmap(lambda w: st.lists(TEXTS, min_size=w, max_size=w)), max_size=10))
    if rows and draw(st.booleans()):
        rows.append(rows[0])
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([HEADER, *rows])
    text = out.getvalue()
    if draw(st.integers(0, 4)) == 0:
        text = text.replace("\n", "\n\n", 1)
    if draw(st.integers(0, 4)) == 0:
        text = text.replace(",", " , ")
    return text


def same_table(text: str) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "t.csv").write_text(text, encoding="utf-8")
        new_problems: list[Problem] = []
        ref_problems: list[Problem] = []
        new, error = outcome(checks._check_table, "t", SPEC, Path(folder), new_problems, CONTRACT)
        ref, ref_error = outcome(ref_check_table, "t", SPEC, Path(folder), ref_problems, CONTRACT)
    assert error == ref_error
    assert new_problems == ref_problems
    assert (new is None) == (ref is None)
    if new is not None:
        same_frames({"t": new}, {"t": ref})
    return new_problems


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@example(text="i,j,x,b,s,e,n\n007,+5,1e3,Yes,a-b,ORR,\n١٢,2,-inf,no,A,CR,a\n,,,,,,\n")
@example(text="i,j,x,b,s,e,n\n9223372036854775808,1,5,true,ok,ORR,\n" + "9" * 5001 + ",3,,false,x,CR,\n")
@example(text="i,j,x,b,s,e,n\n1,1,1,true,a,ORR,a\n2,2,2,false,b\n")
@example(text='i,j,x,b,s,e,n\n1,1,1,true,"a,\nb",ORR,a\n2, 2 ,2,false,b,CR,b\n')
@given(text=tables())
def test_generated_tables_check_as_the_row_rules_do(text):
    same_table(text)


# a package of the bundled data with cells changed: list references, keys, parents
EDITS = st.tuples(
    st.sampled_from([("studies", "disease"), ("trials", "disease"), ("regimens", "partners"),
                     ("outcomes", "study"), ("outcomes", "cohort"), ("outcomes", "timepoint"),
                     ("outcomes", "source"), ("cohorts", "study"), ("cohorts", "parent"),
                     ("studies", "study"), ("cohorts", "cohort")]),
    st.integers(1, 40),
    st.sampled_from(["", "MM", "MM;XX", "XX; MM ;YY", ";", "AML;MM", "all", "sub", "gone", "review",
                     "B1", "storm-ref13", "dexamethasone", "nothing;dexamethasone", "PFS"]))


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(EDITS, max_size=6), repeat=st.lists(st.tuples(
    st.sampled_from(["outcomes", "cohorts", "studies", "trials"]), st.integers(1, 40)), max_size=2))
def test_generated_packages_check_as_the_row_rules_do(tmp_path_factory, edits, repeat):
    root = package_copy(tmp_path_factory.mktemp("pkg") / "pkg")
    for (table, column), row, value in edits:
        rows = read_rows(root, table)
        set_cells(root, table, column, {min(row, len(rows) - 1): value})
    for table, row in repeat:  # a row twice: a duplicate key
        rows = read_rows(root, table)
        write_rows(root, table, [*rows, rows[min(row, len(rows) - 1)]])
    same_check(root)


def test_a_key_named_by_both_schemas_is_checked_once(tmp_path, monkeypatch):
    """The package's schema and the program's name the same keys: each is checked once, and
    a key only one of them names (or they name differently) is checked as well."""
    root = package_copy(tmp_path / "pkg")
    desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    studies = next(r for r in desc["resources"] if r["name"] == "studies")
    studies["schema"]["primaryKey"] = ["disease"]  # the program's key is ["study"]
    studies["schema"]["foreignKeys"] = [fk for fk in studies["schema"]["foreignKeys"] if fk["fields"] != ["source"]]
    (root / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    rows = read_rows(root, "studies")
    write_rows(root, "studies", [*rows, rows[3]])
    set_cells(root, "studies", "source", {5: "nowhere"})
    _, frames, _ = checks.check(root)
    resolved = sum(frames[r["name"]][datapackage.as_fields(fk["fields"])].notna().all(axis=1).any()
                   for r in desc["resources"] for fk in datapackage.foreign_keys(r["schema"]))
    calls = []
    unresolved = checks._unresolved
    monkeypatch.setattr(checks, "_unresolved", lambda *a: calls.append(a[1]) or unresolved(*a))
    problems = same_check(root)
    for column, reason in (("disease", "duplicate key"), ("study", "duplicate key"), ("source", "'nowhere' not found")):
        assert any(p.column == column and p.reason.startswith(reason) for p in problems), column
    # each of the package's foreign keys with a value once, the program's key on studies' source
    # (which the package's schema dropped), and the cohorts' parents
    assert len(calls) == resolved + 2


@pytest.mark.parametrize("text", [
    "i,j,x,b,s,e,n\n",  # a header only
    "i,j,x,b,s,e,n\n,,,,,,\n\n",  # blank rows only
    "i,j,x,b,s,e,n\n1,1,1,true,a,ORR,a,extra\n",  # a row wider than the header
    'i,j,x,b,s,e,n\n1,1,1,true,"open,ORR,a\n',  # a quote never closed
    "i,i,x,b,s,e,n\n1,1,1,true,a,ORR,a\n",  # a column twice
    "i,j,x,b,s,e\n1,1,1,true,a,ORR\n",  # a column missing
    'i,j,x,b,s,e,"n\nm"\n1,1,1,true,a,ORR,a\n',  # a header cell over two lines
    "i,j,x,b,s,e,n\r1,1,1,true,a,ORR,a\r2,2,2,false,b,CR,b\r",  # lines ended by a carriage return
    "i,j,x,b,s,e,n\r\n1,1,1,true,a,ORR,a \r\n",  # padded only before a line's end
])
def test_odd_tables_check_as_the_row_rules_do(text):
    same_table(text)
