"""How `list` and `pool` scale with the dataset: 1k, 10k and 100k synthetic studies (20 outcome
rows each), as whole processes with their peak memory.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import generate  # noqa: E402

BUDGET_S, BUDGET_MB = 2.0, 300


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description="xpo1 scale benchmark")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    exe = shutil.which("xpo1")
    xpo1 = [exe] if exe else [sys.executable, "-m", "xpo1cli"]
    cmds = {"list -d MM -p PI": ["list", "-d", "MM", "-p", "proteasome inhibitor", "-f", "csv"],
            "pool -d MM -p PI": ["pool", "-d", "MM", "-p", "proteasome inhibitor", "-f", "csv"],
            "validate": ["validate"]}
    print(f"{'studies':>8} {'outcomes':>9}  {'command':18} {'median s':>9} {'peak MB':>8}  budget")
    previous: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            root = generate(Path(tmp) / f"syn{size}", size)
            for name, cmd in cmds.items():
                samples = [run([*xpo1, "--data", str(root), *cmd]) for _ in range(args.runs)]
                secs = statistics.median(s for s, _ in samples)
                mb = max(m for _, m in samples)
                growth = f"  x{secs / previous[name]:.1f} vs previous size" if name in previous else ""
                previous[name] = secs
                verdict = ("ok" if secs < BUDGET_S and mb < BUDGET_MB else "OVER") if size == 10000 else ""
                print(f"{size:8} {size * 20:9}  {name:18} {secs:9.2f} {mb:8.0f}  {verdict}{growth}")
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
