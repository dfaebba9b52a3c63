"""The API's results that are more than one frame: what `compare`, `toxicity`, `audit` and `show`
return (re-exported by xpo1cli.api and xpo1cli)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class Comparison:
    """Regimens side by side (`xpo1 compare`): one row per study or randomized arm, the warnings
    printed above it (randomized pairs within one trial, cross-trial comparisons) and, for two
    regimens, the measures on which randomized trials link them through common comparators (what
    `indirect` can compare)."""

    codes: list[str]
    frame: pd.DataFrame
    warnings: list[str]
    linked: list[str]


@dataclass
class Harms:
    """`xpo1 toxicity`: the findings (None when only the arm table was asked for; `.attrs["no_regimen"]`
    counts the study-level rows a regimen filter keeps without naming their regimen) and the adverse
    events arm against arm of randomized trials (None when not asked for)."""

    findings: pd.DataFrame | None
    arms: pd.DataFrame | None


@dataclass
class Audit:
    """`xpo1 audit`: disagreements within a source (`findings`, stated conflicts among them) and
    figures that differ between reports of one trial (`updates`)."""

    findings: pd.DataFrame
    updates: pd.DataFrame

    @property
    def stated(self) -> pd.Series:
        return self.findings["check"].str.startswith("stated conflict")

    @property
    def within(self) -> pd.DataFrame:
        """Disagreements among one source's printed figures."""
        return self.findings[~self.stated]

    @property
    def conflicts(self) -> pd.DataFrame:
        """Readings that disagree between sources or within one, as a source pack states them."""
        return self.findings[self.stated]

    def table(self) -> pd.DataFrame:
        """Everything as one table, its first column the section each row belongs to."""
        both = pd.concat([self.findings.assign(section=self.stated.map({True: "stated conflict",
                                                                        False: "within a source"})),
                          self.updates.assign(section="between reports of one trial")], ignore_index=True)
        return both[["section", *[c for c in both.columns if c != "section"]]]


@dataclass
class ComparatorTrial:
    """A comparator trial (`xpo1 show ENDEAVOR`): a randomized trial with no XPO1-inhibitor arm,
    kept apart from the XPO1 studies. `record` holds its row (`trial`), its `arms` with their
    schedules as stated, its `results` one row per report and measure, and the `conflicts` the
    sources state about it."""

    key: str
    record: dict

    @property
    def results(self) -> pd.DataFrame:
        return self.record["results"]


@dataclass
class Reports:
    """One study or trial (`xpo1 show`): each report's record (its fields, cohorts, outcomes,
    comparisons, adverse events and syntheses) and, for a trial of several reports, their headline
    figures side by side."""

    key: str
    studies: list[str]
    records: list[dict]
    side_by_side: pd.DataFrame | None

    def outcomes(self) -> pd.DataFrame:
        """Every report's outcome rows as one table."""
        return pd.concat([r["outcomes"] for r in self.records], ignore_index=True)
