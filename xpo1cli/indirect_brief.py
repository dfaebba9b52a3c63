"""The brief's indirect comparisons: SVd against the comparators the HTA statements name, each with
its anchored estimate, the trials behind it and the reasons to doubt it (see `indirect`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .data import Dataset

# (regimen, measure, what the statement says of it, its source): NICE TA974 names these for SVd
HTA_COMPARATORS = (
    ("Kd", "PFS", "NICE TA974: the second-line comparator", "C37"),
    ("PanoVd", "PFS", "NICE TA974: a third-line comparator (lenalidomide-refractory)", "C37"),
    ("IRd", "PFS", "NICE TA974: a third-line comparator (lenalidomide-sensitive)", "C37"),
)
SUBJECT = "SVd"


@dataclass
class IndirectRow:
    comparison: str
    statement: str
    estimate: str          # the anchored ratio with its interval, or why there is none
    trials: str            # each trial's own estimate and report
    doubts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # computed here: ratio and interval, by name


def hta_rows(ds: Dataset, disease: str | None) -> list[IndirectRow]:
    """SVd against each comparator an HTA statement names, for the myeloma brief only."""
    from .indirect import compare
    from .indirect_present import _as_reported, _ratio, favours

    if disease != "MM" or SUBJECT not in set(ds.regimens["regimen"]):
        return []
    known = set(ds.regimens["regimen"])
    rows = []
    for regimen, measure, statement, source in HTA_COMPARATORS:
        if regimen not in known or source not in set(ds.sources["source"]):
            continue
        ans = compare(ds, SUBJECT, regimen, measure=measure)
        pair = f"{SUBJECT} vs {regimen}, {measure}"
        if ans.estimate is None:
            rows.append(IndirectRow(pair, statement, "no randomized path: " + "; ".join(ans.missing), "", [],
                                    [source]))
            continue
        lo, hi = ans.estimate.ci
        est = (f"HR {_ratio(ans.estimate.ratio)} ({_ratio(lo)}–{_ratio(hi)}, {ans.level * 100:g}%), "
               f"{favours(f'{SUBJECT} vs {regimen}', 'HR', ans.estimate.ratio, lo, hi)}; {ans.method}")
        trials = "; ".join(f"{r['trial']}: {_as_reported(r)} ({r['report']})" for r in ans.trials.to_dict("records"))
        doubts = [*ans.warnings, *[c.removeprefix("warning: ") for c in ans.checks if c.startswith("warning")]]
        figures = {f"indirect {pair} HR": ans.estimate.ratio, f"indirect {pair} low": lo,
                   f"indirect {pair} high": hi}
        for r in ans.trials.to_dict("records"):
            if r["orientation"].startswith("inverted"):  # the trial's own figure, read the other way
                figures.update({f"{r['trial']} {pair} inverted": r["estimate"],
                                f"{r['trial']} {pair} inverted low": r["ci_low"],
                                f"{r['trial']} {pair} inverted high": r["ci_high"]})
        rows.append(IndirectRow(pair, statement, est, trials, doubts,
                                [source, *dict.fromkeys(ans.trials["source"])], figures))
    return rows
