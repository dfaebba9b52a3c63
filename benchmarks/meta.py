"""Cost of REML, leave-one-out and subgroup pooling against a plain DerSimonian–Laird pool, in
process, on synthetic cohort pools (k = 10,000 and 30,000 by default): median seconds, the ratio
to the plain pool, and peak memory allocated during the call (tracemalloc, which sees numpy).

    python benchmarks/meta.py [--sizes 10000 30000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from xpo1cli.metaanalysis import leave_one_out, pool_proportions, pool_subgroups  # noqa: E402


def cohorts(k: int, seed: int = 1):
    """k cohorts of 12-400 patients with heterogeneous true response rates; six subgroups."""
    rng = np.random.default_rng(seed)
    n = rng.integers(12, 400, k)
    p = 1 / (1 + np.exp(-rng.normal(-0.5, 0.8, k)))
    x = rng.binomial(n, p)
    groups = rng.choice(["MM", "AML", "DLBCL", "MCL", "NHL", "WM"], k)
    return x.tolist(), n.tolist(), groups.tolist()


def measure(fn, runs: int) -> tuple[float, float]:
    """Median wall seconds over runs, and peak MiB allocated in one call."""
    secs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        secs.append(time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(secs), peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description="meta-analysis cost benchmark")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    pool_proportions([1, 2], [5, 6])  # import scipy before timing
    print(f"{'k':>7}  {'call':34} {'median s':>9} {'x DL pool':>10} {'peak MiB':>9}")
    for k in args.sizes:
        x, n, g = cohorts(k)
        calls = {  # (function, method, extra arguments)
            "pool DL (baseline)": (pool_proportions, "DL", {}),
            "pool REML": (pool_proportions, "REML", {}),
            "pool PM": (pool_proportions, "PM", {}),
            "pool DL knha": (pool_proportions, "DL", {"knha": True}),
            "subgroups DL (6)": (pool_subgroups, "DL", {"groups": g}),
            "subgroups REML (6)": (pool_subgroups, "REML", {"groups": g}),
            "leave-one-out DL": (leave_one_out, "DL", {}),
            "leave-one-out REML": (leave_one_out, "REML", {}),
            "leave-one-out PM": (leave_one_out, "PM", {}),
        }
        base = None
        for name, (fn, method, extra) in calls.items():
            secs, mib = measure(partial(fn, x, n, method=method, **extra), args.runs)
            base = base or secs
            print(f"{k:7}  {name:34} {secs:9.4f} {secs / base:10.1f} {mib:9.1f}")


if __name__ == "__main__":
    main()
