"""The brief's summary of findings: one row per regimen and critical outcome, rated by the
stated certainty rules (brief_rules)."""

from __future__ import annotations

from dataclasses import replace

from .brief_model import Brief, Finding, Median, Move
from .brief_rules import (
    ABSOLUTE_PER,
    COHERENT_K,
    IMPRECISE_N,
    IMPRECISE_WIDTH,
    INCONSISTENT_I2,
    INCONSISTENT_K,
    LEVELS,
    LOW_REPORTING_KINDS,
    NOT_ESTIMABLE,
    OIS_POWER,
    OUTCOME_CI_LEVEL,
    RESPONDER_ONLY,
    SETTING_WORDS,
    measure_name,
)
from .brief_values import _by_key, _encloses, _str, _unique, figure
from .data import Dataset
from .findings import ALPHA, CONTROL, EXPERIMENTAL, Effect
from .query import Resolver, split_list
from .values import lead_clause, row_tuples

# --- summary of findings --------------------------------------------------------------------------


def source_kinds_of(ds: Dataset) -> dict[str, str]:
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
        arm_rates = [r for r in t.rates if r.percent is not None]
        if not exp or not (whole or (not t.effects and arm_rates)):
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
        if not whole:  # arm figures only: said as such, no direction claimed
            found = ("arm figures only, no between-arm statistic reported, so no direction is claimed ("
                     + "; ".join(f"{measure_name(r.measure)}{at_point(r.timepoint)} "
                                 + (f"{r.events}/{r.n} ({figure(r.percent)}%)" if r.events is not None
                                    else f"{figure(r.percent)}%") + f" with {r.regimen or r.label}"
                                 for r in arm_rates) + ")")
        arms = " vs ".join(a.regimen or a.label for a in t.arms)
        for single in singles:
            same = single == regimen
            if not same and not (theirs and theirs <= partner_classes(ds, single)):
                continue
            what = "the same regimen" if same else f"the same partner class ({', '.join(sorted(theirs))})"
            said = out.setdefault(single, [])  # a trial of the same regimen first
            said.insert(len(said) if not same else 0,
                        f"a randomized trial of {what} exists: {t.trial} ({arms}), {found}")
    return out


def rate(start: str, moves: list[Move]) -> str:
    """The rating a start and its moves give (one level down per move, never below very low)."""
    return LEVELS[max(0, LEVELS.index(start) - len(moves))]


def summary_of_findings(ds: Dataset, b: Brief, flags: dict, level: float = 0.95) -> list[Finding]:
    kinds = source_kinds_of(ds)
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
        if stated == {"mixed"}:
            moves.append(Move("indirectness", f"settings mixed ({SETTING_WORDS['mixed']})"))
        elif len(stated) > 1:
            moves.append(Move("indirectness", "settings differ between reports or cohorts: "
                              + " vs ".join(SETTING_WORDS.get(x, x) for x in sorted(stated))))
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
    wanted = Resolver(ds).disease_codes(b.disease) if b.disease is not None else set()
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
                # ... but a brief of a disease the trial lists second, with no count of its own, reads
                # the comparison for another population: indirect for this disease
                if b.disease is not None and b.shares.get(t.study) is None \
                        and split_list(study_row["disease"])[0] not in wanted:
                    moves.append(Move("indirectness", f"mixed population ({enrolled}); {b.disease} share "
                                                      "not reported"))
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
    out = _merge_subgroups(out, source_kinds_of(ds))
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
                                   related=related.get(g.regimen, []), differing=[r for r in used if r.readings],
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
