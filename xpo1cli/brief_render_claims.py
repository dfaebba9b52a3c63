"""The bottom line's statements (bottom_line.Claim) and the harms of each regimen
(harms.RegimenHarms) in words."""

from __future__ import annotations

from .brief_model import Claim, HarmReport, HarmRow, Median, Rate, RegimenHarms, RiskDifference
from .brief_render_cells import (
    CONTROL,
    INDIRECT_TITLE,
    NO_CLEAR,
    SECTION_TITLES,
    Table,
    claim_rate_text,
    disputed_text,
    effect_text,
    indirect_direction,
    indirect_estimate,
    kind_note,
    median_text,
    outcome_text,
    pct,
    where_text,
)
from .brief_rules import measure_name
from .brief_values import figure
from .present import NO_STATUS
from .query import split_list
from .render import level_text
from .toxicity import UNGRADED
from .values import MISSING, lead_clause


def _names(names: list[str]) -> str:
    return ", ".join(names)


def claim_text(c: Claim) -> str:
    """A bottom-line statement in words, ending with its sources."""
    return _claim_words(c) + (f" [{', '.join(c.sources)}]" if c.sources else "")


def context_parts(c: Claim, trial: str) -> list[str]:
    """Whom the trial enrolled and at which dose, where this claim is the first to name it."""
    x = c.contexts.get(trial)
    if x is None:
        return []
    return [p for p in (x.population, x.dose, f"{x.undosed} dose not stated" if x.undosed else None) if p]


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
            text += f" ({disputed_text(m)})" if m.disputed else ""
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
                mixed += f"; regimen mixed ({r.regimen_doubt[0]}; section 3)"
            notes = {kind_note(x) for x in rates}  # one kind of source for every figure: said once
            once = notes.pop() if len(notes) == 1 else ""
            figures = ", ".join(claim_rate_text(x) + (f", audit: {x.audit}" if x.audit else "")
                                + (f" ({kind_note(x)})" if kind_note(x) and not once else "") for x in rates)
            return f"{r.trial or r.study} ({r.design}{mixed}) {figures}" + (f" ({once})" if once else "")

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
        def one(r) -> str:  # one short clause: estimate and interval, direction, method, certainty
            est = indirect_estimate(r).split("; anchored")[0] if r.study is None else indirect_estimate(r)
            how = "anchored" if r.study is None else (r.method or "published synthesis").split(",")[0].split(" (")[0]
            if est.startswith("ranks"):  # a network's ranks: its stated finding only (the ranks are in the section)
                return f"{r.comparison} ({how}): {r.stated}"
            clear = r.low is not None and r.high is not None and (r.low > 1 or r.high < 1)
            way = indirect_direction(r) if clear else "no clear difference"
            return f"{r.comparison}: {est}, {way} ({how}; certainty {r.certainty})"
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
    """An adverse event's grade as a reader says it: 'grade 3-4', 'any grade', 'grade not stated';
    '' for an event no grade applies to (a death)."""
    if grade == UNGRADED:
        return ""
    if not grade:
        return "grade not stated"
    return "any grade" if grade == "all" else f"grade {grade}"


def event_text(grade: str | None, term: str) -> str:
    """An event with its grade: 'grade 3-4 fatigue', 'deaths (60 days)'."""
    return f"{grade_text(grade)} {term}".strip()


def harm_figure(h: HarmRow) -> str:
    """A harm row's figure: '59%', '67% (14/21)', '24% (47 patients)', '5 patients', 'no rate given'."""
    count = (f"{h.count}/{h.n}" if h.count is not None and h.n is not None
             else f"{h.count} patient{'s' if h.count != 1 else ''}" if h.count is not None else None)
    if h.percent is not None:
        computed = " computed" if h.percent_basis == "computed" else ""
        return f"{figure(h.percent)}%{computed}" + (f" ({count})" if count else "")
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
        grade = grade_text(h.grade).removeprefix("grade ") or UNGRADED
        out.append([h.term, grade, *([arm] if arms else []), frac, share, h.source,
                    *([h.statement or ""] if column else [])])
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
        if r.share is not None:  # the brief's disease is a minority of this study: not its evidence
            sh = r.share
            who += (f" (not {sh.disease} evidence: {lead_clause(sh.population) or 'population not stated'}; "
                    + (f"{sh.patients} of {sh.total} had {sh.disease})" if sh.patients is not None else
                       f"how many had {sh.disease} not stated)"))
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
    if r.serious:  # a death says whose it is and which arms' deaths are not stated
        parts.append(", ".join(f"{h.term} {harm_figure(h)}" + (f" in the {h.regimen} arm" if h.role == "experimental"
                                                               else "")
                               + (f" ({h.statement})" if h.grade == UNGRADED and h.statement else "")
                               for h in r.serious))
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


def _arms_text(d: RiskDifference) -> tuple[str, str]:
    exp = (f"{figure(d.exp_pct)}% ({d.exp_count}/{d.exp_n})" if d.exp_pct is not None else f"{d.exp_count}/{d.exp_n}")
    ctl = (f"{figure(d.ctl_pct)}% ({d.ctl_count}/{d.ctl_n})" if d.ctl_pct is not None else f"{d.ctl_count}/{d.ctl_n}")
    return exp, ctl


def unclear_text(d: RiskDifference) -> str:
    """An event whose between-arm interval includes no difference: its name; for deaths, the first
    harm a reader weighs, both arms' figures too."""
    if d.grade != UNGRADED:
        return event_text(d.grade, d.term)
    exp, ctl = _arms_text(d)
    return f"{d.term} {exp} in the {d.experimental} vs {ctl} in the {d.control}"


def difference_text(d: RiskDifference) -> str:
    """An arm-against-arm harm in a clause, with both arms' figures and the difference's interval."""
    exp, ctl = _arms_text(d)
    more = "more" if (d.difference or 0) > 0 else "fewer"
    return (f"{event_text(d.grade, d.term)} {exp} in the {d.experimental} vs {ctl} in the {d.control}, "
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
        unclear = [unclear_text(d) for d in p.unclear if d.trial == t]
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
