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

The edges and the network are in `indirect_network`; the checks an assessor makes, `Check` rows
(kind, severity, text, trials), in `indirect_checks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

from .heterogeneity import NETWORK_METHODS
from .indirect_checks import CHECK_KINDS, Check, _checks
from .indirect_network import (
    HR_MEASURES,
    MEASURES,
    RATE_EFFECTS,
    REPORT_RULES,
    IndirectError,
    _graph,
    _inverted,
    choose_reports,
    connected,
    edges,
    network_estimate,
    network_fit,
    shortest_path,
    simple_paths,
    unusable_reason,
    z_of,
)
from .query import Resolver, UnknownName
from .values import missing, row_tuples

if TYPE_CHECKING:
    import pandas as pd

    from .data import Dataset


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

