"""Load the trial tables once, check them against the package schema, return typed pandas frames.

The schema lives in ``datapackage.json`` (Frictionless Table Schema) beside the CSV files; the
same checks serve the bundled data, a user's ``--data`` folder and ``xpo1 validate``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported lazily: --help and completion must not pay for it
    import pandas as pd

TABLES = (
    "sources",
    "diseases",
    "drugs",
    "regimens",
    "studies",
    "cohorts",
    "outcomes",
    "adverse_events",
    "approvals",
)
LIST_SEP = ";"
MAX_FILE_BYTES = 200 * 1024 * 1024


class DataError(Exception):
    """A dataset that cannot be used: carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0] if problems else None
        more = f" (and {len(problems) - 1} more; run 'xpo1 validate')" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}" if first else "invalid dataset")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a dataset, located to file, row and column."""

    file: str
    row: int | None  # line number in the file (header is line 1); None for file-level problems
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class Dataset:
    """The typed tables of one data package."""

    root: Path
    descriptor: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def bundled_root() -> Path:
    """The data shipped with the package (wheel) or, in a source checkout, the repo's data/."""
    here = Path(__file__).resolve().parent
    inside = here / "data"
    if (inside / "datapackage.json").is_file():
        return inside
    return here.parent / "data"


def resolve_root(path: str | os.PathLike | None) -> Path:
    """A folder holding datapackage.json, from a folder or the descriptor's own path."""
    if path is None or str(path) == "":
        env = os.environ.get("XPO1_DATA", "")
        if not env:
            return bundled_root()
        path = env
    p = Path(path).expanduser()
    if p.is_dir():
        return p
    if p.name.endswith(".json") and p.is_file():
        return p.parent
    if not p.exists():
        raise DataError([Problem(str(p), None, None, "no such file or folder")])
    raise DataError([Problem(str(p), None, None, "not a folder or a datapackage.json file")])


def read_descriptor(root: Path) -> dict:
    """The package descriptor; a user's package may omit it and inherit the bundled schema."""
    own = root / "datapackage.json"
    target = own if own.is_file() else bundled_root() / "datapackage.json"
    try:
        return json.loads(target.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError([Problem(str(target), None, None, f"unreadable descriptor: {exc}")]) from exc


def _read_text(path: Path) -> str:
    if not path.exists():
        raise ValueError("missing file")
    if path.is_dir():
        raise ValueError("is a folder, not a CSV file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file too large ({size} bytes; limit {MAX_FILE_BYTES})")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError("binary content (NUL bytes); expected UTF-8 CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 (byte {exc.start}); save the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from exc


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file as strings; raises ValueError with a readable reason."""
    text = _read_text(path)
    if not text.strip():
        raise ValueError("empty file (no header)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValueError(f"broken CSV near line {reader.line_num}: {exc}") from exc
    header = [h.strip() for h in rows[0]]
    return header, [r for r in rows[1:] if any(cell.strip() for cell in r)]


_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _check_table(name: str, spec: dict, root: Path, problems: list[Problem]) -> list[dict] | None:
    """Parse one table into typed records, collecting type, enum, range and pattern problems."""
    fname = spec.get("path", f"{name}.csv")
    path = root / fname
    try:
        header, rows = _read_rows(path)
    except (ValueError, OSError) as exc:
        problems.append(Problem(fname, None, None, str(exc)))
        return None
    fields = spec["schema"]["fields"]
    names = [f["name"] for f in fields]
    missing = [n for n in names if n not in header]
    for n in missing:
        problems.append(Problem(fname, 1, n, "missing column"))
    if missing:
        return None
    for h in header:
        if h not in names:
            problems.append(Problem(fname, 1, h, "unknown column"))
    index = {h: i for i, h in enumerate(header)}
    records: list[dict] = []
    for lineno, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(
                Problem(fname, lineno, None, f"{len(row)} cells where the header has {len(header)}")
            )
            continue
        rec: dict = {}
        for f in fields:
            col = f["name"]
            raw = row[index[col]].strip()
            cons = f.get("constraints", {})
            if raw == "":
                if cons.get("required"):
                    problems.append(Problem(fname, lineno, col, "required value is empty"))
                rec[col] = None
                continue
            value = _convert(raw, f["type"])
            if value is None:
                problems.append(Problem(fname, lineno, col, f"'{raw}' is not a {f['type']}"))
                rec[col] = None
                continue
            reason = _constraint_problem(value, cons)
            if reason:
                problems.append(Problem(fname, lineno, col, reason))
            rec[col] = value
        rec["_line"] = lineno
        records.append(rec)
    return records


def _convert(raw: str, kind: str):
    if kind == "string":
        return raw
    if kind == "integer":
        return int(raw) if re.fullmatch(r"[+-]?\d+", raw) else None
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            return None
        return value if value == value and abs(value) != float("inf") else None
    if kind == "boolean":
        return _BOOL.get(raw.lower())
    return raw


def _constraint_problem(value, cons: dict) -> str | None:
    if "enum" in cons and value not in cons["enum"]:
        return f"'{value}' is not one of: {', '.join(map(str, cons['enum']))}"
    if "minimum" in cons and value < cons["minimum"]:
        return f"{value} is below the minimum {cons['minimum']}"
    if "maximum" in cons and value > cons["maximum"]:
        return f"{value} is above the maximum {cons['maximum']}"
    if "pattern" in cons and not re.fullmatch(cons["pattern"], str(value)):
        return f"'{value}' does not match the pattern {cons['pattern']}"
    return None


def _check_keys(records: dict[str, list[dict]], descriptor: dict, problems: list[Problem]) -> None:
    """Primary keys unique, foreign keys resolved (empty references are allowed)."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    keysets: dict[tuple[str, tuple[str, ...]], set] = {}

    def keyset(table: str, fields: tuple[str, ...]) -> set:
        if (table, fields) not in keysets:
            keysets[(table, fields)] = {tuple(r[f] for f in fields) for r in records[table]}
        return keysets[(table, fields)]

    for name, rows in records.items():
        spec = specs[name]["schema"]
        fname = specs[name].get("path", f"{name}.csv")
        pk = spec.get("primaryKey")
        if pk:
            pk = [pk] if isinstance(pk, str) else pk
            seen: dict[tuple, int] = {}
            for r in rows:
                key = tuple(r[f] for f in pk)
                if key in seen:
                    problems.append(
                        Problem(fname, r["_line"], ",".join(pk),
                                f"duplicate key {'/'.join(map(str, key))} (first at line {seen[key]})")
                    )
                else:
                    seen[key] = r["_line"]
        for fk in spec.get("foreignKeys", []):
            fields = tuple([fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"])
            target = fk["reference"]["resource"] or name
            tfields = fk["reference"]["fields"]
            tfields = tuple([tfields] if isinstance(tfields, str) else tfields)
            if target not in records:
                continue
            known = keyset(target, tfields)
            for r in rows:
                key = tuple(r[f] for f in fields)
                if any(k is None for k in key):
                    continue
                if key not in known:
                    problems.append(
                        Problem(fname, r["_line"], ",".join(fields),
                                f"'{'/'.join(map(str, key))}' not found in {target}")
                    )


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in value.split(LIST_SEP) if p.strip()] if value else []


def _check_content(records: dict[str, list[dict]], descriptor: dict, problems: list[Problem]) -> None:
    """Checks the Table Schema cannot express: list references, counts, medians, cohort trees."""
    paths = {r["name"]: r.get("path", f"{r['name']}.csv") for r in descriptor["resources"]}
    drugs = {r["drug"] for r in records["drugs"]}
    diseases = {r["disease"] for r in records["diseases"]}
    for r in records["regimens"]:
        for p in _split(r["partners"]):
            if p not in drugs:
                problems.append(Problem(paths["regimens"], r["_line"], "partners",
                                        f"partner '{p}' not found in drugs"))
    for r in records["studies"]:
        for d in _split(r["disease"]):
            if d not in diseases:
                problems.append(Problem(paths["studies"], r["_line"], "disease",
                                        f"disease '{d}' not found in diseases"))
    cohorts = {(r["study"], r["cohort"]): r for r in records["cohorts"]}
    headline: dict[str, int] = {}
    for r in records["cohorts"]:
        if r["parent"] and (r["study"], r["parent"]) not in cohorts:
            problems.append(Problem(paths["cohorts"], r["_line"], "parent",
                                    f"parent cohort '{r['parent']}' not found in study {r['study']}"))
        if r["headline"]:
            headline[r["study"]] = headline.get(r["study"], 0) + 1
    for r in records["studies"]:
        if headline.get(r["study"], 0) != 1:
            problems.append(Problem(paths["studies"], r["_line"], "study",
                                    f"study needs exactly one headline cohort, has "
                                    f"{headline.get(r['study'], 0)}"))
    for table in ("outcomes", "adverse_events"):
        den = "denominator" if table == "outcomes" else "n"
        for r in records[table]:
            if r["count"] is not None and r[den] is not None and r["count"] > r[den]:
                problems.append(Problem(paths[table], r["_line"], "count",
                                        f"count {r['count']} is above the {den} {r[den]}"))
    for r in records["outcomes"]:
        lo, med, hi = r["range_low"], r["median_months"], r["range_high"]
        if lo is not None and hi is not None and lo > hi:
            problems.append(Problem(paths["outcomes"], r["_line"], "range_low",
                                    f"range low {lo} is above range high {hi}"))
        if med is not None and ((lo is not None and med < lo) or (hi is not None and med > hi)):
            problems.append(Problem(paths["outcomes"], r["_line"], "median_months",
                                    f"median {med} lies outside its range {lo}-{hi}"))


def check(root: Path) -> tuple[dict, dict[str, list[dict]], list[Problem]]:
    """Read and check every table of the package at root; returns the records and all problems."""
    descriptor = read_descriptor(root)
    problems: list[Problem] = []
    specs = {r["name"]: r for r in descriptor.get("resources", [])}
    for name in TABLES:
        if name not in specs:
            problems.append(Problem("datapackage.json", None, None, f"no resource named {name}"))
    records: dict[str, list[dict]] = {}
    for name in TABLES:
        if name in specs:
            parsed = _check_table(name, specs[name], root, problems)
            if parsed is not None:
                records[name] = parsed
    if len(records) == len(TABLES):
        _check_keys(records, descriptor, problems)
        _check_content(records, descriptor, problems)
    return descriptor, records, problems


def validate(path: str | os.PathLike | None = None) -> list[Problem]:
    """Every problem of the dataset at path (empty list: valid)."""
    try:
        root = resolve_root(path)
        return check(root)[2]
    except DataError as exc:
        return exc.problems


_CACHE: dict[Path, Dataset] = {}


def load(path: str | os.PathLike | None = None) -> Dataset:
    """The dataset at path (default: XPO1_DATA, else the bundled one), checked and typed; cached."""
    root = resolve_root(path).resolve()
    if root in _CACHE:
        return _CACHE[root]
    descriptor, records, problems = check(root)
    if problems:
        raise DataError(problems)
    import pandas as pd

    ds = Dataset(root=root, descriptor=descriptor)
    for res in descriptor["resources"]:
        name = res["name"]
        if name not in records:
            continue
        cols = [f["name"] for f in res["schema"]["fields"]]
        frame = pd.DataFrame.from_records(records[name], columns=cols)
        for f in res["schema"]["fields"]:
            col = f["name"]
            if f["type"] == "integer":
                frame[col] = frame[col].astype("Int64")
            elif f["type"] == "number":
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
            elif f["type"] == "boolean":
                frame[col] = frame[col].astype("boolean")
            else:
                frame[col] = frame[col].astype(object)
        ds.tables[name] = frame
    _CACHE[root] = ds
    return ds
