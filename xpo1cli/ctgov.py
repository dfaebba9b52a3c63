"""ClinicalTrials.gov API v2 study records, read into the dataset's tables.

Every figure a record posts is kept as posted in four registry tables (records, measurements,
analyses, events), each row naming its record, the path of the figure inside it
(`resultsSection.outcomeMeasuresModule.outcomeMeasures[3].analyses[0]`) and the record's
last-update date. Where a record can be placed in the curated schema (an XPO1 inhibitor among its
interventions, its conditions in the disease table) its arms, the outcomes whose titles name a
known measure, its hazard and odds ratios and its adverse events also become curated rows, each
with the record as its source. Nothing is guessed: a condition, an intervention, an outcome title
or a number that does not match is listed with the reason, never placed.

Pure functions over parsed JSON; the command line writes the tables (`cli/importing.py`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .data import Problem
from .values import split_list

REGISTRY_SCHEMA = Path(__file__).with_name("registry.json")
MAX_RECORD_BYTES = 64 * 1024 * 1024  # one file of records; the API's own pages are far smaller
SOURCE_PREFIX = "ctgov:"
RECORD_ADDRESS = "https://clinicaltrials.gov/study/{nct}"
NCT = re.compile(r"NCT\d{8}")
SET_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")  # a result group's analysis set: 'Placebo (FAS)'.
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # ASCII digits only ('٣٢' is no number here), as printed
RESULTS = "resultsSection"
OM = "outcomeMeasuresModule.outcomeMeasures"  # where figures stand in resultsSection, as the API names them
AE = "adverseEventsModule"
NO_ARM = "the group is no protocol arm (nor a set of one arm's participants)"
NOT_XPO1 = ("the arm receives no XPO1 inhibitor and is no randomized control arm: the curated tables would "
            "read it as the study's XPO1 arm")
NO_XPO1_ARM = "no arm receives the XPO1 inhibitor (by the arms' interventions)"
MAX_COUNT = 10_000_000  # the dataset's largest count or n
FLOW = "participantFlowModule"

PHASES = {  # the record's phases, as the schema's phase values; others stay as stated only
    ("PHASE1",): "1", ("PHASE2",): "2", ("PHASE3",): "3",
    ("PHASE1", "PHASE2"): "1/2", ("PHASE2", "PHASE3"): "2/3",
}
STATUSES = {  # overallStatus → the trials table's status, where the meaning is the same
    "NOT_YET_RECRUITING": "registered", "RECRUITING": "recruiting",
    "ACTIVE_NOT_RECRUITING": "active, not recruiting", "COMPLETED": "closed",
    "TERMINATED": "stopped early",
}
ARM_ROLES = {"EXPERIMENTAL": "experimental", "ACTIVE_COMPARATOR": "control",
             "PLACEBO_COMPARATOR": "control", "SHAM_COMPARATOR": "control", "NO_INTERVENTION": "control"}
STATISTICS = {"Hazard Ratio (HR)": "HR", "Odds Ratio (OR)": "OR"}
ORGAN_SYSTEMS = {  # MedDRA system organ class → adverse_events.category
    "blood and lymphatic system disorders": "haematological",
    "gastrointestinal disorders": "gastrointestinal",
    "infections and infestations": "infection",
    "nervous system disorders": "neurological and constitutional",
    "general disorders": "neurological and constitutional",
    "general disorders and administration site conditions": "neurological and constitutional",
    "hepatobiliary disorders": "hepatic",
    "metabolism and nutrition disorders": "metabolic",
    "eye disorders": "ocular",
    "renal and urinary disorders": "renal",
}
# outcome titles that name a measure: a phrase found as whole words in the title (case ignored).
# Users add their own with --terms (kind 'outcome'); a title naming two measures is not placed.
OUTCOME_TERMS = (
    ("overall response rate", "ORR"), ("objective response rate", "ORR"),
    ("overall response", "ORR"), ("objective response", "ORR"),
    ("complete response rate", "CR"), ("complete remission rate", "CR"),
    ("progression-free survival", "PFS"), ("progression free survival", "PFS"),
    ("overall survival", "OS"), ("duration of response", "DOR"),
)
RESPONSES = {"ORR", "CR"}
MEDIANS = {"PFS", "OS", "DOR"}


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
            for q in sorted(p.rglob("*.json")):
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
                problems.append(Problem(name, None, at or None, "not a ClinicalTrials.gov study record "
                                        "(no protocolSection.identificationModule.nctId)"))
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
    lists = [(f"{FLOW}.groups", _list(item, RESULTS, "participantFlowModule", "groups")),
             (f"{AE}.eventGroups", _list(item, RESULTS, "adverseEventsModule", "eventGroups"))]
    for i, om in enumerate(_list(item, RESULTS, "outcomeMeasuresModule", "outcomeMeasures")):
        lists.append((f"{OM}[{i}].groups", _list(om, "groups")))
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


def _get(obj, *keys, default=None):
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


def _list(obj, *keys) -> list:
    value = _get(obj, *keys, default=[])
    return value if isinstance(value, list) else []


def last_update(rec: Record) -> str:
    return str(_get(rec.data, "protocolSection", "statusModule", "lastUpdatePostDateStruct", "date",
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


# --- one record into rows ----------------------------------------------------------------------



@dataclass
class Rows:
    """The rows one record gives each table, and what could not be placed (with why)."""

    tables: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (heading, detail, NCT id)

    def add(self, table: str, row: dict) -> None:
        self.tables.setdefault(table, []).append(row)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", norm(text)).strip("-")[:40] or "group"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _phrases(title: str, phrases: dict[str, str]) -> set[str]:
    """The measures whose phrases stand as whole words in an outcome's title."""
    words = f" {norm(re.sub(r'[()/,;:]', ' ', title))} "
    return {code for phrase, code in phrases.items() if f" {phrase} " in words}


@dataclass
class Group:
    """A result group as the curated tables hold it: a protocol arm (its own cohort), a set of one
    arm's participants ('Placebo (FAS)': a cohort under the arm), or no arm (cohort None: its
    figures stay in the registry tables, since whose they are would be a guess)."""

    cohort: str | None
    title: str
    role: str | None = None
    drugs: frozenset = frozenset()
    names: frozenset = frozenset()  # words that name the group in an analysis' description
    parent: str | None = None  # the arm's cohort, for a set of its participants
    why: str = NO_ARM  # why a group without a cohort is none


class Record2Rows:
    """The mapping of one record; `rows()` gives every table's rows. Kept as a class so the steps
    (groups, outcomes, analyses, events) share the record's groups without passing them around."""

    def __init__(self, rec: Record, terms: Terms):
        self.rec, self.terms = rec, terms
        self.nct, self.source = rec.nct, SOURCE_PREFIX + rec.nct
        self.out = Rows()
        proto = rec.data.get("protocolSection") or {}
        self.proto, self.results = proto, rec.data.get(RESULTS) or {}
        self.interventions = {}  # intervention name as the arms name it → drug (or None)
        for iv in _list(proto, "armsInterventionsModule", "interventions"):
            names = [iv.get("name") or "", *[n for n in iv.get("otherNames") or [] if isinstance(n, str)]]
            drug = next((terms.intervention[norm(n)] for n in names if norm(n) in terms.intervention), None)
            label = f"{str(iv.get('type') or '').title().replace('_', ' ')}: {iv.get('name')}"
            self.interventions[norm(label)] = (drug, names)
            self.interventions[norm(iv.get("name") or "")] = (drug, names)
        self.conditions = [c for c in _list(proto, "conditionsModule", "conditions") if isinstance(c, str)]
        self.diseases = sorted({terms.condition[norm(c)] for c in self.conditions if norm(c) in terms.condition})
        self.unmapped = [c for c in self.conditions if norm(c) not in terms.condition]
        self.agents = sorted({d for d, _ in self.interventions.values() if d} & terms.agents)
        self.placed = bool(self.agents and self.diseases)
        self.randomized = {"RANDOMIZED": True, "NON_RANDOMIZED": False}.get(
            _get(proto, "designModule", "designInfo", "allocation"))
        self.study = f"ctgov-{self.nct.lower()}" if self.placed else None
        self.trial = self._trial()
        self.groups: dict[str, Group] = {}
        self.taken: set[str] = set()
        self.seen: set[tuple[str, str]] = set()  # (cohort, measure) placed in outcomes

    def row_id(self, path: str) -> str:
        """A curated row's id from the figure's place: 'ctgov-nct01234567-' and the path's words and numbers."""
        return f"ctgov-{self.nct.lower()}-" + re.sub(r"[^a-z0-9]+", "-", path.lower())

    def _trial(self) -> str | None:
        """The curated trial this record is a report of: one whose registry ids name it."""
        return self.terms.trials.get(self.nct)

    def rows(self) -> Rows:
        self._groups()
        if self.placed and not any(g.cohort for g in self.arms.values()):
            self.placed, self.study, self.no_arm = False, None, True
        self._record()
        if self.placed:
            self._curated_header()
        self._measurements()
        self._analyses()
        self._events()
        return self.out

    # --- the record and its groups ---
    def _record(self) -> None:
        p, design = self.proto, _get(self.proto, "designModule", default={})
        status = _get(p, "statusModule", default={})
        phases = tuple(x for x in _list(design, "phases") if isinstance(x, str))
        listed = _list(p, "armsInterventionsModule", "interventions")
        ivs = [f"{iv.get('type', '')}: {iv.get('name', '')}" for iv in listed]
        unmatched_iv = [iv.get("name") for iv in listed
                        if self.interventions.get(norm(iv.get("name") or ""), (None,))[0] is None]
        why = [NO_XPO1_ARM] if getattr(self, "no_arm", False) else []
        if not self.diseases:
            why.append("no condition in the disease table")
        if not self.agents:
            why.append("no XPO1 inhibitor among the interventions")
        self.out.add("registry_records", {
            "nct_id": self.nct, "source": self.source if self.placed else None,
            "title": _get(p, "identificationModule", "briefTitle"),
            "acronym": _get(p, "identificationModule", "acronym"),
            "phases": ";".join(phases) or None,
            "allocation": _get(design, "designInfo", "allocation"),
            "masking": _get(design, "designInfo", "maskingInfo", "masking"),
            "enrollment": whole(_get(design, "enrollmentInfo", "count")),
            "enrollment_type": _get(design, "enrollmentInfo", "type"),
            "status": status.get("overallStatus"), "why_stopped": status.get("whyStopped"),
            "conditions": ";".join(self.conditions) or None,
            "diseases": ";".join(self.diseases) or None,
            "conditions_unmapped": ";".join(self.unmapped) or None,
            "interventions": ";".join(ivs) or None,
            "interventions_unmapped": ";".join(n for n in unmatched_iv if n) or None,
            "has_results": bool(self.rec.data.get("hasResults")) or bool(self.results),
            "last_update": last_update(self.rec) or None,
            "file": Path(self.rec.file).name + (f" {self.rec.at}" if self.rec.at else ""),
            "trial": self.trial, "study": self.study,
            "placed": "; ".join(why) if why else "placed in the curated tables",
        })
        for reason in why:
            self.out.notes.append(("kept in the registry tables only", reason, self.nct))
        for term in self.unmapped:
            self.out.notes.append(("conditions in no disease's names (add them with --terms)", term, self.nct))
        if not self.results:
            self.out.notes.append(("no results posted (design only)", "", self.nct))

    def _arms(self) -> dict[str, Group]:
        """The protocol's arms by their label, each with its role, drugs and the words naming it."""
        arms = {}
        for arm in _list(self.proto, "armsInterventionsModule", "armGroups"):
            label = str(arm.get("label") or "").strip()
            if not label or norm(label) in arms:
                continue
            found = [self.interventions.get(norm(n), (None, [n])) for n in arm.get("interventionNames") or []]
            arms[norm(label)] = Group(_slug(label, self.taken), label, ARM_ROLES.get(arm.get("type")),
                                      frozenset(d for d, _ in found if d),
                                      frozenset(norm(n) for _, ns in found for n in ns if n) | {norm(label)})
        if not arms and len(_list(self.results, "participantFlowModule", "groups")) == 1:
            # a single-group record without protocol arms: the group is the study's one arm
            only = _list(self.results, "participantFlowModule", "groups")[0]
            label = str(only.get("title") or only.get("id") or "all participants")
            drugs = frozenset(d for d, _ in self.interventions.values() if d)
            arms[norm(label)] = Group(_slug(label, self.taken), label, None, drugs, frozenset({norm(label)}))
        if len(arms) == 1 and not next(iter(arms.values())).drugs:  # one arm naming no intervention: all are its
            only = next(iter(arms.values()))
            only.drugs = frozenset(d for d, _ in self.interventions.values() if d)
        for arm in arms.values():
            # an arm without the XPO1 inhibitor is placed only as a randomized control: any other
            # cohort of the study takes the study's regimen and agent where it has none of its own
            if not arm.drugs & set(self.agents) and not (self.randomized and arm.role == "control"):
                arm.cohort, arm.why = None, NOT_XPO1
        return arms

    def group(self, title: str) -> Group:
        """The arm a result group is: the same title as a protocol arm, or the same before a
        closing bracket naming its analysis set ('Placebo (FAS)' is a set of arm 'Placebo')."""
        key = norm(title)
        if key not in self.groups:
            arm = self.arms.get(key)
            if arm is None and (base := self.arms.get(norm(SET_SUFFIX.sub("", title)))) is not None:
                arm = (Group(None, title, why=base.why) if base.cohort is None else
                       Group(_slug(title, self.taken), title, base.role, base.drugs, base.names | {key}, base.cohort))
            self.groups[key] = arm or Group(None, title)
        return self.groups[key]

    def _groups(self) -> None:
        self.arms = self._arms()
        flow = _get(self.results, "participantFlowModule", default={})
        started = {}  # flow group id → participants who started, and the place of that figure
        for period in _list(flow, "periods")[:1]:
            for m, milestone in enumerate(_list(period, "milestones")):
                if milestone.get("type") == "STARTED":
                    started = {a.get("groupId"): (whole(a.get("numSubjects")),
                                                  f"{FLOW}.periods[0].milestones[{m}].achievements[{i}]")
                               for i, a in enumerate(_list(milestone, "achievements"))}
        self.started = {}  # arm cohort → (started, place), where the flow gives the arm's own group
        for g in _list(flow, "groups"):
            grp = self.group(g.get("title") or g.get("id") or "group")
            if grp.cohort is not None and grp.parent is None:
                self.started[grp.cohort] = started.get(g.get("id"), (None, None))
        for om in _list(self.results, "outcomeMeasuresModule", "outcomeMeasures"):
            for g in _list(om, "groups"):
                self.group(g.get("title") or g.get("id") or "group")
        for g in _list(self.results, "adverseEventsModule", "eventGroups"):
            self.group(g.get("title") or g.get("id") or "group")

    def _regimen(self, drugs: frozenset) -> str | None:
        return self.terms.regimens.get(drugs) if drugs else None

    def _curated_header(self) -> None:
        p, design = self.proto, _get(self.proto, "designModule", default={})
        phases = tuple(x for x in _list(design, "phases") if isinstance(x, str))
        randomized = self.randomized
        title = _get(p, "identificationModule", "briefTitle") or self.nct
        updated = last_update(self.rec)
        self.out.add("sources", {
            "source": self.source, "kind": "registry results record (ClinicalTrials.gov)"
            if self.results else "registry record (ClinicalTrials.gov; no results posted)",
            "title": title, "address": RECORD_ADDRESS.format(nct=self.nct),
            # no source states the review's date; a registry record is none of the review's sources
            # and is read, as the packs' sources are, as evidence beside it
            "published_after_review": True})
        if self.trial is None:
            self.trial = self.nct
            self.out.add("trials", {
                "trial": self.nct, "name": _get(p, "identificationModule", "acronym") or title,
                "registry": self.nct, "randomized": randomized, "phase": PHASES.get(phases),
                "disease": ";".join(self.diseases),
                "status": STATUSES.get(_get(p, "statusModule", "overallStatus")), "source": self.source,
                "note": f"from its ClinicalTrials.gov record, last updated {updated}"})
        arms = [g for g in self.arms.values() if g.cohort is not None]
        exp = [g for g in arms if g.role == "experimental" and g.drugs & set(self.agents)]
        lead = exp[0] if len(exp) == 1 else next((g for g in arms if g.drugs & set(self.agents)), None)
        self.out.add("studies", {
            "study": self.study, "trial": self.trial, "source": self.source,
            "report": f"ClinicalTrials.gov record, last updated {updated}", "section": "ClinicalTrials.gov record",
            "agent": self.agents[0], "regimen": self._regimen(lead.drugs) if lead else None,
            "disease": ";".join(self.diseases),
            "phase": PHASES.get(phases), "randomized": randomized, "evidence_type": "clinical trial"})
        sets = [g for g in self.groups.values() if g.parent is not None]
        for grp in [*arms, *sets]:
            n, place = self.started.get(grp.cohort, (None, None)) if grp.parent is None else (None, None)
            n = n if n is None or n <= MAX_COUNT else None
            self.out.add("cohorts", {
                "study": self.study, "cohort": grp.cohort, "label": grp.title, "parent": grp.parent,
                "partition": "arm" if grp.parent is None and len(arms) > 1 else None,
                "arm": grp.role if randomized else None, "regimen": self._regimen(grp.drugs),
                "n": n, "headline": grp is lead or (lead is None and grp is arms[0]),
                "section": place if n is not None else "armsInterventionsModule.armGroups"
                if grp.parent is None else "result groups", "source": self.source})

    # --- outcome measures ---
    def _measure_of(self, om: dict) -> tuple[str | None, str]:
        """The curated measure an outcome measure is, or None with the reason."""
        codes = _phrases(om.get("title") or "", self.terms.outcome)
        if not codes:
            return None, "title names no known measure"
        if len(codes) > 1:
            return None, f"title names more than one measure ({', '.join(sorted(codes))})"
        code = codes.pop()
        param, unit = om.get("paramType"), norm(om.get("unitOfMeasure") or "")
        if len(_list(om, "classes")) != 1 or len(_list(om, "classes", 0, "categories")) != 1 \
                or _get(om, "classes", 0, "title") or _get(om, "classes", 0, "categories", 0, "title"):
            return None, "posted in classes or categories"
        if code in RESPONSES and (param == "COUNT_OF_PARTICIPANTS"
                                  or (param == "NUMBER" and ("percent" in unit or unit == "%"))):
            return code, ""
        if code in MEDIANS and param == "MEDIAN" and unit in ("months", "weeks"):
            return code, ""
        return None, f"{code} posted as {param or 'no parameter'} in {unit or 'no unit'}"

    def _flow(self) -> None:
        """Every milestone of the participant flow (STARTED, COMPLETED …) per group and period."""
        flow = _get(self.results, "participantFlowModule", default={})
        titles = {g.get("id"): g.get("title") or g.get("id") for g in _list(flow, "groups")}
        for p, period in enumerate(_list(flow, "periods")):
            for m, milestone in enumerate(_list(period, "milestones")):
                for a, got in enumerate(_list(milestone, "achievements")):
                    path = f"{FLOW}.periods[{p}].milestones[{m}].achievements[{a}]"
                    self.out.add("registry_measurements", {
                        "nct_id": self.nct, "path": path,
                        "outcome": f"participant flow: {milestone.get('type')}",
                        "time_frame": period.get("title"), "param_type": "COUNT_OF_PARTICIPANTS",
                        "unit": "Participants", "group_id": got.get("groupId"),
                        "group_title": titles.get(got.get("groupId"), got.get("groupId")),
                        "value": got.get("numSubjects"),
                        "placed_as": "cohorts n" if self.placed and p == 0 and milestone.get("type") == "STARTED"
                        else None,
                        "not_placed": None if self.placed and p == 0 and milestone.get("type") == "STARTED"
                        else "a participant-flow count (the first period's STARTED gives an arm's n)",
                        "last_update": last_update(self.rec) or None})

    def _measurements(self) -> None:
        self._flow()
        for i, om in enumerate(_list(self.results, "outcomeMeasuresModule", "outcomeMeasures")):
            measure, reason = self._measure_of(om)
            if not self.placed:
                measure, reason = None, None  # registry_records says why the record is not placed
            groups = {g.get("id"): g.get("title") or g.get("id") for g in _list(om, "groups")}
            denoms = {c.get("groupId"): c.get("value")
                      for d in _list(om, "denoms")[:1] for c in _list(d, "counts")}
            for c, cls in enumerate(_list(om, "classes")):
                for k, cat in enumerate(_list(cls, "categories")):
                    for m, meas in enumerate(_list(cat, "measurements")):
                        path = f"{OM}[{i}].classes[{c}].categories[{k}].measurements[{m}]"
                        title = groups.get(meas.get("groupId"), meas.get("groupId"))
                        placed, why = (self._outcome(om, measure, meas, title, denoms.get(meas.get("groupId")), path)
                                       if measure else (None, reason))
                        self.out.add("registry_measurements", {
                            "nct_id": self.nct, "path": path,
                            "outcome": om.get("title"), "outcome_type": om.get("type"),
                            "time_frame": om.get("timeFrame"), "param_type": om.get("paramType"),
                            "unit": om.get("unitOfMeasure"), "dispersion": om.get("dispersionType"),
                            "class_title": cls.get("title"), "category_title": cat.get("title"),
                            "group_id": meas.get("groupId"), "group_title": title,
                            "value": meas.get("value"), "lower": meas.get("lowerLimit"),
                            "upper": meas.get("upperLimit"), "spread": meas.get("spread"),
                            "denominator": denoms.get(meas.get("groupId")),
                            "placed_as": placed, "not_placed": why or None,
                            "last_update": last_update(self.rec) or None})

    def _outcome(self, om, measure, meas, title, denom, path) -> tuple[str | None, str]:
        value = number(meas.get("value"))
        if value is None:
            return None, f"value '{str(meas.get('value'))[:20]}' is not a number"
        grp = self.group(title)
        if grp.cohort is None:
            return None, grp.why
        if value < 0 or (measure in RESPONSES and om.get("paramType") != "COUNT_OF_PARTICIPANTS" and value > 100):
            return None, f"value {meas.get('value')} is outside what a {measure} can be"
        row = {"study": self.study, "cohort": grp.cohort, "measure": measure, "section": path,
               "source": self.source, "note": f"registry: {str(om.get('title'))[:80]}; "
               f"time frame: {str(om.get('timeFrame') or 'not stated')[:60]}"}
        if measure in RESPONSES:
            n = whole(denom)
            if n is None or not 1 <= n <= MAX_COUNT:
                return None, "no whole-number denominator of at least 1"
            if om.get("paramType") == "COUNT_OF_PARTICIPANTS":
                if whole(meas.get("value")) is None:
                    return None, "a count that is not a whole number"
                if whole(meas.get("value")) > n:
                    return None, f"count {meas.get('value')} is above its denominator {denom}"
                row.update(count=whole(meas.get("value")), denominator=n)
            else:
                row.update(percent_reported=value, denominator=n)
        else:
            unit = "median_months" if norm(om.get("unitOfMeasure") or "") == "months" else "median_weeks"
            row[unit] = value
            low, high = number(meas.get("lowerLimit")), number(meas.get("upperLimit"))
            if norm(om.get("dispersionType") or "") == "95% confidence interval" and _holds(value, low, high):
                row.update(ci_low=low, ci_high=high)
            elif norm(om.get("dispersionType") or "") == "95% confidence interval":
                row["note"] += "; its 95% interval does not hold the median: in the registry table only"
            elif meas.get("lowerLimit") or meas.get("upperLimit"):
                row["note"] += f"; interval ({om.get('dispersionType')}) in the registry table only"
        key = (grp.cohort, measure)
        if key in self.seen:
            return None, f"a second {measure} of this group in the record"
        self.seen.add(key)
        self.out.add("outcomes", row)
        return f"outcomes {measure}", ""

    # --- between-group analyses ---
    def _orientation(self, an: dict, a: Group, b: Group) -> bool | None:
        """True where the record's words say the estimate is a over b, False for b over a, None
        where they do not say (the registry does not structure it)."""
        text = norm(" ".join(str(an.get(k) or "") for k in ("estimateComment", "groupDescription")))

        def says(x: Group, y: Group) -> bool:
            return any(re.search(rf"(^|\W){re.escape(p)}\s*(/|vs\.?|versus|:)\s*{re.escape(q)}($|\W)", text)
                       for p in x.names for q in y.names if p and q)
        ab, ba = says(a, b), says(b, a)
        return ab if ab != ba else None

    def _analyses(self) -> None:
        for i, om in enumerate(_list(self.results, "outcomeMeasuresModule", "outcomeMeasures")):
            groups = {g.get("id"): g.get("title") or g.get("id") for g in _list(om, "groups")}
            codes = _phrases(om.get("title") or "", self.terms.outcome)
            code = next(iter(codes)) if len(codes) == 1 else None  # a ratio needs no class or unit rule
            for j, an in enumerate(_list(om, "analyses")):
                path = f"{OM}[{i}].analyses[{j}]"
                ids = [g for g in an.get("groupIds") or [] if isinstance(g, str)]
                placed, why = self._comparison(an, ids, groups, code, path)
                self.out.add("registry_analyses", {
                    "nct_id": self.nct, "path": path, "outcome": om.get("title"),
                    "group_ids": ";".join(ids) or None,
                    "group_titles": ";".join(str(groups.get(g, g)) for g in ids) or None,
                    "param_type": an.get("paramType"), "param_value": an.get("paramValue"),
                    "ci_pct": an.get("ciPctValue"), "ci_sides": an.get("ciNumSides"),
                    "ci_lower": an.get("ciLowerLimit"), "ci_upper": an.get("ciUpperLimit"),
                    "p_value": an.get("pValue"), "method": an.get("statisticalMethod"),
                    "non_inferiority": an.get("nonInferiorityType"),
                    "description": an.get("groupDescription") or an.get("estimateComment"),
                    "placed_as": placed, "not_placed": why or None, "last_update": last_update(self.rec) or None})

    def _comparison(self, an, ids, groups, measure, path) -> tuple[str | None, str]:
        statistic = STATISTICS.get(an.get("paramType"))
        if not self.placed:
            return None, None  # registry_records says why the record is not placed
        if statistic is None:
            return None, f"{an.get('paramType') or 'no parameter'}: not a hazard or odds ratio"
        if measure is None:
            return None, "outcome title names no known measure"
        if len(ids) != 2 or ids[0] not in groups or ids[1] not in groups:
            return None, "not exactly two of the outcome's groups"
        a, b = (self.group(groups[g]) for g in ids)
        if a.cohort is None or b.cohort is None:
            return None, (a if a.cohort is None else b).why
        if {a.role, b.role} != {"experimental", "control"}:
            return None, "the two groups are not an experimental and a control arm"
        if a.role == "control":
            a, b = b, a
        order = self._orientation(an, a, b)
        if order is None:
            return None, "the record's words do not say which arm is the numerator"
        if not order:
            return None, "the estimate is control over experimental; kept as posted here only"
        estimate = number(an.get("paramValue"))
        if estimate is None or estimate <= 0:
            return None, f"estimate '{str(an.get('paramValue'))[:20]}' is not a ratio (a number above 0)"
        p_value = number(an.get("pValue"))
        p_value = p_value if p_value is not None and 0 <= p_value <= 1 else None
        row = {"id": self.row_id(path), "study": self.study,
               "cohort_a": a.cohort, "cohort_b": b.cohort, "measure": measure, "statistic": statistic,
               "estimate": estimate, "p_text": an.get("pValue"), "p_value": p_value,
               "test": an.get("statisticalMethod"), "section": path, "source": self.source}
        level, sides = an.get("ciPctValue"), an.get("ciNumSides")
        low, high = number(an.get("ciLowerLimit")), number(an.get("ciUpperLimit"))
        if str(level).strip() == "95" and sides == "TWO_SIDED" and _holds(estimate, low, high):
            row.update(ci_low=low, ci_high=high, ci_level=95)  # the record states the level
        elif str(level).strip() == "95" and sides == "TWO_SIDED":
            row["note"] = "registry interval does not hold the estimate: in the registry table only"
        elif an.get("ciLowerLimit") or an.get("ciUpperLimit"):
            row["note"] = (f"registry interval is {level}% {str(sides or '').lower().replace('_', '-')}: "
                           "in the registry table only")
        self.out.add("comparisons", row)
        return f"comparisons {statistic}", ""

    # --- adverse events ---
    def _events(self) -> None:
        """Adverse events in three tables, so each posted word is written once: the event groups
        with their totals, the events (term, organ system), and each event's count per group."""
        ae = _get(self.results, "adverseEventsModule", default={})
        updated = last_update(self.rec) or None
        titles = {g.get("id"): g.get("title") or g.get("id") for g in _list(ae, "eventGroups")}
        for i, g in enumerate(_list(ae, "eventGroups")):
            self.out.add("registry_event_groups", {
                "nct_id": self.nct, "path": f"{AE}.eventGroups[{i}]", "group_id": g.get("id"),
                "title": g.get("title"),
                **{f"{k}_{w}": whole(g.get(f"{k}Num{c}")) for k in ("deaths", "serious", "other")
                   for w, c in (("affected", "Affected"), ("at_risk", "AtRisk"))},
                "last_update": updated})
        for kind in ("seriousEvents", "otherEvents"):
            for i, ev in enumerate(_list(ae, kind)):
                self.out.add("registry_events", {
                    "nct_id": self.nct, "path": f"{AE}.{kind}[{i}]",
                    "kind": "serious" if kind == "seriousEvents" else "other",
                    "term": ev.get("term"), "organ_system": ev.get("organSystem"),
                    "vocabulary": ev.get("sourceVocabulary"), "assessment": ev.get("assessmentType"),
                    "last_update": updated})
                for k, st in enumerate(_list(ev, "stats")):
                    path = f"{AE}.{kind}[{i}].stats[{k}]"
                    placed, why = (self._event(kind, ev, st, titles.get(st.get("groupId"), st.get("groupId")), path)
                                   if self.placed else (None, None))  # registry_records says why not
                    self.out.add("registry_event_counts", {
                        "nct_id": self.nct, "path": path, "group_id": st.get("groupId"),
                        "affected": whole(st.get("numAffected")), "at_risk": whole(st.get("numAtRisk")),
                        "events": whole(st.get("numEvents")), "placed_as": placed, "not_placed": why or None,
                        "last_update": updated})

    def _event(self, kind, ev, st, title, path) -> tuple[str | None, str]:
        category = ORGAN_SYSTEMS.get(norm(ev.get("organSystem") or ""))
        if category is None:
            return None, f"organ system '{str(ev.get('organSystem'))[:40]}' has no category here"
        count, n = whole(st.get("numAffected")), whole(st.get("numAtRisk"))
        if count is None or n is None:
            return None, "affected or at-risk count is not a whole number"
        if not 1 <= n <= MAX_COUNT or count > n:
            return None, f"{count} affected of {n} at risk is no proportion"
        grp = self.group(title)
        if grp.cohort is None:
            return None, grp.why
        drugs = sorted(grp.drugs)
        agent = next((d for d in drugs if d in self.agents), drugs[0] if drugs else None)
        if agent is None:
            return None, "the group's drugs are not known"
        self.out.add("adverse_events", {
            "id": self.row_id(path),
            "study": self.study, "cohort": grp.cohort, "agent": agent, "kind": "adverse_event",
            "category": category, "term": str(ev.get("term") or "").strip().lower(), "count": count, "n": n,
            "statement": ("serious adverse event" if kind == "seriousEvents" else
                          "other adverse event above the record's reporting threshold") + "; grade not stated",
            "section": path, "source": self.source})
        return "adverse_events", ""


def _holds(value: float, low: float | None, high: float | None) -> bool:
    """Whether an interval (either limit may be missing: 'NA' for not reached) holds its estimate,
    at or above 0: only such an interval is placed beside it."""
    return (low is None or 0 <= low <= value) and (high is None or value <= high)


def record_rows(rec: Record, terms: Terms) -> Rows:
    """Every table's rows from one record (see the module's docstring)."""
    return Record2Rows(rec, terms).rows()


# --- records into a dataset --------------------------------------------------------------------

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
            notes = rows.notes if had is None or when == had[0] else [
                *rows.notes, ("an earlier update of the record was set aside", f"updated {had[0]}", rec.nct)]
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


# --- registry against publications -------------------------------------------------------------

FIGURES = ("count", "denominator", "percent_reported", "median_months", "median_weeks", "ci_low", "ci_high")


def registry_differences(ds) -> object:
    """Every figure where a trial's registry record and its other reports differ, side by side:
    outcome figures of the same measure and arm (or of the whole trial), hazard and odds ratios,
    and the arms' sizes. Nothing is merged: both readings keep their sources."""
    import pandas as pd

    cols = ["trial", "figure", "arm", "registry", "registry_place", "publication", "publication_source",
            "publication_study", "difference"]
    studies = ds.studies
    is_reg = studies["source"].astype(str).str.startswith(SOURCE_PREFIX)
    out = []
    coh = ds.cohorts
    role = {(s, c): (a if isinstance(a, str) else ("all" if h is True else None))
            for s, c, a, h in zip(coh["study"], coh["cohort"], coh["arm"], coh["headline"], strict=True)}
    n_of = {(s, c): n for s, c, n in zip(coh["study"], coh["cohort"], coh["n"], strict=True)}
    place = dict(zip(zip(coh["study"], coh["cohort"], strict=True), coh["section"], strict=True))
    # a publication's whole arms only: a subgroup (a cohort under an arm) is another population
    whole_arm = {(s, c) for s, c, p in zip(coh["study"], coh["cohort"], coh["parent"], strict=True) if pd.isna(p)}
    for reg in studies[is_reg].itertuples(index=False):
        others = studies[(studies["trial"] == reg.trial) & ~is_reg]
        if not isinstance(reg.trial, str) or others.empty:
            continue
        mine = ds.outcomes[ds.outcomes["study"] == reg.study]
        theirs = ds.outcomes[ds.outcomes["study"].isin(set(others["study"]))]
        for r in mine.itertuples(index=False):
            arm = role.get((r.study, r.cohort))
            for p in theirs[(theirs["measure"] == r.measure) & theirs["timepoint"].isna()].itertuples(index=False):
                if arm is None or role.get((p.study, p.cohort)) != arm or (p.study, p.cohort) not in whole_arm:
                    continue
                for f in FIGURES:
                    a, b = getattr(r, f), getattr(p, f)
                    if pd.notna(a) and pd.notna(b) and float(a) != float(b):
                        out.append([reg.trial, f"{r.measure} {f}", arm, _num(a), r.section, _num(b), p.source,
                                    p.study, "value" if f not in ("denominator",) else "population"])
                if pd.notna(r.percent_reported) and pd.notna(p.count) and pd.notna(p.denominator) \
                        and pd.isna(p.percent_reported) and int(p.denominator):
                    from .query import percent_matches

                    if not percent_matches(int(p.count), int(p.denominator), float(r.percent_reported)):
                        out.append([reg.trial, f"{r.measure} percent", arm, _num(r.percent_reported), r.section,
                                    f"{int(p.count)}/{int(p.denominator)}", p.source, p.study, "value"])
            # the arm's size beside the publication's arm of the same role
        for (s, c), n in n_of.items():
            if s != reg.study or pd.isna(n) or role.get((s, c)) is None:
                continue
            for o in others.itertuples(index=False):
                for (s2, c2), n2 in n_of.items():
                    if s2 == o.study and role.get((s2, c2)) == role.get((s, c)) and (s2, c2) in whole_arm \
                            and pd.notna(n2) and int(n2) != int(n):
                        out.append([reg.trial, "n", role.get((s, c)), str(int(n)), place[(s, c)],
                                    str(int(n2)), o.source, o.study, "population"])
        mine_c = ds.comparisons[ds.comparisons["study"] == reg.study]
        theirs_c = ds.comparisons[ds.comparisons["study"].isin(set(others["study"]))]
        for r in mine_c.itertuples(index=False):
            for p in theirs_c[(theirs_c["measure"] == r.measure) & (theirs_c["statistic"] == r.statistic)].itertuples(
                    index=False):
                if (role.get((p.study, p.cohort_a)), role.get((p.study, p.cohort_b))) != ("experimental", "control") \
                        or not {(p.study, p.cohort_a), (p.study, p.cohort_b)} <= whole_arm:
                    continue
                for f in ("estimate", "ci_low", "ci_high"):
                    a, b = getattr(r, f), getattr(p, f)
                    if pd.notna(a) != pd.notna(b) or (pd.notna(a) and float(a) != float(b)):
                        out.append([reg.trial, f"{r.measure} {r.statistic} {f}", "experimental vs control",
                                    _num(a), r.section, _num(b), p.source, p.study,
                                    "interval level" if f != "estimate" and isinstance(r.note, str)
                                    and "registry interval is" in r.note else "value"])
    return pd.DataFrame(out, columns=cols)


def _num(v) -> str:
    import pandas as pd

    if v is None or pd.isna(v):
        return "–"
    f = float(v)
    return str(int(f)) if f == int(f) else f"{f:g}"


def refused_target(into: str | os.PathLike) -> str | None:
    """Why a folder cannot take an import (None: it can): it must be new, empty, or an earlier
    import holding only the files its package names, since the folder is replaced whole. A
    dataset of one's own is extended by importing into a new folder with it as the base."""
    from .data import resource_file

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
    other target `refused_target` refuses)."""
    import shutil
    import tempfile

    from .data import DataError, Dataset, check, write_package

    into = Path(into).absolute()
    if (reason := refused_target(into)) is not None:
        raise DataError([Problem(str(into), None, None, f"{reason}; nothing written")])
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name[:40]}.", dir=into.parent))
    try:
        write_package(Dataset(root=tmp, descriptor=done.descriptor, tables=done.tables), tmp)
        problems = check(tmp)[2]
        if problems:
            raise DataError(problems)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        old = None
        if into.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{into.name[:40]}.old.", dir=into.parent))
            os.rmdir(old)
            os.rename(into, old)
        os.rename(tmp, into)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
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
