"""The cache of checked datasets holds data, never code: an entry is read with numpy and JSON, not
pickle; it is read only from the user's own private folder (made 0700) and only when the user
owns it and its digest, name and codes agree. Anything else (a planted pickle, a damaged or
foreign entry) is ignored and the dataset checked again and kept anew."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpo1cli import cache, data, datapackage
from xpo1cli.checks import check

from .conftest import DATA, synthetic

NAMES = (*datapackage.TABLES, *datapackage.OPTIONAL_TABLES)
SVD_ORR = "svd-ref16,evaluable,ORR,,25,40,"  # outcomes.csv: 25 responders of 40


@pytest.fixture
def package(tmp_path) -> Path:
    root = tmp_path / "pkg"
    shutil.copytree(DATA, root)
    return root.resolve()


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("XPO1_CACHE", str(where))
    return where


def key_of(root: Path) -> str:
    return data._content_key(root, datapackage.read_descriptor(root))


def svd_orr(ds) -> int:
    o = ds.outcomes
    return int(o.loc[(o["study"] == "svd-ref16") & (o["cohort"] == "evaluable") & (o["measure"] == "ORR"),
                     "count"].iloc[0])


def checks(monkeypatch) -> list:
    """Count the full checks of a dataset (what a cached load does not repeat)."""
    calls, real = [], check
    monkeypatch.setattr(data, "check", lambda root, **kw: calls.append(root) or real(root, **kw))
    return calls


def fresh_load(root: Path):
    data._CACHE.clear()  # a new process, as far as load() can tell
    return data.load(root)


def with_orr(tables: dict, count: int) -> dict:
    """The tables with the SVd ORR count changed: a wrong figure that a trusted entry could carry."""
    tables = {k: v.copy() for k, v in tables.items()}
    o = tables["outcomes"]
    o.loc[(o["study"] == "svd-ref16") & (o["cohort"] == "evaluable") & (o["measure"] == "ORR"), "count"] = count
    return tables


class Planted:
    """A pickle that would run a shell command when loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# --- nothing kept is ever run ------------------------------------------------------------------------


def test_a_planted_pickle_is_never_run(package, folder, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    payload = pickle.dumps(Planted(marker))
    folder.mkdir(mode=0o700)
    key = key_of(package)
    for name in (f"{key}.pickle", f"{key}{cache.SUFFIX}"):  # the old format's name, and the new one's
        (folder / name).write_bytes(payload)
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 25
    assert not marker.exists() and len(calls) == 1
    assert cache.decode(key, (folder / f"{key}{cache.SUFFIX}").read_bytes(), NAMES)  # replaced by a good one
    assert not (folder / f"{key}.pickle").exists()  # the old format's entries are removed


def test_the_planted_pickle_does_run_when_unpickled(tmp_path):
    """The test above would catch a loader that unpickles: its payload really runs."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Planted(marker)))
    assert marker.exists()


def test_the_cache_reads_no_pickle():
    for module in (cache, data):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert "import pickle" not in source and "allow_pickle" not in source


# --- the folder and the entries are the user's own ---------------------------------------------------


def test_the_cache_folder_is_made_private(package, tmp_path, monkeypatch):
    where = tmp_path / "parent" / "cache"
    monkeypatch.setenv("XPO1_CACHE", str(where))
    old = os.umask(0o022)
    try:
        fresh_load(package)
    finally:
        os.umask(old)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert stat.S_IMODE(where.parent.stat().st_mode) == 0o755  # a parent is an ordinary folder
    (entry,) = where.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_folder_others_can_write_to_is_neither_read_nor_written(package, folder, monkeypatch):
    folder.mkdir()
    key = key_of(package)
    (folder / f"{key}{cache.SUFFIX}").write_bytes(cache.encode(key, with_orr(fresh_load(package).tables, 7)))
    folder.chmod(0o777)
    data._CACHE.clear()
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 25 and len(calls) == 1
    assert len(list(folder.iterdir())) == 1  # its entry untouched, nothing added


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a file away")
def test_an_entry_of_another_user_is_ignored_and_replaced(package, folder, monkeypatch):
    fresh_load(package)
    key = key_of(package)
    entry = folder / f"{key}{cache.SUFFIX}"
    entry.write_bytes(cache.encode(key, with_orr(data.load(package).tables, 7)))
    os.chown(entry, 65534, 65534)
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 25 and len(calls) == 1
    assert entry.stat().st_uid == os.geteuid()


def test_an_entry_that_is_a_link_is_not_followed(package, folder, tmp_path, monkeypatch):
    fresh_load(package)
    key = key_of(package)
    entry = folder / f"{key}{cache.SUFFIX}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(cache.encode(key, with_orr(data.load(package).tables, 7)))
    entry.unlink()
    entry.symlink_to(elsewhere)
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 25 and len(calls) == 1


def test_a_trusted_entry_is_read_without_a_check(package, folder, monkeypatch):
    """The cache is used: what the user's own entry holds is what a later run reads (which is why
    the rules above decide whose entries are read)."""
    fresh_load(package)
    key = key_of(package)
    (folder / f"{key}{cache.SUFFIX}").write_bytes(cache.encode(key, with_orr(data.load(package).tables, 7)))
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 7 and calls == []


# --- damaged entries -----------------------------------------------------------------------------------


def test_a_damaged_entry_is_checked_again_and_replaced(package, folder, monkeypatch):
    fresh_load(package)
    (entry,) = folder.iterdir()
    good = entry.read_bytes()
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0x01
    entry.write_bytes(bytes(damaged))
    calls = checks(monkeypatch)
    assert svd_orr(fresh_load(package)) == 25 and len(calls) == 1
    assert entry.read_bytes() == good


@pytest.fixture(scope="module")
def entry_blob() -> tuple[str, bytes, dict]:
    tables = data.load(DATA).tables
    return "k-1", cache.encode("k-1", tables), tables


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_=st.data())
def test_any_changed_byte_is_refused(entry_blob, data_):
    key, blob, _ = entry_blob
    at = data_.draw(st.integers(0, len(blob) - 1), label="at")
    flip = data_.draw(st.integers(1, 255), label="xor")
    changed = bytearray(blob)
    changed[at] ^= flip
    with pytest.raises(cache.Unusable):
        cache.decode(key, bytes(changed), NAMES)


@pytest.mark.parametrize("cut", [0, 10, 56, -1])
def test_a_cut_entry_is_refused(entry_blob, cut):
    key, blob, _ = entry_blob
    with pytest.raises(cache.Unusable):
        cache.decode(key, blob[:cut], NAMES)


def test_an_entry_under_another_name_is_refused(entry_blob):
    key, blob, _ = entry_blob
    with pytest.raises(cache.Unusable):
        cache.decode("k-2", blob, NAMES)
    with pytest.raises(cache.Unusable):
        cache.decode(key, blob, (*NAMES, "another_table"))


def test_codes_outside_the_texts_are_refused_even_with_a_right_digest():
    frame = pd.DataFrame({"a": pd.Series(["x", None, "y"], dtype=object)})
    blob = cache.encode("k", {"t": frame})
    at = blob.index(np.array([0, -1, 1], dtype="<i4").tobytes())
    forged = bytearray(blob)
    forged[at:at + 12] = np.array([0, -2, 1], dtype="<i4").tobytes()  # -2: the last text, by wraparound
    import hashlib

    forged[24:56] = hashlib.sha256(bytes(forged[56:])).digest()
    with pytest.raises(cache.Unusable, match="codes"):
        cache.decode("k", bytes(forged), ["t"])


# --- what is kept comes back exactly --------------------------------------------------------------------


def assert_same_tables(back: dict, tables: dict) -> None:
    assert list(back) == list(tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(back[name], frame, check_exact=True)
        assert back[name].columns.dtype == frame.columns.dtype
        assert list(back[name].dtypes) == list(frame.dtypes)


def test_the_bundled_tables_come_back_exactly(entry_blob):
    key, blob, tables = entry_blob
    assert_same_tables(cache.decode(key, blob, NAMES), tables)


def test_a_synthetic_dataset_comes_back_exactly_with_each_text_held_once(tmp_path):
    tables = synthetic(tmp_path / "synth", 300, seed=3).tables
    back = cache.decode("k", cache.encode("k", tables), NAMES)
    assert_same_tables(back, tables)
    study = back["outcomes"]["study"]
    first = {}
    for value in study:
        assert first.setdefault(value, value) is value


EDGE = pd.DataFrame({
    "f": pd.Series([0.0, -0.0, float("nan"), float("inf"), 1e-310, 2.0**53 + 1], dtype=np.float64),
    "i": pd.array([2**63 - 1, -(2**63), None, 0, 1, 2**53 + 1], dtype="Int64"),
    "b": pd.array([True, False, None, True, None, False], dtype="boolean"),
    "t": pd.Series(["", "é\u0000\n\"{}", None, "\ud800", "a" * 1000, "ORR"], dtype=object),
    "n": pd.Series([None] * 6, dtype=object),
})


def test_edge_values_come_back_exactly():
    back = cache.decode("k", cache.encode("k", {"t": EDGE, "empty": EDGE.iloc[:0]}), ["t", "empty"])
    assert_same_tables(back, {"t": EDGE, "empty": EDGE.iloc[:0].reset_index(drop=True)})
    assert np.signbit(back["t"]["f"].iloc[1]) and back["t"]["i"].iloc[0] == 2**63 - 1


@pytest.mark.parametrize("column", [
    pd.Series([1, 2], dtype=np.int64), pd.Series(["a", 1], dtype=object), pd.Series(["a", float("nan")], dtype=object),
    pd.Series(["a", "b"], dtype="string"), pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])),
], ids=["int64", "a number among texts", "nan among texts", "string", "datetime"])
def test_a_column_of_another_kind_is_not_kept(column, package, folder):
    with pytest.raises(cache.Unusable):
        cache.encode("k", {"t": pd.DataFrame({"c": column})})
    cache.write_entry(folder, "k-1", {"t": pd.DataFrame({"c": column})}, replaces="k-")
    assert not list(folder.glob(f"*{cache.SUFFIX}"))


def test_every_checked_table_can_be_kept(package):
    """The checker's column types are the four the cache holds: a new type would silently turn
    the cache off (every run would check the dataset again)."""
    cache.encode("k", fresh_load(package).tables)


def test_a_table_a_package_adds_is_kept_with_the_others(entry_blob):
    _, _, tables = entry_blob
    extra = {**tables, "registry": pd.DataFrame({"id": pd.Series(["NCT1", None], dtype=object)})}
    back = cache.decode("k", cache.encode("k", extra), NAMES)
    assert_same_tables(back, extra)


@pytest.mark.parametrize("description", [
    {"key": "k", "tables": []}, {"key": "k", "tables": {"t": {"rows": 1, "labels": "object", "columns": [1]}}},
    {"key": "k", "tables": {"t": {"rows": 1, "labels": "object",
                                  "columns": [{"name": "a", "kind": "float64", "arrays": [[0]]}]}}},
    {"key": "k", "tables": {"t": {"rows": -1, "labels": "object", "columns": []}}}, [], "text",
], ids=["tables a list", "a column a number", "an array without its length", "negative rows", "a list", "a text"])
def test_a_forged_description_with_a_right_digest_is_refused(description):
    import hashlib
    import json

    head = json.dumps(description).encode("ascii")
    head += b" " * (-len(head) % 8)
    blob = cache._HEAD.pack(cache.MAGIC, len(head), 0, hashlib.sha256(head).digest()) + head
    with pytest.raises(cache.Unusable):
        cache.decode("k", blob, ["t"])
