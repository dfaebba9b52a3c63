"""Pooling as one result: the cohorts pooled in each group, each group's fit and, if asked, its
leave-one-out refits. Numbers only; `present` turns a PoolResult into captions and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .data import Dataset
from .pooling import (
    CONTROL_GROUP,
    mixed_rows,
    mixed_subgroups,
    pool_inputs,
    pool_leave_one_out,
    pool_regimens,
    pool_table,
)
from .values import DERIVED_MARK, derived, row_tuples


class PoolError(ValueError):
    """A pool that cannot be made: fewer than two cohorts, or a correction that cannot apply."""


class CrossRegimenPool(PoolError):
    """A pool that would put cohorts of different regimens into one figure, which reads as one
    regimen's effect and is none: refused unless asked for (across_regimens=True). `regimens`: the
    regimens found, in order; `by_regimen`: whether one pool per regimen (by='regimen') is a way on
    (not with leave-one-out, which refits the pool across regimens)."""

    def __init__(self, regimens: list[str], by_regimen: bool = True):
        self.regimens = list(regimens)
        self.by_regimen = by_regimen
        ways = ["pool one regimen (regimen=...)", *(["one pool per regimen (by='regimen')"] if by_regimen else []),
                "or pool across them anyway (across_regimens=True)"]
        super().__init__(f"the cohorts are of {len(self.regimens)} regimens ({', '.join(self.regimens)}); "
                         f"{', '.join(ways)}")


class MixedPool(PoolError):
    """A pool whose cohorts are no one population's (pooling.mixed_pool: several diseases, settings
    or designs, the rule the brief's bottom line keeps too): its figure would be nobody's, so it is
    refused unless asked for (allow_mixed=True). `reason`: what it mixes; `cohorts`: the cohorts it
    would pool ('study/cohort events/n', a derived count marked *)."""

    def __init__(self, reason: str, cohorts: list[str]):
        self.reason = reason
        self.cohorts = list(cohorts)
        super().__init__(f"not pooled: {reason} ({self.cohort_text()}); pool one population (disease=..., "
                         "setting=...), one pool per subgroup (by=...), or pool them anyway (allow_mixed=True)")

    def cohort_text(self, most: int = 10) -> str:
        """The cohorts, the first `most` named and the rest counted."""
        more = len(self.cohorts) - most
        return "; ".join(self.cohorts[:most]) + (f"; and {more} more" if more > 0 else "")


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
    across_regimens: bool = False  # a pooled figure puts several regimens together, as asked
    allow_mixed: bool = False  # pools of no one population (diseases, settings, designs) pooled, as asked

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
         leave_one_out: bool = False, across_regimens: bool = False, allow_mixed: bool = False) -> PoolResult:
    """Pool a measure across the matching cohorts, each group apart. A group of several regimens
    is pooled only by regimen (by='regimen': one pool each, no figure across them and no test of
    their differences, the regimens' cohorts being no randomized comparison) or when asked
    (across_regimens: its pooled rows say so). A pool of no one population (pooling.mixed_pool:
    several diseases, settings or designs) is made only when asked (allow_mixed; across_regimens
    does not imply it): a subgroup of such cohorts is shown 'not pooled' with its reason, a figure
    across subgroups that mixes them is left out. Raises CrossRegimenPool or MixedPool for a
    single pool refused so, PoolError when no group has two cohorts, or a continuity correction
    cannot be applied."""
    included, excluded = pool_inputs(ds, studies, measure, include_controls=include_controls,
                                     matched=matched)
    groups = {g: included[included["group"] == g] for g in dict.fromkeys(included["group"])}
    pooled = {g: rows for g, rows in groups.items() if len(rows) >= 2}
    if not pooled:
        names = ", ".join(f"{r.study}/{r.cohort}" for r in row_tuples(included)) or "none"
        raise PoolError(f"pooling needs at least two independent cohorts with counts; matched: {names}")
    regimens = {name: pool_regimens(rows) for name, rows in pooled.items()}
    mixed = list(dict.fromkeys(r for found in regimens.values() if len(found) > 1 for r in found))
    if mixed and not across_regimens and (by != "regimen" or leave_one_out):
        raise CrossRegimenPool(mixed, by_regimen=not leave_one_out)
    fits = []
    for name, rows in pooled.items():
        across = regimens[name] if across_regimens and len(regimens[name]) > 1 else None
        overall = across_regimens or len(regimens[name]) == 1
        refused = {} if allow_mixed or by is None else mixed_subgroups(rows, by)
        whole = None if allow_mixed or not (overall or by is None or leave_one_out) else mixed_rows(rows)
        if whole is not None and (by is None or leave_one_out):
            raise MixedPool(whole, [f"{r.study}/{r.cohort} {r.events}{DERIVED_MARK if derived(r.count_basis) else ''}"
                                    f"/{r.n}" for r in row_tuples(rows)])
        try:
            table, summary = pool_table(rows, method=method, ci=ci, level=level, knha=knha,
                                        correction=correction, by=by, overall=overall and whole is None,
                                        across=across, refused=refused,
                                        subgroup_test=by != "regimen" or across_regimens)
            loo = pool_leave_one_out(rows, method=method, level=level, knha=knha,
                                     correction=correction) if leave_one_out else None
        except ValueError as exc:
            raise PoolError(str(exc)) from exc
        notes = []
        if whole is not None:
            notes.append(f"no estimate across the subgroups: {whole} (pool them anyway with --allow-mixed)")
        if by == "regimen" and not across_regimens and len(regimens[name]) > 1:
            notes.append("no test for subgroup differences across regimens: their cohorts were not randomized "
                         "between the regimens, so a difference between their pools is no comparison of the "
                         "regimens (--across-regimens shows the test, so labelled)")
        if notes:
            summary["cautions"] = [*(summary.get("cautions") or []), *notes]
        fits.append(PooledGroup(name, table, summary, loo))
    singles = [(g, rows) for g, rows in groups.items() if len(rows) == 1]
    return PoolResult(fits, included, excluded, singles, by, across_regimens=bool(across_regimens and mixed),
                      allow_mixed=allow_mixed)
