"""Forest plot as a file (SVG, PNG, PDF) with matplotlib, an optional extra: pip install '.[plot]'."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .render import DERIVED_MARK, MISSING, cell, derived

PLOT_HINT = "saving a plot needs matplotlib: pip install 'xpo1cli[plot]' (or pip install matplotlib)"


def have_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def forest_file(frame: pd.DataFrame, path: str | Path, title: str, caption: str) -> Path:
    """Draw the pool table (cohort rows, then the pooled rows) to path; the format follows the
    file's extension."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    rows = list(frame.itertuples())
    height = 1.2 + 0.38 * (len(rows) + 2)
    fig, ax = plt.subplots(figsize=(10, height))
    ys = list(range(len(rows), 0, -1))
    for y, r in zip(ys, rows, strict=True):
        if r.row == "cohort":
            ax.plot([r.ci_low, r.ci_high], [y, y], color="black", lw=1)
            size = 4 + (r.weight or 0) / 4
            ax.plot([r.percent], [y], marker="s", color="#1f4e79", markersize=size)
            where = f"ref {cell(r.ref)}" if cell(r.ref) != MISSING else r.study
            mark = DERIVED_MARK if derived(r.count_basis) else ""
            label = f"{where} · {cell(r.regimen)} · {r.cohort_label}  ({r.events}{mark}/{r.n})"
        else:
            xs = [r.ci_low, r.percent, r.ci_high, r.percent]
            dy = 0.3
            ax.fill(xs, [y, y + dy, y, y - dy], color="#b22222" if r.row == "random" else "#777777")
            label = str(r.cohort_label)
        ax.text(-2, y, label, ha="right", va="center", fontsize=9)
        ax.text(102, y, f"{r.percent:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}]"
                + (f"  {r.weight:.1f}%" if r.row == "cohort" else ""), ha="left", va="center",
                fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_ylim(0.3, len(rows) + 0.8)
    ax.set_yticks([])
    ax.set_xlabel("proportion (%)")
    for r in rows:
        if r.row == "random":
            ax.axvline(r.percent, color="#b22222", ls=":", lw=0.8)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=11, loc="left")
    fig.text(0.01, 0.01, caption, fontsize=8, ha="left", va="bottom", wrap=True)
    fig.subplots_adjust(left=0.38, right=0.78, bottom=0.22 if len(rows) < 6 else 0.12)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
