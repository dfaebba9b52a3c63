"""The row-by-row reference rules the product's whole-column code is checked against (one cohort
at a time, as a reader would apply them): they live here, with the tests that use them, so that
each rule has one implementation in the package."""

from __future__ import annotations

import pandas as pd

from xpo1cli.counts import CATEGORIES, COMPOSITES, plain_rows
from xpo1cli.views import DEPTH_PARTS, DEPTH_STORED


def by_cohort(outcomes: pd.DataFrame, by_source: bool = False) -> dict[tuple, dict[str, tuple]]:
    """(study, cohort[, source]) -> {measure: outcome row, plain: None where missing} from one
    pass over the table. Where sources of one report both give a measure, the row with a count
    stands for it (then the first in file order); landmark rows are keyed 'measure@timepoint'."""
    out: dict[tuple, dict[str, tuple]] = {}
    for r in plain_rows(outcomes):
        key = (r.study, r.cohort, r.source) if by_source else (r.study, r.cohort)
        measure = r.measure if not isinstance(r.timepoint, str) else f"{r.measure}@{r.timepoint}"
        group = out.setdefault(key, {})
        held = group.get(measure)
        if held is None or (held.count_used is None and r.count_used is not None):
            group[measure] = r
    return out


def depth(by: dict[str, tuple], label: str) -> dict | None:
    """count, denominator, percent (as printed, else computed) and basis of a depth summary from
    one cohort's outcome rows (measure -> plain row, None where missing: from by_cohort); None
    when the source does not allow it. A sum of categories is used only when the breakdown is
    whole: it reaches the summary's shallowest category, or the categories listed add up to the
    ORR; a sum of one printed category (the others 0 or not printed) is that printed count."""
    stored = by.get(DEPTH_STORED.get(label))
    if stored is not None and (stored.count_used is not None or stored.percent_reported is not None):
        pct = stored.percent_reported
        return dict(count=stored.count_used, denominator=stored.denominator,
                    percent=pct if pct is not None else stored.percent_calc,
                    basis=stored.count_basis or "reported")
    have = {m: int(r.count) for m, r in by.items() if m in CATEGORIES and r.count is not None}
    dens = {int(r.denominator) for m, r in by.items() if m in have and r.denominator is not None}
    if not have or len(dens) != 1:
        return None
    parts = DEPTH_PARTS[label]
    orr = by.get("ORR")
    orr_whole = (orr is not None and orr.count_used is not None
                 and orr.count_basis != "from percentage"
                 and sum(have.get(m, 0) for m in COMPOSITES["ORR"]) == int(orr.count_used))
    if parts[-1] not in have and not orr_whole:
        return None
    den = dens.pop()
    k = sum(have.get(m, 0) for m in parts)
    # one printed category and the rest 0 or not printed: the source prints the count ('1 CR': a ≥CR of 1)
    printed = [m for m in parts if m in have] and sum(have.get(m, 0) > 0 for m in parts) <= 1
    return dict(count=k, denominator=den, percent=round(100 * k / den, 1),
                basis="reported" if printed else "sum of categories")
