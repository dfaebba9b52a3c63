"""Load the trial tables once, check them against the package schema, return typed pandas frames.

The schema lives in ``datapackage.json`` (Frictionless Table Schema) beside the CSV files; the
same checks (`checks`) serve the bundled data, a user's ``--data`` folder and ``xpo1 validate``.
A user's dataset, once checked, is kept in the cache folder and read back while its files do not
change; the bundled one is read without checking, each table on first use.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .checks import _check_extra, check
from .csvread import _BOOL
from .datapackage import (
    LINE,
    DataError,
    Problem,
    _bundled_descriptor,
    _refers,
    bundled_root,
    max_file_bytes,
    read_descriptor,
    resolve_root,
    resource_file,
    table_groups,
)

if TYPE_CHECKING:  # pandas is imported lazily: --help and completion must not pay for it
    import pandas as pd



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
# the modules whose code makes a kept table what it is: a change to any of them checks again
CHECKING_CODE = ("datapackage", "csvread", "checks", "data", "cache")


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
    own schema, the code that reads, checks and keeps the tables (CHECKING_CODE), and the library
    versions that type the frames. It begins with the dataset folder's mark and the label's (what the entry
    holds: '' for the tables every load reads, else one table's name), so that an entry replaces
    the one it updates."""
    import hashlib
    import sys

    import pandas as pd

    if names is None:
        names = table_groups(descriptor)[0]
    digest = hashlib.blake2b(digest_size=20)
    for part in (json.dumps(descriptor, sort_keys=True), json.dumps(_bundled_descriptor(), sort_keys=True),
                 *(Path(__file__).with_name(f"{name}.py").read_text(encoding="utf-8") for name in CHECKING_CODE),
                 pd.__version__, sys.version, json.dumps([label, list(names)])):
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
