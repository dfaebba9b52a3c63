"""Time of `xpo1 brief`, as whole processes, against `xpo1 pool` run alternately with it.

Budgets (issue 14): one disease's brief under 1.5 x `pool` for the same disease; `brief --all --out
DIR` for the bundled data (every page, with its forest plots) under 3 s. Runs are paired and
alternate (pool, brief, pool, brief, ...) so that a busy machine slows both alike; the ratio is the
median of the per-pair ratios.

    python benchmarks/brief.py [--runs 7] [--disease MM]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

XPO1 = [sys.executable, "-m", "xpo1cli"]


def wall(cmd: list[str]) -> float:
    """Seconds to run cmd to completion (its output discarded)."""
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--disease", default="MM")
    args = parser.parse_args()
    pool = [*XPO1, "pool", "-d", args.disease, "--by", "regimen", "-f", "plain"]
    brief = [*XPO1, "brief", "-d", args.disease, "-f", "plain"]
    wall(pool), wall(brief)  # warm the file cache
    pairs = [(wall(pool), wall(brief)) for _ in range(args.runs)]
    ratios = [b / p for p, b in pairs]
    print(f"pool  -d {args.disease}: median {statistics.median(p for p, _ in pairs):.2f} s")
    print(f"brief -d {args.disease}: median {statistics.median(b for _, b in pairs):.2f} s")
    print(f"brief / pool, paired: median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}; budget 1.5)")
    with tempfile.TemporaryDirectory() as folder:
        html = [*XPO1, "brief", "-d", args.disease, "--html", f"{folder}/brief.html"]
        html_pairs = [(wall(pool), wall(html)) for _ in range(max(3, args.runs // 2))]
        print(f"brief -d {args.disease} --html / pool, paired: median "
              f"{statistics.median(h / p for p, h in html_pairs):.2f}")
        every = [wall([*XPO1, "brief", "--all", "--out", f"{folder}/all"]) for _ in range(max(3, args.runs // 2))]
    print(f"brief --all --out DIR: median {statistics.median(every):.2f} s (min {min(every):.2f}; budget 3 s)")


if __name__ == "__main__":
    main()
