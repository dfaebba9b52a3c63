"""Record what every command prints (stdout, stderr and exit code) on the bundled data and on a
synthetic dataset, to prove that a change of the code's shape leaves the output byte for byte as
it was:

    python benchmarks/outputs.py record before/        # on the commit before the change
    python benchmarks/outputs.py record after/         # on the change
    python benchmarks/outputs.py compare before/ after/

Each case runs `python -m xpo1cli` in a fresh process, from an empty folder, with a fixed
terminal width and its own cache folder; to record another checkout, put it first on PYTHONPATH
(`PYTHONPATH=../other python benchmarks/outputs.py record other/`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> arguments; every command and the main variants of its format and options
CASES: dict[str, list[str]] = {
    "list": ["list"],
    "list-table-mm": ["list", "-d", "MM", "-f", "table"],
    "list-cohorts-json": ["list", "--cohorts", "-f", "json"],
    "list-sort-orr-partner": ["list", "-p", "proteasome inhibitor", "--sort", "orr", "-f", "plain"],
    "list-filters": ["list", "--phase", "2", "--setting", "rr", "--age", "adult", "--source", "review"],
    "list-unknown": ["list", "-d", "MMM"],
    "show-19": ["show", "19", "-f", "table"],
    "show-19-json": ["show", "19", "-f", "json"],
    "show-19-csv": ["show", "19"],
    "show-synthetic": ["show", "syn-000003", "-f", "plain"],
    "show-trial": ["show", "BOSTON", "-f", "plain"],
    "show-comparator": ["show", "ENDEAVOR", "-f", "table"],
    "show-comparator-csv": ["show", "ENDEAVOR"],
    "show-comparator-json": ["show", "castor", "-f", "json"],
    "show-comparator-jsonl": ["show", "ENDEAVOR", "-f", "jsonl"],
    "show-16-jsonl": ["show", "16", "-f", "jsonl"],
    "show-unknown": ["show", "ZZZ"],
    "compare": ["compare", "SVd", "SPd", "-f", "table"],
    "compare-csv": ["compare", "SVd", "SPd", "SKd", "Vd"],
    "compare-twice": ["compare", "SVd", "XVd"],
    "compare-disease-json": ["compare", "SVd", "Sd", "-d", "MM", "-f", "json"],
    "response": ["response", "-d", "MM", "-f", "table"],
    "response-csv-wilson": ["response", "--ci", "wilson", "--level", "0.9", "-m", "ge_vgpr"],
    "response-json": ["response", "-r", "SVd", "-f", "json"],
    "survival": ["survival", "-f", "table"],
    "survival-os-median": ["survival", "-m", "OS", "--sort", "median"],
    "survival-chart": ["survival", "-d", "AML", "--chart"],
    "toxicity": ["toxicity", "-f", "table"],
    "toxicity-gi-csv": ["toxicity", "-c", "gastrointestinal"],
    "toxicity-arms": ["toxicity", "--arms", "-f", "json"],
    "toxicity-kind-agent": ["toxicity", "--kind", "mitigation", "-a", "selinexor", "-f", "plain"],
    "pool": ["pool", "-f", "table"],
    "pool-across-regimens": ["pool", "--across-regimens", "--allow-mixed", "-f", "table"],
    "pool-one-regimen": ["pool", "-d", "MM", "-r", "SRd", "--allow-mixed", "-f", "table"],
    "pool-mixed-refused": ["pool", "-d", "MM", "-r", "Sd"],
    "pool-aml-knha-csv": ["pool", "-d", "AML", "--knha", "--method", "REML", "--across-regimens", "--allow-mixed"],
    "pool-by-disease": ["pool", "--by", "disease", "--across-regimens", "--allow-mixed", "-f", "plain"],
    "pool-by-regimen-json": ["pool", "--by", "regimen", "-d", "MM", "-f", "json"],
    "pool-loo": ["pool", "-d", "MM", "--leave-one-out", "--across-regimens", "--allow-mixed", "-f", "table"],
    "pool-loo-csv": ["pool", "--leave-one-out", "--correction", "all", "--across-regimens", "--allow-mixed"],
    "pool-bad-method": ["pool", "--method", "XX"],
    "indirect": ["indirect", "SVd", "Kd", "-f", "table"],
    "indirect-orr-csv": ["indirect", "SVd", "Kd", "-m", "ORR", "--effect", "RR"],
    "audit": ["audit", "-f", "table"],
    "audit-json": ["audit", "-f", "json"],
    "brief-md": ["brief", "-d", "MM", "-f", "markdown"],
    "brief-plain": ["brief", "-d", "AML", "-f", "plain"],
    "brief-none": ["brief"],
    "trials": ["trials", "-f", "table"],
    "trials-ongoing": ["trials", "--status", "ongoing", "-d", "MM"],
    "syntheses": ["syntheses"],
    "regimens": ["regimens", "-f", "markdown"],
    "diseases": ["diseases"],
    "agents": ["agents", "-f", "json"],
    "sources": ["sources", "--source", "later"],
    "cite": ["cite", "D3"],
    "cite-bibtex-bad": ["cite", "ZZZ9"],
    "export-outcomes": ["export", "outcomes"],
    "export-studies-json": ["export", "studies", "-f", "json"],
    "schema": ["schema", "outcomes", "-f", "markdown"],
    "validate": ["validate"],
    "help": ["--help"],
    "help-pool": ["pool", "--help"],
    "twice": ["list", "-d", "MM", "-d", "AML"],
}

# `import ctgov`, run in this order in a folder of its own (each may use what the one before wrote):
# the real records, records recast as XPO1 trials (one of them a curated trial's), a newer version of
# one of those, files that are not records, and commands on the imported dataset
IMPORTS: list[tuple[str, list[str], str | None]] = [
    ("import-real", ["import", "ctgov", "real", "--into", "out1", "--diff"], None),
    ("import-placed-json", ["import", "ctgov", "placed", "--into", "out2", "--diff", "-f", "json"], None),
    ("import-again", ["import", "ctgov", "newer", "--into", "out2", "-f", "table"], None),
    ("import-bad", ["import", "ctgov", "bad", "real/NCT03418623.json", "--into", "out3"], None),
    ("imported-list", ["list", "-f", "table"], "out2"),
    ("imported-show", ["show", "NCT03110562", "-f", "plain"], "out2"),
    ("imported-measurements", ["export", "registry_measurements"], "out2"),
    ("imported-events", ["export", "registry_event_counts", "-f", "json"], "out2"),
    ("imported-validate", ["validate"], "out2"),
    ("package", ["package", "pkg/inner"], None),
    ("package-again", ["package", "pkg/inner"], None),
    ("package-imported", ["package", "pkg2"], "out2"),
    ("packaged-list", ["list", "-d", "MM"], "pkg/inner"),
    ("packaged-validate", ["validate"], "pkg2"),
    ("package-empty", ["package", " "], None),
]


def import_inputs(cwd: Path) -> None:
    """The record files the IMPORTS read, written into cwd (variants made as the tests make them)."""
    import copy
    import json
    import shutil

    sys.path.insert(0, str(HERE.parent / "tests"))
    from test_ctgov import FIXTURES, myeloma_variant

    shutil.copytree(FIXTURES, cwd / "real")
    variant = myeloma_variant()
    boston = copy.deepcopy(variant)  # names BOSTON's registry id, with its arms' drugs
    boston["protocolSection"]["identificationModule"]["nctId"] = "NCT03110562"
    arms = boston["protocolSection"]["armsInterventionsModule"]
    arms["interventions"] += [{"type": "DRUG", "name": "Bortezomib"}, {"type": "DRUG", "name": "Dexamethasone"}]
    arms["armGroups"][0]["interventionNames"] += ["Drug: Bortezomib", "Drug: Dexamethasone"]
    arms["armGroups"][1]["interventionNames"] = ["Drug: Bortezomib", "Drug: Dexamethasone"]
    (cwd / "placed").mkdir()
    (cwd / "placed" / "page.json").write_text(json.dumps({"studies": [variant, boston]}), encoding="utf-8")
    newer = copy.deepcopy(variant)
    newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2023-01-02"
    ae = newer["resultsSection"]["adverseEventsModule"]
    ae["seriousEvents"].pop(0)
    ae["otherEvents"][1]["stats"][1]["numAffected"] = 31
    newer["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0][
        "measurements"][1]["value"] = "48.4"
    (cwd / "newer").mkdir()
    (cwd / "newer" / "NCT02552212.json").write_text(json.dumps(newer), encoding="utf-8")
    (cwd / "bad").mkdir()
    (cwd / "bad" / "a.json").write_text("{not json", encoding="utf-8")
    (cwd / "bad" / "b.json").write_text(json.dumps({"studies": [{"x": 1}]}), encoding="utf-8")


def run_case(args: list[str], data: str | None, cache: Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("XPO1_DATA", "NO_COLOR", "COLUMNS")}
    env.update({"XPO1_CACHE": str(cache), "COLUMNS": "100", "TERM": "dumb"})
    full = [sys.executable, "-m", "xpo1cli", *(["--data", data] if data else []), *args]
    proc = subprocess.run(full, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    return f"$ xpo1 {' '.join(args)}\n--- exit {proc.returncode}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"


def record(out: Path, studies: int, jobs: int) -> None:
    sys.path.insert(0, str(HERE))
    from synth import generate

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synth = generate(tmp / "synth", studies, seed=1)
        cwd = tmp / "cwd"
        cwd.mkdir()
        cache = tmp / "cache"
        sets = {"bundled": None, f"synth{studies}": str(synth)}
        # warm the cache once per dataset, so parallel runs never race to check it
        for data in sets.values():
            run_case(["agents"], data, cache, cwd)
        todo = [(f"{label}/{name}.txt", args, data) for label, data in sets.items()
                for name, args in CASES.items()]
        with ThreadPoolExecutor(jobs) as pool:
            texts = list(pool.map(lambda t: run_case(t[1], t[2], cache, cwd), todo))
        imports = tmp / "imports"
        imports.mkdir()
        import_inputs(imports)
        for name, args, data in IMPORTS:
            todo.append((f"import/{name}.txt", args, data))
            texts.append(run_case(args, data, cache, imports))
        for (name, _, _), text in zip(todo, texts, strict=True):
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace(str(synth), "SYNTH"), encoding="utf-8")
    print(f"recorded {len(todo)} outputs in {out}", file=sys.stderr)


def compare(a: Path, b: Path) -> int:
    names = sorted({p.relative_to(a) for p in a.rglob("*.txt")} | {p.relative_to(b) for p in b.rglob("*.txt")})
    differ = [n for n in names if not (a / n).exists() or not (b / n).exists()
              or (a / n).read_bytes() != (b / n).read_bytes()]
    for n in differ:
        print(f"differs: {n}")
    print(f"{len(names) - len(differ)} of {len(names)} outputs identical", file=sys.stderr)
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--studies", type=int, default=1000)
    rec.add_argument("--jobs", type=int, default=2)
    cmp = sub.add_parser("compare")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.action == "record":
        record(args.out, args.studies, args.jobs)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
