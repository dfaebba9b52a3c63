"""Bad input tried systematically, the way a user meets it.

Unknown, empty, look-alike and huge values for every command; odd mixes of options; broken user
datasets given with --data or XPO1_DATA; closed pipes and Ctrl-C. A usage error is exit 2 and one
line on stderr ('xpo1: ...', click's usage errors with a 'try ... --help' line); a dataset error is exit 1 and one line
'xpo1: invalid dataset: ...'; no run ever prints a Python traceback or writes a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from xpo1cli import datapackage

from .conftest import DATA, HANG, run, sh, xpo1_exe

LONG = "x" * 10_000
CYRILLIC_MM = "\u041c\u041c"  # 'ММ': two Cyrillic capital Em, look like the Latin 'MM'
# the tables a dataset must hold (the optional comparator tables read as empty when missing)
TABLES = tuple(r["name"] for r in json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))["resources"]
               if r["name"] not in datapackage.OPTIONAL_TABLES)


def one_line(stderr: str, prefix: str = "xpo1: ") -> str:
    """The single line a failing command prints on stderr."""
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr[:2000]
    assert lines[0].startswith(prefix), lines[0][:300]
    return lines[0]


def click_error(stderr: str) -> str:
    """click's usage error, said as xpo1's own: 'xpo1: ...' then "try 'xpo1 CMD --help'"."""
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 2 and lines[0].startswith("xpo1: "), stderr
    assert lines[1].startswith("try 'xpo1") and lines[1].endswith(" --help'"), stderr
    return lines[0]


def csv_rows(text: str, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


class CliResult:
    """Exit code and streams of an in-process run that may exit with any code."""

    def __init__(self, code, stdout, stderr):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @classmethod
    def of(cls, args, env=None):
        from typer.testing import CliRunner

        from xpo1cli.cli import app

        r = CliRunner().invoke(app, list(args), env=env)
        return cls(r.exit_code, r.stdout, r.stderr)


# --- unknown, empty, look-alike and very long values, every command --------------------------------

BAD_VALUES = [
    # list: every filter, the sort key and the format
    (["list", "--disease", "myelomaa"], "unknown disease 'myelomaa'"),
    (["list", "--disease", ""], "--disease needs a value"),
    (["list", "--disease", "   "], "--disease needs a value"),
    (["list", "--disease", CYRILLIC_MM], f"unknown disease '{CYRILLIC_MM}'"),
    (["list", "--disease", LONG], "--disease value is too long (10000 characters)"),
    (["list", "--agent", "selinexo"], "did you mean selinexor"),
    (["list", "--agent", ""], "--agent needs a value"),
    (["list", "--agent", "\u0455elinexor"], "unknown agent"),  # Cyrillic dze for 's'
    (["list", "--agent", LONG], "--agent value is too long"),
    (["list", "--partner", "bortezomibb"], "unknown partner drug or class 'bortezomibb'"),
    (["list", "--partner", ""], "--partner needs a value"),
    (["list", "--partner", "b\u043ertezomib"], "unknown partner drug or class"),  # Cyrillic o
    (["list", "--partner", "bortezomib", "--partner", LONG], "--partner value is too long"),
    (["list", "--regimen", "SVD2"], "unknown regimen 'SVD2'"),
    (["list", "--regimen", ""], "--regimen needs a value"),
    (["list", "--regimen", "\u0405Vd"], "unknown regimen '\u0405Vd'"),  # Cyrillic capital dze
    (["list", "--regimen", LONG], "--regimen value is too long"),
    (["list", "--phase", "4"], "unknown phase '4'"),
    (["list", "--phase", ""], "--phase needs a value"),
    (["list", "--phase", "\u0406"], "unknown phase"),  # Cyrillic capital I
    (["list", "--phase", LONG], "--phase value is too long"),
    (["list", "--setting", "adjuvant"], "unknown setting 'adjuvant'"),
    (["list", "--setting", ""], "--setting needs a value"),
    (["list", "--setting", "r\u0433"], "unknown setting"),  # Cyrillic ghe
    (["list", "--setting", LONG], "--setting value is too long"),
    (["list", "--type", "animal"], "unknown study type 'animal'"),
    (["list", "--type", ""], "--type needs a value"),
    (["list", "--type", "\u0441linical"], "unknown study type"),  # Cyrillic es
    (["list", "--type", LONG], "--type value is too long"),
    (["list", "--sort", "size"], "unknown sort key 'size'"),
    (["list", "--sort", ""], "unknown sort key ''"),
    (["list", "--sort", "\u043err"], "unknown sort key"),  # Cyrillic o
    (["list", "--format", "xml"], "unknown format 'xml'"),
    (["list", "--format", ""], "unknown format ''"),
    (["list", "--format", LONG], "unknown format 'xxx"),
    # show
    (["show", "99"], "no study with ref 99"),
    (["show", "0"], "no study with ref 0"),
    (["show", "svd-ref61"], "did you mean svd-ref16"),
    (["show", ""], "unknown study"),
    (["show", "   "], "unknown study"),
    (["show", "\u0455vd-ref16"], "did you mean svd-ref16"),  # Cyrillic dze
    (["show", LONG], "unknown study"),
    (["show", "16", "--format", "xml"], "unknown format 'xml'"),
    # compare
    (["compare", "SVd"], "at least two regimens"),
    (["compare", "SVd", ""], "unknown regimen ''"),
    (["compare", "SVd", "\u0405Vd"], "unknown regimen '\u0405Vd'"),
    (["compare", "SVd", LONG], "unknown regimen 'xxx"),
    (["compare", "SVd", "svd"], "the same regimen was named twice"),
    (["compare", "SVd", "XVd"], "the same regimen was named twice"),
    (["compare", "SVd", "SPd", "--disease", CYRILLIC_MM], "unknown disease"),
    (["compare", "SVd", "SPd", "--disease", LONG], "--disease value is too long"),
    (["compare", "SVd", "SPd", "--format", "xml"], "unknown format 'xml'"),
    # catalogues
    (["regimens", "--format", "xml"], "unknown format 'xml'"),
    (["regimens", "--format", ""], "unknown format ''"),
    (["diseases", "--format", "\u0441sv"], "unknown format"),  # Cyrillic es
    (["diseases", "--format", LONG], "unknown format 'xxx"),
    (["agents", "--format", "j\u0455on"], "unknown format"),
    (["agents", "--format", ""], "unknown format ''"),
    # export
    (["export", "patients"], "unknown table 'patients'"),
    (["export", ""], "unknown table ''"),
    (["export", "\u0455tudies"], "did you mean studies"),
    (["export", LONG], "unknown table 'xxx"),
    (["export", "outcomes", "--format", "table"], "export writes csv, tsv, excel, json or jsonl, not 'table'"),
    (["export", "outcomes", "--format", ""], "export writes csv, tsv, excel, json or jsonl, not ''"),
    (["export", "outcomes", "--format", LONG], "export writes csv, tsv, excel, json or jsonl"),
    # audit
    (["audit", "--format", "xml"], "unknown format 'xml'"),
    (["audit", "--strict", "--format", "\u0441sv"], "unknown format"),
    # validate (format checked when there is something to print)
    (["validate", "/no/such/folder", "--format", "xml"], "unknown format 'xml'"),
]


@pytest.mark.parametrize("args,message", [pytest.param(a, m, id=" ".join(a)[:60]) for a, m in BAD_VALUES])
def test_bad_value_is_a_one_line_usage_error(args, message):
    r = run(*args, code=2)
    line = one_line(r.stderr)
    assert message in line
    assert r.stdout == ""


# One per command, in a real process from another folder: the same line, and no traceback.
SUBPROCESS_BAD = [
    (["list", "--disease", CYRILLIC_MM], "unknown disease"),
    (["list", "--partner", LONG], "too long"),
    (["show", LONG], "unknown study"),
    (["show", "\u0455vd-ref16"], "did you mean svd-ref16"),
    (["compare", "SVd", "\u0405Vd"], "unknown regimen '\u0405Vd'"),
    (["regimens", "--format", ""], "unknown format"),
    (["diseases", "--format", "\u0441sv"], "unknown format"),
    (["agents", "--format", LONG], "unknown format"),
    (["export", "\u0455tudies"], "unknown table"),
    (["audit", "--format", "xml"], "unknown format"),
]


@pytest.mark.slow  # the same messages in-process: test_bad_value_is_a_one_line_usage_error
@pytest.mark.parametrize("args,message", [pytest.param(a, m, id=" ".join(a)[:40]) for a, m in SUBPROCESS_BAD])
def test_bad_value_in_a_real_process(tmp_path, args, message):
    p = sh(*args, cwd=tmp_path, check_code=2)
    assert message in one_line(p.stderr)
    assert p.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["list", "response", "survival", "toxicity", "pool"])
def test_shared_filters_refuse_bad_values_in_every_filtering_command(command):
    assert "unknown disease" in one_line(run(command, "--disease", CYRILLIC_MM, code=2).stderr)
    assert "--disease needs a value" in one_line(run(command, "--disease", "", code=2).stderr)
    assert "--partner value is too long" in one_line(run(command, "-p", LONG, code=2).stderr)
    assert "unknown regimen" in one_line(run(command, "--regimen", "\u0405Vd", code=2).stderr)


@pytest.mark.parametrize("args,message", [
    pytest.param(["compare", "SVd", "SPd", "--disease", ""], "--disease needs a value",
                 id="compare-empty-disease"),
    pytest.param(["toxicity", "--agent", ""], "--agent needs a value", id="toxicity-empty-agent"),
    pytest.param(["validate", "--format", "xml"], "unknown format 'xml'", id="validate-unknown-format"),
])
def test_empty_or_unknown_value_is_refused(args, message):
    r = CliResult.of(args)
    assert r.code == 2, (r.code, r.stderr[:300])
    assert message in one_line(r.stderr)


@pytest.mark.parametrize("args,message", [
    pytest.param(["show", "1" * 5000], "no study with ref", id="show-5000-digits"),
    pytest.param(["show", "\u00b2"], "no study with ref", id="show-superscript-two"),
])
def test_show_numeric_look_alikes_are_usage_errors(args, message):
    r = CliResult.of(args)
    assert "Traceback" not in r.stderr
    assert r.code == 2, (r.code, r.stderr[-500:])
    assert message in one_line(r.stderr)


@pytest.mark.parametrize("args", [
    pytest.param(["list", "--disease", "foo\nbar"], id="list-disease"),
    pytest.param(["show", "foo\nbar"], id="show"),
    pytest.param(["export", "foo\nbar"], id="export"),
])
def test_value_with_a_newline_still_gives_one_line(args):
    r = run(*args, code=2)
    assert "foo" in one_line(r.stderr)


def test_compare_two_studies_sharing_a_ref_as_a_table():
    r = CliResult.of(["compare", "S", "Sd", "--format", "table"])
    assert r.code == 0, r.stderr
    assert "Compare S vs Sd" in r.stdout and r.stderr == ""


# --- click-level usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    (["list", "--min-n", "abc"], "'--min-n'"),
    (["list", "--min-n", "-1"], "'--min-n'"),
    (["list", "--min-n", ""], "'--min-n'"),
    (["list", "--min-n", "1.5"], "'--min-n'"),
    (["list", "--min-n", "1" * 5000], "'--min-n'"),
    (["list", "--disease"], "requires an argument"),
    (["list", "--bogus"], "No such option: --bogus"),
    (["list", "--data", "somewhere"], "--data is an option of xpo1 itself"),
    (["--data"], "requires an argument"),
    (["show"], "Missing argument"),
    (["show", "16", "17"], "unexpected extra argument"),
    (["compare"], "Missing argument"),
    (["export"], "Missing argument"),
    (["export", "outcomes", "studies"], "unexpected extra argument"),
    (["regimens", "extra"], "unexpected extra argument"),
    (["diseases", "--disease", "MM"], "No such option"),
    (["agents", "-x"], "No such option"),
    (["audit", "--strict=yes"], "does not take a value"),
    (["validate", "a", "b"], "unexpected extra argument"),
    (["lst"], "No such command 'lst'"),
])
def test_click_usage_errors_end_in_one_error_line(args, message):
    r = run(*args, code=2)
    assert message.casefold() in click_error(r.stderr).casefold()
    assert r.stdout == ""


@pytest.mark.slow  # the same message in-process: test_click_usage_errors_end_in_one_error_line
def test_click_usage_error_in_a_real_process(tmp_path):
    p = sh("list", "--min-n", "many", cwd=tmp_path, check_code=2)
    assert "'--min-n'" in click_error(p.stderr)


# --- mixed case and spelling that must work ----------------------------------------------------------

SAME = [
    (["list", "--disease", "mM"], ["list", "--disease", "MM"]),
    (["list", "--disease", "MULTIPLE MYELOMA"], ["list", "--disease", "MM"]),
    (["list", "--disease", "WALDENSTROM"], ["list", "--disease", "WM"]),
    (["list", "--disease", "Non-Hodgkin Lymphoma"], ["list", "--disease", "NHL"]),
    (["list", "--disease", "  aml  "], ["list", "--disease", "AML"]),
    (["list", "--agent", "SeLiNeXoR"], ["list", "--agent", "selinexor"]),
    (["list", "--agent", "kpt-8602"], ["list", "--agent", "eltanexor"]),
    (["list", "--partner", "BORTEZOMIB"], ["list", "--partner", "bortezomib"]),
    (["list", "--partner", "Proteasome Inhibitor"], ["list", "--partner", "proteasome inhibitor"]),
    (["list", "--partner", "imid"], ["list", "--partner", "IMiD"]),
    (["list", "--regimen", "sVD"], ["list", "--regimen", "SVd"]),
    (["list", "--regimen", "s-dec"], ["list", "--regimen", "S-DEC"]),
    (["list", "--phase", "PHASE 2"], ["list", "--phase", "2"]),
    (["list", "--phase", "iB"], ["list", "--phase", "1b"]),
    (["list", "--setting", "RR"], ["list", "--setting", "rr"]),
    (["list", "--setting", "Newly Diagnosed"], ["list", "--setting", "nd"]),
    (["list", "--type", "CLINICAL"], ["list", "--type", "clinical"]),
    (["compare", "svd", "SPD"], ["compare", "SVd", "SPd"]),
    (["compare", "SVd", "SPd", "--disease", "mm"], ["compare", "SVd", "SPd", "--disease", "MM"]),
]


@pytest.mark.parametrize("variant,canonical", [pytest.param(v, c, id=" ".join(v)) for v, c in SAME])
def test_mixed_case_and_spelling_give_the_same_rows(variant, canonical):
    got = run(*variant, "--format", "csv")
    want = run(*canonical, "--format", "csv")
    assert csv_rows(want.stdout), "the canonical filter must match something"
    assert got.stdout == want.stdout
    assert "no matching rows" not in got.stderr


# --- conflicting and odd option mixes ----------------------------------------------------------------


def test_repeated_single_value_option_is_refused():
    r = run("list", "-d", "MM", "-d", "AML", "-f", "csv", code=2)
    assert "--disease given more than once" in click_error(r.stderr) and r.stdout == ""
    r = run("list", "-d", "WM", "-f", "csv", "-f", "json", code=2)
    assert "--format given more than once" in click_error(r.stderr)


def test_contradictory_filters_give_no_rows_and_say_so():
    r = run("list", "--regimen", "SVd", "--disease", "AML", "-f", "csv")
    assert r.stdout.splitlines()[0].startswith("ref,study,") and len(r.stdout.splitlines()) == 1
    assert "no matching rows" in one_line(r.stderr)
    r = run("compare", "SVd", "SPd", "--disease", "AML", "-f", "json")
    assert json.loads(r.stdout) == [] and "no matching rows" in r.stderr


def test_redundant_filters_change_nothing():
    base = run("list", "--regimen", "SVd", "-f", "csv").stdout
    assert csv_rows(base) and {r["regimen"] for r in csv_rows(base)} == {"SVd"}
    for extra in (["--partner", "bortezomib"], ["--partner", "PI", "--partner", "dex"], ["--agent", "S"],
                  ["--disease", "myeloma"], ["--sort", "ref"]):
        assert run("list", "--regimen", "SVd", *extra, "-f", "csv").stdout == base
    # --min-n 0 keeps every study of known size (a registration or a synthesis may have none)
    sized = [r for r in csv_rows(base) if r["n_enrolled"] or r["n_evaluable"]]
    assert csv_rows(run("list", "--regimen", "SVd", "--min-n", "0", "-f", "csv").stdout) == sized


def test_min_n_extremes():
    everything = csv_rows(run("list", "-f", "csv").stdout)
    sized = [r for r in everything if r["n_enrolled"] or r["n_evaluable"]]
    assert 0 < len(sized) < len(everything)
    assert csv_rows(run("list", "--min-n", "0", "-f", "csv").stdout) == sized  # unknown size never passes
    r = run("list", "--min-n", str(10**30), "-f", "csv")
    assert len(r.stdout.splitlines()) == 1 and "no matching rows" in r.stderr


def test_strict_audit_still_prints_its_findings():
    strict = run("audit", "--strict", "-f", "json", code=1).stdout
    assert json.loads(strict), "the bundled data has known findings"
    assert strict == run("audit", "-f", "json").stdout


def test_version_is_eager_and_ignores_the_rest():
    r = run("--version", "list", "--disease", CYRILLIC_MM)
    assert r.stdout.startswith("xpo1 ") and r.stderr == ""


# --- user datasets: building and breaking them --------------------------------------------------------


def copy_dataset(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in DATA.iterdir():
        if p.is_file():
            shutil.copy2(p, dest / p.name)
    return dest


def read_rows(d: Path, table: str) -> list[list[str]]:
    text = (d / f"{table}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(text.splitlines()), "one record per line, so row numbers are lines"
    return rows


def write_rows(d: Path, table: str, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (d / f"{table}.csv").write_text(buf.getvalue(), encoding="utf-8")


def set_cell(d: Path, table: str, column: str, value, where: str | None = None) -> int:
    """Set `column` in the first row whose `where` column is filled (any row if None); returns the
    line number (header = 1). `value` may be a function of the row."""
    rows = read_rows(d, table)
    head = rows[0]
    i = head.index(column)
    for n, row in enumerate(rows[1:], start=2):
        if where is None or row[head.index(where)].strip():
            row[i] = value(dict(zip(head, row, strict=True))) if callable(value) else value
            write_rows(d, table, rows)
            return n
    raise AssertionError(f"no row of {table} has {where}")


def snapshot(folder: Path) -> list[tuple]:
    """Every entry below folder with its size, mode and modification time."""
    out = []
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        out.append((str(p.relative_to(folder)), p.is_dir(), st.st_size, st.st_mode, st.st_mtime_ns))
    return out


def _missing_file(d):
    (d / "outcomes.csv").unlink()
    return "outcomes.csv", None, None, "missing file"


def _folder_in_place(d):
    (d / "outcomes.csv").unlink()
    (d / "outcomes.csv").mkdir()
    return "outcomes.csv", None, None, "is a folder"


def _empty_file(d):
    (d / "outcomes.csv").write_bytes(b"")
    return "outcomes.csv", None, None, "empty file"


def _binary(d):
    (d / "cohorts.csv").write_bytes((d / "cohorts.csv").read_bytes()[:300] + b"\x00\x01\x02\xff")
    return "cohorts.csv", None, None, "binary content (NUL bytes)"


def _latin1(d):
    text = (d / "diseases.csv").read_text(encoding="utf-8")
    assert "ö" in text
    (d / "diseases.csv").write_bytes(text.encode("latin-1"))
    return "diseases.csv", None, None, "not UTF-8"


def _broken_quote(d):
    lines = (d / "outcomes.csv").read_text(encoding="utf-8").splitlines()
    lines.append('svd-ref16,evaluable,"ORR,1,40')
    (d / "outcomes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "outcomes.csv", len(lines), None, "broken CSV"


def _missing_column(d):
    rows = read_rows(d, "outcomes")
    i = rows[0].index("note")
    write_rows(d, "outcomes", [r[:i] + r[i + 1:] for r in rows])
    return "outcomes.csv", 1, "note", "missing column"


def _wrong_type(d):
    line = set_cell(d, "outcomes", "count", "abc", where="count")
    return "outcomes.csv", line, "count", "'abc' is not a"


def _unknown_enum(d):
    line = set_cell(d, "outcomes", "measure", "XYZ")
    return "outcomes.csv", line, "measure", "'XYZ' is not one of"


def _duplicate_key(d):
    rows = read_rows(d, "drugs")
    rows.append(list(rows[1]))
    write_rows(d, "drugs", rows)
    return "drugs.csv", len(rows), "drug", f"duplicate key {rows[1][0]}"


def _dangling_foreign_key(d):
    line = set_cell(d, "studies", "agent", "nodrug")
    return "studies.csv", line, "agent", "'nodrug' not found in drugs"


def _count_above_denominator(d):
    line = set_cell(d, "outcomes", "count", lambda r: str(int(r["denominator"]) + 1), where="denominator")
    return "outcomes.csv", line, "count", "above the denominator"


def _percent_150(d):
    line = set_cell(d, "outcomes", "percent_reported", "150", where="percent_reported")
    return "outcomes.csv", line, "percent_reported", "above the maximum 100"


def _negative_median(d):
    line = set_cell(d, "outcomes", "median_months", "-1", where="median_months")
    return "outcomes.csv", line, "median_months", "below the minimum 0"


BREAKERS = {
    "missing-file": _missing_file,
    "folder-in-place": _folder_in_place,
    "empty-file": _empty_file,
    "binary": _binary,
    "latin-1": _latin1,
    "broken-quote": _broken_quote,
    "missing-column": _missing_column,
    "wrong-type": _wrong_type,
    "unknown-enum": _unknown_enum,
    "duplicate-key": _duplicate_key,
    "dangling-foreign-key": _dangling_foreign_key,
    "count-above-denominator": _count_above_denominator,
    "percent-150": _percent_150,
    "negative-median": _negative_median,
}

# Every command that reads the data, with arguments that work on the bundled data.
DATA_COMMANDS = [["list"], ["list", "--cohorts"], ["show", "16"], ["compare", "SVd", "SPd"], ["regimens"],
                 ["diseases"], ["agents"], ["export", "outcomes"], ["export", "studies"], ["audit"],
                 ["response"], ["survival"], ["toxicity"], ["pool"]]


def has_problem(problems: list[dict], file, row, column, reason) -> bool:
    """Whether a validate row names this file, row (in its row field, or as 'line N' in the reason
    of a file that cannot be parsed), column and reason."""
    def row_ok(p):
        if row is None:
            return p["row"] == ""
        return p["row"] == str(row) or (p["row"] == "" and f"line {row}" in p["reason"])

    return any(p["file"] == file and row_ok(p) and p["column"] == (column or "") and reason in p["reason"]
               for p in problems)


def located(line: str, file, row, column) -> bool:
    """Whether a one-line message locates the problem as 'file:row [column]: ...' (a file that cannot
    be parsed may say 'file: ... line N' instead)."""
    if row is None:
        return f"invalid dataset: {file}: " in line
    where = f"{file}:{row}" + (f" [{column}]" if column else "") + ": "
    return f"invalid dataset: {where}" in line or (f"invalid dataset: {file}: " in line
                                                    and f"line {row}" in line and not column)


@pytest.fixture(params=list(BREAKERS), ids=list(BREAKERS))
def broken(request, tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    expected = BREAKERS[request.param](d)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    return d, cwd, expected


@pytest.mark.slow  # in-process: test_broken_dataset_every_command_through_the_environment, ..._as_validate_argument
def test_broken_dataset_validate_names_file_row_and_column(broken):
    d, cwd, (file, row, column, reason) = broken
    before = snapshot(d)
    p = sh("--data", str(d), "validate", "--format", "csv", cwd=cwd, check_code=1)
    assert "Traceback" not in p.stderr
    problems = csv_rows(p.stdout)
    assert has_problem(problems, file, row, column, reason), problems
    assert snapshot(d) == before and list(cwd.iterdir()) == []


@pytest.mark.slow  # the same line in-process: test_broken_dataset_every_command_through_the_environment
def test_broken_dataset_list_is_one_line_invalid_dataset(broken):
    d, cwd, (file, row, column, reason) = broken
    before = snapshot(d)
    p = sh("--data", str(d), "list", cwd=cwd, check_code=1)
    line = one_line(p.stderr, "xpo1: invalid dataset: ")
    assert located(line, file, row, column) and reason in line, line
    assert p.stdout == ""
    assert snapshot(d) == before and list(cwd.iterdir()) == []


def test_broken_dataset_every_command_through_the_environment(broken, monkeypatch):
    d, _cwd, (file, row, column, reason) = broken
    before = snapshot(d)
    monkeypatch.setenv("XPO1_DATA", str(d))
    for args in DATA_COMMANDS:
        r = run(*args, code=1)
        line = one_line(r.stderr, "xpo1: invalid dataset: ")
        assert located(line, file, row, column) and reason in line, (args, line)
        assert r.stdout == ""
    r = run("validate", "--format", "json", code=1)
    problems = [{k: "" if v is None else str(v) for k, v in p.items()} for p in json.loads(r.stdout)]
    assert has_problem(problems, file, row, column, reason)
    assert snapshot(d) == before


def test_broken_dataset_as_validate_argument(broken):
    d, _cwd, (file, row, column, reason) = broken
    r = run("validate", str(d), "--format", "csv", code=1)
    assert has_problem(csv_rows(r.stdout), file, row, column, reason)
    r = run("validate", str(d / "datapackage.json"), "--format", "tsv", code=1)
    assert has_problem(csv_rows(r.stdout, "\t"), file, row, column, reason)


@pytest.mark.slow  # the same line in-process: test_broken_dataset_every_command_through_the_environment
def test_broken_dataset_through_the_environment_in_a_real_process(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    file, row, column, reason = _percent_150(d)
    p = sh("export", "outcomes", cwd=tmp_path, env={"XPO1_DATA": str(d)}, check_code=1)
    line = one_line(p.stderr, "xpo1: invalid dataset: ")
    assert located(line, file, row, column) and reason in line, line


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: root reads a chmod 000 file anyway, so an unreadable "
                           "file cannot be produced")
def test_unreadable_file(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "outcomes.csv").chmod(0)
    try:
        before = snapshot(d)
        p = sh("--data", str(d), "validate", "--format", "csv", cwd=tmp_path, check_code=1)
        problems = csv_rows(p.stdout)
        assert any(pr["file"] == "outcomes.csv" and "ermission" in pr["reason"] for pr in problems)
        p = sh("--data", str(d), "list", cwd=tmp_path, check_code=1)
        line = one_line(p.stderr, "xpo1: invalid dataset: outcomes.csv")
        assert "ermission" in line
        assert snapshot(d) == before
    finally:
        (d / "outcomes.csv").chmod(0o644)


def test_several_problems_are_all_reported_and_counted(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    expected = [_percent_150(d), _dangling_foreign_key(d), _duplicate_key(d)]
    problems = csv_rows(run("validate", str(d), "-f", "csv", code=1).stdout)
    for e in expected:
        assert has_problem(problems, *e), (e, problems)
    line = one_line(run("--data", str(d), "list", code=1).stderr, "xpo1: invalid dataset: ")
    assert f"(and {len(problems) - 1} more; run 'xpo1 validate')" in line


# --- datasets that are odd but valid --------------------------------------------------------------------


def test_utf8_bom_is_accepted(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    for p in [*d.glob("*.csv"), d / "datapackage.json"]:
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    before = snapshot(d)
    assert "valid" in one_line(run("validate", str(d), code=0).stderr, "valid: ")
    for args in (["list"], ["export", "outcomes"], ["diseases"], ["show", "19"]):
        assert run("--data", str(d), *args, "-f", "csv").stdout == run(*args, "-f", "csv").stdout
    p = run("--data", str(d), "list", "-d", "waldenström", "-f", "csv")
    assert p.stdout == run("list", "-d", "WM", "-f", "csv").stdout and p.stderr == ""
    assert csv_rows(p.stdout)
    assert snapshot(d) == before


def test_crlf_line_endings_are_accepted(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    for p in d.glob("*.csv"):
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))
    assert run("--data", str(d), "list", "-f", "csv").stdout == run("list", "-f", "csv").stdout


def test_header_only_tables_are_valid_and_commands_answer(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    for table in ("adverse_events", "approvals"):
        write_rows(d, table, read_rows(d, table)[:1])
    before = snapshot(d)
    assert "valid" in run("validate", str(d)).stderr
    assert run("--data", str(d), "list", "-f", "csv").stdout == run("list", "-f", "csv").stdout
    shown = json.loads(run("--data", str(d), "show", "47", "-f", "json").stdout)
    assert shown["study"] == "s-7plus3-ref47" and shown["adverse_events"] == []
    r = run("--data", str(d), "export", "adverse_events", "-f", "csv")
    assert {"id", "study", "term"} <= set(next(csv.reader(io.StringIO(r.stdout))))
    assert len(r.stdout.splitlines()) == 1
    assert "no matching rows" in one_line(r.stderr)
    r = run("--data", str(d), "toxicity", "-f", "json")
    assert json.loads(r.stdout) == [] and "no matching rows" in r.stderr
    assert snapshot(d) == before


def test_every_table_header_only(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    for table in (*TABLES, *datapackage.OPTIONAL_TABLES):  # the optional tables too: they name sources and diseases
        write_rows(d, table, read_rows(d, table)[:1])
    assert "valid" in run("validate", str(d)).stderr
    for args in (["list"], ["regimens"], ["diseases"], ["agents"], ["audit"], ["export", "outcomes"]):
        r = run("--data", str(d), *args, "-f", "json")
        assert json.loads(r.stdout) == [], args
        assert "no matching rows" in one_line(r.stderr)
    assert "no study with ref 16" in one_line(run("--data", str(d), "show", "16", code=2).stderr)
    assert "unknown regimen 'SVd'" in one_line(run("--data", str(d), "compare", "SVd", "SPd", code=2).stderr)
    assert "unknown disease" in one_line(run("--data", str(d), "list", "-d", "MM", code=2).stderr)


def test_dataset_without_descriptor_uses_the_bundled_schema(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "datapackage.json").unlink()
    assert "valid" in run("validate", str(d)).stderr
    assert run("--data", str(d), "list", "-f", "csv").stdout == run("list", "-f", "csv").stdout


def test_descriptor_path_works_like_its_folder(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    set_cell(d, "cohorts", "label", "RENAMED", where="n")
    by_folder = run("--data", str(d), "list", "--cohorts", "-f", "csv").stdout
    assert "RENAMED" in by_folder
    assert run("--data", str(d / "datapackage.json"), "list", "--cohorts", "-f", "csv").stdout == by_folder


# --- --data and XPO1_DATA pointing at the wrong thing ------------------------------------------------


def test_data_missing_path(tmp_path):
    missing = tmp_path / "no" / "such"
    p = run("--data", str(missing), "list", code=1)
    assert one_line(p.stderr) == f"xpo1: invalid dataset: {missing}: no such file or folder"
    p = CliResult.of(["list"], env={"XPO1_DATA": str(missing)})
    assert p.code == 1 and one_line(p.stderr) == f"xpo1: invalid dataset: {missing}: no such file or folder"
    p = run("validate", str(missing), "-f", "csv", code=1)
    assert csv_rows(p.stdout) == [{"file": str(missing), "row": "", "column": "",
                                   "reason": "no such file or folder"}]
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("name", ["studies.csv", "README.md", "datapackage.yaml"])
def test_data_file_that_is_not_a_descriptor(tmp_path, name):
    d = copy_dataset(tmp_path / "dataset")
    target = d / name
    if not target.exists():
        target.write_text("name: x\n", encoding="utf-8")
    p = run("--data", str(target), "list", code=1)
    assert one_line(p.stderr) == f"xpo1: invalid dataset: {target}: not a folder or a datapackage.json file"
    assert p.stdout == ""


def test_data_other_json_file_is_refused(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "notes.json").write_text('{"note": "not a data package"}', encoding="utf-8")
    r = CliResult.of(["--data", str(d / "notes.json"), "list", "-f", "csv"])
    assert r.code == 1 and r.stdout == ""
    assert "not a folder or a datapackage.json file" in one_line(r.stderr)


def test_data_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = one_line(run("--data", str(empty), "list", code=1).stderr)
    assert line == (f"xpo1: invalid dataset: {TABLES[0]}.csv: missing file "
                    f"(and {len(TABLES) - 1} more; run 'xpo1 validate')")
    problems = csv_rows(run("validate", str(empty), "-f", "csv", code=1).stdout)
    assert sorted(p["file"] for p in problems) == sorted(f"{t}.csv" for t in TABLES)
    assert list(empty.iterdir()) == []


def test_option_beats_environment_and_argument_beats_option(tmp_path, monkeypatch):
    bundled = run("list", "-f", "csv").stdout
    d = copy_dataset(tmp_path / "dataset")
    _percent_150(d)
    monkeypatch.setenv("XPO1_DATA", str(d))
    assert "[percent_reported]" in one_line(run("list", code=1).stderr, "xpo1: invalid dataset: ")
    assert run("--data", str(DATA), "list", "-f", "csv").stdout == bundled
    assert "valid" in one_line(run("--data", str(d), "validate", str(DATA)).stderr, "valid: ")
    problems = csv_rows(run("--data", str(DATA), "validate", str(d), "-f", "csv", code=1).stdout)
    assert [(p["file"], p["column"]) for p in problems] == [("outcomes.csv", "percent_reported")]


def test_descriptor_that_is_not_json(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "datapackage.json").write_text("{not json", encoding="utf-8")
    line = one_line(run("--data", str(d), "list", code=1).stderr, "xpo1: invalid dataset: ")
    assert "datapackage.json: unreadable descriptor" in line
    problems = csv_rows(run("validate", str(d), "-f", "csv", code=1).stdout)
    assert problems[0]["file"].endswith("datapackage.json") and "unreadable descriptor" in problems[0]["reason"]


@pytest.mark.parametrize("descriptor", [
    pytest.param("[]", id="a-list"),
    pytest.param('{"resources": 3}', id="resources-a-number"),
    pytest.param('{"resources": [{"name": "studies"}]}', id="resource-without-schema"),
])
def test_descriptor_with_the_wrong_shape(tmp_path, descriptor):
    d = copy_dataset(tmp_path / "dataset")
    (d / "datapackage.json").write_text(descriptor, encoding="utf-8")
    p = CliResult.of(["validate", str(d), "-f", "csv"])
    assert "Traceback" not in p.stderr and p.code == 1
    assert any("datapackage.json" in r["file"] for r in csv_rows(p.stdout))
    p = run("--data", str(d), "list", code=1)
    assert "datapackage.json" in one_line(p.stderr, "xpo1: invalid dataset: ")


@pytest.mark.parametrize("how", ["validate-argument", "data-option", "environment"])
def test_very_long_dataset_path(how):
    args, env = {"validate-argument": (["validate", LONG], {}), "data-option": (["--data", LONG, "list"], {}),
                 "environment": (["list"], {"XPO1_DATA": LONG})}[how]
    p = CliResult.of(args, env=env)
    assert "Traceback" not in p.stderr and p.code == 1, (p.code, p.stderr[-300:])
    if how == "validate-argument":
        assert csv_rows(p.stdout)[0]["file"] == LONG
    else:
        assert one_line(p.stderr, "xpo1: invalid dataset: xxx")


def test_duplicate_column_header(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    rows = read_rows(d, "drugs")
    write_rows(d, "drugs", [rows[0] + ["aliases"]] + [r + ["BOGUS"] for r in rows[1:]])
    r = CliResult.of(["validate", str(d), "-f", "csv"])
    assert r.code == 1
    problems = csv_rows(r.stdout)
    assert [(p["file"], p["row"], p["column"]) for p in problems] == [("drugs.csv", "1", "aliases")]
    assert "duplicate" in problems[0]["reason"]


def test_a_trailing_comma_on_every_row(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    lines = (d / "drugs.csv").read_text(encoding="utf-8").splitlines()
    (d / "drugs.csv").write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n",
                                 encoding="utf-8")
    p = CliResult.of(["validate", str(d), "-f", "csv"])
    assert "Traceback" not in p.stderr and p.code == 1, (p.code, p.stderr[-300:])
    assert any(r["file"] == "drugs.csv" and r["row"] == "2" for r in csv_rows(p.stdout))
    p = run("--data", str(d), "list", code=1)
    assert "drugs.csv:2" in one_line(p.stderr, "xpo1: invalid dataset: ")


@pytest.mark.parametrize("layout", [
    "blank-line",
    pytest.param("two-line-cell"),
])
def test_row_numbers_are_file_lines(tmp_path, layout):
    d = copy_dataset(tmp_path / "dataset")
    rows = read_rows(d, "outcomes")
    head = rows[0]
    if layout == "two-line-cell":
        rows[1][head.index("note")] = "a note\nover two lines"
    rows[4][head.index("count")] = "abc"  # the fifth record: file line 6 in both layouts
    write_rows(d, "outcomes", rows)
    if layout == "blank-line":
        lines = (d / "outcomes.csv").read_text(encoding="utf-8").splitlines()
        lines.insert(2, "")
        (d / "outcomes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "abc" in (d / "outcomes.csv").read_text(encoding="utf-8").splitlines()[5]
    problems = csv_rows(run("validate", str(d), "-f", "csv", code=1).stdout)
    assert [(p["row"], p["column"]) for p in problems] == [("6", "count")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_in_place_of_a_csv(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "outcomes.csv").unlink()
    os.mkfifo(d / "outcomes.csv")
    try:
        p = subprocess.run([*xpo1_exe(), "--data", str(d), "list"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=HANG)
    except subprocess.TimeoutExpired:
        pytest.fail("xpo1 hung reading a named pipe")
    assert p.returncode == 1 and "outcomes.csv" in one_line(p.stderr, "xpo1: invalid dataset: ")


def test_completion_on_a_latin1_dataset_prints_no_traceback(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    _latin1(d)
    env = {"_XPO1_COMPLETE": "complete_bash", "COMP_WORDS": "xpo1 list --disease ", "COMP_CWORD": "3",
           "XPO1_DATA": str(d)}
    p = sh(cwd=tmp_path, env=env, check_code=None)
    assert "Traceback" not in p.stderr and p.returncode == 0


def test_completion_on_a_broken_table_prints_no_traceback(tmp_path):
    d = copy_dataset(tmp_path / "dataset")
    (d / "regimens.csv").unlink()
    (d / "regimens.csv").mkdir()
    env = {"_XPO1_COMPLETE": "complete_bash", "COMP_WORDS": "xpo1 list --regimen ", "COMP_CWORD": "3",
           "XPO1_DATA": str(d)}
    p = sh(cwd=tmp_path, env=env)
    assert p.stdout.split() == [] and "Traceback" not in p.stderr
    env["COMP_WORDS"] = "xpo1 list --disease "
    assert sh(cwd=tmp_path, env=env).stdout.split() == ["MM", "WM", "AML", "MDS", "NHL", "DLBCL", "MCL",
                                                         "MF", "TCL", "NKTCL", "AL", "MSARC"]


# --- pipes and Ctrl-C --------------------------------------------------------------------------------


def append_rows(d: Path, table: str, records: list[dict]) -> None:
    """Append rows given by column name; columns not named stay empty."""
    head = read_rows(d, table)[0]
    with open(d / f"{table}.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([[str(r.get(c, "")) for c in head] for r in records])


@pytest.fixture(scope="module")
def big_dataset(tmp_path_factory) -> Path:
    """The bundled data plus 3000 generated cohorts: several megabytes of export output."""
    d = copy_dataset(tmp_path_factory.mktemp("big") / "dataset")
    common = {"study": "svd-ref16", "section": "generated", "source": "review"}
    append_rows(d, "cohorts", [{**common, "cohort": f"gen-{i:05d}", "label": f"generated cohort {i}",
                                "n": 40, "headline": "false"} for i in range(3000)])
    append_rows(d, "outcomes", [{**common, "cohort": f"gen-{i:05d}", "measure": m, "count": k,
                                 "denominator": 40}
                                for i in range(3000) for m, k in (("CR", 3), ("VGPR", 9), ("PR", 13))])
    return d


def shell(command: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=cwd, timeout=HANG,
                          env={k: v for k, v in os.environ.items() if k != "XPO1_DATA"})


def test_export_csv_into_head(tmp_path):
    exe = " ".join(xpo1_exe())
    p = shell(f"{exe} export outcomes --format csv | head -1", tmp_path)
    assert p.stdout.startswith("ref,study,cohort,") and len(p.stdout.splitlines()) == 1
    assert "Traceback" not in p.stderr and p.stderr == ""


def test_large_output_into_head_ends_quietly(tmp_path, big_dataset):
    exe = " ".join(xpo1_exe())
    p = shell(f"{exe} --data {big_dataset} export outcomes --format jsonl | head -1; "
              "echo \"status ${PIPESTATUS[0]}\" >&2", tmp_path)
    assert p.stdout == run("export", "outcomes", "-f", "jsonl").stdout.splitlines(keepends=True)[0]
    assert "Traceback" not in p.stderr and "Broken pipe" not in p.stderr
    assert p.stderr.strip() in ("status 0", "status 141"), p.stderr[-500:]


def test_large_output_is_complete_when_read(big_dataset):
    p = sh("--data", str(big_dataset), "export", "outcomes", "-f", "jsonl")
    lines = p.stdout.splitlines()
    assert len(lines) == len(run("export", "outcomes", "-f", "jsonl").stdout.splitlines()) + 3 * 3000
    assert json.loads(lines[-1])["cohort"] == "gen-02999"


def test_ctrl_c_during_output_exits_130_without_traceback(tmp_path, big_dataset):
    env = {k: v for k, v in os.environ.items() if k != "XPO1_DATA"}
    proc = subprocess.Popen([*xpo1_exe(), "--data", str(big_dataset), "export", "outcomes", "-f", "jsonl"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], HANG)
        assert ready, f"no output within {HANG} s"
        first = os.read(proc.stdout.fileno(), 1)  # output has started; the pipe is not read any more
        assert first == b"{"
        time.sleep(0.3)
        assert proc.poll() is None, "the output must still be blocked on the full pipe"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=HANG)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip() == "interrupted"
