"""Anchored indirect comparisons over the network of randomized trials (pure functions over frames).

Every randomized two-arm comparison of the dataset is an edge between two regimens: the XPO1
trials' between-arm hazard ratios and response rates (studies, cohorts, comparisons, outcomes)
and the comparator trials' results (comparator_results, trial_arms). Comparator trials have no
XPO1-inhibitor arm: they enter only here, never a study list or a pool.

Each trial's estimate keeps its randomization: regimens A and B are compared through the common
comparators that link them (Bucher's anchored comparison; along a chain of anchors the log
ratios add and so do their variances). Where several paths or trials link A and B the estimate is
the common-effect network meta-analysis of the trials on those paths (contrast-based generalized
least squares, as metafor's ``rma.mv(yi, vi, mods = ~ X - 1, method = "FE")``); where the trials
leave residual degrees of freedom (several trials on one comparison, or a loop), the random-effects
network meta-analysis is given beside it, its between-trial variance by REML or DerSimonian–Laird
(``rma.mv(yi, vi, mods = ~ X - 1, random = ~ 1 | study, method = "REML")``). Where a direct
comparison exists besides an indirect one, direct, indirect and network estimates are given with
Bucher's inconsistency test. Standard errors come from each reported interval at its own level.
Ratios are of A against B throughout; a trial that reports B against A is inverted.

The checks an assessor makes are `Check` rows (kind, severity, text, trials): the transitivity
checks (the common comparator's definition in each trial, populations, follow-up, outcome
assessment) and the others (data cuts, interval levels, derived counts, heterogeneity, reports
the rule could not take).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

from .heterogeneity import NETWORK_METHODS, meta_regression
from .query import Resolver, UnknownName
from .values import missing, row_tuples

if TYPE_CHECKING:
    import pandas as pd

    from .data import Dataset

HR_MEASURES = ("PFS", "OS")
RATE_MEASURES = ("ORR",)
MEASURES = (*HR_MEASURES, *RATE_MEASURES)
RATE_EFFECTS = ("OR", "RR")
REPORT_RULES = {
    "primary": "each trial's earliest report with an interval for the measure",
    "latest": "each trial's latest report with an interval for the measure",
}
CHECKED = ("frequency", "duration", "route")
MAX_PATHS = 200
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


class IndirectError(UnknownName):
    """A request the network cannot answer as asked (unknown name, mixed measures): exit 2."""


def z_of(level: float) -> float:
    """The normal quantile of a two-sided interval at `level` (0.95 -> 1.96, 0.70 -> 1.036)."""
    return NormalDist().inv_cdf((1 + level) / 2)


def se_from_interval(low: float, high: float, level: float) -> float:
    """Standard error of a log ratio from its interval at its own level:
    (ln U - ln L) / (2 z_{(1+level)/2})."""
    return (math.log(high) - math.log(low)) / (2 * z_of(level))


def log_odds_ratio(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float]:
    """log OR and its (Woolf) standard error from two arms' counts."""
    return (math.log(a / (n_a - a)) - math.log(b / (n_b - b)),
            math.sqrt(1 / a + 1 / (n_a - a) + 1 / b + 1 / (n_b - b)))


def log_risk_ratio(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float]:
    """log RR and its standard error from two arms' counts."""
    return math.log((a / n_a) / (b / n_b)), math.sqrt(1 / a - 1 / n_a + 1 / b - 1 / n_b)


# --- the edges: one row per trial report and measure -----------------------------------------------

EDGE_COLUMNS = ["trial", "kind", "name", "a", "b", "measure", "statistic", "estimate", "ci_low", "ci_high",
                "ci_level", "decimals", "log", "se", "report", "data_cut", "sequence", "followup",
                "assessment", "derived", "arm_a", "arm_b", "count_a", "n_a", "count_b", "n_b",
                "source", "note", "usable", "level_stated"]


def _num(v) -> float | None:
    return None if missing(v) else float(v)


def _followup_text(overall, a, b, arm_a: str, arm_b: str) -> str | None:
    """The report's median follow-up, each arm's named by its regimen (never a bare 'median',
    which would read as the measure's own median)."""
    if not missing(overall):
        return f"median follow-up {float(overall):g} mo"
    if not missing(a) and not missing(b):
        return f"median follow-up {float(a):g} mo ({arm_a}), {float(b):g} mo ({arm_b})"
    if not missing(a):
        return f"median follow-up {float(a):g} mo ({arm_a}; not stated for {arm_b})"
    return None


def _ratio_row(**kw) -> dict:
    """An edge from a reported ratio and interval at the level its row states (where none is
    stated, 95% with `level_stated` False, which the checks say); `usable` when the interval
    gives a standard error."""
    est, lo, hi = kw["estimate"], kw["ci_low"], kw["ci_high"]
    stated = kw.get("ci_level") is not None
    level = kw["ci_level"] if stated else 95.0
    ok = est is not None and lo is not None and hi is not None and 0 < lo <= est <= hi
    kw.update(ci_level=level, level_stated=stated, log=math.log(est) if est else None,
              se=se_from_interval(lo, hi, level / 100) if ok and hi > lo else None,
              usable=bool(ok and hi > lo), derived=False)
    return kw


def unusable_reason(row) -> str:
    """Why a report's ratio gives no standard error (its row is not `usable`), in words."""
    est, lo, hi = (row.get(k) for k in ("estimate", "ci_low", "ci_high"))
    if any(v is None or v != v for v in (est, lo, hi)):
        return "no interval printed" if est is not None and est == est else "no estimate"
    if lo <= 0:
        return f"its interval's lower limit is {lo:g}, which has no logarithm"
    if hi <= lo:
        return f"its interval {lo:g}–{hi:g} has no width"
    return f"its interval {lo:g}–{hi:g} does not hold the estimate {est:g}"


def _rate_row(effect: str, **kw) -> dict:
    """An edge from two arms' counts (reported, or derived from a reported rate and the arm size)."""
    a, n_a, b, n_b = kw["count_a"], kw["n_a"], kw["count_b"], kw["n_b"]
    ok = None not in (a, n_a, b, n_b) and 0 < a < n_a and 0 < b < n_b
    if ok:
        log, se = (log_odds_ratio if effect == "OR" else log_risk_ratio)(a, n_a, b, n_b)
    else:
        log = se = None
    est = math.exp(log) if ok else None
    z = z_of(0.95)
    kw.update(statistic=effect, estimate=est, ci_low=math.exp(log - z * se) if ok else None,
              ci_high=math.exp(log + z * se) if ok else None, ci_level=95.0, level_stated=True, decimals=None,
              log=log, se=se, usable=bool(ok))
    return kw


def _count(pct: float | None, n) -> int | None:
    return None if pct is None or missing(n) else int(round(pct * int(n) / 100))


def xpo1_edges(ds: Dataset, measure: str, effect: str = "OR") -> list[dict]:
    """The XPO1 randomized trials' between-arm results for `measure`, all randomized patients only
    (their arms are the study's top-level experimental and control cohorts)."""
    studies = ds.studies
    rand = studies[studies["randomized"].fillna(False).astype(bool) & (studies["evidence_type"] == "clinical trial")]
    order = {"primary": 1, "interim": 1, "follow-up": 2}
    coh = ds.cohorts
    arms = coh[coh["arm"].notna() & coh["parent"].isna() & coh["regimen"].notna()]
    arm_of = {(r.study, r.cohort): r for r in row_tuples(arms)}
    edges: list[dict] = []
    for s in row_tuples(rand):
        mine = [r for (st, _), r in arm_of.items() if st == s.study]
        exp = [r for r in mine if r.arm == "experimental"]
        ctl = [r for r in mine if r.arm == "control"]
        if len(exp) != 1 or len(ctl) != 1:
            continue
        e, c = exp[0], ctl[0]
        base = dict(trial=s.trial or s.study, kind="XPO1 trial", name=s.trial or s.study, a=e.regimen,
                    b=c.regimen, measure=measure, report=s.report, data_cut=s.report_role,
                    sequence=order.get(s.report_role, 3), assessment=None, arm_a=e.cohort, arm_b=c.cohort,
                    count_a=None, n_a=None, count_b=None, n_b=None, study=s.study)
        if measure in HR_MEASURES:
            cmp = ds.comparisons
            rows = cmp[(cmp["study"] == s.study) & (cmp["measure"] == measure) & (cmp["statistic"] == "HR")]
            for r in row_tuples(rows):
                if {r.cohort_a, r.cohort_b} != {e.cohort, c.cohort}:
                    continue
                row = _ratio_row(**base, statistic="HR", estimate=_num(r.estimate), ci_low=_num(r.ci_low),
                                 ci_high=_num(r.ci_high), ci_level=_num(r.ci_level),
                                 decimals=None if missing(r.decimals) else int(r.decimals),
                                 followup=_xpo1_followup(ds, s.study, e, c),
                                 source=r.source, note=r.note if not missing(r.note) else None)
                if r.cohort_a == c.cohort:  # reported control against experimental
                    row = _inverted(row)
                edges.append(row)
        else:
            out = ds.outcomes
            got = {}
            for cohort in (e.cohort, c.cohort):
                o = out[(out["study"] == s.study) & (out["cohort"] == cohort) & (out["measure"] == measure)
                        & out["timepoint"].isna()]
                got[cohort] = next(iter(row_tuples(o)), None)
            oe, oc = got[e.cohort], got[c.cohort]
            if oe is None or oc is None:
                continue

            def counts(o, arm):
                if not missing(o.count) and not missing(o.denominator):
                    return int(o.count), int(o.denominator), False
                n = None if missing(arm.n) else int(arm.n)
                return _count(_num(o.percent_reported), n), n, True

            ka, na, da = counts(oe, e)
            kb, nb, db = counts(oc, c)
            base.update(count_a=ka, n_a=na, count_b=kb, n_b=nb)
            edges.append(_rate_row(effect, **base,
                                   followup=_xpo1_followup(ds, s.study, e, c),
                                   source=";".join(dict.fromkeys([oe.source, oc.source])),
                                   note=("counts derived from the reported rates and arm sizes" if da or db
                                         else None), derived=bool(da or db)))
    return edges


def _xpo1_followup(ds: Dataset, study: str, a, b) -> str | None:
    """Median follow-up of a randomized XPO1 trial's two arms (cohort rows a and b)."""
    fu = ds.outcomes[(ds.outcomes["study"] == study) & (ds.outcomes["measure"] == "FU")]
    by = dict(zip(fu["cohort"], fu["median_months"], strict=True))
    return (_followup_text(None, by.get(a.cohort), by.get(b.cohort), a.regimen, b.regimen)
            if a.cohort in by else None)


def _inverted(row: dict) -> dict:
    """The same result read the other way round (B against A)."""
    out = dict(row)
    out.update(a=row["b"], b=row["a"], arm_a=row["arm_b"], arm_b=row["arm_a"],
               count_a=row["count_b"], n_a=row["n_b"], count_b=row["count_a"], n_b=row["n_a"])
    for k in ("estimate",):
        out[k] = 1 / row[k] if row[k] else None
    out["ci_low"] = 1 / row["ci_high"] if row["ci_high"] else None
    out["ci_high"] = 1 / row["ci_low"] if row["ci_low"] else None
    out["log"] = -row["log"] if row["log"] is not None else None
    return out


def comparator_edges(ds: Dataset, measure: str, effect: str = "OR") -> list[dict]:
    """The comparator trials' results for `measure`, all randomized patients only."""
    res = ds.comparator_results
    arms = {(r.trial, r.arm): r for r in row_tuples(ds.trial_arms)}
    names = dict(zip(ds.comparator_trials["trial"], ds.comparator_trials["name"], strict=True))
    rows = res[(res["measure"] == measure) & res["population"].isna()]
    edges: list[dict] = []
    for r in row_tuples(rows):
        ea, eb = arms.get((r.trial, r.arm_a)), arms.get((r.trial, r.arm_b))
        if ea is None or eb is None:
            continue
        base = dict(trial=r.trial, kind="comparator trial", name=names.get(r.trial, r.trial), a=ea.regimen,
                    b=eb.regimen, measure=measure, report=r.report,
                    data_cut=None if missing(r.data_cut) else r.data_cut,
                    sequence=0 if missing(r.sequence) else int(r.sequence),
                    followup=_followup_text(r.followup, r.followup_a, r.followup_b, ea.regimen, eb.regimen),
                    assessment=None if missing(r.assessment) else r.assessment, arm_a=r.arm_a, arm_b=r.arm_b,
                    source=r.source, note=None if missing(r.note) else r.note, study=None)
        if measure in HR_MEASURES:
            if r.statistic != "HR":
                continue
            edges.append(_ratio_row(**base, statistic="HR", estimate=_num(r.estimate), ci_low=_num(r.ci_low),
                                    ci_high=_num(r.ci_high), ci_level=_num(r.ci_level),
                                    decimals=None if missing(r.decimals) else int(r.decimals),
                                    count_a=None, n_a=None, count_b=None, n_b=None))
        elif r.unit == "percent" and not missing(r.value_a) and not missing(r.value_b):
            n_a = None if missing(ea.n) else int(ea.n)
            n_b = None if missing(eb.n) else int(eb.n)
            base["note"] = "; ".join(filter(None, ["counts derived from the reported rates and arm sizes",
                                                   base["note"]]))
            edges.append(_rate_row(effect, **base, count_a=_count(float(r.value_a), n_a), n_a=n_a,
                                   count_b=_count(float(r.value_b), n_b), n_b=n_b, derived=True))
    return edges


def edges(ds: Dataset, measure: str, effect: str = "OR") -> pd.DataFrame:
    """Every randomized comparison of the dataset for `measure` (all reports, usable or not)."""
    import pandas as pd

    rows = [*xpo1_edges(ds, measure, effect), *comparator_edges(ds, measure, effect)]
    frame = pd.DataFrame(rows, columns=[*EDGE_COLUMNS, "study"])
    return frame


def choose_reports(frame: pd.DataFrame, rule: str) -> tuple[pd.DataFrame, list[str]]:
    """One report per trial and pair of regimens by the stated rule, with a warning where the
    rule could not take the report it names (no interval printed there)."""
    import pandas as pd

    chosen, warnings = [], []
    for (trial, _a, _b), group in frame.groupby(["trial", "a", "b"], sort=False, dropna=False):
        group = group.sort_values("sequence", kind="stable")
        usable = group[group["usable"]]
        if usable.empty:
            continue
        pick = usable.iloc[0] if rule == "primary" else usable.iloc[-1]
        wanted = group.iloc[0] if rule == "primary" else group.iloc[-1]
        if wanted["report"] != pick["report"]:
            why = ("prints no interval" if wanted["estimate"] == wanted["estimate"] and wanted["estimate"]
                   is not None else "gives no estimate on a verified page")
            warnings.append(f"{trial}: its {rule} report ({wanted['report']}) {why}; "
                            f"the {pick['report']} is used instead")
        chosen.append(pick)
    return (pd.DataFrame(chosen).reset_index(drop=True) if chosen else frame.iloc[:0]), warnings


# --- the network -----------------------------------------------------------------------------------


def _graph(frame: pd.DataFrame) -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for a, b in zip(frame["a"], frame["b"], strict=True):
        g.setdefault(a, set()).add(b)
        g.setdefault(b, set()).add(a)
    return g


def shortest_path(graph: dict[str, set[str]], start: str, goal: str, avoid: frozenset = frozenset()) -> list | None:
    """Breadth-first search: the shortest chain of regimens from start to goal."""
    if start not in graph or goal not in graph:
        return None
    prev = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = prev[node]
            return path[::-1]
        for nxt in sorted(graph[node]):
            if nxt not in prev and nxt not in avoid:
                prev[nxt] = node
                queue.append(nxt)
    return None


def simple_paths(graph: dict[str, set[str]], start: str, goal: str, via: str | None = None) -> list[list[str]]:
    """Every chain of regimens from start to goal visiting no regimen twice (through `via` if named)."""
    paths: list[list[str]] = []
    stack = [(start, [start])]
    while stack and len(paths) < MAX_PATHS:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                continue
            if nxt == goal:
                if via is None or via in path:
                    paths.append([*path, nxt])
            else:
                stack.append((nxt, [*path, nxt]))
    return sorted(paths, key=lambda p: (len(p), p))


def network_fit(frame: pd.DataFrame, b: str, method: str = "FE"):
    """The contrast-based network meta-analysis of the trials in frame (each row one two-arm
    trial: log, se of its a vs b), every regimen's effect against b (fixed at 0): generalized least
    squares, metafor's rma.mv(yi, vi, mods = ~ X - 1, method = "FE"), or with a between-trial
    variance (method REML or DL), rma.mv(..., random = ~ 1 | study, method = "REML").
    Returns (regimen -> column, heterogeneity.RegressionFit)."""
    import numpy as np

    treatments = sorted((set(frame["a"]) | set(frame["b"])) - {b})
    col = {t: i for i, t in enumerate(treatments)}
    x = np.zeros((len(frame), len(treatments)))
    for i, (ta, tb) in enumerate(zip(frame["a"], frame["b"], strict=True)):
        if ta in col:
            x[i, col[ta]] += 1
        if tb in col:
            x[i, col[tb]] -= 1
    v = frame["se"].to_numpy(dtype=float) ** 2
    return col, meta_regression(frame["log"].to_numpy(dtype=float), v, x, method)


def network_estimate(frame: pd.DataFrame, a: str, b: str, method: str = "FE") -> tuple[float, float]:
    """log ratio of a against b and its standard error from the network meta-analysis of the
    trials in frame (common effect, or random effects with method REML or DL; see network_fit)."""
    col, fit = network_fit(frame, b, method)
    return float(fit.beta[col[a]]), float(math.sqrt(fit.cov[col[a]][col[a]]))


def connected(frame: pd.DataFrame, a: str, b: str) -> bool:
    return shortest_path(_graph(frame), a, b) is not None


def linked_measures(ds: Dataset, a: str, b: str) -> list[str]:
    """The measures for which a chain of randomized comparisons (with intervals) links a and b."""
    found = []
    for measure in MEASURES:
        frame = edges(ds, measure)
        frame = frame[frame["usable"]]
        if len(frame) and a != b and connected(frame, a, b):
            found.append(measure)
    return found


# --- the answer ------------------------------------------------------------------------------------


@dataclass
class Estimate:
    label: str
    log: float
    se: float
    level: float

    @property
    def ratio(self) -> float:
        return math.exp(self.log)

    @property
    def ci(self) -> tuple[float, float]:
        z = z_of(self.level)
        return math.exp(self.log - z * self.se), math.exp(self.log + z * self.se)

    @property
    def p(self) -> float:
        return 2 * (1 - NormalDist().cdf(abs(self.log / self.se))) if self.se > 0 else float("nan")


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


@dataclass
class Heterogeneity:
    """Residual heterogeneity of the network: Cochran's Q_E on k - p degrees of freedom, and the
    between-trial variance tau² by `method` (None where no degrees of freedom are left)."""

    q: float | None
    df: int
    p: float | None
    tau2: float | None
    method: str


@dataclass
class Answer:
    """What `xpo1 indirect A B` finds: the trials used, the estimates, the checks."""

    a: str
    b: str
    measure: str
    statistic: str
    rule: str
    via: str | None
    level: float
    trials: pd.DataFrame | None = None          # the chosen reports, oriented along the paths
    paths: list[list[str]] = field(default_factory=list)
    method: str = ""
    estimate: Estimate | None = None             # the answer: anchored, chain or network (common effect)
    random: Estimate | None = None               # random-effects network estimate, where estimable
    heterogeneity: Heterogeneity | None = None
    direct: Estimate | None = None
    indirect: Estimate | None = None
    inconsistency: tuple[float, float] | None = None  # Bucher z and its two-sided p
    path_estimates: list[tuple[list[str], Estimate]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # reports the rule could not take
    assessment: list[Check] = field(default_factory=list)  # the assessor's checks, in order
    published: list[str] = field(default_factory=list)  # published syntheses of A or B, as printed
    anchors: pd.DataFrame | None = None          # each common comparator's definition by trial
    populations: pd.DataFrame | None = None

    @property
    def checks(self) -> list[str]:
        """The checks as 'warning: ...' / 'note: ...' lines (the report rule's own warnings apart)."""
        return [f"{c.severity}: {c.text}" for c in self.assessment if c.kind != "report_rule"]

    def check(self, kind: str, severity: str, text: str, trials=()) -> None:
        assert kind in CHECK_KINDS and severity in ("warning", "note"), (kind, severity)
        self.assessment.append(Check(kind, severity, text, list(trials)))


def resolve(ds: Dataset, text: str) -> str:
    """A regimen as typed -> its code (unknown: IndirectError with suggestions)."""
    try:
        return Resolver(ds).regimen(text)
    except UnknownName as exc:
        raise IndirectError(str(exc)) from None


def compare(ds: Dataset, a_text: str, b_text: str, measure: str = "PFS", via: str | None = None,
            rule: str = "primary", effect: str = "OR", level: float = 0.95, method: str = "REML") -> Answer:
    """The anchored indirect comparison of A against B (see the module's docstring); method: the
    between-trial variance estimator of the random-effects network (REML or DL)."""
    measure_key = {m.casefold(): m for m in MEASURES}.get(str(measure).strip().casefold())
    if measure_key is None:
        raise IndirectError(f"unknown measure '{measure}' for an indirect comparison; known: {', '.join(MEASURES)} "
                            "(hazard ratios for PFS and OS, odds or risk ratios for ORR)")
    if rule not in REPORT_RULES:
        raise IndirectError(f"unknown report rule '{rule}'; known: {', '.join(REPORT_RULES)}")
    effect = str(effect).strip().upper()
    if effect not in RATE_EFFECTS:
        raise IndirectError(f"unknown effect '{effect}'; known: {', '.join(RATE_EFFECTS)}")
    method = str(method).strip().upper()
    if method not in NETWORK_METHODS:
        raise IndirectError(f"unknown method '{method}' for the between-trial variance; known: "
                            f"{', '.join(NETWORK_METHODS)}")
    a, b = resolve(ds, a_text), resolve(ds, b_text)
    via_code = resolve(ds, via) if via else None
    if a == b:
        raise IndirectError(f"'{a_text}' and '{b_text}' are the same regimen ({a})")
    if via_code in (a, b):
        raise IndirectError(f"--via {via} is one of the two regimens compared")
    measure = measure_key
    all_edges = edges(ds, measure, effect)
    stats_seen = set(all_edges.loc[all_edges["usable"], "statistic"])
    if len(stats_seen) > 1:
        raise IndirectError(f"mixed measures for {measure}: the trials report {' and '.join(sorted(stats_seen))}; "
                            "ratios of different kinds cannot be chained")
    statistic = "HR" if measure in HR_MEASURES else effect
    ans = Answer(a=a, b=b, measure=measure, statistic=statistic, rule=rule, via=via_code, level=level)
    ans.published = published_syntheses(ds, a, b)
    chosen, ans.warnings = choose_reports(all_edges, rule)
    left_out = _left_out(all_edges, a, b, via_code, measure)
    graph = _graph(chosen) if len(chosen) else {}
    paths = simple_paths(graph, a, b, via_code)
    if not paths:
        ans.missing = _missing(ds, all_edges, chosen, graph, a, b, via_code, measure) + [t for _, t in left_out]
        ans.warnings = []
        return ans
    ans.paths = paths
    on_path = {frozenset(p) for path in paths for p in zip(path, path[1:], strict=False)}
    used = chosen[[frozenset((x, y)) in on_path for x, y in zip(chosen["a"], chosen["b"], strict=True)]]
    used = _oriented(used, paths)
    ans.trials = used.reset_index(drop=True)
    ans.warnings = [w for w in ans.warnings if w.split(":")[0] in set(used["trial"])]
    for w in ans.warnings:
        ans.check("report_rule", "warning", w, [w.split(":")[0]])
    for trial, text in left_out:
        ans.check("report_rule", "warning", text, [trial])
    log, se = network_estimate(used, a, b)
    ans.estimate = Estimate("network", log, se, level)
    _random_effects(ans, used, method)
    direct_rows = used[[frozenset((x, y)) == frozenset((a, b)) for x, y in zip(used["a"], used["b"], strict=True)]]
    rest = used.drop(direct_rows.index)
    if len(direct_rows) and len(rest) and connected(rest, a, b):
        d_log, d_se = network_estimate(direct_rows, a, b)
        i_log, i_se = network_estimate(rest, a, b)
        ans.direct = Estimate("direct", d_log, d_se, level)
        ans.indirect = Estimate("indirect", i_log, i_se, level)
        z = (d_log - i_log) / math.sqrt(d_se ** 2 + i_se ** 2)
        ans.inconsistency = (z, 2 * (1 - NormalDist().cdf(abs(z))))
        ans.method = "network meta-analysis (common effect) of direct and indirect evidence"
    elif len(direct_rows) and not len(rest):
        ans.method = "direct comparison only (no indirect path)"
        ans.estimate = Estimate("direct", log, se, level)
    else:
        anchors = sorted({n for p in paths for n in p[1:-1]})
        if len(paths) == 1:
            kind = "anchored (Bucher)" if len(paths[0]) == 3 else "chain of anchored comparisons"
            ans.method = f"{kind} via {', '.join(paths[0][1:-1])}"
        else:
            ans.method = (f"network meta-analysis (common effect) over {len(paths)} paths via {', '.join(anchors)}")
        ans.estimate = Estimate("indirect", log, se, level)
    if len(paths) > 1:
        for path in paths:
            keys = {frozenset(p) for p in zip(path, path[1:], strict=False)}
            sub = used[[frozenset((x, y)) in keys for x, y in zip(used["a"], used["b"], strict=True)]]
            p_log, p_se = network_estimate(sub, a, b)
            ans.path_estimates.append((path, Estimate("path", p_log, p_se, level)))
    _checks(ds, ans, all_edges)
    return ans


def _random_effects(ans: Answer, used: pd.DataFrame, method: str) -> None:
    """The random-effects network estimate where the trials leave residual degrees of freedom
    (several trials on one comparison, or a loop), with Q_E and tau²; otherwise a note that
    heterogeneity cannot be estimated."""
    col, fit = network_fit(used, ans.b, method)
    if fit.df < 1:
        ans.heterogeneity = Heterogeneity(q=None, df=0, p=None, tau2=None, method=method)
        if len(used) > 1:
            ans.check("heterogeneity", "note", "each comparison rests on one trial and no loop closes: "
                      "between-trial heterogeneity cannot be estimated, and a random-effects model "
                      "would give the same estimate", used["trial"])
        return
    i = col[ans.a]
    ans.random = Estimate("random effects", float(fit.beta[i]), float(math.sqrt(fit.cov[i][i])), ans.level)
    ans.heterogeneity = Heterogeneity(q=fit.q, df=fit.df, p=fit.q_p, tau2=fit.tau2, method=method)
    text = (f"residual heterogeneity Q = {fit.q:.2f} on {fit.df} df (p = {fit.q_p:.3g}); "
            f"tau² = {fit.tau2:.4g} ({method}); random-effects estimate beside the common-effect one")
    ans.check("heterogeneity", "warning" if fit.q_p < 0.10 else "note", text, used["trial"])


def published_syntheses(ds: Dataset, a: str, b: str) -> list[str]:
    """The published indirect comparisons and network ranks of A or B, as printed (never recomputed)."""
    syn = ds.syntheses
    rows = syn[syn["regimen"].isin([a, b]) & syn["unit"].isin(["rank", "hazard ratio"])]
    out = []
    for r in row_tuples(rows):
        value = f"{r.value:g}" + (f" of {int(r.out_of)}" if not missing(r.out_of) else "")
        if not missing(r.low) and not missing(r.high):
            value += f" ({r.low:g}–{r.high:g})"
        where = f", {r.population}" if not missing(r.population) else ""
        out.append(f"{r.study}: {r.measure}{where}: {value} [{r.source}]")
    return out


def _oriented(used: pd.DataFrame, paths: list[list[str]]) -> pd.DataFrame:
    """Each trial's ratio read along the path (the regimen nearer A first); reported direction kept
    in `orientation`."""
    import pandas as pd

    order = {}
    for path in paths:
        for i, node in enumerate(path):
            order.setdefault(node, i)
    rows = []
    for r in used.to_dict("records"):
        if order.get(r["a"], 0) > order.get(r["b"], 0):
            r = _inverted(r)
            r["orientation"] = "inverted (reported the other way round)"
        else:
            r["orientation"] = "as reported"
        rows.append(r)
    return pd.DataFrame(rows)


def _missing(ds, all_edges, chosen, graph, a, b, via, measure) -> list[str]:
    """Which comparisons are missing for A and B to be linked, in words."""
    out = []
    for x in (a, b):
        if x not in graph:
            have = all_edges[(all_edges["a"] == x) | (all_edges["b"] == x)]
            sub = _subgroup_only(ds, x, measure)
            if len(have):
                out.append(f"{x}: its randomized {measure} results print no interval "
                           f"({', '.join(sorted(set(have['trial'])))})")
            elif sub:
                out.append(f"{x}: no randomized {measure} result for all randomized patients; "
                           f"only subgroup results ({sub})")
            else:
                out.append(f"{x}: no randomized {measure} comparison in the data")
        else:
            linked = sorted(graph[x])
            out.append(f"{x} is compared with {', '.join(linked)} for {measure}")
    if via and (via not in graph or not out or all(x in graph for x in (a, b))):
        out.append(f"no chain from {a} to {b} passes through {via}")
    if a in graph and b in graph and shortest_path(graph, a, b) is None:
        out.append(f"no trial links the regimens connected to {a} with those connected to {b}")
    return out


def _left_out(all_edges: pd.DataFrame, a: str, b: str, via: str | None, measure: str) -> list[tuple[str, str]]:
    """The trials on a chain from a to b none of whose reports for the measure gives a standard
    error (no interval, or one with no width): left out of the network, and said so, (trial, words)."""
    dropped = [(trial, x, y, group) for (trial, x, y), group
               in all_edges.groupby(["trial", "a", "b"], sort=False, dropna=False) if not group["usable"].any()]
    if not dropped:
        return []
    on_path = {frozenset(p) for path in simple_paths(_graph(all_edges), a, b, via)
               for p in zip(path, path[1:], strict=False)}
    return [(trial, f"{trial} ({x} vs {y}): no {measure} report gives a usable interval ("
             + "; ".join(f"{r['report']}: {unusable_reason(r)}" for r in group.to_dict("records"))
             + "): left out") for trial, x, y, group in dropped if frozenset((x, y)) in on_path]


def _subgroup_only(ds, regimen, measure) -> str:
    cmp = ds.comparisons
    coh = ds.cohorts.set_index(["study", "cohort"])
    hits = []
    for r in row_tuples(cmp[(cmp["measure"] == measure) & (cmp["statistic"] == "HR")]):
        key = (r.study, r.cohort_a)
        if key in coh.index and coh.loc[key, "regimen"] == regimen and not missing(coh.loc[key, "parent"]):
            hits.append(f"{r.study}: {coh.loc[key, 'label']}")
    res = ds.comparator_results
    arms = {(t.trial, t.arm): t.regimen for t in row_tuples(ds.trial_arms)}
    for r in row_tuples(res[(res["measure"] == measure) & res["population"].notna()]):
        if regimen in (arms.get((r.trial, r.arm_a)), arms.get((r.trial, r.arm_b))):
            hits.append(f"{r.trial}: {r.population}")
    return "; ".join(hits)


# --- the assessor's checks -------------------------------------------------------------------------


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
