"""What a brief does not know (gaps, related evidence left out) and the sources it cites."""

from __future__ import annotations

import re

import pandas as pd

from .brief_findings import source_kinds_of
from .brief_model import Brief, Citation, Gap
from .brief_results import disputed_medians
from .brief_rules import measure_name
from .brief_values import _str, _unique, figure, where_text_of
from .data import Dataset
from .query import Resolver, split_list
from .values import derived, row_tuples

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


def _reported_rate(o) -> str:
    """An outcome row's rate as its source gives it: the count, else the percentage of its denominator."""
    if not pd.isna(o.count) and not pd.isna(o.denominator):
        return f"{int(o.count)}/{int(o.denominator)}"
    return f"{figure(o.percent_reported)}%" + (f" of {int(o.denominator)}" if not pd.isna(o.denominator) else "")


def gaps_of(ds: Dataset, studies: pd.DataFrame, b: Brief, findings: pd.DataFrame, updates: pd.DataFrame) -> list[Gap]:
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
    for ms in disputed_medians(studies, b.survival):  # one figure two reports give for different populations
        trial, measure, value, unit = trial_of[ms[0].study], ms[0].measure, ms[0].median, ms[0].unit
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
        # a series or case report: its critical rates, labelled; not a trial's, so sections 3 and 6 leave them
        # out (never pooled or rated). A systematic review's figures are pools of trials shown elsewhere.
        own = ds.outcomes[(ds.outcomes["study"] == s.study) & ds.outcomes["measure"].isin(b.rate_measures)] \
            if s.evidence_type != "systematic review" else ds.outcomes.iloc[:0]
        figures = [f"{measure_name(o.measure)} {_reported_rate(o)} [{o.source}]" for o in row_tuples(own)
                   if not (pd.isna(o.count) and pd.isna(o.percent_reported))]
        shown_as = (f"; its figures, as reported and not a trial's (low weight: not in sections 3 or 6, never "
                    f"pooled or rated): {', '.join(figures)}" if figures else "")
        gaps.append(Gap("population", f"{s.evidence_type} only", f"{s.study}: {s.population}{shown_as}",
                        _unique([s.source, *(o.source for o in row_tuples(own))])))
    gaps += _related(ds, studies, b.disease, with_figures)
    known = set(ds.sources["source"])
    for g in gaps:  # a source a row's words name ('baseline as G16 reports it') is one of its sources
        g.sources += [x for x in dict.fromkeys(SOURCE_ID.findall(g.detail)) if x in known and x not in g.sources]
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


SOURCE_ID = re.compile(r"\b[A-Z]{1,2}\d{1,3}\b")  # a source id as a row's words name it: G16, M6
RELATED_SHOWN = 5  # trials named per related disease


def _related(ds: Dataset, studies: pd.DataFrame, code: str | None, with_figures: set) -> list[Gap]:
    """Evidence of the diseases a study enrols together with this one (AML with MDS ...), and of the
    broader diseases this one is part of (NHL for DLBCL: studies of that broader population itself),
    that this brief leaves out: each such disease's clinical studies with figures, and the brief that
    has them."""
    if code is None:
        return []
    res = Resolver(ds)
    mine = res.disease_codes(code)
    related = list(dict.fromkeys(d for v in ds.studies["disease"] for d in split_list(v)
                                 if any(x in mine for x in split_list(v)) and d not in mine))
    parents = dict(zip(ds.diseases["disease"], ds.diseases["parent"], strict=True))
    broader, d = [], parents.get(code)
    while isinstance(d, str) and d not in broader:
        broader.append(d)
        d = parents.get(d)
    names = dict(zip(ds.diseases["disease"], ds.diseases["name"], strict=True))
    shown = set(studies["study"])
    out = []
    for d in [*related, *(d for d in broader if d not in related)]:
        codes = {d} if d in broader else res.disease_codes(d)
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


def trial_report_differences(ds: Dataset, studies: set[str]) -> pd.DataFrame:
    """views.report_differences of the trials with a report among these studies, over every report of
    those trials (and no other trial: a brief of one disease reads only its own)."""
    from .views import report_differences

    trials = set(ds.studies.loc[ds.studies["study"].isin(studies), "trial"].dropna())
    reports = set(ds.studies.loc[ds.studies["trial"].isin(trials), "study"])
    return report_differences(ds, reports).reset_index(drop=True)


def cited_sources(ds: Dataset, b: Brief) -> list[Citation]:
    from .catalogue import citations, stated_dates

    used: list[str] = []
    for s in b.bottom_line:
        used += s.sources
    for t in b.randomized:
        used += t.sources
    for g in b.response:
        used += [r.source for r in g.rates]
    used += [x.source for r in [*b.subgroup_rates, *b.landmark_rates] for x in (r, *r.also)]
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
    kinds = source_kinds_of(ds)
    out = []
    for sid in dict.fromkeys(used):
        if sid in address:
            text, _ = citations(ds, sid)[0]
            out.append(Citation(sid, text, address[sid], doi[sid], dates.get(sid), kinds.get(sid) or None))
    return out
