"""Load the trial tables once, check them against the package schema, return typed pandas frames.

The schema lives in ``datapackage.json`` (Frictionless Table Schema) beside the CSV files; the
same checks serve the bundled data, a user's ``--data`` folder and ``xpo1 validate``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import stat
from collections.abc import Mapping
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
# The csv module refuses cells over 128 KiB by default; a file is already capped (max_file_bytes).
csv.field_size_limit(2**31 - 1)


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


@dataclass
class Dataset:
    """The typed tables of one data package."""

    root: Path
    descriptor: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # tables derived from this dataset alone (see `per_dataset`), made once and kept
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def per_dataset(func):
    """A function of the dataset alone, computed once per dataset: a loaded dataset does not
    change. Each caller gets its own shallow copy of the frame (copy-on-write: a caller that adds
    or edits a column changes its copy, never the kept one)."""

    @functools.wraps(func)
    def wrapper(ds: Dataset):
        key = func.__qualname__
        if key not in ds.derived:
            ds.derived[key] = func(ds)
        return ds.derived[key].copy(deep=not _copy_on_write())

    return wrapper


@functools.cache
def _copy_on_write() -> bool:
    """Whether pandas copies a shallow copy's data on write (always from pandas 3)."""
    import pandas as pd

    return int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True


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


def _read_text(path: Path, limit: int | None = None) -> str:
    raw = read_regular(path, max_file_bytes() if limit is None else limit)
    if b"\x00" in raw:
        raise ValueError("binary content (NUL bytes); expected UTF-8 CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 (byte {exc.start}); save the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from exc


_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _parse(text: str, fname: str, problems: list[Problem]):
    """The table as columns of stripped strings (object arrays, by column name) and a LINE column
    (file line numbers), or None when the file cannot be parsed; rows with a wrong number of
    cells are reported and dropped. pandas' C parser reads; on a parse error the csv module
    locates the bad line."""
    import numpy as np
    import pandas as pd

    # the header as the csv module reads it, from the lines it spans only (not a copy of the file)
    header = next(csv.reader(m.group() for m in _LINE.finditer(text)), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            problems.append(Problem(fname, 1, name, "duplicate column"))
            return None
        if name == LINE:
            problems.append(Problem(fname, 1, name, "unknown column"))
            return None
        seen.add(name)
    encoded = text.encode("utf-8")
    octets = np.frombuffer(encoded, dtype=np.uint8)
    try:  # cells as Python strings (object columns): pandas' own text type is slower to test
        frame = pd.read_csv(io.BytesIO(encoded), dtype=object, keep_default_na=False,
                            na_filter=True, na_values=[], skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        return _locate(text, fname, problems, str(exc))
    if not isinstance(frame.index, pd.RangeIndex):  # rows wider than the header everywhere
        return _locate(text, fname, problems, "rows have more cells than the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    # pandas fills a row with fewer cells than the header with empty ones: each row's own width
    # is read from the file (with the line numbers where a quoted cell spans lines)
    width = len(frame.columns)
    if '"' in text:
        lines, widths = _records(text, len(frame))
    else:
        lines = frame.index + 2
        whole = np.count_nonzero(octets == 44) == (width - 1) * (len(frame) + 1)  # each line has the header's commas
        widths = None if whole else _line_widths(octets, len(frame))
    table = {col: frame[col].to_numpy() for col in frame.columns}
    if _padded(encoded, octets):  # only then pay for stripping every cell
        table = {col: _strip(cells) for col, cells in table.items()}
    blank = np.ones(len(frame), dtype=bool)
    short = np.zeros(len(frame), dtype=bool) if widths is None else np.asarray(widths) < width
    for cells in table.values():
        absent = _absent(cells)
        short |= absent
        if blank.any():  # only the rows blank so far are compared
            blank[blank] = absent[blank] | (cells[blank] == "")
    table[LINE] = np.asarray(lines, dtype=np.int64)
    cells_in_row = np.full(len(frame), -1) if widths is None else np.asarray(widths)
    if blank.any():
        table, short, cells_in_row = ({col: cells[~blank] for col, cells in table.items()}, short[~blank],
                                      cells_in_row[~blank])
    for line, n in zip(table[LINE][short], cells_in_row[short], strict=True):
        have = f"{n} cells where the header has {width}" if n >= 0 else "fewer cells than the header has"
        problems.append(Problem(fname, int(line), None, have))
    if short.any():
        table = {col: cells[~short] for col, cells in table.items()}
    return table


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # a line as io.StringIO(text, newline="") gives it


# White space a cell is read without, at either end, whether or not any other cell of the file is
# padded: every character str.strip removes (tests check this list against Python's). Those other
# than a space and the line breaks are looked for anywhere in a file.
_ODD_ASCII_SPACE = (b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_WIDE_SPACE = ("\x85", "\xa0", "\u1680", *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f",
               "\u205f", "\u3000")


@functools.cache
def _byte_classes():
    """Lookup tables over byte values (a cell's edge: a comma, a line break or a quote; a line
    break; a comma or a line break), and the UTF-8 bytes of each of _WIDE_SPACE as numbers (the
    2-byte ones, the 3-byte ones)."""
    import numpy as np

    def of(*values):
        table = np.zeros(256, dtype=bool)
        table[list(values)] = True
        return table

    wide = [c.encode("utf-8") for c in _WIDE_SPACE]
    return (of(44, 10, 13, 34), of(10, 13), of(44, 10, 13),
            np.array([int.from_bytes(w, "big") for w in wide if len(w) == 2], dtype=np.uint32),
            np.array([int.from_bytes(w, "big") for w in wide if len(w) == 3], dtype=np.uint32))


def _padded(encoded: bytes, b) -> bool:
    """Whether a cell of the file may begin or end with white space (see _WIDE_SPACE): any white
    space but a space and the line breaks anywhere; a space beside a comma, a line break, a quote
    or either end of the file; a line break just inside a quoted cell. Read over the UTF-8 bytes
    (b: the same as an array; each ASCII character is one byte that no other character holds),
    looking only beside each space, each quote and each byte that may begin a wide space; it may
    say a file is padded when it is not (its cells are then stripped for nothing), never the
    reverse."""
    import numpy as np

    if any(c in encoded for c in _ODD_ASCII_SPACE):
        return True
    if not len(b):
        return False
    if encoded[:1] == b" " or encoded[-1:] == b" " or encoded[:2] in (b'"\n', b'"\r') \
            or encoded[-2:] in (b'\n"', b'\r"'):
        return True
    edge, line_break, separator, wide2, wide3 = _byte_classes()
    inner = slice(1, len(b) - 1)  # bytes with a byte on either side (the ends are seen above)
    if not encoded.isascii():
        at = np.flatnonzero(b[: len(b) - 2] >= 0xC2)  # each of _WIDE_SPACE begins with one of 0xC2 to 0xE3
        two = (b[at].astype(np.uint32) << 8) | b[at + 1]
        if np.isin(two, wide2).any() or np.isin((two << 8) | b[at + 2], wide3).any():
            return True
        if encoded[-2:] in ("\x85".encode(), "\xa0".encode()):
            return True
    if b" " in encoded:
        at = np.flatnonzero(b[inner] == 32) + 1
        if (edge[b[at - 1]] | edge[b[at + 1]]).any():
            return True
    if b'"' in encoded:
        at = np.flatnonzero(b[inner] == 34) + 1
        before, after = b[at - 1], b[at + 1]
        return bool((separator[before] & line_break[after]).any() or (line_break[before] & separator[after]).any())
    return False


def _strip(cells):
    """Each text cell of an object array without its surrounding white space."""
    import numpy as np

    out = np.empty(len(cells), dtype=object)
    out[:] = [c.strip() if isinstance(c, str) else c for c in cells]
    return out


def _absent(values):
    """pd.isna of a column or an array, as an array, without testing each cell of an object
    column whose every cell is text (a test per cell costs more than the rest of a check)."""
    import numpy as np
    import pandas as pd

    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pd.isna(values))


def _locate(text: str, fname: str, problems: list[Problem], reason: str) -> None:
    """Name the first line the csv module cannot read as a row of the header's width."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        width = None
        for row in reader:
            if width is None:
                width = len(row)
            elif row and len(row) != width:
                problems.append(Problem(fname, reader.line_num, None,
                                        f"{len(row)} cells where the header has {width}"))
                return None
    except csv.Error as err:
        problems.append(Problem(fname, reader.line_num, None, f"broken CSV: {err}"))
        return None
    problems.append(Problem(fname, None, None, f"unreadable CSV: {reason.strip()}"))
    return None


def _records(text: str, count: int) -> tuple[list[int], list[int] | None]:
    """The file line each of the first count records under the header starts on (a quoted cell
    may span lines) and its number of cells; None for the widths when the records are not the
    rows pandas read."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, widths, previous = [], [], 0
    for row in reader:
        starts.append(previous + 1)
        widths.append(len(row))
        previous = reader.line_num
    starts, widths = starts[1:], widths[1:]  # the header
    if len(starts) < count:
        return [i + 2 for i in range(count)], None
    return starts[:count], widths[:count]


def _line_widths(b, count: int):
    """The number of cells on each of the first count lines under the header of a file with no
    quotes (its commas plus one; b: its UTF-8 bytes as an array), or None when the file has fewer
    lines. A line ends at a line feed, a carriage return, or both."""
    import numpy as np

    lf = b == 10
    ends = np.flatnonzero(lf | ((b == 13) & ~np.append(lf[1:], False)))
    if len(ends) == 0 or ends[-1] != len(b) - 1:
        ends = np.append(ends, len(b))  # a last line without a line break
    commas = np.diff(np.searchsorted(np.flatnonzero(b == 44), ends), prepend=0)
    if len(commas) < count + 1:
        return None
    return commas[1:count + 1] + 1


def _check_table(name: str, spec: dict, root: Path, problems: list[Problem], contract: dict | None = None):
    """One table as a typed frame (with a LINE column), collecting type, enum, range and pattern
    problems row by row; None when the file is unusable. `contract` is the program's own spec of
    the table: its constraints hold as well as the user's, since the program relies on them.
    A rule that reads a cell's text in Python (a type, a pattern) is worked out once for each
    distinct text of the column and spread to the rows holding it: a large table repeats a few
    counts, measures and names many times."""
    import numpy as np
    import pandas as pd

    own_rules = {f["name"]: f.get("constraints", {}) for f in (contract or {}).get("schema", {}).get("fields", [])}

    fname = spec.get("path", f"{name}.csv")
    try:
        text = _read_text(root / fname)
    except (ValueError, OSError) as exc:
        problems.append(Problem(fname, None, None, str(exc)))
        return None
    if not text.strip():
        problems.append(Problem(fname, None, None, "empty file (no header)"))
        return None
    ragged: list[Problem] = []  # rows narrower than the header: said after what is wrong with the header
    raw = _parse(text, fname, ragged)
    if raw is None:
        problems += ragged
        return None
    fields = spec["schema"]["fields"]
    names = [f["name"] for f in fields]
    missing = [n for n in names if n not in raw]
    for n in missing:
        problems.append(Problem(fname, 1, n, "missing column"))
    for h in raw:
        if h != LINE and h not in names:
            problems.append(Problem(fname, 1, h, "unknown column"))
    problems += ragged
    if missing:
        return None
    lines = raw[LINE]
    typed = pd.DataFrame({LINE: lines})

    def report(mask, col, reason):
        if mask.any():
            for line, value in zip(lines[mask], raw[col][mask], strict=True):
                problems.append(Problem(fname, int(line), col, reason(value)))

    for f in fields:
        col, kind = f["name"], f.get("type", "string")
        rules = [f.get("constraints", {})]
        if own_rules.get(col) and own_rules[col] != rules[0]:
            rules.append(own_rules[col])
        cells = raw[col]  # every cell is text (rows with a missing cell were dropped)
        if kind != "string" or any("pattern" in c for c in rules):
            codes, texts = pd.factorize(cells)  # cells == texts[codes]
            filled = texts != ""
            empty = ~filled[codes]

            def rows(bad, codes=codes):
                """The rows holding a text marked bad (a mask over the distinct texts)."""
                return bad[codes] if bad.any() else np.zeros(len(codes), dtype=bool)
        else:
            empty = cells == ""
        if any(c.get("required") for c in rules):
            report(empty, col, lambda v: "required value is empty")
        full = ~empty
        if kind == "integer":
            # each distinct text read as a whole number by Python, exactly (never through a float)
            whole = [_whole_number(v) for v in texts]
            ok = np.array([isinstance(w, int) for w in whole], dtype=bool)
            huge = np.array([w is _TOO_LARGE for w in whole], dtype=bool)
            report(rows(huge), col, lambda v: f"'{_clip(v)}' is too large for an integer "
                   f"(more than {INT64})")
            report(rows(filled & ~ok & ~huge), col, lambda v: f"'{_clip(v)}' is not an integer{_digits_hint(v)}")
            numbers = np.array([w if ok_ else 0 for w, ok_ in zip(whole, ok, strict=True)], dtype=np.int64)
            values = pd.Series(pd.arrays.IntegerArray(numbers[codes], ~ok[codes]), index=typed.index, copy=False)
        elif kind == "number":
            numbers = pd.to_numeric(np.where(filled, texts, np.nan), errors="coerce").astype("float64")
            bad = filled & (np.isnan(numbers) | (np.abs(numbers) == float("inf")))
            report(rows(bad), col, lambda v: f"'{_clip(v)}' is not a number{_digits_hint(v)}")
            values = pd.Series(np.where(bad, np.nan, numbers)[codes], index=typed.index, copy=False)
        elif kind == "boolean":
            flags = np.array([_BOOL.get(v.lower()) for v in texts], dtype=object)
            report(rows(filled & pd.isna(flags)), col, lambda v: f"'{_clip(v)}' is not a boolean")
            values = pd.Series(flags[codes], index=typed.index, dtype="boolean")
        else:
            values = pd.Series(np.where(full, cells, None) if empty.any() else cells, index=typed.index,
                               dtype=object, copy=False)
        present = full if kind == "string" else values.notna().to_numpy()  # a text is missing only when empty
        for cons in rules:
            if "enum" in cons:
                allowed = ", ".join(map(str, cons["enum"]))
                if len(allowed) > 120:
                    allowed = allowed[:117] + "..."
                report(present & ~values.isin(cons["enum"]).to_numpy(), col,
                       lambda v, a=allowed: f"'{_clip(v)}' is not one of: {a}")
            if "minimum" in cons:
                report(present & (values < cons["minimum"]).fillna(False).astype(bool).to_numpy(), col,
                       lambda v, m=cons["minimum"]: f"{v} is below the minimum {m}")
            if "maximum" in cons:
                report(present & (values > cons["maximum"]).fillna(False).astype(bool).to_numpy(), col,
                       lambda v, m=cons["maximum"]: f"{v} is above the maximum {m}")
            if "pattern" in cons:
                pattern = re.compile(cons["pattern"])
                matched = np.array([pattern.fullmatch(v) is not None for v in texts], dtype=bool)
                report(present & rows(filled & ~matched), col,
                       lambda v, p=cons["pattern"]: f"'{_clip(v)}' does not match the pattern {p}")
        typed[col] = values
    return typed[[LINE, *names]]


_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: '٣٢' or '３２' is no number here
_TOO_LARGE = object()


def _whole_number(text: str):
    """The whole number a cell's text writes (ASCII digits, an optional sign), _TOO_LARGE when it
    is beyond a 64-bit integer, None when it is no whole number."""
    if _INTEGER.fullmatch(text) is None:
        return None
    if len(text.lstrip("+-").lstrip("0")) > 19:  # more digits than 2**63 has: never parsed
        return _TOO_LARGE
    value = int(text)
    return value if abs(value) <= INT64 else _TOO_LARGE


def _digits_hint(text) -> str:
    """A note for a cell written with digits other than 0-9 (Arabic-Indic, full-width ...)."""
    if any(ch.isdigit() and not ch.isascii() for ch in str(text)):
        return " (only the digits 0-9 are read as numbers)"
    return ""


def _clip(value, width: int = 60) -> str:
    """A cell as quoted in a problem: long cells cut, so one problem stays one short line."""
    text = str(value)
    return text if len(text) <= width else text[:width] + "…"


def as_fields(value: str | list[str]) -> list[str]:
    """Table Schema writes a one-field key as a string and a compound key as a list."""
    return [value] if isinstance(value, str) else list(value)


def _unresolved(frame, fields, target, target_fields):
    """A boolean mask of the rows of frame whose key is not among target's keys. Keys compare as
    the typed columns hold them (a number is not its text), by hash over whole columns."""
    import pandas as pd

    def keys(table, columns):
        # a missing cell as None (a text column holds None there already)
        cells = [table[c] if table[c].dtype == object else table[c].astype(object).where(table[c].notna(), None)
                 for c in columns]
        return pd.Index(cells[0], dtype=object) if len(cells) == 1 else pd.MultiIndex.from_arrays(cells)

    return ~keys(frame, fields).isin(keys(target, target_fields))


PARTIAL_FOREIGN_KEYS = "x-partialForeignKeys"


def foreign_keys(schema: dict) -> list[dict]:
    """A table's foreign keys: the standard ones and the partial ones the standard cannot
    express (checked only where every field has a value, as all keys here are)."""
    return [*schema.get("foreignKeys", []), *schema.get(PARTIAL_FOREIGN_KEYS, [])]


def _check_keys(frames: dict, descriptor: dict, problems: list[Problem],
                paths: dict[str, str] | None = None, done: set | None = None) -> None:
    """Primary keys unique, foreign keys resolved (empty references are allowed). `done` holds
    the keys checked already (of an earlier call): checking one again would only find the same
    problems again."""
    import numpy as np

    from .values import row_tuples

    done = set() if done is None else done
    specs = {r["name"]: r for r in descriptor["resources"]}
    for name, frame in frames.items():
        if name not in specs:
            continue
        spec = specs[name]["schema"]
        fname = (paths or {}).get(name) or specs[name].get("path", f"{name}.csv")
        pk = as_fields(spec["primaryKey"]) if spec.get("primaryKey") else None
        if pk and ("primaryKey", fname, name, tuple(pk)) not in done:
            done.add(("primaryKey", fname, name, tuple(pk)))
            # an empty key part (an optional one, such as an outcome's timepoint) is a value here,
            # written as "" (no key part holds the text "": an empty cell is missing)
            keyed = frame[[*pk, LINE]].astype({f: object for f in pk})
            dup = keyed.duplicated(subset=pk, keep="first")
            if dup.any():
                keyed = keyed.fillna("")
                first = keyed[~dup].set_index(pk)[LINE]
                for r in row_tuples(keyed[dup], index=False):
                    key = tuple(getattr(r, f) for f in pk)
                    at = first.loc[key if len(pk) > 1 else key[0]]
                    problems.append(Problem(fname, int(getattr(r, LINE)),
                                            ",".join(pk), f"duplicate key {'/'.join(map(str, key))} "
                                            f"(first at line {int(at)})"))
        for fk in foreign_keys(spec):
            fields = as_fields(fk["fields"])
            target = fk["reference"]["resource"] or name
            tfields = as_fields(fk["reference"]["fields"])
            check = ("foreignKey", fname, name, tuple(fields), target, tuple(tfields))
            if target not in frames or check in done:
                continue
            done.add(check)
            present = ~np.any([_absent(frame[f]) for f in fields], axis=0)
            src = frame if present.all() else frame[present]
            if src.empty:
                continue
            dangling = _unresolved(src, fields, frames[target], tfields)
            for r in row_tuples(src[dangling], index=False):
                key = "/".join(str(getattr(r, f)) for f in fields)
                problems.append(Problem(fname, int(getattr(r, LINE)), ",".join(fields),
                                        f"'{key}' not found in {target}"))


def _check_content(frames: dict, descriptor: dict, problems: list[Problem]) -> None:
    """Checks the Table Schema cannot express: list references, counts, medians, intervals, the
    disease and cohort trees."""
    import numpy as np
    import pandas as pd

    from .values import per_distinct, row_tuples, split_list

    paths = {r["name"]: resource_file(r) for r in descriptor["resources"]}
    drugs = set(frames["drugs"]["drug"])
    diseases = set(frames["diseases"]["disease"])
    for table, col, known, what in (("regimens", "partners", drugs, "drugs"),
                                    ("studies", "disease", diseases, "diseases"),
                                    ("trials", "disease", diseases, "diseases")):
        unknown = per_distinct(lambda value, known=known: [i for i in split_list(value) if i not in known],
                               frames[table][col])
        for line, items in zip(frames[table][LINE].tolist(), unknown, strict=True):
            for item in items:
                problems.append(Problem(paths[table], int(line), col, f"'{item}' not found in {what}"))
    coh = frames["cohorts"]
    with_parent = coh[coh["parent"].notna()]
    if len(with_parent):
        missing = _unresolved(with_parent, ["study", "parent"], coh, ["study", "cohort"])
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
    _check_intervals(frames, paths, problems)
    for table, within, what in (("diseases", None, "disease"), ("cohorts", "study", "cohort")):
        f = frames[table]
        f = f[f["parent"].notna()]  # a row on a cycle has a parent, and so has its parent
        names, parents = f[what].to_numpy(dtype=object), f["parent"].to_numpy(dtype=object)
        codes, _ = pd.factorize(np.concatenate([names, parents]))  # a name, as a key or a parent
        width = len(codes) + 1
        group = pd.factorize(f[within])[0] if within else np.zeros(len(f), dtype=np.int64)
        keys = group * width + codes[: len(f)]  # a key is its name within its group (a cohort's study)
        for row, chain in _cycles(keys, group * width + codes[len(f):]):
            loop = [names[r] for r in chain]
            shown = " -> ".join(map(str, loop[:8])) + (" -> ..." if len(loop) > 8 else "")
            problems.append(Problem(paths[table], int(f[LINE].iat[row]), "parent",
                                    f"{what} '{loop[0]}' is its own ancestor: {shown}"))


# the interval checks: (table, estimate columns, lower and upper limit) with what the figures are
INTERVALS = (("outcomes", ("percent_reported", "median_months", "median_weeks"), "ci_low", "ci_high", "interval"),
             ("comparisons", ("estimate",), "ci_low", "ci_high", "interval"),
             ("syntheses", ("value",), "low", "high", "bracket"),
             ("comparator_results", ("estimate",), "ci_low", "ci_high", "interval"),
             ("comparator_results", ("value_a",), "value_a_low", "value_a_high", "interval"),
             ("comparator_results", ("value_b",), "value_b_low", "value_b_high", "interval"))


def _check_intervals(frames: dict, paths: dict, problems: list[Problem]) -> None:
    """A lower limit above its upper one, and an estimate outside its limits (one or both given).
    A row of outcomes is checked against its one estimate (a percentage or a median) where it
    has one; with two (a rate and a median) only the limits' order is."""
    import numpy as np

    for table, estimates, low, high, what in INTERVALS:
        f = frames[table]
        lo = f[low].to_numpy(dtype="float64", na_value=np.nan)
        hi = f[high].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(lo).all() and np.isnan(hi).all():  # no limits given: nothing to check
            continue
        lines = f[LINE].to_numpy()
        for i in np.flatnonzero(lo > hi):
            problems.append(Problem(paths[table], int(lines[i]), low,
                                    f"{what} {lo[i]:g}-{hi[i]:g} has its lower limit above its upper one"))
        given = np.array([f[c].to_numpy(dtype="float64", na_value=np.nan) for c in estimates])
        one = (~np.isnan(given)).sum(axis=0) == 1
        which = np.argmax(~np.isnan(given), axis=0)
        value = given[which, np.arange(len(f))]
        outside = one & ~(lo > hi) & ((value < lo) | (value > hi))
        for i in np.flatnonzero(outside):
            limits = f"{'' if np.isnan(lo[i]) else f'{lo[i]:g}'}-{'' if np.isnan(hi[i]) else f'{hi[i]:g}'}"
            problems.append(Problem(paths[table], int(lines[i]), estimates[which[i]],
                                    f"{value[i]:g} lies outside its {what} {limits}"))


def _cycles(keys, parents) -> list[tuple[int, list[int]]]:
    """Each row whose chain of parents comes back to it, with that chain (the rows from it round
    to it again), in row order. keys and parents are aligned whole-number arrays (a parent not
    among the keys ends a chain; a key given twice is its first row: a duplicate key is reported
    elsewhere). By pointer doubling over whole arrays: after 2**k >= rows steps every chain has
    entered its cycle, so the rows still reached are exactly those on one."""
    import numpy as np
    import pandas as pd

    n = len(keys)
    index = pd.Index(np.asarray(keys, dtype=np.int64))
    first = ~index.duplicated()
    at = np.flatnonzero(first)
    hit = index[first].get_indexer(np.asarray(parents, dtype=np.int64))
    up = np.append(np.where(hit >= 0, at[np.maximum(hit, 0)], n), n)  # n: no parent
    far = up
    for _ in range(max(1, n.bit_length())):
        far = far[far]
    on = np.zeros(n + 1, dtype=bool)
    on[far] = True
    found = []
    for row in np.flatnonzero(on[:n]):
        chain = [int(row)]
        while up[chain[-1]] != row:
            chain.append(int(up[chain[-1]]))
        found.append((int(row), [*chain, int(row)]))
    return found


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


def check(root: Path, extra: bool = True) -> tuple[dict, dict, list[Problem]]:
    """Read and check every table of the package at root; returns typed frames and all problems.
    Without extra, only the tables every load reads (see `table_groups`)."""
    descriptor = read_descriptor(root)
    problems: list[Problem] = []
    specs = {r["name"]: r for r in descriptor.get("resources", [])}
    if not extra:
        core = table_groups(descriptor)[0]
        specs = {name: spec for name, spec in specs.items() if name in core}
    for name in TABLES:
        if name not in specs:
            problems.append(Problem("datapackage.json", None, None, f"no resource named {name}"))
    contract = {r["name"]: r for r in _bundled_descriptor()["resources"]}
    # every file's size and kind first, from its status alone: a file over the size limit stops
    # the check before any table is parsed (parsing the others would only cost time and memory)
    limit = max_file_bytes()
    unread = {name: file_problem(root / resource_file(spec), limit) for name, spec in specs.items()
              if name not in OPTIONAL_TABLES or os.path.lexists(root / resource_file(spec))}
    if any(reason and reason.startswith("file too large") for reason in unread.values()):
        problems += [Problem(resource_file(specs[name]), None, None, reason)
                     for name, reason in unread.items() if reason]
        return descriptor, {}, problems
    frames: dict = {}
    for name in TABLES:
        if name in specs:
            parsed = _check_table(name, specs[name], root, problems, contract.get(name))
            if parsed is not None:
                frames[name] = parsed
    for name in OPTIONAL_TABLES:
        if name in specs and (root / resource_file(specs[name])).exists():
            parsed = _check_table(name, specs[name], root, problems, contract.get(name))
        else:
            parsed = empty_table(contract[name])
        if parsed is not None:
            frames[name] = parsed
    # any table a user's package adds beyond the program's (an import's registry tables)
    for name in [n for n in specs if n not in TABLES and n not in OPTIONAL_TABLES]:
        parsed = _check_table(name, specs[name], root, problems, None)
        if parsed is not None:
            frames[name] = parsed
    if all(name in frames for name in (*TABLES, *OPTIONAL_TABLES)):
        paths = {r["name"]: resource_file(r) for r in descriptor["resources"]}
        checked: set = set()
        _check_keys(frames, descriptor, problems, done=checked)
        _check_keys(frames, {"resources": list(contract.values())}, problems, paths, done=checked)
        _check_content(frames, descriptor, problems)
    return descriptor, frames, list(dict.fromkeys(problems))


def validate(path: str | os.PathLike | None = None) -> list[Problem]:
    """Every problem of the dataset at path (empty list: valid). A user's dataset is checked as
    `load` checks it, each table read on first use included (and what one finds, the other
    reuses); the bundled one is checked in full, since `load` trusts it."""
    try:
        root = resolve_root(path)
        if root.resolve() == bundled_root().resolve():
            return check(root)[2]
        descriptor = read_descriptor(root)
    except DataError as exc:
        return exc.problems
    try:
        ds = load(root)
    except DataError as exc:  # and the tables read on first use, checked on their own
        try:
            others = [p for name in table_groups(descriptor)[1] for p in _check_extra(root, descriptor, name, {})[1]]
        except DataError:  # a size limit that is no size: said already
            others = []
        return list(dict.fromkeys([*exc.problems, *others]))
    problems: list[Problem] = []
    for name in ds.tables:
        try:
            ds.tables[name]
        except DataError as exc:
            problems += exc.problems
    return list(dict.fromkeys(problems))


# what load() found at a root, with the state of the files it read: a later load of the same
# unchanged files gives the same dataset (or the same problems) without reading them again
_CACHE: dict[Path, tuple[tuple, Dataset | list[Problem]]] = {}


def _fingerprint(root: Path, descriptor: dict) -> tuple:
    """Size, modification time and inode of the descriptor and of every table file it names."""
    paths = [root / "datapackage.json",
             *(root / resource_file(r) for r in descriptor.get("resources", [])
               if isinstance(r, dict))]
    state = []
    for path in paths:
        try:
            st = path.stat()
            state.append((str(path), st.st_size, st.st_mtime_ns, st.st_ino))
        except (OSError, ValueError):
            state.append((str(path), None))
    return tuple(state)


class LazyTables(Mapping):
    """Tables read on first use: a command pays only for the tables it reads. `frames` are
    tables read already; they come first. A table that cannot be read gives the same DataError
    on every use."""

    def __init__(self, loaders: dict, frames: dict | None = None):
        self._loaders = loaders
        self._frames: dict = dict(frames or {})
        self._names = [*self._frames, *(name for name in loaders if name not in self._frames)]
        self._failed: dict[str, list[Problem]] = {}

    def __getitem__(self, name: str):
        if name not in self._frames:
            if name in self._failed:
                raise DataError(self._failed[name])
            try:
                self._frames[name] = self._loaders[name]()
            except DataError as exc:
                self._failed[name] = exc.problems
                raise
        return self._frames[name]

    def __iter__(self):
        return iter(self._names)

    def __contains__(self, name) -> bool:  # asking whether a table exists does not read it
        return name in self._frames or name in self._loaders

    def __len__(self) -> int:
        return len(self._names)


def empty_table(res: dict):
    """An optional table the dataset leaves out: no rows, the program's columns and types."""
    import pandas as pd

    kinds = {"integer": "Int64", "number": "float64", "boolean": "boolean"}
    frame = pd.DataFrame({f["name"]: pd.Series([], dtype=kinds.get(f["type"], object))
                          for f in res["schema"]["fields"]})
    frame[LINE] = pd.Series([], dtype="int64")
    return frame


def _trusted_frames(root: Path, descriptor: dict) -> LazyTables:
    """The bundled tables typed without re-checking them, each when first used: the test suite
    validates the bundled data with `check`, and the csv module is ~10x faster than pandas'
    per-call overhead on tables this small (the start-up budget for a data command is 20 ms of
    loading)."""
    return LazyTables({res["name"]: functools.partial(_trusted_frame, root, res)
                       for res in descriptor["resources"]})


def _trusted_frame(root: Path, res: dict):
    import pandas as pd

    with open(root / resource_file(res), encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if any(c.strip() for c in r)]
    index = {h.strip(): i for i, h in enumerate(header)}
    columns = {}
    for f in res["schema"]["fields"]:
        i, kind = index[f["name"]], f["type"]
        cells = [r[i].strip() for r in rows]
        if kind == "integer":
            columns[f["name"]] = pd.array([int(c) if c else None for c in cells], dtype="Int64")
        elif kind == "number":
            columns[f["name"]] = [float(c) if c else float("nan") for c in cells]
        elif kind == "boolean":
            columns[f["name"]] = pd.array([_BOOL[c.lower()] if c else None for c in cells],
                                          dtype="boolean")
        else:
            columns[f["name"]] = pd.Series([c or None for c in cells], dtype=object)
    return pd.DataFrame(columns, columns=[f["name"] for f in res["schema"]["fields"]])


# --- checked datasets kept between runs -------------------------------------------------------------
# Checking a user's dataset is most of a command's time on a large one (about 5 s of 100,000 studies).
# Once checked, its typed tables are kept in the user's cache folder under a key made from the bytes
# of every file read and the checking code itself: a later run on the same bytes reads them back;
# any change to a file (or to the program) makes a new key, so the dataset is checked again. Only
# valid datasets are kept. XPO1_CACHE names the folder, or turns this off ("off"). The entries hold
# numbers and texts only, in a format read without pickle (see `cache`): nothing kept is ever run.
# The tables every load reads are one entry; each table read on first use (see `table_groups`) is
# an entry of its own, keyed by its bytes and those of the tables it refers to.

CACHE_ENV = "XPO1_CACHE"


def cache_dir() -> Path | None:
    """Where checked datasets are kept: XPO1_CACHE, else $XDG_CACHE_HOME/xpo1, else ~/.cache/xpo1;
    None when XPO1_CACHE is "off" (or "0" or empty)."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return None if given.strip().lower() in ("", "0", "off", "no", "false") else Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xpo1"


def _content_key(root: Path, descriptor: dict, names=None, label: str = "") -> str:
    """A digest of everything a check of the tables `names` reads (default: the tables every
    load reads, see `table_groups`): the descriptor, those tables' files' bytes, the program's
    own schema, the code of this module and of the cache's format, and the library versions that
    type the frames. It begins with the dataset folder's mark and the label's (what the entry
    holds: '' for the tables every load reads, else one table's name), so that an entry replaces
    the one it updates."""
    import hashlib
    import sys

    import pandas as pd

    if names is None:
        names = table_groups(descriptor)[0]
    digest = hashlib.blake2b(digest_size=20)
    for part in (json.dumps(descriptor, sort_keys=True), json.dumps(_bundled_descriptor(), sort_keys=True),
                 Path(__file__).read_text(encoding="utf-8"), Path(__file__).with_name("cache.py").read_text(
                     encoding="utf-8"), pd.__version__, sys.version, json.dumps([label, list(names)])):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for res in descriptor.get("resources", []):
        if not isinstance(res, dict) or res.get("name") not in names:
            continue
        path = root / resource_file(res)
        try:  # only a regular file of a readable size is read (a named pipe would block)
            st = path.stat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_file_bytes():
                raise ValueError("not read")
            digest.update(path.read_bytes())
        except (OSError, ValueError):
            digest.update(b"\0unreadable")
        digest.update(b"\0")
    mark = hashlib.blake2b(str(root).encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    held = hashlib.blake2b(label.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"{mark}-{held}-{digest.hexdigest()}"


def _read_checked(key: str, names) -> dict | None:
    """The checked tables kept under key, or None (none kept, caching off, or an entry that is not
    the user's own or does not decode: see `cache`). An entry holds data only, never code."""
    from .cache import read_entry

    folder = cache_dir()
    return None if folder is None else read_entry(folder, key, names)


def _keep_checked(key: str, tables: dict, whole: bool = True) -> None:
    """Keep a valid dataset's tables under key, replacing what was kept for the same folder (whole:
    every entry of the folder, the tables read on first use too; else the entry of the same
    label); a cache that cannot be written is skipped silently (the run's answer does not depend
    on it)."""
    from .cache import write_entry

    folder = cache_dir()
    if folder is not None:
        mark, held, _ = key.split("-")
        write_entry(folder, key, tables, replaces=f"{mark}-" if whole else f"{mark}-{held}-")


def _check_extra(root: Path, descriptor: dict, name: str, core: Mapping) -> tuple:
    """A table that a load reads on first use, checked with the tables it refers to (those of
    core, the tables every load reads, as they were read): its typed frame (with a LINE column;
    None when unusable) and every problem of it and of the tables it refers to."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    group = [n for n in _refers(specs, name) if n not in core]
    limit = max_file_bytes()
    unread = {n: file_problem(root / resource_file(specs[n]), limit) for n in group}
    if any(reason and reason.startswith("file too large") for reason in unread.values()):
        return None, [Problem(resource_file(specs[n]), None, None, reason) for n, reason in unread.items() if reason]
    problems: list[Problem] = []
    frames: dict = {}
    for n in group:
        parsed = _check_table(n, specs[n], root, problems, None)
        if parsed is not None:
            frames[n] = parsed
    if len(frames) == len(group):
        targets = {n: core[n] for n in _refers(specs, name) if n in core}
        _check_keys({**frames, **targets}, {"resources": [specs[n] for n in group]}, problems)
    return frames.get(name), list(dict.fromkeys(problems))


def keep(root: Path, descriptor: dict, frames: dict) -> None:
    """Keep the tables of the package at root that `check` found valid (its frames, given up here
    one by one) as `load` and each table's first use keep them: the next run on the same bytes
    reads them back instead of checking them again (a folder an import wrote, checked in full
    before it was put in place)."""
    if cache_dir() is None:
        return
    root = root.resolve()
    specs = {r["name"]: r for r in descriptor["resources"]}
    core, extra = table_groups(descriptor)

    def typed(name: str):
        return _shared_texts(frames.pop(name).drop(columns=LINE).reset_index(drop=True))

    _keep_checked(_content_key(root, descriptor, core), {name: typed(name) for name in core})
    for name in extra:
        _keep_checked(_content_key(root, descriptor, _refers(specs, name), label=name), {name: typed(name)},
                      whole=False)


def _checked_extra(root: Path, descriptor: dict, name: str, core: Mapping):
    """A table a load reads on first use: kept in the cache on its own (under the bytes of its
    file and of the files it refers to), else checked, and kept when valid; DataError when not."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    key = _content_key(root, descriptor, _refers(specs, name), label=name)
    kept = _read_checked(key, [name])
    if kept is not None:
        return kept[name]
    frame, problems = _check_extra(root, descriptor, name, core)
    if problems:
        raise DataError(problems)
    frame = _shared_texts(frame.drop(columns=LINE).reset_index(drop=True))
    _keep_checked(key, {name: frame}, whole=False)
    return frame


def _shared_texts(frame):
    """The frame with each text column's equal values held as one object: a large dataset
    repeats a few values (a measure, a source, a cohort name) millions of times, and each cell
    read from a file is its own string until then. Kept (and read back from the cache) that way,
    the tables take a fifth less memory; no cell changes."""
    import numpy as np
    import pandas as pd

    for col in frame.columns:
        series = frame[col]
        if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
            continue
        codes, uniques = pd.factorize(series)
        if 2 * len(uniques) > len(series):  # mostly distinct values: nothing to share
            continue
        cells = series.to_numpy(dtype=object, copy=True)
        hit = codes >= 0
        cells[hit] = np.asarray(uniques, dtype=object)[codes[hit]]
        frame[col] = pd.Series(cells, index=series.index, dtype=series.dtype, copy=False)
    return frame


def load(path: str | os.PathLike | None = None) -> Dataset:
    """The dataset at path (default: XPO1_DATA, else the bundled one), typed and cached. A user's
    dataset is checked against the schema when its bytes are new (see `cache_dir`), a table of its
    own that the program's tables do not refer to (an import's registry tables) when first used;
    the bundled one is checked by the tests."""
    root = resolve_root(path).resolve()
    descriptor = read_descriptor(root)
    state = _fingerprint(root, descriptor)
    known = _CACHE.get(root)
    if known is not None and known[0] == state:
        if isinstance(known[1], list):
            raise DataError(known[1])
        return known[1]
    if root == bundled_root().resolve():
        tables = _trusted_frames(root, descriptor)
    else:
        core, extra = table_groups(descriptor)
        key = _content_key(root, descriptor, core)
        frames = _read_checked(key, core)
        if frames is None:
            descriptor, checked, problems = check(root, extra=False)
            if problems:
                _CACHE[root] = (state, problems)
                raise DataError(problems)
            frames = {name: _shared_texts(frame.drop(columns=LINE).reset_index(drop=True))
                      for name, frame in checked.items()}
            _keep_checked(key, frames)
        tables = LazyTables({name: functools.partial(_checked_extra, root, descriptor, name, frames)
                             for name in extra}, frames)
    ds = Dataset(root=root, descriptor=descriptor, tables=tables)
    _CACHE[root] = (state, ds)
    return ds


def write_package(ds: Dataset, out_dir: Path) -> list[Path]:
    """The dataset's stored tables as CSV (booleans true/false, whole numbers without decimals,
    missing as empty) and its descriptor, so that `load(out_dir)` gives the same frames."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for res in ds.descriptor["resources"]:
        cols = [f["name"] for f in res["schema"]["fields"]]
        frame = ds.tables[res["name"]][cols].copy()
        for f in res["schema"]["fields"]:
            if f["type"] == "boolean":
                frame[f["name"]] = frame[f["name"]].astype(object).map(
                    lambda v: "" if pd.isna(v) else ("true" if bool(v) else "false"))
        path = out_dir / resource_file(res)
        frame.to_csv(path, index=False, lineterminator="\n", float_format="%.15g")
        written.append(path)
    target = out_dir / "datapackage.json"
    target.write_text(json.dumps(ds.descriptor, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*written, target]
