"""Hostile input: broken descriptors and cells, writes that cannot happen, filters that would be
dropped, misleading hints, and a seeded fuzz over every command and over broken datasets.

Every bad input must end with a non-zero exit and a short 'xpo1: ...' message, never a
traceback or 'internal error', and must leave nothing on disk but the intended output.
(tests/test_robustness.py covers the single-value look-alikes and the first broken datasets.)
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xpo1cli.cli import app

from .conftest import DATA, HANG, run, sh


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def clean_failure(r, code: int | None = None) -> str:
    """A refused run: exit 1 or 2, no traceback, first stderr line 'xpo1: ...', a 'try' hint at most."""
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr[-1500:]
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in ((code,) if code else (1, 2)), (r.exit_code, r.stderr[-500:])
    lines = r.stderr.strip("\n").splitlines()
    assert lines and lines[0].startswith("xpo1: "), r.stderr[:500]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("try 'xpo1")), r.stderr[:800]
    assert len(lines[0]) < 400, lines[0][:500]
    return lines[0]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def package(tmp_path) -> Path:
    """A fresh copy of the bundled data package with its descriptor."""
    dest = tmp_path / "pkg"
    shutil.copytree(DATA, dest)
    return dest


def edit_descriptor(d: Path, change) -> None:
    desc = json.loads((d / "datapackage.json").read_text(encoding="utf-8"))
    change({r["name"]: r for r in desc["resources"]})
    (d / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")


def field(resources: dict, table: str, name: str) -> dict:
    return next(f for f in resources[table]["schema"]["fields"] if f["name"] == name)


def set_cell(d: Path, table: str, column: str, value: str, row: int = 1) -> None:
    rows = list(csv.reader(io.StringIO((d / f"{table}.csv").read_text(encoding="utf-8"))))
    rows[row][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (d / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


# --- malformed descriptors and cells: problems located, never a crash ---------------------------------

DESCRIPTORS = {
    "unknown field type": (lambda r: field(r, "studies", "ref").update(type="date"),
                           "studies.ref", "type \"date\" is not supported"),
    "path given as a list": (lambda r: r["studies"].update(path=["studies.csv"]),
                             "studies.path", "path must be one file name"),
    "path leaving the folder": (lambda r: r["studies"].update(path="../../etc/passwd"),
                                "studies.path", "must be a file inside the package folder"),
    "non-list enum": (lambda r: field(r, "outcomes", "measure").setdefault("constraints", {}).update(
        enum="ORR"), "outcomes.measure", "'enum' must be a non-empty list"),
    "primaryKey naming a missing field": (lambda r: r["studies"]["schema"].update(primaryKey=["nope"]),
                                          "studies.primaryKey", "names 'nope', which is not a field"),
    "primaryKey not a name": (lambda r: r["studies"]["schema"].update(primaryKey=7),
                              "studies.primaryKey", "must be a field name or a list"),
    "foreign key without a reference": (lambda r: r["cohorts"]["schema"].update(foreignKeys=[{"fields": "x"}]),
                                        "cohorts.foreignKeys", "needs fields and a reference"),
    "constraints as a list": (lambda r: field(r, "studies", "ref").update(constraints=[1]),
                              "studies.ref", "constraints must be a JSON object"),
    "minimum as text": (lambda r: field(r, "studies", "ref").update(constraints={"minimum": "0"}),
                        "studies.ref", "'minimum' must be a number"),
    "broken pattern": (lambda r: field(r, "studies", "study").update(constraints={"pattern": "("}),
                       "studies.study", "'pattern' must be a valid regular expression"),
    "field the program reads retyped": (lambda r: field(r, "sources", "title").update(type="integer"),
                                        "sources.title", "type integer where the program reads string"),
}


@pytest.mark.parametrize("name", list(DESCRIPTORS))
def test_malformed_descriptor_is_a_located_problem(package, name):
    change, column, reason = DESCRIPTORS[name]
    edit_descriptor(package, change)
    problems = json.loads(invoke("validate", str(package), "-f", "json").stdout)
    assert {"file": "datapackage.json", "row": None, "column": column}.items() <= problems[0].items()
    assert any(reason in p["reason"] and p["column"] == column for p in problems), problems
    line = clean_failure(invoke("--data", str(package), "list"), 1)
    assert line.startswith("xpo1: invalid dataset: datapackage.json [")


def test_deeply_nested_descriptor(package):
    (package / "datapackage.json").write_text("[" * 100_000 + "]" * 100_000)
    r = invoke("validate", str(package))
    assert r.exit_code == 1 and "JSON nested too deeply" in r.stdout
    assert "nested too deeply" in clean_failure(invoke("--data", str(package), "agents"), 1)


@pytest.mark.parametrize("value", ["9" * 30, "9223372036854775808", "-9223372036854775809"])
def test_integer_overflow_in_a_cell(package, value):
    set_cell(package, "outcomes", "denominator", value, row=3)
    problems = json.loads(invoke("validate", str(package), "-f", "json").stdout)
    assert problems[0] == {"file": "outcomes.csv", "row": 4, "column": "denominator",
                           "reason": f"'{value}' is too large for an integer (more than 9223372036854775807)"}
    clean_failure(invoke("--data", str(package), "response"), 1)


def test_cell_over_128_kib_is_read(package):
    set_cell(package, "studies", "population", "p" * 200_000, row=2)
    assert invoke("validate", str(package)).exit_code == 0
    r = invoke("--data", str(package), "export", "studies", "-f", "json")
    assert max(len(s["population"] or "") for s in json.loads(r.stdout)) == 200_000


def test_huge_header_cell_is_cut_in_the_message(package):
    text = (package / "drugs.csv").read_text(encoding="utf-8")
    (package / "drugs.csv").write_text('"' + "h" * 140_000 + '",' + text, encoding="utf-8")
    line = clean_failure(invoke("--data", str(package), "list"), 1)
    assert "drugs.csv" in line and "h" * 60 + "…" in line


def test_empty_primary_key_twice_is_reported_not_a_crash(package):
    set_cell(package, "studies", "study", "", row=1)
    set_cell(package, "studies", "study", "", row=2)
    problems = json.loads(invoke("validate", str(package), "-f", "json").stdout)
    assert {(p["row"], p["reason"]) for p in problems if p["column"] == "study"} >= {
        (2, "required value is empty"), (3, "required value is empty")}


# --- the user's own write and encoding problems ----------------------------------------------------


def test_plot_into_a_missing_folder_is_refused_before_any_output(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    r = invoke("pool", "-d", "AML", "--plot", "/nonexistent/f.svg", "-f", "csv")
    assert clean_failure(r, 1) == "xpo1: cannot write /nonexistent/f.svg: no such folder; nothing written"
    assert r.stdout == "" and snapshot(tmp_path) == {}


def test_plot_is_complete_or_absent(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    r = invoke("pool", "-d", "AML", "--by", "regimen", "--plot", "forest.svg", "-f", "csv")
    assert r.exit_code == 0 and r.stdout.startswith("row,") or r.stdout
    assert sorted(snapshot(tmp_path)) == ["forest.svg"]
    assert (tmp_path / "forest.svg").read_text().rstrip().endswith("</svg>")
    assert oct((tmp_path / "forest.svg").stat().st_mode & 0o777) != oct(0o600)


def test_package_onto_proc_is_the_users_problem():
    line = clean_failure(invoke("package", "/proc/xpo1-package"), 1)
    assert line.startswith("xpo1: cannot write /proc/xpo1-package: ")


def test_package_on_a_full_disk_leaves_nothing_and_a_retry_works(tmp_path, monkeypatch):
    import xpo1cli.data as data

    real = data.write_package

    def full_disk(ds, out_dir):
        (out_dir / "sources.csv").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data, "write_package", full_disk)
    target = tmp_path / "new" / "pkg"
    r = invoke("package", str(target))
    assert clean_failure(r, 1) == f"xpo1: cannot write {target}: No space left on device; nothing written"
    assert snapshot(tmp_path) == {}
    monkeypatch.setattr(data, "write_package", real)
    assert invoke("package", str(target)).exit_code == 0
    assert invoke("validate", str(target)).exit_code == 0


def test_output_into_a_full_device_in_a_real_process(tmp_path):
    with open("/dev/full", "w") as full:
        import subprocess

        from .conftest import xpo1_exe
        p = subprocess.run([*xpo1_exe(), "list"], stdout=full, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path, timeout=HANG)
    assert p.returncode == 1
    assert p.stderr.strip() == "xpo1: cannot write to standard output: No space left on device"


def test_ascii_output_encoding_writes_nothing_and_says_why(tmp_path):
    p = sh("list", "-d", "MM", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"}, check_code=1)
    assert p.stdout == ""
    assert p.stderr.startswith("xpo1: the output has ") and "encoding ascii" in p.stderr
    assert "PYTHONIOENCODING=utf-8" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = sh("list", "-d", "MM", cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"})
    assert "≥VGPR" in p.stdout


def test_a_failed_run_prints_nothing_on_stdout_in_a_real_process(tmp_path):
    p = sh("response", "--level", "95", cwd=tmp_path, check_code=2)
    assert p.stdout == "" and p.stderr.strip().endswith("did you mean 0.95?")


# --- filters apply or are refused ---------------------------------------------------------------------


@pytest.mark.parametrize("args,twice", [
    (["list", "--disease", "MM", "--disease", "AML"], "--disease"),
    (["list", "-d", "MM", "-d", "AML"], "--disease"),
    (["response", "--regimen", "SVd", "-r", "SPd"], "--regimen"),
    (["list", "--agent", "selinexor", "--agent=eltanexor"], "--agent"),
    (["list", "--randomized", "--non-randomized"], "--randomized/--non-randomized"),
    (["--data", "a", "--data", "b", "list"], "--data"),
])
def test_repeated_single_value_option_is_an_error(args, twice):
    line = clean_failure(invoke(*args), 2)
    assert line.startswith(f"xpo1: {twice} given more than once")


def test_partner_still_repeats_and_means_all():
    both = {r["study"] for r in csv.DictReader(io.StringIO(
        run("list", "-p", "bortezomib", "-p", "dexamethasone", "-f", "csv").stdout))}
    assert "svd-ref16" in both and "spd-ref19" not in both


def test_toxicity_arms_applies_the_category():
    rows = list(csv.DictReader(io.StringIO(run("toxicity", "--arms", "--category", "haem", "-f", "csv").stdout)))
    assert rows and {r["term"] for r in rows} <= {"thrombocytopenia", "anaemia", "neutropenia"}
    r = run("toxicity", "--arms", "--category", "hepatic", "-f", "csv")
    assert len(r.stdout.splitlines()) == 1 and "no matching rows" in r.stderr
    assert "has no such table" in clean_failure(invoke("toxicity", "--arms", "--kind", "mitigation"), 2)


@pytest.mark.parametrize("args,env", [
    (["--data", "", "list"], None), (["--data", "  ", "agents"], None),
    (["list"], {"XPO1_DATA": ""}), (["validate"], {"XPO1_DATA": " "}),
])
def test_empty_dataset_path_is_an_error(args, env):
    line = clean_failure(invoke(*args, env=env), 2)
    assert "empty" in line


# --- hints: first, short, and right -------------------------------------------------------------------


@pytest.mark.parametrize("args,start", [
    (["list", "--regimen", "selinexor+bortezomib"],
     "xpo1: unknown regimen 'selinexor+bortezomib'; did you mean SVd (bortezomib + selinexor + dexamethasone)?"),
    (["list", "--regimen", "SXd"], "xpo1: unknown regimen 'SXd'; did you mean "),
    (["cite", "B9"], "xpo1: unknown source, study or trial 'B9'; did you mean "),
    (["show", "svd-ref61"], "xpo1: unknown study or trial 'svd-ref61'; did you mean svd-ref16"),
    (["response", "--level", "95"], "xpo1: confidence level must be"),
    (["list", "--levl", "0.9"], "xpo1: no such option: --levl"),
])
def test_hint_comes_first_and_the_line_stays_short(args, start):
    line = clean_failure(invoke(*args))
    assert line.startswith(start) and len(line) < 200, line


def test_level_as_a_percentage_suggests_the_fraction():
    assert clean_failure(invoke("pool", "--level", "95")).endswith("did you mean 0.95?")


def test_long_argument_is_not_echoed_whole():
    line = clean_failure(invoke("show", "q" * 100_000), 2)
    assert "'" + "q" * 60 + "…'" in line and len(line) < 200


def test_cite_unknown_names_source_ids_and_the_listing():
    line = clean_failure(invoke("cite", "B9"), 2)
    assert "'xpo1 sources' lists them" in line and "svd-ref16" not in line


def test_misplaced_root_option_says_where_it_goes():
    line = clean_failure(invoke("list", "--data", "somewhere"), 2)
    assert "--agent" not in line and "before the command" in line


# --- help and behaviour agree; case and dashes ----------------------------------------------------------


def test_measure_spelled_as_the_help_says():
    ge_cr = run("response", "-d", "MM", "-m", "ge_cr", "-f", "csv").stdout
    assert ge_cr == run("response", "-d", "MM", "-m", "≥CR", "-f", "csv").stdout
    assert "ge_cr_n" in ge_cr.splitlines()[0]
    assert run("response", "-m", "GE_VGPR", "-f", "csv").stdout == run("response", "-m", "≥VGPR", "-f", "csv").stdout


@pytest.mark.parametrize("variant,canonical", [
    (["list", "--sort", "ORR"], ["list", "--sort", "orr"]),
    (["list", "--format", "CSV"], ["list", "--format", "csv"]),
    (["response", "--ci", "Wilson"], ["response", "--ci", "wilson"]),
    (["export", "Outcomes"], ["export", "outcomes"]),
    (["pool", "--method", "reml", "--across-regimens", "--allow-mixed"],
     ["pool", "--method", "REML", "--across-regimens", "--allow-mixed"]),
    (["survival", "--sort", "Median"], ["survival", "--sort", "median"]),
    (["list", "--regimen", "S\u2013Vd"], ["list", "--regimen", "SVd"]),  # en dash
    (["list", "--regimen", "S\u2014Vd"], ["list", "--regimen", "SVd"]),  # em dash
    (["list", "--regimen", "S\u2212Vd"], ["list", "--regimen", "SVd"]),  # minus sign
    (["compare", "S\u2013Vd", "S\u2013Pd"], ["compare", "SVd", "SPd"]),
])
def test_case_and_pasted_dashes(variant, canonical):
    want = run(*canonical, "-f", "json").stdout if "--format" not in canonical else run(*canonical).stdout
    got = run(*variant, "-f", "json").stdout if "--format" not in variant else run(*variant).stdout
    assert json.loads(want) if want.startswith("[") else want
    assert got == want


# --- fuzz: generated arguments over every command -----------------------------------------------------

COMMANDS = ["list", "show", "compare", "response", "survival", "toxicity", "pool", "regimens", "diseases",
            "agents", "sources", "cite", "export", "schema", "audit", "validate"]
OPTIONS = ["--disease", "-d", "--agent", "--partner", "--regimen", "--phase", "--setting", "--type",
           "--min-n", "--source", "--design", "--randomized", "--non-randomized", "--cohorts", "--sort",
           "--format", "-f", "--measure", "--ci", "--level", "--method", "--category", "--kind", "--arms",
           "--chart", "--strict", "--bibtex", "--include-controls", "--include-preclinical", "--nope", "-x"]
VALUES = ["MM", "mm", "AML", "SVd", "S\u2013Vd", "selinexor+bortezomib", "1", "1b", "rr", "0", "-1", "95",
          "0.95", "1e309", "nan", "", " ", "ORR", "ge_cr", "json", "CSV", "table", "x" * 3000, "[red]x[/]",
          "a\nb", "\u041c\u041c", "16", "B9", "BOSTON", "outcomes", "../../etc", "--", "-", "'", '"', "%s",
          "\x1b[31m", "\u202e", "9" * 40]


def fuzz_args(rng: random.Random) -> list[str]:
    args = [rng.choice(COMMANDS)]
    for _ in range(rng.randint(0, 4)):
        pick = rng.random()
        if pick < 0.55:
            args.append(rng.choice(OPTIONS))
            if rng.random() < 0.8:
                args.append(rng.choice(VALUES))
        else:
            args.append(rng.choice(VALUES))
    return args


def test_fuzz_every_command_with_generated_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = random.Random(20_615)
    for _ in range(220):
        args = fuzz_args(rng)
        r = invoke(*args)
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (args, r.stderr[-800:])
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, repr(r.exception))
        assert r.exit_code in (0, 1, 2), (args, r.exit_code)
        if r.exit_code and not (args[0] in ("audit", "validate") and r.stdout):
            clean_failure(r)
    assert snapshot(tmp_path) == {}, "a fuzzed run wrote a file"


# --- fuzz: generated broken datasets ------------------------------------------------------------------

CELLS = ["", " ", "0", "-1", "1e400", "nan", "9" * 25, "1.5", "true", "x", '"', "\n", "a;b", ";", "\u2265",
         "MM;MM", "\u202e", "=1+1", "-0", "99999999", "[bold]x"]


def corrupt(d: Path, rng: random.Random) -> None:
    """One to four cells, a header or the descriptor changed at random."""
    kind = rng.random()
    if kind < 0.1:
        edit_descriptor(d, lambda r: rng.choice(list(r.values()))["schema"]["fields"].pop(
            rng.randrange(3)))
        return
    if kind < 0.2:
        table = rng.choice(sorted(p.name for p in d.glob("*.csv")))
        text = (d / table).read_text(encoding="utf-8")
        (d / table).write_text(text.replace(",", rng.choice([";", ",,", '"', ""]), 1), encoding="utf-8")
        return
    for _ in range(rng.randint(1, 4)):
        table = rng.choice(sorted(p.stem for p in d.glob("*.csv")))
        rows = list(csv.reader(io.StringIO((d / f"{table}.csv").read_text(encoding="utf-8"))))
        if len(rows) > 1:
            set_cell(d, table, rng.choice(rows[0]), rng.choice(CELLS), rng.randrange(1, len(rows)))


def test_fuzz_broken_datasets(tmp_path):
    rng = random.Random(1_504)
    commands = [["validate"], ["list"], ["show", "16"], ["toxicity"], ["response", "-f", "json"]]
    for i in range(10):
        d = tmp_path / f"broken{i}"
        shutil.copytree(DATA, d)
        corrupt(d, rng)
        before = snapshot(tmp_path)
        for cmd in commands:
            r = invoke("--data", str(d), *cmd)
            assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (i, cmd, r.stderr[-800:])
            assert r.exception is None or isinstance(r.exception, SystemExit), (i, cmd, repr(r.exception))
            assert r.exit_code in (0, 1), (i, cmd, r.exit_code, r.stderr[-300:])
            if r.exit_code and cmd != ["validate"]:
                assert clean_failure(r, 1).startswith("xpo1: invalid dataset: ")
        assert snapshot(tmp_path) == before
        shutil.rmtree(d)


def test_package_output_round_trips_through_validate(tmp_path):
    run("package", str(tmp_path / "out"))
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert invoke("validate", str(tmp_path / "out")).exit_code == 0


@pytest.mark.parametrize("phase", ["I/II", "I-II", "i/ii", "phase I/II", "1–2", "2/3", "III", "Phase 1b",
                                   "I II", "12", "1b/2", "IV", "phase", "１/２", "I/II/III", "1/2 ", "ph.2b"])
@pytest.mark.parametrize("command", [["list"], ["response"],
                                     ["pool", "--method", "REML", "--across-regimens", "--allow-mixed"]])
def test_phase_is_read_exactly_or_refused_in_every_command(phase, command):
    """A phase the grammar reads selects only studies of that phase (a bare stage: any phase with
    it); one it cannot read is a usage error naming the value, never a silently wider list."""
    from xpo1cli.query import Resolver, UnknownName, phase_matches, read_phase

    r = invoke(*command, "--phase", phase, "-f", "csv")
    try:
        wanted = Resolver.phase(phase)
    except UnknownName:
        assert clean_failure(r, 2).startswith(f"xpo1: unknown phase '{phase}'")
        return
    assert read_phase(phase) == wanted
    if r.exit_code and command[0] == "pool":  # fewer than two cohorts of that phase
        assert clean_failure(r, 2).startswith("xpo1: pooling needs at least two")
        return
    assert r.exit_code == 0, r.stderr[-300:]
    studies = {row["study"] for row in csv.DictReader(io.StringIO(r.stdout)) if row.get("study")}
    with open(DATA / "studies.csv", encoding="utf-8") as fh:
        phases = {row["study"]: row["phase"] for row in csv.DictReader(fh)}
    assert all(phase_matches(phases[s], wanted) for s in studies), (phase, studies)
    assert studies or command != ["list"]
