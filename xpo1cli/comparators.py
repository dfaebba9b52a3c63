"""Comparator trials: randomized trials with no XPO1-inhibitor arm, stored apart from the XPO1
studies (comparator_trials, trial_arms, comparator_results). `show` finds them by name; only
`indirect` computes with them; no study list or pool reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .query import norm
from .values import split_list

if TYPE_CHECKING:
    from .data import Dataset


def find_trial(ds: Dataset, key: str) -> str | None:
    """The comparator trial a name or id means (case and punctuation aside), else None."""
    trials = {norm(t): t for t in ds.comparator_trials["trial"]}
    return trials.get(norm(key))


def trial_record(ds: Dataset, trial: str) -> dict:
    """The trial's row, its arms (with each arm's schedule as stated), its results one row per
    report and measure, and the conflicts the source packs list about it."""
    row = ds.comparator_trials[ds.comparator_trials["trial"] == trial]
    arms = ds.trial_arms[ds.trial_arms["trial"] == trial]
    results = ds.comparator_results[ds.comparator_results["trial"] == trial]
    results = results.sort_values(["sequence", "id"], kind="stable", na_position="last")
    sources = set(results["source"]) | set(row["source"]) | {
        s for cell in arms["source"].tolist() + arms["schedule_source"].tolist() for s in split_list(cell)}
    conflicts = ds.conflicts[ds.conflicts["trial"].isna() & ds.conflicts["study"].isna()
                             & ds.conflicts["source_a"].isin(sources) & ds.conflicts["source_b"].isin(
                                 set(ds.sources["source"]))
                             & ds.conflicts["topic"].str.startswith(trial + " ")]
    return {"trial": row.iloc[0].to_dict(), "arms": arms.reset_index(drop=True),
            "results": results.reset_index(drop=True), "conflicts": conflicts.reset_index(drop=True)}
