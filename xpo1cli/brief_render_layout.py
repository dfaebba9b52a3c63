"""`layout` turns the structured brief into sections of paragraphs and tables of text (the one
place where its numbers become strings), the summary of findings among them; the writers
(brief_render) only add markup."""

from __future__ import annotations

from .bottom_line import headline_pool
from .brief_model import Brief, Finding, Rate
from .brief_render_cells import (
    SECTION_TITLES,
    SOF_TITLE,
    Section,
    Table,
    arm_figure_text,
    arm_name,
    at_text,
    direction_text,
    disputed_text,
    estimate_text,
    forest_caption,
    indirect_direction,
    indirect_estimate,
    indirect_trials,
    interval_text,
    kind_note,
    median_text,
    outcome_text,
    pct,
    rate_interval,
    rate_text,
    readings_text,
    role_text,
    share_note,
    spread_text,
    statistic_text,
    where_text,
)
from .brief_render_claims import claim_text, harm_figure, harm_table
from .brief_results import summary_parts
from .brief_rules import ABSOLUTE_PER, CERTAINTY_LABEL, RULES, measure_name
from .brief_values import figure
from .findings import ArmFigure, Effect
from .indirect_brief import INDIRECT_RULE
from .render import DERIVED_NOTE, level_text
from .values import MISSING, derived

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
            comments += [disputed_text(m) for m in f.per_trial if m.disputed]
    comments += f.notes
    comments += [readings_text(r) for r in f.differing]
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
            [[r.comparison, r.statement, indirect_estimate(r), indirect_direction(r) or "no estimate", _certainty(r),
              indirect_trials(r), "; ".join(r.doubts) or ("none found" if indirect_trials(r) else "no estimate made"),
              ", ".join(r.sources)]
             for r in hta], kind="indirect",
            notes=["Cross-trial comparisons anchored on a shared comparator arm keep each trial's randomization, "
                   "not balance between trials; each uses the trials' whole randomized (ITT) populations. "
                   "'xpo1 indirect' gives every check."]))
    if published:
        out.append(Table(
            "Published comparative syntheses (as their sources report them)",
            ["comparison", "method (report)", "estimate", "direction", "certainty (reasons)", "population",
             "sources"],
            [[r.comparison, r.method or r.statement, indirect_estimate(r), indirect_direction(r) or "not stated",
              _certainty(r), indirect_trials(r) or MISSING, ", ".join(r.sources)] for r in published],
            kind="indirect"))
    return out


def _where(b: Brief, x) -> str:
    """A rate's or median's report, with its trial where the brief shows several reports of it."""
    return where_text(x.ref, x.study, x.trial if x.trial in b.several_reports else None)


def subgroup_table(b: Brief, level: float) -> Table:
    """Section 3's subgroups: each rate of a part of a study's population, as its source prints it."""
    rows = [[r.regimen or MISSING, _where(b, r), r.label + at_text(r.timepoint, ", "),
             r.within or MISSING, measure_name(r.measure), rate_text(r), rate_interval(r, level),
             ", ".join(x.source for x in (r, *r.also)),
             "; ".join(x for x in (r.audit, share_note(b.minority(r.study), b.disease) if b.minority(r.study)
                                   else "", r.note, kind_note(r),
                                   *(f"also {x.source}: {rate_text(x)}, {rate_interval(x, level)}"
                                     + (f", {kind_note(x)}" if kind_note(x) else "") for x in r.also)) if x)]
            for r in b.subgroup_rates]
    return Table("Subgroups and other parts of a study's population, as reported",
                 ["regimen", "study", "subgroup", "part of", "measure", "responders/n (%)", "interval", "source",
                  "notes"], rows, kind="response",
                 notes=["Each figure is of its subgroup only, from one study: not compared between subgroups, "
                        "not pooled and not rated (no test of interaction in the data)."])


def landmark_table(b: Brief) -> Table:
    """Section 4's landmark rates of a median outcome (the share of responders still in response at
    3, 6 and 12 months), each as its source prints it."""
    rows = [[r.regimen or MISSING, _where(b, r), r.label, measure_name(r.measure),
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

        def provenance(r: Rate, t=t) -> str:  # where a figure is read, by what its sources are
            kind = kind_note(r)
            if not kind or primary_gives(r):
                return f" ({kind})" if kind else ""
            return f" (not on {t.sources[0]}'s page; {kind.replace('from', f'from {r.source},', 1)})"

        for a in t.arms:
            figs = [f"{measure_name(r.measure)}{at_text(r.timepoint)} {rate_text(r)}{provenance(r)} [{r.source}]"
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
                notes = [r.audit or "", readings_text(r), share_note(share, b.disease) if share is not None else "",
                         kind_note(r)]
                doubt = (f" (regimen {r.regimen} as {r.source} codes it; {r.regimen_doubt[0]} names no single "
                         f"regimen: {r.regimen_doubt[1]})" if r.regimen_doubt else "")
                rows.append([g.regimen or MISSING, role_text(r.role, r.agent), _where(b, r),
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
        s[2].figures.append((fo.measure, f"Forest plot, {measure_name(fo.measure)}: {forest_caption(fo)}"))
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
    srows = [[m.regimen or MISSING, role_text(m.role, m.agent), _where(b, m), m.label,
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
