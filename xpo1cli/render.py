"""The one place that turns a frame into table / plain / markdown / csv / tsv / json / jsonl.

Machine formats carry numbers as numbers and missing values as empty (CSV) or null (JSON);
the terminal table may show a compact, human view of the same rows.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import IO

import pandas as pd

FORMATS = ("table", "plain", "markdown", "csv", "tsv", "json", "jsonl")
MISSING = "–"


def default_format(stream: IO | None = None) -> str:
    """A rich table on a terminal, CSV when piped (gh and csvkit do the same)."""
    stream = stream or sys.stdout
    return "table" if stream.isatty() else "csv"


def _plain(value):
    """A JSON-ready Python value: NA -> None, numpy scalars -> int/float/bool."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    cols = list(frame.columns)
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def cell(value) -> str:
    """A human cell: 9.0 -> '9', 27.6 -> '27.6', missing -> '–'."""
    value = _plain(value)
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.6g}"
    return str(value)


def level_text(level: float) -> str:
    """A confidence level as people write it: 0.95 -> '95%', 0.975 -> '97.5%'."""
    return f"{100 * level:.10g}%"


def as_printed(value, decimals) -> str:
    """A reported figure with the decimals its source printed: 0.7 with 2 -> '0.70'."""
    value, decimals = _plain(value), _plain(decimals)
    if value is None:
        return MISSING
    return f"{value:.{int(decimals)}f}" if decimals is not None else cell(value)


DERIVED_MARK = "*"
DERIVED_NOTE = ("* count derived here, not printed by the source (from the categories it lists, or "
                "the one whole count its percentage allows); the *_basis columns of --format csv/json "
                "say which.")


def derived(basis) -> bool:
    """Whether a count_basis says the count was derived here rather than printed."""
    basis = _plain(basis)
    return basis is not None and basis != "reported"


def fraction(k, n, pct, basis=None) -> str:
    """'25/40 (63%)' from a count, its denominator and a percentage; any of them may be missing.
    A count derived here (basis other than 'reported') is marked: '8*/84 (10%)'."""
    k, n, pct = _plain(k), _plain(n), _plain(pct)
    if k is None and pct is None:
        return MISSING
    mark = DERIVED_MARK if derived(basis) else ""
    frac = f"{cell(k)}{mark}/{cell(n)} " if k is not None and n is not None else ""
    return f"{frac}({cell(pct)}%)" if pct is not None else frac.strip()


def render(
    frame: pd.DataFrame,
    fmt: str | None = None,
    *,
    title: str | None = None,
    notes: list[str] | None = None,
    warnings: list[str] | None = None,
    view: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    stream: IO | None = None,
) -> None:
    """Write frame in fmt. `view` gives the human columns for table/plain/markdown. Notes are
    captions of a human table; warnings are too, and go to stderr with machine formats, so
    pipes get clean data and a reader still gets the caveat."""
    stream = stream or sys.stdout
    fmt = fmt or default_format(stream)
    warnings = warnings or []
    notes = [*warnings, *(notes or [])]
    if fmt in ("csv", "tsv"):
        frame.to_csv(stream, index=False, sep="," if fmt == "csv" else "\t", lineterminator="\n")
    elif fmt == "json":
        json.dump(records(frame), stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    elif fmt == "jsonl":
        for rec in records(frame):
            stream.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        shown = view(frame) if view else frame
        if fmt == "table":
            _rich_table(shown, title, notes, stream)
            return
        from tabulate import tabulate

        rows = [[cell(v) for v in row] for row in shown.itertuples(index=False, name=None)]
        tablefmt = "github" if fmt == "markdown" else "plain"
        if title:
            stream.write(f"{'## ' if fmt == 'markdown' else ''}{title}\n\n")
        stream.write(tabulate(rows, headers=list(shown.columns), tablefmt=tablefmt,
                              disable_numparse=True) + "\n")
        for n in notes:
            stream.write(f"\n{'> ' if fmt == 'markdown' else ''}{n}\n")
        return
    for w in warnings:
        sys.stderr.write(f"note: {w}\n")


def _rich_table(frame: pd.DataFrame, title, notes, stream) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream, no_color=bool(os.environ.get("NO_COLOR")) or None,
                      highlight=False, soft_wrap=False,
                      width=None if stream.isatty() else int(os.environ.get("COLUMNS", 160)))
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False, padding=(0, 1),
                  collapse_padding=True, pad_edge=False,
                  caption="\n".join(notes) if notes else None, caption_justify="left")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col].dtype)
        widest = max((len(cell(v)) for v in frame[col]), default=0)
        # nothing is ever cut off (a hidden digit is a wrong number): long cells fold, and short
        # ones (refs, n, medians, codes) keep their full width
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold",
                         min_width=max(widest, len(str(col))) if widest <= 10 else None)
    for row in frame.itertuples(index=False, name=None):
        table.add_row(*[cell(v) for v in row])
    console.print(table)


def bars(frame: pd.DataFrame, label: str, value: str, group: str | None = None,
         stream: IO | None = None, width: int = 40, unit: str = "mo") -> None:
    """A terminal bar chart: one line per row, bars scaled to the largest value, missing shown
    as 'not reported'. Unicode eighth-blocks give sub-character resolution."""
    stream = stream or sys.stdout
    values = [_plain(v) for v in frame[value]]
    top = max((v for v in values if v is not None), default=0) or 1
    labels = [str(x) for x in frame[label]]
    pad = max((len(x) for x in labels), default=0)
    blocks = " ▏▎▍▌▋▊▉█"
    last_group = None
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        if group is not None:
            g = frame[group].iloc[i]
            if g != last_group:
                stream.write(f"{g}\n")
                last_group = g
        if v is None:
            stream.write(f"  {lab:<{pad}}  not reported\n")
            continue
        eighths = round(v / top * width * 8)
        bar = "█" * (eighths // 8) + (blocks[eighths % 8] if eighths % 8 else "")
        stream.write(f"  {lab:<{pad}}  {bar} {v:g} {unit}\n")


def forest(frame: pd.DataFrame, stream: IO | None = None, width: int = 41,
           caption: str | None = None) -> None:
    """A terminal forest plot on a 0–100% axis: one line per cohort with its interval (─), point
    (■) and weight, then the pooled diamond (◆ over its interval)."""
    stream = stream or sys.stdout

    def col(pct: float) -> int:
        return min(width - 1, max(0, round(pct / 100 * (width - 1))))

    def where(r):
        return f"ref {cell(r.ref)}" if _plain(r.ref) is not None else str(r.study)

    labels = [f"{r.regimen or ''} {where(r)} {r.cohort_label}" if r.row == "cohort"
              else str(r.cohort_label) for r in frame.itertuples()]
    pad = max(len(x) for x in labels)
    header = f"{'':<{pad}}  {'events/n':>9}  {'% [CI]':<19} {'weight':>6}  "
    stream.write(header + "0%" + " " * (width - 6) + "100%\n")
    for lab, r in zip(labels, frame.itertuples(), strict=True):
        line = [" "] * width
        lo, hi, est = col(r.ci_low), col(r.ci_high), col(r.percent)
        if r.row == "cohort":
            for i in range(lo, hi + 1):
                line[i] = "─"
            line[est] = "■"
            counts = f"{r.events}/{r.n}"
        else:
            for i in range(lo, hi + 1):
                line[i] = "◇"
            line[est] = "◆"
            counts = ""
            if r.row == "random":
                stream.write(f"{'':<{pad}}  {'':>9}  {'':<19} {'':>6}  " + "┈" * width + "\n")
        ci = f"{r.percent:.1f} [{r.ci_low:.1f}–{r.ci_high:.1f}]"
        weight = f"{r.weight:.1f}%" if _plain(r.weight) is not None else ""
        stream.write(f"{lab:<{pad}}  {counts:>9}  {ci:<19} {weight:>6}  {''.join(line)}\n")
    axis = ["─"] * width
    for t in (0, 25, 50, 75, 100):
        axis[col(t)] = "┼"
    stream.write(f"{'':<{pad}}  {'':>9}  {'':<19} {'':>6}  {''.join(axis)}\n")
    if caption:
        stream.write(caption + "\n")
