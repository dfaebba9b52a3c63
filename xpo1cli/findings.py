"""Findings as data: each between-arm result of a randomized trial with the arms' own figures and
the direction of the effect, read from the dataset (which arm is experimental, which control).

Nothing here words a finding: brief_render says what a direction means. The rules are stated once:

- a ratio's direction comes from its estimate, oriented by the arms' roles: a hazard ratio below 1
  favours the first arm (fewer progressions or deaths); an odds ratio above 1 favours the first arm
  for a response, below 1 for an adverse event;
- a p-value reported alone takes the direction its source states in words (comparisons.stated_favours),
  else its direction from the arms' own figures (the higher response rate or landmark rate, the longer
  median, the lower adverse-event rate), else it is 'not reported';
- a result is clear where its interval excludes no effect, or, without an interval, where its
  p-value is below 0.05; a clear result that favours the control arm is a harm signal (a result
  that is not clear keeps its direction but is no harm signal: the point estimate alone claims nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .data import Dataset
from .values import row_tuples, value_or_none

ALPHA = 0.05  # a p-value below it is a clear difference (two-sided, as the sources report them)
# outcome measures (the outcomes table's vocabulary) where a lower figure is the better one; a
# measure outside that vocabulary is an adverse event compared between arms ('peripheral
# neuropathy grade ≥2'), where fewer is better too
LOWER_IS_BETTER = frozenset({"PD", "deaths", "TTR"})
TIME_TO_EVENT = frozenset({"PFS", "OS", "DOR", "EFS", "TTR"})  # an HR's event is progression or death (TTR: response)

# directions
EXPERIMENTAL, CONTROL, NEITHER, NOT_REPORTED = "experimental", "control", "no difference", "not reported"
STATED = "as stated"  # a direction's basis: the source's own words (a p-value without estimate or arm figures)


def _v(value):
    return value_or_none(value)


@dataclass
class ArmFigure:
    """One arm's own figure for the outcome a between-arm result compares, as its source prints it."""

    cohort: str
    label: str
    regimen: str | None
    role: str | None  # experimental, control, or None (a subgroup without a stated role)
    n: int | None  # patients in the arm (randomized), where stated
    value: float | None  # a percentage or a median
    unit: str | None  # '%', 'months' or 'weeks'
    events: int | None  # patients with the outcome, where printed
    denominator: int | None
    basis: str  # 'reported' (as printed) or 'computed' (a percentage from the count)
    ci_low: float | None
    ci_high: float | None
    source: str | None
    table: str | None = None  # where the figure is: outcomes or adverse_events (None: no figure)
    term: str | None = None  # an adverse event's term and grade as adverse_events holds them
    grade: str | None = None


@dataclass
class Effect:
    """A between-arm result as the source reports it, oriented and given its direction."""

    id: str
    trial: str
    study: str
    measure: str
    timepoint: str | None
    statistic: str  # HR, OR or p
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    decimals: int | None
    p_value: float | None
    p_text: str | None
    arm_a: ArmFigure  # the first arm of the comparison as the source orients it
    arm_b: ArmFigure
    subgroup: str | None  # the population label of a subgroup comparison, None for the whole trial
    direction: str  # experimental, control, no difference, not reported
    basis: str | None  # 'estimate', 'as stated' or 'arm figures': what the direction was read from
    clear: bool | None  # interval excludes no effect / p below ALPHA; None: neither interval nor p
    source: str
    note: str | None
    ci_level: float | None = None  # the interval's level in percent as the source states it; None: not stated
    test: str | None = None  # the test the source names for its p-value ('Cox')
    section: str | None = None  # where in the source the result stands

    @property
    def experimental(self) -> ArmFigure:
        return self.arm_b if self.arm_b.role == "experimental" and self.arm_a.role != "experimental" else self.arm_a

    @property
    def control(self) -> ArmFigure:
        return self.arm_a if self.experimental is self.arm_b else self.arm_b

    @property
    def favoured(self) -> ArmFigure | None:
        return {EXPERIMENTAL: self.experimental, CONTROL: self.control}.get(self.direction)

    @property
    def harm_signal(self) -> bool:
        """The XPO1-inhibitor arm did clearly worse (interval excluding no effect, or p below ALPHA)."""
        return self.direction == CONTROL and self.clear is True

    @property
    def estimable(self) -> bool:
        return self.estimate is not None or self.p_value is not None or self.p_text is not None


def higher_is_better(measure: str, outcome_measures: set[str]) -> bool:
    """A response, landmark rate or median: higher is better; an adverse event or progression: lower."""
    return measure in outcome_measures and measure not in LOWER_IS_BETTER


def ratio_favours_first(statistic: str, estimate: float, measure: str, outcome_measures: set[str]) -> bool | None:
    """Whether a ratio favours the first arm (None: exactly no effect)."""
    if estimate == 1:
        return None
    if statistic == "HR":  # the hazard of the event: progression or death, except time to response
        return estimate > 1 if measure == "TTR" else estimate < 1
    return (estimate > 1) == higher_is_better(measure, outcome_measures)


def figures_favour_first(a: ArmFigure, b: ArmFigure, measure: str, outcome_measures: set[str]) -> bool | None | str:
    """Whether the arms' own figures favour the first arm; None: equal; NOT_REPORTED: not comparable."""
    if a.value is None or b.value is None or a.unit != b.unit:
        return NOT_REPORTED
    if a.value == b.value:
        return None
    return (a.value > b.value) == higher_is_better(measure, outcome_measures)


def _clear(statistic: str, lo: float | None, hi: float | None, p: float | None) -> bool | None:
    if statistic != "p" and lo is not None and hi is not None:
        return not (lo <= 1 <= hi)
    if p is not None:
        return p < ALPHA
    return None


def _p_number(p_value, p_text) -> float | None:
    """The p-value as a number: the stored one, else one read from a printed '<0.001' (its bound)."""
    p = _v(p_value)
    if p is not None:
        return float(p)
    text = str(_v(p_text) or "").replace(" ", "").lstrip("<≤=p")
    try:
        return float(text)
    except ValueError:
        return None


def _outcome_figure(rows: pd.DataFrame, measure: str, timepoint: str | None) -> dict | None:
    """The arm's figure for the measure (at the timepoint): a percentage or a median, the first as printed."""
    if rows is None:
        return None
    hit = rows[(rows["measure"] == measure)]
    hit = hit[hit["timepoint"].isna()] if timepoint is None else hit[hit["timepoint"] == timepoint]
    for r in row_tuples(hit):
        k, n, pct = _v(r.count), _v(r.denominator), _v(r.percent_reported)
        months, weeks = _v(r.median_months), _v(r.median_weeks)
        if months is not None or weeks is not None:
            return {"value": float(months if months is not None else weeks),
                    "unit": "months" if months is not None else "weeks", "events": None, "denominator": None,
                    "basis": "reported", "ci_low": _v(r.ci_low), "ci_high": _v(r.ci_high), "source": r.source}
        if pct is not None or (k is not None and n):
            return {"value": float(pct) if pct is not None else round(100 * k / n, 1), "unit": "%",
                    "events": k, "denominator": n, "basis": "reported" if pct is not None else "computed",
                    "ci_low": _v(r.ci_low), "ci_high": _v(r.ci_high), "source": r.source}
    return None


def _event_figure(rows: pd.DataFrame, measure: str) -> dict | None:
    """An adverse event compared between arms ('peripheral neuropathy grade ≥2'): the arm's own rate."""
    if rows is None:
        return None
    for r in row_tuples(rows):
        grade = _v(r.grade)
        if measure not in (r.term, f"{r.term} grade {grade}"):
            continue
        k, n, pct = _v(r.count), _v(r.n), _v(r.percent_reported)
        if pct is None and (k is None or not n):
            continue
        return {"value": float(pct) if pct is not None else round(100 * k / n, 1), "unit": "%", "events": k,
                "denominator": n, "basis": "reported" if pct is not None else "computed", "ci_low": None,
                "ci_high": None, "source": r.source, "term": r.term, "grade": grade}
    return None


def _arm(row, key: str, measure: str, timepoint: str | None, outcomes: dict, events: dict,
         vocabulary: set[str]) -> ArmFigure:
    """One arm of a comparison (its cohort row) with its own figure for the measure."""
    table = "outcomes" if measure in vocabulary else "adverse_events"
    fig = (_outcome_figure(outcomes.get(key), measure, timepoint) if measure in vocabulary
           else _event_figure(events.get(key), measure)) or {}
    role = _v(row.arm) if row is not None else None
    return ArmFigure(cohort=key, label=row.label if row is not None else key,
                     regimen=_v(row.regimen) if row is not None else None,
                     role=role if role in ("experimental", "control") else None,
                     n=_v(row.n) if row is not None else None, value=fig.get("value"), unit=fig.get("unit"),
                     events=fig.get("events"), denominator=fig.get("denominator"),
                     basis=fig.get("basis", "reported"), ci_low=fig.get("ci_low"), ci_high=fig.get("ci_high"),
                     source=fig.get("source"), table=table if fig else None, term=fig.get("term"),
                     grade=fig.get("grade"))


def between_arms(ds: Dataset, trial: str, study: str) -> list[Effect]:
    """Every between-arm result of one report of a randomized trial, in file order."""
    comp = ds.comparisons[ds.comparisons["study"] == study]
    if not len(comp):
        return []
    cohorts = ds.cohorts[ds.cohorts["study"] == study]
    cohort = {c.cohort: c for c in row_tuples(cohorts, index=False)}
    outcomes = {k: g for k, g in ds.outcomes[ds.outcomes["study"] == study].groupby("cohort", sort=False)}
    events = {k: g for k, g in ds.adverse_events[ds.adverse_events["study"] == study].groupby("cohort", sort=False)}
    vocabulary = _outcome_vocabulary(ds)
    out = []
    for c in row_tuples(comp, index=False):
        timepoint = _v(c.timepoint)

        a, b = (_arm(cohort.get(key), key, c.measure, timepoint, outcomes, events, vocabulary)
                for key in (c.cohort_a, c.cohort_b))
        est, lo, hi = _v(c.estimate), _v(c.ci_low), _v(c.ci_high)
        p = _p_number(c.p_value, c.p_text)
        stated = _v(getattr(c, "stated_favours", None))
        if c.statistic != "p" and est is not None:
            first, basis = ratio_favours_first(c.statistic, float(est), c.measure, vocabulary), "estimate"
        elif stated in ("cohort_a", "cohort_b"):  # the source says in words which arm did better
            first, basis = stated == "cohort_a", STATED
        else:
            first, basis = figures_favour_first(a, b, c.measure, vocabulary), "arm figures"
        if first == NOT_REPORTED:
            direction, basis = NOT_REPORTED, None
        elif first is None:
            direction = NEITHER
        else:
            winner = a if first else b
            other = b if first else a
            direction = (EXPERIMENTAL if winner.role == "experimental" or other.role == "control"
                         else CONTROL if winner.role == "control" or other.role == "experimental" else NOT_REPORTED)
        parent = cohort.get(_v(cohort[c.cohort_a].parent)) if c.cohort_a in cohort else None
        within_arm = parent is not None and _v(parent.arm) in ("experimental", "control")
        out.append(Effect(id=c.id, trial=trial, study=study, measure=c.measure, timepoint=timepoint,
                          statistic=c.statistic, estimate=est, ci_low=lo, ci_high=hi, decimals=_v(c.decimals),
                          p_value=_v(c.p_value), p_text=_v(c.p_text), arm_a=a, arm_b=b,
                          subgroup=_population(a) if within_arm else None, direction=direction, basis=basis,
                          clear=_clear(c.statistic, lo, hi, p), source=c.source, note=_v(c.note),
                          ci_level=_v(getattr(c, "ci_level", None)), test=_v(c.test), section=_v(c.section)))
    return out


def _population(a: ArmFigure) -> str:
    """A subgroup's population without its arm: 'proteasome-inhibitor-naive, SVd' -> 'proteasome-inhibitor-naive'."""
    for suffix in (f", {a.regimen}", f" {a.regimen}") if a.regimen else ():
        if a.label.endswith(suffix) and len(a.label) > len(suffix):
            return a.label[: -len(suffix)]
    return a.label


def _vocabulary_order(ds: Dataset) -> list[str]:
    """The outcome measures the dataset's schema names, in its order (else those its outcomes hold)."""
    for res in ds.descriptor.get("resources", []):
        if res.get("name") == "outcomes":
            for f in res["schema"]["fields"]:
                if f["name"] == "measure" and f.get("constraints", {}).get("enum"):
                    return list(f["constraints"]["enum"])
    return list(dict.fromkeys(ds.outcomes["measure"]))


def _outcome_vocabulary(ds: Dataset) -> set[str]:
    """The outcome measures the dataset's schema names (a measure outside it is an adverse event)."""
    return set(_vocabulary_order(ds))


@dataclass
class SafetyStatement:
    """What a source says of a harm in words, without rates (a trial's safety statement)."""

    study: str
    cohort: str | None
    term: str
    statement: str
    source: str


def safety_statements(ds: Dataset, study: str) -> list[SafetyStatement]:
    ae = ds.adverse_events
    rows = ae[(ae["study"] == study) & (ae["kind"] == "safety_statement") & ae["statement"].notna()]
    return [SafetyStatement(study=study, cohort=_v(r.cohort), term=r.term, statement=r.statement, source=r.source)
            for r in row_tuples(rows, index=False)]


# --- each disease's critical outcomes (data/critical_outcomes.csv) ----------------------------------

MEDIAN_MEASURES = ("PFS", "OS", "DOR", "TTR", "FU")  # reported as medians; every other measure is a rate


@dataclass
class CriticalOutcome:
    """An outcome that matters in a disease, in its order of importance."""

    disease: str
    measure: str
    timepoint: str | None  # None: every time point the sources give
    rank: int
    name: str
    note: str | None

    @property
    def median(self) -> bool:
        return self.measure in MEDIAN_MEASURES


NOT_OUTCOMES = ("FU", "deaths", "alive", "HSCT")  # context, not outcomes a brief rates


def critical_outcomes(ds: Dataset, disease: str | None) -> list[CriticalOutcome]:
    """The disease's critical outcomes, else its nearest ancestor's; for no disease (or one without
    any up its tree), every disease's, each measure once at its best rank. A dataset without the
    table: every outcome measure its outcomes hold, in the order of the outcomes' vocabulary."""
    table = ds.critical_outcomes
    if not len(table):
        held = set(ds.outcomes["measure"])
        order = [m for m in _vocabulary_order(ds) if m in held and m not in NOT_OUTCOMES]
        return [CriticalOutcome(disease=disease or "", measure=m, timepoint=None, rank=i, name=m, note=None)
                for i, m in enumerate(order, 1)]
    rows = {d: g for d, g in table.groupby("disease", sort=False)}
    parent = dict(zip(ds.diseases["disease"], ds.diseases["parent"], strict=True))
    seen: set[str] = set()
    code = disease
    while code is not None and code not in seen:
        seen.add(code)
        if code in rows:
            return _outcomes(rows[code])
        code = _v(parent.get(code))
    return _outcomes(table.sort_values("rank", kind="stable").drop_duplicates(["measure", "timepoint"]))


def _outcomes(frame: pd.DataFrame) -> list[CriticalOutcome]:
    out = [CriticalOutcome(disease=r.disease, measure=r.measure, timepoint=_v(r.timepoint), rank=int(r.rank),
                           name=r.name, note=_v(r.note)) for r in row_tuples(frame, index=False)]
    return sorted(out, key=lambda c: c.rank)
