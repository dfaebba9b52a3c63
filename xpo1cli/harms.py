"""The harms of each regimen a brief covers, as data: what its harms bullet states and in what order.

One profile per XPO1-inhibitor regimen with harm figures, never mixing regimens:

1. arm against arm in its randomized trials: the differences whose interval excludes no difference
   (each with both arms' figures), and the events compared whose interval includes it; an event
   the trial's between-arm results already state is not repeated;
2. each report of the regimen (a study, or a prescribing-information population), apart: what it
   says of dose finding and tolerability (dose-limiting toxicities, the maximum tolerated dose,
   discontinuation, dose changes, the authors' judgement), fatal and serious events, grade ≥3
   events, then the most frequent events of other grades; a list is cut at `MOST` items but never
   between two items of the same frequency, and what is cut is counted.

Rows that name no regimen (a label naming no drug, a trial's row naming no arm) come last, in a
profile of their own: never shown as any regimen's.

Nothing here words a sentence: brief_render does.
"""

from __future__ import annotations

import re

import pandas as pd

from .brief_model import Brief, HarmRange, HarmReport, HarmRow, Mitigation, RegimenHarms, RiskDifference
from .brief_rules import grade3
from .brief_scope import label_matches
from .brief_values import _float, _int, _str
from .data import Dataset
from .query import Filters, Resolver
from .values import missing, row_tuples, value_or_none

MOST = 4  # events named per list of one report (more where the last ones tie)
SERIOUS = re.compile(r"\b(fatal|death|deaths|serious)\b", re.I)


# what key_harms leaves to the harms section, by the part of a report that holds it
LEFT_PARTS = {"other": "other grades", "named": "events named without rates",
              "versus": "arm figures without counts"}
DEATHS = "deaths of one arm or cohort"
LABELS = "the labels' figures"


def key_harms(p: RegimenHarms) -> RegimenHarms:
    """What a bottom line repeats of a regimen's harms: its randomized differences (both arms'
    figures), and of each trial report its tolerability (discontinuation, dose changes, dose
    finding), fatal and serious events and grade ≥3 events. A label's figures only where the
    regimen has neither, and then the same parts. Deaths only arm against arm (a randomized
    difference): the deaths of one arm or cohort, with no arm to weigh them against, stay in the
    harms section. The rest (other grades, events named without rates, arm figures without counts,
    labels beside trial figures) stays there too; `elsewhere` names its kinds. Figures are never
    changed, only not repeated."""
    def kept(r: HarmReport) -> HarmReport:
        return HarmReport(where=r.where, scope=r.scope, trial=r.trial, report=r.report, dose=r.dose,
                          tolerability=list(r.tolerability), serious=[h for h in r.serious if not h.death],
                          severe=list(r.severe), dose_levels=list(r.dose_levels),
                          left={k: v for k, v in r.left.items() if k == "severe"})

    trials = [kept(r) for r in p.reports if r.scope == "study"]
    trials = [r for r in trials if r.rows]
    labels = [] if trials or p.clear or p.unclear else \
        [r for r in (kept(r) for r in p.reports if r.scope != "study") if r.rows]
    read = [r for r in p.reports if r.scope == "study" or labels]  # the reports whose parts were chosen from
    elsewhere = [LABELS] if not labels and any(r.scope != "study" for r in p.reports) else []
    elsewhere += [words for part, words in LEFT_PARTS.items() if any(getattr(r, part) for r in read)]
    elsewhere += [DEATHS] if any(h.death for r in read for h in r.serious) else []
    return RegimenHarms(p.regimen, p.name, list(p.clear), list(p.unclear), [*trials, *labels], elsewhere)


def most(rows: list[HarmRow], limit: int = MOST) -> tuple[list[HarmRow], int]:
    """The most frequent rows, at least `limit` of them and every row tying with the last; and how
    many are left out."""
    ranked = sorted(rows, key=lambda h: -(h.percent if h.percent is not None else -1))
    if len(ranked) <= limit:
        return ranked, 0
    last = ranked[limit - 1].percent
    kept = ranked[:limit] + [h for h in ranked[limit:] if h.percent == last]
    return kept, len(ranked) - len(kept)


_FILLER = frozenset({"a", "an", "at", "dose", "of", "on", "the", "with"})


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower())) - _FILLER


def unstated_dose(dose: str | None, tolerability: list[HarmRow]) -> str | None:
    """A report's dose text without the clauses (';'-separated) that one of its dose-finding or
    tolerability rows states in the same words (the maximum tolerated dose, the expansion dose):
    each said once, by the row. None when nothing is left."""
    if not dose:
        return None
    stated = [_words(f"{h.term} {h.statement or ''}") for h in tolerability]
    kept = [c.strip() for c in dose.split(";")
            if c.strip() and not any(_words(c) <= words for words in stated)]
    return "; ".join(kept) or None


def _report(rows: list[HarmRow], trial: str | None, report: str | None,
            controls: dict[tuple[str, str], HarmRow]) -> HarmReport:
    first = rows[0]
    r = HarmReport(where=first.where, scope=first.scope, trial=trial, report=report, dose=None)
    r.versus = [(h, controls[(h.term, h.grade)]) for h in rows if (h.term, h.grade) in controls]
    events = [h for h in rows if h.kind == "adverse_event" and (h.term, h.grade) not in controls]
    r.tolerability = [h for h in rows if h.kind != "adverse_event"]
    r.dose = unstated_dose(next((h.dose for h in rows if h.dose), None), r.tolerability)
    r.serious = sorted([h for h in events if h.quantified and SERIOUS.search(h.term)],
                       key=lambda h: (not re.search(r"fatal|death", h.term, re.I),
                                      -(h.percent if h.percent is not None else -1)))
    rest = [h for h in events if h not in r.serious]
    r.severe, cut = most([h for h in rest if h.severe and h.quantified])
    if cut:
        r.left["severe"] = cut
    r.other, cut = most([h for h in rest if not h.severe and h.quantified], MOST - 1)
    if cut:
        r.left["other"] = cut
    r.named = [h for h in rest if not h.quantified]
    return r


def regimen_harms(b: Brief, ds: Dataset, stated: set[tuple[str, str, str]],
                  said: set[tuple[str, str]] = frozenset()) -> list[RegimenHarms]:
    """Each XPO1-inhibitor regimen's harms, in the brief's order of regimens (randomized trials first,
    then single-arm regimens with the most patients). `stated`: (trial, term, grade) of adverse events
    the randomized results state; `said`: (study, term) of the safety statements they quote."""
    info = ds.studies.set_index("study")
    levels: dict[str, list[tuple[str, int | None]]] = {}
    for c in row_tuples(ds.cohorts, index=False):
        if c.partition == "dose level":
            levels.setdefault(c.study, []).append((c.label, value_or_none(c.n)))
    experimental = {(t.trial, a.label): a.regimen for t in b.randomized for a in t.arms if not a.control}
    order: list[str] = [a.regimen for t in b.randomized for a in t.arms if not a.control and a.regimen]
    size: dict[str, int] = {}
    for g in b.response:
        for r in g.rates:
            if not r.control and g.regimen:
                size[g.regimen] = size.get(g.regimen, 0) + (r.n or 0)
    order += sorted(size, key=lambda k: -size[k])
    order += [h.regimen for h in b.harms if h.regimen]
    order += [None] if any(h.regimen is None and h.role != "control" for h in b.harms) else []  # named by no row
    out: list[RegimenHarms] = []
    names = dict(zip(ds.regimens["regimen"], ds.regimens["name"], strict=True))
    for regimen in dict.fromkeys(order):
        p = RegimenHarms(regimen, value_or_none(names.get(regimen)))
        for d in b.risk_differences:
            if experimental.get((d.trial, d.experimental)) != regimen or (d.trial, d.term, d.grade) in stated:
                continue
            if d.ci_low is not None and d.ci_high is not None and (d.ci_low > 0 or d.ci_high < 0):
                p.clear.append(d)
            else:
                p.unclear.append(d)
        p.clear.sort(key=lambda d: -abs(d.difference or 0))
        by_where: dict[str, list[HarmRow]] = {}
        for h in b.harms:
            if h.regimen == regimen and h.role != "control" and (h.where, h.term) not in said:
                by_where.setdefault(h.where, []).append(h)
        compared = {t.study for t in b.randomized} if p.clear or p.unclear else set()
        for where, rows in by_where.items():
            # a randomized trial's arm figures are stated arm against arm above; its other rows stay
            if where in compared:
                shown = {(d.term, d.grade) for d in [*p.clear, *p.unclear]} | \
                    {(term, grade) for trial, term, grade in stated}
                rows = [h for h in rows if (h.term, h.grade) not in shown]
                if not rows:
                    continue
            study = where if rows[0].scope == "study" else None
            trial = report = None
            if study is not None and study in info.index:
                t = info.at[study, "trial"]
                trial = t if isinstance(t, str) else None
                if info.at[study, "report_role"] != "primary" and isinstance(info.at[study, "report"], str):
                    report = info.at[study, "report"]
            controls = {(h.term, h.grade): h for h in b.harms if h.where == where and h.role == "control"}
            r = _report(rows, trial, report, controls)
            if study in levels and all(h.cohort in (None, "all") for h in rows):
                r.dose_levels = levels[study]
            p.reports.append(r)
        # each trial's primary report first, then its other reports, then the labels
        p.reports.sort(key=lambda r: (r.scope != "study", r.report is not None))
        if p.clear or p.unclear or p.reports:
            out.append(p)
    return out


def harms_section(ds, studies, matched, f: Filters, code, level):
    from .toxicity import with_deaths
    from .views import of_treatment, toxicity_doses, toxicity_table

    agent = Resolver(ds).agent(f.agent) if f.agent else None
    events = with_deaths(ds, studies)  # a trial's reported deaths are its first harms
    tox = toxicity_table(ds, studies, agent=agent, source=f.source, matched=matched, events=events)
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
            if not label_matches(ds, r.population, code, r.regimen, tested):
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
    rds = risk_differences(ds, rand, level, events) if len(rand) else []
    mit = [Mitigation(term=r.term, category=r.category, statement=_str(r.statement), agent=_str(r.agent),
                      source=r.source, study=_str(r.study)) for r in row_tuples(tox) if r.kind == "mitigation"]
    return rows, harm_ranges, rds, mit


def risk_differences(ds: Dataset, studies: pd.DataFrame, level: float = 0.95,
                     events: pd.DataFrame | None = None) -> list[RiskDifference]:
    """Adverse events arm against arm in randomized trials, as `xpo1 toxicity --arms` pairs them
    (views.toxicity_arms), where both arms have an n."""
    from .views import toxicity_arms

    frame = toxicity_arms(ds, studies, level, events)
    return [RiskDifference(trial=r.trial, term=r.term, grade=r.grade, experimental=r.experimental,
                           exp_count=int(r.exp_count), exp_n=int(r.exp_n), exp_pct=_float(r.exp_pct),
                           control=r.control, ctl_count=int(r.ctl_count), ctl_n=int(r.ctl_n),
                           ctl_pct=_float(r.ctl_pct), difference=_float(r.risk_difference),
                           ci_low=_float(r.rd_ci_low), ci_high=_float(r.rd_ci_high), n_basis=r.n_basis,
                           source=r.source, level=level, study=r.study)
            for r in row_tuples(frame) if not missing(r.exp_n) and not missing(r.ctl_n)
            and not missing(r.risk_difference)]
