"""Write a synthetic dataset with the package's schema: N studies, 4 cohorts and 20 outcome rows
each (10,000 studies -> 200,000 outcome rows). Figures are random but internally consistent, so
the dataset validates; they are not trial data.

    python benchmarks/synth.py OUT_DIR --studies 10000 [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
REFERENCE_TABLES = ("sources", "diseases", "drugs", "regimens", "trials", "approvals", "critical_outcomes")


def generate(out: Path, studies: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_TABLES:
        shutil.copy(DATA / f"{name}.csv", out / f"{name}.csv")
    shutil.copy(DATA / "datapackage.json", out / "datapackage.json")
    regimens = pd.read_csv(DATA / "regimens.csv", dtype=str, keep_default_na=False)
    regimens = regimens[regimens["agent"] != ""]  # synthetic studies test XPO1 inhibitors
    diseases = ["MM", "AML", "DLBCL", "MCL", "NHL", "WM"]
    ids = np.array([f"syn-{i:06d}" for i in range(studies)])
    reg = rng.choice(regimens["regimen"].to_numpy(), studies)
    agent = regimens.set_index("regimen").loc[reg, "agent"].to_numpy()
    st = pd.DataFrame({
        "study": ids, "ref": "", "source": "review", "report_role": "primary",
        "section": "synthetic", "agent": agent, "regimen": reg,
        "disease": rng.choice(diseases, studies), "population": "synthetic",
        "setting": rng.choice(["relapsed/refractory", "newly diagnosed", "mixed"], studies),
        "prior_lines": "", "phase": rng.choice(["1", "1b", "2", "2b", "3"], studies),
        "randomized": "false", "evidence_type": "clinical trial", "dose_schedule": "",
        "findings": ""})
    n_all = rng.integers(12, 400, studies)
    n_eval = np.maximum(6, (n_all * rng.uniform(0.8, 1.0, studies)).astype(int))
    n_a = n_eval // 2
    n_b = n_eval - n_a
    coh_rows = []
    for cohort, parent, partition, n, headline in (
            ("all", "", "", n_all, "false"), ("evaluable", "all", "", n_eval, "true"),
            ("sub-a", "evaluable", "synthetic split", n_a, "false"),
            ("sub-b", "evaluable", "synthetic split", n_b, "false")):
        coh_rows.append(pd.DataFrame({"study": ids, "cohort": cohort, "label": cohort,
                                      "parent": parent, "partition": partition, "n": n,
                                      "headline": headline, "section": "synthetic",
                                      "source": "review"}))
    cohorts = pd.concat(coh_rows, ignore_index=True)
    # evaluable: 5 categories summing to n_eval, ORR, CBR; all: PFS, OS, DOR; subgroups: ORR, CR,
    # PR, PFS, OS each -> 7 + 3 + 10 = 20 rows a study
    probs = rng.dirichlet([2, 2, 3, 2, 2], studies)
    cats = np.array([rng.multinomial(n, p) for n, p in zip(n_eval, probs, strict=True)])
    frames = []

    def add(cohort, measure, count=None, den=None, median=None):
        frames.append(pd.DataFrame({
            "study": ids, "cohort": cohort, "measure": measure,
            "count": count if count is not None else "", "denominator": den if den is not None else "",
            "percent_reported": np.round(100 * count / den).astype(int) if count is not None else "",
            "median_months": np.round(median, 1) if median is not None else "",
            "range_low": "", "range_high": "", "ci_low": "", "ci_high": "",
            "section": "synthetic", "source": "review", "note": ""}))

    for j, m in enumerate(("CR", "VGPR", "PR", "SD", "PD")):
        add("evaluable", m, cats[:, j], n_eval)
    add("evaluable", "ORR", cats[:, :3].sum(axis=1), n_eval)
    add("evaluable", "DCR", cats[:, :4].sum(axis=1), n_eval)
    for m in ("PFS", "OS", "DOR"):
        add("all", m, median=rng.gamma(3, 3, studies))
    for cohort, n in (("sub-a", n_a), ("sub-b", n_b)):
        cr = rng.binomial(n, 0.1)
        pr = rng.binomial(n - cr, 0.3)
        add(cohort, "CR", cr, n)
        add(cohort, "PR", pr, n)
        add(cohort, "ORR", cr + pr, n)
        add(cohort, "PFS", median=rng.gamma(3, 3, studies))
        add(cohort, "OS", median=rng.gamma(4, 4, studies))
    outcomes = pd.concat(frames, ignore_index=True)
    ae = pd.read_csv(DATA / "adverse_events.csv", dtype=str, keep_default_na=False)
    ae = ae[ae["study"] == ""]
    ae = ae[ae["population"] == ""]
    columns = {r["name"]: [f["name"] for f in r["schema"]["fields"]]
               for r in json.loads((DATA / "datapackage.json").read_text())["resources"]}
    for name, frame in (("studies", st), ("cohorts", cohorts), ("outcomes", outcomes),
                        ("adverse_events", ae), ("comparisons", pd.DataFrame()),
                        ("syntheses", pd.DataFrame()), ("conflicts", pd.DataFrame())):
        frame.reindex(columns=columns[name], fill_value="").to_csv(out / f"{name}.csv", index=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--studies", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    generate(args.out, args.studies, args.seed)
    print(f"wrote {args.studies} studies to {args.out}")


if __name__ == "__main__":
    main()
