"""A trial's arms and reports as the cells of their tables, each figure as its source prints it:
the between-arm statistics each randomized arm carries (`xpo1 compare`) and the reports of one
trial side by side (`xpo1 show`)."""

from __future__ import annotations

import pandas as pd

from .data import Dataset
from .headline import headline
from .query import study_table
from .values import MISSING, as_printed, fraction, missing, row_tuples, value_or_none


def between_arms(ds: Dataset, frame: pd.DataFrame) -> list[str | None]:
    """For each row of `views.compare_frame`, the between-arm statistics of its arm as printed
    (None for a row that is not a randomized arm)."""
    return [arm_statistics(ds, r.study, r.cohort) if isinstance(r.arm, str) else None
            for r in row_tuples(frame)]


def arm_statistics(ds: Dataset, study: str, cohort: str) -> str | None:
    """The trial's between-arm statistics that involve this arm, as printed."""
    comp = ds.comparisons
    rows = comp[(comp["study"] == study) & ((comp["cohort_a"] == cohort) | (comp["cohort_b"] == cohort))]
    parts = []
    for r in row_tuples(rows):
        text = f"{r.measure}{' at ' + r.timepoint if isinstance(r.timepoint, str) else ''}: "
        if r.statistic != "p":
            text += f"{r.statistic} {as_printed(r.estimate, r.decimals)}"
            if not missing(r.ci_low):
                text += f" ({as_printed(r.ci_low, r.decimals)}–{as_printed(r.ci_high, r.decimals)})"
        if isinstance(r.p_text, str):
            text += f"{', ' if r.statistic != 'p' else ''}p = {r.p_text}"
        parts.append(f"{text} [{r.source}]")
    return "; ".join(parts) or None


SIDE_METRICS = (("source", "source"), ("cohort_label", "population"), ("n", "n"),
                ("orr", "ORR"), ("depth", "depth"), ("median_pfs", "median PFS, mo"),
                ("median_os", "median OS, mo"))


def reports_side_by_side(ds: Dataset, studies: list[str]) -> pd.DataFrame:
    """Reports of one trial as columns, their headline figures as rows; rows whose figures
    differ between reports are marked ≠. Counts and medians stay numbers (None where missing):
    the renderer writes them, and JSON keeps them numbers."""
    st = study_table(ds)
    head = headline(ds, st[st["study"].isin(studies)].set_index("study").loc[studies].reset_index())

    cols = {}
    for r in row_tuples(head):
        cols[r.study] = {
            "source": r.source, "cohort_label": r.cohort_label, "n": value_or_none(r.n),
            "orr": fraction(r.orr_count, r.orr_denominator, r.orr_percent, r.orr_count_basis),
            "depth": f"{r.depth} {fraction(r.depth_count, r.depth_denominator, r.depth_percent, r.depth_count_basis)}"
            if isinstance(r.depth, str) else "–",
            "median_pfs": value_or_none(r.median_pfs), "median_os": value_or_none(r.median_os)}
    rows = []
    for key, label in SIDE_METRICS:
        values = [cols[s][key] for s in cols]
        given = {v for v in values if v is not None and v != MISSING}
        mark = "≠" if key in ("n", "orr", "depth", "median_pfs", "median_os") and len(given) > 1 else ""
        rows.append({"metric": label, "": mark, **{s: cols[s][key] for s in cols}})
    return pd.DataFrame(rows, columns=["metric", "", *cols])
