"""Pooling as one result: the cohorts pooled in each group, each group's fit and, if asked, its
leave-one-out refits. Numbers only; `present` turns a PoolResult into captions and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .data import Dataset
from .pooling import CONTROL_GROUP, pool_inputs, pool_leave_one_out, pool_table
from .values import row_tuples


class PoolError(ValueError):
    """A pool that cannot be made: fewer than two cohorts, or a correction that cannot apply."""


@dataclass
class PooledGroup:
    """One group pooled on its own (the XPO1-inhibitor arms, or the control arms)."""

    name: str
    table: pd.DataFrame  # each cohort, then the pooled rows (views.pool_table)
    summary: dict  # the fit: estimate, intervals, heterogeneity, test, correction, subgroups
    leave_one_out: pd.DataFrame | None = None

    @property
    def most_influential(self) -> pd.Series | None:
        """The leave-one-out row of the cohort whose omission moves the estimate most."""
        if self.leave_one_out is None:
            return None
        return self.leave_one_out.iloc[self.leave_one_out.attrs["most_influential"]]


@dataclass
class PoolResult:
    """What `xpo1 pool` found: the pooled groups, the cohorts used and those left out."""

    groups: list[PooledGroup]
    included: pd.DataFrame
    excluded: pd.DataFrame  # study, cohort and the reason each was left out
    singles: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # groups of one cohort
    by: str | None = None

    @property
    def measure(self) -> str:
        return self.groups[0].summary["measure"]

    @property
    def level(self) -> float:
        return self.groups[0].summary["level"]

    @property
    def pools_controls(self) -> bool:
        return any(g.name == CONTROL_GROUP for g in self.groups)


def pool(ds: Dataset, studies: pd.DataFrame, measure: str, *, matched: set[tuple[str, str]] | None = None,
         include_controls: bool = False, method: str = "DL", ci: str = "exact", level: float = 0.95,
         knha: bool = False, correction: str = "only0", by: str | None = None,
         leave_one_out: bool = False) -> PoolResult:
    """Pool a measure across the matching cohorts, each group apart. Raises PoolError when no
    group has two cohorts, or a continuity correction cannot be applied."""
    included, excluded = pool_inputs(ds, studies, measure, include_controls=include_controls,
                                     matched=matched)
    groups = {g: included[included["group"] == g] for g in dict.fromkeys(included["group"])}
    pooled = {g: rows for g, rows in groups.items() if len(rows) >= 2}
    if not pooled:
        names = ", ".join(f"{r.study}/{r.cohort}" for r in row_tuples(included)) or "none"
        raise PoolError(f"pooling needs at least two independent cohorts with counts; matched: {names}")
    fits = []
    for name, rows in pooled.items():
        try:
            table, summary = pool_table(rows, method=method, ci=ci, level=level, knha=knha,
                                        correction=correction, by=by)
            loo = pool_leave_one_out(rows, method=method, level=level, knha=knha,
                                     correction=correction) if leave_one_out else None
        except ValueError as exc:
            raise PoolError(str(exc)) from exc
        fits.append(PooledGroup(name, table, summary, loo))
    singles = [(g, rows) for g, rows in groups.items() if len(rows) == 1]
    return PoolResult(fits, included, excluded, singles, by)
