"""The pooling inputs and tables: which cohorts a pool takes and leaves out, and the pooled
rows, subgroups and leave-one-out influence of the result. Pure functions; no printing."""

from __future__ import annotations

from itertools import repeat

import numpy as np
import pandas as pd

from .counts import CATEGORIES, COMPOSITES, of_cohorts, outcome_table
from .data import Dataset
from .query import UnknownName, arm_table, design
from .values import (
    DERIVED_MARK,
    column_cells,
    derived,
    inferred_frame,
    key_codes,
    last_match,
    per_distinct,
    run_starts,
    value_or_none,
)

# --- pooling inputs ----------------------------------------------------------------------------

POOL_COLUMNS = ["row", "group", "subgroup", "ref", "study", "trial", "report_role", "source", "cohort",
                "cohort_label", "disease", "setting", "design", "regimen", "arm", "agent", "events", "n",
                "count_basis", "percent", "ci_low", "ci_high", "level", "weight", "pi_low", "pi_high",
                "events_total", "n_total", "k", "tau2", "i2", "h2", "q", "q_df", "q_p", "method", "test",
                "t_df", "correction", "q_between", "q_between_df", "q_between_p", "shift"]
# what --by may split a pool by: the column of the pool table that holds it
BY_COLUMNS = {"disease": "disease", "regimen": "regimen", "setting": "setting", "agent": "agent",
              "design": "design", "source": "source"}
XPO1_GROUP = "XPO1 inhibitor arms and cohorts"
CONTROL_GROUP = "control arms (no XPO1 inhibitor)"
# pooling prefers a trial's peer-reviewed primary report, then its fuller later reports
ROLE_RANK = {"primary": 0, "follow-up": 1, "review summary": 2, "post-hoc": 3, "interim": 4,
             "regulatory": 5, "registration": 6}
CONTROL_REASON = "control arm, no XPO1 inhibitor (pool control arms apart with --include-controls)"
NO_COUNT = "no count and denominator"
NO_DENOMINATOR = ("a percentage without a stated denominator, so no count (one is derived only over a "
                  "stated denominator)")
PI_MIN_K = 3  # cohorts a prediction interval needs: with two it has no degrees of freedom


def mixed_pool(diseases, settings, designs) -> str | None:
    """Why a set of cohorts (each one's disease, setting and design cells) is no one population's,
    so that a pooled figure of it would be nobody's (None: it is one): it mixes diseases (or holds a
    cohort of several), settings (or a cohort of a mixed one; an unstated setting counts as one of
    its own) or designs. The one rule of the brief's bottom line (bottom_line.headline_pool) and of
    `pool` (synthesis.pool refuses such a pool unless asked)."""
    diseases = {v for v in diseases if isinstance(v, str)}
    if any(";" in d for d in diseases) or len(diseases) > 1:
        codes = sorted({d.strip() for v in diseases for d in v.split(";")})
        several = "; a cohort of several" if any(";" in d for d in diseases) else ""
        return f"the pool mixes diseases ({', '.join(codes)}{several})"
    settings = {v if isinstance(v, str) else None for v in settings}
    if len(settings) > 1 or "mixed" in settings:
        return "the pool mixes populations"
    if len(set(designs)) > 1:
        return "the pool mixes designs"
    return None


def trial_key(study_row) -> str:
    """Reports of one trial share a trial id; without one, a shared review ref marks them."""
    trial = getattr(study_row, "trial", None)
    if isinstance(trial, str) and trial:
        return trial
    ref = value_or_none(getattr(study_row, "ref", None))
    return f"ref {int(ref)}" if ref is not None else study_row.study


def pool_inputs(ds: Dataset, studies: pd.DataFrame, measure: str, include_controls: bool = False,
                matched: set[tuple[str, str]] | None = None,
                outcomes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohorts to pool for a measure and the ones left out, each with its reason. `outcomes`:
    the caller's outcome_table of these studies, if it has one (its rows of the measure are the
    ones derived here, tests/test_pool_inputs.py).

    One population per trial: within a study the headline cohort (else the largest) stands for
    it and its subgroups are left out; of several reports of one trial the primary report
    stays (then the fuller one). Case reports, preclinical work and figures without a count are
    left out; control arms are left out, or with include_controls kept in a group of their own
    (`group`), never pooled with XPO1-inhibitor arms.

    The reasons come study by study, in the order of the outcome rows: a study's figures without a
    count, then its non-clinical or control rows, then the cohorts overlapping each arm's pooled one
    (arms in order); the other reports of each trial come last. Whole-column operations, checked
    against the same rules read one row at a time (tests/test_pool_inputs.py)."""
    known = [m for m in CATEGORIES + tuple(COMPOSITES) if m.casefold() == measure.strip().casefold()]
    if not known:
        raise UnknownName(f"cannot pool '{measure}'; known: {', '.join(CATEGORIES + tuple(COMPOSITES))}")
    measure = known[0]
    o = outcome_table(ds, studies=studies["study"], measures={measure}) if outcomes is None else outcomes
    o = o[o["measure"] == measure]
    if matched is not None:
        o = o[of_cohorts(o, matched)]
    arms = arm_table(ds)
    study, study_ids = pd.factorize(o["study"])  # studies numbered in order of first appearance
    # each row's study and cohort; of rows repeating a key the last stands (as in a dict)
    at_study = last_match([study_ids], [studies["study"]])[study]
    at_arm = last_match([o["study"], o["cohort"]], [arms["study"], arms["cohort"]])
    den = o["denominator"].to_numpy(dtype="float64", na_value=np.nan)
    counted = o["count_used"].notna().to_numpy() & ~np.isnan(den)
    evidence = studies["evidence_type"].to_numpy(dtype=object)[at_study]
    clinical = studies["evidence_type"].eq("clinical trial").to_numpy(dtype=bool)[at_study]
    unknown = np.flatnonzero(counted & clinical & (at_arm < 0))
    if len(unknown):  # a trial's figure for a cohort the dataset lacks: fail as a lookup would, never guess
        first_unknown = unknown[np.argsort(study[unknown], kind="stable")[0]]
        raise KeyError((o["study"].iat[first_unknown], o["cohort"].iat[first_unknown]))
    agent = _is_str(arms["agent"].to_numpy(dtype=object)[at_arm])
    arm = arms["arm"].to_numpy(dtype=object)[at_arm]
    arm = np.where(_is_str(arm), arm, "")
    headline = arms["headline"].take(at_arm).to_numpy(dtype=bool)

    # left out within a study: at step 0 figures without a count, at 1 what is never pooled (-1: neither)
    step = np.where(counted, -1, 0)
    pct = o["percent_reported"].to_numpy(dtype="float64", na_value=np.nan)
    reason = np.where(counted, None, NO_COUNT).astype(object)
    bare = ~counted & ~np.isnan(pct) & np.isnan(den)  # a percentage alone: said so, with the cohort's own n
    arm_n = arms["n"].to_numpy(dtype="float64", na_value=np.nan)[at_arm[bare]]
    reason[bare] = [NO_DENOMINATOR if np.isnan(n) or a < 0 else
                    f"{NO_DENOMINATOR}; the cohort's n = {int(n)} is not stated as its denominator"
                    for n, a in zip(arm_n, at_arm[bare], strict=True)]
    other = counted & ~clinical
    reason[other], step[other] = evidence[other], 1
    if not include_controls:
        control = counted & clinical & ~agent
        reason[control], step[control] = CONTROL_REASON, 1

    # each arm of a study (in order of its first row): its headline, else largest, cohort stands
    rest = np.flatnonzero(step < 0)
    group = key_codes(study[rest], arm[rest])
    order = np.lexsort((rest, -den[rest], ~headline[rest], group, study[rest]))
    rest, first = rest[order], run_starts(group[order])
    kept, overlap = rest[first], rest[~first]
    stands = kept[np.cumsum(first)[~first] - 1]  # the row kept in each overlapping row's place
    overlap_reason = ("overlaps the pooled population '" + o["cohort"].to_numpy(dtype=object)[stands]
                      + "' of the same study")
    # study by study, step by step (the overlapping rows at step 2, as sorted)
    within = np.concatenate([np.flatnonzero(step >= 0), overlap])
    within_step = np.concatenate([step[step >= 0], np.full(len(overlap), 2)])
    within_reason = np.concatenate([reason[step >= 0], overlap_reason])
    by_study = np.lexsort((np.arange(len(within)), within_step, study[within]))

    # a trial's reports (trials in order of the first): the headline population, the role, the larger
    trial = _trial_keys(studies)[at_study[kept]] + np.where(arm[kept] != "", " (" + arm[kept] + " arm)", "")
    trial_code = key_codes(trial)
    role = studies["report_role"].to_numpy(dtype=object)[at_study[kept]]
    rank = pd.Series(role, dtype=object).map(ROLE_RANK).fillna(9).to_numpy(dtype="float64")
    order = np.lexsort((np.arange(len(kept)), -den[kept], rank, ~headline[kept], trial_code))
    first = run_starts(trial_code[order])
    pooled, again = order[first], order[~first]
    instead = pooled[np.cumsum(first) - 1][~first]  # the report pooled in each other report's place
    again_reason = [f"another report of the same trial ({t}); the {r} report {s} is pooled"
                    for t, r, s in zip(trial[again], role[instead], o["study"].to_numpy(dtype=object)[kept[instead]],
                                       strict=True)]

    rows, s, a = kept[pooled], at_study[kept[pooled]], at_arm[kept[pooled]]
    phase, randomized = (studies[c].to_numpy(dtype=object)[s] for c in ("phase", "randomized"))
    included = inferred_frame({
        "row": ["cohort"] * len(rows), "group": np.where(agent[rows], XPO1_GROUP, CONTROL_GROUP).tolist(),
        "ref": column_cells(o, "ref", rows), "study": column_cells(o, "study", rows), "trial": trial[pooled].tolist(),
        "report_role": column_cells(studies, "report_role", s), "source": column_cells(o, "source", rows),
        "cohort": column_cells(o, "cohort", rows), "cohort_label": column_cells(arms, "label", a),
        "disease": column_cells(studies, "disease", s), "setting": column_cells(studies, "setting", s),
        "design": per_distinct(design, evidence[rows], phase, randomized), "regimen": column_cells(arms, "regimen", a),
        "arm": column_cells(arms, "arm", a), "agent": column_cells(arms, "agent", a),
        "events": o["count_used"].take(rows).to_numpy(dtype="int64"),
        "n": o["denominator"].take(rows).to_numpy(dtype="int64"),
        "count_basis": column_cells(o, "count_basis", rows)}, POOL_COLUMNS)
    left_rows = np.concatenate([within[by_study], kept[again]])
    left_study = column_cells(o, "study", left_rows)
    left = inferred_frame({"ref": column_cells(o, "ref", left_rows), "study": left_study,
                           "cohort": column_cells(o, "cohort", left_rows),
                           "source": column_cells(o, "source", left_rows),
                           "reason": _pooled_elsewhere(included, _trial_keys(studies)[s], left_study,
                                                       column_cells(o, "cohort", left_rows),
                                                       within_reason[by_study].tolist() + again_reason,
                                                       _trial_keys(studies)[at_study[left_rows]])},
                          ["ref", "study", "cohort", "source", "reason"])
    included.attrs["measure"] = measure
    from .catalogue import published_pooled

    # syntheses among the matched studies are never pooled; their own pooled figure is shown
    included.attrs["published"] = published_pooled(ds, studies["study"], measure)
    return included, left


def _pooled_elsewhere(included: pd.DataFrame, pooled_trials, study: list, cohort: list, reason: list,
                      trial) -> list[str]:
    """Each left-out row's reason, saying where its cohort (or its trial, `pooled_trials` being the
    trial of each pooled row) is pooled from another report or source when it is: a second figure
    of a pooled cohort is not a cohort left out. `trial`: each left-out row's trial."""
    cohorts = {(r.study, r.cohort): f"{r.events}{DERIVED_MARK if derived(r.count_basis) else ''}/{r.n} [{r.source}]"
               for r in included.itertuples()}
    trials: dict[str, str] = {}
    for t, s in zip(pooled_trials, included["study"].tolist(), strict=True):
        trials.setdefault(t, s)
    out = []
    for s, c, why, t in zip(study, cohort, reason, trial, strict=True):
        if (s, c) in cohorts:
            why += f"; another report of the pooled cohort {s}/{c} ({cohorts[s, c]})"
        elif not why.startswith("another report") and trials.get(t, s) != s:
            why += f"; its trial {t} is pooled from another report ({trials[t]})"
        out.append(why)
    return out


def _is_str(values: np.ndarray) -> np.ndarray:
    """Whether each cell holds text (a missing cell does not)."""
    return np.fromiter(map(isinstance, values, repeat(str)), dtype=bool, count=len(values))


def _trial_keys(studies: pd.DataFrame) -> np.ndarray:
    """trial_key of each study row."""
    trial = studies["trial"].to_numpy(dtype=object)
    named = _is_str(trial) & (trial != "")
    out = np.where(named, trial, studies["study"].to_numpy(dtype=object))
    numbered = ~named & studies["ref"].notna().to_numpy()
    out[numbered] = "ref " + studies["ref"][numbered].astype("int64").astype(str).to_numpy(dtype=object)
    return out


METHOD_LABELS = {"DL": "DerSimonian–Laird", "REML": "REML", "PM": "Paule–Mandel"}
NOT_STATED = "not stated"


def _subgroup_name(value) -> str:
    return value if isinstance(value, str) and value else NOT_STATED


def mixed_rows(rows: pd.DataFrame) -> str | None:
    """mixed_pool of a pool's cohorts (rows of pool_inputs)."""
    return mixed_pool(rows["disease"].tolist(), rows["setting"].tolist(), rows["design"].tolist())


def mixed_subgroups(rows: pd.DataFrame, by: str) -> dict[str, str]:
    """The subgroups of a split pool (`by`, a key of BY_COLUMNS) that would pool two or more cohorts
    of no one population, each with mixed_pool's reason, in the order the subgroups come."""
    names = pd.Series([_subgroup_name(v) for v in rows[BY_COLUMNS[by]]], index=rows.index, dtype=object)
    out = {}
    for name, part in rows.groupby(names, sort=False):
        if len(part) >= 2 and (why := mixed_rows(part)) is not None:
            out[name] = why
    return out


def pool_regimens(included: pd.DataFrame) -> list[str]:
    """The regimens of a set of cohorts in order of first appearance, a cohort without one as
    'not stated' (as --by regimen names its subgroup)."""
    return list(dict.fromkeys(_subgroup_name(v) for v in included["regimen"]))


def _pooled_rows(res: dict, rows: pd.DataFrame, method: str, level: float, subgroup: str | None,
                 *, common: bool = True, across: list[str] | None = None) -> list[dict]:
    """The random-effects row (with its prediction interval) and, if asked, the common-effect row
    of one pooled set of cohorts. `across`: the regimens a pool across regimens puts together,
    named in its rows' regimen cell and label."""
    label = METHOD_LABELS[method]
    where = f"{subgroup}: " if subgroup is not None else ""
    if across:
        where += "across regimens, "
    totals = {"regimen": ";".join(across) if across else None,
              "events_total": int(rows["events"].sum()), "n_total": int(rows["n"].sum()), "k": len(rows),
              "level": level, "group": rows["group"].iloc[0] if len(rows) else None, "subgroup": subgroup,
              "q": res["q"], "q_df": res["q_df"], "q_p": res["q_p"], "correction": res["correction"]}
    out = [{"row": "random", "cohort_label": f"{where}random effects ({label})", **totals,
            "percent": 100 * res["estimate"], "ci_low": 100 * res["ci_low"],
            "ci_high": 100 * res["ci_high"], "weight": 100.0,
            **_prediction(res), "tau2": res["tau2"], "i2": res["i2"], "h2": res["h2"], "method": method,
            "test": "t" if res["test"] == "knha" else "z", "t_df": res["df"]}]
    if common:
        out.append({"row": "common", "cohort_label": f"{where}common effect", **totals,
                    "percent": 100 * res["common_estimate"],
                    "ci_low": 100 * res["common_ci_low"],
                    "ci_high": 100 * res["common_ci_high"], "method": "FE", "test": "z"})
    return out


def _prediction(res: dict) -> dict:
    """The prediction interval of a fit in percent: none from fewer than PI_MIN_K cohorts (with two
    it rests on no degree of freedom; the brief's rule too)."""
    if res.get("pi_low") is None or res["k"] < PI_MIN_K:
        return {"pi_low": None, "pi_high": None}
    return {"pi_low": 100 * res["pi_low"], "pi_high": 100 * res["pi_high"]}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=POOL_COLUMNS)
    for col in ("ref", "events", "n", "events_total", "n_total", "k", "q_df", "t_df", "q_between_df"):
        out[col] = out[col].astype("Int64")
    for col in ("percent", "ci_low", "ci_high", "level", "weight", "pi_low", "pi_high", "tau2", "i2", "h2",
                "q", "q_p", "q_between", "q_between_p", "shift"):
        out[col] = out[col].astype("float64")
    return out


def _fit_summary(res: dict) -> dict:
    keys = ("k", "tau2", "i2", "h2", "q", "q_df", "q_p", "pi_low", "pi_high", "test", "df", "cautions")
    out = {k: res.get(k) for k in keys}
    for k in ("estimate", "ci_low", "ci_high"):
        out[k] = None if res.get(k) is None else 100 * res[k]
    return {**out, **_prediction(res)}


def pool_table(included: pd.DataFrame, method: str = "DL", ci: str = "exact", level: float = 0.95,
               *, knha: bool = False, correction: str = "only0", by: str | None = None,
               overall: bool = True, across: list[str] | None = None, refused: dict[str, str] | None = None,
               subgroup_test: bool = True) -> tuple[pd.DataFrame, dict]:
    """The pooled table of one group: each cohort with its interval and weight, then the
    random-effects row (with the prediction interval, pi_low/pi_high) and the common-effect row.
    Pooled rows carry the estimate, its interval at `level`, the test behind it (z, or t with
    t_df degrees of freedom under Knapp–Hartung) and the heterogeneity statistics; the sums of
    events and patients are named events_total and n_total, never events/n, because the
    estimate is not their ratio.

    With `by` (a key of BY_COLUMNS) the cohorts are grouped by that column: each subgroup's
    cohorts (weights within the subgroup) and, when it has two or more, its own random-effects
    row (its own tau²); then the overall rows, whose random row carries the test for subgroup
    differences (q_between, q_between_df, q_between_p). With overall=False (by only) there are no
    overall rows and the summary holds no overall estimate: the subgroups, then the test for their
    differences in a row of its own (row 'subgroup test'). `across`: the regimens of a pool across regimens, named in
    its pooled rows and summary. `refused` (by only): subgroups not pooled, each with its reason
    (a row 'not pooled' saying it, then its cohorts without weights; no pooled rows, no test for
    subgroup differences). subgroup_test=False: no test for subgroup differences either (its
    subgroups are not randomized against each other). Raises ValueError for a correction that cannot be applied (no
    correction with a 0/n or n/n cohort)."""
    from .metaanalysis import pool_proportions, pool_subgroups
    from .stats import percent_cis

    events, totals = list(included["events"]), list(included["n"])
    res = pool_proportions(events, totals, method=method, level=level, knha=knha, correction=correction)
    frame = included.copy()
    frame["percent"] = [round(100 * e / n, 1) for e, n in zip(events, totals, strict=True)]
    frame["ci_low"], frame["ci_high"] = percent_cis(events, totals, ci, level)
    frame["level"] = level
    group = frame["group"].iloc[0] if len(frame) else None
    summary = _fit_summary(res)
    summary.update(label=f"random effects, {METHOD_LABELS[method]}", method=method,
                   measure=included.attrs.get("measure", "ORR"), level=level, group=group, ci=ci,
                   correction=res["correction"], corrected=res["corrected"], by=by, subgroups={},
                   overall=overall, across=list(across or []))
    if across:
        summary["label"] += ", across regimens"
    if by is None:
        frame["weight"] = [round(w, 2) for w in res["weights"]]
        parts = [frame, pd.DataFrame(_pooled_rows(res, frame, method, level, None, across=across))]
    else:
        frame["subgroup"] = [_subgroup_name(v) for v in frame[BY_COLUMNS[by]]]
        sub = pool_subgroups(events, totals, list(frame["subgroup"]), method=method, level=level,
                             knha=knha, correction=correction)
        parts = []
        refused = {name: why for name, why in (refused or {}).items() if name in sub["subgroups"]}
        if refused or not subgroup_test:
            sub.update(q_between=None, q_between_df=None, q_between_p=None, q_between_note=None)
        for name, s in sub["subgroups"].items():
            rows = frame.iloc[s["rows"]].copy()
            if name in refused:  # its cohorts alone: no weights, no pooled rows
                parts.append(pd.DataFrame([{"row": "not pooled", "group": group, "subgroup": name, "level": level,
                                            "k": s["k"], "cohort_label": f"{name}: not pooled: {refused[name]}"}]))
                parts.append(rows)
                summary["subgroups"][name] = {"k": s["k"], "refused": refused[name], "cautions": []}
                continue
            rows["weight"] = [round(w, 2) for w in s["weights"]]
            parts.append(rows)
            if s["k"] >= 2:
                s = {**s, "correction": res["correction"]}
                parts.append(pd.DataFrame(_pooled_rows(s, rows, method, level, name, common=False)))
            summary["subgroups"][name] = _fit_summary(s)
        if overall:
            rows = _pooled_rows(res, frame, method, level, None, across=across)
            rows[0].update(q_between=sub["q_between"], q_between_df=sub["q_between_df"],
                           q_between_p=sub["q_between_p"])
            parts.append(pd.DataFrame(rows))
        else:  # no figure across the subgroups: their test alone, in a row of its own and the summary
            if sub["q_between"] is not None:
                parts.append(pd.DataFrame([{"row": "subgroup test", "group": group, "level": level, "method": method,
                                            "cohort_label": "test for subgroup differences (random effects)",
                                            "k": len(frame), "q_between": sub["q_between"],
                                            "q_between_df": sub["q_between_df"],
                                            "q_between_p": sub["q_between_p"]}]))
            summary.update(dict.fromkeys(("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                                          "h2", "q", "q_df", "q_p", "df")), cautions=[])
        summary.update(q_between=sub["q_between"], q_between_df=sub["q_between_df"],
                       q_between_p=sub["q_between_p"])
        if refused and subgroup_test and len(sub["subgroups"]) > 1:
            sub["q_between_note"] = (f"no test for subgroup differences: subgroup{'s' if len(refused) > 1 else ''} "
                                     f"{', '.join(refused)} not pooled")
        if sub["q_between_note"]:
            summary["cautions"] = [*(summary.get("cautions") or []), sub["q_between_note"]]
    out = _typed(pd.concat([p.dropna(axis=1, how="all") for p in parts], ignore_index=True))
    return out, summary


def pool_leave_one_out(included: pd.DataFrame, method: str = "DL", level: float = 0.95, *,
                       knha: bool = False, correction: str = "only0") -> pd.DataFrame:
    """One row per cohort (row 'leave-one-out'): the pooled estimate, its interval, tau², I², H²
    and Q when that cohort is left out (metafor's leave1out), and `shift`, how far leaving it out
    moves the pooled proportion (percentage points). attrs["most_influential"] is the position
    of the cohort that moves it most."""
    from .metaanalysis import leave_one_out

    res = leave_one_out(list(included["events"]), list(included["n"]), method=method, level=level,
                        knha=knha, correction=correction)
    frame = included.copy()
    frame["row"] = "leave-one-out"
    frame["percent"] = [100 * e for e in res["estimate"]]
    frame["ci_low"] = [100 * e for e in res["ci_low"]]
    frame["ci_high"] = [100 * e for e in res["ci_high"]]
    frame["level"] = level
    frame["k"] = res["k"] - 1
    frame["tau2"], frame["i2"], frame["h2"] = res["tau2"], res["i2"], res["h2"]
    frame["q"], frame["q_p"] = res["q"], res["q_p"]
    frame["q_df"] = res["k"] - 2
    frame["method"] = method
    frame["test"] = "t" if knha and res["k"] > 2 else "z"
    frame["t_df"] = res["k"] - 2 if knha and res["k"] > 2 else None
    frame["correction"] = res["correction"]
    pooled = 100 * (res["estimate"][res["most_influential"]]) - 100 * res["largest_shift"]
    frame["shift"] = [100 * e - pooled for e in res["estimate"]]
    out = _typed(frame)
    out.attrs["most_influential"] = res["most_influential"]
    return out
