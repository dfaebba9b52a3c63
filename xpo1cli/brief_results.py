"""The brief's randomized trials, response and survival sections: rates, medians and pools of the
cohorts a brief selects, each with its source."""

from __future__ import annotations

import pandas as pd

from .brief_model import (
    Arm,
    Brief,
    Forest,
    Median,
    Pooled,
    PrintedCategories,
    RandomizedTrial,
    Rate,
    ResponseGroup,
    Worded,
)
from .brief_rules import KNHA_MAX_K
from .brief_values import _float, _int, _str, figure, where_text_of
from .counts import CATEGORIES, COMPOSITES
from .data import Dataset
from .findings import between_arms
from .pooling import PI_MIN_K
from .values import derived, row_tuples


def count_responders(b: Brief) -> None:
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


def worded_outcomes(studies, outcomes, arm_of, b: Brief) -> list[Worded]:
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


def subgroup_rates(ds, studies, outcomes, arm_of, flags, b: Brief, level: float) -> tuple[list[Rate], list[Rate]]:
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
    # the population section 3 shows for a trial (by its label and n): another report's figure of it is
    # a second reading of that population, not a subgroup
    headline = {(r.trial, r.measure, r.timepoint, r.label.casefold(), r.n): r for g in b.response for r in g.rates
                if r.trial is not None and r.n is not None}
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
        same = headline.get((r.trial, r.measure, r.timepoint, r.label.casefold(), r.n))
        if out is subgroups and same is not None and same.study != r.study:  # not a subgroup: another reading
            if (r.events, r.percent) != (same.events, same.percent):
                same.readings.append(r)
            continue
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
    return _merged(subgroups), _merged(landmark)


def _merged(rates: list[Rate]) -> list[Rate]:
    """One row per figure: the sources printing the same percentage of the same part of a study (at
    the same time point) become one row, the one with a count first, naming the others (Rate.also)."""
    out: list[Rate] = []
    for r in sorted(rates, key=lambda x: x.events is None):
        first = next((x for x in out if (x.study, x.cohort, x.measure, x.timepoint, x.percent)
                      == (r.study, r.cohort, r.measure, r.timepoint, r.percent) and x.source != r.source), None)
        if first is None:
            out.append(r)
        else:
            first.also.append(r)
    keep = {id(r) for r in out}
    return [r for r in rates if id(r) in keep]


def mark_unclear_sizes(ds: Dataset, b: Brief) -> None:
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
    from .counts import with_summaries

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


def _role(a) -> str | None:
    return a.arm if isinstance(a.arm, str) and a.arm in ("experimental", "control") else None


def randomized_trials(ds: Dataset, studies: pd.DataFrame, arm_of: dict, outcomes: pd.DataFrame,
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


def response_groups(ds, studies, matched, outcomes, arm_of, flags, level, b: Brief):
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
            rate.n_unfit = rate.events is None and any(
                x.check == "percentage vs denominator" for x in found if x.measure == rate.measure)
        if not rates:
            continue
        order = list(dict.fromkeys([*(r.regimen for r in rates if not r.control),
                                    *(r.regimen for r in rates if r.control)]))
        xpo1 = included[included["group"] == XPO1_GROUP]
        fits: dict = {}
        frame = None
        if len(xpo1) >= 2:
            # one pool per regimen: no figure across regimens and no test between them (not randomized)
            by_regimen = dict(method="DL", ci="exact", level=level, by="regimen", overall=False, subgroup_test=False)
            frame, summary = pool_table(xpo1, **by_regimen)
            if any(2 <= fit["k"] <= KNHA_MAX_K for fit in summary["subgroups"].values()):
                # the method advises Knapp–Hartung for so few cohorts: the interval shown is its
                frame, summary = pool_table(xpo1, **by_regimen, knha=True)
            fits = summary["subgroups"]
            keep = frame["subgroup"].notna() | (frame["row"] == "cohort")
            plotted = frame[keep].reset_index(drop=True)
            forests.append(Forest(measure=measure, frame=plotted, summary=summary, level=level))
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


def printed_categories(ds, studies, arm_of, outcomes, findings_audit, b: Brief) -> list[PrintedCategories]:
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


def survival_medians(ds, studies, matched, arm_of, outcomes) -> list[Median]:
    from .views import survival_table

    frame = survival_table(ds, studies[studies["evidence_type"] == "clinical trial"], matched=matched,
                           outcomes=outcomes)
    frame = frame[frame["median"].notna() | frame["note"].notna()]  # no median: its note says why (not reached)
    out = _one_per_trial(studies, _medians(frame, arm_of), arm_of)
    trial_of = {st: _str(t) for st, t in zip(studies["study"], studies["trial"], strict=True)}
    for m in out:
        m.trial = trial_of.get(m.study)
    for ms in disputed_medians(studies, out):
        for m in ms:
            m.disputed = [x for x in ms if x is not m]
    order = {m: i for i, m in enumerate(("PFS", "OS", "DOR", "TTR", "FU"))}
    regimens = list(dict.fromkeys(m.regimen for m in out))
    return sorted(out, key=lambda m: (m.agent is None, regimens.index(m.regimen), order.get(m.measure, 9)))


def disputed_medians(studies: pd.DataFrame, medians: list[Median]) -> list[list[Median]]:
    """Groups of medians in which reports of one trial (studies.trial) give the same figure of the same
    measure for different populations: a conflict, stated wherever the figure is shown."""
    trial_of = {st: _str(t) for st, t in zip(studies["study"], studies["trial"], strict=True)}
    same: dict[tuple, list[Median]] = {}
    for m in medians:
        if trial_of.get(m.study) and m.median is not None:
            same.setdefault((trial_of[m.study], m.measure, m.median, m.unit), []).append(m)
    return [ms for ms in same.values() if len({m.study for m in ms}) > 1 and len({m.label for m in ms}) > 1]


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
