"""The data package: its tables, its descriptor (``datapackage.json``, a Frictionless Table
Schema) checked as a schema this program can read, and its files located and read within a size
limit. A dataset that cannot be used is a `DataError` carrying every `Problem` found.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

TABLES = (
    "sources",
    "diseases",
    "drugs",
    "regimens",
    "trials",
    "studies",
    "cohorts",
    "outcomes",
    "comparisons",
    "adverse_events",
    "approvals",
    "syntheses",
    "conflicts",
)
# the tables `export` gives, in the order it lists them
EXPORTABLE = ("studies", "cohorts", "outcomes", "comparisons", "adverse_events", "regimens", "trials",
              "drugs", "diseases", "approvals", "sources", "syntheses", "conflicts")
# Tables a dataset may leave out (a missing file or resource reads as an empty table): the
# randomized trials with no XPO1-inhibitor arm that the indirect comparisons read, kept apart
# from the XPO1 studies so that no study command lists or pools them; and each disease's critical
# outcomes (without them a brief reads every outcome measure its studies report).
OPTIONAL_TABLES = ("comparator_trials", "trial_arms", "comparator_results", "critical_outcomes")
LINE = "xpo1_line"  # file line number of each row, carried while checking
MAX_FILE_MIB = 200  # the largest table file read, unless XPO1_MAX_FILE_MIB says otherwise
MAX_FILE_BYTES = MAX_FILE_MIB * 1024 * 1024
MAX_FILE_ENV = "XPO1_MAX_FILE_MIB"
MAX_DESCRIPTOR_BYTES = 10 * 1024 * 1024
TYPES = ("string", "integer", "number", "boolean")  # the Table Schema types this program reads
CONSTRAINTS = ("required", "enum", "minimum", "maximum", "pattern")
INT64 = 2**63 - 1


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

    def __post_init__(self) -> None:  # a 100 KB header cell must not make a 100 KB message
        if self.column and len(self.column) > 60:
            object.__setattr__(self, "column", self.column[:60] + "…")

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


def resource_file(res: dict) -> str:
    """The file of a descriptor's resource: its path, else NAME.csv."""
    return str(res.get("path", f"{res.get('name')}.csv"))


def bundled_root() -> Path:
    """The data shipped with the package (wheel) or, in a source checkout, the repo's data/."""
    here = Path(__file__).resolve().parent
    inside = here / "data"
    if (inside / "datapackage.json").is_file():
        return inside
    return here.parent / "data"


def resolve_root(path: str | os.PathLike | None) -> Path:
    """A folder holding datapackage.json, from a folder or the descriptor's own path."""
    if path is None:
        env = os.environ.get("XPO1_DATA")
        if env is None:
            return bundled_root()
        if not env.strip():
            raise DataError([Problem("XPO1_DATA", None, None,
                                     "is set but empty; unset it to use the bundled data")])
        path = env
    if not str(path).strip():
        raise DataError([Problem("''", None, None, "an empty path is not a dataset")])
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            return p
        if p.name == "datapackage.json" and p.is_file():
            return p.parent
        exists = p.exists()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL byte
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DataError([Problem(str(p), None, None, f"cannot open: {reason}")]) from exc
    if not exists:
        raise DataError([Problem(str(p), None, None, "no such file or folder")])
    raise DataError([Problem(str(p), None, None, "not a folder or a datapackage.json file")])


def read_descriptor(root: Path) -> dict:
    """The package descriptor; a user's package may omit it and inherit the bundled schema.
    A descriptor that is not a tabular data package is a dataset problem, not a crash."""
    own = root / "datapackage.json"
    target = own if os.path.lexists(own) else bundled_root() / "datapackage.json"
    try:
        raw = read_regular(target, MAX_DESCRIPTOR_BYTES, "descriptor")
        descriptor = json.loads(raw.decode("utf-8-sig"))
    except ValueError as exc:
        if not isinstance(exc, UnicodeDecodeError | json.JSONDecodeError):
            raise DataError([Problem(target.name, None, None, str(exc))]) from exc
        raise DataError([Problem(target.name, None, None, f"unreadable descriptor: {exc}")]) from exc
    except OSError as exc:
        raise DataError([Problem(target.name, None, None, f"unreadable descriptor: {exc}")]) from exc
    except RecursionError as exc:
        raise DataError([Problem(target.name, None, None, "unreadable descriptor: JSON nested too deeply")]) from exc
    shape = "a JSON object with a list of resources"
    ok = isinstance(descriptor, dict) and isinstance(descriptor.get("resources"), list)
    if ok:
        for res in descriptor["resources"]:
            schema = res.get("schema") if isinstance(res, dict) else None
            if not (isinstance(res, dict) and isinstance(res.get("name"), str) and isinstance(schema, dict)
                    and isinstance(schema.get("fields"), list)
                    and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in schema["fields"])):
                ok = False
                shape = "resources with a name and a schema holding a list of named fields"
                break
    if not ok:
        raise DataError([Problem(target.name, None, None, f"not a tabular data package: expected {shape}")])
    if target != own or root.resolve() == bundled_root().resolve():
        return descriptor  # the bundled descriptor is checked by the tests
    problems = check_descriptor(descriptor, target.name)
    if problems:
        raise DataError(problems)
    return descriptor


def _is_number(value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and value == value and abs(value) != float("inf"))


def _key_fields(value) -> list[str] | None:
    """A Table Schema key (a field name or a list of them); None when it is neither."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def check_descriptor(descriptor: dict, fname: str = "datapackage.json") -> list[Problem]:
    """What a user's descriptor gets wrong as a Table Schema this program can read, and where it
    departs from the program's own schema (every field the program reads, with the same type).
    Column names the place: 'resource.field' or 'resource.path'."""
    problems: list[Problem] = []

    def bad(where: str, reason: str) -> None:
        problems.append(Problem(fname, None, where, reason))

    resources = descriptor["resources"]
    names = [r["name"] for r in resources]
    fields_of = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in resources}
    for name in sorted({n for n in names if names.count(n) > 1}):
        bad(name, "resource named more than once")
    for res in resources:
        name, schema = res["name"], res["schema"]
        path = res.get("path", f"{name}.csv")
        if not isinstance(path, str):
            bad(f"{name}.path", f"path must be one file name (a string), not {type(path).__name__}")
        elif (not path.strip() or "\x00" in path or path.startswith(("/", "\\", "~"))
              or ".." in Path(path).parts or (len(path) > 1 and path[1] == ":")):
            bad(f"{name}.path", f"path '{path[:60]}' must be a file inside the package folder")
        seen: set[str] = set()
        for f in schema["fields"]:
            where = f"{name}.{f['name']}"
            if f["name"] in seen:
                bad(where, "field named more than once")
            seen.add(f["name"])
            kind = f.get("type", "string")
            if kind not in TYPES:
                bad(where, f"type {json.dumps(kind)[:40]} is not supported; use one of: {', '.join(TYPES)}")
            cons = f.get("constraints", {})
            if not isinstance(cons, dict):
                bad(where, "constraints must be a JSON object")
                continue
            for key, value in cons.items():
                if key not in CONSTRAINTS:
                    bad(where, f"constraint '{key[:40]}' is not supported; use: {', '.join(CONSTRAINTS)}")
                elif key == "required" and not isinstance(value, bool):
                    bad(where, "constraint 'required' must be true or false")
                elif key == "enum" and not (isinstance(value, list) and value and all(
                        isinstance(v, str | int | float) and v == v for v in value)):
                    bad(where, "constraint 'enum' must be a non-empty list of values")
                elif key in ("minimum", "maximum") and not (_is_number(value) and kind in ("integer", "number")):
                    bad(where, f"constraint '{key}' must be a number, on an integer or number field")
                elif key == "pattern":
                    try:
                        ok = isinstance(value, str) and re.compile(value) is not None
                    except (re.error, RecursionError, OverflowError):
                        ok = False
                    if not ok:
                        bad(where, "constraint 'pattern' must be a valid regular expression")
        if "primaryKey" in schema:
            pk = _key_fields(schema["primaryKey"])
            if pk is None:
                bad(f"{name}.primaryKey", "primaryKey must be a field name or a list of field names")
            for k in pk or []:
                if k not in fields_of[name]:
                    bad(f"{name}.primaryKey", f"primaryKey names '{k[:60]}', which is not a field")
        fks = []
        for key in ("foreignKeys", PARTIAL_FOREIGN_KEYS):
            if not isinstance(schema.get(key, []), list):
                bad(f"{name}.{key}", f"{key} must be a list")
            else:
                fks += schema.get(key, [])
        for fk in fks:
            ref = fk.get("reference") if isinstance(fk, dict) else None
            own_fields = _key_fields(fk.get("fields")) if isinstance(fk, dict) else None
            target = ref.get("resource") if isinstance(ref, dict) else None
            target_fields = _key_fields(ref.get("fields")) if isinstance(ref, dict) else None
            if own_fields is None or not isinstance(target, str) or target_fields is None:
                bad(f"{name}.foreignKeys", "each foreign key needs fields and a reference "
                    "with a resource and fields")
                continue
            target = target or name
            if target not in fields_of:
                bad(f"{name}.foreignKeys", f"reference to unknown resource '{target[:60]}'")
                continue
            if len(own_fields) != len(target_fields):
                bad(f"{name}.foreignKeys", "fields and reference fields differ in number")
            for k in own_fields:
                if k not in fields_of[name]:
                    bad(f"{name}.foreignKeys", f"foreign key names '{k[:60]}', which is not a field")
            for k in target_fields:
                if k not in fields_of[target]:
                    bad(f"{name}.foreignKeys", f"reference names '{k[:60]}', not a field of {target}")
    if problems:
        return problems
    # the program reads these fields: a user's schema may add fields, not drop or retype them
    mine = {r["name"]: {f["name"]: f.get("type", "string") for f in r["schema"]["fields"]}
            for r in resources}
    for res in _bundled_descriptor()["resources"]:
        if res["name"] not in mine:
            continue  # reported by check() as a missing resource
        for f in res["schema"]["fields"]:
            have = mine[res["name"]].get(f["name"])
            if have is None:
                bad(f"{res['name']}.{f['name']}", f"field missing from the schema ({f['type']}; "
                    "the program reads it)")
            elif have != f["type"]:
                bad(f"{res['name']}.{f['name']}", f"type {have} where the program reads {f['type']}")
    return problems


def _bundled_descriptor() -> dict:
    return json.loads((bundled_root() / "datapackage.json").read_text(encoding="utf-8-sig"))


def max_file_bytes() -> int:
    """The largest table file read, in bytes: XPO1_MAX_FILE_MIB mebibytes if set (a positive
    number; a user with bigger data raises it), else MAX_FILE_MIB. A file over it is refused
    before any table is parsed."""
    given = os.environ.get(MAX_FILE_ENV)
    if given is None or not given.strip():
        return MAX_FILE_BYTES
    try:
        mib = float(given)
    except ValueError:
        mib = float("nan")
    if not (mib > 0 and mib * 1024 * 1024 < 2**62):
        raise DataError([Problem(MAX_FILE_ENV, None, None,
                                 f"'{_clip(given, 30)}' is not a size in MiB; give a positive number such as 500, "
                                 "or unset it")])
    return int(mib * 1024 * 1024)


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB ({size} bytes)" if size >= 1024 * 1024 else f"{size} bytes"


def file_problem(path: Path, limit: int, what: str = "table") -> str | None:
    """Why the file at path cannot be read as one of the package's files (missing, a folder, a
    named pipe or a device, over the size limit), or None; from its status alone, nothing read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "a broken link (the file it names is missing)" if os.path.lexists(path) else "missing file"
    except (OSError, ValueError) as exc:
        return f"cannot open: {getattr(exc, 'strerror', None) or exc}"
    return _status_problem(st, limit, what)


def _status_problem(st: os.stat_result, limit: int, what: str) -> str | None:
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe" if stat.S_ISFIFO(st.st_mode) else "a device or a socket"
        return f"not a regular file ({kind}); the {what} is not read"
    if st.st_size > limit:
        hint = f"; raise {MAX_FILE_ENV} to read it" if what == "table" else ""
        return f"file too large: {_size_text(st.st_size)}, over the limit of {_size_text(limit)}{hint}"
    return None


def read_regular(path: Path, limit: int, what: str = "table") -> bytes:
    """The bytes of a regular file no larger than limit; ValueError (with the reason) for any
    other file. Opened without blocking and checked on the open file: a named pipe put in a
    file's place is never read (nor waited on), and a file that grows past the limit after it
    was checked is refused as well."""
    reason = file_problem(path, limit, what)
    if reason is not None:
        raise ValueError(reason)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        reason = _status_problem(os.fstat(fd), limit, what)
        if reason is not None:
            raise ValueError(reason)
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise ValueError(f"file too large: over the limit of {_size_text(limit)}")
    return raw


def _clip(value, width: int = 60) -> str:
    """A cell as quoted in a problem: long cells cut, so one problem stays one short line."""
    text = str(value)
    return text if len(text) <= width else text[:width] + "…"


def as_fields(value: str | list[str]) -> list[str]:
    """Table Schema writes a one-field key as a string and a compound key as a list."""
    return [value] if isinstance(value, str) else list(value)


PARTIAL_FOREIGN_KEYS = "x-partialForeignKeys"


def foreign_keys(schema: dict) -> list[dict]:
    """A table's foreign keys: the standard ones and the partial ones the standard cannot
    express (checked only where every field has a value, as all keys here are)."""
    return [*schema.get("foreignKeys", []), *schema.get(PARTIAL_FOREIGN_KEYS, [])]


def _refers(specs: dict, name: str) -> list[str]:
    """The table and every table it refers to by a foreign key, directly or through others."""
    found, todo = [name], [name]
    while todo:
        for fk in foreign_keys(specs[todo.pop()]["schema"]):
            target = fk.get("reference", {}).get("resource") if isinstance(fk, dict) else None
            if isinstance(target, str) and target in specs and target not in found:
                found.append(target)
                todo.append(target)
    return found


def table_groups(descriptor: dict) -> tuple[list[str], list[str]]:
    """The tables every load of a user's package reads (the program's own and any table they
    refer to), and the others (a package's own, such as an import's registry tables), which are
    read and checked when first used."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    core: list[str] = []
    for name in (*TABLES, *OPTIONAL_TABLES):
        for each in _refers(specs, name) if name in specs else [name]:
            if each not in core:
                core.append(each)
    return core, [name for name in specs if name not in core]
