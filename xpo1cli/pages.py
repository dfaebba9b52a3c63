"""What a command prints when it is more than one table: a page of parts in the order they are
written (`Section`: a table with its title, notes and warnings; `Document`: JSON as it is; `Text`:
text as it is; `Written`: text a presentation function fits to the terminal itself; `Message`: a
line for the reader on stderr). The command line writes each part in the format
asked for (`cli.output.emit`); the words of every part are written here, never in a command."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .present import Section

if TYPE_CHECKING:
    from .api import Audit, ComparatorTrial, Reports
    from .brief import Brief

MACHINE_TABLES = ("csv", "tsv", "excel")
JSON = ("json", "jsonl")


@dataclass
class Document:
    """JSON objects written as they are: indented (indent=1) or each on one line (indent=None)."""

    objects: list
    indent: int | None = None

    def text(self) -> str:
        return "\n".join(json.dumps(o, ensure_ascii=False, indent=self.indent) for o in self.objects)


@dataclass
class Text:
    """Text written to stdout as it is (no line end added)."""

    text: str


@dataclass
class Written:
    """Text that a presentation function writes to stdout itself, fitted to the terminal's width."""

    write: Callable[[], None]


@dataclass
class Message:
    """A line for the reader on stderr: what was written, what was read."""

    text: str


def show_page(result: Reports | ComparatorTrial, fmt: str) -> list:
    """`show`: every report of a study or trial (one object per report in JSON, the outcome rows
    in CSV), or a comparator trial's design, arms, results and conflicts."""
    from .api import ComparatorTrial
    from .present import other_reports_note, show_sections
    from .render import DERIVED_NOTE, records

    if isinstance(result, ComparatorTrial):
        return _comparator_page(result.record, fmt)
    recs, found = result.records, result.studies
    if fmt in MACHINE_TABLES:
        named = [n for n in (other_reports_note(r, found) for r in recs) if n]
        return [Section(result.outcomes(), warnings=named)]
    if fmt in JSON:
        objs = [{**r["study"], **{k: records(r[k]) for k in ("cohorts", "outcomes", "comparisons",
                                                              "adverse_events", "syntheses", "other_reports")}}
                for r in recs]
        if fmt == "jsonl":
            return [Document(objs)]
        side = result.side_by_side
        return [Document([objs[0] if len(objs) == 1 else {"reports": objs, "side_by_side": records(side)}], 1)]
    parts = []
    if result.side_by_side is not None:
        parts.append(Section(result.side_by_side, f"{result.key}: {len(found)} reports side by side", [
            "≠ marks a figure that differs between reports: later reports update earlier ones; each keeps "
            "its own population and source.", DERIVED_NOTE]))
    return parts + [section for rec in recs for section in show_sections(rec, found)]


def _comparator_page(rec: dict, fmt: str) -> list:
    """`show` of a comparator trial: its results in CSV, the whole record in JSON, else its tables."""
    from .indirect_present import comparator_sections
    from .render import records

    if fmt in MACHINE_TABLES:
        return [Section(rec["results"])]
    if fmt in JSON:
        doc = {**{k: v for k, v in rec["trial"].items() if isinstance(v, str)},
               **{k: records(rec[k]) for k in ("arms", "results", "conflicts")}}
        return [Document([doc], 1 if fmt == "json" else None)]
    return [Section(frame, title, notes) for title, frame, notes in comparator_sections(rec)]


def audit_page(result: Audit, fmt: str) -> list:
    """`audit`: one table in the machine formats; for a reader, the disagreements within a
    source, the stated conflicts (when any) and the differences between reports, each explained."""
    if fmt in (*MACHINE_TABLES, *JSON):
        return [Section(result.table())]
    within, conflicts, updates = result.within, result.conflicts, result.updates
    parts = [Section(within, f"Within a source: {len(within)} finding(s)",
                     ["Rounding as printed is not a finding (25/40 printed as 63% is consistent)."])]
    if len(conflicts):
        parts.append(Section(conflicts, f"Stated conflicts: {len(conflicts)}", [
            "Readings that disagree between sources or within one, which no count can show (a dose, a "
            "ratio, a population): both are kept, neither is chosen."]))
    parts.append(Section(updates, f"Between reports of one trial: {len(updates)} difference(s)", [
        "Later reports update earlier ones (more patients, longer follow-up): read them side by side; "
        "these are not errors."]))
    return parts


def import_page(done, into: str, differences=None) -> list:
    """`import`: what was read and placed, the notes on what was not, the posted figures a
    re-import changed and, when asked for, the figures where records and publications differ."""
    from .ctgov import summary

    placed = (f"imported {len(done.records)} record(s) into {into}: {done.placed} placed in the curated "
              f"tables, {len(done.records) - done.placed} in the registry tables only")
    parts: list = [Message(placed), *(Message(f"  {line}") for line in summary(done.notes))]
    if done.replaced:
        parts.append(Message(f"{len(done.changes)} posted figure(s) changed since the last import of these records"))
        if len(done.changes):
            parts.append(Section(done.changes, "Changed since the last import"))
    if differences is not None:
        parts.append(Section(differences, "Registry against publications: figures that differ",
                             ["Both readings are kept, each with its source; neither is chosen."]))
    return parts


def brief_page(b: Brief, fmt: str | None) -> list:
    """`brief` as text: Markdown, JSON, or headings, sentences and tables fitted to the terminal
    (table or plain; by default table on a terminal, plain when piped)."""
    from .brief_render import brief_json, markdown, terminal
    from .render import default_format

    fmt = fmt or ("table" if default_format() == "table" else "plain")
    if fmt == "markdown":
        return [Text(markdown(b))]
    if fmt == "json":
        return [Document([brief_json(b)], 1)]
    return [Written(lambda: terminal(b, fmt))]


def list_page(frame) -> list:
    """`list`: one row per study or cohort, counts over denominators, and how to read them."""
    from .present import list_view
    from .render import DERIVED_NOTE

    return [Section(frame, "XPO1-inhibitor studies", [
        "ORR and depth show count/denominator (percentage as printed, else computed); 'xpo1 show REF' "
        "gives every figure with its source.", DERIVED_NOTE,
        "⚠ audit: a printed figure disagrees with its counts; 'xpo1 audit' says which."], view=list_view)]


def compare_page(result) -> list:
    """`compare`: the regimens side by side, the warnings above them and, for two regimens that
    randomized trials link, the indirect comparison to run."""
    from .present import compare_view
    from .render import DERIVED_NOTE

    codes = result.codes
    notes = [DERIVED_NOTE, "Between arms: the trial's statistics as reported by its source; nothing there is "
             "recomputed."]
    if result.linked:
        notes.append(f"Randomized trials link {codes[0]} and {codes[1]} through common comparators "
                     f"({', '.join(result.linked)}): 'xpo1 indirect {codes[0]} {codes[1]} --measure "
                     f"{result.linked[0]}' gives the anchored indirect comparison, with its checks.")
    return [Section(result.frame, f"Compare {' vs '.join(codes)}", notes, result.warnings, compare_view)]


def response_page(frame, ci: str, level: float) -> list:
    """`response`: every category by cohort, with what the intervals are and how to read the marks."""
    from .present import CUMULATIVE_MARK, response_view
    from .render import DERIVED_NOTE

    name = "Clopper–Pearson exact" if ci == "exact" else "Wilson"
    return [Section(frame, "Response", [
        f"[lo–hi]: {level:.0%} {name} interval, computed here (the review gives none). "
        "Percentages as printed. NR: not reported.", DERIVED_NOTE,
        f"{CUMULATIVE_MARK} the source prints MR, PR and VGPR rates that add up to more than 100%: "
        "read here as cumulative ('or better') rates, the summary each is (the source does not say "
        "so; see 'xpo1 audit').",
        "⚠ audit: the printed figures of this cohort disagree with each other; see 'xpo1 audit'."], view=response_view)]


def survival_page(frame, chart: bool = False, by_median: bool = False) -> list:
    """`survival`: the medians by cohort, each in its unit, as a table or drawn as bars."""
    from .present import survival_chart, survival_view

    if not chart:
        return [Section(frame, "Survival and durations", [
            "Each median, range and CI is in the unit shown beside it, as the source gives it."], view=survival_view)]
    if len(frame) == 0:
        return [Message("xpo1: no matching rows")]
    return [Written(lambda: survival_chart(frame, by_median=by_median))]


ARM_NOTES = ["Risk difference: experimental minus control, percentage points, with a 95% Newcombe "
             "interval, computed here. n_basis says where an arm's n comes from when the source "
             "gives no denominator for the event."]


def toxicity_page(harms, arms_only: bool = False) -> list:
    """`toxicity`: the findings with their scope, then the adverse events arm against arm of
    randomized trials (when asked for, or when there are any)."""
    from .present import arms_view, no_regimen_note, toxicity_view

    parts = []
    if harms.findings is not None:
        parts.append(Section(harms.findings, "Toxicity and safety", [
            "scope: class = all XPO1 inhibitors; agent = one drug; study = one study's finding; "
            "label = the prescribing information's pooled populations. 'not quantified' means the "
            "source names the event without a rate."], no_regimen_note(harms.findings.attrs.get("no_regimen", 0)),
            toxicity_view))
    if harms.arms is not None and (arms_only or len(harms.arms)):
        parts.append(Section(harms.arms, "Adverse events, arm against arm", ARM_NOTES, view=arms_view))
    return parts
