"""A Brief as the reader sees it: terminal text, Markdown, one self-contained HTML page, or JSON.

`brief_render_layout.layout` turns the structured brief into sections of paragraphs and tables of
text (the one place where its numbers become strings, with brief_render_cells and
brief_render_claims); the writers here only add markup, so the terminal, Markdown and HTML briefs
always show the same figures.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from typing import IO

from .brief_model import Brief, Citation, Finding, HarmRow, RegimenHarms, RiskDifference
from .brief_render_cells import (
    SOF_TITLE,
    SOURCES_TITLE,
    Table,
    arm_name,
    direction_text,
    forest_caption,
    indirect_direction,
    indirect_estimate,
)
from .brief_render_claims import claim_text
from .brief_render_layout import absolute_text, evidence_text, filter_text, layout, sof_groups, title_of
from .brief_rules import measure_name
from .findings import ArmFigure
from .render import level_text
from .values import DERIVED_MARK, MISSING

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
                   f"are not drawn, as they are never pooled. {forest_caption(fo)}")
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
                          "source": m.source,
                          "disputed": [{"study": x.study, "population": x.label, "median": x.median, "unit": x.unit,
                                        "source": x.source} for x in m.disputed]} for m in f.per_trial],
           "readings": [{"study": x.study, "events": x.events, "denominator": x.n, "percent": x.percent,
                         "percent_reported": x.percent_reported, "source": x.source}
                        for r in f.differing for x in (r, *r.readings)],
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
                          "estimate": indirect_estimate(r), "direction": indirect_direction(r),
                          "certainty": r.certainty, "reasons": r.reasons, "study": r.study, "sources": r.sources}
                         for r in b.indirect],
            "sections": sections,
            "evidence_as_of": ({"date": latest[0].date.text, "kind": latest[0].date.kind,
                                "sources": [c.source for c in latest]} if (latest := b.evidence_as_of) else None),
            "citations": [{"source": c.source, "text": c.text, "address": c.address,
                           "date": c.date.text if c.date else None, "date_kind": c.date.kind if c.date else None}
                          for c in b.citations]}
