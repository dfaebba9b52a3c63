"""A Brief as the reader sees it: terminal text, Markdown, or one self-contained HTML page.

`layout` turns the structured brief into sections of paragraphs and tables of text (the one place
where its numbers become strings); the three writers only add markup, so the terminal, Markdown and
HTML briefs always show the same figures.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass, field
from typing import IO

from .bottom_line import Claim, headline_pool
from .brief import (
    ABSOLUTE_PER,
    CERTAINTY_LABEL,
    LOW_REPORTING_KINDS,
    OUTCOME_CI_LEVEL,
    RULES,
    Brief,
    Citation,
    Finding,
    HarmRow,
    Median,
    Rate,
    RiskDifference,
    figure,
    level_text,
    low_reporting_kind,
    measure_name,
    pct,
    press_release,
    ratio,
    summary_parts,
)
from .findings import CONTROL as FAVOURS_CONTROL
from .findings import NEITHER, STATED, ArmFigure, Effect
from .harms import HarmReport, RegimenHarms
from .indirect_brief import INDIRECT_RULE
from .present import NO_STATUS
from .query import split_list
from .render import DERIVED_MARK, DERIVED_NOTE, MISSING, derived

CONTROL = "control arm (no XPO1 inhibitor)"
SOF_TITLE = "Summary of findings with certainty signals"
INDIRECT_TITLE = "Indirect comparisons (across trials)"
SOURCES_TITLE = "Sources"
SECTION_TITLES = ("Bottom line", "Randomized evidence", "Response evidence by regimen", "Survival", "Harms",
                  SOF_TITLE, INDIRECT_TITLE, "What is not known", SOURCES_TITLE)


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    kind: str = ""  # a class name for the HTML page
    row_kinds: list[str] = field(default_factory=list)  # per row: control, pooled, cert-low, ... or ""


@dataclass
class Section:
    number: int
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # a numbered or bulleted list
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (measure, caption) of forest plots
    notes: list[str] = field(default_factory=list)


# --- cells ----------------------------------------------------------------------------------------


def role_text(role: str | None, agent: str | None) -> str:
    if agent is None:
        return CONTROL
    return {"experimental": "experimental arm", "control": CONTROL}.get(role or "", "XPO1-inhibitor cohort")


def at_text(timepoint: str | None, sep: str = " ") -> str:
    """' at 18 months' (or ', at week 24' after a label); nothing without a time point."""
    return f"{sep}at {timepoint}" if timepoint else ""


def where_text(ref, study: str) -> str:
    return f"ref {ref} ({study})" if ref is not None else study


def kind_note(x: Rate | Median) -> str:
    """What a figure from a press release or a news report is, said beside it: '' for any other source."""
    return (f"from a {x.source_kind.removeprefix('a ')}"
            if press_release(x.source_kind) or low_reporting_kind(x.source_kind) == LOW_REPORTING_KINDS["news"]
            else "")


def share_note(share, disease: str) -> str:
    """Why a mixed cohort's figure is not the disease's evidence: its share, or who the cohort is."""
    if share.patients is not None:
        return f"not {disease} evidence: {share.patients} of {share.total} patients had {disease} [{share.source}]"
    return (f"not {disease} evidence: the number with {disease} is not stated; "
            f"{share.population or 'population not stated'} [{share.source}]")


def rate_text(r: Rate) -> str:
    """'25/40 (62.5%)' from a count (marked * when derived here), or '76.4% (no count printed)'."""
    if r.events is not None and r.n:
        mark = DERIVED_MARK if derived(r.basis) else ""
        return f"{r.events}{mark}/{r.n} ({pct(r.percent)}%)"
    if r.percent is not None:
        return f"{figure(r.percent)}% (no count printed)"
    return MISSING


def interval_text(lo, hi, computed: bool = True, suffix: str = "") -> str:
    if lo is None or hi is None:
        return MISSING
    show = pct if computed else figure
    return f"{show(lo)}–{show(hi)}{suffix}"


def rate_interval(r: Rate, level: float) -> str:
    if r.ci_basis == "exact":
        derived_from = ", computed from a derived count" if r.basis == "from percentage" else ""
        return f"{interval_text(r.ci_low, r.ci_high)} ({level_text(level)} exact{derived_from})"
    if r.ci_basis == "as reported":
        return f"{interval_text(r.ci_low, r.ci_high, computed=False)} (as reported)"
    return MISSING


def quantity(value: float, unit: str) -> str:
    """A figure with its unit, singular for exactly 1: '1 month', '2.7 months'."""
    return f"{figure(value)} {unit[:-1] if value == 1 and unit.endswith('s') else unit}"


def median_text(m: Median) -> str:
    return quantity(m.median, m.unit) if m.median is not None else MISSING


def missing_limit(note: str | None) -> str:
    """What a one-sided interval's other limit is: 'not evaluable' where the figure's note says the
    source calls it so (a median's upper limit not reached), else 'not reported'."""
    return "not evaluable" if note and "not evaluable" in note.casefold() else "not reported"


def spread_text(m: Median) -> str:
    """The CI (95%: outcomes hold 95% limits) and range as reported, in the median's unit; a
    one-sided CI says what its other limit is."""
    parts = []
    lv = level_text(OUTCOME_CI_LEVEL)
    if m.ci_low is not None or m.ci_high is not None:
        if m.ci_low is not None and m.ci_high is not None:
            parts.append(f"{lv} CI {figure(m.ci_low)}–{figure(m.ci_high)} {m.unit}")
        elif m.ci_low is not None:
            parts.append(f"{lv} CI lower limit {figure(m.ci_low)} {m.unit}, upper {missing_limit(m.note)}")
        else:
            parts.append(f"{lv} CI upper limit {figure(m.ci_high)} {m.unit}, lower {missing_limit(m.note)}")
    if m.range_low is not None and m.range_high is not None:
        parts.append(f"range {figure(m.range_low)}–{figure(m.range_high)} {m.unit}")
    elif m.range_high is not None:  # one end of the range printed: say which
        parts.append(f"longest {quantity(m.range_high, m.unit)}")
    elif m.range_low is not None:
        parts.append(f"shortest {quantity(m.range_low, m.unit)}")
    return "; ".join(parts) or MISSING


def estimate_text(f: Finding) -> str:
    if f.effect is not None:
        e = f.effect
        return (f"{statistic_text(e)}; {arm_figure_text(e.experimental)} with {arm_name(e.experimental)} vs "
                f"{arm_figure_text(e.control)} with {arm_name(e.control)}; {direction_text(e)}")
    if f.kind in ("ratio", "p only"):
        if f.statistic == "p":
            return f"p = {f.p_text}" if f.p_text else MISSING
        p = f", p = {f.p_text}" if f.p_text else ""
        ci = ratio_interval(f.ci_low, f.ci_high, f.decimals, None)
        return f"{f.statistic} {ratio(f.estimate, f.decimals)}{ci}{p}"
    lv = level_text(f.level) + " " if f.level is not None else ""
    if f.kind == "median":
        ci = ""
        note = "; ".join(f.notes)
        if f.ci_low is not None and f.ci_high is not None:
            ci = f" ({lv}CI {figure(f.ci_low)}–{figure(f.ci_high)})"
        elif f.ci_low is not None or f.ci_high is not None:
            ci = (f" ({lv}CI lower limit {figure(f.ci_low)}, upper {missing_limit(note)})" if f.ci_low is not None
                  else f" ({lv}CI upper limit {figure(f.ci_high)}, lower {missing_limit(note)})")
        return f"{figure(f.estimate)} {f.unit}{ci}"
    computed = f.kind in ("pooled proportion", "proportion")
    show = pct if computed else figure
    text = f"{show(f.estimate)}%"
    if f.ci_low is not None and f.ci_high is not None:
        text += f" ({lv}CI {interval_text(f.ci_low, f.ci_high, computed)}"
        if f.pi_low is not None and f.pi_high is not None:
            text += f"; PI {interval_text(f.pi_low, f.pi_high)}"
        text += ")"
    return text + (" pooled" if f.kind == "pooled proportion" else "")


def outcome_text(e: Effect) -> str:
    return measure_name(e.measure) + at_text(e.timepoint)


def arm_name(a: ArmFigure) -> str:
    return a.regimen or a.label


def arm_figure_text(a: ArmFigure) -> str:
    """An arm's own figure as printed: '76.4%', '21% (41 patients)', '13.93 months'; a percentage
    computed here from its count says so."""
    if a.value is None:
        return "not reported"
    if a.unit == "%":
        if a.basis == "computed":
            return f"{a.events}/{a.denominator} ({pct(a.value)}%, computed)"
        return f"{figure(a.value)}%" + (f" ({a.events} patients)" if a.events is not None else "")
    return f"{figure(a.value)} {a.unit}"


def ratio_interval(lo, hi, decimals, level: float | None) -> str:
    """' (95% CI 0.53–0.93)' with the level the source states (percent), ' (CI 0.79–1.75; level not
    stated)' where it states none, ' (no CI reported)' without limits."""
    if lo is None or hi is None:
        return " (no CI reported)"
    limits = f"{ratio(lo, decimals)}–{ratio(hi, decimals)}"
    return f" ({level:g}% CI {limits})" if level is not None else f" (CI {limits}; level not stated)"


def p_text(e: Effect) -> str:
    """'p = 0.018', or with the test the source names: 'Cox p = 0.012'."""
    return (f"{e.test} " if e.test else "") + f"p = {e.p_text}"


def statistic_text(e: Effect) -> str:
    """'HR 0.70 (95% CI 0.53–0.93), p = 0.0075' or 'Cox p = 0.012' or 'HR 0.29 (no CI reported)'."""
    if e.statistic == "p":
        return p_text(e) if e.p_text else "no p-value reported"
    ci = ratio_interval(e.ci_low, e.ci_high, e.decimals, e.ci_level)
    return f"{e.statistic} {ratio(e.estimate, e.decimals)}{ci}" + (f", {p_text(e)}" if e.p_text else "")


NO_CLEAR = "no clear difference"  # a result whose interval includes no effect, or whose p is not below 0.05


def direction_text(e: Effect) -> str:
    """Which arm the result favours, and how clearly: said the same way in every section."""
    if e.direction == NEITHER:
        return "favours neither arm (the arms' figures are equal)"
    fav = e.favoured
    if fav is None:
        return "direction not reported"
    role = "control" if e.direction == FAVOURS_CONTROL else "experimental"
    if e.basis == STATED:
        said = f"favours {arm_name(fav)} ({role}, as stated; no estimate)"
        return said if e.clear else f"{NO_CLEAR}; {said}; p ≥ 0.05"
    how = "" if e.basis == "estimate" else ", by the arms' figures"
    if e.clear is None:
        return f"favours {arm_name(fav)} ({role}{how}; no interval or p-value)"
    if not e.clear:
        why = "the interval includes no difference" if e.statistic != "p" and e.ci_low is not None else "p ≥ 0.05"
        return f"{NO_CLEAR}; point estimate favours {arm_name(fav)} ({role}{how}); {why}"
    return f"favours {arm_name(fav)} ({role}{how})"


def effect_text(e: Effect) -> str:
    """One between-arm result in a sentence: the arms' figures, the statistic, the direction."""
    x, c = e.experimental, e.control
    figures = (f"{arm_figure_text(x)} with {arm_name(x)} vs {arm_figure_text(c)} with {arm_name(c)}"
               if x.value is not None or c.value is not None else "no arm figures reported")
    return f"{outcome_text(e)} {figures} ({statistic_text(e)}; {direction_text(e)})"


def claim_rate_text(r: Rate) -> str:
    """A rate in a sentence, at the source's own precision: '32/122 (26.2%)'; a count derived here is
    marked and the printed percentage kept beside it; a percentage without a count says of how many."""
    at = at_text(r.timepoint)
    if r.events is not None and r.n:
        if not derived(r.basis):
            return f"{r.events}/{r.n} ({pct(r.percent)}%){at}"
        printed = (f"; printed {figure(r.percent_reported)}%" if r.percent_reported is not None
                   and figure(r.percent_reported) != pct(r.percent) else "")
        return f"{r.events}{DERIVED_MARK}/{r.n} ({pct(r.percent)}%{printed}){at}"
    if r.percent is not None:
        of = (f" of {r.n}" if r.n else "")
        cohort = f"; {r.enrolled} in the cohort" if r.enrolled is not None and not r.n else ""
        if r.n_unclear:
            cohort = f"; n = {r.enrolled} as printed, what the {r.enrolled} counts is not stated"
        return f"{figure(r.percent)}%{of}{at} (no count printed{cohort})"
    return MISSING


def _names(names: list[str]) -> str:
    return ", ".join(names)


def claim_text(c: Claim) -> str:
    """A bottom-line statement in words, ending with its sources."""
    return _claim_words(c) + (f" [{', '.join(c.sources)}]" if c.sources else "")


def context_parts(c: Claim, trial: str) -> list[str]:
    """Whom the trial enrolled and at which dose, where this claim is the first to name it."""
    x = c.contexts.get(trial)
    return [] if x is None else [p for p in (x.population, x.dose) if p]


def _with_context(c: Claim, trial: str, design: str | None = None) -> str:
    """'SADAL (single-arm; relapsed/refractory DLBCL; selinexor 60 mg twice weekly)'."""
    parts = ([design] if design else []) + context_parts(c, trial)
    return f"{trial} ({'; '.join(parts)})" if parts else trial


def _arms(t) -> str:
    return " vs ".join(f"{a.regimen or a.label} n = {a.n if a.n is not None else 'not stated'}" for a in t.arms)


def _claim_words(c: Claim) -> str:
    k = c.kind
    if k == "overview":
        parts = [f"{state}: {_names(names)}" for state, names in c.trials.items() if names]
        return "Randomized trials in the data, by what they report: " + "; ".join(parts) + "."
    if k == "randomized":
        t = c.trial
        worse = [e for e in c.effects if e.harm_signal]  # clear differences favouring the control arm only
        lead = ""
        if worse:
            lead = ("Harm signal: the XPO1-inhibitor arm did worse on "
                    + ", ".join(outcome_text(e) for e in worse) + ". ")
        elif c.effects and not any(e.clear for e in c.effects):
            lead = f"{NO_CLEAR.capitalize()} between arms on " + ", ".join(outcome_text(e) for e in c.effects) + ". "
        cert = f", best certainty {c.certainty}, risk of bias not assessed" if c.certainty else ""
        placed = "".join(f"; {x}" for x in context_parts(c, t.trial))
        text = (f"{lead}{t.trial} ({t.design}{placed}; {_arms(t)}{cert}): "
                + "; ".join(effect_text(e) for e in c.effects))
        text += "."
        if c.statements:
            text += " The source also says: " + "; ".join(f"{x.statement} ({x.term})" for x in c.statements) + "."
        return text
    if k == "stopped early":
        t = c.trial
        said = f" The source reports: {c.reported}." if c.reported else ""
        placed = "".join(f"; {x}" for x in context_parts(c, t.trial))
        return (f"{t.trial} ({t.design}{placed}; {_arms(t)}) stopped early; no between-arm figures are in the "
                f"data.{said}")
    if k == "randomized without statistic":
        t = c.trial
        figs = []
        for a in t.arms:
            mine = [f"{measure_name(r.measure)} {claim_rate_text(r)}" + (f" ({kind_note(r)})" if kind_note(r) else "")
                    for r in t.rates if r.cohort == a.cohort]
            mine += [f"median {m.measure} {median_text(m)}" for m in t.medians if m.cohort == a.cohort]
            if mine:
                figs.append(f"{a.regimen or a.label}: {', '.join(mine)}")
        placed = "".join(f"; {x}" for x in context_parts(c, t.trial))
        return (f"{t.trial} ({t.design}{placed}; {_arms(t)}): {'; '.join(figs)}; no between-arm statistic "
                "reported, so no direction is claimed.")
    if k == "no randomized":
        n = c.counts["studies"]
        return (f"No randomized trial of an XPO1 inhibitor in {c.disease} is in the data; the evidence is "
                f"{n} single-arm or phase 1 stud{'ies' if n != 1 else 'y'} with response figures.")
    if k == "no figures":
        return (f"No clinical response figures for an XPO1 inhibitor in {c.disease} are in the data: "
                f"{c.counts['clinical']} clinical stud{'ies' if c.counts['clinical'] != 1 else 'y'} and "
                f"{c.counts['other']} preclinical or case report{'s' if c.counts['other'] != 1 else ''} match.")
    if k == "not disease-specific":
        whole = "; ".join(
            f"{r.trial or r.study} ({r.design}; {' and '.join(split_list(r.disease))}"
            + (f") enrolled {sh.patients} patients with {c.disease} among {sh.total}"
               if sh.patients is not None else
               f"; {sh.population or 'population not stated'}) does not say how many of its patients had {c.disease}")
            + f", and its figures are of the whole cohort ({measure_name(r.measure)} with {r.regimen or MISSING} "
            f"{claim_rate_text(r)}), not of these patients"
            for r, sh in zip(c.rates, c.shares, strict=True))
        what = "efficacy" if c.counts.get("safety") else "efficacy or safety"
        lead = (f"No {what} results specific to {c.disease} are in the sources: " if not c.counts.get("own")
                else f"Not evidence for {c.disease}: ")
        return lead + whole + "."
    if k == "single-arm median":
        f = c.median

        def each(m: Median) -> str:
            trial = f.trials[f.per_trial.index(m)] if len(f.trials) == len(f.per_trial) else m.study
            text = f"{_with_context(c, trial)} {median_text(m)} in {m.label}"  # whose median: the population it is of
            text += f" (n = {m.n})" if m.n is not None else ""
            text += "".join(f", {median_text(x)} in {x.label}" for x in f.nested if x.study == m.study)
            return text + (f" ({kind_note(m)})" if kind_note(m) else "")

        text = (f"Single-arm evidence, median {measure_name(c.measure)} with {c.regimen}: "
                + "; ".join(each(m) for m in f.per_trial) + ".")
        if c.counts.get("other regimens"):
            n = c.counts["other regimens"]
            text += f" {n} other regimen{'s have' if n != 1 else ' has'} single-arm figures (section 3)."
        return text
    if k == "single-arm":
        def one(rates: list[Rate]) -> str:  # one study's figures (at each time point it gives)
            r = rates[0]
            mixed = f"; {' and '.join(r.disease.split(';'))} in one cohort" if ";" in r.disease else ""
            placed = context_parts(c, r.trial or r.study)
            mixed += "".join(f"; {x}" for x in placed)
            if r.setting is None and r.population and not placed:  # no setting stated: the population in words
                mixed += f"; {r.population}"
            if r.regimen_doubt:
                mixed += f"; coded {r.regimen} here, but {r.regimen_doubt[0]} names no single regimen (section 3)"
            figures = ", ".join(claim_rate_text(x) + (f", audit: {x.audit}" if x.audit else "")
                                + (f" ({kind_note(x)})" if kind_note(x) else "") for x in rates)
            return f"{r.trial or r.study} ({r.design}{mixed}) {figures}"

        studies: dict[str, list[Rate]] = {}
        for r in c.rates:
            studies.setdefault(r.study, []).append(r)
        each = "; ".join(one(rates) for rates in studies.values())
        text = f"Single-arm evidence, {measure_name(c.measure)} with {c.regimen}: {each}"
        if c.pooled is not None:
            p = c.pooled
            text += (f"; pooled {pct(p.estimate)}% ({level_text(p.level)} CI {pct(p.ci_low)}–{pct(p.ci_high)}%, "
                     f"{p.k} cohorts, {p.n_total} patients)")
        elif c.unpooled:
            text += f"; not pooled here: {c.unpooled}"
        text += "."
        if c.unreported:
            text += f" Not reported with {c.regimen}: {', '.join(measure_name(m) for m in c.unreported)}."
        if c.counts.get("other regimens"):
            n = c.counts["other regimens"]
            text += f" {n} other regimen{'s have' if n != 1 else ' has'} single-arm figures (section 3)."
        return text
    if k == "comparators":
        def one(r) -> str:
            est = r.estimate.split("; anchored")[0] if r.study is None else r.estimate
            how = "indirect, anchored" if r.study is None else (r.method or "published synthesis")
            if est.startswith("ranks"):  # a network's ranks: its stated finding only (the ranks are in the section)
                return f"{r.comparison} ({how}): {r.direction}"
            return f"{r.comparison}: {est}, {r.direction} ({how}; certainty {r.certainty})"
        return ("Against current options (indirect evidence only, section "
                f"{SECTION_TITLES.index(INDIRECT_TITLE) + 1}): " + "; ".join(one(r) for r in c.indirect) + ".")
    if k == "harms":
        return harms_text(c.harms, {t: context_parts(c, t) for t in c.contexts})
    if k == "no harms":
        name = f"{c.regimen} ({c.regimen_name})" if c.regimen_name else c.regimen
        if c.counts.get("elsewhere"):
            return (f"No adverse-event figures for {name} in this brief's studies; studies of other diseases "
                    f"report some (xpo1 toxicity --regimen {c.regimen}).")
        return (f"No adverse-event figures for {name} in the sources"
                + (": its events are named without rates." if c.counts.get("named") else "."))
    if k == "planned":
        items = [f"{p.trial} ({p.design}{', ' + p.regimen if p.regimen else ''}; "
                 + "".join(f"{x}; " for x in context_parts(c, p.trial)) + f"{p.status or NO_STATUS})"
                 for p in c.planned]
        return "Not evidence yet, no results in the data (planned or ongoing): " + "; ".join(items) + "."
    raise ValueError(f"unknown claim kind {k!r}")


def grade_text(grade: str | None) -> str:
    """An adverse event's grade as a reader says it: 'grade 3-4', 'any grade', 'grade not stated'."""
    if not grade:
        return "grade not stated"
    return "any grade" if grade == "all" else f"grade {grade}"


def harm_figure(h: HarmRow) -> str:
    """A harm row's figure: '59%', '67% (14/21)', '5 patients', 'no rate given'."""
    count = (f"{h.count}/{h.n}" if h.count is not None and h.n is not None
             else f"{h.count} patient{'s' if h.count != 1 else ''}" if h.count is not None else None)
    if h.percent is not None:
        computed = " computed" if h.percent_basis == "computed" else ""
        return f"{figure(h.percent)}%{computed}" + (f" ({count})" if count and "/" in count else "")
    return count or "no rate given"


def _events(rows: list[HarmRow], graded: bool = True) -> str:
    """Events grouped by grade in their order: 'grade 3-4 thrombocytopenia 82%, anaemia 82%; grade 1-2 ...'
    (without grades: 'fatal infection 4%, serious infection 28%')."""
    groups: dict[str, list[str]] = {}
    for h in rows:
        groups.setdefault(grade_text(h.grade) if graded else "", []).append(f"{h.term} {harm_figure(h)}")
    return "; ".join(f"{g}: {', '.join(items)}" if g else ", ".join(items) for g, items in groups.items())


def _tolerability(h: HarmRow) -> str:
    if not h.quantified:
        return f"{h.term}: {h.statement}" if h.statement else h.term
    return f"{h.term}: {harm_figure(h)}" + (f" ({h.statement})" if h.statement else "")


def harm_table(rows: list[HarmRow]) -> Table:
    """One report's adverse events as reported (grade ≥3, and other grades with a figure): whose they
    are and at which dose in the caption; a statement every row shares is a note, not a column."""
    h0 = rows[0]
    regimens = ", ".join(dict.fromkeys(h.regimen for h in rows if h.role != "control" and h.regimen)) or \
        next((h.role for h in rows if h.role), MISSING)  # a trial-level row: 'arm not stated'
    if h0.scope == "study":
        caption = f"Adverse events in {where_text(h0.ref, h0.where)} ({regimens}" + (f"; {h0.dose}" if h0.dose else "")
    else:
        caption = f"Adverse events in the {h0.where} ({regimens}, prescribing information's pooled population"
    caption += "): grade ≥3, and other grades the source gives a figure for"
    statements = {h.statement for h in rows}
    shared = statements.pop() if len(statements) == 1 else None
    column = bool(statements) or (shared is None and any(h.statement for h in rows))
    arms = any(h.role in ("control", "experimental") for h in rows)
    headers = ["event", "grade", *(["arm"] if arms else []), "patients", "%", "source",
               *(["statement"] if column else [])]
    out = []
    for h in rows:
        frac = (f"{h.count}/{h.n}" if h.count is not None and h.n is not None
                else f"{h.count}" if h.count is not None else f"of {h.n}" if h.n is not None else MISSING)
        share = (f"{figure(h.percent)}%" + (" (computed)" if h.percent_basis == "computed" else "")
                 if h.percent is not None else "not quantified")
        arm = (f"{h.regimen or MISSING} ({CONTROL})" if h.role == "control" else f"{h.regimen} (experimental arm)"
               if h.role == "experimental" else h.role or h.regimen or MISSING)
        out.append([h.term, grade_text(h.grade).removeprefix("grade "), *([arm] if arms else []), frac, share,
                    h.source, *([h.statement or ""] if column else [])])
    return Table(caption, headers, out, notes=[f"Every row: {shared}."] if shared else [], kind="harms",
                 row_kinds=["control" if h.role == "control" else "" for h in rows])


def report_text(r: HarmReport, cite: bool = True, context: list[str] | None = None) -> str:
    """One report's harms in a clause: whose figures (with the trial's population where the bottom
    line names it first: `context`), at which dose, then what it says (and its sources, where the
    statement holds more than one report)."""
    if r.scope == "study":
        who = (r.trial or r.where) + "".join(f" ({x})" for x in [*(context or []), r.report] if x)
        who += "".join(f" ({role})" for role in dict.fromkeys(h.role for h in r.rows)
                       if role not in (None, "experimental", "control"))  # 'arm not stated'
        who += f", {r.dose}" if r.dose else ""
    else:
        ns = {h.n for h in r.rows}
        who = r.where[:1].upper() + r.where[1:] + (f" (n = {ns.pop()})" if len(ns) == 1 and None not in ns
                         else " (population size not given)" if ns == {None} else "")
    if r.dose_levels:
        who += " (figures of all dose levels together: " + ", ".join(
            f"{label}{f' n = {n}' if n is not None else ''}" for label, n in r.dose_levels) + ")"
    parts = [_tolerability(h) for h in r.tolerability]
    for x, c in r.versus:  # a trial's arm figures without counts
        parts.append(f"{x.term} ({grade_text(x.grade)}) {harm_figure(x)} with {x.regimen} vs {harm_figure(c)} with "
                     f"{c.regimen} (no counts, no difference computed" + (f"; {x.statement}" if x.statement else "")
                     + ")")
    if r.serious:
        parts.append(_events(r.serious, graded=False))
    if r.severe:
        parts.append(_events(r.severe) + (f" (and {r.left['severe']} more, section 5)" if r.left.get("severe") else ""))
    if r.other:
        parts.append(_events(r.other) + (f" (and {r.left['other']} more, section 5)" if r.left.get("other") else ""))
    groups: dict[tuple, list[str]] = {}
    for h in r.named:
        groups.setdefault((grade_text(h.grade), h.statement), []).append(h.term)
    for (grade, said), terms in groups.items():
        parts.append(f"{grade}: {', '.join(terms)}, named without rates" + (f" ({said})" if said else ""))
    return f"{who}: {'; '.join(parts)}" + (f" [{', '.join(r.sources)}]" if cite else "")


def difference_text(d: RiskDifference) -> str:
    """An arm-against-arm harm in a clause, with both arms' figures and the difference's interval."""
    exp = (f"{figure(d.exp_pct)}% ({d.exp_count}/{d.exp_n})" if d.exp_pct is not None else f"{d.exp_count}/{d.exp_n}")
    ctl = (f"{figure(d.ctl_pct)}% ({d.ctl_count}/{d.ctl_n})" if d.ctl_pct is not None else f"{d.ctl_count}/{d.ctl_n}")
    more = "more" if (d.difference or 0) > 0 else "fewer"
    return (f"{grade_text(d.grade)} {d.term} {exp} in the {d.experimental} vs {ctl} in the {d.control}, "
            f"{figure(abs(d.difference))} percentage points {more} ({level_text(d.level)} CI of the difference "
            f"{figure(d.ci_low)} to "
            f"{figure(d.ci_high)})")


def harms_text(p: RegimenHarms, contexts: dict[str, list[str]] | None = None) -> str:
    """One regimen's harms bullet: its randomized differences, then each report's figures (a trial
    the bottom line names here first with its population: `contexts`, trial -> its words)."""
    parts = []
    trials = list(dict.fromkeys(d.trial for d in [*p.clear, *p.unclear]))
    for t in trials:
        clear = [difference_text(d) for d in p.clear if d.trial == t]
        unclear = [f"{grade_text(d.grade)} {d.term}" for d in p.unclear if d.trial == t]
        text = f"{t}: " + "; ".join(clear) if clear else f"{t}:"
        if unclear:
            lv = level_text(next(d.level for d in p.unclear if d.trial == t))
            text += ("; " if clear else " ") + f"no clear difference ({lv} CI includes 0) in " + ", ".join(unclear)
        parts.append(text)
    left = dict(contexts or {})  # a trial's population with its first report only
    parts += [report_text(r, cite=len(p.sources) > 1, context=left.pop(r.trial or r.where, None))
              for r in p.reports]
    if p.elsewhere:
        parts.append(f"Section 5 also gives {', '.join(p.elsewhere)}" if parts else
                     f"no figure of grade ≥3 or serious events, discontinuation or dose changes; section 5 "
                     f"gives {', '.join(p.elsewhere)}")
    lead = (f"Harms with {p.regimen}" + (f" ({p.name})" if p.name else "") + ": " if p.regimen
            else "Harms reported without a regimen or arm named: ")
    return lead + ". ".join(parts) + "."


# --- summary of findings, the GRADE way: one table per comparison --------------------------------------

MAX_CRITICAL = 7  # outcomes in one summary-of-findings table
SOF_HEADERS = ["outcome", "relative effect (CI)", "anticipated absolute effects", "participants (trials)",
               "certainty (reasons)", "comments", "sources"]


def sof_groups(b: Brief) -> list[tuple[str, list[Finding]]]:
    """Each randomized comparison's table, its subgroups' table, then each regimen's single-arm table;
    rows in the order of the disease's critical outcomes, at most seven (adverse events compared between
    arms after them)."""
    rank = {c.measure: c.rank for c in b.critical}

    def order(f: Finding) -> tuple:  # a trial's own row (a pool refused): the most patients first
        return (rank.get(f.measure, 99), measure_name(f.measure) if f.trial else f.outcome,
                -(f.patients or 0) if f.trial else 0, f.outcome)

    out: list[tuple[str, list[Finding]]] = []
    seen: list[str] = []
    for f in b.findings:
        if f.regimen not in seen:
            seen.append(f.regimen)
    for regimen in seen:
        rows = [f for f in b.findings if f.regimen == regimen]
        overall = sorted([f for f in rows if not f.subgroup], key=order)
        kept = list(dict.fromkeys(f.measure for f in overall))[:MAX_CRITICAL]  # outcomes, not rows (a row per trial)
        overall = [f for f in overall if f.measure in kept]
        subgroups = [f for f in rows if f.subgroup]
        if rows[0].effect is not None:
            trial = rows[0].trials[0] if rows[0].trials else regimen
            name = regimen.split(" (")[0]
            out.append((f"Summary of findings: {name} (randomized, {trial})", overall))
            if subgroups:
                out.append((f"Subgroups of {trial}: one trial's subgroups, rated down for credibility and never "
                            "above the overall result", subgroups))
        else:
            out.append((f"Summary of findings: {regimen}, single-arm evidence (no control group)", overall))
    return out


def _per_1000(value: float | None) -> str:
    return f"{round(value * ABSOLUTE_PER / 100):d} per {ABSOLUTE_PER}"


def absolute_text(f: Finding) -> str:
    """Risk with the control and with the intervention per 1,000 where the arms give rates, else why not."""
    e = f.effect
    if e is None:
        return estimate_text(f) if f.kind != "median" else "; ".join(
            f"{m.study}" + (f", {m.label}" if m.within else "") + f": {median_text(m)}"
            + (f" ({m.participants_text})" if m.n is not None or m.responder_only else "") for m in f.per_trial)
    x, c = e.experimental, e.control
    if x.unit == "%" and c.unit == "%" and x.value is not None and c.value is not None:
        return (f"{_per_1000(c.value)} with {arm_name(c)}; {_per_1000(x.value)} with {arm_name(x)} "
                "(from the arms' figures)")
    if x.unit in ("months", "weeks") and x.value is not None and c.value is not None:
        return "not estimable as risks: the arms report medians"
    return "not estimable: no arm figures in the data"


def sof_row(f: Finding) -> list[str]:
    patients = f.patients if f.patients is not None else "not stated"
    if f.patients_unclear:
        patients = f"{patients} as printed (what the {patients} counts is not stated)"
    trials = f"{patients} ({f.studies} trial{'s' if f.studies != 1 else ''})"
    reasons = "; ".join(f"{m.rule}: {m.reason}" for m in f.moves)
    cert = f.rating + (f" ({reasons})" if reasons else "")
    comments = []
    if f.effect is not None:
        e = f.effect
        comments.append(direction_text(e))
        if e.arm_a.value is not None or e.arm_b.value is not None:
            whose = {a.source for a in (e.arm_a, e.arm_b) if a.source} - {e.source}  # the arms' own report
            comments.append(f"{arm_figure_text(e.experimental)} with {arm_name(e.experimental)} vs "
                            f"{arm_figure_text(e.control)} with {arm_name(e.control)}"
                            + (f" [{', '.join(sorted(whose))}]" if whose else ""))
        relative = statistic_text(e) if e.statistic != "p" else "not reported (p-value only: " + statistic_text(e) + ")"
        if not f.estimable:
            relative = "not estimable (neither estimate nor p-value)"
        if f.also:  # one subgroup, several reports: each result with its source and the source's kind
            def labelled(x: Effect) -> str:
                kind = f.source_kinds.get(x.source)
                return f"{statistic_text(x)} [{x.source}]" + (f" ({kind})" if kind else "")

            relative = "; ".join(labelled(x) for x in (e, *f.also))
            comments[0] = "; ".join(f"{x.source}: {direction_text(x)}" for x in (e, *f.also))
        if f.subgroup:
            comments += [f"{x.note} [{x.source}]" for x in (e, *f.also) if x.note]
    else:
        relative = "not applicable: no control group"
        if f.kind == "median":
            comments.append("medians of different trials, each its own; never pooled")
    comments += f.notes
    comments += [f"{m.label}: {median_text(m)} [{m.source}]" for m in f.nested]
    return [f.outcome, relative, absolute_text(f), trials, cert, "; ".join(comments) or MISSING,
            ", ".join(f.sources)]


# --- the layout --------------------------------------------------------------------------------------


def title_of(b: Brief) -> str:
    return f"Evidence brief: XPO1 inhibitors in {b.disease_name}"


def filter_text(b: Brief) -> str:
    f = b.filters
    words = [f"{k} {v}" for k, v in (("disease", f.disease), ("agent", f.agent), ("regimen", f.regimen),
                                      ("source", f.source)) if v]
    return (f"Selection: {', '.join(words) or 'all studies'}; {b.n_studies} "
            f"stud{'ies' if b.n_studies != 1 else 'y'} ({b.n_clinical} clinical).")


def evidence_text(b: Brief) -> str:
    """The brief's 'evidence as of' line: the latest date any source of this brief states (about
    itself or its figures: a data cut-off, a press-release date, a year in its citation), with the
    kind of date it is; never read from an address or a DOI."""
    latest = b.evidence_as_of
    if not latest:
        return ("Evidence as of: no source of this brief states a date (none is read from an address or DOI; "
                "the data hold no publication dates).")
    which = "; ".join(f"{c.source}: {c.date.kind}, printed \"{c.date.printed}\"" for c in latest)
    undated = sum(c.date is None for c in b.citations)
    return (f"Evidence as of {latest[0].date.text}: the latest date a source of this brief states ({which}); "
            "no date is read from an address or DOI"
            + (f", and {undated} of its {len(b.citations)} sources state no date." if undated else "."))


def _certainty(r) -> str:
    return r.certainty + (f" ({'; '.join(r.reasons)})" if r.reasons else "")


def indirect_tables(b: Brief) -> list[Table]:
    """Indirect comparisons: SVd against the comparators the HTA statements name (anchored, computed
    here), then the published comparative syntheses, each with its direction and certainty."""
    hta = [r for r in b.indirect if r.study is None]
    published = [r for r in b.indirect if r.study is not None]
    out = []
    if hta:
        out.append(Table(
            "SVd against the comparators NICE names (anchored on common comparators, computed here)",
            ["comparison", "HTA statement", "estimate", "direction", "certainty (reasons)", "trials, as reported",
             "reasons to doubt it", "sources"],
            [[r.comparison, r.statement, r.estimate, r.direction or "no estimate", _certainty(r), r.trials,
              "; ".join(r.doubts) or ("none found" if r.trials else "no estimate made"), ", ".join(r.sources)]
             for r in hta], kind="indirect",
            notes=["Cross-trial comparisons anchored on a shared comparator arm keep each trial's randomization, "
                   "not balance between trials; each uses the trials' whole randomized (ITT) populations. "
                   "'xpo1 indirect' gives every check."]))
    if published:
        out.append(Table(
            "Published comparative syntheses (as their sources report them)",
            ["comparison", "method (report)", "estimate", "direction", "certainty (reasons)", "population",
             "sources"],
            [[r.comparison, r.method or r.statement, r.estimate, r.direction or "not stated", _certainty(r),
              r.trials or MISSING, ", ".join(r.sources)] for r in published], kind="indirect"))
    return out


def subgroup_table(b: Brief, level: float) -> Table:
    """Section 3's subgroups: each rate of a part of a study's population, as its source prints it."""
    rows = [[r.regimen or MISSING, where_text(r.ref, r.study), r.label + at_text(r.timepoint, ", "),
             r.within or MISSING, measure_name(r.measure), rate_text(r), rate_interval(r, level), r.source,
             "; ".join(x for x in (r.audit, r.note, kind_note(r)) if x)] for r in b.subgroup_rates]
    return Table("Subgroups and other parts of a study's population, as reported",
                 ["regimen", "study", "subgroup", "part of", "measure", "responders/n (%)", "interval", "source",
                  "notes"], rows, kind="response",
                 notes=["Each figure is of its subgroup only, from one study: not compared between subgroups, "
                        "not pooled and not rated (no test of interaction in the data)."])


def landmark_table(b: Brief) -> Table:
    """Section 4's landmark rates of a median outcome (the share of responders still in response at
    3, 6 and 12 months), each as its source prints it."""
    rows = [[r.regimen or MISSING, where_text(r.ref, r.study), r.label, measure_name(r.measure),
             r.timepoint or MISSING, rate_text(r), r.source, "; ".join(x for x in (r.note, kind_note(r)) if x)]
            for r in b.landmark_rates]
    return Table("Landmark rates of a time-to-event outcome, as reported",
                 ["regimen", "study", "population", "measure", "at", "share (%)", "source", "notes"], rows,
                 kind="survival")


def layout(b: Brief, level: float = 0.95) -> list[Section]:
    """The brief as nine sections of text, tables and notes."""
    lv = level_text(level)
    s = [Section(i + 1, t) for i, t in enumerate(SECTION_TITLES)]

    # 1 bottom line
    s[0].items = [claim_text(x) for x in b.bottom_line]
    s[0].notes = ["Sentences generated from the figures below; each ends with its sources in brackets. Randomized "
                  "results come first: trials with a clear difference (a harm included) first, then highest "
                  "certainty first; a result favouring the control arm is a harm signal. Single-arm figures are "
                  "each study's own; a pool is stated only where it mixes no "
                  "diseases, populations or designs and is not a pool of two with heterogeneous results."]
    if any(r.events is not None and derived(r.basis) for c in b.bottom_line for r in c.rates):
        s[0].notes.append(DERIVED_NOTE)

    # 2 randomized evidence
    if not b.randomized:
        s[1].paragraphs = ["No randomized trial in this selection."]
    summaries = [m for m in b.rate_measures if summary_parts(m)]  # response summaries: said where not reported
    for t in b.randomized:
        arms = []
        unreported = [m for m in summaries if not any(r.measure == m for r in t.rates)]

        def primary_gives(r: Rate, t=t) -> bool:  # the trial's primary report gives this measure too
            return any(x.measure == r.measure and x.source == t.sources[0] for x in t.rates)

        for a in t.arms:
            figs = [f"{measure_name(r.measure)}{at_text(r.timepoint)} {rate_text(r)}"
                    + (f" ({kind_note(r)}"
                       + ("" if primary_gives(r) else f"; not in the primary report [{t.sources[0]}]") + ")"
                       if kind_note(r) else "") + f" [{r.source}]"
                    for r in t.rates if r.cohort == a.cohort]
            if figs or t.medians:
                figs += [f"{measure_name(m)} not reported" for m in unreported]
            figs += [f"median {m.measure} {median_text(m)}"
                     + (f" ({spread_text(m)})" if spread_text(m) != MISSING else "") + f" [{m.source}]"
                     for m in t.medians if m.cohort == a.cohort and m.measure in ("PFS", "OS")]
            arms.append([a.label, a.regimen or MISSING, role_text(a.role, a.agent),
                         str(a.n) if a.n is not None else "not stated", "; ".join(figs) or MISSING, a.source])
        def side(x: Effect, a: ArmFigure) -> str:
            cite = f" [{a.source}]" if a.source and a.source != x.source else ""
            return f"{arm_name(a)}: {arm_figure_text(a)}{cite}"

        whole = [x for x in t.effects if x.subgroup is None]  # subgroups: once, in the summary of findings
        stats = [[f"{arm_name(x.arm_a)} vs {arm_name(x.arm_b)}", outcome_text(x), side(x, x.experimental),
                  side(x, x.control), statistic_text(x), direction_text(x), x.source, x.note or ""] for x in whole]
        sub = [m for m in t.medians if m.cohort not in {a.cohort for a in t.arms}]
        s[1].tables.append(Table(f"{t.trial}: {t.design} ({t.study})",
                                 ["arm", "regimen", "role", "n randomized", "figures per arm, as reported", "source"],
                                 arms, kind="arms", row_kinds=["control" if a.control else "" for a in t.arms]))
        if stats:
            s[1].tables.append(Table(f"{t.trial}: between arms, as reported",
                                     ["comparison", "outcome", "experimental arm", "control arm", "statistic",
                                      "favours", "source", "note"],
                                     stats, kind="stats",
                                     row_kinds=["harm" if x.harm_signal else "" for x in whole],
                                     notes=[f"Subgroup results ({len({x.subgroup for x in t.effects} - {None})} "
                                            "subgroups): one row per subgroup in the summary of findings (section "
                                            f"{SECTION_TITLES.index(SOF_TITLE) + 1})."]
                                     if len(whole) < len(t.effects) else []))
        if sub:
            s[1].tables.append(Table(f"{t.trial}: subgroups, as reported",
                                     ["population", "outcome", "median", "source", "note"],
                                     [[m.label, m.measure, median_text(m), m.source, m.note or ""] for m in sub],
                                     kind="sub"))
    if b.randomized:
        s[1].notes = ["Estimates, intervals and p-values as the sources print them (with their decimals); the "
                      "interval's level is the source's. Control arms receive no XPO1 inhibitor."]

    # 3 response
    derived_seen = False
    for measure in dict.fromkeys(g.measure for g in b.response):
        rows, kinds, cautions = [], [], []
        for g in (g for g in b.response if g.measure == measure):
            kinds += ["control" if r.control else "" for r in g.rates]
            kinds += ["pooled"] if g.pooled is not None else []
            for r in g.rates:
                derived_seen |= r.events is not None and derived(r.basis)
                share = b.minority(r.study)
                notes = [r.audit or "", share_note(share, b.disease) if share is not None else "", kind_note(r)]
                doubt = (f" (regimen {r.regimen} as {r.source} codes it; {r.regimen_doubt[0]} names no single "
                         f"regimen: {r.regimen_doubt[1]})" if r.regimen_doubt else "")
                rows.append([g.regimen or MISSING, role_text(r.role, r.agent), where_text(r.ref, r.study),
                             r.label + at_text(r.timepoint, ", ") + doubt, r.design, rate_text(r),
                             rate_interval(r, level), r.source, "; ".join(n for n in notes if n)])
            if g.pooled is not None and (why := headline_pool(g)):  # a pool the brief refuses: no figure
                p = g.pooled
                rows.append([g.regimen or MISSING, "XPO1-inhibitor cohorts, not pooled", f"k = {p.k}",
                             f"{p.n_total} patients", MISSING, "no pooled figure", MISSING, "–",
                             f"not pooled: {why}; each cohort is its own row above"])
            elif g.pooled is not None:
                p = g.pooled
                pi = (f"; {level_text(p.level)} prediction interval {interval_text(p.pi_low, p.pi_high)}"
                      if p.pi_low is not None else "")
                rows.append([g.regimen or MISSING, "pooled XPO1-inhibitor cohorts", f"k = {p.k}",
                             f"{p.n_total} patients",
                             "random effects (DerSimonian–Laird"
                             + (", Knapp–Hartung)" if p.test == "knha" else ")"), f"{pct(p.estimate)}%",
                             f"{interval_text(p.ci_low, p.ci_high)} ({level_text(p.level)} CI){pi}",
                             "computed", f"I² {pct(p.i2)}%" + ("; see the caution below" if p.cautions else "")])
                cautions += [c for c in p.cautions if c not in cautions]
        for c in (c for c in b.printed_categories if c.measure == measure):
            kinds.append("")
            rows.append([c.regimen or MISSING, role_text(None, "XPO1 inhibitor"), where_text(c.ref, c.study),
                         c.label, c.design, "printed " + ", ".join(f"{m} {figure(v)}%" for m, v in c.printed)
                         + (f" of {c.n}" if c.n is not None else ""), MISSING, c.source,
                         f"not counted as a rate: the printed categories conflict ({c.detail})"])
        s[2].tables.append(Table(f"{measure_name(measure)} by regimen",
                                 ["regimen", "treatment", "study", "population", "design", "responders/n (%)",
                                  "interval", "source", "audit / pooling notes"], rows, kind="response",
                                 row_kinds=kinds,
                                 notes=[f"Caution (pooled rows): {'; '.join(cautions)}."] if cautions else []))
    for fo in b.forests:
        s[2].figures.append((fo.measure, f"Forest plot, {measure_name(fo.measure)}: {fo.caption}"))
    s[2].notes = [
        f"Each cohort's interval: {lv} Clopper–Pearson exact from its count; a percentage printed without a "
        "count keeps the interval its source gives, if any.",
        "One population per trial: a study's headline population (or each arm) and a trial's primary report; "
        "pooled only where two or more independent XPO1-inhibitor cohorts share a regimen (random effects, "
        "DerSimonian–Laird, logit scale, as `xpo1 pool --by regimen`). Control arms are listed, never pooled.",
    ]
    if derived_seen:
        s[2].notes.append(DERIVED_NOTE)
    if b.subgroup_rates:
        s[2].tables.append(subgroup_table(b, level))
    for w in b.worded:  # a statement with its source, never a rate
        s[2].notes.append(f"Stated in words, without a figure (not a rate; not counted or pooled): "
                          f"{where_text(w.ref, w.study)} ({w.regimen or MISSING}; {w.population or MISSING}), "
                          f"{measure_name(w.measure)}: {w.statement} [{w.source}].")
    if not b.response:
        s[2].paragraphs = ["No response figures in this selection."]

    # 4 survival
    srows = [[m.regimen or MISSING, role_text(m.role, m.agent), where_text(m.ref, m.study), m.label,
              (m.participants_text if m.responder_only else str(m.n) if m.n is not None else MISSING),
              measure_name(m.measure), median_text(m), spread_text(m),
              m.source, "; ".join(x for x in (share_note(b.minority(m.study), b.disease) if b.minority(m.study)
                                               else "", m.note, kind_note(m),
                                               ("also " + ", ".join(m.also)) if m.also else "")
                                  if x)] for m in b.survival]
    if srows:
        s[3].tables.append(Table("Medians per regimen and arm", ["regimen", "treatment", "study", "population", "n",
                                                                 "measure", "median", "CI / range as reported",
                                                                 "source", "note"], srows, kind="survival",
                                 row_kinds=["control" if m.agent is None else "" for m in b.survival]))
        s[3].notes = ["Medians as reported, each with its unit; responder and non-responder medians are of "
                      "those subgroups only. Medians of different studies are not comparisons."]
    else:
        s[3].paragraphs = ["No survival figures in this selection."]
    if b.landmark_rates:
        s[3].paragraphs = []
        s[3].tables.append(landmark_table(b))

    # 5 harms
    if b.harm_ranges:
        s[4].tables.append(Table("Grade ≥3 events in XPO1-inhibitor arms and cohorts: range across reports of "
                                 "one regimen at one dose",
                                 ["event", "grade", "regimen", "dose (as stated)", "reports with a rate", "range",
                                  "sources"],
                                 [[h.term, h.grade, h.regimen or MISSING, h.dose or MISSING, str(h.k),
                                   (f"{figure(h.low)}%" if h.low == h.high else f"{figure(h.low)}–{figure(h.high)}%")
                                   if h.low is not None else "not quantified", ", ".join(h.sources)]
                                  for h in b.harm_ranges], kind="harm-range"))
    top: dict[tuple, float] = {}  # an event's highest figure in its report: the arms of a trial stay together
    for h in b.harms:
        key = (h.where, h.term, h.grade)
        top[key] = max(top.get(key, -1.0), h.percent if h.percent is not None else -1.0)
    events = sorted([h for h in b.harms if h.kind == "adverse_event"],  # each report's rows together
                    key=lambda h: (h.scope != "study", h.where, not h.severe, -top[(h.where, h.term, h.grade)],
                                   h.term, h.role == "control"))
    for where in dict.fromkeys(h.where for h in events):
        s[4].tables.append(harm_table([h for h in events if h.where == where]))
    said = [h for h in b.harms if h.kind != "adverse_event"]
    if said:
        s[4].tables.append(Table(
            "Dose finding and tolerability as reported (dose-limiting toxicities, maximum tolerated dose, "
            "discontinuation, dose changes)", ["what", "where", "regimen", "figure", "what the source says", "source"],
            [[h.term, where_text(h.ref, h.where), h.regimen or MISSING,
              harm_figure(h) if h.quantified else MISSING, h.statement or "", h.source] for h in said],
            kind="harms"))
    if b.risk_differences:
        s[4].tables.append(Table(
            "Arm against arm in randomized trials (risk difference, experimental minus control)",
            ["trial", "event", "grade", "experimental arm", "control arm", f"difference, points [{lv} CI]", "n",
             "source"],
            [[d.trial, d.term, d.grade,
              f"{d.experimental}: {d.exp_count}/{d.exp_n}" + (f" ({figure(d.exp_pct)}%)" if d.exp_pct is not None
                                                               else ""),
              f"{d.control}: {d.ctl_count}/{d.ctl_n}" + (f" ({figure(d.ctl_pct)}%)" if d.ctl_pct is not None
                                                          else ""),
              f"{figure(d.difference)} [{figure(d.ci_low)} to {figure(d.ci_high)}]", d.n_basis, d.source]
             for d in b.risk_differences], kind="rd"))
    if b.mitigations:
        wide = [m for m in b.mitigations if m.class_wide]
        caption = "Mitigations the sources give" + (
            f" ({'all ' if len(wide) == len(b.mitigations) else 'rows marked '}class-wide: advice for XPO1 "
            f"inhibitors in general, from no study of {b.disease_name}; not disease-specific evidence)" if wide else "")
        s[4].tables.append(Table(caption, ["measure", "for", "what the source says", "evidence", "source"],
                                 [[m.term, m.category, m.statement or "",
                                   "class-wide" if m.class_wide else f"study {m.study}", m.source]
                                  for m in b.mitigations], kind="mitigation"))
    s[4].notes = ([f"Risk differences with a {lv} Newcombe interval (as `xpo1 toxicity --arms`)."]
                  if b.risk_differences else []) + \
        (["Percentages as printed, else computed from the count."] if b.harms else []) + \
        (["Label rows are the prescribing information's pooled populations."]
         if any(h.scope == "label" for h in b.harms) else [])
    if not (b.harms or b.risk_differences):
        s[4].paragraphs = ["No adverse-event figures in this selection."]

    # 6 summary of findings
    s[5].paragraphs = [f"Certainty: {CERTAINTY_LABEL}."]
    s[5].items = [f"{name}: {text}" for name, text in RULES]
    for caption, rows in sof_groups(b):
        related = list(dict.fromkeys(x for f in rows for x in f.related))
        s[5].tables.append(Table(caption, SOF_HEADERS, [sof_row(f) for f in rows], kind="sof",
                                 row_kinds=["cert-" + f.rating.replace(" ", "-") for f in rows],
                                 notes=[x[0].upper() + x[1:] + "." for x in related]))
    if not b.findings:
        s[5].paragraphs.append(f"No finding to rate: no figures of {b.disease_name} patients in this selection"
                               + (" (mixed cohorts in which it is a minority are not its evidence)."
                                  if any(b.minority(st) for st in b.shares) else "."))
    s[5].notes = ["PI: prediction interval. Pooled estimates and exact intervals are computed here; every "
                  "other figure is as the source prints it."]

    # 7 indirect comparisons: across trials, never randomized evidence
    s[6].tables = indirect_tables(b)
    if b.indirect:
        s[6].paragraphs = [f"Certainty: {INDIRECT_RULE}"]
    else:
        s[6].paragraphs = ["No indirect comparison in this selection."]

    # 8 what is not known
    s[7].tables.append(Table("Gaps", ["kind", "about", "detail", "sources"],
                             [[g.kind, g.subject, g.detail, ", ".join(g.sources) or MISSING] for g in b.gaps],
                             kind="gaps"))

    # 9 sources
    s[8].items = [c.text for c in b.citations]
    return s


# --- writers ------------------------------------------------------------------------------------------


def markdown(b: Brief, level: float = 0.95) -> str:
    from .render import github_table, markdown_cell, markdown_cells, markdown_text

    out = [f"# {markdown_text(title_of(b))}", "", markdown_text(filter_text(b)), "", markdown_text(evidence_text(b)),
           ""]
    for sec in layout(b, level):
        out += [f"## {sec.number} {sec.title}", ""]
        out += [markdown_text(p) + "\n" for p in sec.paragraphs]
        if sec.items:
            out += [f"{i}. {markdown_cell(x)}" if sec.title != SOF_TITLE else f"- {markdown_cell(x)}"
                    for i, x in enumerate(sec.items, 1)] + [""]
        for t in sec.tables:
            out += [f"**{markdown_cell(t.caption)}**", ""]
            out.append(github_table(markdown_cells(t.rows), [markdown_cell(h) for h in t.headers]))
            out.append("")
            out += [f"> {markdown_cell(n)}\n" for n in t.notes]
        for measure, _ in sec.figures:
            out += [f"*Forest plot of {measure_name(measure)} by regimen: in the HTML brief (--html FILE).*", ""]
        out += [f"> {markdown_cell(n)}\n" for n in sec.notes]
    return "\n".join(out).rstrip() + "\n"


def terminal(b: Brief, fmt: str = "table", stream: IO | None = None, level: float = 0.95) -> None:
    """Plain or table text: headings, wrapped sentences, tables fitted to the terminal."""
    import pandas as pd

    from .render import _display, render, terminal_width, wrap_cell

    stream = stream or sys.stdout
    width = terminal_width(stream) or 100

    def say(text: str = "", indent: str = "") -> None:
        """text wrapped between words (a web address cut at the width), any control character in
        it written out (as tables do)."""
        lines = wrap_cell(_display(text), max(20, width - len(indent))) if text else [""]
        stream.write("\n".join(indent + x for x in lines) + "\n")

    say(title_of(b).upper() if fmt == "plain" else title_of(b))
    say(filter_text(b))
    say(evidence_text(b))
    for sec in layout(b, level):
        say()
        say(f"{sec.number} {sec.title.upper()}")
        for p in sec.paragraphs:
            say(p)
        for i, x in enumerate(sec.items, 1):
            say(f"{i}. {x}" if sec.title != SOF_TITLE else f"- {x}", "  ")
        for t in sec.tables:
            say()
            frame = pd.DataFrame(t.rows, columns=t.headers)
            render(frame, fmt, title=t.caption, notes=t.notes, stream=stream)
        for measure, _ in sec.figures:
            say()
            say(f"Forest plot of {measure_name(measure)} by regimen: in the HTML brief (--html FILE).")
        for n in sec.notes:
            say()
            say(n)


# --- HTML ---------------------------------------------------------------------------------------------

# kept short: the plotting code measures its caption word by word; the figure's caption on the page says more
FOREST_NOTE = ("Squares: cohorts, {lv} exact CI. Diamonds: random effects per regimen. Dashed: prediction "
               "interval. No control arm.")


@functools.cache
def _environment():
    """One template environment a run: --all compiles the page template once, not once a page."""
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _stamp() -> str:
    from . import __version__

    return (f"Written by xpo1 {__version__} from the dataset in use. Every figure is as its source prints it, "
            f"or computed by a named method stated beside it; {DERIVED_MARK} marks a count derived here.")


# the smallest text a reader can take on a phone: a figure is never drawn smaller (it scrolls instead)
LEAST_TEXT_PX = 9.0
_SVG_WIDTH = re.compile(r'<svg [^>]*?width="([\d.]+)pt"')
_SVG_FONT = re.compile(r"font-size: ([\d.]+)px")


def _figure_widths(svg: str) -> tuple[int, int]:
    """(natural, least) width in CSS px of a matplotlib SVG: its own size (pt at 96 px to 72 pt), and
    the width below which its smallest text would be drawn under LEAST_TEXT_PX."""
    width = float(_SVG_WIDTH.search(svg).group(1))  # pt, the unit of its viewBox and its font sizes
    smallest = min((float(x) for x in _SVG_FONT.findall(svg)), default=LEAST_TEXT_PX)
    return math.ceil(width * 96 / 72), math.ceil(width * LEAST_TEXT_PX / smallest)


def forest_figures(b: Brief, level: float = 0.95) -> list[dict]:
    """Each forest plot of the brief as inline SVG text, drawn by the code `pool --plot` uses, with
    the widths the page draws it at (never wider than drawn, never so narrow its text is unreadable)."""
    from markupsafe import Markup

    from .plot import PLOT_HINT, forest_svg, have_matplotlib

    out = []
    for i, fo in enumerate(b.forests, 1):
        title = f"{measure_name(fo.measure)} by regimen: {b.disease_name}"
        caption = (f"Forest plot, {measure_name(fo.measure)}: each XPO1-inhibitor cohort with its {level_text(level)} "
                   "Clopper–Pearson exact interval (square sized by its weight within its regimen); control arms "
                   f"are not drawn, as they are never pooled. {fo.caption}")
        if not have_matplotlib():
            out.append({"svg": None, "caption": caption, "missing": f"Forest plot not drawn: {PLOT_HINT}."})
            continue
        svg = forest_svg(fo.frame, title, FOREST_NOTE.format(lv=level_text(level)), prefix=f"f{i}", guide=False)
        svg = svg.replace("'DejaVu Sans'", "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif")
        natural, least = _figure_widths(svg)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" '
                          f'style="--natural: {natural}px; --least: {least}px" ', 1)
        out.append({"svg": Markup(svg), "caption": caption, "missing": None})
    return out


def _attr(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


_MARKER = re.compile(r"\[([^\[\]]+)\]")
_CODE = re.compile(r"`([^`<>]+)`")
_ANCHOR_ID = re.compile(r"[A-Za-z0-9][\w.-]*")
SOURCE_COLUMNS = ("source", "sources")


def source_anchors(b: Brief) -> dict[str, str]:
    """The id of each source's entry in the page's source list: 'src-B1', or 'src--3' (its place)
    for a source id that cannot be an HTML id as it is."""
    return {c.source: f"src-{c.source}" if _ANCHOR_ID.fullmatch(c.source) else f"src--{i}"
            for i, c in enumerate(b.citations, 1)}


def cited(text: str, anchors: dict[str, str], bare: bool = False):
    """text as HTML (escaped), each citation marker ('[B1]', '[B1, S2]') whose ids are all sources of
    the page linked to their entries in the source list. bare: the text may be just the ids ('B1,
    S2': a table's source column)."""
    from markupsafe import Markup, escape

    def linked(group: str):
        ids = group.split(", ")
        if not all(i in anchors for i in ids):
            return None
        return Markup(", ").join(Markup('<a href="#{}">{}</a>').format(anchors[i], i) for i in ids)

    if bare and (whole := linked(text)) is not None:
        return whole
    parts, at = [], 0
    for m in _MARKER.finditer(text):
        if (ids := linked(m.group(1))) is not None:
            parts += [escape(text[at:m.start()]), Markup("["), ids, Markup("]")]
            at = m.end()
    html = Markup("").join([*parts, escape(text[at:])]) if parts else escape(text)
    # a command in backticks ('`xpo1 pool --by regimen`') as code; never across a link's markup
    return Markup(_CODE.sub(r"<code>\1</code>", str(html))) if "`" in html else html


def _source_entry(c: Citation) -> list[dict]:
    """A source list entry as parts of text and links: the citation as `xpo1 cite` prints it, its DOI
    as a https://doi.org/ link and its address as a link where render.link_target allows one (else
    shown as text)."""
    from .render import link_target

    targets = {}  # the text as cite prints it -> (the text shown, the link or None)
    if c.doi:
        doi = link_target(f"doi:{c.doi}")
        targets[f"doi:{c.doi}"] = (doi or f"doi:{c.doi}", doi)
    if c.address:
        targets[c.address] = (c.address, link_target(c.address))
    if not targets:
        return [{"text": c.text, "href": None}]
    pieces = re.split("(" + "|".join(map(re.escape, sorted(targets, key=len, reverse=True))) + ")", c.text)
    parts = [{"text": x, "href": None} if i % 2 == 0 else dict(zip(("text", "href"), targets[x], strict=True))
             for i, x in enumerate(pieces)]
    return [x for x in parts if x["text"]]


def _table(t: Table, number: int, index: int, anchors: dict[str, str]) -> dict:
    """A table of the page: its cells as HTML with citation markers linked, the first as the row's
    header."""
    bare = [h in SOURCE_COLUMNS for h in t.headers]
    return {"id": f"t{number}-{index}", "caption": t.caption, "kind": t.kind, "headers": t.headers,
            "rows": [[cited(c, anchors, bare[i]) for i, c in enumerate(row)] for row in t.rows],
            "row_kinds": t.row_kinds, "notes": [cited(n, anchors) for n in t.notes], "columns": len(t.headers)}


def html_page(b: Brief, level: float = 0.95) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched."""
    sections = layout(b, level)
    figures = forest_figures(b, level)
    anchors = source_anchors(b)
    context = []
    for sec in sections:
        if sec.title == SOURCES_TITLE:
            items = [{"anchor": anchors[c.source], "parts": _source_entry(c)} for c in b.citations]
        else:
            items = [cited(x, anchors) for x in sec.items]
        figs = figures if sec.number == 3 else []
        context.append({"number": sec.number, "title": sec.title,
                        "kind": {SOF_TITLE: "sof", SOURCES_TITLE: "sources"}.get(sec.title, ""),
                        "paragraphs": [cited(x, anchors) for x in sec.paragraphs], "entries": items,
                        "tables": [_table(t, sec.number, i, anchors) for i, t in enumerate(sec.tables, 1)],
                        "figures": figs, "notes": [cited(x, anchors) for x in sec.notes]})
    return _environment().get_template("brief.html.j2").render(
        index=False, title=title_of(b), selection=filter_text(b), evidence=evidence_text(b), sections=context,
        stamp=_stamp())


def prepare_pages(ds) -> None:
    """Load, once, what every page of --all needs: the plotting, interval and template libraries
    and the dataset's derived tables (pages built in forked processes then share them)."""
    from .plot import have_matplotlib, new_figure
    from .query import arm_table, study_table
    from .stats import percent_ci
    from .views import report_differences

    if have_matplotlib():
        import matplotlib.backends.backend_svg  # noqa: F401  (the pages' figures are saved as SVG)

        new_figure()
    percent_ci(1, 2)
    _environment().get_template("brief.html.j2")
    arm_table(ds), study_table(ds), report_differences(ds, set())


def index_entry(name: str, b: Brief) -> dict:
    """One disease page's row in the index of --all."""
    return {"href": name, "name": b.disease_name, "code": b.disease or "",
            "studies": f"{b.n_studies} ({b.n_clinical})",
            "randomized": str(len(b.randomized)), "first": claim_text(b.bottom_line[0]) if b.bottom_line else MISSING}


def html_index(entries: list[dict]) -> str:
    """The index of --all: one row per disease page (see index_entry)."""
    from markupsafe import Markup, escape

    rows = [[Markup('<a href="{}">{} ({})</a>').format(p["href"], p["name"], p["code"]), p["studies"],
             p["randomized"], escape(p["first"])] for p in entries]
    pages = {"id": "t-index", "caption": "One page per disease", "kind": "index", "columns": 4, "row_kinds": [],
             "notes": [], "rows": rows,
             "headers": ["disease", "studies (clinical)", "randomized trials", "bottom line, first sentence"]}
    return _environment().get_template("brief.html.j2").render(
        index=True, title="Evidence briefs: XPO1 inhibitors by disease", selection=_stamp(), pages=pages)


# --- JSON ---------------------------------------------------------------------------------------------

JSON_SCHEMA = "xpo1-brief/1"  # the documented keys of `xpo1 brief --format json` (docs/guide.md)


def _arm_json(a: ArmFigure) -> dict:
    return {"arm": a.label, "cohort": a.cohort, "regimen": a.regimen, "role": a.role, "n": a.n, "value": a.value,
            "unit": a.unit, "events": a.events, "denominator": a.denominator, "basis": a.basis,
            "source": a.source}


def finding_json(f: Finding, table: str, level: float = 0.95) -> dict:
    """One summary-of-findings row as data (the same figures the table words)."""
    e = f.effect
    out = {"id": f.id, "table": table, "comparison": (f"{arm_name(e.experimental)} vs {arm_name(e.control)}"
                                                      if e is not None else None),
           "regimen": f.regimen.split(" (")[0], "outcome": f.outcome, "measure": f.measure,
           "timepoint": e.timepoint if e is not None else None, "subgroup": e.subgroup if e is not None else None,
           "kind": f.kind, "statistic": f.statistic, "estimate": f.estimate, "unit": f.unit,
           "interval": {"low": f.ci_low, "high": f.ci_high,
                        "level": f.level if f.ci_low is not None or f.ci_high is not None else None,
                        "as_reported": f.kind in ("ratio", "p only", "median", "percentage")},
           "test": e.test if e is not None else None,
           "decimals": f.decimals, "p": e.p_value if e is not None else None, "p_text": f.p_text,
           "direction": e.direction if e is not None else None,
           "direction_basis": e.basis if e is not None else None,
           "clear": e.clear if e is not None else None, "harm_signal": e.harm_signal if e is not None else False,
           "direction_text": direction_text(e) if e is not None else None,
           "arms": [_arm_json(a) for a in (e.experimental, e.control)] if e is not None else [],
           "per_trial": [{"study": m.study, "cohort": m.cohort, "n": m.n, "median": m.median, "unit": m.unit,
                          "source": m.source} for m in f.per_trial],
           "trials": f.trials, "reports": f.reports, "participants": f.patients,
           "participants_unclear": f.patients_unclear,
           "certainty": f.rating, "start": f.start,
           "reasons": [{"rule": m.rule, "reason": m.reason} for m in f.moves],
           "absolute_effects": absolute_text(f) if e is not None else None,
           "notes": f.notes, "related_randomized": f.related, "sources": f.sources,
           "also": [{"id": x.id, "statistic": x.statistic, "estimate": x.estimate, "ci_low": x.ci_low,
                     "ci_high": x.ci_high, "p_text": x.p_text, "direction": x.direction, "direction_basis": x.basis,
                     "source": x.source, "source_kind": f.source_kinds.get(x.source)} for x in f.also]}
    if f.kind == "pooled proportion":
        out["prediction_interval"] = {"low": f.pi_low, "high": f.pi_high}
    return out


def _harm_json(h: HarmRow) -> dict:
    return {"term": h.term, "grade": h.grade or None, "kind": h.kind, "regimen": h.regimen, "role": h.role,
            "count": h.count, "n": h.n, "percent": h.percent, "percent_basis": h.percent_basis,
            "statement": h.statement, "source": h.source}


def harms_json(p: RegimenHarms) -> dict:
    """One regimen's harms statement as data: its arm-against-arm differences and each report's rows."""
    def diff(d: RiskDifference, clear: bool) -> dict:
        return {"trial": d.trial, "term": d.term, "grade": d.grade, "clear": clear,
                "experimental": {"arm": d.experimental, "count": d.exp_count, "n": d.exp_n, "percent": d.exp_pct},
                "control": {"arm": d.control, "count": d.ctl_count, "n": d.ctl_n, "percent": d.ctl_pct},
                "difference": d.difference, "interval": {"low": d.ci_low, "high": d.ci_high, "level": d.level},
                "n_basis": d.n_basis, "source": d.source}

    return {"regimen": p.regimen, "name": p.name,
            "differences": [diff(d, True) for d in p.clear] + [diff(d, False) for d in p.unclear],
            "reports": [{"where": r.where, "scope": r.scope, "trial": r.trial, "report": r.report, "dose": r.dose,
                         "dose_levels": [{"label": lab, "n": n} for lab, n in r.dose_levels],
                         **{part: [_harm_json(h) for h in getattr(r, part)]
                            for part in ("tolerability", "serious", "severe", "other", "named")},
                         "versus": [{"experimental": _harm_json(x), "control": _harm_json(c)} for x, c in r.versus],
                         "left_out": r.left} for r in p.reports],
            "elsewhere": p.elsewhere}


def brief_json(b: Brief, level: float = 0.95) -> dict:
    """The brief as data: its findings, its bottom line traced to its rows and findings, its sections."""
    from .bottom_line import claim_findings, claim_rows

    findings = []
    for caption, rows in sof_groups(b):
        findings += [finding_json(f, caption, level) for f in rows]
    sections = [{"number": sec.number, "title": sec.title, "paragraphs": sec.paragraphs, "items": sec.items,
                 "tables": [{"caption": t.caption, "headers": t.headers, "rows": t.rows, "notes": t.notes}
                            for t in sec.tables], "notes": sec.notes} for sec in layout(b, level)]
    return {"schema": JSON_SCHEMA, "title": title_of(b), "disease": b.disease, "disease_name": b.disease_name,
            "selection": filter_text(b), "studies": b.n_studies, "clinical_studies": b.n_clinical,
            "critical_outcomes": [{"measure": c.measure, "timepoint": c.timepoint, "rank": c.rank, "name": c.name}
                                  for c in b.critical],
            "bottom_line": [{"kind": c.kind, "text": claim_text(c), "findings": claim_findings(c, b),
                             "rows": claim_rows(c), "sources": c.sources,
                             **({"harms": harms_json(c.harms)} if c.harms is not None else {})}
                            for c in b.bottom_line],
            "findings": findings,
            "indirect": [{"comparison": r.comparison, "statement": r.statement, "method": r.method,
                          "estimate": r.estimate, "direction": r.direction, "certainty": r.certainty,
                          "reasons": r.reasons, "study": r.study, "sources": r.sources} for r in b.indirect],
            "sections": sections,
            "evidence_as_of": ({"date": latest[0].date.text, "kind": latest[0].date.kind,
                                "sources": [c.source for c in latest]} if (latest := b.evidence_as_of) else None),
            "citations": [{"source": c.source, "text": c.text, "address": c.address,
                           "date": c.date.text if c.date else None, "date_kind": c.date.kind if c.date else None}
                          for c in b.citations]}
