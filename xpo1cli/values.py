"""Missing values, said once. A cell of a frame is missing when it is None, NaN or pandas' NA;
everywhere else in the package asks these two functions rather than testing for itself."""

from __future__ import annotations

import math

import pandas as pd


def value_or_none(value):
    """A plain Python value: None, NaN and NA -> None; numpy scalars -> int, float or bool."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def missing(value) -> bool:
    """Whether a cell holds nothing (None, NaN or NA)."""
    return value_or_none(value) is None
