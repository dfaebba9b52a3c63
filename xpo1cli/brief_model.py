"""The structured brief as data: sections of rows of numbers, each with its source, and the
bottom line's statements (Claim) and each regimen's harms (RegimenHarms) that the builders above
it (brief_results, harms, brief_findings, bottom_line ...) fill in; brief_render words them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .brief_rules import NOT_ESTIMABLE, RESPONDER_ONLY, grade3
from .findings import CriticalOutcome, Effect, SafetyStatement
from .query import Filters
from .toxicity import UNGRADED
from .values import DERIVED_MARK

if TYPE_CHECKING:
    from .catalogue import StatedDate

# --- the structured brief ----------------------------------------------------------------------


@dataclass
class Arm:
    study: str
    cohort: str
    label: str
    regimen: str | None
    role: str  # experimental or control
    agent: str | None  # None: no XPO1 inhibitor (a control arm)
    n: int | None
    source: str

    @property
    def control(self) -> bool:
        return self.agent is None


@dataclass
class Median:
    """A median time (PFS, OS, ...) of one cohort as reported, with its unit."""

    study: str
    ref: int | None
    cohort: str
    label: str
    regimen: str | None
    role: str | None  # experimental, control or None (not an arm of a randomized trial)
    agent: str | None
    n: int | None
    measure: str
    median: float | None
    unit: str
    range_low: float | None
    range_high: float | None
    ci_low: float | None
    ci_high: float | None
    note: str | None
    source: str
    source_kind: str | None = None  # sources.kind of its source
    within: bool = False  # a summary-of-findings median of a sub-cohort (its label says which)
    also: list[str] = field(default_factory=list)  # other reports of the trial giving the same figure
    # other reports of the trial giving the same figure for a different population (a stated conflict)
    disputed: list[Median] = field(default_factory=list)
    trial: str | None = None  # the trial the report is of (studies.trial)
    # a responder-only measure (RESPONDER_ONLY): its participants are the responders, not the cohort
    responders: int | None = None  # None: not stated (and not derivable from a response count)
    responders_derived: bool = False  # the count is derived here (from a printed percentage)

    @property
    def responder_only(self) -> bool:
        return self.measure in RESPONDER_ONLY

    @property
    def participants_text(self) -> str:
        """Who the median is of: 'n = 84', or for a responder-only measure 'responders: 8*' / 'not stated'."""
        if not self.responder_only:
            return f"n = {self.n}" if self.n is not None else "n not stated"
        if self.responders is None:
            return "responders: not stated"
        return f"responders: {self.responders}{DERIVED_MARK if self.responders_derived else ''}"


@dataclass
class Rate:
    """A response rate of one cohort: a count over its denominator with the exact interval, or a
    percentage the source prints without a count (with its own interval if it gives one)."""

    ref: int | None
    study: str
    trial: str | None
    cohort: str
    label: str
    regimen: str | None
    role: str | None
    agent: str | None
    measure: str
    events: int | None
    n: int | None
    percent: float | None  # from the count when there is one (1 decimal), else as printed
    percent_reported: float | None
    ci_low: float | None
    ci_high: float | None
    ci_basis: str | None  # 'exact' (Clopper–Pearson from the count), 'as reported', or None
    basis: str | None  # count_basis: reported, sum of categories, from percentage, derived ORR
    design: str
    disease: str
    setting: str | None
    source: str
    audit: str | None
    pooled: bool  # one of the independent cohorts pool_inputs keeps
    timepoint: str | None = None  # a landmark or the week a rate is read at
    enrolled: int | None = None  # the cohort's own n, where a percentage comes without a denominator
    n_unclear: bool = False  # that n is in a stated conflict on n (conflicts.measure): what it counts is unclear
    within: str | None = None  # a subgroup's rate: the label of the cohort it is part of
    note: str | None = None  # the outcome row's own note (outcomes.note)
    # another report of the trial that codes no single regimen for it: (its source, its dose schedule)
    regimen_doubt: tuple[str, str] | None = None
    summed: tuple[str, ...] = ()  # a summary no row of the source prints: the categories it adds up
    population: str | None = None  # the study's population in words (studies.population)
    source_kind: str | None = None  # sources.kind of its source
    # other reports of the trial giving this measure of the same population (label and n) with another
    # count: a stated difference between reports, shown beside this figure (never as a subgroup)
    readings: list[Rate] = field(default_factory=list)
    # no whole count out of n prints the percentage: n is not shown to be the denominator (audit)
    n_unfit: bool = False
    # other sources printing the same figure of the same part of a study: one row, every source named
    also: list[Rate] = field(default_factory=list)

    @property
    def control(self) -> bool:
        return self.agent is None


@dataclass
class Pooled:
    """The random-effects estimate of one regimen's cohorts (DerSimonian–Laird, logit scale), as
    `xpo1 pool --by regimen` computes it, with its prediction interval."""

    regimen: str
    measure: str
    k: int
    n_total: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    i2: float | None
    tau2: float | None
    cautions: list[str]
    level: float = 0.95
    test: str | None = None  # 'knha': Knapp–Hartung (t) interval; else the normal (z) one


@dataclass
class PrintedCategories:
    """A cohort whose printed response categories cannot all be what they say (the audit's check
    'categories vs 100%': mutually exclusive categories adding up to more than the whole): each
    printed rate is shown beside the summary measure it would make, and never counted as a rate."""

    ref: int | None
    study: str
    trial: str | None
    cohort: str
    label: str
    regimen: str | None
    design: str
    n: int | None
    measure: str  # the summary measure (ORR ...) whose table shows them
    printed: list[tuple[str, float]]  # (category, percentage as printed)
    detail: str  # the audit's finding
    source: str


@dataclass
class ResponseGroup:
    regimen: str | None
    measure: str
    rates: list[Rate]
    pooled: Pooled | None


@dataclass
class Forest:
    """The pool table a forest plot is drawn from (the same frame `pool --plot` draws)."""

    measure: str
    frame: pd.DataFrame
    summary: dict  # stats' pool summary: each regimen's fit (estimate, interval, k, tau², I², cautions)
    level: float


@dataclass
class RandomizedTrial:
    trial: str
    study: str
    design: str
    report: str | None
    arms: list[Arm]
    effects: list[Effect]  # between-arm results, with the arms' own figures and the direction
    medians: list[Median]
    rates: list[Rate]
    sources: list[str]


@dataclass
class HarmRow:
    where: str  # study id, or the label population
    ref: int | None
    regimen: str | None
    role: str | None
    term: str
    grade: str
    count: int | None
    n: int | None
    percent: float | None
    percent_basis: str | None  # reported, computed, or None (not quantified)
    statement: str | None
    scope: str  # study or label
    source: str
    dose: str | None = None  # views.toxicity_doses: the arm's dose schedule, or the label population
    kind: str = "adverse_event"  # or safety_statement (discontinuation, dose changes), dose_finding (DLT, MTD)
    cohort: str | None = None

    @property
    def severe(self) -> bool:
        return self.kind == "adverse_event" and grade3(self.grade)

    @property
    def quantified(self) -> bool:
        return self.percent is not None or self.count is not None

    @property
    def death(self) -> bool:  # a study's reported deaths (toxicity.deaths_as_events), no grade applying
        return self.grade == UNGRADED


@dataclass
class HarmRange:
    term: str
    grade: str
    k: int  # reports quantifying it
    low: float | None
    high: float | None
    sources: list[str]
    regimen: str | None = None  # a range never mixes regimens or doses
    dose: str | None = None


@dataclass
class RiskDifference:
    trial: str
    term: str
    grade: str
    experimental: str
    exp_count: int
    exp_n: int
    exp_pct: float | None
    control: str
    ctl_count: int
    ctl_n: int
    ctl_pct: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    n_basis: str
    source: str
    level: float = 0.95  # of the difference's interval
    study: str | None = None  # the report whose rows the arms' figures are


@dataclass
class Mitigation:
    term: str
    category: str
    statement: str | None
    agent: str | None
    source: str
    study: str | None = None  # None: class-wide advice, from no study of any one disease

    @property
    def class_wide(self) -> bool:
        return self.study is None


@dataclass
class Move:
    rule: str  # a key of RULES
    reason: str  # what in the numbers triggered it


@dataclass
class Finding:
    """A summary-of-findings row: one regimen × outcome, its size, estimate and certainty signal."""

    regimen: str
    outcome: str
    kind: str  # pooled proportion, proportion, percentage, ratio, p only, median
    studies: int
    patients: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None
    decimals: int | None
    statistic: str | None  # HR, OR, p (a comparison), None otherwise
    p_text: str | None
    unit: str | None
    start: str
    moves: list[Move]
    rating: str
    sources: list[str]
    effect: Effect | None = None  # a between-arm result: its arms' figures and direction
    measure: str | None = None
    trials: list[str] = field(default_factory=list)  # trials counted (a trial's reports count once)
    reports: list[str] = field(default_factory=list)  # the reports (study rows) the figures come from
    per_trial: list[Median] = field(default_factory=list)  # medians: each trial's own (never pooled)
    notes: list[str] = field(default_factory=list)  # a later report that differs, named
    trial: str | None = None  # single-arm evidence shown trial by trial (a pool refused): the row's trial
    related: list[str] = field(default_factory=list)  # randomized trials of the same regimen or partner class
    level: float | None = None  # the interval's level (0.95), None where the source states none
    also: list[Effect] = field(default_factory=list)  # the same subgroup's result in other reports, one row
    source_kinds: dict[str, str] = field(default_factory=dict)  # a merged row: each result's source and its kind
    timepoint: str | None = None  # single-arm rates read at several time points: this row's
    nested: list[Median] = field(default_factory=list)  # medians: sub-cohorts inside a trial's (CR within responders)
    patients_unclear: bool = False  # patients is a cohort's n as printed whose meaning no source states
    differing: list[Rate] = field(default_factory=list)  # its rates that another report gives differently

    @property
    def subgroup(self) -> bool:
        return self.effect is not None and self.effect.subgroup is not None

    @property
    def id(self) -> str:
        """Stable within a dataset: a comparison's id, else 'regimen:measure' of single-arm evidence."""
        if self.effect is not None:
            return self.effect.id
        return (f"{self.regimen}:{self.measure}" + (f":{self.trial}" if self.trial else "")
                + (f"@{self.timepoint}" if self.timepoint else ""))

    @property
    def estimable(self) -> bool:
        return self.rating != NOT_ESTIMABLE


@dataclass
class Gap:
    # no randomized evidence, outcomes without a between-arm statistic, conflict, report difference,
    # derived count, population
    kind: str
    subject: str
    detail: str
    sources: list[str] = field(default_factory=list)


@dataclass
class Citation:
    source: str
    text: str  # as `xpo1 cite` prints it
    address: str | None
    doi: str | None = None
    date: StatedDate | None = None  # the latest date the source or its figures state (catalogue.stated_dates)
    kind: str | None = None  # sources.kind: what the source is (journal article, press release ...)


@dataclass
class Share:
    """How many patients of a study that mixes diseases had the brief's disease, as a report of the
    trial states it (the cohorts naming that disease alone, out of the cohort they belong to); where
    no report states it, patients and total are None and population is the study's own as the
    source gives it (age group and population)."""

    trial: str
    disease: str
    patients: int | None
    total: int | None
    study: str  # the report whose cohorts state it (or the study itself, where none does)
    source: str
    population: str | None = None  # where the share is not stated: who the cohort is, as the source says

    @property
    def minority(self) -> bool:
        """The disease is fewer than half the patients, or its share is not stated (no figure of the
        disease's own): the cohort's figures are not its evidence."""
        return self.patients is None or self.total is None or 2 * self.patients < self.total


@dataclass
class Worded:
    """A critical outcome a source states in words only ('every patient responded'): a statement with
    its source, never a rate (no percentage or count is made of it)."""

    study: str
    ref: int | None
    trial: str | None
    regimen: str | None
    measure: str
    population: str | None
    statement: str
    source: str


@dataclass
class Brief:
    disease: str | None
    disease_name: str
    filters: Filters
    n_studies: int
    n_clinical: int
    bottom_line: list[Claim]
    randomized: list[RandomizedTrial]
    response: list[ResponseGroup]
    forests: list[Forest]
    survival: list[Median]
    harms: list[HarmRow]
    harm_ranges: list[HarmRange]
    risk_differences: list[RiskDifference]
    mitigations: list[Mitigation]
    findings: list[Finding]
    gaps: list[Gap]
    citations: list[Citation]
    statistics: dict[str, float] = field(default_factory=dict)  # named computed figures
    critical: list[CriticalOutcome] = field(default_factory=list)  # the disease's outcomes that matter
    indirect: list = field(default_factory=list)  # indirect_brief.IndirectRow: SVd vs HTA comparators
    shares: dict[str, Share] = field(default_factory=dict)  # study -> the disease's share of a mixed population
    printed_categories: list[PrintedCategories] = field(default_factory=list)  # categories that conflict
    subgroup_rates: list[Rate] = field(default_factory=list)  # critical rates of subgroups, as reported
    landmark_rates: list[Rate] = field(default_factory=list)  # landmark rates of a median outcome (DOR at 6 months)
    worded: list[Worded] = field(default_factory=list)  # critical outcomes a source states in words, without a figure

    @property
    def evidence_as_of(self) -> list[Citation]:
        """The cited sources that state the latest date among the sources this brief cites (a data
        cut-off, a press-release date, a year in a citation ...): the brief's 'evidence as of'."""
        dated = [c for c in self.citations if c.date is not None]
        latest = max((c.date.key for c in dated), default=None)
        return [c for c in dated if c.date.key == latest]

    @property
    def several_reports(self) -> set[str]:
        """The trials whose rows in sections 3 and 4 come from more than one report: a table names the
        trial beside each report, so two study ids read as one trial."""
        studies: dict[str, set[str]] = {}
        for x in [*(r for g in self.response for r in g.rates), *self.subgroup_rates, *self.survival]:
            if x.trial is not None:
                studies.setdefault(x.trial, set()).add(x.study)
        return {t for t, s in studies.items() if len(s) > 1}

    def minority(self, study: str) -> Share | None:
        """The share of the brief's disease in this study where it is a minority (not its evidence)."""
        share = self.shares.get(study)
        return share if share is not None and share.minority else None

    @property
    def rate_measures(self) -> list[str]:
        """The critical outcomes read as rates (responses, landmark rates, SVR35 ...), most important first."""
        return list(dict.fromkeys(c.measure for c in self.critical if not c.median))

    @property
    def median_measures(self) -> list[str]:
        return list(dict.fromkeys(c.measure for c in self.critical if c.median))


@dataclass
class Planned:
    """A trial known only from a registration or listing: no results in the data."""

    trial: str
    study: str
    design: str
    regimen: str | None
    status: str | None  # as trials.status states it; None: no status in the sources
    source: str


@dataclass
class Context:
    """Whom a trial enrolled and at which dose, as the report the bottom line first cites states
    them: said where the bottom line first names the trial, never again."""

    trial: str
    study: str
    population: str | None  # the lead of studies.population (values.lead_clause)
    dose: str | None  # the XPO1-inhibitor arm's part of studies.dose_schedule, its lead; None where the
    # claim states the dose itself (a harms report) or no source gives it
    undosed: str | None = None  # the XPO1 inhibitor whose dose no report of the trial states (an amount)


@dataclass
class Claim:
    """One bottom-line statement as data: its kind, the rows it states and their sources.

    kinds: overview (trials by state), randomized (a trial's between-arm results, `certainty` its best
    rating), randomized without statistic (arm figures only), stopped early (`reported`: what the
    source says in words), no randomized (counts), no figures (counts), single-arm (`rates` of one
    regimen and measure, `pooled` only where a pool may be headlined, `unpooled` why not otherwise),
    harms (`harms`: one regimen's), no harms (`regimen`: stated above, no adverse-event figure),
    comparators (`indirect`: the comparator evidence section's rows
    that state a direction), planned (`planned`)."""

    kind: str
    sources: list[str]
    trial: RandomizedTrial | None = None
    effects: list[Effect] = field(default_factory=list)
    statements: list[SafetyStatement] = field(default_factory=list)
    certainty: str | None = None
    reported: str | None = None
    rates: list[Rate] = field(default_factory=list)
    regimen: str | None = None
    measure: str | None = None
    pooled: Pooled | None = None
    unpooled: str | None = None
    harms: RegimenHarms | None = None
    planned: list[Planned] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    disease: str | None = None  # the disease named (no randomized, no figures)
    trials: dict[str, list[str]] = field(default_factory=dict)  # overview: state -> trial names
    shares: list[Share] = field(default_factory=list)  # not disease-specific: the disease's share per trial
    unreported: list[str] = field(default_factory=list)  # single-arm: critical rate outcomes no figure gives
    median: Finding | None = None  # single-arm median: the regimen's first critical median outcome
    indirect: list = field(default_factory=list)  # comparators: the indirect section's rows with a direction
    contexts: dict[str, Context] = field(default_factory=dict)  # trial -> its population and dose, for
    # the trials this claim is the first to name
    regimen_name: str | None = None  # no harms: the regimen in words (regimens.name)


@dataclass
class HarmReport:
    """The harm figures of one regimen in one report: a study, or a label population."""

    where: str  # study id, or the label population as the data states it
    scope: str  # study or label
    trial: str | None
    report: str | None  # the report's own description where it is not the trial's primary report
    dose: str | None
    tolerability: list[HarmRow] = field(default_factory=list)  # dose finding, discontinuation, dose changes
    serious: list[HarmRow] = field(default_factory=list)  # fatal and serious events with a figure
    severe: list[HarmRow] = field(default_factory=list)  # grade ≥3 with a figure, most frequent first
    other: list[HarmRow] = field(default_factory=list)  # any other grade with a figure, most frequent first
    named: list[HarmRow] = field(default_factory=list)  # events named without a figure (most common ...)
    versus: list[tuple[HarmRow, HarmRow]] = field(default_factory=list)  # a randomized trial's arm figures
    # without counts (no difference computable): the XPO1-inhibitor arm's row and the control arm's
    dose_levels: list[tuple[str, int | None]] = field(default_factory=list)  # a dose-finding study's levels
    # (label, n) when its figures are of all levels together
    left: dict[str, int] = field(default_factory=dict)  # list -> events cut from it
    share: Share | None = None  # where the brief's disease is a minority of the study (not its evidence)

    @property
    def rows(self) -> list[HarmRow]:
        """The XPO1-inhibitor rows the report states (a control arm's figure is in `versus` only)."""
        return [*self.tolerability, *(x for x, _ in self.versus), *self.serious, *self.severe, *self.other,
                *self.named]

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys([*(h.source for h in self.rows), *(c.source for _, c in self.versus)]))


@dataclass
class RegimenHarms:
    regimen: str | None  # None: rows that name no regimen (a label naming no drug, a trial's row naming no arm)
    name: str | None = None  # the regimen's name ('selinexor + bortezomib + dexamethasone')
    clear: list[RiskDifference] = field(default_factory=list)  # interval excludes no difference
    unclear: list[RiskDifference] = field(default_factory=list)  # interval includes it
    reports: list[HarmReport] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # kinds of figures left to the harms section (key_harms)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys([*(d.source for d in [*self.clear, *self.unclear]),
                                   *(s for r in self.reports for s in r.sources)]))
