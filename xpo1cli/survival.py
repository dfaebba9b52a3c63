"""The survival table: medians and rates of each time-to-event measure of each cohort. Pure
functions; no printing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .counts import TIME_MEASURES, of_cohorts, outcome_table
from .data import Dataset
from .query import UnknownName, arm_table
from .values import (
    column_cells,
    inferred_frame,
    last_match,
    value_or_none,
)

# --- survival ----------------------------------------------------------------------------------

SURVIVAL_COLUMNS = ["ref", "study", "cohort", "cohort_label", "disease", "regimen", "arm", "agent", "n",
                    "measure", "median", "unit", "range_low", "range_high", "ci_low", "ci_high", "note",
                    "source", "section"]


def survival_table(ds: Dataset, studies: pd.DataFrame, measure: str | None = None,
                   matched: set[tuple[str, str]] | None = None, outcomes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median PFS, OS, DOR and time to response per study cohort, with ranges and CIs where
    reported (responder and non-responder splits are cohorts of their own). Every figure
    carries its unit: the median, its range and its CI are in `unit` (months, or weeks where
    the source gives weeks). `outcomes`: the caller's outcome_table of these studies, or more, if
    it has one."""
    if measure is not None:
        hit = [m for m in TIME_MEASURES if m.casefold() == measure.strip().casefold()]
        if not hit:
            raise UnknownName(f"unknown survival measure '{measure}'; known: {', '.join(TIME_MEASURES)}")
        wanted = hit
    else:
        wanted = list(TIME_MEASURES)
    if outcomes is None:
        o = outcome_table(ds, derive_orr=False, studies=studies["study"])
    else:
        o = outcomes[outcomes["study"].isin(studies["study"])]
    o = o[o["measure"].isin(wanted)]
    if matched is not None:
        o = o[of_cohorts(o, matched)]
    arms = arm_table(ds)
    study, cohort = o["study"].to_numpy(dtype=object), o["cohort"].to_numpy(dtype=object)
    at = last_match([study, cohort], [arms["study"], arms["cohort"]])  # a cohort listed twice: its last row
    if (at < 0).any():
        i = int(np.flatnonzero(at < 0)[0])
        raise KeyError((study[i], cohort[i]))
    of_study = last_match([study], [studies["study"]])
    weeks = o["median_weeks"].notna().to_numpy()
    frame = inferred_frame({
        "ref": o["ref"].tolist(), "study": study.tolist(), "cohort": cohort.tolist(),
        "cohort_label": column_cells(arms, "label", at), "disease": column_cells(studies, "disease", of_study),
        **{name: column_cells(arms, name, at) for name in ("regimen", "arm", "agent")},
        "n": [value_or_none(v) for v in column_cells(arms, "n", at)],
        "measure": o["measure"].tolist(),
        "median": np.where(weeks, o["median_weeks"].to_numpy(dtype="float64", na_value=np.nan),
                           o["median_months"].to_numpy(dtype="float64", na_value=np.nan)),
        "unit": np.where(weeks, "weeks", "months").tolist(),
        **{name: o[name].tolist() for name in ("range_low", "range_high", "ci_low", "ci_high", "note", "source",
                                               "section")},
    }, SURVIVAL_COLUMNS)
    frame["ref"] = frame["ref"].astype("Int64")
    frame["n"] = frame["n"].astype("Int64")
    for col in ("median", "range_low", "range_high", "ci_low", "ci_high"):
        frame[col] = frame[col].astype("float64")
    order = {m: i for i, m in enumerate(TIME_MEASURES)}
    study_order = {s: i for i, s in enumerate(studies["study"])}
    frame["_m"] = frame["measure"].map(order)
    frame["_s"] = frame["study"].map(study_order)
    return (frame.sort_values(["_s", "cohort", "_m"], kind="stable")
            .drop(columns=["_m", "_s"]).reset_index(drop=True))
