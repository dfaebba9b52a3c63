"""The bottom line of a brief as data: which rows it states, in which order. brief_render words it.

The rules a tumour board would ask for, applied in this order:

1. an overview of the randomized trials: with results, stopped early, registered without results;
2. the randomized results, trials with a clear result (a harm signal included) first, then highest
   certainty first, each with its direction and the arms' figures (a result favouring the control
   arm is a harm signal, always stated); a randomized trial with
   arm figures but no between-arm statistic says so; a trial stopped early says so plainly;
3. single-arm evidence of the largest regimen outside the randomized trials: each study's own
   figure, never a pool that mixes diseases, settings or designs, nor a pool of two with
   heterogeneous results (I² over the stated threshold);
4. harms, one statement per regimen with harm figures (harms.regimen_harms, of which harms.key_harms
   keeps what a bottom line repeats): its arm-against-arm differences with both arms' figures, then
   each trial report's tolerability, serious and grade ≥3 events (a label's only where no trial gives
   any), never mixing regimens; other grades, events without rates and labels beside trial figures
   are the harms section's;
5. trials without results, listed apart as planned or ongoing, never as evidence.
"""

from __future__ import annotations

from .brief_model import Brief, Claim, Context, Planned, Rate
from .brief_rules import INCONSISTENT_I2, LEVELS
from .data import Dataset
from .findings import Effect, safety_statements
from .harms import key_harms, regimen_harms
from .toxicity import UNGRADED, death_timepoint
from .values import lead_clause, row_tuples, value_or_none

SINGLE_ARM_MEASURES = 2  # critical rate outcomes stated for the single-arm regimen
ABSENCE = ("no randomized", "no figures", "no harms")  # claims that say what the data lack: no rows, no sources


def _sources(sources) -> list[str]:
    return list(dict.fromkeys(s for s in sources if s))


def planned_trials(ds: Dataset, b: Brief, study_ids: set[str]) -> list[Planned]:
    """Registrations and listings among the selected studies whose study holds no figure."""
    studies = ds.studies[ds.studies["study"].isin(study_ids) & (ds.studies["report_role"] == "registration")]
    with_figures = set(ds.outcomes["study"]) | set(ds.comparisons["study"])
    status = dict(zip(ds.trials["trial"], ds.trials["status"], strict=True))
    out = []
    for s in row_tuples(studies, index=False):
        trial = s.trial if isinstance(s.trial, str) else s.study
        if s.study in with_figures or trial in {p.trial for p in out}:  # a trial named by several sources: once
            continue
        phase = value_or_none(s.phase)
        rand = value_or_none(s.randomized)
        design = ("randomized " if rand is True else "") + (f"phase {phase}" if phase else "design not stated")
        out.append(Planned(trial=trial, study=s.study, design=design, regimen=value_or_none(s.regimen),
                           status=value_or_none(status.get(trial)), source=s.source))
    return out


def _rank(b: Brief, effects: list[Effect]) -> int:
    """The best certainty of a trial's results (an index of LEVELS; -1 where none is rated)."""
    ratings = [LEVELS.index(f.rating) for f in b.findings if f.effect is not None and f.effect in effects]
    return max(ratings, default=-1)


def headline_pool(g) -> str | None:
    """Why a regimen's pool may not be headlined (None: it may): a pool that is no one population's
    (pooling.mixed_pool, the rule `pool` refuses by), or a pool of two with heterogeneous results."""
    from .pooling import mixed_pool

    p = g.pooled
    used = [r for r in g.rates if r.pooled and r.events is not None]
    why = mixed_pool([r.disease for r in used], [r.setting for r in used], [r.design for r in used])
    if why is not None:
        return why
    if p.k == 2 and p.i2 is not None and p.i2 > INCONSISTENT_I2:
        return f"a pool of two with heterogeneous results (I² {p.i2:.1f}%)"
    return None


def _mixed(b: Brief, in_trials: set) -> Claim | None:
    """The figures of mixed cohorts in which the brief's disease is a minority (as a report of the
    trial states it), each trial's first: they are the whole cohort's, not the disease's evidence."""
    rates: dict[str, Rate] = {}
    for g in b.response:
        for r in g.rates:
            if not r.control and (r.study, r.cohort) not in in_trials and b.minority(r.study) is not None:
                rates.setdefault(b.minority(r.study).trial, r)
    if not rates:
        return None
    shares = [b.minority(r.study) for r in rates.values()]
    others = {w for g in b.response for r in g.rates if not r.control and b.minority(r.study) is None
              for w in [r.trial or r.study]}
    minority_studies = set(b.shares)
    safety = any(h.scope == "label" or h.where not in minority_studies for h in b.harms)
    return Claim("not disease-specific", _sources([x for r, s in zip(rates.values(), shares, strict=True)
                                                   for x in (s.source, r.source)]),
                 rates=list(rates.values()), shares=shares, disease=b.disease_name,
                 counts={"own": len(others), "safety": int(safety)})


def _no_harm_figures(ds: Dataset, b: Brief, claims: list[Claim]) -> list[Claim]:
    """A 'no harms' claim for each XPO1-inhibitor regimen whose results the bottom line states, that
    has no harms statement of its own and no quantified adverse event in this brief: `counts` says
    whether the brief names events without rates (named) and whether other studies of the regimen in
    the data quantify some (elsewhere)."""
    from .toxicity import toxicity_table

    stated: list[str] = []
    for c in claims:
        if c.trial is not None:
            stated += [a.regimen for a in c.trial.arms if not a.control and a.regimen]
        elif c.kind in ("single-arm", "single-arm median") and c.regimen:
            stated.append(c.regimen)
        elif c.kind == "not disease-specific":
            stated += [r.regimen for r in c.rates if r.regimen]
    mine = [h for h in b.harms if h.role != "control" and h.kind == "adverse_event"]
    covered = {h.regimen for h in mine if h.quantified} | {c.regimen for c in claims if c.kind == "harms"}
    todo = [r for r in dict.fromkeys(stated) if r not in covered]
    if not todo:
        return []
    tox = toxicity_table(ds)
    tox = tox[tox["kind"] == "adverse_event"]
    counted = ~(tox["percent_reported"].isna() & tox["percent_calc"].isna() & tox["count"].isna())
    elsewhere = set(tox.loc[counted, "regimen"].dropna())
    names = dict(zip(ds.regimens["regimen"], ds.regimens["name"], strict=True))
    return [Claim("no harms", [], regimen=r, regimen_name=value_or_none(names.get(r)),
                  counts={"named": int(any(h.regimen == r for h in mine)), "elsewhere": int(r in elsewhere)})
            for r in todo]


def bottom_line(ds: Dataset, b: Brief, study_ids: set[str]) -> list[Claim]:
    out: list[Claim] = []
    planned = planned_trials(ds, b, study_ids)
    planned_names = {p.trial for p in planned}
    status = dict(zip(ds.trials["trial"], ds.trials["status"], strict=True))
    findings_of = dict(zip(ds.studies["study"], ds.studies["findings"], strict=True))
    randomized = [t for t in b.randomized if t.trial not in planned_names or t.effects or t.rates or t.medians]

    # 1-2 the randomized trials
    results, stopped, figures_only = [], [], []
    for t in randomized:
        whole = [e for e in t.effects if e.subgroup is None]
        if whole:
            said = [x for st in dict.fromkeys(e.study for e in whole) for x in safety_statements(ds, st)]
            srcs = [x for e in whole for x in (e.source, e.arm_a.source, e.arm_b.source)]
            results.append(Claim("randomized", _sources(srcs + [h.source for h in said]), trial=t, effects=whole,
                                 statements=said, certainty=None))
        elif value_or_none(status.get(t.trial)) == "stopped early":
            text = value_or_none(findings_of.get(t.study))
            stopped.append(Claim("stopped early", _sources([t.sources[0]]), trial=t,
                                 reported=text.split(";")[0] if isinstance(text, str) else None))
        elif t.rates or t.medians:
            figures_only.append(Claim("randomized without statistic",
                                      _sources([x.source for x in [*t.rates, *t.medians]]), trial=t))
    for c in results:
        ranked = _rank(b, c.effects)
        c.certainty = LEVELS[ranked] if ranked >= 0 else None
    # a trial with a clear result (a harm signal included) before one without, then by certainty:
    # a clear harm is never ranked below a result that is not a clear difference
    results.sort(key=lambda c: (not any(e.clear for e in c.effects), -_rank(b, c.effects),
                                -sum(a.n or 0 for a in c.trial.arms)))
    if randomized or planned:
        overview = Claim("overview", _sources([t.sources[0] for t in randomized]
                                              + [p.source for p in planned if p.design.startswith("randomized")]))
        overview.trials = {"with results": [c.trial.trial for c in results],
                           "with arm figures only": [c.trial.trial for c in figures_only],
                           "stopped early": [c.trial.trial for c in stopped],
                           "planned or ongoing": [p.trial for p in planned if p.design.startswith("randomized")]}
        if any(overview.trials.values()):
            out.append(overview)
    out += results + stopped + figures_only

    # 3 single-arm evidence
    in_trials = {(r.study, r.cohort) for t in b.randomized for r in t.rates} | \
        {(a.study, a.cohort) for t in b.randomized for a in t.arms}

    def own(r: Rate) -> bool:  # evidence of the brief's disease: not a mixed cohort where it is a minority
        return not r.control and (r.study, r.cohort) not in in_trials and b.minority(r.study) is None

    single = [g for g in b.response if [r for r in g.rates if own(r)]]
    counted = {r.trial or r.study for g in single for r in g.rates if own(r)}
    mixed = _mixed(b, in_trials)
    if not randomized:
        if counted:
            out.append(Claim("no randomized", [], counts={"studies": len(counted)}, disease=b.disease_name))
        if mixed is not None:
            out.append(mixed)
        elif not counted:
            out.append(Claim("no figures", _sources([g.sources[0] for g in b.gaps if g.sources][:3]),
                             counts={"clinical": b.n_clinical, "other": b.n_studies - b.n_clinical},
                             disease=b.disease_name))
    chosen = None
    if single:
        def size(regimen: str) -> int:
            return sum(r.n or 0 for g in single if g.regimen == regimen for r in g.rates if not r.control)

        chosen = max(dict.fromkeys(g.regimen for g in single), key=size)
        for g in [g for g in single if g.regimen == chosen][:SINGLE_ARM_MEASURES]:
            rates = [r for r in g.rates if own(r)]
            why = headline_pool(g) if g.pooled is not None else None
            out.append(Claim("single-arm", _sources(r.source for r in rates), rates=rates, regimen=chosen,
                             measure=g.measure, pooled=g.pooled if g.pooled is not None and why is None else None,
                             unpooled=why))
        # the disease's critical rate outcomes ranked above the last one stated that no figure of it gives
        rank = {c.measure: c.rank for c in b.critical}
        stated = [g.measure for g in single if g.regimen == chosen][:SINGLE_ARM_MEASURES]
        held = {g.measure for g in b.response if g.regimen == chosen}
        last = max((rank.get(m, 0) for m in stated), default=0)
        out[-1].unreported = [c.measure for c in b.critical if not c.median and c.measure not in held
                              and c.rank < last]
        medians = sorted([f for f in b.findings if f.regimen == chosen and f.kind == "median" and f.effect is None],
                         key=lambda f: rank.get(f.measure, 99))
        if medians:  # the regimen's most important median outcome (each trial's own)
            f = medians[0]
            cited = [x.source for m in f.per_trial for x in [m, *m.disputed]]  # a disputed figure's other report too
            out.append(Claim("single-arm median", _sources(cited), regimen=chosen,
                             measure=f.measure, median=f))
        others = {g.regimen for g in single} - {chosen}
        if others:
            out[-1].counts["other regimens"] = len(others)

    if randomized and mixed is not None:
        out.append(mixed)

    # the comparator evidence section's headline: indirect estimates and published syntheses, in one sentence
    directed = [r for r in b.indirect if r.directed]
    if directed:
        out.append(Claim("comparators", _sources(x for r in directed for x in r.sources), indirect=directed))

    # 4 harms, one statement per regimen
    stated = {(c.trial.trial, e.arm_a.term, e.arm_a.grade) for c in results for e in c.effects
              if e.arm_a.table == "adverse_events"}
    said = {(x.study, x.term) for c in results for x in c.statements}
    for p in map(key_harms, regimen_harms(b, ds, stated, said)):  # the rest is the harms section's
        for r in p.reports:  # a study whose population is mostly another disease's: its harms say so
            r.share = b.minority(r.where) if r.scope == "study" else None
        # a regimen with figures only of other kinds says so; rows naming no regimen are then section 5's alone
        if p.clear or p.unclear or p.reports or (p.elsewhere and p.regimen is not None):
            out.append(Claim("harms", p.sources, regimen=p.regimen, harms=p))

    # 4b a regimen whose efficacy the bottom line states but for which no adverse-event figure exists
    out += _no_harm_figures(ds, b, out)

    # 5 trials without results
    if planned:
        out.append(Claim("planned", _sources(p.source for p in planned), planned=planned))
    introduce(ds, out)
    return out


def named_trials(c: Claim) -> list[tuple[str, str, str | None]]:
    """The trials a claim names, in its order, each as (trial, the report it cites, the XPO1-inhibitor
    regimen whose dose is said; None where the claim says the dose itself)."""
    if c.kind in ("randomized", "stopped early", "randomized without statistic") and c.trial is not None:
        exp = next((a.regimen for a in c.trial.arms if not a.control), None)
        return [(c.trial.trial, c.trial.study, exp)]
    if c.kind == "single-arm":
        return [(r.trial or r.study, r.study, r.regimen) for r in c.rates]
    if c.kind == "single-arm median" and c.median is not None:
        f = c.median
        return [(f.trials[i] if len(f.trials) == len(f.per_trial) else m.study, m.study, m.regimen)
                for i, m in enumerate(f.per_trial)]
    if c.kind == "harms" and c.harms is not None:
        return [(r.trial or r.where, r.where, None) for r in c.harms.reports if r.scope == "study"]
    if c.kind == "planned":
        return [(p.trial, p.study, p.regimen) for p in c.planned]
    if c.kind == "not disease-specific":  # states each trial's population itself
        return [(r.trial or r.study, r.study, None) for r in c.rates]
    return []


def introduce(ds: Dataset, claims: list[Claim]) -> None:
    """Give each claim the population and dose of the trials it is the first to name (Claim.contexts):
    a reader places a trial where it first appears."""
    from .toxicity import arm_dose

    info = {s.study: s for s in row_tuples(ds.studies, index=False)}
    codes = set(ds.regimens["regimen"])
    seen: set[str] = set()
    for c in claims:
        for trial, study, regimen in named_trials(c):
            s = info.get(study)
            if trial in seen or s is None:
                continue
            seen.add(trial)
            if c.kind == "not disease-specific":
                continue
            dose = lead_clause(arm_dose(s.dose_schedule, regimen, codes)) if regimen is not None else None
            undosed = regimen is not None and c.kind != "planned" and not any(  # no report of it states an amount
                ch.isdigit() for x in info.values() if x.study == study or value_or_none(x.trial) == trial
                for ch in value_or_none(x.dose_schedule) or "")
            c.contexts[trial] = Context(trial=trial, study=study, population=lead_clause(s.population), dose=dose,
                                        undosed=(value_or_none(s.agent) or "XPO1 inhibitor") if undosed else None)


def claim_rows(c: Claim) -> list[dict]:
    """The dataset rows a claim states, each as its table and key: what a reader (or a test) looks
    up to check the sentence."""
    rows: list[dict] = []

    def outcome(study, cohort, measure, timepoint, source) -> dict:
        return {"table": "outcomes", "study": study, "cohort": cohort, "measure": measure, "timepoint": timepoint,
                "source": source}

    for e in c.effects:
        rows.append({"table": "comparisons", "id": e.id})
        for a in (e.arm_a, e.arm_b):
            if a.table == "outcomes":
                rows.append(outcome(e.study, a.cohort, e.measure, e.timepoint, a.source))
            elif a.table == "adverse_events":
                rows.append({"table": "adverse_events", "study": e.study, "cohort": a.cohort, "term": a.term,
                             "grade": a.grade, "source": a.source})
    for s in c.statements:
        rows.append({"table": "adverse_events", "study": s.study, "cohort": s.cohort, "term": s.term,
                     "source": s.source})
    if c.kind in ("stopped early", "randomized without statistic") and c.trial is not None:
        rows.append({"table": "trials", "trial": c.trial.trial})
        rows.append({"table": "studies", "study": c.trial.study})
        for r in c.trial.rates:
            rows.append(outcome(r.study, r.cohort, r.measure, r.timepoint, r.source))
        for m in c.trial.medians:
            rows.append(outcome(m.study, m.cohort, m.measure, None, m.source))
    if c.kind == "overview":
        rows += [{"table": "trials", "trial": t} for names in c.trials.values() for t in names]
    if c.median is not None:
        rows += [outcome(x.study, x.cohort, x.measure, None, x.source) for m in c.median.per_trial
                 for x in [m, *m.disputed]]
    for r in c.rates:  # a summary summed here: the category rows it adds up
        rows += [outcome(r.study, r.cohort, m, r.timepoint, r.source) for m in r.summed or [r.measure]]
    for r in c.indirect:  # a published synthesis: its rows; an anchored estimate: the sources it rests on
        rows += ([{"table": "syntheses", "study": r.study}] if r.study is not None
                 else [{"table": "sources", "source": x} for x in r.sources])
    if c.harms is not None:
        for d in [*c.harms.clear, *c.harms.unclear]:
            if d.grade == UNGRADED:  # deaths: the arms' outcome rows (toxicity.deaths_as_events)
                rows.append({"table": "outcomes", "study": d.study, "measure": "deaths",
                             "timepoint": death_timepoint(d.term), "source": d.source})
                continue
            rows.append({"table": "adverse_events", "trial": d.trial, "term": d.term, "grade": d.grade,
                         "source": d.source})
        for r in c.harms.reports:
            for h in r.rows:
                key = {"study": h.where} if h.scope == "study" else {"population": h.where}
                rows.append({"table": "adverse_events", **key, "term": h.term, "grade": h.grade or None,
                             "source": h.source})
    rows += [{"table": "cohorts", "study": s.study} for s in c.shares]
    rows += [{"table": "studies", "study": p.study} for p in c.planned]
    return rows


def claim_findings(c: Claim, b: Brief) -> list[str]:
    """The ids of the summary-of-findings rows a claim restates."""
    def restated(f) -> bool:
        if f.effect is not None:
            return f.effect in c.effects
        return c.kind in ("single-arm", "single-arm median") and f.regimen == c.regimen and f.measure == c.measure

    return [f.id for f in b.findings if restated(f)]
