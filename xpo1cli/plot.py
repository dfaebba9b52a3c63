"""Forest plot as a file (SVG, PNG, PDF) with matplotlib, an optional extra: pip install '.[plot]'.

The figure is laid out as a table beside an axis, in inches: every text column is as wide as its
widest cell as matplotlib measures it, so no two texts overlap whatever the labels or k; the
figure grows with them. SVG keeps its text as text (svg.fonttype none), so a journal or a slide
can edit it."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .render import level_text
from .values import DERIVED_MARK, MISSING, cell, derived, row_tuples, value_or_none

PLOT_HINT = "saving a plot needs matplotlib: pip install 'xpo1cli[plot]' (or pip install matplotlib)"
FONT = 8.5  # points: table cells
ROW = 0.25  # inches per row
GAP = 0.18  # inches between columns
AXIS = 3.0  # inches of the 0–100% axis
MARGIN = 0.2
DPI = 200  # of a PNG, and of the layout
SLACK = 1.03  # each measured width is taken 3% wider: renderers differ a little in glyph widths
RANDOM_COLOUR, COMMON_COLOUR, COHORT_COLOUR = "#b22222", "#666666", "#1f4e79"
# every text is drawn as the characters it holds: a label from the data ('$x^$', a backslash) is
# never read as mathtext or handed to LaTeX, whatever the user's matplotlibrc says
LITERAL = {"parse_math": False, "usetex": False}
RC = {"text.usetex": False}  # the axis's own tick labels too


def have_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _num(value) -> float | None:
    value = value_or_none(value)
    return None if value is None else float(value)


def _p(p: float | None) -> str:
    if p is None:
        return MISSING
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def plot_lines(frame: pd.DataFrame) -> list[dict]:
    """The rows of the figure, top to bottom: group and subgroup headings, cohorts, pooled
    diamonds, prediction intervals and heterogeneity lines. Each is a dict of the texts of its
    columns and what to draw."""
    lines: list[dict] = []
    groups = list(dict.fromkeys(g for g in frame["group"] if isinstance(g, str)))
    heading = None
    for group in groups or [None]:
        rows = frame if group is None else frame[frame["group"] == group]
        if len(groups) > 1:
            lines.append({"kind": "group", "label": group})
        heading = None
        for r in row_tuples(rows):
            sub = value_or_none(getattr(r, "subgroup", None))
            if sub is not None and sub != heading:
                lines.append({"kind": "subgroup", "label": str(sub)})
            if sub is None and heading is not None and r.row == "random":
                lines.append({"kind": "subgroup", "label": "Overall"})
            heading = sub
            indent = "   " if sub is not None else ""
            if r.row == "subgroup test":  # the subgroups' test without an overall pool (by regimen)
                lines.append({"kind": "note", "label": (
                    f"Test for subgroup differences: Q = {r.q_between:.2f} "
                    f"(df {int(r.q_between_df)}), {_p(_num(r.q_between_p))}")})
                continue
            if r.row == "not pooled":  # a subgroup of no one population: its cohorts without a diamond
                lines.append({"kind": "note", "label": f"{indent}{str(r.cohort_label).removeprefix(f'{sub}: ')}"})
                continue
            if r.row == "cohort":
                where = f"ref {cell(r.ref)}" if cell(r.ref) != MISSING else str(r.study)
                mark = DERIVED_MARK if derived(r.count_basis) else ""
                lines.append({"kind": "cohort", "label": f"{indent}{where} · {cell(r.regimen)} · {r.cohort_label}",
                              "counts": f"{r.events}{mark}/{r.n}", "pct": f"{r.percent:.1f}",
                              "ci": f"{r.ci_low:.1f}–{r.ci_high:.1f}",
                              "weight": f"{r.weight:.1f}%" if _num(r.weight) is not None else "",
                              "est": r.percent, "lo": r.ci_low, "hi": r.ci_high, "w": _num(r.weight) or 0})
                continue
            name = "Random effects" if r.row == "random" else "Common effect"
            method = {"FE": ""}.get(r.method, f" ({r.method}{', Knapp–Hartung' if r.test == 't' else ''})")
            lines.append({"kind": r.row, "label": f"{indent}{name}{method if r.row == 'random' else ''}",
                          # the pooled estimate is not the ratio of the summed counts: show k only
                          "counts": f"k = {int(r.k)}" if r.row == "random" and _num(r.k) is not None else "",
                          "pct": f"{r.percent:.1f}", "ci": f"{r.ci_low:.1f}–{r.ci_high:.1f}",
                          "weight": "100%" if r.row == "random" and sub is None else "",
                          "est": r.percent, "lo": r.ci_low, "hi": r.ci_high})
            if r.row != "random":
                continue
            if _num(getattr(r, "pi_low", None)) is not None:
                lines.append({"kind": "pi", "label": f"{indent}Prediction interval", "counts": "", "pct": "",
                              "ci": f"{r.pi_low:.1f}–{r.pi_high:.1f}", "weight": "",
                              "lo": r.pi_low, "hi": r.pi_high})
            if _num(r.tau2) is not None:
                lines.append({"kind": "note", "label": (
                    f"{indent}Heterogeneity: τ² = {r.tau2:.3f}, I² = {r.i2:.1f}%, "
                    f"Q = {r.q:.2f} (df {int(r.q_df)}), {_p(_num(r.q_p))}")})
            if _num(getattr(r, "q_between", None)) is not None:
                lines.append({"kind": "note", "label": (
                    f"Test for subgroup differences: Q = {r.q_between:.2f} "
                    f"(df {int(r.q_between_df)}), {_p(_num(r.q_between_p))}")})
    return lines


def _wrap(text: str, limit: float, measure) -> str:
    """text broken between words so that no line is wider than limit inches."""
    out, line = [], ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and measure(trial) > limit:
            out.append(line)
            line = word
        else:
            line = trial
    if line:
        out.append(line)
    return "\n".join(out)


def draw_forest(frame: pd.DataFrame, title: str, caption: str, *, guide: bool = True):
    """The forest plot of a pool table as a matplotlib figure (not saved). guide=False leaves out
    the dotted line at the last random-effects estimate (for a figure without an overall one)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.transforms import blended_transform_factory

    lines = plot_lines(frame)
    level = _num(frame["level"].dropna().iloc[0]) if frame["level"].notna().any() else 0.95
    lv = level_text(level)
    headers = {"label": "Study · regimen · population", "counts": "Events/n", "pct": "%",
               "ci": f"{lv} CI", "weight": "Weight"}
    # laid out at the resolution a PNG is saved at: hinted glyphs are wider at low resolution
    fig = new_figure(figsize=(8, 4), dpi=DPI)
    renderer = fig.canvas.get_renderer()
    fonts: dict = {}

    def measure(text: str, size: float = FONT, weight: str = "normal") -> float:
        """The width (inches) the text takes: what Text.get_window_extent gives, asked of the
        renderer directly for one line of plain text (the common case, and ten times cheaper)."""
        if not text:
            return 0.0
        if "\n" in text:  # several lines: laid out as a Text would be
            probe = fig.text(0, 0, text, fontsize=size, fontweight=weight, **LITERAL)
            width = probe.get_window_extent(renderer).width
            probe.remove()
            return SLACK * width / fig.dpi
        font = fonts.get((size, weight))
        if font is None:
            font = fonts[size, weight] = FontProperties(size=size, weight=weight)
        width, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
        return SLACK * width / fig.dpi

    def bold(line) -> str:
        return "bold" if line["kind"] in ("group", "subgroup", "random") else "normal"

    widths = {c: measure(h, weight="bold") for c, h in headers.items()}
    for line in lines:
        for c in ("counts", "pct", "ci", "weight"):
            if line.get(c):
                widths[c] = max(widths[c], measure(line[c], weight=bold(line)))
        if line["kind"] not in ("note", "group"):
            widths["label"] = max(widths["label"], measure(line["label"], weight=bold(line)))
    # notes and group headings may run across the label and counts columns, not further
    spans = [measure(line["label"], weight=bold(line)) for line in lines if line["kind"] in ("note", "group")]
    left_block = max(widths["label"] + GAP + widths["counts"], *spans, 0)
    widths["label"] = left_block - GAP - widths["counts"]
    x = {"label": MARGIN}
    x["counts"] = x["label"] + widths["label"] + GAP + widths["counts"]  # right-aligned
    x["axis"] = x["counts"] + GAP * 1.5
    x["pct"] = x["axis"] + AXIS + GAP * 1.5 + widths["pct"]  # right-aligned
    x["ci"] = x["pct"] + GAP
    x["weight"] = x["ci"] + widths["ci"] + GAP + widths["weight"]  # right-aligned
    width = x["weight"] + MARGIN

    if any(DERIVED_MARK in line.get("counts", "") for line in lines):
        caption += f" {DERIVED_MARK} count derived here, not printed by the source."
    title_text = _wrap(title, width - 2 * MARGIN, lambda t: measure(t, 10, "bold"))
    caption_text = _wrap(caption, width - 2 * MARGIN, lambda t: measure(t, 7.5))
    title_h = (title_text.count("\n") + 1) * 10 / 72 * 1.35
    caption_h = (caption_text.count("\n") + 1) * 7.5 / 72 * 1.35
    n = len(lines)
    rows_h = (n + 1.5) * ROW  # the rows and the header row
    axis_h = 0.55  # ticks and the axis label
    height = MARGIN + title_h + 0.1 + rows_h + axis_h + caption_h + MARGIN
    fig.set_size_inches(width, height)
    ax = fig.add_axes((x["axis"] / width, (MARGIN + caption_h + axis_h) / height, AXIS / width, rows_h / height))
    ax.set_xlim(0, 100)
    ax.set_ylim(0.25, n + 1.75)
    at = blended_transform_factory(fig.dpi_scale_trans, ax.transData)

    def put(col, y, text, weight="normal", size=FONT):
        ha = "right" if col in ("counts", "pct", "weight") else "left"
        ax.text(x[col], y, text, transform=at, ha=ha, va="center", fontsize=size, fontweight=weight,
                clip_on=False, **LITERAL)

    top = n + 1
    for col, text in headers.items():
        put(col, top, text, weight="bold")
    ax.plot([0, 100], [top - 0.55, top - 0.55], color="black", lw=0.6, clip_on=False)
    random_at = []
    for i, line in enumerate(lines):
        y = n - i
        kind = line["kind"]
        put("label", y, line["label"], weight=bold(line), size=FONT if kind != "note" else FONT - 0.5)
        for col in ("counts", "pct", "ci", "weight"):
            if line.get(col):
                put(col, y, line[col], weight=bold(line))
        if kind == "cohort":
            ax.plot([line["lo"], line["hi"]], [y, y], color="black", lw=0.9)
            ax.plot([line["est"]], [y], marker="s", color=COHORT_COLOUR, markersize=3 + 6 * math.sqrt(line["w"] / 100),
                    lw=0)
        elif kind in ("random", "common"):
            dy = 0.32
            ax.fill([line["lo"], line["est"], line["hi"], line["est"]], [y, y + dy, y, y - dy],
                    color=RANDOM_COLOUR if kind == "random" else COMMON_COLOUR, lw=0)
            if kind == "random" and not line["label"].startswith(" "):  # not a subgroup's
                random_at.append((line["est"], y))
        elif kind == "pi":
            ax.plot([line["lo"], line["hi"]], [y, y], color=RANDOM_COLOUR, lw=1.2, ls=(0, (4, 2)))
            ax.plot([line["lo"], line["lo"]], [y - 0.15, y + 0.15], color=RANDOM_COLOUR, lw=1)
            ax.plot([line["hi"], line["hi"]], [y - 0.15, y + 0.15], color=RANDOM_COLOUR, lw=1)
    if random_at and guide:  # a dotted guide at the last overall random-effects estimate (none by regimen)
        est, y = random_at[-1]
        ax.plot([est, est], [y + 0.4, top - 0.6], color=RANDOM_COLOUR, ls=":", lw=0.7)
    ax.set_yticks([])
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.tick_params(axis="x", labelsize=FONT)
    ax.set_xlabel("Proportion (%)", fontsize=FONT)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_bounds(0, 100)
    fig.text(MARGIN / width, 1 - MARGIN / height, title_text, fontsize=10, fontweight="bold",
             ha="left", va="top", **LITERAL)
    fig.text(MARGIN / width, MARGIN / height, caption_text, fontsize=7.5, ha="left", va="bottom",
             color="#333333", **LITERAL)
    return fig


def new_figure(**kwargs):
    """A matplotlib figure on the Agg canvas, without pyplot (whose import costs a fifth of a
    second and keeps a registry of open figures a command never needs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def forest_file(frame: pd.DataFrame, path: str | Path, title: str, caption: str) -> Path:
    """Draw the pool table (cohort rows, then the pooled rows) to path; the format follows the
    file's extension."""
    import matplotlib

    path = Path(path)
    with matplotlib.rc_context({**RC, "svg.fonttype": "none", "pdf.fonttype": 42}):
        draw_forest(frame, title, caption).savefig(path)
    return path


def forest_svg(frame: pd.DataFrame, title: str, caption: str, *, prefix: str = "forest",
               guide: bool = True) -> str:
    """The same figure as forest_file, as SVG text to inline in an HTML page: text kept as text (as
    forest_file keeps it), every id prefixed so that several figures can share one page, no XML
    prolog and no date."""
    import io
    import re

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.fonttype": "none", "svg.hashsalt": prefix}):
        draw_forest(frame, title, caption, guide=guide).savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # a figure on a page needs none
    ids = set(re.findall(r'\sid="([^"]+)"', text))
    if ids:
        pattern = re.compile(r'(\sid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
                             + r')(?=["),])')
        text = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return text
