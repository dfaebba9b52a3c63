"""The Python API under the `xpo1` command line: every command is one call of it.

    import xpo1cli
    mm = xpo1cli.open().select(disease="MM")      # names resolved, studies and arms filtered once
    mm.studies()                                  # the frame `xpo1 list -d MM` prints
    mm.pool("ORR", method="REML", by="regimen")   # the result `xpo1 pool -d MM --by regimen ...` prints

Each method returns the frame or result object its command prints (numbers as numbers, missing as
missing); the words and tables around them are the presentation's (present, render,
brief_render). Errors are typed: `UnknownName` (a name the dataset does not know, with the closest
names), `InvalidValue` (an option the method cannot use), `PoolError` (nothing to pool; its kind
`CrossRegimenPool`: cohorts of several regimens, with the regimens in `.regimens`) and
`DatasetError` (a dataset that fails its checks, with every problem in `.problems`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import pandas as pd

from . import data
from .datapackage import EXPORTABLE, Problem, bundled_root
from .datapackage import DataError as DatasetError
from .query import Filters, UnknownName
from .results import Audit, ComparatorTrial, Comparison, Harms, Reports
from .synthesis import CrossRegimenPool, MixedPool, PoolError, PoolResult

__all__ = ["CROSS_TRIAL", "EXPORTABLE", "Audit", "CannotWrite", "Comparison", "ComparatorTrial", "CrossRegimenPool",
           "Dataset", "DatasetError", "Harms", "InvalidValue", "MixedPool", "PoolError", "PoolResult", "Problem",
           "Reports", "Selection", "UnknownName", "check_interval", "check_pool", "import_ctgov", "open",
           "problem_table", "validate", "write_package"]

MAX_VALUE = 200  # characters of a name or filter value
CROSS_TRIAL = ("Cross-trial comparison: these are separate, non-randomized studies whose populations "
               "differ; do not read differences as treatment effects.")


def __getattr__(name: str):
    if name == "RecordProblems":  # ctgov.RecordProblems, loaded only when asked for
        from .ctgov import RecordProblems

        return RecordProblems
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class InvalidValue(ValueError):
    """A value a method cannot use (an unknown method, sort key or table; too few regimens); the
    message names what is known."""


class CannotWrite(OSError):
    """A file or folder that cannot be written where asked (`.path`, `.reason`); nothing was written."""

    def __init__(self, path, reason: str):
        super().__init__(f"cannot write {path}: {reason}; nothing written")
        self.path, self.reason = path, reason


def open(path: str | os.PathLike | None = None) -> Dataset:  # noqa: A001 (xpo1cli.open, as io.open)
    """The dataset at path (a folder or its datapackage.json; default: XPO1_DATA, else the bundled
    data), checked against its schema when its files are new and kept for the next call, as the
    command line reads it. Raises DatasetError with every problem found."""
    return Dataset(data.load(path))


def validate(path: str | os.PathLike | None = None) -> list[Problem]:
    """Every problem of the dataset at path, checked in full (empty: valid); never raises for a
    bad dataset."""
    return data.validate(path)


def write_package(out_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> list[Path]:
    """The dataset at path (as `open` reads it) written as a data package to out_dir, a new or empty
    folder: the folder is checked before the dataset is read (InvalidValue), and written whole
    or not at all (CannotWrite). Returns the files written."""
    target = _package_target(out_dir)  # refused before the dataset is read
    return open(path).write_package(target)


def _package_target(out_dir: str | os.PathLike) -> Path:
    """The folder a package goes to: a new or empty folder, else InvalidValue (CannotWrite when it
    cannot be read)."""
    if not os.fspath(out_dir).strip():
        raise InvalidValue("package needs a folder to write to, not an empty value")
    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise InvalidValue(f"{out_dir} exists and is not an empty folder; nothing written")
    except OSError as exc:
        raise CannotWrite(out_dir, exc.strerror or str(exc)) from None
    return out_dir


def import_ctgov(paths: str | os.PathLike | Sequence[str | os.PathLike], into: str | os.PathLike, *,
                 base: str | os.PathLike | None = None, terms: str | os.PathLike | None = None):
    """ClinicalTrials.gov records imported into the dataset at base (as `open` reads it) and written
    to the folder into, as `Dataset.import_ctgov` does; when into holds an earlier import, that
    import is extended instead (its records are replaced; `.replaced` is True and `.changes` lists
    the posted figures that changed). A write that fails raises CannotWrite."""
    target = _import_target(into)  # refused before any dataset is read
    again = (Path(target) / "datapackage.json").is_file()  # an earlier import: its own data is the base
    try:
        done = open(into if again else base).import_ctgov(paths, into, terms=terms)
    except OSError as exc:
        raise CannotWrite(os.fspath(into), exc.strerror or str(exc)) from exc
    done.replaced = again
    return done


def _import_target(into: str | os.PathLike) -> str:
    """The folder an import writes: new, empty, or an earlier import's; else InvalidValue."""
    from .ctgov import refused_target

    target = os.fspath(into)
    if not target.strip():
        raise InvalidValue("the folder to write the dataset to is an empty value")
    if (reason := refused_target(target)) is not None:
        raise InvalidValue(f"{target} {reason}; nothing written")
    return target


def problem_table(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table: file, row (the file's line), column, reason."""
    frame = pd.DataFrame([p.as_dict() for p in problems], columns=["file", "row", "column", "reason"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def check_interval(ci: str, level: float) -> str:
    """The interval method in any case ('exact' or 'wilson'); a level outside [0.5, 1) is refused,
    with the fraction a percentage meant."""
    from .stats import CI_METHODS, check_level

    ci = ci.strip().lower()
    if ci not in CI_METHODS:
        raise InvalidValue(f"unknown interval method '{ci}'; known: {', '.join(CI_METHODS)}")
    try:
        check_level(level)
    except ValueError as exc:
        hint = f"; did you mean {level / 100:g}?" if 50 <= level < 100 else ""
        raise InvalidValue(f"{exc}{hint}") from None
    return ci


def check_pool(method: str = "DL", ci: str = "exact", level: float = 0.95, correction: str = "only0",
               by: str | None = None) -> tuple[str, str, str | None]:
    """A pool's method, interval method and subgroup column as `Selection.pool` takes them (any
    case), or InvalidValue naming the known ones."""
    from .heterogeneity import CORRECTIONS, POOL_METHODS
    from .pooling import BY_COLUMNS

    method = method.strip().upper()
    if method not in POOL_METHODS:
        raise InvalidValue(f"unknown method '{method}'; known: {', '.join(POOL_METHODS)}")
    ci = check_interval(ci, level)
    if correction not in CORRECTIONS:
        raise InvalidValue(f"unknown continuity correction '{correction}'; known: {', '.join(CORRECTIONS)}")
    if by is not None:
        by = by.strip().lower()
        if by not in BY_COLUMNS:
            raise InvalidValue(f"cannot split a pool by '{by}'; known: {', '.join(BY_COLUMNS)}")
    return method, ci, by


def _checked(name: str, value: str | None) -> str | None:
    """A typed name: an empty or over-long one is refused rather than read as no filter."""
    if value is not None and not value.strip():
        raise InvalidValue(f"{name} needs a value")
    if value is not None and len(value) > MAX_VALUE:
        raise InvalidValue(f"{name} value is too long ({len(value)} characters)")
    return value


# --- the dataset and its selections ---------------------------------------------------------------

FILTERS = tuple(f.name for f in fields(Filters))


class Dataset:
    """An opened dataset: its tables, its catalogues, and selections of its studies."""

    def __init__(self, ds: data.Dataset):
        self.ds = ds  # the typed tables every domain function takes

    def __repr__(self) -> str:
        where = "bundled" if self.ds.root == bundled_root().resolve() else str(self.ds.root)
        return f"<xpo1cli.Dataset {where}: {len(self.ds.studies)} studies>"

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The package's tables as stored, by name."""
        return dict(self.ds.tables)

    def select(self, *, disease: str | None = None, agent: str | None = None,
               partner: str | Sequence[str] = (), regimen: str | None = None, phase: str | None = None,
               setting: str | None = None, evidence: str | None = None, min_n: int | None = None,
               source: str | None = None, design: str | None = None, randomized: bool | None = None,
               age: str | None = None, **more) -> Selection:
        """The studies every given filter keeps, and within them the arms the treatment filters
        (agent, partner, regimen) keep; names in any spelling the command line takes ('MM',
        'myeloma', 'S-Vd'). Raises UnknownName with the closest names."""
        partners = (partner,) if isinstance(partner, str) else tuple(partner)
        values = {"disease": disease, "agent": agent, "partner": partners, "regimen": regimen,
                  "phase": phase, "setting": setting, "evidence": evidence, "min_n": min_n,
                  "source": source, "design": design, "randomized": randomized, "age": age, **more}
        unknown = sorted(set(values) - set(FILTERS))
        if unknown:
            raise TypeError(f"select() got unknown filters: {', '.join(unknown)}; known: {', '.join(FILTERS)}")
        for name, value in values.items():
            for v in value if isinstance(value, tuple) else (value,):
                if isinstance(v, str):
                    _checked(name, v)
        return Selection(self, Filters(**values))

    # --- catalogues and whole tables (no selection) ----------------------------------------------
    def regimens(self) -> pd.DataFrame:
        """Regimens: code, drugs, partner classes, aliases, study count (`xpo1 regimens`)."""
        from .catalogue import regimen_catalogue

        return regimen_catalogue(self.ds)

    def diseases(self) -> pd.DataFrame:
        """Diseases with their hierarchy and study counts (`xpo1 diseases`)."""
        from .catalogue import disease_catalogue

        return disease_catalogue(self.ds)

    def agents(self) -> pd.DataFrame:
        """The XPO1 inhibitors with study counts (`xpo1 agents`)."""
        from .catalogue import agent_catalogue

        return agent_catalogue(self.ds)

    def sources(self, which: str | None = None) -> pd.DataFrame:
        """The sources with the studies and figures resting on each; which: review, later or all."""
        from .catalogue import sources_table

        return sources_table(self.ds, which)

    def schema(self, table: str | None = None) -> pd.DataFrame:
        """The data dictionary: every column of one table (all when None) with its type and meaning."""
        from .catalogue import schema_table

        return schema_table(self.ds, table)

    def cite(self, key: str) -> list[tuple[str, str]]:
        """(plain text, BibTeX) of a source id, or of every source of a study or trial id."""
        from .catalogue import citations
        from .query import suggest

        try:
            return citations(self.ds, key)
        except UnknownName:
            raise UnknownName(f"unknown source, study or trial '{key}'; "
                              f"{suggest(key, self.ds.sources['source'], listing='xpo1 sources')} "
                              "(or a study or trial id: 'xpo1 list' shows them)") from None

    def trials(self, status: str = "all", disease: str | None = None) -> pd.DataFrame:
        """Every trial with its status and reports; status: ongoing, results or all."""
        from .catalogue import trials_table

        _checked("status", status)
        return trials_table(self.ds, status, _checked("disease", disease))

    def syntheses(self, disease: str | None = None) -> pd.DataFrame:
        """Published systematic reviews' and meta-analyses' own pooled figures (never pooled again)."""
        from .catalogue import syntheses_table

        return syntheses_table(self.ds, disease)

    def export(self, table: str) -> pd.DataFrame:
        """A whole table with its derived columns (ref, partners, n, derived counts)."""
        from .catalogue import export_table
        from .query import suggest

        table = table.strip().lower()
        known = (*EXPORTABLE, *(t for t in self.ds.tables if t not in EXPORTABLE))  # a package's own too
        if table not in known:
            raise InvalidValue(f"unknown table '{table}'; {suggest(table, known)}")
        return export_table(self.ds, table)

    def import_ctgov(self, paths: str | os.PathLike | Sequence[str | os.PathLike], into: str | os.PathLike, *,
                     terms: str | os.PathLike | None = None):
        """ClinicalTrials.gov API v2 records (files, search pages {"studies": [...]}, folders) read
        into this dataset and written, whole or not at all, to the folder `into` (new, empty, or an
        earlier import's folder, where those records' rows are replaced); open it with
        `xpo1cli.open(into)`. Returns the import (`.records`, `.placed`, `.notes`, `.changes`).
        Raises InvalidValue for a target that is neither, ctgov.RecordProblems for files that are
        not records (each problem in `.problems`)."""
        from . import ctgov

        target = _import_target(into)
        paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        return ctgov.import_ctgov(paths, Path(target), self.ds, terms)

    def write_package(self, out_dir: str | os.PathLike) -> list[Path]:
        """The dataset's tables and descriptor written as a data package to out_dir (a new or empty
        folder; else InvalidValue), whole or not at all (CannotWrite): into a temporary folder
        beside it, renamed at the end, so a failed write leaves nothing behind. Returns the files."""
        from .files import write_folder

        out_dir = _package_target(out_dir)
        try:
            written = write_folder(out_dir, lambda tmp: data.write_package(self.ds, tmp))
        except OSError as exc:
            raise CannotWrite(out_dir, exc.strerror or str(exc)) from None
        return [out_dir / p.name for p in written]

    def registry_differences(self) -> pd.DataFrame:
        """Every figure where an imported registry record and its trial's other reports differ,
        side by side with both sources (empty where no record's trial has other reports)."""
        from .ctgov import registry_differences

        return registry_differences(self.ds)

    def indirect(self, a: str, b: str, measure: str = "PFS", *, via: str | None = None, report: str = "primary",
                 effect: str = "OR", method: str = "REML", level: float = 0.95):
        """The anchored indirect comparison of regimen a against b through the randomized trials
        that link them (`xpo1 indirect`): an `indirect.Answer` with each trial's estimate, the
        common-effect estimate, the random-effects one where estimable (`random`, `heterogeneity`)
        and the assessor's checks (`assessment`: `indirect_checks.Check` items, each with kind, severity,
        transitivity, text and trials; `anchors` and `populations` side by side). report: primary
        or latest report of each trial; effect (ORR): OR or RR; method: REML or DL for tau²."""
        from .indirect import compare

        check_interval("exact", level)
        return compare(self.ds, a, b, measure=measure, via=via, rule=report.strip().lower(), effect=effect,
                       level=level, method=method)

    def show(self, key: str) -> Reports | ComparatorTrial:
        """Everything about one study: a reference number (every report of it), a study id or a
        trial id (every report of the trial); a comparator trial's name gives a ComparatorTrial."""
        from .catalogue import find_studies, study_record
        from .comparators import find_trial, trial_record
        from .reports import reports_side_by_side

        if (trial := find_trial(self.ds, key)) is not None:  # no XPO1 arm: its own tables
            return ComparatorTrial(trial, trial_record(self.ds, trial))
        found = find_studies(self.ds, key)
        side = reports_side_by_side(self.ds, found) if len(found) > 1 else None
        return Reports(key, found, [study_record(self.ds, s) for s in found], side)

    def audit(self) -> Audit:
        """Every printed figure recomputed from its counts: disagreements and stated conflicts, and
        differences between reports of one trial. Nothing is corrected."""
        from .audit import audit
        from .headline import report_differences

        return Audit(audit(self.ds), report_differences(self.ds))


class Selection:
    """The studies a set of filters keeps (`.study_rows`, in ref order) and the (study, cohort)
    arms the treatment filters keep (`.arms`; None when no treatment filter is given)."""

    def __init__(self, dataset: Dataset, filters: Filters):
        from .query import filter_arms, filter_studies

        self.dataset = dataset
        self.filters = filters
        self.study_rows = filter_studies(dataset.ds, filters)
        self.arms = filter_arms(dataset.ds, filters, self.study_rows)

    def __repr__(self) -> str:
        given = {k: v for k, v in vars(self.filters).items() if v not in (None, ())}
        return f"<xpo1cli.Selection {given}: {len(self.study_rows)} studies>"

    def __len__(self) -> int:
        return len(self.study_rows)

    @property
    def ds(self) -> data.Dataset:
        return self.dataset.ds

    def studies(self, sort: str = "ref") -> pd.DataFrame:
        """One row per study, its headline population: n, ORR, depth of response, median PFS/OS
        (`xpo1 list`). sort: ref, study, disease, regimen, phase, n, orr, pfs, os or evidence."""
        return self._headline(False, sort)

    def cohorts(self, sort: str = "ref") -> pd.DataFrame:
        """One row per cohort or subgroup (`xpo1 list --cohorts`)."""
        return self._headline(True, sort)

    def _headline(self, all_cohorts: bool, sort: str) -> pd.DataFrame:
        from .headline import headline, sort_rows

        return sort_rows(headline(self.ds, self.study_rows, all_cohorts=all_cohorts, matched=self.arms),
                         sort.strip().lower())

    def compare(self, *regimens: str, include_preclinical: bool = False) -> Comparison:
        """Regimens side by side, one row per study (never blended), in the selection's disease:
        randomized arms of one trial are marked as such, every other pair as cross-trial."""
        from .headline import compare_frame, randomized_pairs
        from .query import Resolver
        from .reports import between_arms
        from .values import row_tuples

        if len(regimens) < 2:
            raise InvalidValue("compare needs at least two regimens, e.g. xpo1 compare SVd SPd")
        codes = [Resolver(self.ds).regimen(r) for r in regimens]
        if len(set(codes)) < len(codes):
            raise InvalidValue(f"the same regimen was named twice ({', '.join(codes)})")
        frame = compare_frame(self.ds, codes, disease=self.filters.disease,
                              include_preclinical=include_preclinical)
        if any(v not in (None, ()) for k, v in vars(self.filters).items() if k != "disease"):
            frame = frame[frame["study"].isin(set(self.study_rows["study"]))].reset_index(drop=True)
        frame["between_arms"] = between_arms(self.ds, frame)
        within = randomized_pairs(self.ds, frame)
        paired = {(r.study, r.cohort) for r in row_tuples(frame) if isinstance(r.arm, str) and within}
        others = [r for r in row_tuples(frame) if (r.study, r.cohort) not in paired]
        warnings = [*within]
        if others and len({r.compared for r in row_tuples(frame)}) > 1:
            warnings.append(CROSS_TRIAL if not within else
                            "Every other column is a cross-trial comparison: separate studies whose "
                            "populations differ; do not read those differences as treatment effects.")
        frame["comparison"] = ["randomized, within one trial" if (r.study, r.cohort) in paired
                               else "cross-trial, not randomized" for r in row_tuples(frame)]
        linked = []
        if len(codes) == 2:
            from .indirect_network import linked_measures

            linked = linked_measures(self.ds, *codes)
        return Comparison(codes, frame, warnings, list(linked))

    def response(self, measure: str | None = None, ci: str = "exact", level: float = 0.95) -> pd.DataFrame:
        """Response by cohort: every category as count and %, the summaries with confidence
        intervals, the disease's depth summaries. measure narrows to one (ORR, CR, ≥VGPR or ge_vgpr)."""
        from .response import response_table

        ci = check_interval(ci, level)
        if measure is not None and re.fullmatch(r"(?i)\s*(ge_?|>=|≥)(cr|vgpr)\s*", measure):
            measure = "≥" + re.sub(r"(?i)^\s*(ge_?|>=|≥)", "", measure).strip().upper()
        return response_table(self.ds, self.study_rows, measure=measure, method=ci, level=level,
                              matched=self.arms)

    def survival(self, measure: str | None = None, sort: str = "ref") -> pd.DataFrame:
        """Median PFS, OS, duration of and time to response by cohort, each in its own unit.
        sort: ref, or median (longest first, within each unit)."""
        from .survival import survival_table

        sort = sort.strip().lower()
        if sort not in ("ref", "median"):
            raise InvalidValue(f"unknown sort key '{sort}'; known: ref, median")
        frame = survival_table(self.ds, self.study_rows, measure=measure, matched=self.arms)
        if sort == "median":  # months first, then weeks: a median is compared only within its unit
            frame = frame.sort_values(["unit", "median", "ref", "study", "cohort"],
                                      ascending=[True, False, True, True, True], kind="stable",
                                      na_position="last").reset_index(drop=True)
        return frame

    def toxicity(self, category: str | None = None, kind: str | None = None,
                 arms: bool | None = None) -> Harms:
        """The adverse-event profile, mitigations, dose findings and CNS contrast. The selection's
        agent names the drug of a finding here (a class-level finding applies to every agent).
        arms: None gives the findings and, where they hold adverse events, the arm-against-arm
        table of randomized trials; True that table alone; False the findings alone."""
        import dataclasses

        from .query import Resolver, filter_arms, filter_studies
        from .toxicity import toxicity_arms, toxicity_table

        # the agent names the drug of a finding, not of a study: resolved, not filtered on
        f = dataclasses.replace(self.filters, agent=None)
        studies, matched, agent = self.study_rows, self.arms, self.filters.agent
        if agent is not None:
            studies = filter_studies(self.ds, f)
            matched = filter_arms(self.ds, f, studies)
            agent = Resolver(self.ds).agent(agent)
        events = kind is None or "adverse_event".startswith(
            kind.strip().casefold().replace("-", "_").replace(" ", "_") or "?")
        if arms and not events:
            raise InvalidValue(f"--arms compares adverse events between arms; --kind {kind} has no such table")
        paired = toxicity_arms(self.ds, studies) if arms or (arms is None and events) else None
        if paired is not None and (category is not None or agent is not None):
            # the arm table holds adverse events only: keep the events that the filters keep
            wanted = toxicity_table(self.ds, studies, agent=agent, category=category, kind="adverse_event",
                                    source=self.filters.source)
            keep = set(zip(wanted["study"], wanted["term"], strict=True))
            paired = paired[[(s, t) in keep for s, t in zip(paired["study"], paired["term"], strict=True)]]
        if arms:
            return Harms(None, paired)
        return Harms(toxicity_table(self.ds, studies, agent=agent, category=category, kind=kind,
                                    source=self.filters.source, matched=matched, arm_filters=f), paired)

    def pool(self, measure: str = "ORR", method: str = "DL", *, ci: str = "exact", level: float = 0.95,
             knha: bool = False, by: str | None = None, leave_one_out: bool = False,
             correction: str = "only0", include_controls: bool = False,
             across_regimens: bool = False, allow_mixed: bool = False) -> PoolResult:
        """Random-effects meta-analysis of a proportion across the selected cohorts (logit scale),
        one population per trial; control arms only with include_controls, pooled apart. method:
        DL, REML or PM; by: one estimate per subgroup (disease, regimen, setting, agent, design or
        source). Cohorts of several regimens are pooled only one pool per regimen (by="regimen", no
        figure across them) or with across_regimens=True (the pooled rows say "across regimens" and
        name them); of several diseases, settings or designs only with allow_mixed=True. Raises
        CrossRegimenPool or MixedPool (PoolErrors) for those not asked for (docs/api.md)."""
        from .synthesis import pool

        method, ci, by = check_pool(method, ci, level, correction, by)
        return pool(self.ds, self.study_rows, measure, matched=self.arms, include_controls=include_controls,
                    method=method, ci=ci, level=level, knha=knha, correction=correction, by=by,
                    leave_one_out=leave_one_out, across_regimens=across_regimens, allow_mixed=allow_mixed)

    def brief(self, level: float = 0.95):
        """The evidence brief of the selection (one disease, usually): a `brief.Brief` that
        brief_render writes as text, Markdown or an HTML page."""
        from .brief import build_brief

        return build_brief(self.ds, self.filters, level=level)

