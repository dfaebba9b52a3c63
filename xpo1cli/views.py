"""The views a clinician reads: headline rows, comparisons, response, survival and toxicity
tables. Pure functions of the dataset and the query layer; no printing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd

from .audit import cohort_flags
from .data import Dataset, per_dataset
from .query import (
    CATEGORIES,
    COMPOSITES,
    CUMULATIVE_BASIS,
    CUMULATIVE_READING,
    TIME_MEASURES,
    Filters,
    Resolver,
    UnknownName,
    arm_mask,
    arm_table,
    design,
    filter_arms,
    filter_studies,
    later_wanted,
    of_cohorts,
    outcome_table,
    percent_of,
    printed_as_cumulative,
    split_list,
    study_table,
)
from .values import (
    all_matches,
    first_rows,
    key_codes,
    last_match,
    missing,
    most_frequent,
    per_distinct,
    row_tuples,
    run_starts,
    value_or_none,
)

SORT_KEYS = ("ref", "study", "disease", "regimen", "phase", "n", "orr", "pfs", "os", "evidence")

# --- headline rows ------------------------------------------------------------------------------

DEPTH = {"MM": ("≥VGPR", "≥CR"), "WM": ("≥VGPR", "≥CR"), "AML": ("CR/CRi",), "MDS": ("CR/CRi",),
         "NHL": ("CR",), "DLBCL": ("CR",), "MCL": ("CR",), "TCL": ("CR",), "NKTCL": ("CR",),
         "MSARC": ("CR/CRi",), "AL": ("CR/CRi",)}
DEPTH_PARTS = {"≥VGPR": ("sCR", "CR", "VGPR"), "≥CR": ("sCR", "CR"), "CR/CRi": ("CR", "CRi"),
               "CR": ("CR",)}
DEPTH_STORED = {"CR/CRi": "CR_CRi", "CR": "CR", "≥CR": "CR_or_better"}  # printed directly


def depth_labels(disease) -> tuple[str, ...]:
    """The depth-of-response summaries clinicians read in this disease, most used first."""
    codes = split_list(disease)
    return DEPTH.get(codes[0], ()) if codes else ()


def chosen_cohorts(arms: pd.DataFrame, all_cohorts: bool = False,
                   matched: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """The cohorts a listing shows: each study's headline population, or every cohort. With
    arm filters (`matched`), the matching cohorts instead: in a study with arms, each matching
    top-level arm; elsewhere the headline population if it matches."""
    keys = pd.Series(list(zip(arms["study"], arms["cohort"], strict=True)), index=arms.index)
    if matched is None:
        return arms if all_cohorts else arms[arms["headline"].astype(bool)]
    hit = arms[keys.isin(matched)]
    if all_cohorts:
        return hit
    has_arms = set(arms.loc[arms["arm"].notna(), "study"])
    arm_of = dict(zip(zip(arms["study"], arms["cohort"], strict=True), arms["arm"], strict=True))
    # a top-level arm: an arm whose parent (if any) is the whole population, not another arm
    top = pd.Series([not isinstance(p, str) or not isinstance(arm_of.get((s, p)), str)
                     for s, p in zip(hit["study"], hit["parent"], strict=True)], index=hit.index, dtype=bool)
    in_arms = hit["study"].isin(has_arms)
    head = hit["headline"].astype(bool)
    pick = (in_arms & top & hit["arm"].notna()) | (~in_arms & head)
    # a study without arms whose headline does not match: its matching top-level cohorts
    missing = ~in_arms & ~hit["study"].isin(set(hit.loc[pick, "study"])) & hit["parent"].isna()
    return hit[pick | missing]


@dataclass(frozen=True)
class CohortFigures:
    """What the headline rows read of a set of cohorts: their outcome rows (`outcomes`, from
    query.outcome_table), the figures of each cohort with any outcome row (`table`: columns as
    arrays, see `headline_figures`) and the audit's flags."""

    outcomes: pd.DataFrame
    table: dict
    flags: dict


def cohort_figures(ds: Dataset, studies, cohorts: set[tuple[str, str]] | None = None) -> CohortFigures:
    """The figures of the given studies' cohorts (all of them when `cohorts` is None)."""
    outcomes = outcome_table(ds, studies=studies, cohorts=cohorts)
    return CohortFigures(outcomes, headline_figures(outcomes), cohort_flags(ds, set(studies), outcomes))


DEPTH_LABELS = tuple(dict.fromkeys(label for labels in DEPTH.values() for label in labels))


def standing_rows(codes: np.ndarray, counted: np.ndarray, n: int) -> np.ndarray:
    """For rows keyed 0 .. n-1 (-1: a row left out), the row standing for each key as the row-by-row rule
    chooses it: the first with a count (`counted`), else the first; -1 for a key without rows."""
    idx = np.flatnonzero(codes >= 0)
    idx = idx[np.lexsort((idx, ~counted[idx], codes[idx]))]
    start = run_starts(codes[idx])
    out = np.full(n, -1, dtype=np.int64)
    out[codes[idx[start]]] = idx[start]
    return out


class _Picked:
    """An outcome frame's columns read at picked rows (-1: no row), each column converted once."""

    def __init__(self, frame: pd.DataFrame):
        self.frame, self.columns = frame, {}

    def numbers(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A number column at the rows (NaN for no row or a missing cell)."""
        if (name, float) not in self.columns:
            values = self.frame[name].to_numpy(dtype="float64", na_value=np.nan)
            self.columns[name, float] = np.append(values, np.nan)
        return self.columns[name, float][rows]

    def texts(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A text column at the rows (None for no row or a missing cell)."""
        if (name, str) not in self.columns:
            values = self.frame[name].to_numpy(dtype=object, copy=True)
            values[self.frame[name].isna().to_numpy()] = None
            self.columns[name, str] = np.append(values, None)
        return self.columns[name, str][rows]


def headline_figures(outcomes: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns (name -> array) of one row per (study, cohort) with outcome rows: 'study',
    'cohort', its ORR (orr_count, orr_denominator, orr_calc, orr_reported, orr_basis), median PFS
    and OS (pfs, os), and each depth summary of DEPTH_LABELS as `depth` gives it
    ('<label>:count', ':denominator', ':percent', ':basis', ':given'), all cohorts at once.

    Response and depth come from one source, the cohort's primary one: the source whose ORR has
    a count, else that gives an ORR, else whose most measures have counts (the first such in file
    order). The ORR is the primary source's, else any source's; medians are any source's. Where
    a measure is given twice, the row with a count stands for it (then the first), as the tests'
    row-by-row rules choose (tests/reference_rules.py); landmark rows (with a timepoint) are measures of their own."""
    o = outcomes.reset_index(drop=True)
    plain = o["timepoint"].isna().to_numpy()  # not a landmark row
    counted = o["count_used"].notna().to_numpy()
    measure = o["measure"].to_numpy(dtype=object)
    study, cohort = o["study"].to_numpy(dtype=object), o["cohort"].to_numpy(dtype=object)
    src_code = key_codes(study, cohort, o["source"].to_numpy(dtype=object))
    src_first = first_rows(src_code)  # each (study, cohort, source)'s first row
    coh_of_src = key_codes(study[src_first], cohort[src_first])
    coh_first = src_first[first_rows(coh_of_src)]  # each cohort's first row
    row_coh = coh_of_src[src_code]
    n_src, n_coh = len(src_first), len(coh_first)

    # the primary source: ORR with a count, an ORR, most measures with a count, first in file order
    orr = plain & (measure == "ORR")
    has_counted_orr = np.zeros(n_src, dtype=bool)
    has_counted_orr[src_code[orr & counted]] = True
    has_orr = np.zeros(n_src, dtype=bool)
    has_orr[src_code[orr]] = True
    with_count = src_code[counted]  # each source's distinct measures (and landmarks) with a count
    measures_counted = np.bincount(with_count[first_rows(key_codes(
        with_count, measure[counted], o["timepoint"].to_numpy(dtype=object)[counted]))], minlength=n_src)
    best = np.lexsort((np.arange(n_src), -measures_counted, -has_orr.astype(int), -has_counted_orr.astype(int)))
    by_cohort = np.argsort(coh_of_src[best], kind="stable")  # each cohort's sources, best first
    primary = best[by_cohort][run_starts(coh_of_src[best][by_cohort])]
    of_primary = src_code == primary[row_coh]

    def pick(mask: np.ndarray) -> np.ndarray:
        """Each cohort's row among mask standing for it (standing_rows); -1 for none."""
        return standing_rows(np.where(mask, row_coh, -1), counted, n_coh)

    read = _Picked(o)
    cells, texts = read.numbers, read.texts

    # columns as arrays, not a frame: the bundled data's small tables would pay pandas' cost per column
    table: dict[str, np.ndarray] = {"study": study[coh_first], "cohort": cohort[coh_first]}
    chosen_orr = pick(orr & of_primary)
    chosen_orr = np.where(chosen_orr >= 0, chosen_orr, pick(orr))
    table["orr_count"] = cells("count_used", chosen_orr)
    table["orr_denominator"] = cells("denominator", chosen_orr)
    table["orr_calc"] = cells("percent_calc", chosen_orr)
    table["orr_reported"] = cells("percent_reported", chosen_orr)
    table["orr_basis"] = np.where(np.isnan(table["orr_count"]), None, texts("count_basis", chosen_orr))
    table["pfs"] = cells("median_months", pick(plain & (measure == "PFS")))
    table["os"] = cells("median_months", pick(plain & (measure == "OS")))

    # depth from the primary source
    primary_rows = plain & of_primary
    at = {m: pick(primary_rows & (measure == m)) for m in DEPTH_MEASURES}
    table.update(depth_summaries(read, at))
    return table


# the measures a depth summary is read from: the categories, the ORR and the summaries printed as such
DEPTH_MEASURES = tuple(dict.fromkeys((*CATEGORIES, "ORR", *DEPTH_STORED.values())))


def depth_summaries(read: _Picked, at: dict[str, np.ndarray], labels: tuple[str, ...] = DEPTH_LABELS
                    ) -> dict[str, np.ndarray]:
    """Each depth summary of `labels` as `depth` gives it, for many groups of outcome rows at once:
    `at[m]` holds each group's row standing for measure m (-1 for none), for every measure of
    DEPTH_MEASURES. The columns '<label>:count', ':denominator', ':percent', ':basis' and ':given'
    (whether the summary is given at all), one cell per group: a summary the source prints, else
    the sum of a whole breakdown of categories."""
    cells, texts = read.numbers, read.texts
    table: dict[str, np.ndarray] = {}
    k = np.column_stack([cells("count", at[m]) for m in CATEGORIES])
    d = np.column_stack([cells("denominator", at[m]) for m in CATEGORIES])
    have = ~np.isnan(k)
    dens = np.where(have, d, np.nan)
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isnan(dens), np.inf, dens).min(axis=1)
        hi = np.where(np.isnan(dens), -np.inf, dens).max(axis=1)
    one_den = np.isfinite(lo) & (lo == hi)
    counts = np.where(have, k, 0.0)
    col = {m: j for j, m in enumerate(CATEGORIES)}
    orr_used = cells("count_used", at["ORR"])
    orr_whole = (~np.isnan(orr_used) & (texts("count_basis", at["ORR"]) != "from percentage")
                 & (counts[:, [col[m] for m in COMPOSITES["ORR"]]].sum(axis=1) == orr_used))
    for label in labels:
        parts = [col[m] for m in DEPTH_PARTS[label]]
        summed = have.any(axis=1) & one_den & (have[:, parts[-1]] | orr_whole)
        total = counts[:, parts].sum(axis=1)
        count = np.where(summed, total, np.nan)
        den = np.where(summed, lo, np.nan)
        pct = percent_of(count, den)
        basis = np.where(summed, "sum of categories", None).astype(object)
        if label in DEPTH_STORED:
            row = at[DEPTH_STORED[label]]
            s_count, s_rep = cells("count_used", row), cells("percent_reported", row)
            stored = (row >= 0) & (~np.isnan(s_count) | ~np.isnan(s_rep))
            count = np.where(stored, s_count, count)
            den = np.where(stored, cells("denominator", row), den)
            pct = np.where(stored, np.where(np.isnan(s_rep), cells("percent_calc", row), s_rep), pct)
            s_basis = np.array([b or "reported" for b in texts("count_basis", row)], dtype=object)
            basis = np.where(stored, s_basis, basis)
            summed = stored | summed
        table[f"{label}:count"], table[f"{label}:denominator"] = count, den
        table[f"{label}:percent"], table[f"{label}:basis"], table[f"{label}:given"] = pct, basis, summed
    return table


def headline(ds: Dataset, studies: pd.DataFrame, all_cohorts: bool = False,
             matched: set[tuple[str, str]] | None = None, shared: CohortFigures | None = None
             ) -> pd.DataFrame:
    """One row per study (its headline cohort), or per cohort: n, ORR, depth, median PFS/OS,
    each with the regimen, XPO1 agent and partners of the arm it describes. `matched` (from
    query.filter_arms) limits the rows to the arms a treatment filter selects. `shared`: the
    figures of these studies' cohorts when the caller has them already (several listings of
    overlapping studies read them once)."""
    arms = arm_table(ds)
    arms = chosen_cohorts(arms[arms["study"].isin(set(studies["study"]))], all_cohorts, matched)
    if shared is None:
        # figures, derived counts and audit flags only for the cohorts shown: each is a matter of
        # one cohort's own rows, so the rest of the dataset need not be read
        shared = cohort_figures(ds, studies["study"], set(zip(arms["study"], arms["cohort"], strict=True)))
    # each study's cohorts in the order of the studies, then of the arm table
    place = {s: i for i, s in reversed(list(enumerate(studies["study"])))}
    arms = arms.iloc[np.argsort([place[s] for s in arms["study"]], kind="stable")]
    at = np.array([place[s] for s in arms["study"]], dtype=np.int64)
    fig = shared.table
    found = last_match([arms["study"], arms["cohort"]], [fig["study"], fig["cohort"]])

    def figure(name: str) -> list:
        values = np.append(fig[name].astype(object), None)[found]
        return [None if v is None or v != v else v for v in values.tolist()]

    def of_study(name: str) -> list:
        values = studies[name].tolist()
        return [values[i] for i in at]

    # the first depth summary of the study's disease that the primary source gives
    given = {lab: np.append(fig[f"{lab}:given"].astype(bool), False)[found] for lab in DEPTH_LABELS}
    label: list = [None] * len(arms)
    for i, disease in enumerate(of_study("disease")):
        label[i] = next((lab for lab in depth_labels(disease) if given[lab][i]), None)
    depth_cells = {}
    for part in ("count", "denominator", "percent", "basis"):
        by_label = {lab: figure(f"{lab}:{part}") for lab in DEPTH_LABELS}
        depth_cells[part] = [by_label[lab][i] if lab is not None else None for i, lab in enumerate(label)]
    dk, dp = depth_cells["count"], depth_cells["percent"]
    rep, calc = figure("orr_reported"), figure("orr_calc")
    keys = list(zip(arms["study"], arms["cohort"], strict=True))
    frame = pd.DataFrame({
        "ref": of_study("ref"), "study": of_study("study"), "trial": of_study("trial"),
        "disease": of_study("disease"), "regimen": arms["regimen"].tolist(), "arm": arms["arm"].tolist(),
        "agent": arms["agent"].tolist(), "partners": arms["partners"].tolist(), "phase": of_study("phase"),
        "setting": of_study("setting"), "design": of_study("design"), "evidence_type": of_study("evidence_type"),
        "n_enrolled": of_study("n_enrolled"), "n_evaluable": of_study("n_evaluable"),
        "cohort": arms["cohort"].tolist(), "cohort_label": arms["label"].tolist(),
        "n": [value_or_none(v) for v in arms["n"].tolist()],
        "orr_count": figure("orr_count"), "orr_denominator": figure("orr_denominator"),
        "orr_percent": [r if r is not None else c for r, c in zip(rep, calc, strict=True)],
        "orr_percent_reported": rep, "orr_count_basis": figure("orr_basis"),
        "depth": [lab if k is not None or p is not None else None for lab, k, p in zip(label, dk, dp, strict=True)],
        "depth_count": dk, "depth_denominator": depth_cells["denominator"],
        "depth_percent": dp,
        "depth_count_basis": [b if k is not None else None for b, k in zip(depth_cells["basis"], dk, strict=True)],
        "median_pfs": figure("pfs"), "median_os": figure("os"), "source": of_study("source"),
        "audit": [shared.flags.get(key) for key in keys],
    }, columns=HEADLINE_COLUMNS)
    for col in ("ref", "n_enrolled", "n_evaluable", "n", "orr_count", "orr_denominator",
                "depth_count", "depth_denominator"):
        frame[col] = frame[col].astype("Int64")
    for col in ("orr_percent", "orr_percent_reported", "depth_percent", "median_pfs", "median_os"):
        frame[col] = frame[col].astype("float64")
    return frame


HEADLINE_COLUMNS = [
    "ref", "study", "trial", "disease", "regimen", "arm", "agent", "partners", "phase", "setting", "design",
    "evidence_type", "n_enrolled", "n_evaluable", "cohort", "cohort_label", "n", "orr_count",
    "orr_denominator", "orr_percent", "orr_percent_reported", "orr_count_basis", "depth", "depth_count",
    "depth_denominator", "depth_percent", "depth_count_basis", "median_pfs", "median_os", "source", "audit",
]

EVIDENCE_RANK = {"randomized phase 3": 0, "randomized phase 2": 1, "randomized": 2,
                 "single-arm": 3, "phase 1/2": 4, "phase 1": 4, "case report": 5, "preclinical": 6}


def sort_rows(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Stable sort by a clinician's key; numbers descending where bigger is the question."""
    if key not in SORT_KEYS:
        raise UnknownName(f"unknown sort key '{key}'; known: {', '.join(SORT_KEYS)}")
    spec = {"ref": ("ref", True), "study": ("study", True), "disease": ("disease", True),
            "regimen": ("regimen", True), "phase": ("phase", True), "n": ("n", False),
            "orr": ("orr_percent", False), "pfs": ("median_pfs", False),
            "os": ("median_os", False)}
    if key == "evidence":
        rank = frame["design"].map(EVIDENCE_RANK).fillna(9)
        order = sorted(range(len(frame)), key=lambda i: (rank.iloc[i], i))
        return frame.iloc[order].reset_index(drop=True)
    col, asc = spec[key]
    keys = list(dict.fromkeys([col, "ref", "study"]))
    return frame.sort_values(keys, ascending=[asc] + [True] * (len(keys) - 1), kind="stable",
                             na_position="last").reset_index(drop=True)


def compare_frame(ds: Dataset, codes: list[str], disease: str | None = None,
                  include_preclinical: bool = False) -> pd.DataFrame:
    """For each regimen, in the order asked: every study of it (its headline population) and
    every randomized arm given it, each its own row (never blended), with a summary of the
    study's other cohorts (the best-documented subgroup first). The between-arm statistics as
    printed are added by `present.between_arms`."""
    chosen = []
    for code in codes:
        studies = filter_studies(ds, Filters(regimen=code, disease=disease))
        if not include_preclinical:
            studies = studies[studies["evidence_type"] != "preclinical"]
        # syntheses of other studies and registrations without results are not compared
        studies = studies[(studies["evidence_type"] != "systematic review")
                          & (studies["report_role"] != "registration")]
        chosen.append((code, studies, filter_arms(ds, Filters(regimen=code), studies)))
    # every cohort of every study compared, read once: the headline rows and the other cohorts
    shared = cohort_figures(ds, list(dict.fromkeys(s for _, st, _ in chosen for s in st["study"])))
    frames = [headline(ds, studies, matched=matched, shared=shared).assign(compared=code)
              for code, studies, matched in chosen]
    frame = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=[*HEADLINE_COLUMNS, "compared"]))
    outcomes = shared.outcomes
    by_study: dict[str, list] = {}  # each study's outcome rows, read once (not a scan per study)
    for r in row_tuples(outcomes):
        by_study.setdefault(r.study, []).append(r)
    cohorts = ds.cohorts[ds.cohorts["study"].isin(set(frame["study"]))]
    labels = dict(zip(zip(cohorts["study"], cohorts["cohort"], strict=True), cohorts["label"], strict=True))
    frame["other_cohorts"] = [
        None if isinstance(r.arm, str) else _other_cohorts(by_study.get(r.study, []), labels, r.study, r.cohort)
        for r in row_tuples(frame)]
    return frame


def randomized_pairs(ds: Dataset, frame: pd.DataFrame) -> list[str]:
    """Statements for regimens compared within one randomized trial (arms of one study)."""
    out = []
    arms = frame[frame["arm"].notna()]
    for study, g in arms.groupby("study", sort=False):
        regs = list(dict.fromkeys(g["compared"]))
        if len(regs) > 1:
            trial = g["trial"].iloc[0] if isinstance(g["trial"].iloc[0], str) else study
            out.append(f"{' vs '.join(regs)} in {trial}: a randomized comparison within one trial "
                       f"({', '.join(f'{r.compared} n={r.n}' for r in row_tuples(g))}).")
    return out


def _other_cohorts(rows: list, labels: dict, study: str, headline_cohort: str) -> str | None:
    """A study's other cohorts and their figures, the cohort with most rows first."""
    groups: dict[str, list] = {}
    for r in rows:
        if r.cohort != headline_cohort:
            groups.setdefault(r.cohort, []).append(r)
    if not groups:
        return None
    parts = []
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    for cohort, g in ranked:
        bits = []
        for r in g:
            if r.measure in TIME_MEASURES and not missing(r.median_months):
                bits.append(f"{r.measure} {r.median_months:g} mo")
            elif not missing(r.count_used) and not missing(r.denominator):
                pct = value_or_none(r.percent_reported)
                pct = pct if pct is not None else value_or_none(r.percent_calc)
                bits.append(f"{r.measure} {r.count_used}/{r.denominator} ({pct:g}%)")
            elif not missing(r.percent_reported):
                bits.append(f"{r.measure} {r.percent_reported:g}%")
        if bits:
            parts.append(f"{labels.get((study, cohort), cohort)}: {', '.join(bits)}")
    return "; ".join(parts) or None




# --- response ----------------------------------------------------------------------------------

SUMMARIES = ("ORR", "CR_CRi", "CR_or_better", "CBR", "DCR")
DEPTH_KEYS = {"≥VGPR": "ge_vgpr", "≥CR": "ge_cr"}
DEPTH_NAMES = {"CR_CRi": "CR/CRi"}  # the summary measure that is AML's depth summary
ID_COLUMNS = ["ref", "study", "cohort", "cohort_label", "disease", "regimen", "arm", "agent", "n", "denominator",
              "source", "audit"]


def response_key(measure: str) -> str:
    return DEPTH_KEYS.get(measure, measure.lower())


def response_columns(measures: tuple[str, ...]) -> list[str]:
    cols = list(ID_COLUMNS)
    for m in measures:
        k = response_key(m)
        cols += [f"{k}_n", f"{k}_pct"]
        if m not in CATEGORIES:
            cols += [f"{k}_ci_low", f"{k}_ci_high", f"{k}_basis"]
    return cols


ALL_RESPONSE = (*CATEGORIES, *SUMMARIES, "≥VGPR", "≥CR")


def response_table(ds: Dataset, studies: pd.DataFrame, measure: str | None = None,
                   method: str = "exact", level: float = 0.95,
                   matched: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per cohort with response data: every category as count and % (as printed, else
    computed), the summaries with a confidence interval, depth summaries of the disease.
    Anything the source does not give stays missing, never zero.

    A row is one source's report of one cohort: for each study, each of its cohorts (in the arm
    table's order; with `matched`, only those) and each source reporting on the cohort (in file
    order), kept where it gives any count or percentage. Of a measure given twice, the row with a
    count stands for it (then the first), as the tests' `by_cohort` chooses; a depth summary is as
    their `depth` gives it from the source's rows (tests/reference_rules.py). All rows are worked
    out at once, over whole columns."""
    from .stats import percent_cis

    measures = ALL_RESPONSE
    if measure is not None:
        wanted = {norm_measure(m) for m in ALL_RESPONSE}
        key = norm_measure(measure)
        if key not in wanted:
            raise UnknownName(f"unknown response measure '{measure}'; known: "
                              f"{', '.join(m for m in ALL_RESPONSE)}")
        measures = tuple(m for m in ALL_RESPONSE if norm_measure(m) == key)
    outcomes = outcome_table(ds, studies=studies["study"])
    flags = cohort_flags(ds, set(studies["study"]), outcomes)
    o = outcomes[outcomes["measure"].isin(CATEGORIES + SUMMARIES)].reset_index(drop=True)
    read = _Picked(o)

    # each source's report of a cohort (study, cohort, source), numbered in file order, and the row
    # standing for each of its measures (a landmark, with a timepoint, is a measure of its own)
    study, cohort = o["study"].to_numpy(dtype=object), o["cohort"].to_numpy(dtype=object)
    src = key_codes(study, cohort, o["source"].to_numpy(dtype=object))
    src_first = first_rows(src)
    n_src = len(src_first)
    measure_key = key_codes(src, o["measure"].to_numpy(dtype=object), o["timepoint"].to_numpy(dtype=object))
    stands = standing_rows(measure_key, o["count_used"].notna().to_numpy(), int(measure_key.max(initial=-1)) + 1)
    of_src, measure_of = src[stands], o["measure"].to_numpy(dtype=object)[stands]
    plain = o["timepoint"].isna().to_numpy()[stands]
    at: dict[str, np.ndarray] = {}  # measure -> each source's row standing for it, -1 for none
    for m in (*CATEGORIES, *SUMMARIES):
        hit = plain & (measure_of == m)
        at[m] = np.full(n_src, -1, dtype=np.int64)
        at[m][of_src[hit]] = stands[hit]
    # the denominator most of the source's measures (landmarks too) are given over
    den = read.numbers("denominator", stands)
    denominator = most_frequent(of_src[~np.isnan(den)], den[~np.isnan(den)], n_src)
    cumulative = _read_as_cumulative(read, at, measure_key)
    depth_names = tuple(DEPTH_NAMES.get(m, m) for m in ("CR_CRi", *DEPTH_KEYS))
    depths = depth_summaries(read, at, depth_names)

    # the rows: each study's cohorts, each cohort's sources
    arms = arm_table(ds)
    if matched is not None:
        arms = arms[np.array([k in matched for k in zip(arms["study"], arms["cohort"], strict=True)], dtype=bool)]
    arm_at, src_at = all_matches([arms["study"], arms["cohort"]], [study[src_first], cohort[src_first]])
    s, pair = all_matches([studies["study"]], [arms["study"].to_numpy(dtype=object)[arm_at]])
    a, g = arm_at[pair], src_at[pair]
    of_study = per_distinct(depth_labels, studies["disease"])  # each study row's depth summaries
    labels = {name: np.array([name in own for own in of_study], dtype=bool)[s] for name in depth_names}

    n_rows = len(g)
    nothing, blank = np.zeros(n_rows, dtype=bool), np.full(n_rows, np.nan)
    got_any = nothing.copy()
    figures: dict[str, dict] = {}  # measure -> count, denominator, percent and basis of each row
    for m in measures:
        # whether the measure is given, and its figures
        out = given, cnt, den, pct, basis = (nothing.copy(), blank.copy(), blank.copy(), blank.copy(),
                                             np.full(n_rows, None, dtype=object))
        # a category read as cumulative is no category of its own: it shows as the summary it is
        skipped = cumulative[m][g] if m in cumulative else nothing
        as_read = cumulative[CUMULATIVE_OF[m]][g] if m in CUMULATIVE_OF else nothing
        if as_read.any():
            row = at[CUMULATIVE_OF[m]][g]
            _put(out, as_read, True, blank, read.numbers("denominator", row), read.numbers("percent_reported", row),
                 CUMULATIVE_BASIS.format(CUMULATIVE_OF[m]))
        # a depth summary, as `depth` gives it; nothing where it is not one of the disease's
        name = DEPTH_NAMES.get(m, m)
        as_depth = ~as_read if m in DEPTH_KEYS else labels[name] if m in DEPTH_NAMES else nothing
        if as_depth.any():
            _put(out, as_depth & labels[name] & depths[f"{name}:given"][g], True,
                 *(depths[f"{name}:{part}"][g] for part in ("count", "denominator", "percent", "basis")))
        # any other measure as the source gives it: the percentage as printed, else computed
        row = np.where(skipped | as_read | as_depth, -1, at[m][g]) if m in at else np.full(n_rows, -1)
        printed = read.numbers("percent_reported", row)
        _put(out, row >= 0, True, read.numbers("count_used", row), read.numbers("denominator", row),
             np.where(np.isnan(printed), read.numbers("percent_calc", row), printed), read.texts("count_basis", row))
        got_any |= ~np.isnan(cnt) | ~np.isnan(pct)
        if m not in CATEGORIES:  # a summary given without a count: a percentage only, unless read as cumulative
            basis[given & np.isnan(cnt) & ~as_read] = "percentage only"
        figures[m] = {"count": cnt, "denominator": den, "percent": pct, "basis": basis}

    keep = np.flatnonzero(got_any)
    s, a, g = s[keep], a[keep], g[keep]
    study_of, cohort_of = _cells(studies, "study", s), _cells(arms, "cohort", a)
    columns = {
        "ref": _cells(studies, "ref", s), "study": study_of, "cohort": cohort_of,
        "cohort_label": _cells(arms, "label", a), "disease": _cells(studies, "disease", s),
        "regimen": _cells(arms, "regimen", a), "arm": _cells(arms, "arm", a), "agent": _cells(arms, "agent", a),
        "n": _cells(arms, "n", a), "denominator": denominator[g],
        "source": read.texts("source", src_first)[g].tolist(),
        "audit": [flags.get(k) for k in zip(study_of, cohort_of, strict=True)]}
    # the summaries' intervals (of a count over a denominator other than 0) in one call, row by
    # row and measure by measure
    with_interval = [m for m in measures if m not in CATEGORIES]
    low, high = np.full((len(keep), len(with_interval)), np.nan), np.full((len(keep), len(with_interval)), np.nan)
    if with_interval:
        counts = np.column_stack([figures[m]["count"][keep] for m in with_interval])
        dens = np.column_stack([figures[m]["denominator"][keep] for m in with_interval])
        rows, cols = np.nonzero(~np.isnan(counts) & ~np.isnan(dens) & (dens != 0))
        if len(rows):
            low[rows, cols], high[rows, cols] = percent_cis(
                counts[rows, cols].astype(np.int64).tolist(), dens[rows, cols].astype(np.int64).tolist(),
                method, level)
    for m in measures:
        k = response_key(m)
        columns[f"{k}_n"], columns[f"{k}_pct"] = figures[m]["count"][keep], figures[m]["percent"][keep]
        if m in with_interval:
            j = with_interval.index(m)
            columns[f"{k}_ci_low"], columns[f"{k}_ci_high"] = low[:, j], high[:, j]
            columns[f"{k}_basis"] = figures[m]["basis"][keep].tolist()
    frame = _inferred(columns, response_columns(measures))
    for col in frame.columns:
        if col in ("ref", "n", "denominator") or col.endswith("_n"):
            frame[col] = frame[col].astype("Int64")
        elif col.endswith(("_pct", "_ci_low", "_ci_high")):
            frame[col] = frame[col].astype("float64")
    return frame


def _put(columns: tuple, rows: np.ndarray, *values) -> None:
    """Each column's cells at `rows` set from its value: an array of every row, or one value."""
    for column, value in zip(columns, values, strict=True):
        column[rows] = value[rows] if isinstance(value, np.ndarray) else value


# a summary whose printed rate is read cumulatively -> the category that prints it
CUMULATIVE_OF = {summary: category for category, summary in CUMULATIVE_READING.items()}


def _read_as_cumulative(read: _Picked, at: dict[str, np.ndarray], codes: np.ndarray) -> dict[str, np.ndarray]:
    """For each category of CUMULATIVE_READING, whether each source's printed rate of it is read
    as the cumulative rate it would be: printed_as_cumulative decides on the rates the source
    prints for its categories (`at[m]`: each source's row for category m), taken in the order
    the categories first appear in its rows (`codes`: each row's measure, numbered in that order)."""
    pct = np.column_stack([read.numbers("percent_reported", at[m]) for m in CATEGORIES])
    printed = ~np.isnan(pct)
    several = printed.sum(axis=1) > 1
    total = np.where(printed, pct, 0.0).sum(axis=1)
    over = several & (total > 100.5)
    # a sum this near the cut-off may round apart from printed_as_cumulative's, taken in another
    # order: those are decided by printed_as_cumulative itself
    near = np.flatnonzero(several & (np.abs(total - 100.5) < 1e-6))
    if len(near):
        rows = np.column_stack([at[m] for m in CATEGORIES])[near]
        first = np.where(printed[near], codes[np.maximum(rows, 0)], np.iinfo(np.int64).max)
        order = np.argsort(first, axis=1, kind="stable")
        for i, rates, shown in zip(near, np.take_along_axis(pct[near], order, axis=1),
                                   np.take_along_axis(printed[near], order, axis=1), strict=True):
            over[i] = printed_as_cumulative(rates[shown].tolist())
    return {m: over & printed[:, CATEGORIES.index(m)] for m in CUMULATIVE_READING}


def norm_measure(text: str) -> str:
    return text.casefold().replace("≥", "ge").replace(">=", "ge").replace("/", "_").replace(" ", "")


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
    frame = _inferred({
        "ref": o["ref"].tolist(), "study": study.tolist(), "cohort": cohort.tolist(),
        "cohort_label": _cells(arms, "label", at), "disease": _cells(studies, "disease", of_study),
        **{name: _cells(arms, name, at) for name in ("regimen", "arm", "agent")},
        "n": [value_or_none(v) for v in _cells(arms, "n", at)],
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


# --- toxicity ----------------------------------------------------------------------------------

TOXICITY_COLUMNS = ["scope", "agent", "kind", "category", "term", "grade", "count", "n",
                    "percent_reported", "percent_calc", "statement", "ref", "study", "cohort",
                    "population", "regimen", "arm", "section", "source"]
ARM_NOT_STATED = "arm not stated"
KINDS = ("adverse_event", "mitigation", "dose_finding", "cns_penetration", "safety_statement")


def label_regimen(ds: Dataset, population, agent) -> str | None:
    """The regimen a prescribing-information row's population names: the regimen whose drugs are
    the row's agent and the drugs its population names in full ('label: with bortezomib and
    dexamethasone' -> SVd, 'label pooled: DLBCL, selinexor 60 mg twice weekly' -> S); None
    where the population names no drug ('label: DLBCL') or no regimen has exactly those drugs."""
    if not isinstance(population, str):
        return None
    named = {d for d in ds.drugs["drug"] if re.search(rf"(?<!\w){re.escape(d)}(?!\w)", population, flags=re.I)}
    if not named:
        return None
    named |= {agent} if isinstance(agent, str) and agent in set(ds.drugs["drug"]) else set()
    hits = [code for code, drugs in Resolver(ds).regimen_drugs().items() if drugs == named]
    return hits[0] if len(hits) == 1 else None


def toxicity_table(ds: Dataset, studies: pd.DataFrame | None = None, agent: str | None = None,
                   category: str | None = None, kind: str | None = None,
                   source: str | None = None, matched: set[tuple[str, str]] | None = None,
                   arm_filters: Filters | None = None) -> pd.DataFrame:
    """The adverse-event profile, mitigations, dose findings and the CNS contrast. Class-level
    rows (no study) apply to every XPO1 inhibitor and stay in whatever the study filters; rows
    of one study follow the study filters, and rows of one arm the arm filters (`matched`). Each
    row carries the regimen and arm it describes (a prescribing-information row the regimen its
    population names, label_regimen); a trial-level row of a randomized trial says that the
    source does not name the arm.

    With `arm_filters` (filters naming a regimen, partner or agent of the arms), only rows of a
    matching regimen stay: rows with no regimen (class-wide findings, a label population naming
    none, a trial-level row naming no arm) are left out, and their number is in
    frame.attrs["no_regimen"]."""
    ae = ds.adverse_events.copy()
    if studies is not None:
        ae = ae[ae["study"].isna() | ae["study"].isin(studies["study"])]
    if matched is not None:
        ae = ae[ae["cohort"].isna() | pd.Series(list(zip(ae["study"], ae["cohort"], strict=True)),
                                                 index=ae.index, dtype=object).isin(matched)]
    wanted = later_wanted(source)
    if wanted is not None:
        later = dict(zip(ds.sources["source"], ds.sources["published_after_review"], strict=True))
        ae = ae[ae["source"].map(lambda s: bool(later.get(s))) == wanted]
    if agent is not None:
        ae = ae[(ae["agent"] == agent) | ae["agent"].map(lambda a: a not in set(ds.drugs["drug"]))]
    if category is not None:
        cats = sorted(set(ds.adverse_events["category"]))
        hit = [c for c in cats if c.casefold().startswith(category.strip().casefold())]
        if len(hit) != 1 or not category.strip():
            raise UnknownName(f"unknown category '{category}'; known: {', '.join(cats)}")
        ae = ae[(ae["category"] == hit[0]) | ((ae["category"] == "any") & (ae["kind"] == "mitigation"))]
    if kind is not None:
        hit = [k for k in KINDS if k.startswith(kind.strip().casefold().replace("-", "_").replace(" ", "_"))]
        if len(hit) != 1 or not kind.strip():
            raise UnknownName(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
        ae = ae[ae["kind"] == hit[0]]
    regimens = dict(zip(ds.studies["study"], ds.studies["regimen"], strict=True))
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(set(ae["study"].dropna()))]  # the cohorts of these rows' studies
    of_arm = {(s, c): (r, a) for s, c, r, a in zip(arms["study"], arms["cohort"], arms["regimen"], arms["arm"],
                                                  strict=True)}
    with_arms = set(arms.loc[arms["arm"].notna(), "study"])
    drugs = set(ds.drugs["drug"])
    ae["scope"] = ["study" if isinstance(s, str) else "label" if isinstance(p, str)
                   else "agent" if a in drugs else "class"
                   for s, a, p in zip(ae["study"], ae["agent"], ae["population"], strict=True)]
    treatment = [of_arm[(s, c)] if isinstance(c, str)
                 else (None, ARM_NOT_STATED) if s in with_arms
                 else (regimens.get(s) if isinstance(s, str) else None, None)
                 for s, c in zip(ae["study"], ae["cohort"], strict=True)]
    labels = {(p, a): label_regimen(ds, p, a) for s, p, a in zip(ae["study"], ae["population"], ae["agent"],
                                                                 strict=True) if not isinstance(s, str)}
    ae["regimen"] = [t[0] if isinstance(s, str) else labels[(p, a)]
                     for t, s, p, a in zip(treatment, ae["study"], ae["population"], ae["agent"], strict=True)]
    ae["arm"] = [t[1] for t in treatment]
    no_regimen = 0
    if arm_filters is not None and arm_filters.arm_level():
        no_regimen = int((~ae["regimen"].map(lambda r: isinstance(r, str))).sum())
        ae = ae[of_treatment(ds, ae["regimen"], arm_filters)]
    ae["percent_calc"] = [round(100 * c / n, 1) if not missing(c) and value_or_none(n) else None
                          for c, n in zip(ae["count"], ae["n"], strict=True)]
    ae["percent_calc"] = ae["percent_calc"].astype("float64")
    kind_order = {k: i for i, k in enumerate(KINDS)}
    ae["_k"] = ae["kind"].map(kind_order)
    ae = ae.sort_values(["_k", "category", "scope", "id"], kind="stable")
    out = ae[TOXICITY_COLUMNS].reset_index(drop=True)
    out.attrs["no_regimen"] = no_regimen
    return out


def of_treatment(ds: Dataset, regimens: pd.Series, f: Filters) -> pd.Series:
    """Which rows of these regimen codes are of the treatment the arm filters (--regimen,
    --partner, --agent) name; a row with no regimen never is."""
    by_code = ds.regimens.set_index("regimen")
    as_arms = pd.DataFrame({"regimen": regimens,
                            "agent": regimens.map(lambda r: by_code["agent"].get(r)),
                            "partners": regimens.map(lambda r: by_code["partners"].get(r))}, index=regimens.index)
    return regimens.map(lambda r: isinstance(r, str)).astype(bool) & arm_mask(as_arms, f, Resolver(ds))


def arm_dose(schedule, regimen, codes: set[str]) -> str | None:
    """The part of a study's dose schedule that is one regimen's: a schedule written arm by arm
    ('SVd: selinexor 100 mg ...; Vd: bortezomib ...') gives each arm its own part, never another
    arm's; parts naming no regimen (a cycle length, premedication) stay with every arm."""
    if not isinstance(schedule, str) or not schedule.strip():
        return None
    parts = [p.strip() for p in schedule.split(";") if p.strip()]
    kept = []
    for p in parts:
        head, sep, rest = p.partition(":")
        if sep and head.strip() in codes:
            if head.strip() == regimen:
                kept.append(rest.strip())
        else:
            kept.append(p)
    return "; ".join(kept) or None


def toxicity_doses(ds: Dataset, frame: pd.DataFrame) -> list[str | None]:
    """The dose each toxicity_table row was seen at, as the data states it: its arm's part of its
    study's dose schedule (arm_dose), or a label row's population (which names the label's dose);
    None where neither is stated. With the regimen, it keeps apart figures that must not share a range."""
    doses = dict(zip(ds.studies["study"], ds.studies["dose_schedule"], strict=True))
    codes = set(ds.regimens["regimen"])
    return [arm_dose(doses.get(s), r, codes) if isinstance(s, str) else value_or_none(p)
            for s, p, r in zip(frame["study"], frame["population"], frame["regimen"], strict=True)]


# --- pooling inputs ----------------------------------------------------------------------------

POOL_COLUMNS = ["row", "group", "subgroup", "ref", "study", "trial", "report_role", "source", "cohort",
                "cohort_label", "disease", "setting", "design", "regimen", "arm", "agent", "events", "n",
                "count_basis", "percent", "ci_low", "ci_high", "level", "weight", "pi_low", "pi_high",
                "events_total", "n_total", "k", "tau2", "i2", "h2", "q", "q_df", "q_p", "method", "test",
                "t_df", "correction", "q_between", "q_between_df", "q_between_p", "shift"]
# what --by may split a pool by: the column of the pool table that holds it
BY_COLUMNS = {"disease": "disease", "regimen": "regimen", "setting": "setting", "agent": "agent",
              "design": "design", "source": "source"}
XPO1_GROUP = "XPO1 inhibitor arms and cohorts"
CONTROL_GROUP = "control arms (no XPO1 inhibitor)"
# pooling prefers a trial's peer-reviewed primary report, then its fuller later reports
ROLE_RANK = {"primary": 0, "follow-up": 1, "review summary": 2, "post-hoc": 3, "interim": 4,
             "regulatory": 5, "registration": 6}
CONTROL_REASON = "control arm, no XPO1 inhibitor (pool control arms apart with --include-controls)"


def trial_key(study_row) -> str:
    """Reports of one trial share a trial id; without one, a shared review ref marks them."""
    trial = getattr(study_row, "trial", None)
    if isinstance(trial, str) and trial:
        return trial
    ref = value_or_none(getattr(study_row, "ref", None))
    return f"ref {int(ref)}" if ref is not None else study_row.study


def pool_inputs(ds: Dataset, studies: pd.DataFrame, measure: str, include_controls: bool = False,
                matched: set[tuple[str, str]] | None = None,
                outcomes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohorts to pool for a measure and the ones left out, each with its reason. `outcomes`:
    the caller's outcome_table of these studies, if it has one (its rows of the measure are the
    ones derived here, tests/test_pool_inputs.py).

    One population per trial: within a study the headline cohort (else the largest) stands for
    it and its subgroups are left out; of several reports of one trial the primary report
    stays (then the fuller one). Case reports, preclinical work and figures without a count are
    left out; control arms are left out, or with include_controls kept in a group of their own
    (`group`), never pooled with XPO1-inhibitor arms.

    The reasons come study by study, in the order of the outcome rows: a study's figures without a
    count, then its non-clinical or control rows, then the cohorts overlapping each arm's pooled one
    (arms in order); the other reports of each trial come last. Whole-column operations, checked
    against the same rules read one row at a time (tests/test_pool_inputs.py)."""
    known = [m for m in CATEGORIES + tuple(COMPOSITES) if m.casefold() == measure.strip().casefold()]
    if not known:
        raise UnknownName(f"cannot pool '{measure}'; known: {', '.join(CATEGORIES + tuple(COMPOSITES))}")
    measure = known[0]
    o = outcome_table(ds, studies=studies["study"], measures={measure}) if outcomes is None else outcomes
    o = o[o["measure"] == measure]
    if matched is not None:
        o = o[of_cohorts(o, matched)]
    arms = arm_table(ds)
    study, study_ids = pd.factorize(o["study"])  # studies numbered in order of first appearance
    # each row's study and cohort; of rows repeating a key the last stands (as in a dict)
    at_study = last_match([study_ids], [studies["study"]])[study]
    at_arm = last_match([o["study"], o["cohort"]], [arms["study"], arms["cohort"]])
    den = o["denominator"].to_numpy(dtype="float64", na_value=np.nan)
    counted = o["count_used"].notna().to_numpy() & ~np.isnan(den)
    evidence = studies["evidence_type"].to_numpy(dtype=object)[at_study]
    clinical = studies["evidence_type"].eq("clinical trial").to_numpy(dtype=bool)[at_study]
    unknown = np.flatnonzero(counted & clinical & (at_arm < 0))
    if len(unknown):  # a trial's figure for a cohort the dataset lacks: fail as a lookup would, never guess
        first_unknown = unknown[np.argsort(study[unknown], kind="stable")[0]]
        raise KeyError((o["study"].iat[first_unknown], o["cohort"].iat[first_unknown]))
    agent = _is_str(arms["agent"].to_numpy(dtype=object)[at_arm])
    arm = arms["arm"].to_numpy(dtype=object)[at_arm]
    arm = np.where(_is_str(arm), arm, "")
    headline = arms["headline"].take(at_arm).to_numpy(dtype=bool)

    # left out within a study: at step 0 figures without a count, at 1 what is never pooled (-1: neither)
    step = np.where(counted, -1, 0)
    reason = np.where(counted, None, "no count and denominator")
    other = counted & ~clinical
    reason[other], step[other] = evidence[other], 1
    if not include_controls:
        control = counted & clinical & ~agent
        reason[control], step[control] = CONTROL_REASON, 1

    # each arm of a study (in order of its first row): its headline, else largest, cohort stands
    rest = np.flatnonzero(step < 0)
    group = key_codes(study[rest], arm[rest])
    order = np.lexsort((rest, -den[rest], ~headline[rest], group, study[rest]))
    rest, first = rest[order], run_starts(group[order])
    kept, overlap = rest[first], rest[~first]
    stands = kept[np.cumsum(first)[~first] - 1]  # the row kept in each overlapping row's place
    overlap_reason = ("overlaps the pooled population '" + o["cohort"].to_numpy(dtype=object)[stands]
                      + "' of the same study")
    # study by study, step by step (the overlapping rows at step 2, as sorted)
    within = np.concatenate([np.flatnonzero(step >= 0), overlap])
    within_step = np.concatenate([step[step >= 0], np.full(len(overlap), 2)])
    within_reason = np.concatenate([reason[step >= 0], overlap_reason])
    by_study = np.lexsort((np.arange(len(within)), within_step, study[within]))

    # a trial's reports (trials in order of the first): the headline population, the role, the larger
    trial = _trial_keys(studies)[at_study[kept]] + np.where(arm[kept] != "", " (" + arm[kept] + " arm)", "")
    trial_code = key_codes(trial)
    role = studies["report_role"].to_numpy(dtype=object)[at_study[kept]]
    rank = pd.Series(role, dtype=object).map(ROLE_RANK).fillna(9).to_numpy(dtype="float64")
    order = np.lexsort((np.arange(len(kept)), -den[kept], rank, ~headline[kept], trial_code))
    first = run_starts(trial_code[order])
    pooled, again = order[first], order[~first]
    instead = pooled[np.cumsum(first) - 1][~first]  # the report pooled in each other report's place
    again_reason = [f"another report of the same trial ({t}); the {r} report {s} is pooled"
                    for t, r, s in zip(trial[again], role[instead], o["study"].to_numpy(dtype=object)[kept[instead]],
                                       strict=True)]

    rows, s, a = kept[pooled], at_study[kept[pooled]], at_arm[kept[pooled]]
    phase, randomized = (studies[c].to_numpy(dtype=object)[s] for c in ("phase", "randomized"))
    included = _inferred({
        "row": ["cohort"] * len(rows), "group": np.where(agent[rows], XPO1_GROUP, CONTROL_GROUP).tolist(),
        "ref": _cells(o, "ref", rows), "study": _cells(o, "study", rows), "trial": trial[pooled].tolist(),
        "report_role": _cells(studies, "report_role", s), "source": _cells(o, "source", rows),
        "cohort": _cells(o, "cohort", rows), "cohort_label": _cells(arms, "label", a),
        "disease": _cells(studies, "disease", s), "setting": _cells(studies, "setting", s),
        "design": per_distinct(design, evidence[rows], phase, randomized), "regimen": _cells(arms, "regimen", a),
        "arm": _cells(arms, "arm", a), "agent": _cells(arms, "agent", a),
        "events": o["count_used"].take(rows).to_numpy(dtype="int64"),
        "n": o["denominator"].take(rows).to_numpy(dtype="int64"),
        "count_basis": _cells(o, "count_basis", rows)}, POOL_COLUMNS)
    left_rows = np.concatenate([within[by_study], kept[again]])
    left = _inferred({"ref": _cells(o, "ref", left_rows), "study": _cells(o, "study", left_rows),
                      "cohort": _cells(o, "cohort", left_rows),
                      "reason": within_reason[by_study].tolist() + again_reason},
                     ["ref", "study", "cohort", "reason"])
    included.attrs["measure"] = measure
    from .query import published_pooled

    # syntheses among the matched studies are never pooled; their own pooled figure is shown
    included.attrs["published"] = published_pooled(ds, studies["study"], measure)
    return included, left


def _is_str(values: np.ndarray) -> np.ndarray:
    """Whether each cell holds text (a missing cell does not)."""
    return np.fromiter(map(isinstance, values, repeat(str)), dtype=bool, count=len(values))


def _trial_keys(studies: pd.DataFrame) -> np.ndarray:
    """trial_key of each study row."""
    trial = studies["trial"].to_numpy(dtype=object)
    named = _is_str(trial) & (trial != "")
    out = np.where(named, trial, studies["study"].to_numpy(dtype=object))
    numbered = ~named & studies["ref"].notna().to_numpy()
    out[numbered] = "ref " + studies["ref"][numbered].astype("int64").astype(str).to_numpy(dtype=object)
    return out


def _cells(frame: pd.DataFrame, name: str, at: np.ndarray) -> list:
    """The cells of a column at these positions, as row_tuples reads them."""
    return frame[name].take(at).tolist()


def _inferred(columns: dict, names: list[str]) -> pd.DataFrame:
    """A frame of the given columns (the other names all missing), each typed as pandas types it
    from its values alone: as for the same rows given one dict a row, built column by column."""
    n = len(next(iter(columns.values())))
    if not n:
        return pd.DataFrame([], columns=names)  # no rows: every column object, as from no dicts
    return pd.DataFrame({c: columns[c] if c in columns else np.full(n, np.nan) for c in names}, columns=names)


METHOD_LABELS = {"DL": "DerSimonian–Laird", "REML": "REML", "PM": "Paule–Mandel"}
NOT_STATED = "not stated"


def _subgroup_name(value) -> str:
    return value if isinstance(value, str) and value else NOT_STATED


def _pooled_rows(res: dict, rows: pd.DataFrame, method: str, level: float, subgroup: str | None,
                 *, common: bool = True) -> list[dict]:
    """The random-effects row (with its prediction interval) and, if asked, the common-effect row
    of one pooled set of cohorts."""
    label = METHOD_LABELS[method]
    where = f"{subgroup}: " if subgroup is not None else ""
    totals = {"events_total": int(rows["events"].sum()), "n_total": int(rows["n"].sum()), "k": len(rows),
              "level": level, "group": rows["group"].iloc[0] if len(rows) else None, "subgroup": subgroup,
              "q": res["q"], "q_df": res["q_df"], "q_p": res["q_p"], "correction": res["correction"]}
    out = [{"row": "random", "cohort_label": f"{where}random effects ({label})", **totals,
            "percent": 100 * res["estimate"], "ci_low": 100 * res["ci_low"],
            "ci_high": 100 * res["ci_high"], "weight": 100.0,
            "pi_low": 100 * res["pi_low"], "pi_high": 100 * res["pi_high"],
            "tau2": res["tau2"], "i2": res["i2"], "h2": res["h2"], "method": method,
            "test": "t" if res["test"] == "knha" else "z", "t_df": res["df"]}]
    if common:
        out.append({"row": "common", "cohort_label": f"{where}common effect", **totals,
                    "percent": 100 * res["common_estimate"],
                    "ci_low": 100 * res["common_ci_low"],
                    "ci_high": 100 * res["common_ci_high"], "method": "FE", "test": "z"})
    return out


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=POOL_COLUMNS)
    for col in ("ref", "events", "n", "events_total", "n_total", "k", "q_df", "t_df", "q_between_df"):
        out[col] = out[col].astype("Int64")
    for col in ("percent", "ci_low", "ci_high", "level", "weight", "pi_low", "pi_high", "tau2", "i2", "h2",
                "q", "q_p", "q_between", "q_between_p", "shift"):
        out[col] = out[col].astype("float64")
    return out


def _fit_summary(res: dict) -> dict:
    keys = ("k", "tau2", "i2", "h2", "q", "q_df", "q_p", "pi_low", "pi_high", "test", "df", "cautions")
    out = {k: res.get(k) for k in keys}
    for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        out[k] = None if res.get(k) is None else 100 * res[k]
    return out


def pool_table(included: pd.DataFrame, method: str = "DL", ci: str = "exact", level: float = 0.95,
               *, knha: bool = False, correction: str = "only0",
               by: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The pooled table of one group: each cohort with its interval and weight, then the
    random-effects row (with the prediction interval, pi_low/pi_high) and the common-effect row.
    Pooled rows carry the estimate, its interval at `level`, the test behind it (z, or t with
    t_df degrees of freedom under Knapp–Hartung) and the heterogeneity statistics; the sums of
    events and patients are named events_total and n_total, never events/n, because the
    estimate is not their ratio.

    With `by` (a key of BY_COLUMNS) the cohorts are grouped by that column: each subgroup's
    cohorts (weights within the subgroup) and, when it has two or more, its own random-effects
    row (its own tau²); then the overall rows, whose random row carries the test for subgroup
    differences (q_between, q_between_df, q_between_p). Raises ValueError for a correction that
    cannot be applied (no correction with a 0/n or n/n cohort)."""
    from .stats import percent_cis, pool_proportions, pool_subgroups

    events, totals = list(included["events"]), list(included["n"])
    res = pool_proportions(events, totals, method=method, level=level, knha=knha, correction=correction)
    frame = included.copy()
    frame["percent"] = [round(100 * e / n, 1) for e, n in zip(events, totals, strict=True)]
    frame["ci_low"], frame["ci_high"] = percent_cis(events, totals, ci, level)
    frame["level"] = level
    group = frame["group"].iloc[0] if len(frame) else None
    summary = _fit_summary(res)
    summary.update(label=f"random effects, {METHOD_LABELS[method]}", method=method,
                   measure=included.attrs.get("measure", "ORR"), level=level, group=group, ci=ci,
                   correction=res["correction"], corrected=res["corrected"], by=by, subgroups={})
    if by is None:
        frame["weight"] = [round(w, 2) for w in res["weights"]]
        parts = [frame, pd.DataFrame(_pooled_rows(res, frame, method, level, None))]
    else:
        frame["subgroup"] = [_subgroup_name(v) for v in frame[BY_COLUMNS[by]]]
        sub = pool_subgroups(events, totals, list(frame["subgroup"]), method=method, level=level,
                             knha=knha, correction=correction)
        parts = []
        for name, s in sub["subgroups"].items():
            rows = frame.iloc[s["rows"]].copy()
            rows["weight"] = [round(w, 2) for w in s["weights"]]
            parts.append(rows)
            if s["k"] >= 2:
                s = {**s, "correction": res["correction"]}
                parts.append(pd.DataFrame(_pooled_rows(s, rows, method, level, name, common=False)))
            summary["subgroups"][name] = _fit_summary(s)
        overall = _pooled_rows(res, frame, method, level, None)
        overall[0].update(q_between=sub["q_between"], q_between_df=sub["q_between_df"],
                          q_between_p=sub["q_between_p"])
        parts.append(pd.DataFrame(overall))
        summary.update(q_between=sub["q_between"], q_between_df=sub["q_between_df"],
                       q_between_p=sub["q_between_p"])
        if sub["q_between_note"]:
            summary["cautions"] = [*(summary.get("cautions") or []), sub["q_between_note"]]
    out = _typed(pd.concat([p.dropna(axis=1, how="all") for p in parts], ignore_index=True))
    return out, summary


def pool_leave_one_out(included: pd.DataFrame, method: str = "DL", level: float = 0.95, *,
                       knha: bool = False, correction: str = "only0") -> pd.DataFrame:
    """One row per cohort (row 'leave-one-out'): the pooled estimate, its interval, tau², I², H²
    and Q when that cohort is left out (metafor's leave1out), and `shift`, how far leaving it out
    moves the pooled proportion (percentage points). attrs["most_influential"] is the position
    of the cohort that moves it most."""
    from .stats import leave_one_out

    res = leave_one_out(list(included["events"]), list(included["n"]), method=method, level=level,
                        knha=knha, correction=correction)
    frame = included.copy()
    frame["row"] = "leave-one-out"
    frame["percent"] = [100 * e for e in res["estimate"]]
    frame["ci_low"] = [100 * e for e in res["ci_low"]]
    frame["ci_high"] = [100 * e for e in res["ci_high"]]
    frame["level"] = level
    frame["k"] = res["k"] - 1
    frame["tau2"], frame["i2"], frame["h2"] = res["tau2"], res["i2"], res["h2"]
    frame["q"], frame["q_p"] = res["q"], res["q_p"]
    frame["q_df"] = res["k"] - 2
    frame["method"] = method
    frame["test"] = "t" if knha and res["k"] > 2 else "z"
    frame["t_df"] = res["k"] - 2 if knha and res["k"] > 2 else None
    frame["correction"] = res["correction"]
    pooled = 100 * (res["estimate"][res["most_influential"]]) - 100 * res["largest_shift"]
    frame["shift"] = [100 * e - pooled for e in res["estimate"]]
    out = _typed(frame)
    out.attrs["most_influential"] = res["most_influential"]
    return out


ARM_AE_COLUMNS = ["trial", "study", "term", "grade", "experimental", "exp_count", "exp_n", "exp_pct",
                  "control", "ctl_count", "ctl_n", "ctl_pct", "risk_difference", "rd_ci_low",
                  "rd_ci_high", "n_basis", "source"]


def toxicity_arms(ds: Dataset, studies: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Adverse events arm against arm in randomized trials: each arm's count, n and % as printed,
    and the risk difference (experimental minus control, percentage points) with its Newcombe
    interval (stats.risk_difference_ci). Where the source gives no denominator for the event, the arm's
    randomized n is used and n_basis says so."""
    ae = ds.adverse_events
    ae = ae[ae["study"].isin(studies["study"]) & ae["cohort"].notna() & ae["count"].notna()]
    if ae.empty:
        return pd.DataFrame(columns=ARM_AE_COLUMNS)
    coh = {(c.study, c.cohort): c for c in row_tuples(ds.cohorts, index=False)}
    trial = dict(zip(ds.studies["study"], ds.studies["trial"], strict=True))
    rows = []
    for (study, term, grade), g in ae.groupby(["study", "term", "grade"], sort=False):
        by_arm = {coh[(study, r.cohort)].arm: r for r in row_tuples(g) if (study, r.cohort) in coh}
        if not {"experimental", "control"} <= set(by_arm):
            continue
        e, c = by_arm["experimental"], by_arm["control"]
        ne = value_or_none(e.n) if not missing(e.n) else value_or_none(coh[(study, e.cohort)].n)
        nc = value_or_none(c.n) if not missing(c.n) else value_or_none(coh[(study, c.cohort)].n)
        basis = "reported" if not missing(e.n) and not missing(c.n) else "randomized n of each arm"
        rd = lo = hi = None
        if ne and nc:
            from .stats import risk_difference_ci

            rd = round(100 * (int(e.count) / ne - int(c.count) / nc), 1)
            low, high = risk_difference_ci(int(e.count), int(ne), int(c.count), int(nc), level)
            lo, hi = round(100 * float(low), 1), round(100 * float(high), 1)
        rows.append({"trial": trial.get(study), "study": study, "term": term, "grade": grade,
                     "experimental": coh[(study, e.cohort)].label, "exp_count": int(e.count),
                     "exp_n": ne, "exp_pct": value_or_none(e.percent_reported),
                     "control": coh[(study, c.cohort)].label, "ctl_count": int(c.count), "ctl_n": nc,
                     "ctl_pct": value_or_none(c.percent_reported), "risk_difference": rd, "rd_ci_low": lo,
                     "rd_ci_high": hi, "n_basis": basis, "source": e.source})
    frame = pd.DataFrame(rows, columns=ARM_AE_COLUMNS)
    for col in ("exp_count", "exp_n", "ctl_count", "ctl_n"):
        frame[col] = frame[col].astype("Int64")
    return frame


# --- reports of one trial ------------------------------------------------------------------------

REPORT_COLUMNS = ["trial", "metric", "reports", "detail"]
REPORT_METRICS = (("n", "patients in the headline population"), ("orr_count", "responders"),
                  ("orr_percent", "ORR %"), ("depth_count", "depth of response, patients"),
                  ("depth_percent", "depth of response %"), ("median_pfs", "median PFS, months"),
                  ("median_os", "median OS, months"))


@per_dataset
def _trial_headlines(ds: Dataset) -> pd.DataFrame:
    """The headline row of every report of a trial with several reports. Each study's row is its
    own, so one call serves every trial and every brief of a run."""
    st = study_table(ds)
    st = st[st["trial"].notna()]
    return headline(ds, st[st.groupby("trial")["study"].transform("size") > 1])


def report_differences(ds: Dataset, studies: set[str] | None = None) -> pd.DataFrame:
    """Where reports of one trial give different figures for its headline population: updates and
    re-analyses to read side by side, not errors. One row per trial and metric."""
    st = study_table(ds)
    st = st[st["trial"].notna()]
    if studies is not None:
        st = st[st["study"].isin(studies)]
    st = st[st.groupby("trial")["study"].transform("size") > 1]
    heads = _trial_headlines(ds)
    rows = []
    for trial, group in st.groupby("trial", sort=True):
        head = heads[heads["study"].isin(set(group["study"]))]
        regimens = list(dict.fromkeys(head["regimen"]))
        # reports of different regimens within one trial (its arms or parts) are not compared
        for regimen, same in head.groupby("regimen", sort=False, dropna=False):
            name = trial if len(regimens) == 1 else f"{trial} ({regimen})"
            for metric, label in REPORT_METRICS:
                values = [(r.study, r.source, value_or_none(getattr(r, metric))) for r in row_tuples(same)]
                given = [(s, src, v) for s, src, v in values if v is not None]
                if len({v for _, _, v in given}) > 1:
                    text = "; ".join(f"{s} [{src}]: {v:g}" for s, src, v in given)
                    rows.append({"trial": name, "metric": metric, "reports": text,
                                 "detail": f"{label} differs between {len(given)} reports"})
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)
