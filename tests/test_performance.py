"""The speed-ups keep their promises: the same rows and tables as the slow paths, a dataset loaded
and derived once and re-read when its files change, and a start-up that imports and builds only
what the command needs."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import typer.main
from typer.core import TyperGroup

from xpo1cli import checks, data, datapackage, query
from xpo1cli.cache import SUFFIX
from xpo1cli.cli import app
from xpo1cli.cli.errors import Group
from xpo1cli.values import row_tuples

from .conftest import DATA, HANG, ROOT

COMMANDS = ["list", "show", "compare", "regimens", "diseases", "agents", "export", "schema", "package", "audit",
            "validate",
            "import", "response", "survival", "toxicity", "pool", "indirect", "trials", "syntheses", "sources", "cite",
            "brief"]


def fresh_env(**extra: str) -> dict:
    """The caller's environment without what would change a run (bytecode is written: as a user's)."""
    drop = ("PYTHONDONTWRITEBYTECODE", "XPO1_DATA", "NO_COLOR", "COLUMNS", "_XPO1_COMPLETE", "COMP_WORDS",
            "COMP_CWORD")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


# --- row_tuples: itertuples' rows, faster ----------------------------------------------------------


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "study": ["a", None, "c"],
        "n": pd.array([12, None, 3], dtype="Int64"),
        "median": [1.5, float("nan"), 2.0],
        "headline": pd.array([True, None, False], dtype="boolean"),
        "rank": np.array([1, 2, 3]),
        "done": [True, False, True],
        "first name": ["x", "y", "z"],  # not an identifier
        "class": [1, 2, 3],  # a keyword
        "1st": [0.5, 0.25, 0.0],
        "_hidden": ["p", "q", "r"],
    }, index=["r1", "r2", "r3"])


FRAMES = {
    "mixed dtypes and names": mixed_frame,
    "duplicate column names": lambda: pd.concat([mixed_frame(), mixed_frame()[["study", "n", "median"]]], axis=1),
    "rows filtered and reordered": lambda: mixed_frame().iloc[[2, 0]],
    "no rows": lambda: mixed_frame().iloc[:0],
    "empty": pd.DataFrame,
    "bundled outcomes": lambda: data.load().outcomes,
    "bundled cohorts, some rows": lambda: data.load().cohorts.query("headline == True"),
}


def same_cell(got, want) -> bool:
    """Equal cells: NaN as NaN, NA as NA; a nullable column's numpy scalar as its Python value."""
    if want is pd.NA:
        return got is pd.NA
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, np.generic):  # Int64 and boolean cells come as int and bool (documented)
        return type(got) is type(want.item()) and got == want
    return type(got) is type(want) and got == want


@pytest.mark.parametrize("make", FRAMES.values(), ids=FRAMES.keys())
def test_row_tuples_gives_the_rows_of_itertuples(make):
    """Code that moved from itertuples to row_tuples reads the same fields and cells."""
    frame = make()
    for kwargs in ({}, {"index": False}, {"name": None}, {"index": False, "name": None}, {"name": "Row"}):
        got, want = list(row_tuples(frame, **kwargs)), list(frame.itertuples(**kwargs))
        assert len(got) == len(want) == len(frame), kwargs
        for g, w in zip(got, want, strict=True):
            assert type(g).__name__ == type(w).__name__, kwargs
            assert getattr(g, "_fields", None) == getattr(w, "_fields", None), kwargs
            assert len(g) == len(w) and all(same_cell(a, b) for a, b in zip(g, w, strict=True)), (kwargs, g, w)
        if kwargs.get("name", "") is None:
            assert all(type(g) is tuple for g in got)


def test_row_tuples_fields_by_name():
    """Attribute access works as with itertuples, also for renamed and repeated columns."""
    frame = pd.concat([mixed_frame(), mixed_frame()[["n"]]], axis=1)
    row = next(iter(row_tuples(frame)))
    assert (row.Index, row.study, row.n, row.headline, row.rank) == ("r1", "a", 12, True, 1)
    assert row._fields == next(frame.itertuples())._fields
    assert row._fields[7:11] == ("_7", "_8", "_9", "_10") and row[-1] == 12


# --- load(): cached per dataset root, re-read when a file changes -----------------------------------


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "pkg"
    shutil.copytree(DATA, root)
    return root


SVD_ORR = "svd-ref16,evaluable,ORR,,25,40,"  # outcomes.csv: 25 responders of 40


def svd_orr(ds) -> int:
    o = ds.outcomes
    row = o[(o["study"] == "svd-ref16") & (o["cohort"] == "evaluable") & (o["measure"] == "ORR")]
    assert len(row) == 1
    return int(row["count"].iloc[0])


def rewrite(path, old: str, new: str) -> None:
    """Replace text in a file and move its modification time a second on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def counting_check(monkeypatch) -> list:
    """Count the full checks of a dataset (what a cached load must not repeat)."""
    calls, real = [], checks.check
    monkeypatch.setattr(data, "check", lambda root, **kw: calls.append(root) or real(root, **kw))
    return calls


def test_load_of_unchanged_files_returns_the_same_dataset(package, monkeypatch):
    """A second load of the same folder reuses the dataset without checking it again."""
    first = data.load(package)
    calls = counting_check(monkeypatch)
    assert data.load(package) is first
    assert data.load(str(package / "datapackage.json")) is first
    assert calls == []


def test_load_sees_a_rewritten_table(package):
    """A figure edited in a CSV (same size, later modification time) is what the next load shows."""
    first = data.load(package)
    rewrite(package / "outcomes.csv", SVD_ORR, SVD_ORR.replace(",25,", ",26,"))
    second = data.load(package)
    assert second is not first
    assert (svd_orr(first), svd_orr(second)) == (25, 26)
    assert data.load(package) is second


def test_load_sees_a_table_replaced_with_the_same_size_and_time(package):
    """A file saved by rename (a new file, same size and modification time) is read again."""
    first = data.load(package)
    path = package / "outcomes.csv"
    st = path.stat()
    tmp = package / "outcomes.csv.new"
    tmp.write_text(path.read_text(encoding="utf-8").replace(SVD_ORR, SVD_ORR.replace(",25,", ",27,")),
                   encoding="utf-8")
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert svd_orr(data.load(package)) == 27 and svd_orr(first) == 25


def test_broken_dataset_gives_the_same_problems_until_fixed(package, monkeypatch):
    """A broken dataset is refused with every problem, the same ones on every load and in validate,
    until the file is fixed."""
    data.load(package)
    rewrite(package / "outcomes.csv", SVD_ORR, SVD_ORR.replace(",25,", ",2x,"))
    with pytest.raises(datapackage.DataError) as first:
        data.load(package)
    problems = first.value.problems
    assert datapackage.Problem("outcomes.csv", 23, "count", "'2x' is not an integer") in problems
    calls = counting_check(monkeypatch)
    with pytest.raises(datapackage.DataError) as again:
        data.load(package)
    assert again.value.problems == problems and str(again.value) == str(first.value)
    assert data.validate(package) == problems
    assert calls == []  # the problems found once are reused
    rewrite(package / "outcomes.csv", SVD_ORR.replace(",25,", ",2x,"), SVD_ORR)
    assert svd_orr(data.load(package)) == 25
    assert data.validate(package) == []


def forget_loads() -> None:
    """A new process, as far as load() can tell: nothing known in memory."""
    data._CACHE.clear()


def kept(folder) -> list:
    return sorted(p.name for p in folder.glob(f"*{SUFFIX}"))


def test_a_checked_dataset_is_read_back_from_the_cache_by_a_later_run(package, tmp_path, monkeypatch):
    """The next run on the same bytes reads the typed tables back instead of checking them again,
    and gets the same tables."""
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    first = data.load(package)
    assert len(kept(tmp_path / "cache")) == 1
    forget_loads()
    calls = counting_check(monkeypatch)
    again = data.load(package)
    assert calls == [] and again is not first
    for name in datapackage.TABLES:
        pd.testing.assert_frame_equal(again.tables[name], first.tables[name])


def test_a_checked_dataset_holds_each_repeated_text_once():
    """Equal texts of a column become one object (memory of a large dataset); no cell, type or
    missing value changes."""
    frame = pd.DataFrame({"measure": pd.Series(["ORR", "CR", None, "ORR"] * 3, dtype=object),
                          "unique": pd.Series([f"s{i}" for i in range(12)], dtype=object),
                          "text": pd.Series(["a", "b", None] * 4, dtype="str"),
                          "count": pd.array([1, None, 3] * 4, dtype="Int64")})
    frame.loc[3, "measure"] = "".join(["O", "RR"])  # equal to, but not, the first "ORR"
    before = frame.copy(deep=True)
    assert frame["measure"].iat[0] is not frame["measure"].iat[3]
    shared = data._shared_texts(frame)
    pd.testing.assert_frame_equal(shared, before)
    assert shared["measure"].iat[0] is shared["measure"].iat[3] is shared["measure"].iat[11]
    assert shared["measure"].iat[2] is None


def test_an_edited_file_is_checked_again_and_replaces_the_kept_entry(package, tmp_path, monkeypatch):
    """Any change of a file's bytes is checked afresh (a wrong figure is never read from the cache),
    and one entry per dataset folder is kept."""
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    data.load(package)
    before = kept(tmp_path / "cache")
    forget_loads()
    rewrite(package / "outcomes.csv", SVD_ORR, SVD_ORR.replace(",25,", ",26,"))
    calls = counting_check(monkeypatch)
    assert svd_orr(data.load(package)) == 26
    assert len(calls) == 1
    after = kept(tmp_path / "cache")
    assert len(after) == 1 and after != before


def test_an_invalid_dataset_is_never_kept(package, tmp_path, monkeypatch):
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    rewrite(package / "outcomes.csv", SVD_ORR, SVD_ORR.replace(",25,", ",2x,"))
    with pytest.raises(datapackage.DataError):
        data.load(package)
    forget_loads()
    calls = counting_check(monkeypatch)
    with pytest.raises(datapackage.DataError):
        data.load(package)
    assert len(calls) == 1 and kept(tmp_path / "cache") == []


@pytest.mark.parametrize("setting", ["off", "0", ""])
def test_the_cache_can_be_turned_off(package, tmp_path, monkeypatch, setting):
    monkeypatch.setenv("XPO1_CACHE", setting)
    monkeypatch.chdir(tmp_path)
    data.load(package)
    forget_loads()
    calls = counting_check(monkeypatch)
    data.load(package)
    assert len(calls) == 1 and list(tmp_path.glob(f"**/*{SUFFIX}")) == []


def test_a_cache_folder_that_cannot_be_written_changes_nothing(package, tmp_path, monkeypatch):
    """A cache that cannot be written (here a file where the folder should be) is skipped."""
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XPO1_CACHE", str(blocker))
    assert svd_orr(data.load(package)) == 25
    assert blocker.read_text() == "not a folder"


def test_a_damaged_cache_entry_is_checked_again(package, tmp_path, monkeypatch):
    monkeypatch.setenv("XPO1_CACHE", str(tmp_path / "cache"))
    data.load(package)
    (entry,) = (tmp_path / "cache").glob(f"*{SUFFIX}")
    entry.write_bytes(b"not an entry")
    forget_loads()
    calls = counting_check(monkeypatch)
    assert svd_orr(data.load(package)) == 25 and len(calls) == 1


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("XPO1_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "xpo1"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "xpo1"
    monkeypatch.setenv("XPO1_CACHE", "OFF")
    assert data.cache_dir() is None


def test_validate_checks_the_bundled_data_in_full(monkeypatch):
    """`xpo1 validate` of the bundled data runs every check, even though load trusts that data."""
    monkeypatch.delenv("XPO1_DATA", raising=False)
    data.load()
    calls = counting_check(monkeypatch)
    assert data.validate() == []
    assert [p.resolve() for p in calls] == [datapackage.bundled_root().resolve()]


# --- per_dataset: derived tables made once, each caller its own copy -------------------------------


class CountingTables(Mapping):
    """A dataset's tables, counting every read (a derived table made again reads them again)."""

    def __init__(self, tables):
        self.tables, self.reads = tables, 0

    def __getitem__(self, name):
        self.reads += 1
        return self.tables[name]

    def __iter__(self):
        return iter(self.tables)

    def __len__(self):
        return len(self.tables)


def fresh_dataset(tables=None) -> data.Dataset:
    """The bundled dataset as a new Dataset object: nothing derived yet."""
    ds = data.load()
    return data.Dataset(root=ds.root, descriptor=ds.descriptor, tables=tables if tables is not None else ds.tables)


@pytest.mark.parametrize("derive", [query.arm_table, query.study_table], ids=["arm_table", "study_table"])
def test_derived_table_is_made_once_and_each_caller_gets_its_own(derive):
    """Every view asks for the arm and study tables; they are made once per dataset, and a view
    that adds or edits columns of its copy changes nothing for the next one."""
    tables = CountingTables(data.load().tables)
    ds = fresh_dataset(tables)
    first = derive(ds)
    made = tables.reads
    assert made > 0 and list(ds.derived) == [derive.__name__]
    second = derive(ds)
    assert tables.reads == made  # not made again
    assert second is not first
    expected = derive.__wrapped__(ds)  # made afresh, as before memoizing
    pd.testing.assert_frame_equal(first, expected)
    pd.testing.assert_frame_equal(second, expected)
    number = next(c for c in first.columns if str(first[c].dtype) == "Int64")
    first["mine"] = "added"
    first.loc[first.index[0], "study"] = "edited"
    first.loc[first.index[0], number] = 99_999
    second.loc[:, "study"] = "all edited"
    pd.testing.assert_frame_equal(derive(ds), expected)


def test_each_dataset_keeps_its_own_derived_tables():
    """A derived table belongs to its dataset: another dataset (another --data) gets its own."""
    ds = fresh_dataset()
    fewer = fresh_dataset({**ds.tables, "studies": ds.studies.iloc[:3]})
    full = query.study_table(ds)
    assert len(query.study_table(fewer)) == 3 and len(full) == len(ds.studies) > 3
    pd.testing.assert_frame_equal(query.study_table(ds), full)
    assert list(query.study_table(fewer)["study"]) == list(ds.studies["study"].iloc[:3])


# --- LazyTables: the bundled tables read on first use ----------------------------------------------


def test_bundled_tables_are_read_when_first_used(monkeypatch):
    """A command pays only for the tables it reads; every table is still listed."""
    monkeypatch.setattr(data, "_CACHE", {})
    ds = data.load()
    assert isinstance(ds.tables, data.LazyTables) and ds.tables._frames == {}
    names = [r["name"] for r in ds.descriptor["resources"]]
    assert list(ds.tables) == names and set(names) == {*datapackage.TABLES, *datapackage.OPTIONAL_TABLES}
    assert ds.tables._frames == {}  # listing reads nothing
    studies = ds.studies
    assert list(ds.tables._frames) == ["studies"]
    assert ds.studies is studies  # read once
    ds.tables["cohorts"]
    assert list(ds.tables._frames) == ["studies", "cohorts"]


def test_bundled_tables_equal_the_checked_tables(monkeypatch):
    """The fast reader of the bundled data gives the frames `check` gives, dtypes included."""
    monkeypatch.setattr(data, "_CACHE", {})
    ds = data.load()
    _, frames, problems = checks.check(ds.root)
    assert problems == []
    pd.testing.assert_frame_equal(ds.studies, frames["studies"].drop(columns=datapackage.LINE).reset_index(drop=True))
    for name in datapackage.TABLES:
        checked = frames[name].drop(columns=datapackage.LINE).reset_index(drop=True)
        pd.testing.assert_frame_equal(ds.tables[name], checked, obj=name)


# --- commands built when first used ----------------------------------------------------------------


def listed_commands(help_text: str) -> dict[str, str]:
    """The Commands section of a --help: name -> short help."""
    section = help_text.split("\nCommands:\n", 1)[1]
    return {m.group(1): m.group(2) for m in re.finditer(r"^  (\S+)\s+(.*)$", section, re.M)}


def test_help_and_a_command_build_only_what_they_run(monkeypatch):
    """`xpo1 --help` builds no command, `xpo1 list` builds only list."""
    group = typer.main.get_command(app)

    def run_group(*args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
            group.main(args=list(args), prog_name="xpo1")
        assert done.value.code == 0, out.getvalue()
        return out.getvalue()

    assert list(listed_commands(run_group("--help"))) == COMMANDS
    assert group.commands == {}
    assert "storm-ref13" in run_group("list", "-d", "MM", "-f", "csv")
    assert set(group.commands) == {"list"}


def test_help_of_a_fresh_process_reads_as_if_every_command_were_built(monkeypatch):
    """The command list read from the docstrings is the one click prints from the built commands."""
    proc = subprocess.run([sys.executable, "-m", "xpo1cli", "--help"], capture_output=True, text=True,
                          cwd=ROOT, env=fresh_env(COLUMNS="80"), timeout=HANG)
    assert proc.returncode == 0, proc.stderr
    shown = listed_commands(proc.stdout)
    assert list(shown) == COMMANDS and all(shown.values())

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(Group, "format_commands", TyperGroup.format_commands)  # click's, from built commands
    group = typer.main.get_command(app)
    for name in Group.lazy:
        group.get_command(None, name)
    assert list(group.commands) == COMMANDS
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        group.main(args=["--help"], prog_name="xpo1")
    assert done.value.code == 0
    assert proc.stdout == out.getvalue()


# --- what a fresh process imports, per command ------------------------------------------------------

IMPORTS_OF_A_RUN = """
import json, sys
sys.argv = ['xpo1', *json.loads(sys.argv[1])]
import xpo1cli.__main__
code = None
try:
    xpo1cli.__main__.main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write('\\n' + json.dumps({'code': code, 'modules': sorted(sys.modules)}) + '\\n')
"""
COMPLETE = "<complete: xpo1 list --disease >"
COMPLETION_ENV = {"_XPO1_COMPLETE": "complete_bash", "COMP_WORDS": "xpo1 list --disease ", "COMP_CWORD": "3"}
STATISTICS = {"scipy", "statsmodels", "matplotlib", "jinja2"}


def run_fresh(line: str) -> tuple[str, int, set[str]]:
    """Run one command line in a new interpreter: its stdout, exit code and the modules it
    imported (top-level packages, and in full the ones listed in SUBMODULES)."""
    argv, env = ([], COMPLETION_ENV) if line == COMPLETE else (shlex.split(line), {})
    proc = subprocess.run([sys.executable, "-c", IMPORTS_OF_A_RUN, json.dumps(argv)], capture_output=True,
                          text=True, cwd=ROOT, env=fresh_env(**env), timeout=HANG)
    try:
        report = json.loads(proc.stderr.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"{line}: {proc.stderr[-1500:]}")
    modules = set(report["modules"])
    return proc.stdout, report["code"], {m.split(".")[0] for m in modules} | (modules & SUBMODULES)


# scipy.special's package __init__ builds its array-API layer (about 0.2 s); the intervals need
# only its compiled ufuncs (stats.special)
ARRAY_API = "scipy._lib._array_api"
SUBMODULES = {ARRAY_API}


@pytest.mark.parametrize(("lines", "forbidden", "required"), [
    pytest.param(["--help", "--version", COMPLETE],
                 {"pandas", "numpy", "rich"} | STATISTICS, set(), id="help-version-completion"),
    pytest.param(["list -d MM -f csv", "compare SVd SPd -f csv", "survival -d MM -f csv", "toxicity -d MM -f csv",
                  "show 19 -f json"], STATISTICS, {"pandas"}, id="views"),
    pytest.param(["response -d MM -f csv", "pool -d MM --across-regimens --allow-mixed -f csv",
                  "pool -d MM --method REML --knha --by regimen --allow-mixed -f csv"],
                 STATISTICS - {"scipy"} | SUBMODULES, {"pandas", "scipy"}, id="intervals"),
    pytest.param(["brief -d MM -f markdown"], {"statsmodels", "matplotlib"}, {"pandas"}, id="brief"),
])
def test_a_fresh_process_imports_only_what_the_command_needs(lines, forbidden, required):
    """Start-up time is mostly imports: help and completion load no data stack, the views no
    statistics, the intervals scipy's compiled functions without its array-API layer or
    statsmodels."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = dict(zip(lines, pool.map(run_fresh, lines), strict=True))
    for line, (out, code, modules) in runs.items():
        assert code == 0 and out.strip(), (line, code, out[:300])
        assert not modules & forbidden, (line, sorted(modules & forbidden))
        assert required <= modules, (line, sorted(required - modules))
    if COMPLETE in runs:
        assert runs[COMPLETE][0].split()[:2] == ["MM", "WM"]
        assert runs["--version"][0].startswith("xpo1 ")
        assert "Commands:" in runs["--help"][0]


SPECIAL = ("betaincinv", "ndtri", "stdtrit", "chdtrc", "expit", "binom")
SPECIAL_OF_A_RUN = """
import json, sys
from xpo1cli.stats import special
names = json.loads(sys.argv[1])
found = special(*names)
bare = 'scipy.special' in sys.modules
cheap = 'scipy._lib._array_api' not in sys.modules
import scipy.special
same = all(getattr(scipy.special, name) is f for name, f in zip(names, found))
again = all(a is b for a, b in zip(special(*names), found))
print(json.dumps({'bare_left': bare, 'cheap': cheap, 'same': same, 'again': again}))
"""


def test_scipy_functions_come_from_its_compiled_module_and_are_scipy_special_s_own():
    """stats.special skips scipy.special's __init__ and leaves no trace of doing so: a later
    `import scipy.special` runs in full and has the very same functions."""
    proc = subprocess.run([sys.executable, "-c", SPECIAL_OF_A_RUN, json.dumps(SPECIAL)], capture_output=True, text=True,
                          cwd=ROOT, env=fresh_env(), timeout=HANG)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert json.loads(proc.stdout) == {"bare_left": False, "cheap": True, "same": True, "again": True}


def test_binom_is_scipy_comb_for_the_series_coefficients():
    """The leave-one-out series takes C(m+n-1, n) from binom: scipy's comb, inexact, is binom
    wherever 0 <= n <= m+n-1, which holds for m >= 1."""
    from scipy.special import binom, comb

    n = np.arange(40)
    for m in (1, 2, 3):
        assert np.array_equal(binom(m + n - 1, n), comb(m + n - 1, n))
