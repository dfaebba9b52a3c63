"""Cost of `pool --by disease --leave-one-out` against a plain `pool`, as whole commands in one
process on a synthetic dataset (10,000 studies by default): paired runs in alternating order,
the median of the per-pair time ratios, and the peak memory each command allocates
(tracemalloc, which sees numpy and pandas; measured in separate runs so it does not slow the
timed ones). Target: within 2x the plain pool.

    python benchmarks/pool_options.py [--studies 10000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from synth import generate  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from xpo1cli.cli import STATE, app  # noqa: E402

PLAIN = ["pool", "--across-regimens", "-f", "csv"]
FULL = ["pool", "--by", "disease", "--leave-one-out", "--across-regimens", "-f", "csv"]


def once(root: Path, args: list[str]) -> float:
    STATE["data"] = None
    t = time.perf_counter()
    result = CliRunner().invoke(app, ["--data", str(root), *args])
    elapsed = time.perf_counter() - t
    if result.exit_code != 0:
        raise SystemExit(f"failed: {' '.join(args)}: {result.output[-500:]}")
    return elapsed


def peak_mb(root: Path, args: list[str]) -> float:
    tracemalloc.start()
    once(root, args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description="pool options benchmark")
    ap.add_argument("--studies", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "syn", args.studies)
        once(root, PLAIN)  # warm up imports and caches
        once(root, FULL)
        plain, full, ratios = [], [], []
        for i in range(args.pairs):
            order = (PLAIN, FULL) if i % 2 == 0 else (FULL, PLAIN)
            times = {tuple(a): once(root, a) for a in order}
            plain.append(times[tuple(PLAIN)])
            full.append(times[tuple(FULL)])
            ratios.append(full[-1] / plain[-1])
        mem_plain, mem_full = peak_mb(root, PLAIN), peak_mb(root, FULL)
    print(f"{args.studies} studies, {args.pairs} alternating pairs")
    print(f"  pool                               median {statistics.median(plain):6.2f} s  peak {mem_plain:6.0f} MB")
    print(f"  pool --by disease --leave-one-out  median {statistics.median(full):6.2f} s  peak {mem_full:6.0f} MB")
    ratio = statistics.median(ratios)
    print(f"  median ratio {ratio:.2f} (target below 2): {'ok' if ratio < 2 else 'OVER'}")


if __name__ == "__main__":
    main()
