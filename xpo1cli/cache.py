"""The kept tables of a checked dataset: a file that holds data and nothing that can run.

An entry is one file: a fixed header (magic, lengths, a SHA-256 of the rest), a JSON description
of every table and column, then the columns' raw little-endian arrays. Each column is one of
four kinds, read back with numpy from the bytes and never through pickle:

- float64: the values;
- Int64 (nullable whole numbers): the values and the missing mask;
- boolean (nullable): the values and the missing mask;
- text (object columns of str and None): int32 codes into the column's distinct texts, which
  the JSON holds (-1: None). Equal texts come back as one object, as `data._shared_texts`
  keeps them.

A table with any other column type is not kept (the dataset is checked on every run instead).
An entry is read only from a folder that is the user's own and that no one else can write to
(made 0700), only when the user owns the file, and only when its magic, lengths, digest, name
and every code agree: anything else is ignored, and the dataset checked again and kept anew.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from pathlib import Path

MAGIC = b"XPO1TBL\x01"  # the format's version is its last byte
SUFFIX = ".tables"
_HEAD = struct.Struct("<8sQQ32s")  # magic, JSON length, data length, SHA-256 of the JSON and the data
KINDS = {"float64": ("<f8",), "Int64": ("<i8", "?"), "boolean": ("?", "?"), "text": ("<i4",)}


class Unusable(Exception):
    """An entry that cannot be written (a column of another type) or read (damaged, foreign)."""


def _owner_ok(st: os.stat_result) -> bool:
    return not hasattr(os, "geteuid") or st.st_uid == os.geteuid()


def private_folder(folder: Path, create: bool) -> bool:
    """Whether folder may hold entries: a folder of this user that no one else can write to.
    With create, a missing one is made (mode 0700; its parents as any new folder)."""
    try:
        st = folder.stat()
    except FileNotFoundError:
        if not create:
            return False
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # whatever the umask
            st = folder.stat()
        except OSError:
            return False
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and _owner_ok(st) and not st.st_mode & 0o022


def encode(key: str, tables: dict) -> bytes:
    """The entry of these tables under key; Unusable when a column is of a type it cannot hold."""
    import numpy as np
    import pandas as pd

    chunks: list[bytes] = []
    size = 0

    def put(array, dtype: str) -> list[int]:
        nonlocal size
        raw = np.ascontiguousarray(array, dtype=dtype).tobytes()
        at = size
        chunks.append(raw + b"\0" * (-len(raw) % 8))
        size += len(raw) + (-len(raw) % 8)
        return [at, len(raw)]

    described = {}
    for name, frame in tables.items():
        n = len(frame)
        if frame.attrs or not frame.index.equals(pd.RangeIndex(n)) or not frame.columns.is_unique:
            raise Unusable(f"{name}: not a plain table")
        if not all(isinstance(c, str) for c in frame.columns):
            raise Unusable(f"{name}: a column name that is not text")
        columns = []
        for col in frame.columns:
            series = frame[col]
            dtype = series.dtype
            if dtype == np.float64:
                columns.append({"name": col, "kind": "float64", "arrays": [put(series.to_numpy(), "<f8")]})
            elif isinstance(dtype, pd.Int64Dtype | pd.BooleanDtype):
                kind = "Int64" if isinstance(dtype, pd.Int64Dtype) else "boolean"
                values, mask = series.array._data, series.array._mask
                columns.append({"name": col, "kind": kind,
                                "arrays": [put(values, KINDS[kind][0]), put(mask, "?")]})
            elif dtype == np.dtype(object):
                cells = series.to_numpy()
                codes, uniques = pd.factorize(cells, use_na_sentinel=True)
                if not all(type(u) is str for u in uniques) or any(c is not None for c in cells[codes < 0]):
                    raise Unusable(f"{name}.{col}: cells other than text and None")
                if len(uniques) >= 2**31 - 1:
                    raise Unusable(f"{name}.{col}: too many distinct texts")
                columns.append({"name": col, "kind": "text", "arrays": [put(codes, "<i4")],
                                "texts": list(uniques)})
            else:
                raise Unusable(f"{name}.{col}: a column of type {dtype}")
        described[name] = {"rows": n, "columns": columns, "labels": str(frame.columns.dtype)}
    head = json.dumps({"key": key, "tables": described}, ensure_ascii=True).encode("ascii")
    head += b" " * (-len(head) % 8)
    body = b"".join(chunks)
    digest = hashlib.sha256(head)
    digest.update(body)
    return _HEAD.pack(MAGIC, len(head), len(body), digest.digest()) + head + body


def decode(key: str, blob: bytes, names) -> dict:
    """The tables of an entry, or Unusable: every length, offset, code and the digest are checked,
    and the entry must name key and hold every table of names (a user's package may add more)."""
    import numpy as np
    import pandas as pd

    if len(blob) < _HEAD.size:
        raise Unusable("too short")
    magic, head_len, body_len, digest = _HEAD.unpack_from(blob, 0)
    start = _HEAD.size + head_len
    if magic != MAGIC or len(blob) != start + body_len:
        raise Unusable("not an entry of this version, or cut short")
    view = memoryview(blob)
    if hashlib.sha256(view[_HEAD.size:]).digest() != digest:  # SHA-256: faster here than zlib's CRC-32
        raise Unusable("damaged")
    try:
        described = json.loads(bytes(view[_HEAD.size:start]).decode("ascii"))
        if described["key"] != key or not set(names) <= set(described["tables"]):
            raise Unusable("another dataset's entry")
        tables = {}
        for name, spec in described["tables"].items():
            n = spec["rows"]
            if type(n) is not int or n < 0 or spec["labels"] not in ("object", "str"):
                raise Unusable(f"{name}: bad description")

            def array(ref, dtype: str, n=n):
                at, length = ref
                if type(at) is not int or type(length) is not int or at < 0 or at + length > body_len \
                        or length != n * np.dtype(dtype).itemsize:
                    raise Unusable("bad array")
                return np.frombuffer(blob, dtype=dtype, count=n, offset=start + at)

            columns = {}
            for col in spec["columns"]:
                kind, refs = col["kind"], col["arrays"]
                if kind not in KINDS or len(refs) != len(KINDS[kind]) or not isinstance(col["name"], str):
                    raise Unusable(f"{name}: bad column")
                if kind == "float64":
                    series = pd.Series(array(refs[0], "<f8").astype(np.float64), dtype=np.float64, copy=False)
                elif kind == "Int64":
                    series = pd.Series(pd.arrays.IntegerArray(array(refs[0], "<i8").astype(np.int64),
                                                              array(refs[1], "?").copy()), copy=False)
                elif kind == "boolean":
                    values, mask = array(refs[0], "u1"), array(refs[1], "u1")
                    if n and max(int(values.max()), int(mask.max())) > 1:
                        raise Unusable("bad boolean")
                    series = pd.Series(pd.arrays.BooleanArray(values.astype(bool), mask.astype(bool)), copy=False)
                else:
                    texts = col["texts"]
                    if not isinstance(texts, list) or not all(type(t) is str for t in texts):
                        raise Unusable("bad texts")
                    codes = array(refs[0], "<i4").astype(np.intp)  # take() is slow on other index types
                    if n and (int(codes.min()) < -1 or int(codes.max()) >= len(texts)):
                        raise Unusable("bad codes")
                    pool = np.empty(len(texts) + 1, dtype=object)
                    pool[:-1] = texts  # pool[-1] stays None: code -1
                    series = pd.Series(pool.take(codes), dtype=object, copy=False)
                columns[col["name"]] = series
            if len(columns) != len(spec["columns"]):
                raise Unusable(f"{name}: a column named twice")
            frame = pd.DataFrame(columns, copy=False) if columns else pd.DataFrame(index=pd.RangeIndex(n))
            frame.columns = pd.Index(list(columns), dtype=spec["labels"])
            tables[name] = frame
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:  # a description that
        # does not hold together (only a forged entry: the digest already matched)
        raise Unusable(str(exc)) from exc
    return tables


def read_entry(folder: Path, key: str, names) -> dict | None:
    """The tables kept under key in folder, or None: no entry, a folder or file that is not the
    user's own, or an entry that does not decode. Nothing in an entry is ever run."""
    if not private_folder(folder, create=False):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(folder / f"{key}{SUFFIX}", flags)
    except OSError:
        return None
    try:
        with open(fd, "rb", closefd=True) as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or not _owner_ok(st):
                return None
            blob = fh.read()
        return decode(key, blob, names)
    except (OSError, Unusable, MemoryError):
        return None


def write_entry(folder: Path, key: str, tables: dict, replaces: str) -> None:
    """Keep tables under key in folder (made 0700 if missing), removing the entries whose names
    start with replaces (the same dataset folder's older entries). Silent when the folder is not
    the user's own, cannot be written, or a table cannot be held: the run's answer never
    depends on the cache."""
    import tempfile

    if not private_folder(folder, create=True):
        return
    try:
        blob = encode(key, tables)
    except Unusable:
        return
    tmp = None
    try:
        for pattern in (f"{replaces}*{SUFFIX}", f"{replaces}*.pickle"):  # .pickle: entries of old versions
            for old in folder.glob(pattern):
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".", suffix=".tmp", delete=False) as fh:
            tmp = Path(fh.name)  # made 0600
            fh.write(blob)
        os.replace(tmp, folder / f"{key}{SUFFIX}")
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
