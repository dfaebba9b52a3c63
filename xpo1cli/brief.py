"""The evidence brief of one disease: what the evidence is, how strong, and what it costs the patient.

A view like the others: pure functions of the dataset that return a structured `Brief` (sections of
rows of numbers, each with its source). Nothing here prints or formats a table; the only text made
here is the bottom line's sentences and the 'what is not known' items, both generated from the
numbers they state. brief_render turns a Brief into terminal text, Markdown or HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from .data import Dataset
from .findings import ALPHA, CONTROL, EXPERIMENTAL, CriticalOutcome, Effect, between_arms, critical_outcomes
from .query import CATEGORIES, COMPOSITES, Filters, Resolver, split_list
from .render import as_printed, cell, level_text
from .values import derived, lead_clause, missing, row_tuples, value_or_none

if TYPE_CHECKING:
    from .bottom_line import Claim
    from .catalogue import StatedDate

# --- certainty signals: the stated rules ----------------------------------------------------------

LEVELS = ("very low", "low", "moderate", "high")
CERTAINTY_LABEL = "certainty signals from stated rules, not a formal GRADE assessment"
IMPRECISE_WIDTH = 30.0  # percentage points
IMPRECISE_N = 100  # patients
INCONSISTENT_I2 = 50.0  # percent
INCONSISTENT_K = 3  # cohorts
COHERENT_K = 2  # other clear results of one trial in the same direction that stand for a missing interval
OIS_POWER = 0.8  # the optimal information size: power of a two-sided test at findings.ALPHA
# source kinds (sources.kind, free text) that decide the reporting rule: a conference abstract or
# report, a news report or a press release; a peer-reviewed journal's abstract is none of these
LOW_REPORTING_KINDS = {"press release": "a press release", "news": "a news report",
                       "conference": "a conference abstract or report"}
PI_MIN_K = 3  # cohorts a prediction interval needs: with two it has no degrees of freedom
KNHA_MAX_K = 3  # pools of this many cohorts or fewer use Knapp–Hartung intervals (stats advises it)
OUTCOME_CI_LEVEL = 0.95  # outcomes.ci_low and ci_high are 95% limits as reported (the schema says so)
ABSOLUTE_PER = 1000  # anticipated absolute effects: patients per this many
NOT_ESTIMABLE = "not estimable"  # a row with neither estimate nor p-value: never rated
RULES: tuple[tuple[str, str], ...] = (
    ("start", "Start high for a comparison within a randomized trial; start low for rates and medians "
              "from single-arm studies or single arms."),
    ("imprecision", f"Down one for imprecision: an interval wider than {IMPRECISE_WIDTH:g} percentage "
                    f"points, an interval of a ratio that includes no effect (1), fewer than {IMPRECISE_N} "
                    "patients, fewer patients than the optimal information size for the difference two arms' "
                    f"rates show (two-sided α {ALPHA:g}, power {100 * OIS_POWER:g}%), a pool of two cohorts, "
                    "or no interval reported. "
                    "A between-arm p-value without an interval is not rated down for it where the result is clear "
                    "and either each arm reports its own interval or at least "
                    f"{COHERENT_K} other results of the same trial are clear in the same direction."),
    ("inconsistency", f"Down one for inconsistency: I² over {INCONSISTENT_I2:g}% with "
                      f"{INCONSISTENT_K} or more cohorts."),
    ("indirectness", "Down one for indirectness: mixed diseases (a cohort of several diseases, or "
                     "cohorts of different diseases) or mixed populations (a mixed setting, or cohorts "
                     "of different settings). A randomized comparison is not rated down for the population "
                     "its own trial enrolled (both arms share it); the row names that population."),
    ("risk of bias", "Not assessed: the data hold no masking, allocation concealment or attrition details, "
                     "so no rating here says anything about risk of bias."),
    ("reporting", "Down one for reporting: an audit finding on a figure used, or figures only from "
                  "sources whose kind is a conference abstract or report, a news report or a press release "
                  "(a peer-reviewed journal's abstract is not)."),
    ("subgroup", "A subgroup result is rated down one for credibility (one trial, no test of interaction in "
                 "the data) and never above its trial's overall result for the same outcome."),
    ("not estimable", "A row with neither an estimate nor a p-value is not estimable and is not rated."),
)
MEASURE_NAMES = {"ORR": "ORR", "CR_CRi": "CR/CRi", "PFS": "PFS", "OS": "OS", "DOR": "duration of response",
                 "TTR": "time to response", "FU": "follow-up", "EFS_rate": "EFS rate", "OS_rate": "OS rate",
                 "CR_or_better": "≥CR", "TSS50": "TSS50 rate",
                 "TSS50_sustained": "share of TSS50 responders still responding at the cutoff",
                 "DOR_rate": "share of responders still in response"}
_GRADE3 = re.compile(r"^(≥\s*[3-5]|[3-5](\s*[-–]\s*[3-5])?)$")


# measured in responders only: their participants are the responders, never the whole cohort
RESPONDER_ONLY = frozenset({"DOR", "TTR"})


def _responders(b: Brief) -> None:
    """Each responder-only median's participants: the cohort's response count where printed or
    derived (marked), the cohort's own n where the cohort is itself the responders, else not stated."""
    orr = {(r.study, r.cohort): r for g in b.response for r in g.rates if r.measure == "ORR"}
    orr.update({(r.study, r.cohort): r for t in b.randomized for r in t.rates if r.measure == "ORR"})
    for m in [*b.survival, *(m for t in b.randomized for m in t.medians)]:
        if not m.responder_only:
            continue
        r = orr.get((m.study, m.cohort))
        if r is not None:  # the median's cohort is the whole cohort: its responders are the response count
            if r.events is not None:
                m.responders, m.responders_derived = r.events, derived(r.basis)
        elif "respon" in m.label.lower():  # the cohort is the responders themselves
            m.responders = m.n


def measure_name(measure: str) -> str:
    return MEASURE_NAMES.get(measure, measure)


def grade3(grade) -> bool:
    """Grade 3 or higher as the dataset writes it: '3-4', '≥3', '4' (not 'all' or '≥2')."""
    return isinstance(grade, str) and bool(_GRADE3.match(grade.strip()))


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
        return f"responders: {self.responders}{'*' if self.responders_derived else ''}"


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
    title: str
    caption: str


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


# --- building it -----------------------------------------------------------------------------


def _int(v) -> int | None:
    v = value_or_none(v)
    return None if v is None else int(v)


def _float(v) -> float | None:
    v = value_or_none(v)
    return None if v is None else float(v)


def _unique(items) -> list:
    return list(dict.fromkeys(x for x in items if x))


def _str(v) -> str | None:
    v = value_or_none(v)
    return v if isinstance(v, str) and v else None


def disease_label(ds: Dataset, disease: str | None) -> tuple[str | None, str]:
    """The disease code and name a brief is about ('all diseases' without one)."""
    if disease is None:
        return None, "all diseases"
    res = Resolver(ds)
    codes = res.disease_codes(disease)
    table = ds.diseases
    for row in row_tuples(table):
        if row.disease in codes and (not isinstance(row.parent, str) or row.parent not in codes):
            return row.disease, row.name
    return disease, disease


def build_brief(ds: Dataset, filters: Filters | None = None, *, level: float = 0.95) -> Brief:
    """The brief of the studies the filters select (one disease, usually)."""
    from .audit import audit
    from .query import arm_table, filter_arms, filter_studies, outcome_table

    f = filters or Filters()
    studies = filter_studies(ds, f)
    matched = filter_arms(ds, f, studies)
    code, name = disease_label(ds, f.disease)
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(set(studies["study"]))]
    every_arm = {(a.study, a.cohort): a for a in row_tuples(arms, index=False)}  # a trial keeps its comparator
    if matched is not None:
        keys = pd.Series(list(zip(arms["study"], arms["cohort"], strict=True)), index=arms.index, dtype=object)
        arms = arms[keys.isin(matched)]
    arm_of = {(a.study, a.cohort): a for a in row_tuples(arms, index=False)}
    outcomes = outcome_table(ds, studies=studies["study"])
    findings_audit = audit(ds, set(studies["study"]), outcomes)
    flags: dict[tuple[str, str], list] = {}
    for r in row_tuples(findings_audit):
        flags.setdefault((r.study, r.cohort), []).append(r)

    b = Brief(disease=code, disease_name=name, filters=f, n_studies=len(studies),
              n_clinical=int((studies["evidence_type"] == "clinical trial").sum()),
              bottom_line=[], randomized=[], response=[], forests=[], survival=[], harms=[],
              harm_ranges=[], risk_differences=[], mitigations=[], findings=[], gaps=[], citations=[],
              critical=critical_outcomes(ds, code), shares=disease_shares(ds, studies, code))
    outcomes = critical_summaries(outcomes, b.rate_measures)  # after the audit: it reads what sources print
    b.randomized = _randomized(ds, studies, every_arm, outcomes, b.rate_measures)
    b.response, b.forests = _response(ds, studies, matched, outcomes, arm_of, flags, level, b)
    _unclear_sizes(ds, b)
    b.subgroup_rates, b.landmark_rates = _subgroups(ds, studies, outcomes, arm_of, flags, b, level)
    b.worded = _worded(studies, outcomes, arm_of, b)
    b.printed_categories = _printed_categories(ds, studies, arm_of, outcomes, findings_audit, b)
    b.survival = _survival(ds, studies, matched, arm_of, outcomes)
    _responders(b)
    b.harms, b.harm_ranges, b.risk_differences, b.mitigations = _harms(ds, studies, matched, f, code, level)
    b.findings = _findings(ds, b, flags, level)
    from .indirect_brief import hta_rows, synthesis_rows

    b.indirect = hta_rows(ds, code) + synthesis_rows(ds, set(studies["study"]))
    for r in b.indirect:
        b.statistics.update(r.figures)
    b.gaps = _gaps(ds, studies, b, findings_audit, _report_differences(ds, set(studies["study"])))
    from .bottom_line import bottom_line

    b.bottom_line = bottom_line(ds, b, set(studies["study"]))

    b.citations = _citations(ds, b)
    kinds = {c.source: c.kind for c in b.citations}
    for x in [*(r for g in b.response for r in g.rates), *(r for t in b.randomized for r in t.rates),
              *b.subgroup_rates, *b.landmark_rates,
              *(m for t in b.randomized for m in t.medians), *b.survival,
              *(m for f in b.findings for m in [*f.per_trial, *f.nested])]:
        x.source_kind = kinds.get(x.source)
    _register(b)
    return b


def _worded(studies, outcomes, arm_of, b: Brief) -> list[Worded]:
    """The critical rate outcomes of XPO1-inhibitor cohorts that a source states in words only: a row
    with neither count, percentage nor median, whose note says what the source states."""
    info = {s.study: s for s in row_tuples(studies) if s.evidence_type == "clinical trial"}
    empty = outcomes["count"].isna() & outcomes["percent_reported"].isna() & outcomes["median_months"].isna() \
        & outcomes["note"].notna() & outcomes["measure"].isin(b.rate_measures)
    out = []
    for row in row_tuples(outcomes[empty]):
        a, s = arm_of.get((row.study, row.cohort)), info.get(row.study)
        if a is None or s is None or _str(a.agent) is None:
            continue
        out.append(Worded(study=s.study, ref=_int(s.ref), trial=_str(s.trial), regimen=_str(a.regimen),
                          measure=row.measure, population=_str(s.population), statement=row.note,
                          source=row.source))
    return out


def _subgroups(ds, studies, outcomes, arm_of, flags, b: Brief, level: float) -> tuple[list[Rate], list[Rate]]:
    """The rates section 3 leaves out, each as its source prints it: (1) a critical rate outcome of a
    subgroup of an XPO1-inhibitor cohort (a cohort with a parent, not a randomized arm: prior ASCT,
    triple-class refractory ...); (2) the landmark rates of a critical median outcome that is not a
    critical rate itself (duration of response: still in response at 3, 6, 12 months)."""
    info = {s.study: s for s in row_tuples(studies) if s.evidence_type == "clinical trial"}
    shown = {(r.study, r.cohort, r.measure) for g in b.response for r in g.rates} | \
        {(r.study, r.cohort, r.measure) for t in b.randomized for r in t.rates}
    landmarks = {f"{m}_rate" for m in b.median_measures} - set(b.rate_measures)
    # a response category that is part of a critical summary (CR of CR/CRi): a subgroup's figure of it
    # where no figure of any summary it is part of is shown for that subgroup
    within: dict[str, set[str]] = {}
    for m in b.rate_measures:
        for part in summary_parts(m) or ():
            within.setdefault(part, set()).add(m)
    labels = {(c.study, c.cohort): c.label for c in row_tuples(ds.cohorts, index=False)}
    printed = outcomes["percent_reported"].notna() | outcomes["count_used"].notna()
    subgroups: list[Rate] = []
    landmark: list[Rate] = []
    seen = set()
    for row in row_tuples(outcomes[printed & outcomes["measure"].isin([*b.rate_measures, *landmarks, *within])]):
        a, s = arm_of.get((row.study, row.cohort)), info.get(row.study)
        key = (row.study, row.cohort, row.measure, _str(row.timepoint), row.source)
        if a is None or s is None or _str(a.agent) is None or key in seen:
            continue
        part_shown = any((row.study, row.cohort, m) in shown or (row.study, row.cohort, m) in
                         {(x.study, x.cohort, x.measure) for x in subgroups} for m in within.get(row.measure, ()))
        if row.measure in landmarks:
            out = landmark
        elif row.measure not in b.rate_measures and (part_shown or not isinstance(a.parent, str)):
            continue
        elif isinstance(a.parent, str) and not _role(a) and (row.study, row.cohort, row.measure) not in shown:
            out = subgroups
        else:
            continue
        seen.add(key)
        r = _rate(row, s, a, pooled=False, level=level)
        r.within = labels.get((row.study, a.parent)) if isinstance(a.parent, str) else None
        r.note = _str(getattr(row, "note", None))
        r.audit = "; ".join(f"{x.measure}: {x.detail}" for x in flags.get((r.study, r.cohort), [])
                            if x.measure == row.measure) or None
        out.append(r)
    for rates in (subgroups, landmark):  # one subgroup's figure as two reports print it differently
        for r in rates:
            other = [x for x in rates if (x.study, x.cohort, x.measure, x.timepoint) == (r.study, r.cohort, r.measure,
                                                                                         r.timepoint)
                     and x.source != r.source and x.percent != r.percent]
            if other:
                r.audit = "; ".join(x for x in (r.audit, "another report differs: " + ", ".join(
                    f"{figure(x.percent)}% [{x.source}]" for x in other)) if x)
    return subgroups, landmark


def _unclear_sizes(ds: Dataset, b: Brief) -> None:
    """Mark each rate printed without a denominator whose cohort size is in a conflict the sources
    state about the study's n (conflicts.measure 'n'): the n is as printed, what it counts is not stated."""
    c = ds.conflicts
    if "measure" not in c.columns:
        return
    disputed = {st for st, m in zip(c["study"], c["measure"], strict=True) if m == "n" and isinstance(st, str)}
    for r in (r for g in b.response for r in g.rates):
        r.n_unclear = r.study in disputed and r.n is None and r.enrolled is not None


def critical_summaries(outcomes: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """The outcome table with a row of each critical summary (CR/CRi, ≥VGPR, ≥CR ...) that a cohort's
    source gives only as its categories: their sum over one denominator where the breakdown is whole
    (count_basis 'sum of categories', marked derived wherever shown)."""
    from .query import with_summaries

    for m in measures:
        parts = summary_parts(m)
        if m != "ORR" and parts:
            outcomes = with_summaries(outcomes, m, parts, "sum of categories")
    return outcomes


def summary_parts(measure: str) -> tuple[str, ...] | None:
    """The response categories a summary measure adds up (ORR, CR/CRi, ≥VGPR, ≥CR ...); None for
    any other measure."""
    from .views import DEPTH_PARTS, DEPTH_STORED

    label = {stored: name for name, stored in DEPTH_STORED.items()}  # CR_CRi -> CR/CRi
    return COMPOSITES.get(measure) or DEPTH_PARTS.get(label.get(measure, measure))


def _report_differences(ds: Dataset, studies: set[str]) -> pd.DataFrame:
    """views.report_differences of the trials with a report among these studies, over every report of
    those trials (and no other trial: a brief of one disease reads only its own)."""
    from .views import report_differences

    trials = set(ds.studies.loc[ds.studies["study"].isin(studies), "trial"].dropna())
    reports = set(ds.studies.loc[ds.studies["trial"].isin(trials), "study"])
    return report_differences(ds, reports).reset_index(drop=True)


def _register(b: Brief) -> None:
    """Name every count and figure computed here (not read from the data), so each number a brief
    prints traces to a dataset row or to one of these."""
    st = b.statistics
    st["studies"], st["clinical studies"], st["randomized trials"] = b.n_studies, b.n_clinical, len(b.randomized)
    for t in b.randomized:
        ns = [a.n for a in t.arms]
        if all(n is not None for n in ns):
            st[f"{t.trial} patients randomized"] = sum(ns)
    for f in b.findings:
        st[f"{f.regimen} {f.outcome} studies"] = f.studies
        if f.patients is not None:
            st[f"{f.regimen} {f.outcome} patients"] = f.patients
    for h in b.harm_ranges:
        st[f"{h.term} grade {h.grade} reports"] = h.k
    for r in [*b.subgroup_rates, *b.landmark_rates]:  # a part of a population: its exact interval, from its count
        if r.ci_basis == "exact":
            name = f"{r.study} {r.cohort} {r.measure} [{r.source}]"
            st[f"{name} percent"], st[f"{name} low"], st[f"{name} high"] = r.percent, r.ci_low, r.ci_high
    for d in b.risk_differences:  # Newcombe interval of the risk difference (views.toxicity_arms)
        for key in ("difference", "ci_low", "ci_high"):
            if getattr(d, key) is not None:
                st[f"{d.trial} {d.term} risk {key}"] = getattr(d, key)


def _role(a) -> str | None:
    return a.arm if isinstance(a.arm, str) and a.arm in ("experimental", "control") else None


def _randomized(ds: Dataset, studies: pd.DataFrame, arm_of: dict, outcomes: pd.DataFrame,
                measures: list[str]) -> list[RandomizedTrial]:
    from .views import survival_table

    rand = studies[studies["randomized"].fillna(False).astype(bool) & (studies["evidence_type"] == "clinical trial")]
    ids = set(rand["study"])
    surv = survival_table(ds, rand, outcomes=outcomes) if len(rand) else None
    from .views import ROLE_RANK

    # each trial's rows, read once: its arms (in arm_of's order), comparisons, medians and first
    # response row of each cohort and measure
    own_arms: dict[str, list] = {}
    for (st, _), a in arm_of.items():
        if st in ids:
            own_arms.setdefault(st, []).append(a)
    survival = _rows_by_study(surv, ids) if surv is not None else {}
    responses = outcomes[outcomes["study"].isin(ids) & outcomes["measure"].isin(measures)]
    responses = responses.drop_duplicates(["study", "cohort", "measure", "timepoint"])
    response_at: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(responses["study"], responses["cohort"], responses["measure"], strict=True)):
        response_at.setdefault(key, []).append(i)

    order = sorted(range(len(rand)), key=lambda i: (ROLE_RANK.get(rand.iloc[i]["report_role"], 9), i))
    by_trial: dict[str, RandomizedTrial] = {}
    for s in row_tuples(rand.iloc[order]):
        own = own_arms.get(s.study, [])
        top = [a for a in own if _role(a) and not (isinstance(a.parent, str)
                                                   and _role(arm_of.get((s.study, a.parent), a)) is not None
                                                   and (s.study, a.parent) in arm_of)]
        if not top:
            continue
        trial_arms = [Arm(study=s.study, cohort=a.cohort, label=a.label, regimen=_str(a.regimen), role=a.arm,
                          agent=_str(a.agent), n=_int(a.n), source=a.source) for a in top]
        trial = s.trial if isinstance(s.trial, str) else s.study
        stats = between_arms(ds, trial, s.study)
        medians = _medians(survival.get(s.study, surv.iloc[:0]), arm_of) if surv is not None else []
        rates = []
        for m in measures:
            for a in top:
                for at in response_at.get((s.study, a.cohort, m), []):
                    rates.append(_rate(responses.iloc[at], s, a, pooled=False))
        sources = list(dict.fromkeys([s.source, *(a.source for a in trial_arms), *(x.source for x in stats),
                                      *(x.source for x in medians), *(x.source for x in rates)]))
        held = by_trial.get(trial)
        if held is None:  # the trial's primary report gives its arms
            by_trial[trial] = RandomizedTrial(trial=trial, study=s.study, design=s.design, report=_str(s.report),
                                              arms=trial_arms, effects=stats, medians=medians, rates=rates,
                                              sources=sources)
        else:  # a further report of the same trial adds its own figures, each with its source
            held.effects += stats
            held.medians += medians
            held.rates += rates
            held.sources = list(dict.fromkeys([*held.sources, *sources]))
    return list(by_trial.values())


def _rows_by_study(frame: pd.DataFrame, studies: set) -> dict[str, pd.DataFrame]:
    """The rows of each of these studies, in file order."""
    frame = frame[frame["study"].isin(studies)]
    return {study: rows for study, rows in frame.groupby("study", sort=False)}


def _rate(row, s, a, pooled: bool, level: float = 0.95, interval: bool = True) -> Rate:
    """One cohort's rate; without `interval` its exact interval is left for `_exact_intervals`."""
    from .stats import percent_ci

    k, n = _int(row.count_used), _int(row.denominator)
    rep = _float(row.percent_reported)
    if k is not None and n:
        lo, hi = percent_ci(k, n, "exact", level) if interval else (None, None)
        pct, ci_basis = round(100 * k / n, 1), "exact"
    else:
        lo, hi = _float(row.ci_low), _float(row.ci_high)
        pct, ci_basis = rep, ("as reported" if lo is not None and hi is not None else None)
        k = None
    return Rate(ref=_int(s.ref), study=s.study, trial=_str(s.trial), cohort=a.cohort, label=a.label,
                regimen=_str(a.regimen), role=_role(a), agent=_str(a.agent), measure=row.measure, events=k,
                n=n, percent=pct, percent_reported=rep, ci_low=lo, ci_high=hi, ci_basis=ci_basis,
                basis=row.count_basis if k is not None else None, design=s.design, disease=s.disease,
                setting=_str(s.setting), source=row.source, audit=None, pooled=pooled, timepoint=_str(row.timepoint),
                enrolled=_int(a.n), population=_str(s.population))


def _exact_intervals(rates: list[Rate], level: float) -> None:
    """The exact interval of every rate with a count, in one call."""
    from .stats import percent_cis

    counted = [r for r in rates if r.ci_basis == "exact"]
    if counted:
        lows, highs = percent_cis([r.events for r in counted], [r.n for r in counted], "exact", level)
        for r, lo, hi in zip(counted, lows, highs, strict=True):
            r.ci_low, r.ci_high = lo, hi


def _medians(frame: pd.DataFrame, arm_of: dict) -> list[Median]:
    """The medians of a survival table's rows whose cohort is in arm_of, each column read once."""
    from .query import column

    def numbers(name: str, kind: type) -> list:
        return [None if v is None else kind(v) for v in column(frame, name)]

    def texts(name: str) -> list:
        return [v if isinstance(v, str) and v else None for v in column(frame, name)]

    out = []
    for (study, cohort, ref, label, regimen, agent, n, measure, median, unit, range_low, range_high, ci_low,
         ci_high, note, source) in zip(
            frame["study"].tolist(), frame["cohort"].tolist(), numbers("ref", int), frame["cohort_label"].tolist(),
            texts("regimen"), texts("agent"), numbers("n", int), frame["measure"].tolist(),
            numbers("median", float), frame["unit"].tolist(), numbers("range_low", float),
            numbers("range_high", float), numbers("ci_low", float), numbers("ci_high", float), texts("note"),
            frame["source"].tolist(), strict=True):
        a = arm_of.get((study, cohort))
        if a is None:
            continue
        out.append(Median(study=study, ref=ref, cohort=cohort, label=label, regimen=regimen, role=_role(a),
                          agent=agent, n=n, measure=measure, median=median, unit=unit, range_low=range_low,
                          range_high=range_high, ci_low=ci_low, ci_high=ci_high, note=note, source=source))
    return out


def _response(ds, studies, matched, outcomes, arm_of, flags, level, b: Brief):
    from .views import XPO1_GROUP, pool_inputs, pool_table

    info = {s.study: s for s in row_tuples(studies)}
    with_count: dict[tuple, tuple] = {}  # (study, cohort, measure, source) -> its first row with a count
    for row in row_tuples(outcomes[outcomes["count_used"].notna() & outcomes["measure"].isin(b.rate_measures)]):
        with_count.setdefault((row.study, row.cohort, row.measure, row.source), row)
    groups: list[ResponseGroup] = []
    forests: list[Forest] = []
    for measure in b.rate_measures:
        poolable = measure in CATEGORIES or measure in COMPOSITES
        included = (pool_inputs(ds, studies, measure, include_controls=True, matched=matched, outcomes=outcomes)[0]
                    if poolable else outcomes.iloc[:0].assign(group=None))
        if not len(included) and not (outcomes["measure"] == measure).any():
            continue
        rates: list[Rate] = []
        for r in row_tuples(included):
            a = arm_of.get((r.study, r.cohort))
            row = with_count.get((r.study, r.cohort, measure, r.source))
            if a is None or row is None:
                continue
            rates.append(_rate(row, info[r.study], a, pooled=True, level=level, interval=False))
        # percentages printed without a count: a study (or trial) with no counted cohort, its
        # headline population or its arms; a measure never pooled (SVR35, a landmark rate): every
        # figure of a study's headline population, arms or whole populations, each time point
        have_study = {r.study for r in rates}
        have_trial = {r.trial for r in rates if r.trial}
        seen = set()
        printed = outcomes["percent_reported"].notna() | (outcomes["count_used"].notna() & ~poolable)
        for r in row_tuples(outcomes[(outcomes["measure"] == measure) & (outcomes["count_used"].isna() | ~poolable)
                                     & printed]):
            a = arm_of.get((r.study, r.cohort))
            s = info.get(r.study)
            if a is None or s is None or s.evidence_type != "clinical trial" or r.study in have_study:
                continue
            if isinstance(s.trial, str) and s.trial in have_trial:
                continue
            whole = not poolable and not isinstance(a.parent, str)
            if not (a.headline or _role(a) or whole) or (r.study, r.cohort, _str(r.timepoint)) in seen:
                continue
            if _role(a) and isinstance(a.parent, str) and _role(arm_of.get((r.study, a.parent), a)) \
                    and (r.study, a.parent) in arm_of:
                continue
            seen.add((r.study, r.cohort, _str(r.timepoint)))
            rates.append(_rate(r, s, a, pooled=False, level=level, interval=False))
        if not poolable:  # a measure never pooled: each trial's figures from its best report (its primary first)
            from .views import ROLE_RANK

            best: dict[str, tuple] = {}
            for i, r in enumerate(rates):
                if r.trial is not None:
                    best[r.trial] = min(best.get(r.trial, (99, i, r.study)),
                                        (ROLE_RANK.get(info[r.study].report_role, 9), i, r.study))
            rates = [r for r in rates if r.trial is None or best[r.trial][2] == r.study]
        _exact_intervals(rates, level)
        _regimen_doubts(ds, rates)
        _summed(ds, rates)
        for rate in rates:
            found = flags.get((rate.study, rate.cohort), [])
            hit = [f"{x.measure}: {x.detail}" for x in found if x.measure in (measure, rate.measure)
                   or measure in str(x.measure).split("+")]
            rate.audit = "; ".join(hit) or None
        if not rates:
            continue
        order = list(dict.fromkeys([*(r.regimen for r in rates if not r.control),
                                    *(r.regimen for r in rates if r.control)]))
        xpo1 = included[included["group"] == XPO1_GROUP]
        fits: dict = {}
        frame = None
        if len(xpo1) >= 2:
            frame, summary = pool_table(xpo1, method="DL", ci="exact", level=level, by="regimen")
            if any(2 <= fit["k"] <= KNHA_MAX_K for fit in summary["subgroups"].values()):
                # the method advises Knapp–Hartung for so few cohorts: the interval shown is its
                frame, summary = pool_table(xpo1, method="DL", ci="exact", level=level, by="regimen", knha=True)
            fits = summary["subgroups"]
            keep = frame["subgroup"].notna() | (frame["row"] == "cohort")
            plotted = frame[keep].reset_index(drop=True)
            caption = _forest_caption(summary, level)
            title = (f"{measure_name(measure)} by regimen, {b.disease_name}: each cohort with its exact "
                     "interval; random effects within each regimen of two or more cohorts")
            forests.append(Forest(measure=measure, frame=plotted, title=title, caption=caption))
            for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "i2", "tau2"):
                if summary.get(key) is not None:
                    b.statistics[f"{measure} all regimens {key}"] = float(summary[key])
        for regimen in order:
            mine = [r for r in rates if r.regimen == regimen]
            for control in (False, True):
                part = [r for r in mine if r.control == control]
                if not part:
                    continue
                pooled = None
                fit = fits.get(regimen) if not control else None
                counted = [r for r in part if r.pooled and r.events is not None]
                if fit is not None and fit["k"] >= 2:
                    # a prediction interval needs three cohorts or more (k - 2 degrees of freedom)
                    pi = (fit.get("pi_low"), fit.get("pi_high")) if fit["k"] >= PI_MIN_K else (None, None)
                    pooled = Pooled(regimen=regimen, measure=measure, k=int(fit["k"]),
                                    n_total=sum(r.n for r in counted), estimate=fit["estimate"],
                                    ci_low=fit["ci_low"], ci_high=fit["ci_high"], pi_low=pi[0],
                                    pi_high=pi[1], i2=fit.get("i2"), tau2=fit.get("tau2"),
                                    cautions=list(fit.get("cautions") or []), level=level,
                                    test=fit.get("test"))
                    b.statistics[f"{regimen} {measure} pooled tau2"] = float(fit["tau2"])
                    for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "i2"):
                        value = getattr(pooled, key)
                        if value is not None:
                            b.statistics[f"{regimen} {measure} pooled {key}"] = float(value)
                    b.statistics[f"{regimen} {measure} pooled n"] = float(pooled.n_total)
                    b.statistics[f"{regimen} {measure} pooled k"] = float(pooled.k)
                groups.append(ResponseGroup(regimen=regimen, measure=measure, rates=part, pooled=pooled))
        for r in rates:
            if r.events is not None:
                key = f"{r.study}/{r.cohort} {measure}" + (f" at {r.timepoint}" if r.timepoint else "")
                b.statistics[f"{key} percent"] = float(r.percent)
                b.statistics[f"{key} ci_low"] = float(r.ci_low)
                b.statistics[f"{key} ci_high"] = float(r.ci_high)
    return groups, forests


CATEGORY_CONFLICT = "categories vs 100%"  # the audit's check: exclusive categories adding up past the whole


def _printed_categories(ds, studies, arm_of, outcomes, findings_audit, b: Brief) -> list[PrintedCategories]:
    """The cohorts whose printed response categories conflict (the audit says so) and that have no
    rate of the summary measure those categories would make: each category as printed, placed with
    the first of the brief's rate measures that adds up any of them."""
    info = {s.study: s for s in row_tuples(studies)}
    shown = {(r.study, g.measure) for g in b.response for r in g.rates}
    out = []
    for f in row_tuples(findings_audit[findings_audit["check"] == CATEGORY_CONFLICT]):
        s, a = info.get(f.study), arm_of.get((f.study, f.cohort))
        if s is None or a is None or s.evidence_type != "clinical trial":
            continue
        parts = str(f.measure).split("+")
        measure = next((m for m in b.rate_measures if set(summary_parts(m) or ()) & set(parts)), None)
        if measure is None or (f.study, measure) in shown:
            continue
        rows = outcomes[(outcomes["study"] == f.study) & (outcomes["cohort"] == f.cohort)
                        & outcomes["measure"].isin(parts) & outcomes["percent_reported"].notna()]
        printed = [(m, float(p)) for m, p in zip(rows["measure"], rows["percent_reported"], strict=True)]
        if not printed:
            continue
        printed.sort(key=lambda x: parts.index(x[0]))
        n = next((_int(x) for x in rows["denominator"] if _int(x) is not None), None) or _int(a.n)
        out.append(PrintedCategories(ref=_int(s.ref), study=s.study, trial=_str(s.trial), cohort=f.cohort,
                                     label=a.label, regimen=_str(a.regimen), design=s.design, n=n,
                                     measure=measure, printed=printed, detail=f.detail, source=f.source))
    return out


def _summed(ds: Dataset, rates: list[Rate]) -> None:
    """Name the categories each rate adds up where its source prints no row of the measure itself."""
    parts = {r.measure: summary_parts(r.measure) for r in rates if r.basis == "sum of categories"}
    if not parts:
        return
    o = ds.outcomes
    o = o[o["study"].isin({r.study for r in rates})]
    stored = set(zip(o["study"], o["cohort"], o["source"], o["measure"], strict=True))
    counted = set(zip(*(o.loc[o["count"].notna(), c] for c in ("study", "cohort", "source", "measure")),
                      strict=True))
    for r in rates:
        if r.basis == "sum of categories" and (r.study, r.cohort, r.source, r.measure) not in stored:
            r.summed = tuple(m for m in parts[r.measure] if (r.study, r.cohort, r.source, m) in counted)


def _regimen_doubts(ds: Dataset, rates: list[Rate]) -> None:
    """Mark each rate coded with a regimen whose trial has another report that codes none (the
    source names no single regimen) and states its dose schedule: patients may have had another."""
    doubts: dict[str, tuple[str, str]] = {}
    for s in row_tuples(ds.studies[ds.studies["regimen"].isna() & ds.studies["dose_schedule"].notna()
                                   & ds.studies["trial"].notna()]):
        doubts.setdefault(s.trial, (s.source, s.dose_schedule))
    for r in rates:
        if r.regimen is not None and r.trial in doubts and doubts[r.trial][0] != r.source:
            r.regimen_doubt = doubts[r.trial]


def _forest_caption(summary: dict, level: float) -> str:
    """What the forest plot shows: each regimen's pooled estimate (two or more cohorts), its
    heterogeneity and the pool's cautions; no estimate across regimens is drawn or stated."""
    lv = level_text(level)
    parts = []
    for name, fit in summary["subgroups"].items():
        if fit["k"] < 2:
            continue
        text = (f"{name}: {pct(fit['estimate'])}% ({lv} CI {pct(fit['ci_low'])}–{pct(fit['ci_high'])}")
        if fit.get("pi_low") is not None and fit["k"] >= PI_MIN_K:
            text += f"; {lv} prediction interval {pct(fit['pi_low'])}–{pct(fit['pi_high'])}"
        text += f"), k = {fit['k']}, tau² = {fit['tau2']:.3f}, I² = {pct(fit['i2'])}%"
        parts.append(text)
    singles = [name for name, fit in summary["subgroups"].items() if fit["k"] < 2]
    test = "Knapp–Hartung t intervals" if summary.get("test") == "knha" or any(
        fit.get("test") == "knha" for fit in summary["subgroups"].values()) else "z intervals"
    text = (f"Random effects within each regimen (DerSimonian–Laird, logit scale, {test}; each its own "
            "tau²): " + ("; ".join(parts) if parts else "no regimen has two cohorts") + ".")
    if singles:
        text += f" One cohort, not pooled: {', '.join(singles)}."
    cautions = sorted({c for name, fit in summary["subgroups"].items() if fit["k"] >= 2
                       for c in fit.get("cautions") or []})
    if cautions:
        text += " Caution: " + "; ".join(cautions) + "."
    return text


def _survival(ds, studies, matched, arm_of, outcomes) -> list[Median]:
    from .views import survival_table

    frame = survival_table(ds, studies[studies["evidence_type"] == "clinical trial"], matched=matched,
                           outcomes=outcomes)
    frame = frame[frame["median"].notna() | frame["note"].notna()]  # no median: its note says why (not reached)
    out = _one_per_trial(studies, _medians(frame, arm_of), arm_of)
    order = {m: i for i, m in enumerate(("PFS", "OS", "DOR", "TTR", "FU"))}
    regimens = list(dict.fromkeys(m.regimen for m in out))
    return sorted(out, key=lambda m: (m.agent is None, regimens.index(m.regimen), order.get(m.measure, 9)))


def _one_per_trial(studies: pd.DataFrame, medians: list[Median], arm_of: dict) -> list[Median]:
    """Two reports of one trial (studies.trial) giving the same median of the same measure for
    their headline populations of the same size: one row, the higher-ranked report's (a primary
    report first), naming the other report as also giving it."""
    from .views import ROLE_RANK

    info = {s.study: s for s in row_tuples(studies)}

    def trial(m: Median) -> str | None:
        return _str(info[m.study].trial) if m.study in info else None

    def rank(m: Median) -> int:
        return ROLE_RANK.get(info[m.study].report_role, 9)

    kept: dict[tuple, Median] = {}
    out = []
    for m in sorted(medians, key=rank):
        a = arm_of.get((m.study, m.cohort))
        key = (trial(m), m.measure, m.median, m.unit, m.agent is None)
        first = kept.get(key)
        if trial(m) is None or m.median is None or a is None or not a.headline:
            out.append(m)
        elif first is None:
            kept[key] = m
            out.append(m)
        elif first.study != m.study and (first.n is None or m.n is None or first.n == m.n):
            first.also.append(f"{where_text_of(m.ref, m.study)} [{m.source}]")
        else:
            out.append(m)
    keep = {id(m) for m in out}
    return [m for m in medians if id(m) in keep]


def where_text_of(ref, study: str) -> str:
    """A report named by the review's reference number where it has one: 'review ref 13 (storm-ref13)'."""
    return f"review ref {ref} ({study})" if ref is not None else study


def names_disease(ds: Dataset, text, code: str) -> bool:
    """Whether the text names the disease (its code, name or an alias, or a narrower disease's)."""
    if not isinstance(text, str):
        return False
    from .query import norm

    codes = Resolver(ds).disease_codes(code)
    words = set()
    for row in row_tuples(ds.diseases):
        if row.disease in codes:
            words |= {row.disease, row.name, *split_list(row.aliases)}
    return any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text, flags=re.I) for w in words if len(norm(w)) > 1)


def _label_matches(ds: Dataset, population, code: str | None, regimen=None, regimens: set[str] = frozenset()) -> bool:
    """Whether a label row belongs in a disease's brief: its population ('label pooled: myeloma, ...')
    names the disease, or it names no disease at all and its regimen ('label: with bortezomib and
    dexamethasone' -> SVd) is one the brief's studies test."""
    if not isinstance(population, str):
        return False
    if code is None or names_disease(ds, population.split(",")[0], code):
        return True
    return isinstance(regimen, str) and regimen in regimens and \
        not any(names_disease(ds, population, d) for d in ds.diseases["disease"])


def disease_shares(ds: Dataset, studies: pd.DataFrame, code: str | None) -> dict[str, Share]:
    """The brief's disease's share of each selected study whose population mixes it with another
    disease: where a report of the same trial gives it, the cohorts whose label names that disease
    alone (the outermost such cohorts, summed) out of the cohort they belong to; where none does and
    the study lists another disease first (its main population), a share not stated (the study's
    population as its source gives it). Study id -> Share."""
    if code is None:
        return {}
    wanted = Resolver(ds).disease_codes(code)
    mixed = [s for s in row_tuples(studies) if any(d not in wanted for d in split_list(s.disease))
             and any(d in wanted for d in split_list(s.disease))]
    if not mixed:
        return {}
    trial_of = dict(zip(ds.studies["study"], ds.studies["trial"], strict=True))
    by_trial: dict[str, list[str]] = {}
    for st, tr in trial_of.items():
        by_trial.setdefault(tr if isinstance(tr, str) else st, []).append(st)
    diseases = dict(zip(ds.studies["study"], ds.studies["disease"], strict=True))
    cohorts = set(ds.cohorts["study"])
    out: dict[str, Share] = {}
    for s in mixed:
        key = s.trial if isinstance(s.trial, str) else s.study
        for report in by_trial.get(key, [s.study]):
            listed = split_list(diseases.get(report))
            rows = list(row_tuples(ds.cohorts[ds.cohorts["study"] == report])) if report in cohorts else []
            of = {c.cohort: c for c in rows}
            alone = {c.cohort for c in rows
                     if [d for d in listed if names_disease(ds, c.label, d)] in ([d] for d in listed if d in wanted)}
            parents = {(report, c.cohort): c.parent for c in rows}
            top = [of[c] for c in alone if not any(_encloses(parents, report, a, c) for a in alone if a != c)]
            if not top or any(missing(c.n) for c in top):
                continue
            roots = {_root(of, c.cohort) for c in top}
            root = of.get(next(iter(roots))) if len(roots) == 1 else None
            if root is None or missing(root.n) or root.cohort in alone:
                continue
            out[s.study] = Share(trial=key, disease=code, patients=sum(int(c.n) for c in top), total=int(root.n),
                                 study=report, source=top[0].source)
            break
        else:  # no report gives the disease's own cohort: where the study names another disease first
            # (its main population), the brief's disease is of unknown share and its figures are not its evidence
            # (a randomized trial's comparison is of the population it enrolled, named with it)
            if split_list(s.disease)[0] in wanted or value_or_none(s.randomized) is True:
                continue
            who = _str(s.population) or _str(s.age_group)
            out[s.study] = Share(trial=key, disease=code, patients=None, total=None, study=s.study,
                                 source=s.source, population=who or None)
    return out


def _root(of: dict, cohort: str) -> str:
    seen = {cohort}
    while isinstance(of[cohort].parent, str) and of[cohort].parent in of and of[cohort].parent not in seen:
        cohort = of[cohort].parent
        seen.add(cohort)
    return cohort


def _harms(ds, studies, matched, f: Filters, code, level):
    from .views import of_treatment, toxicity_doses, toxicity_table

    agent = Resolver(ds).agent(f.agent) if f.agent else None
    tox = toxicity_table(ds, studies, agent=agent, source=f.source, matched=matched)
    if f.arm_level():  # a treatment's brief: its own harms (label rows too), the class's mitigations
        tox = tox[of_treatment(ds, tox["regimen"], f) | (tox["kind"] == "mitigation")]
    tox["dose"] = toxicity_doses(ds, tox)
    rows: list[HarmRow] = []
    refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
    tested = set(studies["regimen"].dropna())
    for r in row_tuples(tox):
        quantified = not (missing(r.percent_reported) and missing(r.percent_calc) and missing(r.count))
        if r.kind == "adverse_event":  # grade ≥3 events, events of any other grade with a figure or named
            if not (grade3(r.grade) or quantified or not missing(r.statement)):
                continue
        elif r.kind not in ("safety_statement", "dose_finding") or r.scope != "study":
            continue
        if r.scope == "study":
            pass
        elif r.scope == "label":
            if not _label_matches(ds, r.population, code, r.regimen, tested):
                continue
        else:
            continue
        count, n = _int(r.count), _int(r.n)
        rep, calc = _float(r.percent_reported), _float(r.percent_calc)
        pct = rep if rep is not None else calc
        rows.append(HarmRow(where=r.study if r.scope == "study" else r.population, ref=_int(refs.get(r.study)),
                            regimen=_str(r.regimen), role=_str(r.arm), term=r.term, grade=_str(r.grade) or "",
                            count=count, n=n, percent=pct,
                            percent_basis="reported" if rep is not None else "computed" if calc is not None else None,
                            statement=_str(r.statement), scope=r.scope, source=r.source, dose=_str(r.dose),
                            kind=r.kind, cohort=_str(r.cohort)))
    ranges: dict[tuple, list[HarmRow]] = {}
    for h in rows:
        if h.role == "control" or h.regimen is None or not h.severe:  # an XPO1-inhibitor arm's own rows only
            continue
        ranges.setdefault((h.term, h.grade, h.regimen, h.dose), []).append(h)
    harm_ranges = []
    for (term, grade, regimen, dose), hs in ranges.items():
        q = [h.percent for h in hs if h.percent is not None]
        harm_ranges.append(HarmRange(term=term, grade=grade, k=len(q), low=min(q) if q else None,
                                     high=max(q) if q else None,
                                     sources=list(dict.fromkeys(h.source for h in hs)), regimen=regimen, dose=dose))
    harm_ranges.sort(key=lambda h: (-(h.high or -1), h.term))
    rand = studies[studies["randomized"].fillna(False).astype(bool)]
    rds = risk_differences(ds, rand, level) if len(rand) else []
    mit = [Mitigation(term=r.term, category=r.category, statement=_str(r.statement), agent=_str(r.agent),
                      source=r.source, study=_str(r.study)) for r in row_tuples(tox) if r.kind == "mitigation"]
    return rows, harm_ranges, rds, mit


def risk_differences(ds: Dataset, studies: pd.DataFrame, level: float = 0.95) -> list[RiskDifference]:
    """Adverse events arm against arm in randomized trials, as `xpo1 toxicity --arms` pairs them
    (views.toxicity_arms), where both arms have an n."""
    from .views import toxicity_arms

    frame = toxicity_arms(ds, studies, level)
    return [RiskDifference(trial=r.trial, term=r.term, grade=r.grade, experimental=r.experimental,
                           exp_count=int(r.exp_count), exp_n=int(r.exp_n), exp_pct=_float(r.exp_pct),
                           control=r.control, ctl_count=int(r.ctl_count), ctl_n=int(r.ctl_n),
                           ctl_pct=_float(r.ctl_pct), difference=_float(r.risk_difference),
                           ci_low=_float(r.rd_ci_low), ci_high=_float(r.rd_ci_high), n_basis=r.n_basis,
                           source=r.source, level=level)
            for r in row_tuples(frame) if not missing(r.exp_n) and not missing(r.ctl_n)
            and not missing(r.risk_difference)]


# --- summary of findings --------------------------------------------------------------------------


def _kinds(ds: Dataset) -> dict[str, str]:
    return {s: (k if isinstance(k, str) else "") for s, k in zip(ds.sources["source"], ds.sources["kind"],
                                                                  strict=True)}


def press_release(kind: str | None) -> bool:
    """Whether a source kind is a press release (or a report of one): a figure from it is labelled so
    wherever shown."""
    return low_reporting_kind(kind) == LOW_REPORTING_KINDS["press release"]


def low_reporting_kind(kind: str | None) -> str | None:
    """What a source kind is for the reporting rule ('a conference abstract or report', 'a news report',
    'a press release'), or None for any other kind (a journal article or its abstract, a label ...)."""
    text = (kind or "").casefold()
    return next((what for word, what in LOW_REPORTING_KINDS.items() if word in text), None)


def _low_reporting_only(kinds: dict[str, str], sources: list[str]) -> bool:
    return bool(sources) and all(low_reporting_kind(kinds.get(s)) for s in sources)


def at_point(timepoint: str | None) -> str:
    return f" at {timepoint}" if timepoint else ""


def _arm_interval(a) -> bool:
    return a.ci_low is not None and a.ci_high is not None


def randomized_imprecision(e: Effect, effects: list[Effect], n: int | None,
                           statistics: dict | None = None) -> tuple[list[str], list[str]]:
    """Why a between-arm result is imprecise (reasons; none: not rated down), and notes on what
    was weighed but not rated down.

    - fewer than IMPRECISE_N patients, no interval of a ratio, or an interval including no effect;
    - fewer patients than the optimal information size for the difference the arms' rates show;
    - a p-value without an estimate and interval, unless the result is clear and its direction is
      known and either each arm reports its own interval, or at least COHERENT_K other results of
      the same trial (whole population) are clear in the same direction. A subgroup's p-value
      alone is always rated down (several subgroups agreeing are not several outcomes)."""
    from .stats import optimal_information_size

    reasons, notes = [], []
    if n is None or n < IMPRECISE_N:
        reasons.append(f"{n if n is not None else 'unknown number of'} patients")
    if e.statistic != "p" and (e.ci_low is None or e.ci_high is None):
        reasons.append("no interval reported")
    if e.statistic != "p" and e.ci_low is not None and e.ci_high is not None and e.ci_low <= 1 <= e.ci_high:
        reasons.append("the interval includes no effect")
    x, c = e.experimental, e.control
    if n is not None and e.subgroup is None and x.unit == "%" and c.unit == "%" \
            and x.value is not None and c.value is not None:
        ois = optimal_information_size(x.value / 100, c.value / 100, ALPHA, OIS_POWER)
        at = f" at {e.timepoint}" if e.timepoint else ""
        if ois is not None and statistics is not None:
            statistics[f"{e.trial} {e.measure}{at} optimal information size"] = ois
        if ois is not None and n < ois:
            reasons.append(f"{n} patients, fewer than the {ois} needed to detect the difference the arms show "
                           f"({figure(x.value)}% vs {figure(c.value)}%; optimal information size, two-sided "
                           f"α {ALPHA:g}, power {100 * OIS_POWER:g}%)")
    if e.statistic == "p":
        agree = [o for o in effects if o is not e and o.subgroup is None and o.study == e.study and o.clear
                 and o.direction == e.direction]
        known = e.clear and e.direction in (EXPERIMENTAL, CONTROL) and e.subgroup is None
        if known and _arm_interval(x) and _arm_interval(c):
            notes.append("a p-value without an interval of the difference; not rated down for it: each arm "
                         f"reports its own interval ({figure(x.value)}%, {figure(x.ci_low)}–{figure(x.ci_high)} vs "
                         f"{figure(c.value)}%, {figure(c.ci_low)}–{figure(c.ci_high)})")
        elif known and len(agree) >= COHERENT_K:
            notes.append("a p-value without an interval of the difference; not rated down for it: "
                         f"{len(agree)} other results of the trial are clear in the same direction "
                         f"({', '.join(measure_name(o.measure) + at_point(o.timepoint) for o in agree)})")
        else:
            reasons.append("no estimate with an interval, a p-value only")
    return reasons, notes


def _merge_subgroups(rows: list[Finding], kinds: dict[str, str]) -> list[Finding]:
    """One row per subgroup: the results of one trial's subgroup for one outcome that several reports
    give (a p-value in one, a hazard ratio in another) become one row, led by its best-rated result
    (a rated one before a not estimable one, then one with an estimate), the others kept beside it."""
    groups: dict[tuple, list[Finding]] = {}
    for f in rows:
        if f.subgroup:
            e = f.effect
            groups.setdefault((e.trial, e.subgroup, e.measure, e.timepoint), []).append(f)
    drop: set[int] = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        lead = max(group, key=lambda f: (LEVELS.index(f.rating) if f.rating in LEVELS else -1,
                                         f.effect.estimate is not None))
        for f in group:
            if f is lead:
                continue
            lead.also.append(f.effect)
            lead.sources = _unique([*lead.sources, *f.sources])
            lead.reports = _unique([*lead.reports, *f.reports])
            drop.add(id(f))
        lead.source_kinds = {x.source: (kinds.get(x.source) or "").split(" (")[0]
                             for x in (lead.effect, *lead.also)}
    return [f for f in rows if id(f) not in drop]


def partner_classes(ds: Dataset, regimen: str | None) -> set[str]:
    """The drug classes of a regimen's partners (its drugs other than the XPO1 inhibitor)."""
    classes = dict(zip(ds.drugs["drug"], ds.drugs["drug_class"], strict=True))
    partners = dict(zip(ds.regimens["regimen"], ds.regimens["partners"], strict=True))
    return {c for d in split_list(partners.get(regimen)) for c in split_list(classes.get(d))}


def _related_trials(ds: Dataset, b: Brief) -> dict[str, list[str]]:
    """For each single-arm regimen, what the brief's randomized trials of the same regimen, or of a
    regimen whose partners' classes it holds (selinexor + intensive chemotherapy for selinexor + 7+3),
    found between arms: a reader of the single-arm figures is told the randomized evidence exists."""
    out: dict[str, list[str]] = {}
    singles = {g.regimen for g in b.response if g.regimen} | {m.regimen for m in b.survival if m.regimen}
    for t in b.randomized:
        whole = [e for e in t.effects if e.subgroup is None and e.direction in (EXPERIMENTAL, CONTROL)]
        exp = [a for a in t.arms if not a.control]
        if not whole or not exp:
            continue
        regimen = exp[0].regimen
        theirs = partner_classes(ds, regimen)
        favoured: dict[tuple, list[str]] = {}
        for e in whole:
            favoured.setdefault((e.favoured.regimen or e.favoured.label, bool(e.clear)), []).append(
                measure_name(e.measure) + at_point(e.timepoint))
        found = "; ".join(f"favours {k} on {', '.join(v)}" if clear else
                          f"no clear difference on {', '.join(v)} (point estimate favours {k})"
                          for (k, clear), v in favoured.items())
        arms = " vs ".join(a.regimen or a.label for a in t.arms)
        for single in singles:
            same = single == regimen
            if not same and not (theirs and theirs <= partner_classes(ds, single)):
                continue
            what = "the same regimen" if same else f"the same partner class ({', '.join(sorted(theirs))})"
            out.setdefault(single, []).append(f"a randomized trial of {what} exists: {t.trial} ({arms}), {found}")
    return out


def rate(start: str, moves: list[Move]) -> str:
    """The rating a start and its moves give (one level down per move, never below very low)."""
    return LEVELS[max(0, LEVELS.index(start) - len(moves))]


def _findings(ds: Dataset, b: Brief, flags: dict, level: float = 0.95) -> list[Finding]:
    kinds = _kinds(ds)
    out: list[Finding] = []

    # the settings every report of a study's trial states: reports of one trial that describe its
    # setting differently leave every row of that trial with both (one trial, one rule)
    trial_of = {st: _str(t) for st, t in zip(ds.studies["study"], ds.studies["trial"], strict=True)}
    trial_settings: dict[str, set] = {}
    for st, setting in zip(ds.studies["study"], ds.studies["setting"], strict=True):
        if trial_of[st] is not None and _str(setting):
            trial_settings.setdefault(trial_of[st], set()).add(setting)

    def settings_of(study: str, setting: str | None) -> list[str | None]:
        return sorted(trial_settings.get(trial_of.get(study), set())) or [setting]

    def indirect(diseases: list[str], settings: list[str | None]) -> list[Move]:
        codes = {d for v in diseases for d in split_list(v)}
        moves = []
        mixed = [v for v in diseases if len(split_list(v)) > 1]
        if mixed or len(codes) > 1:
            moves.append(Move("indirectness", f"diseases {', '.join(sorted(codes))}"))
        stated = {s for s in settings if s}
        if "mixed" in stated or len(stated) > 1:
            moves.append(Move("indirectness", f"settings {', '.join(sorted(stated))}"))
        return moves[:1]

    def reporting(keys: list[tuple[str, str]], sources: list[str], measure: str | None = None) -> list[Move]:
        audits = [f"{x.study}/{x.cohort} {x.measure}: {x.check}" for k in keys for x in flags.get(k, [])
                  if measure is None or x.measure == measure or measure in str(x.measure).split("+")]
        if audits:
            return [Move("reporting", "audit: " + "; ".join(audits))]
        if _low_reporting_only(kinds, sources):
            return [Move("reporting", "only " + "; ".join(f"{s} ({low_reporting_kind(kinds.get(s))})"
                                                          for s in sources))]
        return []

    # randomized comparisons
    for t in b.randomized:
        exp = [a for a in t.arms if not a.control]
        ctl = [a for a in t.arms if a.control]
        n = sum(a.n for a in t.arms if a.n is not None) if all(a.n is not None for a in t.arms) else None
        name = " vs ".join(dict.fromkeys(a.regimen or a.label for a in [*exp, *ctl]))
        overall: dict[tuple, str] = {}
        for s in sorted(t.effects, key=lambda e: e.subgroup is not None):  # each overall result before its subgroups
            moves = []
            sub = s.subgroup is not None
            reasons, notes = randomized_imprecision(s, t.effects, n, b.statistics)
            if reasons:
                moves.append(Move("imprecision", "; ".join(reasons)))
            # the trial's own population (AML and high-risk MDS, say) is shared by both arms: the
            # comparison answers the question for that population, so it is not indirectness
            study_row = ds.studies.loc[ds.studies["study"] == t.study].iloc[0]
            if len(split_list(study_row["disease"])) > 1:
                enrolled = lead_clause(study_row["population"]) or ", ".join(split_list(study_row["disease"]))
                notes.append(f"population as the trial enrolled it: {enrolled}")
            moves += reporting([(t.study, a.cohort) for a in t.arms], [s.source],
                               measure=s.measure)
            if sub:
                moves.append(Move("subgroup", "one trial's subgroup; no test of interaction in the data"
                                  + ("; a p-value only" if s.statistic == "p" else "")))
            outcome = measure_name(s.measure) + (f" at {s.timepoint}" if s.timepoint else "")
            if sub:
                outcome += f" ({s.subgroup})"
            rating = rate("high", moves)
            key = (s.measure, s.timepoint)
            if not s.estimable:
                moves, rating = [], NOT_ESTIMABLE
            elif sub and key in overall and overall[key] in LEVELS \
                    and LEVELS.index(rating) > LEVELS.index(overall[key]):
                rating = overall[key]  # never above the trial's overall result
            elif not sub:
                overall.setdefault(key, rating)
            for arm in (s.arm_a, s.arm_b):  # anticipated absolute effects: the arms' risks per 1000
                if arm.unit == "%" and arm.value is not None:
                    per = round(arm.value * ABSOLUTE_PER / 100)
                    b.statistics[f"{t.trial} {outcome} {arm.cohort} per {ABSOLUTE_PER}"] = per
            out.append(Finding(regimen=f"{name} ({t.trial})", outcome=outcome,
                               kind="p only" if s.statistic == "p" else "ratio", studies=1,
                               patients=None if sub else n, estimate=s.estimate, ci_low=s.ci_low, ci_high=s.ci_high,
                               pi_low=None, pi_high=None, decimals=s.decimals, statistic=s.statistic,
                               p_text=s.p_text, unit=None, start="high", moves=moves,
                               rating=rating, sources=_unique([s.source, s.arm_a.source, s.arm_b.source]),
                               effect=s, measure=s.measure, trials=[t.trial], reports=[s.study], notes=notes,
                               level=s.ci_level / 100 if s.ci_level is not None else None))
    out = _merge_subgroups(out, _kinds(ds))
    # single-arm evidence by regimen: XPO1 cohorts outside the randomized trials (whose arms are compared above)
    from .bottom_line import headline_pool

    in_trials = {t.study for t in b.randomized} | {r.study for t in b.randomized for r in t.rates}
    related = _related_trials(ds, b)
    for g in b.response:
        own = [r for r in g.rates if not r.control and r.study not in in_trials and b.minority(r.study) is None]
        if not own:
            continue
        # a rate read at several time points (SVR35 at week 12 and week 24): one row per time point
        timepoints = list(dict.fromkeys(r.timepoint for r in own))
        for tp in timepoints:
            rates = [r for r in own if r.timepoint == tp]
            at = f" at {tp}" if tp else ""
            counted = [r for r in rates if r.events is not None and r.pooled]
            why = headline_pool(g) if g.pooled is not None else None
            if g.pooled is not None and len(rates) == len(g.rates) and why is None:
                p = g.pooled
                rows = [("pooled proportion", counted, p.estimate, p.ci_low, p.ci_high, p.pi_low, p.pi_high,
                         p.n_total)]
            else:  # each trial its own row: its counted cohort with the most patients, else its largest
                rows = []
                for trial in _unique(r.trial or r.study for r in rates):
                    mine = [r for r in rates if (r.trial or r.study) == trial]
                    have = [r for r in mine if r.events is not None and r.pooled]
                    best = max(have, key=lambda r: r.n) if have else max(mine, key=lambda r: r.n or 0)
                    rows.append(("proportion" if best.events is not None else "percentage", [best], best.percent,
                                 best.ci_low, best.ci_high, None, None,
                                 best.n if best.n is not None else best.enrolled))
            for kind, used, est, lo, hi, pil, pih, patients in rows:
                moves, notes = [], []
                trials = _unique([r.trial or r.study for r in used])
                label = "" if kind == "pooled proportion" or len(rows) == 1 else f" ({trials[0]})"
                reasons = []
                if lo is not None and hi is not None and hi - lo > IMPRECISE_WIDTH:
                    reasons.append(f"interval {hi - lo:.1f} points wide")
                    b.statistics[f"{g.regimen} {g.measure}{at}{label} interval width"] = round(hi - lo, 1)
                if patients is None or patients < IMPRECISE_N:
                    reasons.append(f"{patients if patients is not None else 'unknown number of'} patients")
                if lo is None or hi is None:
                    reasons.append("no interval")
                if kind == "pooled proportion" and g.pooled.k == 2:
                    reasons.append("a pool of two cohorts")
                if reasons:
                    moves.append(Move("imprecision", "; ".join(reasons)))
                if kind == "pooled proportion" and g.pooled.i2 is not None and g.pooled.i2 > INCONSISTENT_I2 \
                        and g.pooled.k >= INCONSISTENT_K:
                    moves.append(Move("inconsistency", f"I² {g.pooled.i2:.1f}% across {g.pooled.k} cohorts"))
                moves += indirect([r.disease for r in used], [x for r in used for x in settings_of(r.study, r.setting)])
                sources = _unique(r.source for r in used)  # only the rows the figure comes from
                moves += reporting([(r.study, r.cohort) for r in used], sources, g.measure)
                if why is not None and len(rows) > 1:
                    notes.append(f"each trial its own row, not pooled: {why}")
                if any(r.basis == "from percentage" for r in used if r.events is not None):
                    notes.append("interval computed from a derived count (the one whole count the printed "
                                 "percentage allows)")
                out.append(Finding(regimen=g.regimen or "–", outcome=measure_name(g.measure) + at + label, kind=kind,
                                   studies=len(trials), patients=patients, estimate=est, ci_low=lo, ci_high=hi,
                                   pi_low=pil, pi_high=pih, decimals=None, statistic=None, p_text=None, unit="%",
                                   start="low", moves=moves, rating=rate("low", moves), sources=sources,
                                   measure=g.measure, trials=trials, reports=_unique([r.study for r in used]),
                                   notes=notes, trial=trials[0] if label else None,
                                   related=related.get(g.regimen, []),
                                   timepoint=tp if len(timepoints) > 1 else None,
                                   patients_unclear=len(used) == 1 and used[0].n is None and used[0].n_unclear,
                                   level=OUTCOME_CI_LEVEL if kind == "percentage" else
                                   g.pooled.level if kind == "pooled proportion" else level))
    # median survival of XPO1 arms and cohorts, by regimen (the largest cohort's median)
    by: dict[tuple, list[Median]] = {}
    parents = {(c.study, c.cohort): c.parent for c in row_tuples(ds.cohorts, index=False)}
    nested: dict[tuple, list[Median]] = {}  # (study, cohort) of a sub-cohort median stated -> those inside it
    for (regimen, measure, study), ms in _by_key(
            [m for m in b.survival if m.agent is not None and m.measure in b.median_measures and m.median is not None
             and m.study not in in_trials and not b.minority(m.study)], lambda m: (m.regimen, m.measure, m.study)):
        whole = [m for m in ms if not isinstance(parents.get((m.study, m.cohort)), str)]
        if not whole:  # the study gives this median only within sub-cohorts: the one enclosing all the others
            outer = [m for m in ms if not any(_encloses(parents, study, o.cohort, m.cohort) for o in ms)]
            if len(outer) == 1:
                whole = [replace(outer[0], within=True)]
                nested[(study, outer[0].cohort)] = [m for m in ms if m is not outer[0]]
        if whole:
            by.setdefault((regimen, measure), []).extend(whole)
    study_info = ds.studies.set_index("study")
    role_rank = {"primary": 0, "follow-up": 1, "interim": 2, "regulatory": 3, "post-hoc": 4, "review summary": 5}
    for (regimen, measure), ms in by.items():
        by_trial: dict[str, list[Median]] = {}
        for m in ms:
            trial = study_info.at[m.study, "trial"]
            by_trial.setdefault(trial if isinstance(trial, str) else m.study, []).append(m)
        per_trial, notes, inside = [], [], []
        for trial, reports in by_trial.items():  # each trial's best report: its primary, then the most patients
            best = min(reports, key=lambda m: (role_rank.get(study_info.at[m.study, "report_role"], 9), -(m.n or 0)))
            per_trial.append(best)
            for other in reports:
                if other.study != best.study and other.cohort == best.cohort and other.median != best.median:
                    notes.append(f"{trial}: {other.study} [{other.source}] gives {figure(other.median)} {other.unit}")
            inside += nested.get((best.study, best.cohort), [])
        best = max(per_trial, key=lambda m: (m.n or 0))
        if measure in RESPONDER_ONLY:  # participants are the responders; never the cohorts' sizes summed
            patients = (sum(m.responders for m in per_trial) if all(m.responders is not None for m in per_trial)
                        else None)
            notes.append("participants: the responders (" + "; ".join(
                f"{m.study}: {m.participants_text.removeprefix('responders: ')}" for m in per_trial)
                + "), not the cohorts")
        else:
            patients = sum(m.n for m in per_trial) if all(m.n is not None for m in per_trial) else None
        moves = []
        reasons = []
        if patients is None or patients < IMPRECISE_N:
            reasons.append(f"{patients if patients is not None else 'unknown number of'} patients")
        if all(m.ci_low is None and m.ci_high is None for m in per_trial):
            reasons.append("no interval reported")
        elif any(m.ci_low is None or m.ci_high is None for m in per_trial):
            reasons.append("an interval not reported or with one limit only")
        if reasons:
            moves.append(Move("imprecision", "; ".join(reasons)))
        moves += indirect([study_info.at[m.study, "disease"] for m in per_trial],
                          [x for m in per_trial for x in settings_of(m.study, _str(study_info.at[m.study, "setting"]))])
        moves += reporting([(m.study, m.cohort) for m in per_trial], [m.source for m in per_trial], measure)
        within = _unique([m.label for m in per_trial if m.within])
        out.append(Finding(regimen=regimen or "–", outcome=f"median {measure_name(measure)}"
                           + (f" ({within[0]})" if len(within) == len(per_trial) == 1 else ""), kind="median",
                           studies=len(per_trial), patients=patients, estimate=best.median,
                           ci_low=best.ci_low, ci_high=best.ci_high, pi_low=None, pi_high=None, decimals=None,
                           statistic=None, p_text=None, unit=best.unit, start="low", moves=moves,
                           rating=rate("low", moves), sources=_unique([m.source for m in per_trial]),
                           measure=measure, trials=list(by_trial), reports=_unique([m.study for m in per_trial]),
                           per_trial=per_trial, notes=notes, related=related.get(regimen, []), nested=inside,
                           level=OUTCOME_CI_LEVEL))
    return out


def _by_key(items: list, key) -> list[tuple]:
    """The items grouped by key, groups in order of first appearance: [(key, items), ...]."""
    groups: dict = {}
    for x in items:
        groups.setdefault(key(x), []).append(x)
    return list(groups.items())


def _encloses(parents: dict, study: str, outer: str, inner: str) -> bool:
    """Whether cohort `outer` of the study encloses cohort `inner` (is its parent, or a parent's parent ...)."""
    seen = set()
    parent = parents.get((study, inner))
    while isinstance(parent, str) and parent not in seen:
        if parent == outer:
            return True
        seen.add(parent)
        parent = parents.get((study, parent))
    return False


# --- what is not known ---------------------------------------------------------------------------


def _one_row_per_conflict(ds: Dataset, findings: pd.DataFrame) -> list[tuple]:
    """The audit's findings, each with the findings it absorbs: a conflict the sources state about a
    study's figure (conflicts.measure: n for a cohort's size) takes in the automatic checks of the same
    study and figure, so one conflict is one row naming all its numbers."""
    rows = list(row_tuples(findings))
    conflicts = ds.conflicts
    stated = ({(st, topic): m for st, topic, m in zip(conflicts["study"], conflicts["topic"], conflicts["measure"],
                                                      strict=True) if isinstance(st, str) and isinstance(m, str)}
              if "measure" in conflicts.columns else {})
    absorbed: dict[int, list] = {}
    taken: set[int] = set()
    for i, r in enumerate(rows):
        measure = stated.get((r.study, r.measure)) if str(r.check).startswith("stated conflict") else None
        if measure is None:
            continue
        same = [j for j, x in enumerate(rows) if j not in taken and x.study == r.study and x.measure == measure
                and not str(x.check).startswith("stated conflict")]
        absorbed[i] = [rows[j] for j in same]
        taken.update(same)
    return [(r, absorbed.get(i, [])) for i, r in enumerate(rows) if i not in taken]


def _gaps(ds: Dataset, studies: pd.DataFrame, b: Brief, findings: pd.DataFrame, updates: pd.DataFrame) -> list[Gap]:
    gaps: list[Gap] = []
    randomized_regimens = {a.regimen for t in b.randomized for a in t.arms if not a.control}
    regimens = list(dict.fromkeys([*(g.regimen for g in b.response if not all(r.control for r in g.rates)),
                                   *(m.regimen for m in b.survival if m.agent is not None)]))
    single = [r for r in regimens if r and r not in randomized_regimens]
    if single:
        gaps.append(Gap("no randomized evidence", ", ".join(single),
                        "no randomized comparison in the data: response and survival come from single-arm "
                        "studies or single arms only"))
    if not b.randomized:
        gaps.append(Gap("no randomized evidence", b.disease_name,
                        "no randomized trial of an XPO1 inhibitor in the data for this selection"))
    for t in b.randomized:
        compared = {s.measure for s in t.effects if s.subgroup is None}
        # a time-to-event outcome whose landmark rate is compared (OS at 18 months) lacks only its
        # hazard ratio or median
        missing = [measure_name(c.measure) + (" hazard ratio or median" if f"{c.measure}_rate" in compared else "")
                   + (f" at {c.timepoint}" if c.timepoint else "") for c in b.critical
                   if c.measure not in compared and c.measure not in ("FU", "TTR")]
        if missing:
            gaps.append(Gap("outcomes without a between-arm statistic", t.trial,
                            f"no between-arm statistic reported for {', '.join(missing)}", [t.sources[0]]))
    known = set(ds.sources["source"])
    for r, same in _one_row_per_conflict(ds, findings):  # the source, then every source its text cites
        cited = [r.source] if isinstance(r.source, str) else []
        detail = r.detail + (f"; the audit finds the same: {'; '.join(x.detail for x in same)}" if same else "")
        gaps.append(Gap("conflict", f"{r.study}/{r.cohort} {r.measure}", detail,
                        _unique(cited + [x for x in re.findall(r"\[([^\]]+)\]", detail) if x in known])))
    trial_of = {st: _str(t) for st, t in zip(studies["study"], studies["trial"], strict=True)}
    same: dict[tuple, list[Median]] = {}
    for m in b.survival:  # one figure that two reports of a trial give for different populations
        if trial_of.get(m.study) and m.median is not None:
            same.setdefault((trial_of[m.study], m.measure, m.median, m.unit), []).append(m)
    for (trial, measure, value, unit), ms in same.items():
        if len({m.study for m in ms}) > 1 and len({m.label for m in ms}) > 1:
            gaps.append(Gap("conflict", f"{trial} median {measure_name(measure)}",
                            " against ".join(f"{figure(value)} {unit} of {m.label} ({where_text_of(m.ref, m.study)}) "
                                             f"[{m.source}]" for m in ms)
                            + ": reports of one trial give the same figure for different populations",
                            _unique([m.source for m in ms])))
    for r in row_tuples(updates):
        srcs = re.findall(r"\[([^\]]+)\]", r.reports)
        gaps.append(Gap("report difference", f"{r.trial} {r.metric}", f"{r.detail}: {r.reports}",
                        list(dict.fromkeys(srcs))))
    for g in b.response:
        for r in g.rates:
            if r.events is not None and derived(r.basis):
                gaps.append(Gap("derived count", f"{r.study}/{r.cohort} {measure_name(g.measure)}",
                                f"{r.events}/{r.n} is {r.basis}; the source prints no count", [r.source]))
    clinical = studies[studies["evidence_type"] == "clinical trial"]
    settings = {s for s in clinical["setting"] if isinstance(s, str)}
    no_setting = clinical[[not isinstance(v, str) for v in clinical["setting"]]]
    unstated = _per_trial(no_setting, with_population=True)
    for wanted in ("relapsed/refractory", "newly diagnosed"):
        if wanted not in settings:
            gaps.append(Gap("population", wanted, "no clinical study in this setting" if not unstated else
                            "no clinical study is stated to be in this setting; " + (
                                f"the {len(unstated)} trials of the next row state no setting, and their populations "
                                f"(as the sources give them) are not taken to be {wanted}" if len(unstated) > 1 else
                                "the trial of the next row states no setting, and its population (as the source "
                                f"gives it) is not taken to be {wanted}")))
    if unstated:
        gaps.append(Gap("population", "setting not stated (the population as the source gives it)",
                        "; ".join(unstated)))
    with_figures = set(ds.outcomes["study"].unique()) | set(ds.adverse_events["study"].dropna().unique())
    silent = _per_trial(clinical[~clinical["study"].isin(with_figures)])
    if silent:
        gaps.append(Gap("population", "studies without figures", "; ".join(silent)))
    shown = {r.study for r in b.indirect if r.study}  # a comparative synthesis has its own section
    other = studies[(studies["evidence_type"] != "clinical trial") & ~studies["study"].isin(shown)]
    for s in row_tuples(other):
        gaps.append(Gap("population", f"{s.evidence_type} only", f"{s.study}: {s.population}", [s.source]))
    gaps += _related(ds, studies, b.disease, with_figures)
    return gaps


def _per_trial(studies: pd.DataFrame, with_population: bool = False) -> list[str]:
    """Studies named once per trial (studies.trial), a trial's reports in brackets: 'SENTRY-2 (reports
    sentry2-g23, sentry2-n1)'; a study of no named trial by its own id; with each distinct population."""
    groups: dict[str, list] = {}
    for r in row_tuples(studies):
        groups.setdefault(_str(getattr(r, "trial", None)) or r.study, []).append(r)
    out = []
    for name, rows in groups.items():
        ids = [r.study for r in rows]
        head = name if ids == [name] else (f"{name} ({ids[0]})" if len(ids) == 1
                                           else f"{name} (reports {', '.join(ids)})")
        pops = _unique([p for p in (_str(r.population) for r in rows) if p]) if with_population else []
        out.append(head + (f": {' / '.join(pops)}" if pops else ""))
    return out


RELATED_SHOWN = 5  # trials named per related disease


def _related(ds: Dataset, studies: pd.DataFrame, code: str | None, with_figures: set) -> list[Gap]:
    """Evidence of the diseases a study enrols together with this one (AML with MDS ...) that this
    brief leaves out: each such disease's clinical studies with figures, and the brief that has them."""
    if code is None:
        return []
    res = Resolver(ds)
    mine = res.disease_codes(code)
    related = list(dict.fromkeys(d for v in ds.studies["disease"] for d in split_list(v)
                                 if any(x in mine for x in split_list(v)) and d not in mine))
    names = dict(zip(ds.diseases["disease"], ds.diseases["name"], strict=True))
    shown = set(studies["study"])
    out = []
    for d in related:
        codes = res.disease_codes(d)
        of_d = pd.Series([any(x in codes for x in split_list(v)) for v in ds.studies["disease"]],
                         index=ds.studies.index, dtype=bool)
        theirs = ds.studies[of_d & (ds.studies["evidence_type"] == "clinical trial") & ~ds.studies["study"].isin(shown)
                            & ds.studies["study"].isin(with_figures)]
        if not len(theirs):
            continue
        trials = list(dict.fromkeys((t if isinstance(t, str) else s) + (f" ({a})" if a in ("paediatric", "mixed")
                                                                          else "")
                                    for t, s, a in zip(theirs["trial"], theirs["study"], theirs["age_group"],
                                                       strict=True)))
        more = f" and {len(trials) - RELATED_SHOWN} more" if len(trials) > RELATED_SHOWN else ""
        out.append(Gap("related evidence", names.get(d, d),
                       f"not in this brief: {', '.join(trials[:RELATED_SHOWN])}{more} (xpo1 brief --disease {d})"))
    return out


# --- the bottom line -------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    """A computed percentage: one decimal."""
    return "–" if value is None else f"{value:.1f}"


def figure(value) -> str:
    """A reported figure as the dataset holds it: 9.0 -> '9', 13.93 -> '13.93'."""
    return cell(value)


def ratio(value, decimals) -> str:
    return as_printed(value, decimals)


def _citations(ds: Dataset, b: Brief) -> list[Citation]:
    from .catalogue import citations, stated_dates

    used: list[str] = []
    for s in b.bottom_line:
        used += s.sources
    for t in b.randomized:
        used += t.sources
    for g in b.response:
        used += [r.source for r in g.rates]
    used += [r.source for r in [*b.subgroup_rates, *b.landmark_rates]]
    used += [m.source for m in b.survival]
    used += [h.source for h in b.harms] + [d.source for d in b.risk_differences] + [m.source for m in b.mitigations]
    for f in b.findings:
        used += f.sources
    for g in b.gaps:
        used += g.sources
    for r in b.indirect:
        used += r.sources
    address = {s: _str(a) for s, a in zip(ds.sources["source"], ds.sources["address"], strict=True)}
    doi = {s: _str(d) for s, d in zip(ds.sources["source"], ds.sources["doi"], strict=True)}
    dates = stated_dates(ds)
    kinds = _kinds(ds)
    out = []
    for sid in dict.fromkeys(used):
        if sid in address:
            text, _ = citations(ds, sid)[0]
            out.append(Citation(sid, text, address[sid], doi[sid], dates.get(sid), kinds.get(sid) or None))
    return out
