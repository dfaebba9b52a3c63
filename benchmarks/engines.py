"""Which engine for a user's large dataset: the same two jobs in pandas (as the package does it,
with NumPy-backed columns), in pandas with Arrow-backed columns, and in DuckDB, on one dataset.

Job 1, read: the outcome table from its CSV, every column as text (what the checker starts from).
Job 2, query: the job of `xpo1 list -d MM` at its core: myeloma studies, their headline cohorts
and those cohorts' outcome rows, with each (study, cohort, source)'s sum of printed category
counts (what count derivation needs), as a pandas frame at the end.

Each job runs in a fresh process (imports included, as a command pays them), `--runs` times;
medians and peak memory are printed. Engines that are not installed are skipped: pyarrow and
duckdb are not dependencies of the package.

    python benchmarks/synth.py /tmp/s100k --studies 100000
    python benchmarks/engines.py /tmp/s100k [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

CATEGORIES = "('sCR', 'CR', 'CRi', 'VGPR', 'PR', 'MR', 'SD', 'PD')"

JOBS = {
    ("pandas (NumPy columns)", "read"): """
import pandas as pd
o = pd.read_csv(ROOT + '/outcomes.csv', dtype=str, keep_default_na=False)
""",
    ("pandas (NumPy columns)", "query"): f"""
import pandas as pd
st = pd.read_csv(ROOT + '/studies.csv', dtype=str, keep_default_na=False)
co = pd.read_csv(ROOT + '/cohorts.csv', dtype=str, keep_default_na=False)
o = pd.read_csv(ROOT + '/outcomes.csv', dtype={{'count': 'Int64', 'denominator': 'Int64'}}, keep_default_na=False,
                na_values=[''])
st = st[st['disease'] == 'MM']
co = co[co['study'].isin(st['study']) & (co['headline'] == 'true')]
rows = o.merge(co[['study', 'cohort']], on=['study', 'cohort'])
cats = rows[rows['measure'].isin({CATEGORIES})].groupby(['study', 'cohort', 'source'])['count'].sum()
out = rows.merge(cats.rename('categories').reset_index(), on=['study', 'cohort', 'source'], how='left')
""",
    ("pandas (Arrow columns)", "read"): """
import pandas as pd
o = pd.read_csv(ROOT + '/outcomes.csv', dtype=str, keep_default_na=False, engine='pyarrow', dtype_backend='pyarrow')
""",
    ("pandas (Arrow columns)", "query"): f"""
import pandas as pd
kw = dict(engine='pyarrow', dtype_backend='pyarrow')
st = pd.read_csv(ROOT + '/studies.csv', **kw)
co = pd.read_csv(ROOT + '/cohorts.csv', **kw)
o = pd.read_csv(ROOT + '/outcomes.csv', **kw)
st = st[st['disease'] == 'MM']
co = co[co['study'].isin(st['study']) & (co['headline'] == True)]
rows = o.merge(co[['study', 'cohort']], on=['study', 'cohort'])
cats = rows[rows['measure'].isin({CATEGORIES})].groupby(['study', 'cohort', 'source'])['count'].sum()
out = rows.merge(cats.rename('categories').reset_index(), on=['study', 'cohort', 'source'], how='left')
""",
    ("DuckDB", "read"): """
import duckdb
o = duckdb.sql(f"select * from read_csv('{ROOT}/outcomes.csv', all_varchar=true)").df()
""",
    ("DuckDB", "query"): f"""
import duckdb
out = duckdb.sql(f'''
with st as (select study from read_csv('{{ROOT}}/studies.csv') where disease = 'MM'),
co as (select c.study, c.cohort from read_csv('{{ROOT}}/cohorts.csv') c join st using (study) where c.headline),
rows as (select o.* from read_csv('{{ROOT}}/outcomes.csv') o join co using (study, cohort)),
cats as (select study, cohort, source, sum("count") as categories from rows
         where measure in {CATEGORIES} group by all)
select rows.*, cats.categories from rows left join cats using (study, cohort, source)''').df()
""",
}
NEEDS = {"pandas (Arrow columns)": "pyarrow", "DuckDB": "duckdb"}


def run(code: str, root: str) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", f"ROOT = {root!r}\n{code}"])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed:\n{code}")
    return time.perf_counter() - t, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print("| engine | job | median s | peak MiB |\n|---|---|---:|---:|")
    for (engine, job), code in JOBS.items():
        module = NEEDS.get(engine)
        if module and importlib.util.find_spec(module) is None:
            print(f"| {engine} | {job} | not installed | |")
            continue
        runs = [run(code, args.root) for _ in range(args.runs)]
        print(f"| {engine} | {job} | {statistics.median(r[0] for r in runs):.2f} | "
              f"{max(r[1] for r in runs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
