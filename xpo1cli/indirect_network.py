"""The network of randomized comparisons behind `indirect`: its edges (one row per trial report
and measure, from the XPO1 trials and the comparator trials, each a ratio of A against B with its
standard error) and the paths and network fits that link two regimens.
"""

from __future__ import annotations

import math
from collections import deque
from statistics import NormalDist
from typing import TYPE_CHECKING

from .heterogeneity import meta_regression
from .query import UnknownName
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


MAX_PATHS = 200


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
