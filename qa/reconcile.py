"""Compare the bundled dataset with an independent second extraction of the review.

The second extraction (qa/second-extraction/) was made from the review alone, without sight of
the first. Every field where the two differ is listed; qa/settlements.csv records how each
difference was settled against the review text. `python qa/reconcile.py` prints the differences
with their settlement; tests/test_reconciliation.py fails when a difference has no settlement.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STUDY_FIELDS = ("agent", "partners", "disease", "setting", "phase", "evidence_type", "n_enrolled",
                "n_evaluable")
OUTCOME_FIELDS = ("count", "denominator", "percent_reported", "median_months", "range_low",
                  "range_high")
LABELS = {"responders": "responders", "non-responders": "non-responders",
          "FLT3 inhibitor-resistant": "flt3i-resistant"}


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _value(v) -> str:
    """Comparable text: numbers as numbers ('63' == '63.0'), lists as sorted sets, NA as ''."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("", "<NA>", "nan", "None"):
        return ""
    text = str(v).strip()
    try:
        return f"{float(text):g}"
    except ValueError:
        return ";".join(sorted(p.strip() for p in text.split(";"))) if ";" in text else text


def _study_key(ds, ref: str, n: str) -> str | None:
    """The study of ours a second-extraction row describes: by ref, then by a cohort of size n
    (a row without a ref is matched on its population size alone)."""
    studies = ds.studies[ds.studies["source"] == "review"]
    hits = set(studies.loc[studies["ref"] == int(ref), "study"]) if ref else set(studies["study"])
    if len(hits) > 1 and n:
        coh = ds.cohorts
        hits &= set(coh.loc[coh["n"] == int(n), "study"])
    return hits.pop() if len(hits) == 1 else None


def _cohort_key(ds, study: str, label: str, n: str) -> str | None:
    """Our cohort for a population label and size; a label we do not keep as a cohort of its own
    (e.g. 'responders' for a duration of response) falls back to the headline cohort."""
    coh = ds.cohorts[ds.cohorts["study"] == study]
    if label in LABELS and LABELS[label] in set(coh["cohort"]):
        return LABELS[label]
    if n:
        hits = coh[coh["n"] == int(n)]
        if len(hits) == 1:
            return hits["cohort"].iloc[0]
    head = coh[coh["headline"].astype(bool)]
    return head["cohort"].iloc[0] if len(head) == 1 else None


def differences(ds=None) -> list[dict]:
    """Every field on which the two extractions differ, keyed so a settlement can name it."""
    from xpo1cli import data
    from xpo1cli.query import study_table

    ds = ds or data.load()
    ours = study_table(ds)
    ours = ours[ours["source"] == "review"].set_index("study")
    out: list[dict] = []
    seen_studies = set()
    for r in _rows(HERE / "second-extraction" / "studies.csv"):
        study = _study_key(ds, r["ref"], r["n_enrolled"])
        if study is None:
            out.append(dict(key=f"study ref {r['ref'] or '-'} n {r['n_enrolled'] or '-'}",
                            field="row", ours="", theirs="present"))
            continue
        seen_studies.add(study)
        if not r["ref"]:
            out.append(dict(key=study, field="ref", ours=_value(ours.at[study, "ref"]), theirs=""))
        for f in STUDY_FIELDS:
            a, b = _value(ours.at[study, f]), _value(r[f])
            if a != b:
                out.append(dict(key=study, field=f, ours=a, theirs=b))
    for study in sorted(set(ours.index) - seen_studies):
        out.append(dict(key=study, field="row", ours="present", theirs=""))

    from xpo1cli.counts import outcome_table

    mine = outcome_table(ds, derive_orr=False)
    mine = mine[mine["source"] == "review"].set_index(["study", "cohort", "measure"])
    matched = set()
    sizes = dict(zip(zip(ds.cohorts["study"], ds.cohorts["cohort"], strict=True), ds.cohorts["n"], strict=True))
    for r in _rows(HERE / "second-extraction" / "outcomes.csv"):
        study = _study_key(ds, r["ref"], r["population_n"])
        cohort = _cohort_key(ds, study, r["population"], r["population_n"]) if study else None
        key = (study, cohort, r["measure"])
        if cohort is None or key not in mine.index:
            out.append(dict(key=f"{study}/{r['population']}/{r['measure']}", field="row", ours="",
                            theirs="present"))
            continue
        matched.add(key)
        if r["population"] in LABELS and cohort != LABELS[r["population"]]:
            out.append(dict(key="/".join(key), field="population", ours=cohort,
                            theirs=r["population"]))
        elif r["population_n"] and _value(sizes.get((study, cohort))) != _value(r["population_n"]):
            out.append(dict(key="/".join(key), field="population", ours=cohort,
                            theirs=f"{r['population']} (n={r['population_n']})"))
        for f in OUTCOME_FIELDS:
            a, b = _value(mine.at[key, f]), _value(r[f])
            if a != b:
                out.append(dict(key="/".join(key), field=f, ours=a, theirs=b))
    for key in sorted(set(mine.index) - matched):
        out.append(dict(key="/".join(key), field="row", ours="present", theirs=""))
    return out


def settlements() -> dict[tuple[str, str], dict]:
    return {(r["key"], r["field"]): r for r in _rows(HERE / "settlements.csv")}


def main() -> int:
    diffs = differences()
    settled = settlements()
    unsettled = 0
    for d in diffs:
        s = settled.get((d["key"], d["field"]))
        how = f"{s['settled']}: {s['reason']}" if s else "UNSETTLED"
        unsettled += s is None
        print(f"{d['key']:45} {d['field']:16} ours={d['ours']!r:12} second={d['theirs']!r:12} {how}")
    print(f"{len(diffs)} differing fields, {unsettled} unsettled")
    return 1 if unsettled else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
