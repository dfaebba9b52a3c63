"""Cell values, said once. A cell is missing when it is None, NaN or pandas' NA; a list cell
holds ';'-separated items. The rest of the package asks these functions rather than testing
for itself."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LIST_SEP = ";"  # between the items of a list cell
MISSING = "–"  # a missing value as a reader sees it
DERIVED_MARK = "*"  # a count derived here, not printed by its source


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


def cell(value) -> str:
    """A human cell: 9.0 -> '9', 27.6 -> '27.6', missing -> '–'."""
    value = value_or_none(value)
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.6g}"
    return str(value)


def missing(value) -> bool:
    """Whether a cell holds nothing (None, NaN or NA)."""
    return value_or_none(value) is None


def split_list(value) -> list[str]:
    """A ';'-separated cell as a list of its items; a missing cell -> []."""
    if missing(value):
        return []
    return [p.strip() for p in str(value).split(LIST_SEP) if p.strip()]


def lead_clause(text) -> str | None:
    """The lead of a descriptive cell (studies.population, dose_schedule): the text up to its first
    '; ' or '. ' with parenthetical notes left out, the rest being detail; None for a missing cell."""
    import re

    text = value_or_none(text)
    if not isinstance(text, str) or not text.strip():
        return None
    while re.search(r"\([^()]*\)", text):  # notes first (innermost first), so a '. ' in one splits nothing
        text = re.sub(r"\s*\([^()]*\)", "", text)
    head = re.split(r";\s|\.\s", text.strip(), maxsplit=1)[0]
    return re.sub(r"\s+", " ", head).strip(" ,;.") or None


def derived(basis) -> bool:
    """Whether a count_basis says the count was derived here rather than printed by the source."""
    basis = value_or_none(basis)
    return basis is not None and basis != "reported"


def as_printed(value, decimals) -> str:
    """A reported figure with the decimals its source printed: 0.7 with 2 -> '0.70'."""
    value, decimals = value_or_none(value), value_or_none(decimals)
    if value is None:
        return MISSING
    return f"{value:.{int(decimals)}f}" if decimals is not None else cell(value)


def fraction(k, n, pct, basis=None) -> str:
    """'25/40 (63%)' from a count, its denominator and a percentage; any of them may be missing.
    A count derived here (basis other than 'reported') is marked: '8*/84 (10%)'."""
    k, n, pct = value_or_none(k), value_or_none(n), value_or_none(pct)
    if k is None and pct is None:
        return MISSING
    mark = DERIVED_MARK if derived(basis) else ""
    frac = f"{cell(k)}{mark}/{cell(n)} " if k is not None and n is not None else ""
    return f"{frac}({cell(pct)}%)" if pct is not None else frac.strip()


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


# --- keys over whole columns: the dictionaries of a row loop, as arrays ------------------------------


def key_codes(*parts) -> np.ndarray:
    """A number for each row's key (one array a part of the key), the keys numbered 0, 1, ... in
    the order they first appear; a missing cell is a value like any other (as None is in a dict)."""
    code = np.zeros(len(parts[0]), dtype=np.int64)
    for part in parts:
        values = pd.factorize(part)[0] + 1  # 0 for a missing cell
        code = pd.factorize(code * (values.max(initial=0) + 1) + values)[0]  # renumbered: products stay small
    return code


def per_distinct(func, *columns) -> list:
    """func(*cells) for every row (one array of cells a column), called once per distinct row of cells
    (a column of 100,000 studies holds a few dozen designs). A missing cell is one value however
    it is missing, so func must read None, NaN and NA alike."""
    columns = [np.asarray(column, dtype=object) for column in columns]
    code = key_codes(*columns)
    answers = np.empty(code.max(initial=-1) + 1, dtype=object)
    answers[:] = [func(*(column[i] for column in columns)) for i in first_rows(code).tolist()]
    return answers[code].tolist()


def first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each key, for codes numbered in the order they first appear (key_codes):
    the highest code so far goes up by one exactly there."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1))


def run_starts(codes: np.ndarray) -> np.ndarray:
    """Which of these (sorted) codes begin a run of equal codes."""
    return np.r_[True, codes[1:] != codes[:-1]][: len(codes)]


def _joint_codes(find: list, among: list) -> tuple[np.ndarray, np.ndarray]:
    """key_codes of the rows of `among` and of `find` (one array a part of the key), numbered
    together so that equal keys get equal numbers."""
    code = key_codes(*(np.concatenate([np.asarray(a, dtype=object), np.asarray(f, dtype=object)])
                       for a, f in zip(among, find, strict=True)))
    n = len(among[0])
    return code[n:], code[:n]


def last_match(find: list, among: list) -> np.ndarray:
    """For each key of `find` (one array a part of the key) the position of the last row of
    `among` with that key, -1 where none has it: a dict built from `among` row by row."""
    mine, theirs = _joint_codes(find, among)
    last = np.full(max(mine.max(initial=-1), theirs.max(initial=-1)) + 1, -1)
    np.maximum.at(last, theirs, np.arange(len(theirs)))
    return last[mine]


def all_matches(find: list, among: list) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) of a row i of `find` and a row j of `among` with the same key (one array
    a part of the key), as two arrays ordered by i, then j: a dict of lists built from `among`
    row by row, read for each row of `find` in turn."""
    mine, theirs = _joint_codes(find, among)
    order = np.argsort(theirs, kind="stable")  # among's rows by key, each key's in row order
    start = np.searchsorted(theirs[order], mine, "left")
    count = np.searchsorted(theirs[order], mine, "right") - start
    i = np.repeat(np.arange(len(mine)), count)
    # the k-th pair overall is the (k - pairs before i's first)-th row of i's key
    j = order[np.repeat(start - (np.cumsum(count) - count), count) + np.arange(count.sum())]
    return i, j


def most_frequent(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Each group's most frequent number (groups numbered 0 .. groups-1; `values` has no missing
    cell; NaN for a group without values), as `max(set(vals), key=vals.count)` gives it for the
    group's values `vals` in the order given: between equally frequent values, the first that a
    Python set of them yields."""
    out = np.full(groups, np.nan)
    pair = key_codes(group, values)
    first = first_rows(pair)
    times = np.bincount(pair)
    of, value = group[first], values[first]  # each (group, value) pair: its group and value
    most = np.zeros(groups, dtype=np.int64)
    np.maximum.at(most, of, times)
    top = times == most[of]
    tied = np.bincount(of[top], minlength=groups) > 1
    out[of[top & ~tied[of]]] = value[top & ~tied[of]]
    # a tie is settled by the set's order, which only Python knows: those few groups one by one
    ties: dict[int, list] = {}
    at = np.flatnonzero(tied[group])
    for g, v in zip(group[at].tolist(), values[at].tolist(), strict=True):
        ties.setdefault(g, []).append(v)
    for g, vals in ties.items():
        out[g] = max(set(vals), key=vals.count)
    return out


def last_values(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A table of `shape` holding, in each (row, col) cell, the last value given for it (NaN where
    none): a dict filled in file order keeps the last value the same way."""
    table = np.full(shape, np.nan)
    cells, last = np.unique((rows * shape[1] + cols)[::-1], return_index=True)
    table.flat[cells] = values[::-1][last]
    return table


def column_cells(frame: pd.DataFrame, name: str, at: np.ndarray) -> list:
    """The cells of a column at these positions, as row_tuples reads them."""
    return frame[name].take(at).tolist()


def inferred_frame(columns: dict, names: list[str]) -> pd.DataFrame:
    """A frame of the given columns (the other names all missing), each typed as pandas types it
    from its values alone: as for the same rows given one dict a row, built column by column."""
    n = len(next(iter(columns.values())))
    if not n:
        return pd.DataFrame([], columns=names)  # no rows: every column object, as from no dicts
    return pd.DataFrame({c: columns[c] if c in columns else np.full(n, np.nan) for c in names}, columns=names)
