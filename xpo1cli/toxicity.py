"""The toxicity tables: adverse events, mitigations and doses by regimen and arm, and the
risk differences between the arms of randomized trials. Pure functions; no printing."""

from __future__ import annotations

import re

import pandas as pd

from .data import Dataset
from .query import (
    Filters,
    Resolver,
    UnknownName,
    arm_mask,
    arm_table,
    later_wanted,
)
from .values import (
    missing,
    row_tuples,
    value_or_none,
)

# --- toxicity ----------------------------------------------------------------------------------

TOXICITY_COLUMNS = ["scope", "agent", "kind", "category", "term", "grade", "count", "n",
                    "percent_reported", "percent_calc", "statement", "ref", "study", "cohort",
                    "population", "regimen", "arm", "section", "source"]
ARM_NOT_STATED = "arm not stated"
UNGRADED = "not graded"  # an event no grade applies to: a death, whatever its cause
KINDS = ("adverse_event", "mitigation", "dose_finding", "cns_penetration", "safety_statement")


def label_regimen(ds: Dataset, population, agent) -> str | None:
    """The regimen a prescribing-information row's population names: the regimen whose drugs are
    the row's agent and the drugs its population names in full ('label: with bortezomib and
    dexamethasone' -> SVd, 'label pooled: DLBCL, selinexor 60 mg twice weekly' -> S); None
    where the population names no drug ('label: DLBCL') or no regimen has exactly those drugs."""
    if not isinstance(population, str):
        return None
    named = {d for d in ds.drugs["drug"] if re.search(rf"(?<!\w){re.escape(d)}(?!\w)", population, flags=re.I)}
    if not named:
        return None
    named |= {agent} if isinstance(agent, str) and agent in set(ds.drugs["drug"]) else set()
    hits = [code for code, drugs in Resolver(ds).regimen_drugs().items() if drugs == named]
    return hits[0] if len(hits) == 1 else None


def deaths_as_events(ds: Dataset, studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """The deaths a study reports (outcomes of measure 'deaths'), as adverse-event rows of their arm
    or cohort, so that a brief's harms state them beside the other events: count, denominator and
    percentage as printed, the time point in the event's name ('deaths (60 days)'). In a randomized
    trial, an arm whose deaths no source states is named as not stated, never counted as none."""
    out = ds.outcomes[ds.outcomes["measure"] == "deaths"]
    if studies is not None:
        out = out[out["study"].isin(studies["study"])]
    agents = dict(zip(ds.studies["study"], ds.studies["agent"], strict=True))
    arms = {(c.study, c.cohort): c for c in row_tuples(ds.cohorts, index=False) if c.partition == "arm"}
    stated = {(r.study, value_or_none(r.timepoint), r.cohort) for r in row_tuples(out)}
    rows = []
    for r in row_tuples(out):
        tp = value_or_none(r.timepoint)
        unstated = [c.label for (st, co), c in arms.items() if (r.study, r.cohort) in arms and st == r.study
                    and (st, tp, co) not in stated]
        statement = "; ".join(f"{label}: not stated" for label in unstated)
        rows.append({"id": f"{r.study}-{r.cohort}-deaths", "study": r.study, "cohort": r.cohort, "ref": None,
                     "agent": agents.get(r.study), "population": None, "kind": "adverse_event",
                     "category": "death", "term": death_term(tp), "grade": UNGRADED,
                     "count": r.count, "n": r.denominator, "percent_reported": r.percent_reported,
                     "statement": statement or None, "section": r.section, "source": r.source})
    return pd.DataFrame(rows, columns=ds.adverse_events.columns)


def death_term(timepoint: str | None) -> str:
    """The event name of a study's deaths: 'deaths', 'deaths (60 days)'."""
    return f"deaths ({timepoint})" if timepoint else "deaths"


def death_timepoint(term: str) -> str | None:
    """The time point a death_term names: 'deaths (60 days)' -> '60 days'."""
    m = re.fullmatch(r"deaths \((.+)\)", term)
    return m.group(1) if m else None


def with_deaths(ds: Dataset, studies: pd.DataFrame | None = None) -> pd.DataFrame:
    """The adverse-event rows and the studies' reported deaths (deaths_as_events), one frame."""
    deaths = deaths_as_events(ds, studies)
    return ds.adverse_events if deaths.empty else pd.concat([ds.adverse_events, deaths], ignore_index=True)


def toxicity_table(ds: Dataset, studies: pd.DataFrame | None = None, agent: str | None = None,
                   category: str | None = None, kind: str | None = None,
                   source: str | None = None, matched: set[tuple[str, str]] | None = None,
                   arm_filters: Filters | None = None, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The adverse-event profile, mitigations, dose findings and the CNS contrast. Class-level
    rows (no study) apply to every XPO1 inhibitor and stay in whatever the study filters; rows
    of one study follow the study filters, and rows of one arm the arm filters (`matched`). Each
    row carries the regimen and arm it describes (a prescribing-information row the regimen its
    population names, label_regimen); a trial-level row of a randomized trial says that the
    source does not name the arm.

    With `arm_filters` (filters naming a regimen, partner or agent of the arms), only rows of a
    matching regimen stay: rows with no regimen (class-wide findings, a label population naming
    none, a trial-level row naming no arm) are left out, and their number is in
    frame.attrs["no_regimen"]. `events`: the rows to read instead of the adverse events (with_deaths)."""
    ae = (ds.adverse_events if events is None else events).copy()
    if studies is not None:
        ae = ae[ae["study"].isna() | ae["study"].isin(studies["study"])]
    if matched is not None:
        ae = ae[ae["cohort"].isna() | pd.Series(list(zip(ae["study"], ae["cohort"], strict=True)),
                                                 index=ae.index, dtype=object).isin(matched)]
    wanted = later_wanted(source)
    if wanted is not None:
        later = dict(zip(ds.sources["source"], ds.sources["published_after_review"], strict=True))
        ae = ae[ae["source"].map(lambda s: bool(later.get(s))) == wanted]
    if agent is not None:
        ae = ae[(ae["agent"] == agent) | ae["agent"].map(lambda a: a not in set(ds.drugs["drug"]))]
    if category is not None:
        cats = sorted(set(ds.adverse_events["category"]))
        hit = [c for c in cats if c.casefold().startswith(category.strip().casefold())]
        if len(hit) != 1 or not category.strip():
            raise UnknownName(f"unknown category '{category}'; known: {', '.join(cats)}")
        ae = ae[(ae["category"] == hit[0]) | ((ae["category"] == "any") & (ae["kind"] == "mitigation"))]
    if kind is not None:
        hit = [k for k in KINDS if k.startswith(kind.strip().casefold().replace("-", "_").replace(" ", "_"))]
        if len(hit) != 1 or not kind.strip():
            raise UnknownName(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
        ae = ae[ae["kind"] == hit[0]]
    regimens = dict(zip(ds.studies["study"], ds.studies["regimen"], strict=True))
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(set(ae["study"].dropna()))]  # the cohorts of these rows' studies
    of_arm = {(s, c): (r, a) for s, c, r, a in zip(arms["study"], arms["cohort"], arms["regimen"], arms["arm"],
                                                  strict=True)}
    with_arms = set(arms.loc[arms["arm"].notna(), "study"])
    drugs = set(ds.drugs["drug"])
    ae["scope"] = ["study" if isinstance(s, str) else "label" if isinstance(p, str)
                   else "agent" if a in drugs else "class"
                   for s, a, p in zip(ae["study"], ae["agent"], ae["population"], strict=True)]
    treatment = [of_arm[(s, c)] if isinstance(c, str)
                 else (None, ARM_NOT_STATED) if s in with_arms
                 else (regimens.get(s) if isinstance(s, str) else None, None)
                 for s, c in zip(ae["study"], ae["cohort"], strict=True)]
    labels = {(p, a): label_regimen(ds, p, a) for s, p, a in zip(ae["study"], ae["population"], ae["agent"],
                                                                 strict=True) if not isinstance(s, str)}
    ae["regimen"] = [t[0] if isinstance(s, str) else labels[(p, a)]
                     for t, s, p, a in zip(treatment, ae["study"], ae["population"], ae["agent"], strict=True)]
    ae["arm"] = [t[1] for t in treatment]
    no_regimen = 0
    if arm_filters is not None and arm_filters.arm_level():
        no_regimen = int((~ae["regimen"].map(lambda r: isinstance(r, str))).sum())
        ae = ae[of_treatment(ds, ae["regimen"], arm_filters)]
    ae["percent_calc"] = [round(100 * c / n, 1) if not missing(c) and value_or_none(n) else None
                          for c, n in zip(ae["count"], ae["n"], strict=True)]
    ae["percent_calc"] = ae["percent_calc"].astype("float64")
    kind_order = {k: i for i, k in enumerate(KINDS)}
    ae["_k"] = ae["kind"].map(kind_order)
    ae = ae.sort_values(["_k", "category", "scope", "id"], kind="stable")
    out = ae[TOXICITY_COLUMNS].reset_index(drop=True)
    out.attrs["no_regimen"] = no_regimen
    return out


def of_treatment(ds: Dataset, regimens: pd.Series, f: Filters) -> pd.Series:
    """Which rows of these regimen codes are of the treatment the arm filters (--regimen,
    --partner, --agent) name; a row with no regimen never is."""
    by_code = ds.regimens.set_index("regimen")
    as_arms = pd.DataFrame({"regimen": regimens,
                            "agent": regimens.map(lambda r: by_code["agent"].get(r)),
                            "partners": regimens.map(lambda r: by_code["partners"].get(r))}, index=regimens.index)
    return regimens.map(lambda r: isinstance(r, str)).astype(bool) & arm_mask(as_arms, f, Resolver(ds))


def arm_dose(schedule, regimen, codes: set[str]) -> str | None:
    """The part of a study's dose schedule that is one regimen's: a schedule written arm by arm
    ('SVd: selinexor 100 mg ...; Vd: bortezomib ...') gives each arm its own part, never another
    arm's; parts naming no regimen (a cycle length, premedication) stay with every arm."""
    if not isinstance(schedule, str) or not schedule.strip():
        return None
    parts = [p.strip() for p in schedule.split(";") if p.strip()]
    kept = []
    for p in parts:
        head, sep, rest = p.partition(":")
        if sep and head.strip() in codes:
            if head.strip() == regimen:
                kept.append(rest.strip())
        else:
            kept.append(p)
    return "; ".join(kept) or None


def toxicity_doses(ds: Dataset, frame: pd.DataFrame) -> list[str | None]:
    """The dose each toxicity_table row was seen at, as the data states it: its arm's part of its
    study's dose schedule (arm_dose), or a label row's population (which names the label's dose);
    None where neither is stated. With the regimen, it keeps apart figures that must not share a range."""
    doses = dict(zip(ds.studies["study"], ds.studies["dose_schedule"], strict=True))
    codes = set(ds.regimens["regimen"])
    return [arm_dose(doses.get(s), r, codes) if isinstance(s, str) else value_or_none(p)
            for s, p, r in zip(frame["study"], frame["population"], frame["regimen"], strict=True)]


ARM_AE_COLUMNS = ["trial", "study", "term", "grade", "experimental", "exp_count", "exp_n", "exp_pct",
                  "control", "ctl_count", "ctl_n", "ctl_pct", "risk_difference", "rd_ci_low",
                  "rd_ci_high", "n_basis", "source"]


def toxicity_arms(ds: Dataset, studies: pd.DataFrame, level: float = 0.95,
                  events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Adverse events arm against arm in randomized trials: each arm's count, n and % as printed,
    and the risk difference (experimental minus control, percentage points) with its Newcombe
    interval (stats.risk_difference_ci). Where the source gives no denominator for the event, the arm's
    randomized n is used and n_basis says so. `events`: the rows to read instead (with_deaths)."""
    ae = ds.adverse_events if events is None else events
    ae = ae[ae["study"].isin(studies["study"]) & ae["cohort"].notna() & ae["count"].notna()]
    if ae.empty:
        return pd.DataFrame(columns=ARM_AE_COLUMNS)
    coh = {(c.study, c.cohort): c for c in row_tuples(ds.cohorts, index=False)}
    trial = dict(zip(ds.studies["study"], ds.studies["trial"], strict=True))
    rows = []
    for (study, term, grade), g in ae.groupby(["study", "term", "grade"], sort=False):
        by_arm = {coh[(study, r.cohort)].arm: r for r in row_tuples(g) if (study, r.cohort) in coh}
        if not {"experimental", "control"} <= set(by_arm):
            continue
        e, c = by_arm["experimental"], by_arm["control"]
        ne = value_or_none(e.n) if not missing(e.n) else value_or_none(coh[(study, e.cohort)].n)
        nc = value_or_none(c.n) if not missing(c.n) else value_or_none(coh[(study, c.cohort)].n)
        basis = "reported" if not missing(e.n) and not missing(c.n) else "randomized n of each arm"
        rd = lo = hi = None
        if ne and nc:
            from .stats import risk_difference_ci

            rd = round(100 * (int(e.count) / ne - int(c.count) / nc), 1)
            low, high = risk_difference_ci(int(e.count), int(ne), int(c.count), int(nc), level)
            lo, hi = round(100 * float(low), 1), round(100 * float(high), 1)
        rows.append({"trial": trial.get(study), "study": study, "term": term, "grade": grade,
                     "experimental": coh[(study, e.cohort)].label, "exp_count": int(e.count),
                     "exp_n": ne, "exp_pct": value_or_none(e.percent_reported),
                     "control": coh[(study, c.cohort)].label, "ctl_count": int(c.count), "ctl_n": nc,
                     "ctl_pct": value_or_none(c.percent_reported), "risk_difference": rd, "rd_ci_low": lo,
                     "rd_ci_high": hi, "n_basis": basis, "source": e.source})
    frame = pd.DataFrame(rows, columns=ARM_AE_COLUMNS)
    for col in ("exp_count", "exp_n", "ctl_count", "ctl_n"):
        frame[col] = frame[col].astype("Int64")
    return frame
