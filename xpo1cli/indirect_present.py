"""Words and tables for `xpo1 indirect`: each trial's own estimate beside the anchored one, and the
checks an assessor makes (common comparator, populations, data cuts, interval levels)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .values import missing

if TYPE_CHECKING:
    import pandas as pd

    from .indirect import Answer

COLUMNS = ["row", "comparison", "trial", "measure", "statistic", "estimate", "ci_low", "ci_high", "level",
           "favours", "log_ratio", "se_log", "as_reported", "orientation", "report", "data_cut", "followup",
           "source", "note",
           # random effects: the between-trial variance and the residual heterogeneity
           "tau2", "tau2_method", "q", "q_df", "q_p",
           # check rows: what is checked, how serious, whether it bears on transitivity, the trials
           "check", "severity", "transitivity", "trials",
           # common-comparator rows: the comparator's definition in one trial, as stated
           "frequency", "duration", "route", "schedule",
           # population rows: one trial's population, as stated
           "population", "prior_lines", "region", "design"]
# rows that hold the assessor's checks (printed as notes and warnings in the human formats)
CHECK_ROWS = ("common comparator", "population", "check")
NAMES = {"HR": "hazard ratio", "OR": "odds ratio", "RR": "risk ratio"}


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x >= 0.095 else f"{x:.3f}"


def _as_reported(r: dict) -> str:
    """The trial's figure as it printed it, its own direction and interval level."""
    if r["orientation"].startswith("inverted"):
        est, lo, hi, a, b = 1 / r["estimate"], 1 / r["ci_high"], 1 / r["ci_low"], r["b"], r["a"]
    else:
        est, lo, hi, a, b = r["estimate"], r["ci_low"], r["ci_high"], r["a"], r["b"]
    if r["statistic"] == "HR":
        d = r.get("decimals")
        d = 2 if d is None or missing(d) else int(d)
        level = f"{r['ci_level']:g}%" if bool(r.get("level_stated", True)) else "level not stated"
        text = f"{est:.{d}f} ({lo:.{max(d, _places(lo))}f}–{hi:.{max(d, _places(hi))}f}, {level})"
    else:  # each arm's count beside its own regimen, in the trial's own order (a, b as reported)
        first, second = ("b", "a") if r["orientation"].startswith("inverted") else ("a", "b")
        text = (f"{r['count_' + first]}/{r['n_' + first]} vs {r['count_' + second]}/{r['n_' + second]}"
                + (" (derived)" if bool(r.get("derived")) else ""))
    return f"{a} vs {b}: {text}"


def favours(comparison: str, statistic: str, estimate: float, low: float, high: float) -> str:
    """Which regimen of 'A vs B' the ratio favours, and whether its interval rules out no difference.
    A hazard ratio below 1 favours A (fewer events: progression, death); an odds or risk ratio of
    response above 1 favours A."""
    first, second = comparison.split(" vs ", 1)
    if estimate == 1:
        return "neither (ratio 1)"
    better_first = estimate < 1 if statistic == "HR" else estimate > 1
    who = first if better_first else second
    if low <= 1 <= high:
        return f"point estimate favours {who}; the interval includes no difference"
    return f"favours {who}"


def _places(x: float) -> int:
    s = f"{x:.6f}".rstrip("0")
    return len(s.split(".")[1]) if "." in s else 0


def indirect_frame(ans: Answer) -> pd.DataFrame:
    """One row per trial used, then the answer's estimates (indirect, direct, network, each path)
    and the inconsistency test; or one row saying which comparisons are missing."""
    import pandas as pd

    rows = []
    pair = f"{ans.a} vs {ans.b}"
    if ans.estimate is None:
        rows.append({"row": "no path", "comparison": pair, "measure": ans.measure, "statistic": ans.statistic,
                     "note": "; ".join(ans.missing)})
        return pd.DataFrame(rows, columns=COLUMNS)
    for r in ans.trials.to_dict("records"):
        rows.append({"row": "trial", "comparison": f"{r['a']} vs {r['b']}", "trial": r["trial"],
                     "measure": ans.measure, "statistic": r["statistic"], "estimate": r["estimate"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"], "level": r["ci_level"] / 100,
                     "favours": favours(f"{r['a']} vs {r['b']}", r["statistic"], r["estimate"], r["ci_low"],
                                        r["ci_high"]),
                     "log_ratio": r["log"], "se_log": r["se"], "as_reported": _as_reported(r),
                     "orientation": r["orientation"], "report": r["report"], "data_cut": r["data_cut"],
                     "followup": r["followup"], "source": r["source"], "note": None})

    def est(kind, e, comparison=pair, note=None):
        lo, hi = e.ci
        rows.append({"row": kind, "comparison": comparison, "measure": ans.measure, "statistic": ans.statistic,
                     "estimate": e.ratio, "ci_low": lo, "ci_high": hi, "level": e.level,
                     "favours": favours(comparison, ans.statistic, e.ratio, lo, hi), "log_ratio": e.log,
                     "se_log": e.se, "note": note})

    for path, e in ans.path_estimates:
        est("path", e, note="via " + "–".join(path))
    def random_effects():
        h = ans.heterogeneity
        if ans.random is not None:
            est("random effects", ans.random, note=f"network meta-analysis with random effects (tau² by "
                                                   f"{h.method}) over the same trials")
            rows[-1].update(tau2=h.tau2, tau2_method=h.method, q=h.q, q_df=h.df, q_p=h.p)

    if ans.direct is not None:
        est("direct", ans.direct)
        est("indirect", ans.indirect)
        est("network", ans.estimate, note=ans.method)
        random_effects()
        z, p = ans.inconsistency
        rows.append({"row": "inconsistency", "comparison": pair, "measure": ans.measure,
                     "note": f"Bucher z = {z:.2f}, p = {p:.3g} (direct minus indirect, log scale)"})
    else:
        est(ans.estimate.label, ans.estimate, note=ans.method)
        random_effects()
    rows += check_rows(ans)
    return pd.DataFrame(rows, columns=COLUMNS)


def check_rows(ans: Answer) -> list[dict]:
    """The assessor's checks as rows: each common comparator's definition in each trial, each
    trial's population, then every check (kind, severity, whether it bears on transitivity)."""
    rows = []
    if ans.anchors is not None:
        for r in ans.anchors.drop_duplicates(["regimen", "trial"]).to_dict("records"):
            rows.append({"row": "common comparator", "comparison": r["regimen"], "trial": r["trial"],
                         "measure": ans.measure, "source": r["source"], "check": "common_comparator",
                         "transitivity": True,
                         **{c: r[c] for c in ("frequency", "duration", "route", "schedule")}})
    if ans.populations is not None:
        for r in ans.populations.to_dict("records"):
            rows.append({"row": "population", "trial": r["trial"], "measure": ans.measure, "source": r["source"],
                         "check": "population", "transitivity": True,
                         **{c: r[c] for c in ("population", "prior_lines", "region", "design")}})
    for c in ans.assessment:
        rows.append({"row": "check", "comparison": f"{ans.a} vs {ans.b}", "measure": ans.measure,
                     "note": c.text, "check": c.kind, "severity": c.severity, "transitivity": c.transitivity,
                     "trials": "; ".join(c.trials)})
    return rows


def indirect_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The human columns: ratio with its interval and level, what the trial printed, its report."""
    import pandas as pd

    out = []
    for r in frame.to_dict("records"):
        if r["row"] in CHECK_ROWS:  # printed as the notes and warnings
            continue
        if r["row"] == "no path":
            out.append({"": "no path", "comparison": r["comparison"], "ratio (CI)": "", "favours": "",
                        "as reported": "", "report / data cut": r["note"], "source": ""})
            continue
        if r["row"] == "inconsistency":
            out.append({"": "inconsistency", "comparison": r["comparison"], "ratio (CI)": r["note"], "favours": "",
                        "as reported": "", "report / data cut": "", "source": ""})
            continue
        ci = (f"{_ratio(r['estimate'])} ({_ratio(r['ci_low'])}–{_ratio(r['ci_high'])}, "
              f"{r['level'] * 100:g}%)")
        label = r["trial"] if r["row"] == "trial" else r["row"]
        cut = "; ".join(str(x) for x in (r["report"], r["data_cut"], r["followup"]) if isinstance(x, str))
        out.append({"": label, "comparison": r["comparison"], "ratio (CI)": ci, "favours": r["favours"],
                    "as reported": r["as_reported"] if isinstance(r["as_reported"], str) else (r["note"] or ""),
                    "report / data cut": cut, "source": r["source"] if isinstance(r["source"], str) else ""})
    return pd.DataFrame(out, columns=["", "comparison", "ratio (CI)", "favours", "as reported", "report / data cut",
                                      "source"])


def indirect_notes(ans: Answer) -> tuple[str, list[str], list[str]]:
    """Title, notes (method, rule, each common comparator and population side by side) and
    warnings (the checks, and the reports the rule could not take)."""
    from .indirect_network import REPORT_RULES

    name = NAMES.get(ans.statistic, ans.statistic)
    title = f"Indirect comparison: {ans.a} vs {ans.b}, {ans.measure} ({name} of {ans.a} against {ans.b})"
    published = [f"published (as printed, not recomputed here; 'xpo1 syntheses'): {p}" for p in ans.published]
    if ans.estimate is None:
        return title, ["No randomized path links the two regimens for this measure: no estimate is made.",
                       *[f"why no path: {m}" for m in ans.missing], *published], []
    chain = ("log ratios add along the chain and so do their variances; "
             if ans.method.startswith(("anchored", "chain")) else "")
    notes = [f"method: {ans.method}; {chain}standard errors from each trial's interval at its own level",
             f"report rule: {ans.rule} ({REPORT_RULES[ans.rule]})",
             "a ratio below 1 favours the first regimen for PFS and OS (lower hazard); above 1 favours "
             "it for response"]
    if ans.anchors is not None:
        for anchor, group in ans.anchors.groupby("regimen", sort=True):
            for r in group.drop_duplicates("trial").to_dict("records"):
                parts = [f"{c}: {r[c]}" if isinstance(r[c], str) else f"{c}: not stated"
                         for c in ("frequency", "duration", "route")]
                src = f" ({r['source']})" if isinstance(r["source"], str) else ""
                notes.append(f"common comparator {anchor} in {r['trial']}: " + "; ".join(parts) + src)
    if ans.populations is not None:
        for r in ans.populations.to_dict("records"):
            words = [r["population"] if isinstance(r["population"], str) else "population not stated"]
            if isinstance(r["region"], str):
                words.append(f"region {r['region']}")
            notes.append(f"population of {r['trial']}: " + "; ".join(words))
    notes.append("cross-trial comparisons are observational across trials: they keep each trial's "
                 "randomization but not balance between trials")
    warnings = [c.text for c in ans.assessment if c.severity == "warning"]
    notes += [c.removeprefix("note: ") for c in ans.checks if c.startswith("note")]
    return title, notes + published, warnings


def comparator_sections(rec: dict) -> list[tuple[str, pd.DataFrame, list[str]]]:
    """`show` of a comparator trial: (title, frame, notes) for its design, arms, results and conflicts."""
    import pandas as pd

    t = rec["trial"]
    about = pd.DataFrame([{"field": k, "value": v} for k, v in t.items() if isinstance(v, str)])
    out = [(f"{t['name']} — comparator trial (no XPO1-inhibitor arm)", about,
            ["A comparator trial is never listed or pooled as an XPO1 study; 'xpo1 indirect' uses its "
             "between-arm results as anchored comparisons."])]
    arms = rec["arms"][["arm", "regimen", "role", "n", "frequency", "duration", "route", "schedule",
                        "schedule_source", "source", "note"]]
    out.append((f"{t['trial']}: arms and their schedules, as stated", arms,
                ["An empty schedule field was not stated, or not verified, on the stored pages."]))
    res = rec["results"].copy()
    res["ratio (CI, level)"] = [
        "" if e != e else (f"{e:g}" + (f" ({lo:g}–{hi:g}, {lv:g}%)" if lo == lo and hi == hi else " (no interval)"))
        for e, lo, hi, lv in zip(res["estimate"], res["ci_low"], res["ci_high"], res["ci_level"], strict=True)]
    res["arms"] = [f"{a} vs {b}" for a, b in zip(res["arm_a"], res["arm_b"], strict=True)]
    res["values"] = ["" if a != a else f"{a:g} vs {b:g} {u}" for a, b, u in
                     zip(res["value_a"], res["value_b"], res["unit"], strict=True)]
    out.append((f"{t['trial']}: results, one row per report (data cut) and measure",
                res[["report", "data_cut", "measure", "population", "arms", "statistic", "ratio (CI, level)",
                     "p_text", "values", "followup", "source", "note"]],
                ["Each data cut is its own report: figures of different cuts are never mixed."]))
    if len(rec["conflicts"]):
        out.append((f"{t['trial']}: conflicts between sources, kept as printed",
                    rec["conflicts"][["topic", "reading_a", "source_a", "reading_b", "source_b", "note"]], []))
    return out
