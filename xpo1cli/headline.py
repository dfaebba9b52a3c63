"""The headline rows a clinician reads first: one row per study (its headline cohort) with n,
ORR, depth of response and medians; the comparison of regimens side by side; and the
differences between the reports of one trial. Pure functions of the dataset and the query
layer; no printing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .audit import cohort_flags
from .counts import CATEGORIES, COMPOSITES, TIME_MEASURES, one_printed, outcome_table, percent_of
from .data import Dataset, per_dataset
from .query import Filters, UnknownName, arm_table, filter_arms, filter_studies, split_list, study_table
from .values import (
    first_rows,
    key_codes,
    last_match,
    missing,
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
    counts.outcome_table), the figures of each cohort with any outcome row (`table`: columns as
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


class Picked:
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

    read = Picked(o)
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
    pfs, os_ = pick(plain & (measure == "PFS")), pick(plain & (measure == "OS"))
    table["pfs"] = cells("median_months", pfs)
    table["os"] = cells("median_months", os_)
    # whose figure each is: the source of the row standing for it (depth: the primary source)
    table["orr_source"], table["pfs_source"], table["os_source"] = (
        texts("source", chosen_orr), texts("source", pfs), texts("source", os_))
    table["depth_source"] = texts("source", src_first[primary])

    # depth from the primary source
    primary_rows = plain & of_primary
    at = {m: pick(primary_rows & (measure == m)) for m in DEPTH_MEASURES}
    table.update(depth_summaries(read, at))
    return table


# the measures a depth summary is read from: the categories, the ORR and the summaries printed as such
DEPTH_MEASURES = tuple(dict.fromkeys((*CATEGORIES, "ORR", *DEPTH_STORED.values())))


def depth_summaries(read: Picked, at: dict[str, np.ndarray], labels: tuple[str, ...] = DEPTH_LABELS
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
        single = one_printed(k, have, parts)  # one printed category: the count is printed, not derived
        basis = np.where(summed, np.where(single, "reported", "sum of categories"), None).astype(object)
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
             matched: set[tuple[str, str]] | None = None, shared: CohortFigures | None = None,
             sources: bool = False) -> pd.DataFrame:
    """One row per study (its headline cohort), or per cohort: n, ORR, depth, median PFS/OS,
    each with the regimen, XPO1 agent and partners of the arm it describes. `matched` (from
    query.filter_arms) limits the rows to the arms a treatment filter selects. `shared`: the
    figures of these studies' cohorts when the caller has them already (several listings of
    overlapping studies read them once). `sources`: add FIGURE_SOURCES, the source of each figure's
    own row (a study's reports may give its figures from several sources)."""
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
    if sources:
        for col in FIGURE_SOURCES.values():
            frame[col] = arms["source"].tolist() if col == "n_source" else figure(col)
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

# each headline figure -> the column naming the source of the row it comes from (headline(sources=True))
FIGURE_SOURCES = {"n": "n_source", "orr_count": "orr_source", "orr_percent": "orr_source",
                  "depth_count": "depth_source", "depth_percent": "depth_source", "median_pfs": "pfs_source",
                  "median_os": "os_source"}

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
    printed are added by `reports.between_arms`."""
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
    return headline(ds, st[st.groupby("trial")["study"].transform("size") > 1], sources=True)


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
                # each figure credited to the source of its own row, not the report's citation
                values = [(r.study, value_or_none(getattr(r, FIGURE_SOURCES[metric])) or r.source,
                           value_or_none(getattr(r, metric))) for r in row_tuples(same)]
                given = [(s, src, v) for s, src, v in values if v is not None]
                if len({v for _, _, v in given}) > 1:
                    text = "; ".join(f"{s} [{src}]: {v:g}" for s, src, v in given)
                    rows.append({"trial": name, "metric": metric, "reports": text,
                                 "detail": f"{label} differs between {len(given)} reports"})
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)
