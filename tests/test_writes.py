"""Every write checked: a closed, full or size-limited output is the user's problem, said in one
line with exit 1, never exit 0 and never 'internal error'; the files xpo1 writes itself are whole
or absent; an empty or unusable --out is refused before any work.

The operating system's part (a closed descriptor, a full device, a file size limit) is tested on
real processes; the rest in-process."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xpo1cli import __main__ as entry
from xpo1cli.cli import COMMANDS, STATE

from .conftest import HANG, run, xpo1_exe

# the arguments of one ordinary run of every command; `package`, `validate` and `import` write
# nothing to standard output (their news goes to stderr), every other one does
ARGS = {
    "list": [], "show": ["16"], "compare": ["SVd", "SPd"], "regimens": [], "diseases": [], "agents": [],
    "export": ["studies"], "schema": [], "package": ["{tmp}/pkg"], "audit": [], "validate": [],
    "import": ["ctgov", "{fixtures}/ctgov/NCT00763412.json", "--into", "{tmp}/imported"],
    "response": [], "survival": [], "toxicity": [], "pool": ["-d", "MM", "--by", "regimen"],
    "indirect": ["SVd", "Kd", "--measure", "PFS"],
    "trials": [], "syntheses": [], "sources": [], "cite": ["S1"], "brief": ["-d", "MM"],
}
SILENT = {"package", "validate", "import"}
FIXTURES = Path(__file__).parent / "fixtures"
CLOSED = "xpo1: cannot write to standard output: it is closed; nothing written"


def real_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("XPO1_DATA", "NO_COLOR")}
    return {**env, **extra}


def snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --- a closed standard output ----------------------------------------------------------------------


@pytest.fixture
def main_in_process(monkeypatch):
    """Run xpo1's entry point in this process as a shell with a closed stdout would (Python sets
    sys.stdout to None for a closed descriptor 1); give back (exit code, stderr). The entry
    point's signal handlers and collector thresholds are put back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, getattr(signal, "SIGPIPE", signal.SIGINT))}
    threshold = gc.get_threshold()

    def call(args: list[str], stdout=None) -> tuple[int, str]:
        err = io.StringIO()
        monkeypatch.setattr(sys, "argv", ["xpo1", *args])
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", err)
        STATE["failed"] = None
        with pytest.raises(SystemExit) as exit_:
            entry.main()
        return exit_.value.code, err.getvalue()

    yield call
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    gc.set_threshold(*threshold)
    STATE["failed"] = None


def test_every_command_is_in_the_closed_stdout_table():
    assert set(ARGS) == {name for name, _, _ in COMMANDS}


@pytest.mark.parametrize("name", list(ARGS))
def test_a_closed_stdout_is_said_plainly_by_every_command(name, main_in_process, tmp_path):
    code, err = main_in_process([name, *(a.format(tmp=tmp_path, fixtures=FIXTURES) for a in ARGS[name])])
    assert "internal error" not in err and "Traceback" not in err, err
    if name in SILENT:
        assert code == 0, err
    else:
        assert (code, err.strip().splitlines()[-1]) == (1, CLOSED)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["list", "--help"]])
def test_help_and_version_into_a_closed_stdout_fail(args, main_in_process):
    assert main_in_process(args) == (1, CLOSED + "\n")


def test_a_refused_run_into_a_closed_stdout_says_only_its_refusal(main_in_process):
    code, err = main_in_process(["list", "--disease", "nosuch"])
    assert code == 2 and err.startswith("xpo1: unknown disease") and "closed" not in err


def closed_stdout():
    os.close(1)


@pytest.mark.slow  # the same rule in-process: test_a_closed_stdout_is_said_plainly_by_every_command
@pytest.mark.parametrize("args", [["list"], ["--help"], ["brief", "-d", "MM", "-f", "markdown"]])
def test_a_closed_stdout_in_a_real_process(args, tmp_path):
    p = subprocess.run([*xpo1_exe(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       cwd=tmp_path, env=real_env(), preexec_fn=closed_stdout, timeout=HANG)
    assert (p.returncode, p.stderr) == (1, CLOSED + "\n")


def test_a_closed_stdout_does_not_stop_a_command_that_writes_files(main_in_process, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main_in_process(["brief", "-d", "MM", "--html", "mm.html"]) == (0, "saved mm.html\n")
    assert (tmp_path / "mm.html").read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_a_closed_stderr_changes_no_exit_code(tmp_path):
    def closed_stderr():
        os.close(2)

    def code(*args: str) -> int:
        return subprocess.run([*xpo1_exe(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=tmp_path, env=real_env(), preexec_fn=closed_stderr, timeout=HANG).returncode

    assert (code("list"), code("list", "--disease", "nosuch"), code("nosuch")) == (0, 2, 2)


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_a_full_stderr_changes_no_exit_code(tmp_path, unbuffered):
    """A message that cannot be written is lost, not turned into another failure (exit 1 from an
    error while failing, or 120 from the interpreter's last flush)."""
    env = {k: v for k, v in real_env().items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"

    def result(*args: str) -> tuple[int, str]:
        with open("/dev/full", "wb") as full:
            p = subprocess.run([*xpo1_exe(), *args], stdout=subprocess.PIPE, stderr=full, text=True,
                               cwd=tmp_path, env=env, timeout=HANG)
        return p.returncode, p.stdout

    assert result("list", "--disease", "nosuch") == (2, "")
    assert result("list", "-d", "MM", "-f", "csv") == (0, run("list", "-d", "MM", "-f", "csv").stdout)


# --- a full device and a file size limit (short writes) ---------------------------------------------


def test_export_into_a_full_device_fails(tmp_path):
    with open("/dev/full", "wb") as full:
        p = subprocess.run([*xpo1_exe(), "export", "outcomes"], stdout=full, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path, env=real_env(), timeout=HANG)
    assert (p.returncode, p.stderr) == (1, "xpo1: cannot write to standard output: No space left on device\n")


LIMIT = 4096  # bytes: a file size limit every output below is larger than


def size_limited():
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_a_short_write_to_stdout_is_an_error_not_a_truncated_file(tmp_path, unbuffered):
    """A file size limit lets the first write through in part (a short write), then refuses
    (EFBIG; Python ignores SIGXFSZ). Unbuffered (PYTHONUNBUFFERED), the standard output is a raw
    file whose write returns the part written: it is written again, and the refusal said."""
    env = real_env(PYTHONUNBUFFERED=unbuffered) if unbuffered else \
        {k: v for k, v in real_env().items() if k != "PYTHONUNBUFFERED"}
    with open(tmp_path / "out.csv", "wb") as fh:
        p = subprocess.run([*xpo1_exe(), "export", "outcomes"], stdout=fh, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path, env=env, preexec_fn=size_limited, timeout=HANG)
    assert (p.returncode, p.stderr) == (1, "xpo1: cannot write to standard output: File too large\n")


def test_the_rest_of_a_short_write_is_written_again():
    class Raw(io.RawIOBase):
        """A raw stream that takes at most 5 bytes per call."""

        def __init__(self):
            self.got = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.got += bytes(b[:5])
            return min(5, len(b))

    raw = Raw()
    entry._write_all(raw, b"x" * 23 + "é".encode())
    assert bytes(raw.got) == b"x" * 23 + "é".encode()


@pytest.mark.parametrize("answer", [0, None])
def test_a_stream_that_takes_nothing_is_an_error(answer):
    class Stuck(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return answer

    with pytest.raises(OSError):
        entry._write_all(Stuck(), b"data")


@pytest.mark.parametrize(("args", "target"), [
    (["brief", "-d", "MM", "--html", "mm.html"], "mm.html"),
    (["brief", "--all", "--out", "pages/new"], "pages/new"),
    (["package", "pkg"], "pkg"),
    (["pool", "-d", "MM", "--by", "regimen", "--plot", "forest.svg", "-f", "csv"], "forest.svg"),
    (["import", "ctgov", str(FIXTURES / "ctgov" / "NCT00763412.json"), "--into", "imported"], "imported"),
])
@pytest.mark.slow  # the same rule in-process: test_a_file_size_limit_in_process_leaves_nothing_half_written
def test_a_file_size_limit_leaves_nothing_half_written(tmp_path, args, target):
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    p = subprocess.run([*xpo1_exe(), *args], capture_output=True, text=True,
                       cwd=tmp_path, env=real_env(), preexec_fn=size_limited, timeout=HANG)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("xpo1: cannot write ") and p.stderr.endswith(": File too large; nothing written\n")
    assert len(p.stderr.splitlines()) == 1 and "internal error" not in p.stderr
    assert snapshot(tmp_path) == [], target


@contextlib.contextmanager
def size_limited_here():
    """This process's file size limit lowered to LIMIT (its soft limit only, put back after)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.skipif(os.name != "posix", reason="file size limits are a POSIX resource")
@pytest.mark.parametrize("args", [
    ["brief", "-d", "MM", "--html", "mm.html"],
    ["package", "pkg"],
    ["import", "ctgov", str(FIXTURES / "ctgov" / "NCT00763412.json"), "--into", "imported"],
], ids=["html", "package", "import"])  # brief --all: test_pages_already_there_are_kept_when_new_ones_cannot_be_written
def test_a_file_size_limit_in_process_leaves_nothing_half_written(main_in_process, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    with size_limited_here():
        code, err = main_in_process(args, stdout=io.StringIO())
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith("xpo1: cannot write ") and err.endswith(": File too large; nothing written\n")
    assert snapshot(tmp_path) == []


def test_pages_already_there_are_kept_when_new_ones_cannot_be_written(main_in_process, tmp_path, monkeypatch):
    out = tmp_path / "pages"
    out.mkdir()
    (out / "index.html").write_text("the old index", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with size_limited_here():
        code, _ = main_in_process(["brief", "--all", "--out", "pages"], stdout=io.StringIO())
    assert code == 1
    assert snapshot(tmp_path) == ["pages", "pages/index.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == "the old index"


# --- an empty or unusable --out ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_out_is_refused(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("brief", "--all", "--out", value, code=2)
    assert r.stderr == "xpo1: --out needs a folder, not an empty value\n"
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_package_folder_is_refused(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("package", value, code=2)
    assert r.stderr == "xpo1: package needs a folder to write to, not an empty value\n"
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_import_folder_is_refused(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("import", "ctgov", str(FIXTURES / "ctgov" / "NCT00763412.json"), "--into", value, code=2)
    assert r.stderr == "xpo1: --into needs a folder to write the dataset to, not an empty value\n"
    assert snapshot(tmp_path) == []


@pytest.mark.parametrize(("value", "reason"), [
    ("afile", "it is a file, not a folder"),
    ("afile/sub", "{tmp}/afile is a file, not a folder"),
])
def test_an_out_that_is_not_a_folder_is_refused(value, reason, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    r = run("brief", "--all", "--out", value, code=2)
    assert r.stderr == f"xpo1: --out {value}: cannot write there: {reason.format(tmp=tmp_path)}; nothing written\n"
    assert snapshot(tmp_path) == ["afile"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into any folder")
def test_an_out_in_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ro").mkdir(mode=0o555)
    try:
        r = run("brief", "--all", "--out", "ro/pages", code=2)
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert r.stderr == "xpo1: --out ro/pages: cannot write there: permission denied; nothing written\n"
    assert snapshot(tmp_path) == ["ro"]
