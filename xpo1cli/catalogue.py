"""Single studies, catalogues and exports: find a study by any name, its record and other
reports; the regimen, disease and agent catalogues; sources, citations, the schema, registered
trials and published syntheses. Pure functions of the dataset; no printing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .counts import outcome_table
from .data import Dataset
from .datapackage import as_fields, foreign_keys
from .query import Resolver, UnknownName, later_wanted, norm, study_table, suggest
from .values import (
    LIST_SEP,
    missing,
    row_tuples,
    split_list,
    value_or_none,
)

# --- single studies, catalogues, exports ----------------------------------------------


def find_studies(ds: Dataset, key: str) -> list[str]:
    """Study ids for a ref number (a ref may have several reports) or a study id."""
    key = key.strip()
    studies = ds.studies
    if key.isdigit():  # a reference number (digits of any script; superscripts are no number)
        hits = (sorted(studies.loc[studies["ref"] == int(key), "study"])
                if key.isdecimal() and len(key) <= 6 else [])
        if hits:
            return hits
        refs = sorted({int(r) for r in studies["ref"].dropna()})
        shown = key if len(key) <= 12 else key[:12] + "..."
        raise UnknownName(f"no study with ref {shown}; refs: {', '.join(map(str, refs))}")
    ids = {s.casefold(): s for s in studies["study"]}
    if key.casefold() in ids:
        return [ids[key.casefold()]]
    trials = {norm(t): t for t in ds.trials["trial"]}
    for trial, registry in zip(ds.trials["trial"], ds.trials["registry"], strict=True):  # NCT… ids
        for rid in split_list(registry):
            trials.setdefault(norm(rid), trial)
    if norm(key) in trials:
        trial = trials[norm(key)]
        return list(studies.loc[studies["trial"] == trial, "study"])
    raise UnknownName(f"unknown study or trial '{key}'; "
                      f"{suggest(key, [*studies['study'], *ds.trials['trial']], listing='xpo1 list')}")


def study_record(ds: Dataset, study: str) -> dict:
    """One study's fields (derived ones included), cohorts, outcomes and safety rows."""
    st = study_table(ds)
    row = st[st["study"] == study].iloc[0]

    fields = {k: value_or_none(v) for k, v in row.items()}
    outcomes = outcome_table(ds, studies=[study])
    cohorts = ds.cohorts[ds.cohorts["study"] == study].reset_index(drop=True)
    ae = ds.adverse_events[ds.adverse_events["study"] == study].reset_index(drop=True)
    comparisons = ds.comparisons[ds.comparisons["study"] == study].reset_index(drop=True)
    syntheses = ds.syntheses[ds.syntheses["study"] == study].reset_index(drop=True)
    return {"study": fields, "cohorts": cohorts, "outcomes": outcomes, "comparisons": comparisons,
            "adverse_events": ae, "syntheses": syntheses, "other_reports": other_reports(ds, study)}


def other_reports(ds: Dataset, study: str) -> pd.DataFrame:
    """The other reports of this study's trial (a later journal report of a review's reference, an
    interim abstract of a published trial), in the data's order: study, ref, report, role, source."""
    studies = ds.studies
    trial = studies.loc[studies["study"] == study, "trial"]
    if trial.empty or missing(trial.iloc[0]):
        return studies.iloc[:0][["study", "ref", "report", "report_role", "source"]].reset_index(drop=True)
    same = studies[(studies["trial"] == trial.iloc[0]) & (studies["study"] != study)]
    return same[["study", "ref", "report", "report_role", "source"]].reset_index(drop=True)


def _count_by(studies: pd.DataFrame, column: str, split: bool = False) -> dict[str, tuple[int, str]]:
    out: dict[str, list] = {}
    for value, ref in zip(studies[column], studies["ref"], strict=True):
        for v in (split_list(value) if split else [value]):
            out.setdefault(v, []).append(ref)
    return {k: (len(v), ", ".join(sorted({str(int(r)) for r in v if not missing(r)},
                                          key=int))) for k, v in out.items()}


def regimen_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    drug_class = {d: split_list(c) for d, c in zip(ds.drugs["drug"], ds.drugs["drug_class"],
                                                   strict=True)}
    counts = _count_by(ds.studies, "regimen")
    rows = []
    for r in row_tuples(ds.regimens):
        partners = split_list(r.partners)
        classes = sorted({c for p in partners for c in drug_class.get(p, [])})
        n, refs = counts.get(r.regimen, (0, ""))
        rows.append({"regimen": r.regimen, "name": r.name, "agent": r.agent,
                     "partners": LIST_SEP.join(partners) or None,
                     "partner_classes": LIST_SEP.join(classes) or None,
                     "aliases": r.aliases, "n_studies": n, "refs": refs or None})
    del res
    return pd.DataFrame(rows, columns=["regimen", "name", "agent", "partners", "partner_classes",
                                       "aliases", "n_studies", "refs"])


def disease_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    studies = ds.studies
    rows = []
    for d in row_tuples(ds.diseases):
        codes = res.disease_codes(d.disease)
        mask = studies["disease"].map(lambda v, c=codes: bool(c & set(split_list(v))))
        refs = sorted({int(r) for r in studies.loc[mask, "ref"].dropna()})
        rows.append({"disease": d.disease, "name": d.name, "parent": d.parent,
                     "includes": LIST_SEP.join(sorted(codes - {d.disease})) or None,
                     "n_studies": int(mask.sum()), "refs": ", ".join(map(str, refs)) or None})
    return pd.DataFrame(rows, columns=["disease", "name", "parent", "includes", "n_studies", "refs"])


def agent_catalogue(ds: Dataset) -> pd.DataFrame:
    res = Resolver(ds)
    drugs = ds.drugs.set_index("drug")
    counts = _count_by(ds.studies, "agent")
    rows = []
    for a in res.agents():
        n, refs = counts.get(a, (0, ""))
        regs = sorted(set(ds.studies.loc[ds.studies["agent"] == a, "regimen"].dropna()))
        rows.append({"agent": a, "aliases": drugs.at[a, "aliases"],
                     "generation": drugs.at[a, "generation"], "n_studies": n,
                     "regimens": LIST_SEP.join(regs) or None, "refs": refs or None})
    frame = pd.DataFrame(rows, columns=["agent", "aliases", "generation", "n_studies", "regimens",
                                        "refs"])
    return frame.sort_values(["n_studies", "agent"], ascending=[False, True], kind="stable")


def export_table(ds: Dataset, table: str) -> pd.DataFrame:
    """A table as stored, plus the derived columns other tools rely on."""
    if table == "studies":
        return study_table(ds)
    if table == "outcomes":
        return outcome_table(ds, derive_orr=False)
    if table == "regimens":
        return regimen_catalogue(ds)
    if table in ("cohorts",):
        refs = dict(zip(ds.studies["study"], ds.studies["ref"], strict=True))
        frame = ds.cohorts.copy()
        frame.insert(0, "ref", pd.array([refs.get(s) for s in frame["study"]], dtype="Int64"))
        return frame
    return getattr(ds, table).copy()


def sources_table(ds: Dataset, which: str | None = None) -> pd.DataFrame:
    """Sources with the number of studies and figures resting on each."""
    src = ds.sources.copy()
    wanted = later_wanted(which)
    if wanted is not None:
        src = src[src["published_after_review"].astype(bool) == wanted]
    figures = pd.concat([ds.outcomes["source"], ds.comparisons["source"], ds.adverse_events["source"]])
    counts = figures.value_counts()
    src["figures"] = pd.array([int(counts.get(s, 0)) for s in src["source"]], dtype="Int64")
    return src.reset_index(drop=True)


def citations(ds: Dataset, key: str) -> list[tuple[str, str]]:
    """(plain text, BibTeX) for a source id, or for every source of a study or trial. Only the
    fields a source states are used; nothing is completed from elsewhere."""
    src = ds.sources.set_index("source")
    wanted: list[str]
    match = [s for s in src.index if s.casefold() == key.strip().casefold()]
    if match:
        wanted = match
    else:
        studies = find_studies(ds, key)
        used = pd.concat([ds.studies.loc[ds.studies["study"].isin(studies), "source"],
                          ds.outcomes.loc[ds.outcomes["study"].isin(studies), "source"],
                          ds.comparisons.loc[ds.comparisons["study"].isin(studies), "source"]])
        wanted = list(dict.fromkeys(used))
    # (field, how plain text shows it, BibTeX key): only what the source states
    layout = (("title", "{}", "title"), ("citation", "{}", "note"), ("doi", "doi:{}", "doi"),
              ("pmid", "PMID {}", "pmid"), ("address", "{}", "url"))
    out = []
    for sid in wanted:
        r = src.loc[sid]
        stated = [(f, plain, key, r[f]) for f, plain, key in layout if isinstance(r[f], str) and r[f]]
        kind = r["kind"] if isinstance(r["kind"], str) else "source"
        text = f"[{sid}] " + ". ".join(plain.format(v) for _, plain, _, v in stated) + f" ({kind})"
        bib = "\n".join([f"@misc{{xpo1-{sid.lower()},",
                          *(f"  {key} = {{{v}}}," for _, _, key, v in stated),
                          f"  howpublished = {{{kind}}}", "}"])
        out.append((text, bib))
    return out


_MONTHS = {m[:3].casefold(): i for i, m in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"), start=1)}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_YR = r"(?:19[5-9]\d|20\d\d)"
# the forms a date takes in the data, most precise first: 2017-03-02, 1 August 2023, March 13, 2025,
# 2022 Apr 5, January 2016, 1/2018, 2020
_DATE = re.compile(
    rf"(?<![\d/])(?P<iso>(?P<iy>{_YR})-(?P<im>[01]\d)-(?P<id>[0-3]\d))(?!\d)"
    rf"|(?<!\d)(?P<dmy>(?P<dd>[0-3]?\d) (?P<dm>{_MONTH}) (?P<dy>{_YR}))(?!\d)"
    rf"|(?P<mdy>(?P<mm>{_MONTH}) (?P<md>[0-3]?\d), (?P<my>{_YR}))(?!\d)"
    rf"|(?<!\d)(?P<ymd>(?P<yy>{_YR}) (?P<ym>{_MONTH}) (?P<yd>[0-3]?\d))(?!\d)"
    rf"|(?P<mon>(?P<om>{_MONTH}) (?P<oy>{_YR}))(?!\d)"
    rf"|(?<![\d/.])(?P<year>{_YR})(?!\d|/|-\d)", re.IGNORECASE)
# what a date is, read from the words of its clause (first match wins); a clause that looks ahead
# ('expected', 'completion') states no date of the evidence
_DATE_KINDS = (("data cut-off", re.compile(r"data cut|cut-?off|data as of|as of", re.I)),
               ("press-release date", re.compile(r"press release", re.I)),
               ("announcement date", re.compile(r"announc", re.I)),
               ("publication date", re.compile(r"published", re.I)),
               ("date of the report", re.compile(r"\bdated\b|date of the (?:news|company) report|date of the news item",
                                                 re.I)),
               ("date of the last update", re.compile(r"last updated?|protocol update", re.I)),
               ("conference year", re.compile(r"\b(?:ASH|EHA|ASCO|ESMO|IMS)\b")))
_AHEAD = re.compile(r"expected|completion|planned", re.I)


@dataclass(frozen=True)
class StatedDate:
    """A date a source states about itself or its figures, as printed, with what kind of date it is
    (a data cut-off, a press-release date, the year in its citation ...)."""

    source: str
    printed: str
    kind: str
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        return self.year, self.month or 0, self.day or 0

    @property
    def text(self) -> str:
        """The date as a reader writes it: '1 August 2023', 'January 2016', '2021'."""
        from calendar import month_name

        if self.month is None:
            return str(self.year)
        return f"{f'{self.day} ' if self.day else ''}{month_name[self.month]} {self.year}"


def _month(name: str) -> int:
    return _MONTHS[name[:3].casefold()]


def dates_in(text, source: str, default: str) -> list[StatedDate]:
    """Every date the text states, each with its kind: read from the words of its own clause (a
    clause ends at ';' or a bracket), else `default`. Dates in a clause about the future are left out."""
    if not isinstance(text, str):
        return []
    out = []
    for clause in re.split(r"[;()]", text):
        if _AHEAD.search(clause):
            continue
        kind = next((k for k, pattern in _DATE_KINDS if pattern.search(clause)), default)
        for m in _DATE.finditer(clause):
            g = m.groupdict()
            if g["iso"]:
                y, mo, d = int(g["iy"]), int(g["im"]), int(g["id"])
            elif g["dmy"]:
                y, mo, d = int(g["dy"]), _month(g["dm"]), int(g["dd"])
            elif g["mdy"]:
                y, mo, d = int(g["my"]), _month(g["mm"]), int(g["md"])
            elif g["ymd"]:
                y, mo, d = int(g["yy"]), _month(g["ym"]), int(g["yd"])
            elif g["mon"]:
                y, mo, d = int(g["oy"]), _month(g["om"]), None
            else:
                y, mo, d = int(g["year"]), None, None
            if mo is not None and not 1 <= mo <= 12 or d is not None and not 1 <= d <= 31:
                continue
            out.append(StatedDate(source, m.group(0), kind, y, mo, d))
    return out


def stated_dates(ds: Dataset) -> dict[str, StatedDate]:
    """The latest date each source states, for the sources that state one, with its kind: from the
    source's own record (its kind, title and citation: 'company press release, 2017-03-02', 'Lancet
    2020;396...'), the reports it gives ('data cutoff 1 August 2023', 'interview report dated 16
    October 2024'), its figures' time points and cohorts (a data cut-off), the regulatory steps it
    reports ('announced 20 July 2022') and comparator data cuts. An address or DOI is never read
    (its digits are identifiers)."""
    found: list[StatedDate] = []
    fields = [("sources", "source", "kind", "date in its description"),
              ("sources", "source", "title", "date in its title"),
              ("sources", "source", "citation", "date in its citation"),
              ("studies", "source", "report", "date of the report it gives"),
              ("outcomes", "source", "timepoint", None), ("cohorts", "source", "label", None),
              ("approvals", "source", "note", "date of the regulatory step it reports")]
    for table, src, col, default in fields:
        frame = getattr(ds, table, None)
        if frame is None or col not in frame.columns or src not in frame.columns:
            continue
        for sid, text in zip(frame[src], frame[col], strict=True):
            if isinstance(sid, str):
                # a figure's own text states a date only where it names it a data cut-off
                found += [d for d in dates_in(text, sid, default or "") if d.kind == "data cut-off" or default]
    results = getattr(ds, "comparator_results", None)
    if results is not None and {"cut_date", "source"} <= set(results.columns):
        for sid, cut in zip(results["source"], results["cut_date"], strict=True):
            if isinstance(sid, str):
                found += [StatedDate(sid, d.printed, "data cut-off", d.year, d.month, d.day)
                          for d in dates_in(cut, sid, "data cut-off")]
    out: dict[str, StatedDate] = {}
    for d in found:
        if d.source not in out or d.key > out[d.source].key:
            out[d.source] = d
    return out


def schema_table(ds: Dataset, table: str | None = None) -> pd.DataFrame:
    """The data dictionary: every column of every table with its type, constraints and meaning,
    read from the package descriptor in use."""
    rows = []
    names = [r["name"] for r in ds.descriptor["resources"]]
    if table is not None and table not in names:
        raise UnknownName(f"unknown table '{table}'; {suggest(table, names)}")
    for res in ds.descriptor["resources"]:
        if table is not None and res["name"] != table:
            continue
        schema = res["schema"]
        pk = as_fields(schema.get("primaryKey") or [])
        refs = {}
        for fk in foreign_keys(schema):
            fields = as_fields(fk["fields"])
            target = fk["reference"]["resource"] or res["name"]
            tfields = as_fields(fk["reference"]["fields"])
            for f, t in zip(fields, tfields, strict=True):
                refs.setdefault(f, []).append(f"{target}.{t}")
        for f in schema["fields"]:
            c = f.get("constraints", {})
            allowed = []
            if "enum" in c:
                allowed.append(", ".join(map(str, c["enum"])))
            if "minimum" in c:
                allowed.append(f">= {c['minimum']}")
            if "maximum" in c:
                allowed.append(f"<= {c['maximum']}")
            if "pattern" in c:
                allowed.append(f"pattern {c['pattern']}")
            rows.append({"table": res["name"], "column": f["name"], "type": f["type"],
                         "required": bool(c.get("required")), "key": "primary" if f["name"] in pk else None,
                         "references": "; ".join(refs.get(f["name"], [])) or None,
                         "allowed": "; ".join(allowed) or None, "meaning": f.get("description")})
    return pd.DataFrame(rows, columns=["table", "column", "type", "required", "key", "references",
                                       "allowed", "meaning"])


TRIAL_STATUSES = ("ongoing", "ended", "reported", "unreported", "all")
ONGOING_STATUSES = ("registered", "recruiting", "active, not recruiting")
ENDED_STATUSES = ("closed", "stopped early")
REPORTED = "reported"
NOT_REPORTED = "no result report in our sources"


def result_reports(ds: Dataset) -> set[str]:
    """The reports (studies) that report results: any report that carries a figure (an outcome,
    a comparison or an adverse event), or whose role is stated and is not a registration (a
    conference abstract of an interim analysis reports results even where its stored copy ends
    before them)."""
    figures = set(ds.outcomes["study"].unique()) | set(ds.comparisons["study"].unique()) | set(
        ds.adverse_events["study"].dropna().unique())
    roles = ds.studies["report_role"]
    stated = ds.studies.loc[roles.notna() & (roles != "registration"), "study"]
    return figures | set(stated)


def trials_table(ds: Dataset, status: str | None = None, disease: str | None = None) -> pd.DataFrame:
    """Every trial with its status exactly as a source states it (empty where none does), and
    whether it has reported: 'results' is derived from the reports in the data (result_reports),
    'figures' says whether any of them carries a figure here. status filters: 'ongoing' (a
    source states it registered, recruiting or active), 'ended' (a source states it closed or
    stopped), 'reported' (a result report is in the data; 'results' is the same), 'unreported'
    (none is), None / 'all'. A status is never inferred from the reports."""
    figures = set(ds.outcomes["study"].unique()) | set(ds.comparisons["study"].unique()) | set(
        ds.adverse_events["study"].dropna().unique())
    reported = result_reports(ds)
    studies = ds.studies
    reports_of = {trial: reports for trial, reports in studies.groupby("trial", sort=False)}
    rows = []
    for t in row_tuples(ds.trials):
        reports = reports_of.get(t.trial, studies.iloc[:0])
        rows.append({"trial": t.trial, "name": t.name, "phase": t.phase, "disease": t.disease,
                     "randomized": t.randomized, "registry": t.registry, "planned_n": t.planned_n,
                     "status": t.status,
                     "results": REPORTED if set(reports["study"]) & reported else NOT_REPORTED,
                     "figures": "yes" if set(reports["study"]) & figures else "none stored",
                     "reports": LIST_SEP.join(reports["study"]),
                     "roles": LIST_SEP.join(dict.fromkeys(r for r in reports["report_role"] if isinstance(r, str))),
                     "source": t.source, "note": t.note})
    frame = pd.DataFrame(rows, columns=["trial", "name", "phase", "disease", "randomized", "registry",
                                        "planned_n", "status", "results", "figures", "reports", "roles",
                                        "source", "note"])
    frame["planned_n"] = frame["planned_n"].astype("Int64")
    key = norm(status or "all")
    if key == "ongoing":
        frame = frame[frame["status"].isin(ONGOING_STATUSES)]
    elif key == "ended":
        frame = frame[frame["status"].isin(ENDED_STATUSES)]
    elif key in ("reported", "results"):
        frame = frame[frame["results"] == REPORTED]
    elif key == "unreported":
        frame = frame[frame["results"] != REPORTED]
    elif key != "all":
        raise UnknownName(f"unknown status '{status}'; known: {', '.join(TRIAL_STATUSES)}")
    if disease:
        codes = Resolver(ds).disease_codes(disease)
        frame = frame[frame["disease"].map(lambda v: bool(codes & set(split_list(v)))).astype(bool)]
    return frame.reset_index(drop=True)


def syntheses_table(ds: Dataset, disease: str | None = None) -> pd.DataFrame:
    """Published pooled figures of systematic reviews and meta-analyses, with the kind of their
    source: kept apart from the trials and never pooled again."""
    syn = ds.syntheses.merge(ds.studies[["study", "disease"]], on="study", how="left")
    kinds = dict(zip(ds.sources["source"], ds.sources["kind"], strict=True))
    syn["source_kind"] = [kinds.get(s) for s in syn["source"]]
    if disease:
        codes = Resolver(ds).disease_codes(disease)
        syn = syn[syn["disease"].map(lambda v: bool(codes & set(split_list(v)))).astype(bool)]
    cols = ["study", "disease", "measure", "population", "regimen", "value", "unit", "low", "high",
            "out_of", "bracket", "source", "source_kind", "note"]
    return syn[cols].reset_index(drop=True)


def published_pooled(ds: Dataset, studies: Iterable[str], measure: str) -> list[str]:
    """A line for every published pooled percentage of this measure in the given (synthesis)
    studies, to print beside a pool of the same question."""
    syn = ds.syntheses
    syn = syn[syn["study"].isin(set(studies)) & (syn["measure"] == measure) & (syn["unit"] == "percent")]
    kinds = dict(zip(ds.sources["source"], ds.sources["kind"], strict=True))
    out = []
    for r in row_tuples(syn):
        bracket = (f" ({_fmt(r.low)} to {_fmt(r.high)}%, {r.bracket})"
                   if value_or_none(r.low) is not None and value_or_none(r.high) is not None else "")
        whose = "; ".join(f"{label} {v}" for label, v in (("population", getattr(r, "population", None)),
                                                           ("regimen", getattr(r, "regimen", None)))
                          if isinstance(v, str) and v.strip())
        out.append(f"published pooled {measure} of {r.study}{f' ({whose})' if whose else ''} "
                   f"[{r.source}, {kinds.get(r.source)}]: "
                   f"{_fmt(r.value)}%{bracket}; a synthesis of other studies, shown beside this pool "
                   "and never pooled again")
    return out


def _fmt(v) -> str:
    return f"{float(v):g}"
