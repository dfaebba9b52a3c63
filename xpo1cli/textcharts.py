"""Charts drawn in text on the terminal, within its width: bars of medians, the forest plot of a
pool and its leave-one-out table (the tables themselves: `render`).
"""

from __future__ import annotations

import sys
from typing import IO

import pandas as pd

from .render import _display, table, terminal_width, wrap_cell, wrap_words
from .values import DERIVED_MARK, cell, derived, row_tuples, value_or_none


def bars(frame: pd.DataFrame, label: str, value: str, group: str | None = None,
         stream: IO | None = None, width: int = 40, unit: str = "mo",
         columns: int | None = None) -> None:
    """A terminal bar chart: one line per row, bars scaled to the largest value, missing shown
    as 'not reported'. Unicode eighth-blocks give sub-character resolution. The chart fits in
    `columns` (default: the terminal's width): bars shrink first; when even a short bar leaves
    no room, each label goes on its own lines above its bar, broken between words. Labels and
    figures are never cut."""
    from rich.cells import cell_len

    stream = stream or sys.stdout
    columns = columns or terminal_width(stream)
    values = [value_or_none(v) for v in frame[value]]
    top = max((v for v in values if v is not None), default=0) or 1
    labels = [_display(str(x)) for x in frame[label]]
    pad = max((cell_len(x) for x in labels), default=0)
    figures = max((len(f" {v:g} {unit}") for v in values if v is not None), default=0)
    beside = True
    if columns is not None and 2 + pad + 2 + width + figures > columns:
        if columns - (2 + pad + 2 + figures) >= 10:
            width = columns - (2 + pad + 2 + figures)
        else:
            beside, width = False, max(10, columns - 4 - figures)
    blocks = " ▏▎▍▌▋▊▉█"
    last_group = None
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        if group is not None:
            g = frame[group].iloc[i]
            if g != last_group:
                stream.write(f"{_display(str(g))}\n")
                last_group = g
        head = f"  {lab}{' ' * (pad - cell_len(lab))}  "
        if not beside:  # the label on lines of its own, broken between words to fit
            for line in wrap_words(lab, max(10, columns - 2)):
                stream.write(f"  {line}\n")
            head = "    "
        if v is None:
            stream.write(f"{head}not reported\n")
            continue
        eighths = round(v / top * width * 8)
        bar = "█" * (eighths // 8) + (blocks[eighths % 8] if eighths % 8 else "")
        stream.write(f"{head}{bar} {v:g} {unit}\n")


def forest(frame: pd.DataFrame, stream: IO | None = None, width: int = 41,
           caption: str | None = None, columns: int | None = None) -> None:
    """A terminal forest plot on a 0–100% axis: one line per cohort with its interval (─), point
    (■) and weight, then the pooled diamond (◆ over its interval) and, under a random-effects
    diamond, its prediction interval (╌). Rows with a `subgroup` come under its heading, each
    subgroup with its own diamond. The plot fits in `columns` (default: the terminal's width):
    the axis shrinks first (to 21 columns); when the labels still leave no room, each goes on
    its own line above its figures. Nothing is cut."""
    from rich.cells import cell_len

    stream = stream or sys.stdout
    columns = columns or terminal_width(stream)
    # a test row has no interval to draw; a 'not pooled' row says why its subgroup has no diamond
    frame = frame[frame["row"].isin(("cohort", "random", "common", "not pooled"))]
    subgroups = [value_or_none(getattr(r, "subgroup", None)) for r in row_tuples(frame)]
    indent = "  " if any(g is not None for g in subgroups) else ""

    def where(r):
        return f"ref {cell(r.ref)}" if value_or_none(r.ref) is not None else str(r.study)

    def label(r, sub):
        if r.row == "cohort":
            text = f"{r.regimen or ''} {where(r)} {r.cohort_label}"
        elif sub is not None:
            text = str(r.cohort_label).removeprefix(f"{sub}: ")
        else:
            text = str(r.cohort_label)
        return _display((indent if sub is not None else "") + text)

    labels = [label(r, g) for r, g in zip(row_tuples(frame), subgroups, strict=True)]
    has_pi = [r.row == "random" and value_or_none(getattr(r, "pi_low", None)) is not None for r in row_tuples(frame)]
    pi_label = "prediction interval"
    pad = max([cell_len(x) for x, r in zip(labels, row_tuples(frame), strict=True) if r.row != "not pooled"]
              + [cell_len(indent + pi_label) if any(has_pi) else 0])
    figures = 2 + 9 + 2 + 19 + 1 + 6 + 2  # the columns between a label and the axis
    beside, below, narrowed = True, False, columns is not None and pad + figures + width > columns
    if narrowed:
        if columns - pad - figures >= 21:
            width = columns - pad - figures
        elif columns - figures >= 11:
            beside, pad = False, 0
            width = min(width, columns - figures)
        else:  # the figures on a line of their own, the bar on the next
            beside, below, pad = False, True, 0
            width = max(11, min(width, columns - 2))

    def col(pct: float) -> int:
        return min(width - 1, max(0, round(pct / 100 * (width - 1))))

    def write(lab, counts, ci, weight, line):
        if beside:
            stream.write(f"{lab}{' ' * (pad - cell_len(lab))}  ")
        else:
            stream.write("\n".join(wrap_cell(lab, columns)) + "\n  ")
        if below:
            stream.write(f"{counts:>9}  {ci:<19} {weight:>6}".rstrip() + f"\n  {''.join(line)}\n")
        else:
            stream.write(f"{counts:>9}  {ci:<19} {weight:>6}  {''.join(line)}\n")

    blank = "  " if below else f"{'':<{pad}}  {'':>9}  {'':<19} {'':>6}  "
    scale = "0%" + " " * (width - 6) + "100%"
    if below:
        stream.write(f"  {'events/n':>9}  {'% [CI]':<19} {'weight':>6}\n  {scale}\n")
    else:
        stream.write(f"{'':<{pad}}  {'events/n':>9}  {'% [CI]':<19} {'weight':>6}  {scale}\n")
    heading = None
    for lab, r, sub, pi in zip(labels, row_tuples(frame), subgroups, has_pi, strict=True):
        if sub is not None and sub != heading:
            for text in wrap_words(_display(f"{sub}"), columns or 1_000_000):
                stream.write(f"{text}\n")
        heading = sub
        if r.row == "not pooled":  # under its heading, indented as its cohorts are
            lead = lab[:len(lab) - len(lab.lstrip())]
            for piece in wrap_words(lab.lstrip(), (columns or 1_000_000) - len(lead)):
                stream.write(f"{lead}{piece}\n")
            continue
        line = [" "] * width
        lo, hi, est = col(r.ci_low), col(r.ci_high), col(r.percent)
        if r.row == "cohort":
            for i in range(lo, hi + 1):
                line[i] = "─"
            line[est] = "■"
            counts = f"{r.events}{DERIVED_MARK if derived(getattr(r, 'count_basis', None)) else ''}/{r.n}"
        else:
            for i in range(lo, hi + 1):
                line[i] = "◇"
            line[est] = "◆"
            counts = ""
            if r.row == "random" and sub is None:
                stream.write(blank + "┈" * width + "\n")
        ci = f"{r.percent:.1f} [{r.ci_low:.1f}–{r.ci_high:.1f}]"
        weight = f"{r.weight:.1f}%" if value_or_none(r.weight) is not None else ""
        write(lab, counts, ci, weight, line)
        if pi:
            line = [" "] * width
            for i in range(col(r.pi_low), col(r.pi_high) + 1):
                line[i] = "╌"
            write(_display((indent if sub is not None else "") + pi_label), "",
                  f"[{r.pi_low:.1f}–{r.pi_high:.1f}]", "", line)
    axis = ["─"] * width
    for t in (0, 25, 50, 75, 100):
        axis[col(t)] = "┼"
    stream.write(blank + "".join(axis) + "\n")
    if caption:
        caption = _display(caption)
        # wrapped between words only when the plot had to be narrowed: a wide one is as before
        stream.write("\n".join(wrap_words(caption, columns) if narrowed else [caption]) + "\n")


def leave_one_out_table(frame: pd.DataFrame, stream: IO | None = None, width: int | None = None) -> str:
    """The leave-one-out rows as a terminal table: the cohort left out, then the pooled estimate
    and interval without it, tau², I² and the shift (percentage points)."""
    def where(r):
        return f"ref {cell(r.ref)}" if value_or_none(r.ref) is not None else str(r.study)

    shown = pd.DataFrame({
        "left out": [f"{r.regimen or ''} {where(r)} {r.cohort_label}" for r in row_tuples(frame)],
        "% [CI]": [f"{r.percent:.1f} [{r.ci_low:.1f}–{r.ci_high:.1f}]" for r in row_tuples(frame)],
        "tau²": [f"{t:.3f}" for t in frame["tau2"]],
        "I²": [f"{i:.1f}%" for i in frame["i2"]],
        "shift": [f"{x:+.1f}" for x in frame["shift"]]})
    return table(shown, stream=stream, width=width)
