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
