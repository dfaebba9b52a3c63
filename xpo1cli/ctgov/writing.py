"""Records into a dataset: their rows in the tables (a newer version of a record replacing its
rows, with what changed, figure by figure), written whole or not at all."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..datapackage import Problem
from .mapping import record_rows
from .records import SOURCE_PREFIX, Record, iter_records, known_codes, last_update, read_terms, terms_from

REGISTRY_SCHEMA = Path(__file__).parent.parent / "registry.json"

REGISTRY_TABLES = ("registry_records", "registry_measurements", "registry_analyses", "registry_event_groups",
                   "registry_events", "registry_event_counts")
COMPARED = {  # registry table → the posted columns whose change a re-import reports
    "registry_records": ("status", "enrollment", "phases", "has_results", "last_update"),
    "registry_measurements": ("value", "lower", "upper", "denominator", "placed_as"),
    "registry_analyses": ("param_value", "ci_pct", "ci_lower", "ci_upper", "p_value", "placed_as"),
    "registry_event_groups": ("title", "deaths_affected", "deaths_at_risk", "serious_affected", "serious_at_risk",
                              "other_affected", "other_at_risk"),
    "registry_events": ("kind", "term", "organ_system"),
    "registry_event_counts": ("affected", "at_risk", "events", "placed_as"),
}


@dataclass
class Imported:
    """What an import made: the dataset's descriptor and tables, the records read (NCT ids), the
    notes on what was not placed (see `summary`), and the posted figures a re-import changed (a
    frame: table, nct_id, path, column, before, after)."""

    descriptor: dict
    tables: dict
    records: list[str]
    notes: list[tuple[str, str, str]]
    changes: object
    replaced: bool = False  # whether the folder held an earlier import of these records (api.import_ctgov)

    @property
    def placed(self) -> int:
        """How many of the records read were placed in the curated tables."""
        recs = self.tables["registry_records"]
        return int(recs.loc[recs["nct_id"].isin(self.records), "study"].notna().sum())


class RecordProblems(Exception):
    """Files that are not records one can import, each problem naming its file and place; nothing
    was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the files named; nothing written")
        self.problems = problems


def summary(notes: list[tuple[str, str, str]], shown: int = 5) -> list[str]:
    """The notes of an import as a few lines: each heading, its details with how many records and
    the first few ids (a folder of 10,000 records gives a screenful, not 10,000 lines)."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for heading, detail, nct in notes:
        grouped.setdefault(heading, {}).setdefault(detail, []).append(nct)
    lines = []
    for heading, details in grouped.items():
        lines.append(f"{heading}:")
        for detail, ids in sorted(details.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
            label = f"{detail}: " if detail else ""
            lines.append(f"  {label}{len(ids)} record(s): {', '.join(ids[:shown])}{more}")
    return lines


def registry_resources() -> list[dict]:
    return json.loads(REGISTRY_SCHEMA.read_text(encoding="utf-8"))["resources"]


def import_records(records: Iterable[Record], descriptor: dict, tables: dict,
                   extra_terms: Iterable[tuple[str, str, str]] = ()) -> Imported:
    """The dataset (descriptor and frames) with these records' rows in it. Each record is mapped
    as it is read and only its rows are kept; a record given twice counts once (the later update).
    Rows an earlier import of the same records wrote are replaced, and every posted figure that
    changed is listed."""
    import pandas as pd

    descriptor = json.loads(json.dumps(descriptor))
    have = {r["name"] for r in descriptor["resources"]}
    descriptor["resources"] += [r for r in registry_resources() if r["name"] not in have]
    fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in descriptor["resources"]}
    tables = {name: (tables[name] if name in tables else pd.DataFrame(columns=fields[name]))
              for name in fields}
    terms = terms_from(tables, extra_terms)
    mapped: dict[str, tuple[str, list, dict[str, list[tuple]], str]] = {}
    clashes: list[Problem] = []
    for rec in records:
        when, had = last_update(rec), mapped.get(rec.nct)
        where = rec.file + (f" {rec.at}" if rec.at else "")
        if had is None or when >= had[0]:
            rows = record_rows(rec, terms)  # kept as tuples in the schema's order: a third of a dict's memory
            got = {name: [tuple(map(row.get, fields[name])) for row in got] for name, got in rows.tables.items()}
            if had is not None and when == had[0] and _posted(got, fields) != _posted(had[2], fields):
                clashes.append(Problem(rec.file, None, rec.at or None, f"{rec.nct} is also in {had[3]} with the same "
                                       f"last update ({when or 'none stated'}) and other figures: which is the "
                                       "later version is not known"))
            notes = (rows.notes if had is None else
                     [*rows.notes, ("given more than once in the files named", "identical copies read once",
                                    rec.nct)] if when == had[0] else
                     [*rows.notes, ("an earlier update of the record was set aside", f"updated {had[0]}", rec.nct)])
            mapped[rec.nct] = (when, notes, got, where)
        else:
            mapped[rec.nct][1].append(("an earlier update of the record was set aside", f"updated {when}", rec.nct))
    if clashes:
        raise RecordProblems(clashes)
    ncts = set(mapped)
    sources = {SOURCE_PREFIX + n for n in ncts}
    before = {t: tables[t][tables[t]["nct_id"].isin(ncts)] for t in REGISTRY_TABLES}
    for name, frame in tables.items():
        if "nct_id" in frame.columns:
            tables[name] = frame[~frame["nct_id"].isin(ncts)]
        elif name == "sources":
            tables[name] = frame[~frame["source"].isin(sources)]
        elif "source" in frame.columns:
            tables[name] = frame[~frame["source"].astype(object).isin(sources)]
    new: dict[str, list[tuple]] = {}
    notes: list[tuple[str, str, str]] = []
    for nct in sorted(mapped):
        _, said, rows, _ = mapped.pop(nct)
        notes += said
        for name, got in rows.items():
            new.setdefault(name, []).extend(got)
    types = {r["name"]: {f["name"]: f.get("type", "string") for f in r["schema"]["fields"]}
             for r in descriptor["resources"]}
    dtypes = {"integer": "Int64", "number": "float64", "boolean": "boolean", "string": object}
    for name in list(new):
        add = pd.DataFrame(new.pop(name), columns=fields[name]).astype(
            {c: dtypes[t] for c, t in types[name].items()})
        base = tables[name]
        tables[name] = pd.concat([base, add], ignore_index=True) if len(base) else add
    changes = _changes(before, {t: tables[t][tables[t]["nct_id"].isin(ncts)] for t in REGISTRY_TABLES})
    return Imported(descriptor, tables, sorted(ncts), notes, changes)


def _posted(rows: dict[str, list[tuple]], fields: dict) -> dict:
    """A record's rows without the name of the file they were read from."""
    at = fields["registry_records"].index("file")
    return {**rows, "registry_records": [r[:at] + r[at + 1:] for r in rows.get("registry_records", [])]}


def _text(value) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


def _figure_keys(table: str, frame, events) -> list[tuple]:
    """What each row of a registry table is, as a re-import matches it: a record by its NCT id;
    an event group by its id; an event by its list (serious or other), term and organ system; an
    event's count by its event and group; any other row by its place in the record. A key given
    twice in one record is told apart by its order (the second 'Anaemia' of the same list and
    organ system). An event's place shifts when an event before it is removed; its key does not."""
    if table == "registry_records":
        return [(n,) for n in frame["nct_id"]]
    if table == "registry_event_groups":
        base = [(n, _text(g)) for n, g in zip(frame["nct_id"], frame["group_id"], strict=True)]
    elif table in ("registry_events", "registry_event_counts"):
        of_event = dict(zip(events["path"], _numbered(
            [(n, _text(k), _text(t), _text(o)) for n, k, t, o in
             zip(events["nct_id"], events["kind"], events["term"], events["organ_system"], strict=True)]),
            strict=True))
        if table == "registry_events":
            return [of_event[p] for p in frame["path"]]
        base = [(*of_event.get(p.rsplit(".stats[", 1)[0], (n, p)), _text(g))
                for n, p, g in zip(frame["nct_id"], frame["path"], frame["group_id"], strict=True)]
    else:
        return list(zip(frame["nct_id"], frame["path"], strict=True))
    return _numbered(base)


def _numbered(keys: list[tuple]) -> list[tuple]:
    """Each key with how many equal keys came before it."""
    seen: dict[tuple, int] = {}
    out = []
    for k in keys:
        seen[k] = seen.get(k, -1) + 1
        out.append((*k, seen[k]))
    return out


def _changes(before: dict, after: dict):
    """Figure by figure, what a re-import changed: added, removed and changed posted values (see
    `_figure_keys` for how a figure of the earlier import is matched to the newer one's); a
    figure's place is the newer record's, or the earlier one's when it was removed."""
    import pandas as pd

    out: list[dict] = []
    for table, cols in COMPARED.items():
        if before[table].empty:
            continue  # a first import: nothing to compare
        at = len(out)
        old = dict(zip(_figure_keys(table, before[table], before["registry_events"]),
                       before[table].to_dict("records"), strict=True))
        now = dict(zip(_figure_keys(table, after[table], after["registry_events"]),
                       after[table].to_dict("records"), strict=True))
        for k in [*now, *(k for k in old if k not in now)]:
            o, n = old.get(k), now.get(k)
            where = (n or o).get("path") or ""
            if o is None or n is None:
                out.append({"table": table, "nct_id": (o or n)["nct_id"], "path": where,
                            "column": "(row)", "before": "" if o is None else "present",
                            "after": "" if n is None else "present"})
                continue
            for c in cols:
                if _text(o.get(c)) != _text(n.get(c)):
                    out.append({"table": table, "nct_id": n["nct_id"], "path": where, "column": c,
                                "before": _text(o.get(c)), "after": _text(n.get(c))})
        out[at:] = sorted(out[at:], key=lambda row: row["nct_id"])  # a record's removed rows after its others
    return pd.DataFrame(out, columns=["table", "nct_id", "path", "column", "before", "after"])



def refused_target(into: str | os.PathLike) -> str | None:
    """Why a folder cannot take an import (None: it can): it must be new, empty, or an earlier
    import holding only the files its package names, since the folder is replaced whole. A
    dataset of one's own is extended by importing into a new folder with it as the base."""
    from ..datapackage import resource_file

    into = Path(into)
    if not into.exists():
        return None
    if not into.is_dir():
        return "is a file, not a folder"
    if not any(into.iterdir()):
        return None
    try:
        descriptor = json.loads((into / "datapackage.json").read_text(encoding="utf-8"))
        named = {"datapackage.json", *(resource_file(r) for r in descriptor["resources"])}
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return "is neither an empty folder nor a dataset"
    if "registry_records" not in {r.get("name") for r in descriptor["resources"] if isinstance(r, dict)}:
        return ("is a dataset but no earlier import; import into a new folder (with --data naming this one, "
                "to extend it)")
    kept = {str(q.relative_to(into).as_posix()) for q in into.rglob("*") if not q.is_dir() or q.is_symlink()}
    others = sorted(kept - named)
    if others:
        return (f"holds files its dataset does not name ({', '.join(others[:3])}{' …' if len(others) > 3 else ''}), "
                "which replacing the folder would remove")
    return None


def write_imported(done: Imported, into: Path) -> None:
    """Write the dataset whole or not at all: into a folder beside the target, checked against
    its schema, then renamed into place (an earlier import's folder is replaced only then; any
    other target `refused_target` refuses). The checked tables are kept in the cache of checked
    datasets, as a first command on the folder would keep them."""
    import shutil
    import tempfile

    from ..checks import check
    from ..data import Dataset, keep, write_package
    from ..datapackage import DataError
    from ..files import umask

    into = Path(into).absolute()
    if (reason := refused_target(into)) is not None:
        raise DataError([Problem(str(into), None, None, f"{reason}; nothing written")])
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name[:40]}.", dir=into.parent))
    try:
        write_package(Dataset(root=tmp, descriptor=done.descriptor, tables=done.tables), tmp)
        descriptor, frames, problems = check(tmp)
        if problems:
            raise DataError(problems)
        os.chmod(tmp, 0o777 & ~umask())  # as an ordinary new folder, not mkdtemp's 0700
        old = None
        if into.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{into.name[:40]}.old.", dir=into.parent))
            os.rmdir(old)
            os.rename(into, old)
        os.rename(tmp, into)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        keep(into, descriptor, frames)  # the tables just checked: the first command on them reads them back
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def import_ctgov(paths: Iterable[str | os.PathLike], into: str | os.PathLike, base,
                 terms: str | os.PathLike | None = None) -> Imported:
    """Read the records in paths (files, search pages, folders) into the dataset `base` (a
    data.Dataset) and write the result to the folder `into`, whole or not at all. Raises
    RecordProblems for files that are not records (or a bad terms file), before anything is written."""
    problems: list[Problem] = []
    extra = read_terms(Path(terms), problems, known_codes(base.tables)) if terms is not None else []
    if problems:
        raise RecordProblems(problems)
    done = import_records(iter_records(paths, problems), base.descriptor, base.tables, extra)
    if problems:
        raise RecordProblems(problems)
    if not done.records:
        raise RecordProblems([Problem(", ".join(map(str, paths))[:120], None, None, "no study records found")])
    target = Path(into)
    write_imported(done, target)
    return done
