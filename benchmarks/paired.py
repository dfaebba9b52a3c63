"""Every command against its floor, in alternating pairs, in one process.

Each case is a command and a floor (what the command cannot be faster than: the import of the
libraries it uses, a one-command Typer app, or the same command on the bundled data). The two run
one after the other, `runs` times, in alternating order (floor, command, command, floor, ...), so
that a machine that slows down slows both alike. A user dataset, once checked, is kept in a cache
(see `xpo1cli.data.cache_dir`; here a temporary folder): the untimed first run of each case fills
it, and the scale suite also times the first run on new data, with the cache off. A case reports
the median wall time of each, the median of the per-pair ratios, and the command's peak resident
memory (`os.wait4`, the child's own maximum RSS), against its budget.

    python benchmarks/paired.py startup [--runs 11]
    python benchmarks/paired.py scale --studies 10000 [--runs 5]       # synthetic data (synth.py)
    python benchmarks/paired.py startup --write                         # refresh the performance
        figures in docs/performance.md and the README's performance section

Budgets: `--help`, `--version` and completion within 1.2 x a one-command Typer app's `--help`; a
data command within 1.25 x the import of the libraries it uses; a brief of one disease within
1.5 x `pool` of the same disease; `brief --all` under 3 s. At 10,000 studies every command under
1.5 s and 300 MiB; at 100,000 under 10 s and 1.5 GiB; at 1,000,000 under 120 s and 8 GiB.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
PY = sys.executable
EXE = shutil.which("xpo1")
XPO1 = [EXE] if EXE else [PY, "-m", "xpo1cli"]
FLOOR_APP = [PY, str(HERE / "floor_app.py"), "--help"]
MIB = 1024 * 1024
# a user's installed package has its bytecode cached; so do the benchmarked runs (the first run of
# each case, untimed, writes it)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def imports(*modules: str) -> list[str]:
    """The floor of a command that uses these libraries: a process that imports them."""
    return [PY, "-c", "import " + ", ".join(modules)]


# scipy's compiled special functions, loaded as the package loads them (stats.special), without
# scipy.special's array-API layer
SPECIAL = [PY, "-c", "import typer, pandas; from xpo1cli.stats import special; special('betaincinv')"]
SPECIAL_NAME = "import typer, pandas, scipy's compiled special functions"


@dataclass
class Case:
    name: str
    command: list[str]
    floor: list[str]
    floor_name: str
    budget: float | None = None  # ratio to the floor
    seconds: float | None = None  # absolute budget
    mib: float | None = None  # peak memory budget
    env: dict = field(default_factory=dict)


@dataclass
class Result:
    case: Case
    command_s: float
    floor_s: float
    ratio: float
    peak_mib: float

    @property
    def verdicts(self) -> list[str]:
        c = self.case
        over = []
        if c.budget is not None and self.ratio > c.budget:
            over.append(f"ratio over {c.budget}x")
        if c.seconds is not None and self.command_s > c.seconds:
            over.append(f"time over {c.seconds:g} s")
        if c.mib is not None and self.peak_mib > c.mib:
            over.append(f"memory over {c.mib:g} MiB")
        return over

    @property
    def budget_text(self) -> str:
        c = self.case
        parts = ([f"{c.budget}x"] if c.budget is not None else []) + \
            ([f"{c.seconds:g} s"] if c.seconds is not None else []) + \
            ([f"{c.mib:g} MiB"] if c.mib is not None else [])
        return ", ".join(parts)


def run_once(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one process run to completion."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**ENV, **env})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):  # 1: a help page or a finding is still a finished run
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def measure(case: Case, runs: int) -> Result:
    commands, floors, ratios, peaks = [], [], [], []
    run_once(case.command, case.env)  # warm the file cache for both
    run_once(case.floor, {})
    for i in range(runs):
        order = ((case.floor, {}), (case.command, case.env))
        pair = order if i % 2 == 0 else order[::-1]
        timings = {}
        for argv, env in pair:
            timings[id(argv)] = run_once(argv, env)
        floor_s, _ = timings[id(case.floor)]
        command_s, peak = timings[id(case.command)]
        commands.append(command_s)
        floors.append(floor_s)
        ratios.append(command_s / floor_s)
        peaks.append(peak)
    return Result(case, statistics.median(commands), statistics.median(floors),
                  statistics.median(ratios), max(peaks))


def startup_cases(out: Path) -> list[Case]:
    complete = {"_XPO1_COMPLETE": "complete_bash", "COMP_WORDS": "xpo1 list --disease ",
                "COMP_CWORD": "3"}
    app = "a one-command Typer app's --help"
    return [
        Case("xpo1 --help", [*XPO1, "--help"], FLOOR_APP, app, budget=1.2),
        Case("xpo1 --version", [*XPO1, "--version"], FLOOR_APP, app, budget=1.2),
        Case("completion of `xpo1 list --disease `", XPO1, FLOOR_APP, app, budget=1.2, env=complete),
        Case("xpo1 list -d MM -f csv", [*XPO1, "list", "-d", "MM", "-f", "csv"],
             imports("typer", "pandas"), "import typer, pandas", budget=1.25),
        Case("xpo1 compare SVd SPd -f csv", [*XPO1, "compare", "SVd", "SPd", "-f", "csv"],
             imports("typer", "pandas"), "import typer, pandas", budget=1.25),
        Case("xpo1 response -d MM -f csv", [*XPO1, "response", "-d", "MM", "-f", "csv"],
             SPECIAL, SPECIAL_NAME, budget=1.25),
        Case("xpo1 pool -d MM --across-regimens --allow-mixed -f csv", [*XPO1, *POOL_MM],
             SPECIAL, SPECIAL_NAME, budget=1.25),
        Case("xpo1 brief -d MM -f markdown", [*XPO1, "brief", "-d", "MM", "-f", "markdown"],
             [*XPO1, *POOL_MM], "xpo1 pool -d MM", budget=1.5),
        Case("xpo1 brief --all --out DIR", [*XPO1, "brief", "--all", "--out", str(out / "briefs")],
             [*XPO1, *POOL_MM], "xpo1 pool -d MM", seconds=3.0),
    ]


# every myeloma cohort in one pool, asked for across regimens and populations (the work `pool -d MM`
# did before such pools had to be asked for)
POOL_MM = ["pool", "-d", "MM", "--across-regimens", "--allow-mixed", "-f", "csv"]
SCALE_BUDGETS = {10_000: (1.5, 300), 100_000: (10, 1536), 1_000_000: (120, 8192)}


def scale_cases(data: Path, studies: int) -> list[Case]:
    seconds, mib = SCALE_BUDGETS.get(studies, (None, None))
    commands = [
        ("list", ["list", "-f", "csv"]),
        ("list -d MM -p PI", ["list", "-d", "MM", "-p", "PI", "-f", "csv"]),
        ("compare Sd SVd", ["compare", "Sd", "SVd", "-f", "csv"]),
        ("response -d MM", ["response", "-d", "MM", "-f", "csv"]),
        ("survival -d MM", ["survival", "-d", "MM", "-f", "csv"]),
        ("toxicity -d MM", ["toxicity", "-d", "MM", "-f", "csv"]),
        ("pool", ["pool", "--across-regimens", "--allow-mixed", "-f", "csv"]),
        ("pool --method REML", ["pool", "--method", "REML", "--across-regimens", "--allow-mixed", "-f", "csv"]),
        ("audit", ["audit", "-f", "csv"]),
        ("validate", ["validate"]),
        ("brief -d MM", ["brief", "-d", "MM", "-f", "markdown"]),
    ]
    cases = [Case(f"{label} ({studies:,} studies)", [*XPO1, "--data", str(data), *argv],
                  [*XPO1, *argv], "the same on the bundled data", seconds=seconds, mib=mib)
             for label, argv in commands]
    # a new or changed dataset is checked in full before it is used: the first command pays that
    cold = {"XPO1_CACHE": "off"}
    cases += [Case(f"{label}, first run on new data ({studies:,} studies)", [*XPO1, "--data", str(data), *argv],
                   [*XPO1, *argv], "the same on the bundled data", seconds=seconds, mib=mib, env=cold)
              for label, argv in (("validate", ["validate"]), ("list -d MM -p PI", commands[1][1]))]
    return cases


def machine() -> str:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        total = int(f.readline().split()[1]) / MIB
    return (f"{os.cpu_count()} cores ({model or platform.machine()}), {total:.0f} GiB, "
            f"{platform.system()} {platform.release().split('-')[0]}, Python {platform.python_version()}")


def table(results: list[Result]) -> str:
    rows = ["| command | median s | floor | floor s | ratio | peak MiB | budget | verdict |",
            "|---|---:|---|---:|---:|---:|---|---|"]
    for r in results:
        verdict = "; ".join(r.verdicts) or "ok"
        rows.append(f"| {r.case.name} | {r.command_s:.3f} | {r.case.floor_name} | {r.floor_s:.3f} | "
                    f"{r.ratio:.2f}x | {r.peak_mib:.0f} | {r.budget_text} | {verdict} |")
    return "\n".join(rows)


def short_table(results: list[Result]) -> str:
    """The README's version: the command, its median, its ratio to its floor, the verdict."""
    rows = ["| command | median s | ratio to its floor | budget | verdict |", "|---|---:|---:|---|---|"]
    for r in results:
        rows.append(f"| {r.case.name} | {r.command_s:.2f} | {r.ratio:.2f}x ({r.case.floor_name}) | "
                    f"{r.budget_text} | {'; '.join(r.verdicts) or 'ok'} |")
    return "\n".join(rows)


def write_section(path: Path, key: str, text: str) -> None:
    """Replace what lies between <!-- perf:KEY --> and <!-- /perf:KEY --> in path."""
    doc = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- perf:{key} -->\n).*?(<!-- /perf:{key} -->)", flags=re.S)
    if not pattern.search(doc):
        raise SystemExit(f"{path.name} has no <!-- perf:{key} --> section")
    path.write_text(pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), doc), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite", choices=["startup", "scale"])
    ap.add_argument("--runs", type=int, default=None, help="pairs per case (11 start-up, 5 scale)")
    ap.add_argument("--studies", type=int, default=10_000, help="synthetic studies for `scale`")
    ap.add_argument("--data", type=Path, help="an existing dataset for `scale` instead of a synthetic one")
    ap.add_argument("--only", help="run the cases whose name contains this text")
    ap.add_argument("--write", action="store_true",
                    help="write the table into docs/performance.md (and the README for start-up)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ENV["XPO1_CACHE"] = str(tmp / "cache")  # checked datasets are kept here, not in the user's cache
        if args.suite == "startup":
            cases, runs = startup_cases(tmp), args.runs or 11
        else:
            data = args.data
            if data is None:
                from synth import generate

                data = generate(tmp / f"synth-{args.studies}", args.studies)
            cases, runs = scale_cases(data, args.studies), args.runs or 5
        if args.only:
            cases = [c for c in cases if args.only in c.name]
        results = []
        for case in cases:
            results.append(measure(case, runs))
            print(f"{case.name:45} {results[-1].command_s:8.3f} s  {results[-1].ratio:5.2f}x  "
                  f"{results[-1].peak_mib:6.0f} MiB  {'; '.join(results[-1].verdicts) or 'ok'}",
                  flush=True)
    said = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; {runs} alternating pairs per case, medians."
    text = f"{said}\n\n{table(results)}"
    print("\n" + text)
    if args.write:
        key = args.suite if args.suite == "startup" else f"scale-{args.studies}"
        write_section(ROOT / "docs" / "performance.md", key, text)
        if args.suite == "startup":
            write_section(ROOT / "README.md", key, f"{said}\n\n{short_table(results)}")


if __name__ == "__main__":
    main()
