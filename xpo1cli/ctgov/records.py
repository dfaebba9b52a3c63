"""ClinicalTrials.gov API v2 study records as read from files: the files and search pages they
come in, the shape each part of a record must have, the terms that map a record's words to the
dataset's codes, and the helpers that read a posted value."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..datapackage import Problem
from ..values import split_list

MAX_RECORD_BYTES = 64 * 1024 * 1024  # one file of records; the API's own pages are far smaller
SOURCE_PREFIX = "ctgov:"
NCT = re.compile(r"NCT\d{8}")
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # ASCII digits only ('٣٢' is no number here), as printed
RESULTS = "resultsSection"
OM = "outcomeMeasuresModule.outcomeMeasures"  # where figures stand in resultsSection, as the API names them
AE = "adverseEventsModule"
FLOW = "participantFlowModule"

# outcome titles that name a measure: a phrase found as whole words in the title (case ignored).
# Users add their own with --terms (kind 'outcome'); a title naming two measures is not placed.
OUTCOME_TERMS = (
    ("overall response rate", "ORR"), ("objective response rate", "ORR"),
    ("overall response", "ORR"), ("objective response", "ORR"),
    ("complete response rate", "CR"), ("complete remission rate", "CR"),
    ("progression-free survival", "PFS"), ("progression free survival", "PFS"),
    ("overall survival", "OS"), ("duration of response", "DOR"),
)


@dataclass
class Terms:
    """What every record is read against, made once per import: names that map a record's words
    to the dataset's codes (diseases and drugs from their own tables with their aliases, outcome
    phrases from OUTCOME_TERMS, a user's terms file), the XPO1 inhibitors, each regimen's drugs,
    and the curated trials by the registry ids their sources state."""

    condition: dict[str, str] = field(default_factory=dict)
    intervention: dict[str, str] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)
    agents: frozenset = frozenset()
    regimens: dict[frozenset, str] = field(default_factory=dict)
    trials: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Case, dashes, apostrophes and spacing ignored: 'Non-Hodgkin's  Lymphoma' = 'non hodgkins lymphoma'."""
    text = re.sub(r"[\u2010-\u2015-]", " ", str(text).casefold()).replace("'", "").replace("\u2019", "")
    return " ".join(text.split())


def terms_from(tables: dict, extra: Iterable[tuple[str, str, str]] = ()) -> Terms:
    """The terms of a dataset (its diseases and drugs) and a user's (kind, term, code) rows."""
    t = Terms()
    for row in tables["diseases"].itertuples(index=False):
        for name in [row.disease, row.name, *split_list(row.aliases)]:
            t.condition.setdefault(norm(name), row.disease)
    for row in tables["drugs"].itertuples(index=False):
        for name in [row.drug, *split_list(row.aliases)]:
            if len(name) > 2:  # one- and two-letter regimen letters (S, V, dex) are not drug names
                t.intervention.setdefault(norm(name), row.drug)
    for phrase, measure in OUTCOME_TERMS:
        t.outcome[norm(phrase)] = measure
    for kind, term, code in extra:
        getattr(t, kind)[norm(term)] = code
    drugs = tables["drugs"]
    t.agents = frozenset(d for d, cls in zip(drugs["drug"], drugs["drug_class"], strict=True) if "XPO1" in str(cls))
    for r in tables["regimens"].itertuples(index=False):
        t.regimens.setdefault(frozenset([*split_list(r.agent), *split_list(r.partners)]), r.regimen)
    trials = tables["trials"]
    for trial, reg, src in zip(trials["trial"], trials["registry"], trials["source"], strict=True):
        if not str(src).startswith(SOURCE_PREFIX):  # an earlier import's own trial is made again
            for nct in split_list(reg):
                t.trials.setdefault(nct, trial)
    return t


def known_codes(tables: dict) -> dict[str, set[str]]:
    """What a user's term may map to: a disease or a drug of the dataset, a measure the import places."""
    return {"condition": set(tables["diseases"]["disease"]), "intervention": set(tables["drugs"]["drug"]),
            "outcome": {code for _, code in OUTCOME_TERMS}}


def read_terms(path: Path, problems: list[Problem],
               known: dict[str, set[str]] | None = None) -> list[tuple[str, str, str]]:
    """A user's terms file: CSV with columns kind (condition, intervention, outcome), term, code;
    with `known` (see known_codes), a code the dataset does not know is a problem naming its line."""
    import csv

    rows = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"kind", "term", "code"} <= set(reader.fieldnames):
                problems.append(Problem(str(path), None, None, "needs the columns kind, term, code"))
                return []
            for i, row in enumerate(reader, start=2):
                kind, term, code = (str(row.get(k) or "").strip() for k in ("kind", "term", "code"))
                if kind not in ("condition", "intervention", "outcome") or not term or not code:
                    problems.append(Problem(str(path), i, "kind", "a row needs kind (condition, "
                                            "intervention or outcome), a term and a code"))
                    continue
                if known is not None and code not in known[kind]:
                    problems.append(Problem(str(path), i, "code", f"{kind} code '{code[:40]}' is not one of the "
                                            f"dataset's: {', '.join(sorted(known[kind]))[:200]}"))
                    continue
                rows.append((kind, term, code))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(str(path), None, None, f"cannot read: {str(exc)[:160]}"))
    return rows


# --- reading files -----------------------------------------------------------------------------

@dataclass
class Record:
    nct: str
    file: str
    at: str  # where in the file: '' for a single record, 'studies[3]' in a search page
    data: dict


def _files(paths: Iterable[str | os.PathLike], problems: list[Problem]) -> Iterator[Path]:
    for p in map(Path, paths):
        if p.is_dir():
            for q in sorted(p.rglob("*")):  # the API saves .json; a user's copy may say .JSON
                if q.suffix.lower() != ".json":
                    continue
                if q.is_file():
                    yield q
                elif not q.is_dir():  # a broken link or a pipe named as a record: said, not skipped
                    problems.append(Problem(str(q), None, None, "not a regular file (a broken link or a pipe)"))
        elif p.is_file():
            yield p
        else:
            problems.append(Problem(str(p), None, None,
                                    "no such file or folder" if not p.exists() else "not a regular file"))


def iter_records(paths: Iterable[str | os.PathLike], problems: list[Problem]) -> Iterator[Record]:
    """Every study record in the files and folders named, one file in memory at a time: single
    records, the API's paged search responses ({"studies": [...]}) and folders of them. What is
    not a record is a problem naming the file and the place in it."""
    for path in _files(paths, problems):
        name = str(path)
        try:
            if path.stat().st_size > MAX_RECORD_BYTES:
                problems.append(Problem(name, None, None,
                                        f"larger than {MAX_RECORD_BYTES // 2**20} MiB; split it into pages"))
                continue
            text = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(name, None, None, f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            doc = json.loads(text.decode("utf-8"), parse_constant=_no_constant)
        except UnicodeDecodeError:
            problems.append(Problem(name, None, None, "not UTF-8 text, as the registry's JSON is"))
            continue
        except RecursionError:
            problems.append(Problem(name, None, None, "not a study record: JSON nested too deeply"))
            continue
        except ValueError as exc:
            problems.append(Problem(name, None, None,
                                    "an empty file" if not text.strip() else f"not a JSON file: {str(exc)[:120]}"))
            continue
        del text
        if isinstance(doc, dict) and isinstance(doc.get("studies"), list):
            items = [(f"studies[{i}]", s) for i, s in enumerate(doc["studies"])]
        elif isinstance(doc, list):
            problems.append(Problem(name, None, None, "a JSON list: neither a study record nor a search "
                                    'page ({"studies": [...]})'))
            continue
        else:
            items = [("", doc)]
        del doc
        for at, item in items:
            nct = _nct(item)
            if nct is None:
                given = dig(item, "protocolSection", "identificationModule", "nctId")
                problems.append(Problem(name, None, at or None, "not a ClinicalTrials.gov study record "
                                        "(no protocolSection.identificationModule.nctId)" if given is None else
                                        f"nctId '{str(given)[:40]}' is not an NCT number (NCT and 8 digits)"))
                continue
            bad = _shape(item, SHAPE) or _duplicate_groups(item)
            if bad:
                problems += [Problem(name, None, at or None, f"{where}: {reason}") for where, reason in bad]
                continue
            yield Record(nct, name, at, item)


def _no_constant(name: str):
    raise ValueError(f"{name} is no JSON value")


# The parts of a record the import reads, with the JSON type each must have (as the API gives
# them): a dict maps keys to their shapes, a one-item list is a list of that shape, TEXT a string,
# COUNT a whole number of at least 0 (or such a number written as text). Anything may be null or
# absent. A value of another type is a problem naming its place: reading it would be a guess.
TEXT, COUNT = "text", "count"
_GROUPS = [{"id": TEXT, "title": TEXT}]
_DENOMS = [{"counts": [{"groupId": TEXT, "value": TEXT}]}]
_STATS = [{"groupId": TEXT, "numAffected": COUNT, "numAtRisk": COUNT, "numEvents": COUNT}]
_EVENTS = [{"term": TEXT, "organSystem": TEXT, "sourceVocabulary": TEXT, "assessmentType": TEXT, "stats": _STATS}]
SHAPE = {
    "protocolSection": {
        "identificationModule": {"nctId": TEXT, "briefTitle": TEXT, "acronym": TEXT},
        "statusModule": {"overallStatus": TEXT, "whyStopped": TEXT, "lastUpdatePostDateStruct": {"date": TEXT}},
        "designModule": {"phases": [TEXT], "enrollmentInfo": {"count": COUNT, "type": TEXT},
                         "designInfo": {"allocation": TEXT, "maskingInfo": {"masking": TEXT}}},
        "conditionsModule": {"conditions": [TEXT]},
        "armsInterventionsModule": {
            "interventions": [{"type": TEXT, "name": TEXT, "otherNames": [TEXT]}],
            "armGroups": [{"label": TEXT, "type": TEXT, "interventionNames": [TEXT]}]}},
    "resultsSection": {
        "participantFlowModule": {"groups": _GROUPS, "periods": [{"title": TEXT, "milestones": [
            {"type": TEXT, "achievements": [{"groupId": TEXT, "numSubjects": TEXT}]}]}]},
        "outcomeMeasuresModule": {"outcomeMeasures": [{
            **{k: TEXT for k in ("title", "type", "timeFrame", "paramType", "unitOfMeasure", "dispersionType")},
            "groups": _GROUPS, "denoms": _DENOMS,
            "classes": [{"title": TEXT, "categories": [{"title": TEXT, "measurements": [
                {k: TEXT for k in ("groupId", "value", "lowerLimit", "upperLimit", "spread")}]}]}],
            "analyses": [{"groupIds": [TEXT], **{k: TEXT for k in (
                "paramType", "paramValue", "ciPctValue", "ciNumSides", "ciLowerLimit", "ciUpperLimit", "pValue",
                "statisticalMethod", "nonInferiorityType", "groupDescription", "estimateComment")}}]}]},
        "adverseEventsModule": {
            "eventGroups": [{"id": TEXT, "title": TEXT, **{f"{k}Num{c}": COUNT for k in ("deaths", "serious", "other")
                                                           for c in ("Affected", "AtRisk")}}],
            "seriousEvents": _EVENTS, "otherEvents": _EVENTS}},
}
_JSON_TYPES = {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a number",
               float: "a number"}


def _shape(value, shape, where=None) -> list[tuple[str, str]]:
    """Every place where the record holds a value of another type than the registry gives there
    (see SHAPE), as (path, reason); the first 20 at most."""
    out: list[tuple[tuple, str]] = []
    _walk(value, shape, where, out)
    return [(_path(at), reason) for at, reason in out[:20]]


def _path(at) -> str:
    """A place kept as nested pairs (parent, key), formatted only for a problem: 'a.b[3].c'."""
    parts = []
    while at is not None:
        at, key = at
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".")


def _kind(value) -> str:
    return _JSON_TYPES.get(type(value), "a value")


def _walk(value, shape, at, out: list) -> None:
    if len(out) >= 20:
        return
    if isinstance(shape, dict):
        if type(value) is not dict:
            out.append((at, f"{_kind(value)} where the registry gives an object"))
            return
        for key, sub in shape.items():
            v = value.get(key)
            if v is None:
                continue
            if sub is TEXT:
                if type(v) is not str:
                    out.append(((at, key), f"{_kind(v)} where the registry gives text "
                                           "(the figure as posted is not known)"))
            elif sub is COUNT:
                if whole(v) is None:
                    shown = json.dumps(v)[:20] if isinstance(v, str | int | float) else _kind(v)
                    out.append(((at, key), f"{shown} where the registry gives a count (a whole number of at least 0)"))
            else:
                _walk(v, sub, (at, key), out)
    elif type(value) is not list:
        out.append((at, f"{_kind(value)} where the registry gives a list"))
    elif shape[0] is TEXT:
        out += [((at, i), f"{_kind(v)} where the registry gives text")
                for i, v in enumerate(value) if v is not None and type(v) is not str][:20]
    else:
        for i, v in enumerate(value):
            if v is not None:
                _walk(v, shape[0], (at, i), out)


def _duplicate_groups(item: dict) -> list[tuple[str, str]]:
    """Group ids named twice in one list of groups: which group a figure is for would be a guess."""
    lists = [(f"{FLOW}.groups", dig_list(item, RESULTS, "participantFlowModule", "groups")),
             (f"{AE}.eventGroups", dig_list(item, RESULTS, "adverseEventsModule", "eventGroups"))]
    for i, om in enumerate(dig_list(item, RESULTS, "outcomeMeasuresModule", "outcomeMeasures")):
        lists.append((f"{OM}[{i}].groups", dig_list(om, "groups")))
    out = []
    for where, groups in lists:
        ids = [g.get("id") for g in groups if isinstance(g, dict)]
        for gid in sorted({g for g in ids if ids.count(g) > 1}, key=str):
            out.append((where, "more than one group has no id" if gid is None
                        else f"group id {str(gid)[:20]} is given to more than one group"))
    return out


def _nct(item) -> str | None:
    try:
        nct = item["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return nct if isinstance(nct, str) and NCT.fullmatch(nct) else None


def dig(obj, *keys, default=None):
    """The value at keys (object keys and list places) inside obj, or default where there is none."""
    for k in keys:
        if isinstance(obj, dict):
            obj = obj.get(k)
        elif isinstance(obj, list) and isinstance(k, int) and -len(obj) <= k < len(obj):
            obj = obj[k]
        else:
            return default
        if obj is None:
            return default
    return obj


def dig_list(obj, *keys) -> list:
    """The list at keys inside obj; an empty one where there is none or it is not a list."""
    value = dig(obj, *keys, default=[])
    return value if isinstance(value, list) else []


def last_update(rec: Record) -> str:
    return str(dig(rec.data, "protocolSection", "statusModule", "lastUpdatePostDateStruct", "date",
                    default=""))


def number(text) -> float | None:
    """A posted value as a number, or None where it is not one ('NA', '<0.001', '٣٢')."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text) if math.isfinite(text) else None
    if isinstance(text, str) and NUMBER.fullmatch(text.strip()):
        value = float(text)
        return value if math.isfinite(value) else None  # 400 digits are no figure
    return None


def whole(text) -> int | None:
    """A posted count: a whole number from 0 to 2**53 (exact as a float, and in a 64-bit column), else None."""
    if type(text) is int:
        return text if 0 <= text <= 2**53 else None
    value = number(text)
    return int(value) if value is not None and value == int(value) and 0 <= value <= 2**53 else None
