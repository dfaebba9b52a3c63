"""The checks of a package's tables: each cell against its field's type and constraints (the
user's and the program's own), keys unique and resolved, and what the Table Schema cannot say
(counts within their denominators, medians within their ranges, intervals, the disease and
cohort trees). `check` reads and checks a whole package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from .csvread import _BOOL, _absent, _parse, _read_text
from .datapackage import (
    INT64,
    LINE,
    OPTIONAL_TABLES,
    TABLES,
    Problem,
    _bundled_descriptor,
    _clip,
    _refers,
    as_fields,
    file_problem,
    foreign_keys,
    max_file_bytes,
    read_descriptor,
    resource_file,
    table_groups,
)


def _check_table(name: str, spec: dict, root: Path, problems: list[Problem], contract: dict | None = None):
    """One table as a typed frame (with a LINE column), collecting type, enum, range and pattern
    problems row by row; None when the file is unusable. `contract` is the program's own spec of
    the table: its constraints hold as well as the user's, since the program relies on them.
    A rule that reads a cell's text in Python (a type, a pattern) is worked out once for each
    distinct text of the column and spread to the rows holding it: a large table repeats a few
    counts, measures and names many times."""
    import numpy as np
    import pandas as pd

    own_rules = {f["name"]: f.get("constraints", {}) for f in (contract or {}).get("schema", {}).get("fields", [])}

    fname = spec.get("path", f"{name}.csv")
    try:
        text = _read_text(root / fname)
    except (ValueError, OSError) as exc:
        problems.append(Problem(fname, None, None, str(exc)))
        return None
    if not text.strip():
        problems.append(Problem(fname, None, None, "empty file (no header)"))
        return None
    ragged: list[Problem] = []  # rows narrower than the header: said after what is wrong with the header
    raw = _parse(text, fname, ragged)
    if raw is None:
        problems += ragged
        return None
    fields = spec["schema"]["fields"]
    names = [f["name"] for f in fields]
    missing = [n for n in names if n not in raw]
    for n in missing:
        problems.append(Problem(fname, 1, n, "missing column"))
    for h in raw:
        if h != LINE and h not in names:
            problems.append(Problem(fname, 1, h, "unknown column"))
    problems += ragged
    if missing:
        return None
    lines = raw[LINE]
    typed = pd.DataFrame({LINE: lines})

    def report(mask, col, reason):
        if mask.any():
            for line, value in zip(lines[mask], raw[col][mask], strict=True):
                problems.append(Problem(fname, int(line), col, reason(value)))

    for f in fields:
        col, kind = f["name"], f.get("type", "string")
        rules = [f.get("constraints", {})]
        if own_rules.get(col) and own_rules[col] != rules[0]:
            rules.append(own_rules[col])
        cells = raw[col]  # every cell is text (rows with a missing cell were dropped)
        if kind != "string" or any("pattern" in c for c in rules):
            codes, texts = pd.factorize(cells)  # cells == texts[codes]
            filled = texts != ""
            empty = ~filled[codes]

            def rows(bad, codes=codes):
                """The rows holding a text marked bad (a mask over the distinct texts)."""
                return bad[codes] if bad.any() else np.zeros(len(codes), dtype=bool)
        else:
            empty = cells == ""
        if any(c.get("required") for c in rules):
            report(empty, col, lambda v: "required value is empty")
        full = ~empty
        if kind == "integer":
            # each distinct text read as a whole number by Python, exactly (never through a float)
            whole = [_whole_number(v) for v in texts]
            ok = np.array([isinstance(w, int) for w in whole], dtype=bool)
            huge = np.array([w is _TOO_LARGE for w in whole], dtype=bool)
            report(rows(huge), col, lambda v: f"'{_clip(v)}' is too large for an integer "
                   f"(more than {INT64})")
            report(rows(filled & ~ok & ~huge), col, lambda v: f"'{_clip(v)}' is not an integer{_digits_hint(v)}")
            numbers = np.array([w if ok_ else 0 for w, ok_ in zip(whole, ok, strict=True)], dtype=np.int64)
            values = pd.Series(pd.arrays.IntegerArray(numbers[codes], ~ok[codes]), index=typed.index, copy=False)
        elif kind == "number":
            numbers = pd.to_numeric(np.where(filled, texts, np.nan), errors="coerce").astype("float64")
            bad = filled & (np.isnan(numbers) | (np.abs(numbers) == float("inf")))
            report(rows(bad), col, lambda v: f"'{_clip(v)}' is not a number{_digits_hint(v)}")
            values = pd.Series(np.where(bad, np.nan, numbers)[codes], index=typed.index, copy=False)
        elif kind == "boolean":
            flags = np.array([_BOOL.get(v.lower()) for v in texts], dtype=object)
            report(rows(filled & pd.isna(flags)), col, lambda v: f"'{_clip(v)}' is not a boolean")
            values = pd.Series(flags[codes], index=typed.index, dtype="boolean")
        else:
            values = pd.Series(np.where(full, cells, None) if empty.any() else cells, index=typed.index,
                               dtype=object, copy=False)
        present = full if kind == "string" else values.notna().to_numpy()  # a text is missing only when empty
        for cons in rules:
            if "enum" in cons:
                allowed = ", ".join(map(str, cons["enum"]))
                if len(allowed) > 120:
                    allowed = allowed[:117] + "..."
                report(present & ~values.isin(cons["enum"]).to_numpy(), col,
                       lambda v, a=allowed: f"'{_clip(v)}' is not one of: {a}")
            if "minimum" in cons:
                report(present & (values < cons["minimum"]).fillna(False).astype(bool).to_numpy(), col,
                       lambda v, m=cons["minimum"]: f"{v} is below the minimum {m}")
            if "maximum" in cons:
                report(present & (values > cons["maximum"]).fillna(False).astype(bool).to_numpy(), col,
                       lambda v, m=cons["maximum"]: f"{v} is above the maximum {m}")
            if "pattern" in cons:
                pattern = re.compile(cons["pattern"])
                matched = np.array([pattern.fullmatch(v) is not None for v in texts], dtype=bool)
                report(present & rows(filled & ~matched), col,
                       lambda v, p=cons["pattern"]: f"'{_clip(v)}' does not match the pattern {p}")
        typed[col] = values
    return typed[[LINE, *names]]


_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: '٣٢' or '３２' is no number here
_TOO_LARGE = object()


def _whole_number(text: str):
    """The whole number a cell's text writes (ASCII digits, an optional sign), _TOO_LARGE when it
    is beyond a 64-bit integer, None when it is no whole number."""
    if _INTEGER.fullmatch(text) is None:
        return None
    if len(text.lstrip("+-").lstrip("0")) > 19:  # more digits than 2**63 has: never parsed
        return _TOO_LARGE
    value = int(text)
    return value if abs(value) <= INT64 else _TOO_LARGE


def _digits_hint(text) -> str:
    """A note for a cell written with digits other than 0-9 (Arabic-Indic, full-width ...)."""
    if any(ch.isdigit() and not ch.isascii() for ch in str(text)):
        return " (only the digits 0-9 are read as numbers)"
    return ""


def _unresolved(frame, fields, target, target_fields):
    """A boolean mask of the rows of frame whose key is not among target's keys. Keys compare as
    the typed columns hold them (a number is not its text), by hash over whole columns."""
    import pandas as pd

    def keys(table, columns):
        # a missing cell as None (a text column holds None there already)
        cells = [table[c] if table[c].dtype == object else table[c].astype(object).where(table[c].notna(), None)
                 for c in columns]
        return pd.Index(cells[0], dtype=object) if len(cells) == 1 else pd.MultiIndex.from_arrays(cells)

    return ~keys(frame, fields).isin(keys(target, target_fields))


def _check_keys(frames: dict, descriptor: dict, problems: list[Problem],
                paths: dict[str, str] | None = None, done: set | None = None) -> None:
    """Primary keys unique, foreign keys resolved (empty references are allowed). `done` holds
    the keys checked already (of an earlier call): checking one again would only find the same
    problems again."""
    import numpy as np

    from .values import row_tuples

    done = set() if done is None else done
    specs = {r["name"]: r for r in descriptor["resources"]}
    for name, frame in frames.items():
        if name not in specs:
            continue
        spec = specs[name]["schema"]
        fname = (paths or {}).get(name) or specs[name].get("path", f"{name}.csv")
        pk = as_fields(spec["primaryKey"]) if spec.get("primaryKey") else None
        if pk and ("primaryKey", fname, name, tuple(pk)) not in done:
            done.add(("primaryKey", fname, name, tuple(pk)))
            # an empty key part (an optional one, such as an outcome's timepoint) is a value here,
            # written as "" (no key part holds the text "": an empty cell is missing)
            keyed = frame[[*pk, LINE]].astype({f: object for f in pk})
            dup = keyed.duplicated(subset=pk, keep="first")
            if dup.any():
                keyed = keyed.fillna("")
                first = keyed[~dup].set_index(pk)[LINE]
                for r in row_tuples(keyed[dup], index=False):
                    key = tuple(getattr(r, f) for f in pk)
                    at = first.loc[key if len(pk) > 1 else key[0]]
                    problems.append(Problem(fname, int(getattr(r, LINE)),
                                            ",".join(pk), f"duplicate key {'/'.join(map(str, key))} "
                                            f"(first at line {int(at)})"))
        for fk in foreign_keys(spec):
            fields = as_fields(fk["fields"])
            target = fk["reference"]["resource"] or name
            tfields = as_fields(fk["reference"]["fields"])
            check = ("foreignKey", fname, name, tuple(fields), target, tuple(tfields))
            if target not in frames or check in done:
                continue
            done.add(check)
            present = ~np.any([_absent(frame[f]) for f in fields], axis=0)
            src = frame if present.all() else frame[present]
            if src.empty:
                continue
            dangling = _unresolved(src, fields, frames[target], tfields)
            for r in row_tuples(src[dangling], index=False):
                key = "/".join(str(getattr(r, f)) for f in fields)
                problems.append(Problem(fname, int(getattr(r, LINE)), ",".join(fields),
                                        f"'{key}' not found in {target}"))


def _check_content(frames: dict, descriptor: dict, problems: list[Problem]) -> None:
    """Checks the Table Schema cannot express: list references, counts, medians, intervals, the
    disease and cohort trees."""
    import numpy as np
    import pandas as pd

    from .values import per_distinct, row_tuples, split_list

    paths = {r["name"]: resource_file(r) for r in descriptor["resources"]}
    drugs = set(frames["drugs"]["drug"])
    diseases = set(frames["diseases"]["disease"])
    for table, col, known, what in (("regimens", "partners", drugs, "drugs"),
                                    ("studies", "disease", diseases, "diseases"),
                                    ("trials", "disease", diseases, "diseases")):
        unknown = per_distinct(lambda value, known=known: [i for i in split_list(value) if i not in known],
                               frames[table][col])
        for line, items in zip(frames[table][LINE].tolist(), unknown, strict=True):
            for item in items:
                problems.append(Problem(paths[table], int(line), col, f"'{item}' not found in {what}"))
    coh = frames["cohorts"]
    with_parent = coh[coh["parent"].notna()]
    if len(with_parent):
        missing = _unresolved(with_parent, ["study", "parent"], coh, ["study", "cohort"])
        for r in row_tuples(with_parent[missing], index=False):
            problems.append(Problem(paths["cohorts"], int(getattr(r, LINE)), "parent",
                                    f"parent cohort '{r.parent}' not found in study {r.study}"))
    heads = coh[coh["headline"].fillna(False).astype(bool)].groupby("study").size()
    studies = frames["studies"]
    count = studies["study"].map(heads).fillna(0).astype(int)
    for line, n in zip(studies.loc[count != 1, LINE], count[count != 1], strict=True):
        problems.append(Problem(paths["studies"], int(line), "study",
                                f"study needs exactly one headline cohort, has {n}"))
    for table, den in (("outcomes", "denominator"), ("adverse_events", "n")):
        f = frames[table]
        bad = (f["count"] > f[den]).fillna(False).astype(bool)
        for line, k, d in zip(f.loc[bad, LINE], f.loc[bad, "count"], f.loc[bad, den], strict=True):
            problems.append(Problem(paths[table], int(line), "count", f"count {k} is above the {den} {d}"))
    o = frames["outcomes"]
    lo, med, hi = o["range_low"], o["median_months"].fillna(o["median_weeks"]), o["range_high"]
    bad = (lo > hi).fillna(False)
    for line, a, b in zip(o.loc[bad, LINE], lo[bad], hi[bad], strict=True):
        problems.append(Problem(paths["outcomes"], int(line), "range_low",
                                f"range low {a:g} is above range high {b:g}"))
    bad = ((med < lo) | (med > hi)).fillna(False)
    for line, m, a, b in zip(o.loc[bad, LINE], med[bad], lo[bad], hi[bad], strict=True):
        problems.append(Problem(paths["outcomes"], int(line), "median_months",
                                f"median {m:g} lies outside its range {a:g}-{b:g}"))
    _check_intervals(frames, paths, problems)
    for table, within, what in (("diseases", None, "disease"), ("cohorts", "study", "cohort")):
        f = frames[table]
        f = f[f["parent"].notna()]  # a row on a cycle has a parent, and so has its parent
        names, parents = f[what].to_numpy(dtype=object), f["parent"].to_numpy(dtype=object)
        codes, _ = pd.factorize(np.concatenate([names, parents]))  # a name, as a key or a parent
        width = len(codes) + 1
        group = pd.factorize(f[within])[0] if within else np.zeros(len(f), dtype=np.int64)
        keys = group * width + codes[: len(f)]  # a key is its name within its group (a cohort's study)
        for row, chain in _cycles(keys, group * width + codes[len(f):]):
            loop = [names[r] for r in chain]
            shown = " -> ".join(map(str, loop[:8])) + (" -> ..." if len(loop) > 8 else "")
            problems.append(Problem(paths[table], int(f[LINE].iat[row]), "parent",
                                    f"{what} '{loop[0]}' is its own ancestor: {shown}"))


# the interval checks: (table, estimate columns, lower and upper limit) with what the figures are
INTERVALS = (("outcomes", ("percent_reported", "median_months", "median_weeks"), "ci_low", "ci_high", "interval"),
             ("comparisons", ("estimate",), "ci_low", "ci_high", "interval"),
             ("syntheses", ("value",), "low", "high", "bracket"),
             ("comparator_results", ("estimate",), "ci_low", "ci_high", "interval"),
             ("comparator_results", ("value_a",), "value_a_low", "value_a_high", "interval"),
             ("comparator_results", ("value_b",), "value_b_low", "value_b_high", "interval"))


def _check_intervals(frames: dict, paths: dict, problems: list[Problem]) -> None:
    """A lower limit above its upper one, and an estimate outside its limits (one or both given).
    A row of outcomes is checked against its one estimate (a percentage or a median) where it
    has one; with two (a rate and a median) only the limits' order is."""
    import numpy as np

    for table, estimates, low, high, what in INTERVALS:
        f = frames[table]
        lo = f[low].to_numpy(dtype="float64", na_value=np.nan)
        hi = f[high].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(lo).all() and np.isnan(hi).all():  # no limits given: nothing to check
            continue
        lines = f[LINE].to_numpy()
        for i in np.flatnonzero(lo > hi):
            problems.append(Problem(paths[table], int(lines[i]), low,
                                    f"{what} {lo[i]:g}-{hi[i]:g} has its lower limit above its upper one"))
        given = np.array([f[c].to_numpy(dtype="float64", na_value=np.nan) for c in estimates])
        one = (~np.isnan(given)).sum(axis=0) == 1
        which = np.argmax(~np.isnan(given), axis=0)
        value = given[which, np.arange(len(f))]
        outside = one & ~(lo > hi) & ((value < lo) | (value > hi))
        for i in np.flatnonzero(outside):
            limits = f"{'' if np.isnan(lo[i]) else f'{lo[i]:g}'}-{'' if np.isnan(hi[i]) else f'{hi[i]:g}'}"
            problems.append(Problem(paths[table], int(lines[i]), estimates[which[i]],
                                    f"{value[i]:g} lies outside its {what} {limits}"))


def _cycles(keys, parents) -> list[tuple[int, list[int]]]:
    """Each row whose chain of parents comes back to it, with that chain (the rows from it round
    to it again), in row order. keys and parents are aligned whole-number arrays (a parent not
    among the keys ends a chain; a key given twice is its first row: a duplicate key is reported
    elsewhere). By pointer doubling over whole arrays: after 2**k >= rows steps every chain has
    entered its cycle, so the rows still reached are exactly those on one."""
    import numpy as np
    import pandas as pd

    n = len(keys)
    index = pd.Index(np.asarray(keys, dtype=np.int64))
    first = ~index.duplicated()
    at = np.flatnonzero(first)
    hit = index[first].get_indexer(np.asarray(parents, dtype=np.int64))
    up = np.append(np.where(hit >= 0, at[np.maximum(hit, 0)], n), n)  # n: no parent
    far = up
    for _ in range(max(1, n.bit_length())):
        far = far[far]
    on = np.zeros(n + 1, dtype=bool)
    on[far] = True
    found = []
    for row in np.flatnonzero(on[:n]):
        chain = [int(row)]
        while up[chain[-1]] != row:
            chain.append(int(up[chain[-1]]))
        found.append((int(row), [*chain, int(row)]))
    return found


def check(root: Path, extra: bool = True) -> tuple[dict, dict, list[Problem]]:
    """Read and check every table of the package at root; returns typed frames and all problems.
    Without extra, only the tables every load reads (see `table_groups`)."""
    descriptor = read_descriptor(root)
    problems: list[Problem] = []
    specs = {r["name"]: r for r in descriptor.get("resources", [])}
    if not extra:
        core = table_groups(descriptor)[0]
        specs = {name: spec for name, spec in specs.items() if name in core}
    for name in TABLES:
        if name not in specs:
            problems.append(Problem("datapackage.json", None, None, f"no resource named {name}"))
    contract = {r["name"]: r for r in _bundled_descriptor()["resources"]}
    # every file's size and kind first, from its status alone: a file over the size limit stops
    # the check before any table is parsed (parsing the others would only cost time and memory)
    limit = max_file_bytes()
    unread = {name: file_problem(root / resource_file(spec), limit) for name, spec in specs.items()
              if name not in OPTIONAL_TABLES or os.path.lexists(root / resource_file(spec))}
    if any(reason and reason.startswith("file too large") for reason in unread.values()):
        problems += [Problem(resource_file(specs[name]), None, None, reason)
                     for name, reason in unread.items() if reason]
        return descriptor, {}, problems
    frames: dict = {}
    for name in TABLES:
        if name in specs:
            parsed = _check_table(name, specs[name], root, problems, contract.get(name))
            if parsed is not None:
                frames[name] = parsed
    for name in OPTIONAL_TABLES:
        if name in specs and (root / resource_file(specs[name])).exists():
            parsed = _check_table(name, specs[name], root, problems, contract.get(name))
        else:
            parsed = empty_table(contract[name])
        if parsed is not None:
            frames[name] = parsed
    # any table a user's package adds beyond the program's (an import's registry tables)
    for name in [n for n in specs if n not in TABLES and n not in OPTIONAL_TABLES]:
        parsed = _check_table(name, specs[name], root, problems, None)
        if parsed is not None:
            frames[name] = parsed
    if all(name in frames for name in (*TABLES, *OPTIONAL_TABLES)):
        paths = {r["name"]: resource_file(r) for r in descriptor["resources"]}
        checked: set = set()
        _check_keys(frames, descriptor, problems, done=checked)
        _check_keys(frames, {"resources": list(contract.values())}, problems, paths, done=checked)
        _check_content(frames, descriptor, problems)
    return descriptor, frames, list(dict.fromkeys(problems))


def empty_table(res: dict):
    """An optional table the dataset leaves out: no rows, the program's columns and types."""
    import pandas as pd

    kinds = {"integer": "Int64", "number": "float64", "boolean": "boolean"}
    frame = pd.DataFrame({f["name"]: pd.Series([], dtype=kinds.get(f["type"], object))
                          for f in res["schema"]["fields"]})
    frame[LINE] = pd.Series([], dtype="int64")
    return frame


def _check_extra(root: Path, descriptor: dict, name: str, core: Mapping) -> tuple:
    """A table that a load reads on first use, checked with the tables it refers to (those of
    core, the tables every load reads, as they were read): its typed frame (with a LINE column;
    None when unusable) and every problem of it and of the tables it refers to."""
    specs = {r["name"]: r for r in descriptor["resources"]}
    group = [n for n in _refers(specs, name) if n not in core]
    limit = max_file_bytes()
    unread = {n: file_problem(root / resource_file(specs[n]), limit) for n in group}
    if any(reason and reason.startswith("file too large") for reason in unread.values()):
        return None, [Problem(resource_file(specs[n]), None, None, reason) for n, reason in unread.items() if reason]
    problems: list[Problem] = []
    frames: dict = {}
    for n in group:
        parsed = _check_table(n, specs[n], root, problems, None)
        if parsed is not None:
            frames[n] = parsed
    if len(frames) == len(group):
        targets = {n: core[n] for n in _refers(specs, name) if n in core}
        _check_keys({**frames, **targets}, {"resources": [specs[n] for n in group]}, problems)
    return frames.get(name), list(dict.fromkeys(problems))
