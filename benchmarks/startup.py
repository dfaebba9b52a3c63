"""Start-up and command latency of the installed `xpo1`, as whole processes.

Times each command over repeated runs (median), against `python -c pass`, `import typer` and
`import pandas` measured in the same run, and prints the ratios the project budgets:

- `--help`, `--version` and shell completion must not import pandas: at most 1.5 x `import typer`;
- a data command at most 1.25 x the import of its libraries;
- loading the bundled data (after the libraries are imported) under 20 ms.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], runs: int, env: dict | None = None) -> float:
    """Median wall time in ms of running cmd to completion."""
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def data_load_ms(runs: int) -> float:
    code = ("import time, pandas, xpo1cli.query, xpo1cli.views\nfrom xpo1cli import data\n"
            "t = time.perf_counter(); data.load(); print((time.perf_counter() - t) * 1000)")
    out = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout) for _ in range(runs)]
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description="xpo1 start-up benchmark")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    exe = shutil.which("xpo1")
    xpo1 = [exe] if exe else [sys.executable, "-m", "xpo1cli"]
    py = sys.executable
    complete_env = {**os.environ, "_XPO1_COMPLETE": "complete_bash",
                    "COMP_WORDS": "xpo1 list --disease ", "COMP_CWORD": "3"}
    base = {
        "python -c pass": timed([py, "-c", "pass"], args.runs),
        "import typer": timed([py, "-c", "import typer"], args.runs),
        "import pandas": timed([py, "-c", "import pandas"], args.runs),
        "import pandas, scipy.special": timed([py, "-c", "import pandas, scipy.special"], args.runs),
    }
    cmds = {
        "xpo1 --help": (timed([*xpo1, "--help"], args.runs), "import typer", 1.5),
        "xpo1 --version": (timed([*xpo1, "--version"], args.runs), "import typer", 1.5),
        "completion: xpo1 list --disease ": (timed(xpo1, args.runs, complete_env), "import typer", 1.5),
        "xpo1 list --disease MM --format csv": (
            timed([*xpo1, "list", "--disease", "MM", "--format", "csv"], args.runs), "import pandas", 1.25),
        "xpo1 compare SVd SPd": (timed([*xpo1, "compare", "SVd", "SPd", "-f", "csv"], args.runs),
                                 "import pandas", 1.25),
        "xpo1 response --disease MM": (timed([*xpo1, "response", "-d", "MM", "-f", "csv"], args.runs),
                                       "import pandas, scipy.special", 1.25),
    }
    print(f"{'command':42} {'median ms':>10}  {'ratio':>6}  budget  against")
    for name, ms in base.items():
        print(f"{name:42} {ms:10.1f}  {ms / base['python -c pass']:6.2f}x         (python -c pass)")
    failed = []
    for name, (ms, against, budget) in cmds.items():
        ratio = ms / base[against]
        ok = ratio <= budget
        failed += [] if ok else [name]
        print(f"{name:42} {ms:10.1f}  {ratio:6.2f}x  {'ok  ' if ok else 'OVER'} {budget:4}x {against}")
    load = data_load_ms(max(5, args.runs // 3))
    print(f"{'bundled data load (in process)':42} {load:10.1f} ms  {'ok' if load < 20 else 'OVER'} (budget 20 ms)")
    if load >= 20:
        failed.append("data load")
    print("over budget: " + (", ".join(failed) if failed else "none"))


if __name__ == "__main__":
    main()
