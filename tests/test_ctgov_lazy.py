"""An imported dataset's registry tables are read and checked when a command first uses them, each
kept in the cache as an entry of its own: a command on the curated tables pays nothing for them,
and a broken registry table is still found (by the command that reads it, and by validate)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from xpo1cli import cache, checks, ctgov, data, datapackage
from xpo1cli.data import load, validate
from xpo1cli.datapackage import DataError, Problem

from .test_ctgov import FIXTURES, myeloma_variant, run


@pytest.fixture(scope="module")
def imported_once(tmp_path_factory) -> Path:
    """A dataset of two imports (a record placed in the curated tables, then a real record), made
    once: each test works on its own copy (`imported`)."""
    folder = tmp_path_factory.mktemp("imported")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XPO1_CACHE", str(folder / "cache"))
        run([myeloma_variant()], folder)
        problems: list[Problem] = []
        recs = list(ctgov.iter_records([FIXTURES / "NCT00763412.json"], problems))
        base = load(folder / "out")
        ctgov.write_imported(ctgov.import_records(recs, base.descriptor, base.tables), folder / "both")
    data._CACHE.clear()
    return folder / "both"


@pytest.fixture
def imported(imported_once, tmp_path, monkeypatch) -> Path:
    """A copy of the imported dataset of its own, with an empty cache and nothing kept in the
    process: a new process, as far as load() can tell."""
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    shutil.copytree(imported_once, tmp_path / "both")
    data._CACHE.clear()
    return (tmp_path / "both").resolve()


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{cache.SUFFIX}"))


def forget() -> None:
    data._CACHE.clear()


def test_the_registry_tables_are_read_when_first_used(imported, tmp_path):
    ds = load(imported)
    core, extra = datapackage.table_groups(ds.descriptor)
    assert extra == list(ctgov.REGISTRY_TABLES) and set(core) == {*datapackage.TABLES, *datapackage.OPTIONAL_TABLES}
    assert set(ds.tables._frames) == set(core)  # nothing of the registry read yet
    assert list(ds.tables) == [*core, *extra] and "registry_events" in ds.tables
    assert len(entries(tmp_path / "cache")) == 1
    records = ds.registry_records
    assert set(records["nct_id"]) == {"NCT00763412", "NCT02552212"}
    assert set(ds.tables._frames) == {*core, "registry_records"}
    assert len(entries(tmp_path / "cache")) == 2  # the curated tables, and this table on its own


def test_each_registry_table_comes_back_from_its_own_entry(imported, tmp_path, monkeypatch):
    first = load(imported)
    tables = {name: first.tables[name] for name in first.tables}
    kept = entries(tmp_path / "cache")
    assert len(kept) == 1 + len(ctgov.REGISTRY_TABLES)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    forget()
    checked = []
    monkeypatch.setattr(checks, "_check_table", lambda *a, **k: checked.append(a[0]))
    again = load(imported)
    for name, frame in tables.items():
        assert again.tables[name].equals(frame), name
    assert checked == []  # every table read back, none checked again


def test_an_edited_registry_table_is_checked_again_alone(imported, tmp_path, monkeypatch):
    assert len(load(imported).registry_events) and len(load(imported).registry_measurements)
    before = set(entries(tmp_path / "cache"))
    forget()
    path = imported / "registry_events.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # other bytes, the same rows
    real, checked = checks._check_table, []
    monkeypatch.setattr(checks, "_check_table", lambda *a, **k: checked.append(a[0]) or real(*a, **k))
    ds = load(imported)
    assert len(ds.registry_events) and len(ds.registry_measurements)
    assert checked == ["registry_events", "registry_records"]  # the table, and the one it refers to
    after = set(entries(tmp_path / "cache"))
    assert len(after) == len(before) and len(after - before) == 1  # its old entry replaced


def test_a_broken_registry_table_fails_the_command_that_reads_it_and_validate(imported):
    path = imported / "registry_event_counts.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    cells[header.index("affected")] = "many"
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    want = Problem("registry_event_counts.csv", 2, "affected", "'many' is not an integer")
    ds = load(imported)
    assert len(ds.studies)  # the curated tables do not depend on it
    for _ in range(2):  # the same problem on every use
        with pytest.raises(DataError) as err:
            ds.tables["registry_event_counts"]  # noqa: B018 (reading it is the test)
        assert err.value.problems == [want]
    assert validate(imported) == [want]


def test_a_registry_row_naming_no_record_is_a_problem(imported):
    path = imported / "registry_measurements.csv"
    text = path.read_text(encoding="utf-8")
    assert "NCT00763412" in text
    path.write_text(text.replace("NCT00763412", "NCT00000000"), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load(imported).tables["registry_measurements"]  # noqa: B018
    assert {p.reason for p in err.value.problems} == {"'NCT00000000' not found in registry_records"}
    assert all(p.file == "registry_measurements.csv" for p in err.value.problems)


def test_validate_reports_the_registry_tables_when_the_curated_ones_are_broken(imported):
    studies = imported / "studies.csv"
    lines = studies.read_text(encoding="utf-8").splitlines(keepends=True)
    studies.write_text("".join([lines[0], lines[1], lines[1], *lines[2:]]), encoding="utf-8")
    groups = imported / "registry_event_groups.csv"
    groups.write_text(groups.read_text(encoding="utf-8").replace("NCT00763412", "NCT00000000"), encoding="utf-8")
    files = {p.file for p in validate(imported)}
    assert files == {"studies.csv", "registry_event_groups.csv"}


def test_an_import_keeps_the_tables_it_checked_for_the_first_command(tmp_path, monkeypatch):
    """The folder an import writes is checked in full before it is put in place; those tables are
    kept, so that no command on it checks them again, and they are the tables a check gives."""
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    run([myeloma_variant()], tmp_path)
    forget()
    checked = []
    real = checks._check_table
    monkeypatch.setattr(checks, "_check_table", lambda *a, **k: checked.append(a[0]) or real(*a, **k))
    ds = load(tmp_path / "out")
    kept = {name: ds.tables[name] for name in ds.tables}
    assert checked == [] and set(kept) >= set(ctgov.REGISTRY_TABLES)
    monkeypatch.setenv("XPO1_CACHE", "off")
    forget()
    fresh = load(tmp_path / "out")
    for name, frame in kept.items():
        assert fresh.tables[name].equals(frame), name
    assert "registry_records" in checked  # this time each table was checked
