"""The checks an assessor makes of an indirect comparison (`indirect.compare`), as `Check` rows:
the transitivity checks (the common comparator's definition in each trial, populations,
follow-up, outcome assessment) and the others (data cuts, interval levels, derived counts,
heterogeneity, reports the rule could not take).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .indirect_network import RATE_MEASURES
from .values import missing, row_tuples

if TYPE_CHECKING:
    import pandas as pd

    from .data import Dataset
    from .indirect import Answer


CHECKED = ("frequency", "duration", "route")
# the kinds of check, in the order they are made; the first four are the transitivity checks
CHECK_KINDS = {
    "common_comparator": "the common comparator's frequency, duration and route in each trial",
    "population": "prior lines, region, blinding and entry requirements as the trials state them",
    "follow_up": "each trial's median follow-up",
    "outcome_definition": "how each trial assessed the outcome, and how response counts were obtained",
    "data_cut": "which data cut each estimate comes from",
    "interval_level": "intervals printed at a level other than 95%",
    "heterogeneity": "several trials on one comparison, or a loop: Cochran's Q and the random-effects model",
    "report_rule": "a trial whose report the rule names gives no usable interval",
    "trial_note": "what the data say of a trial's figure",
}
TRANSITIVITY = ("common_comparator", "population", "follow_up", "outcome_definition")


@dataclass
class Check:
    """One check an assessor makes: its kind (CHECK_KINDS), warning or note, the finding in words
    and the trials it is about."""

    kind: str
    severity: str
    text: str
    trials: list[str] = field(default_factory=list)

    @property
    def transitivity(self) -> bool:
        return self.kind in TRANSITIVITY

    def as_dict(self) -> dict:
        return {"check": self.kind, "severity": self.severity, "transitivity": self.transitivity,
                "text": self.text, "trials": list(self.trials)}


def _stated_alike(ans: Answer, kind: str, trials, values, what: str, differ: str) -> None:
    """A warning where the trials state different values (`differ`: the words that say so), and
    another where some state none: those cannot be checked, which is no difference."""
    pairs = [(t, v) for t, v in zip(trials, values, strict=True) if not missing(v)]
    unstated = [t for t, v in zip(trials, values, strict=True) if missing(v)]
    if len({v for _, v in pairs}) > 1:
        ans.check(kind, "warning", f"{differ}: " + "; ".join(f"{t}: {v}" for t, v in pairs), [t for t, _ in pairs])
    if pairs and unstated:
        ans.check(kind, "warning", f"{what} is not stated for {', '.join(unstated)} ("
                  + "; ".join(f"{t}: {v}" for t, v in pairs) + "): whether the trials match cannot be checked",
                  unstated)


def _arm_definition(ds: Dataset, trial: str, arm: str, regimen: str, study: str | None) -> dict:
    rows = ds.trial_arms[(ds.trial_arms["trial"] == trial) & (ds.trial_arms["arm"] == arm)]
    if not len(rows) and study is not None:  # an XPO1 trial's arm: the study's cohort id
        rows = ds.trial_arms[(ds.trial_arms["trial"] == trial) & (ds.trial_arms["regimen"] == regimen)]
    r = next(iter(row_tuples(rows)), None)
    if r is None:
        return {"trial": trial, "regimen": regimen, **{c: None for c in CHECKED}, "schedule": None, "source": None}
    return {"trial": trial, "regimen": regimen, **{c: None if missing(getattr(r, c)) else getattr(r, c)
                                                   for c in CHECKED},
            "schedule": None if missing(r.schedule) else r.schedule,
            "source": r.schedule_source if not missing(r.schedule_source) else None}


def _population(ds: Dataset, trial: str, study: str | None) -> dict:
    ct = ds.comparator_trials[ds.comparator_trials["trial"] == trial]
    r = next(iter(row_tuples(ct)), None)
    if r is not None:
        def val(v):
            return None if missing(v) else v
        return {"trial": trial, "population": val(r.population), "prior_lines": val(r.prior_lines),
                "prior_therapy": val(r.prior_therapy), "region": val(r.region), "design": val(r.design),
                "source": r.source}
    s = ds.studies[ds.studies["study"] == study] if study else ds.studies.iloc[:0]
    r = next(iter(row_tuples(s)), None)
    if r is None:
        return {"trial": trial, "population": None, "prior_lines": None, "prior_therapy": None, "region": None,
                "design": None, "source": None}
    return {"trial": trial, "population": None if missing(r.population) else r.population.split(". ")[0],
            "prior_lines": None if missing(r.prior_lines) else r.prior_lines, "prior_therapy": None,
            "region": None, "design": None, "source": r.source}


def _checks(ds: Dataset, ans: Answer, all_edges: pd.DataFrame) -> None:
    import pandas as pd

    used = ans.trials
    anchors = sorted({n for p in ans.paths for n in p[1:-1]})
    rows = []
    for anchor in anchors:
        for r in used.to_dict("records"):
            if anchor == r["a"]:
                rows.append(_arm_definition(ds, r["trial"], r["arm_a"], anchor, r.get("study")))
            elif anchor == r["b"]:
                rows.append(_arm_definition(ds, r["trial"], r["arm_b"], anchor, r.get("study")))
    ans.anchors = pd.DataFrame(rows, columns=["trial", "regimen", *CHECKED, "schedule", "source"])
    for anchor in anchors:
        defs = ans.anchors[ans.anchors["regimen"] == anchor].drop_duplicates("trial")
        for col in CHECKED:
            stated = defs[defs[col].notna()]
            unstated = defs[defs[col].isna()]
            if stated[col].nunique() > 1:
                ans.check("common_comparator", "warning", f"the common comparator {anchor} differs in {col}: "
                          + "; ".join(f"{t}: {v}" for t, v in zip(stated["trial"], stated[col], strict=True)),
                          stated["trial"])
            if len(unstated):
                ans.check("common_comparator", "warning", f"{anchor} {col} not stated (or not verified) for "
                          f"{', '.join(unstated['trial'])}: it cannot be checked", unstated["trial"])
    pops = pd.DataFrame([_population(ds, r["trial"], r.get("study")) for r in used.to_dict("records")]
                        ).drop_duplicates("trial")
    ans.populations = pops
    for col, words in (("prior_lines", "prior lines differ"), ("region", "region differs"),
                       ("design", "blinding differs")):
        _stated_alike(ans, "population", pops["trial"], pops[col], words.rsplit(" ", 1)[0],
                      f"{words} between the trials, as stated")
    therapy = pops[pops["prior_therapy"].notna()]
    for t, v in zip(therapy["trial"], therapy["prior_therapy"], strict=True):
        ans.check("population", "warning", f"{t} required at entry: {v}; the other trials state no such "
                  "requirement", [t])
    followup = used["followup"].astype(object)
    unstated = used.loc[followup.isna(), "trial"]
    if len(used) > 1 and len(unstated):
        ans.check("follow_up", "warning", f"median follow-up not stated for {', '.join(unstated)}: whether the "
                  "trials' hazard ratios cover comparable follow-up cannot be checked", unstated)
    stated = used[followup.notna()]
    if len(stated) > 1 and stated["followup"].nunique() > 1:
        ans.check("follow_up", "note", "median follow-up differs between the trials: " + "; ".join(
            f"{t}: {f}" for t, f in zip(stated["trial"], stated["followup"], strict=True)), stated["trial"])
    _stated_alike(ans, "data_cut", used["trial"], used["data_cut"], "the data cut",
                  "the estimates come from different data cuts")
    levels = used["ci_level"].astype(float)
    odd = used[levels != 95]
    for r in odd.to_dict("records"):
        ans.check("interval_level", "warning", f"{r['trial']} prints a {r['ci_level']:g}% interval, not a 95% "
                  f"one; its standard error is taken at that level ({r['se']:.3f} on the log scale)", [r["trial"]])
    for r in used[~used["level_stated"].astype(bool)].to_dict("records"):
        ans.check("interval_level", "warning", f"{r['trial']}: its source states no level for its interval; "
                  "it is read as a 95% interval", [r["trial"]])
    assess = used["assessment"].astype(object).fillna("not stated")
    if assess.nunique() > 1:
        ans.check("outcome_definition", "warning", f"{ans.measure} assessed differently: " + "; ".join(
            f"{t}: {v}" for t, v in zip(used["trial"], assess, strict=True)), used["trial"])
    if ans.measure in RATE_MEASURES and used["derived"].any():
        derived = used.loc[used["derived"], "trial"]
        ans.check("outcome_definition", "note", "response counts are derived from the reported rates and arm "
                  f"sizes ({', '.join(derived)}); response criteria as each trial defines them", derived)
    for r in used.to_dict("records"):
        if isinstance(r.get("note"), str) and r["note"]:
            ans.check("trial_note", "note", f"{r['trial']} ({r['report']}): {r['note']}", [r["trial"]])
    for (x, y), group in used.groupby([used["a"], used["b"]], sort=False):
        if len(group) > 1:
            y_, v_ = group["log"].to_numpy(dtype=float), group["se"].to_numpy(dtype=float) ** 2
            w = 1 / v_
            mean = (w * y_).sum() / w.sum()
            q = float((w * (y_ - mean) ** 2).sum())
            ans.check("heterogeneity", "note", f"{x} vs {y} rests on {len(group)} trials "
                      f"({', '.join(group['trial'])}); Cochran's Q {q:.2f} on {len(group) - 1} df", group["trial"])
    order = list(CHECK_KINDS)
    ans.assessment.sort(key=lambda c: order.index(c.kind))
