"""Cell values, said once. A cell is missing when it is None, NaN or pandas' NA; a list cell
holds ';'-separated items. The rest of the package asks these functions rather than testing
for itself."""

from __future__ import annotations

import math

import pandas as pd

from .data import LIST_SEP


def value_or_none(value):
    """A plain Python value: None, NaN and NA -> None; numpy scalars -> int, float or bool."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common cells, answered first
        return value
    if kind is float:
        return None if value != value else value
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


def split_list(value) -> list[str]:
    """A ';'-separated cell as a list of its items; a missing cell -> []."""
    if missing(value):
        return []
    return [p.strip() for p in str(value).split(LIST_SEP) if p.strip()]


def derived(basis) -> bool:
    """Whether a count_basis says the count was derived here rather than printed by the source."""
    basis = value_or_none(basis)
    return basis is not None and basis != "reported"


_ROW_TYPES: dict[tuple, type] = {}


def row_tuples(frame: pd.DataFrame, index: bool = True, name: str | None = "Pandas"):
    """`frame.itertuples(index, name)` with the same rows and cells, several times faster: each
    column is read once as a list (pandas reads it through a Series per call) and the row type
    is made once per set of columns. Whole numbers and booleans of nullable columns come as
    Python int and bool rather than numpy scalars; missing cells are as pandas gives them."""
    from collections import namedtuple

    columns = [frame.index.tolist()] if index else []
    columns += [series.tolist() for _, series in frame.items()]
    if name is None:
        return zip(*columns, strict=True)
    fields = (("Index",) if index else ()) + tuple(map(str, frame.columns))
    row = _ROW_TYPES.get((name, fields))
    if row is None:
        row = _ROW_TYPES[name, fields] = namedtuple(name, fields, rename=True)
    return map(row._make, zip(*columns, strict=True))
