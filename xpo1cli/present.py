"""The human views: what a reader sees of a domain result on a terminal or in Markdown.

Each view takes the frame a domain function returns (numbers as numbers, missing as missing) and
gives the columns of the table, in the clinic's notation: '25/40 (63%)', 'median 9.5 mo'. The
machine formats (CSV, JSON) never pass through here.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

import pandas as pd

from .counts import CATEGORIES
from .query import split_list
from .render import level_text, terminal_width, wrap_words
from .response import ALL_RESPONSE, response_key
from .synthesis import PoolResult
from .textcharts import bars, forest, leave_one_out_table
from .values import DERIVED_MARK, MISSING, as_printed, cell, derived, fraction, row_tuples, value_or_none

SETTING_SHORT = {"relapsed/refractory": "R/R", "newly diagnosed": "ND"}


def list_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`list`: one row per study with ORR and depth as count/denominator (percent)."""
    rows = []
    for r in row_tuples(frame):
        depth = (f"{r.depth} {fraction(r.depth_count, r.depth_denominator, r.depth_percent, r.depth_count_basis)}"
                 if isinstance(r.depth, str) else None)
        rows.append({
            "ref": r.ref, "study": r.study, "disease": r.disease, "regimen": r.regimen,
            "phase": r.phase, "setting": SETTING_SHORT.get(r.setting, r.setting),
            "cohort": r.cohort, "n": r.n,
            "ORR": fraction(r.orr_count, r.orr_denominator, r.orr_percent, r.orr_count_basis),
            "depth": depth, "PFS mo": r.median_pfs, "OS mo": r.median_os,
            "⚠": "audit" if isinstance(r.audit, str) else "",
        })
    return pd.DataFrame(rows, columns=["ref", "study", "disease", "regimen", "phase", "setting",
                                       "cohort", "n", "ORR", "depth", "PFS mo", "OS mo", "⚠"])


@dataclass
class Section:
    """One table of what a command prints: the frame, its title and notes, the warnings above it
    (on stderr with machine formats) and its human view (the columns a reader sees)."""

    frame: pd.DataFrame
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    view: Callable[[pd.DataFrame], pd.DataFrame] | None = None


def other_reports_note(rec: dict, shown: Iterable[str] = ()) -> str | None:
    """The sentence naming the other reports of a study's trial that are not shown with it, and
    the command that lays them side by side; None when there are none."""
    others = rec.get("other_reports")
    if others is None or not len(others):
        return None
    rest = [r for r in row_tuples(others) if r.study not in set(shown)]
    if not rest:
        return None

    def named(r) -> str:
        what = "; ".join(str(v) for v in (r.report_role, r.report) if isinstance(v, str))
        ref = f"ref {cell(r.ref)}, " if value_or_none(r.ref) is not None else ""
        return f"{r.study} ({ref}{what}; source {r.source})" if what else f"{r.study} ({ref}source {r.source})"

    trial = rec["study"]["trial"]
    kind = "another report" if len(rest) == 1 else f"{len(rest)} other reports"
    return (f"Trial {trial} has {kind} in the data: {', '.join(named(r) for r in rest)}. "
            f"All its reports side by side: xpo1 show {trial}")


def show_sections(rec: dict, shown: Iterable[str] = ()) -> list[Section]:
    """One study's record (`catalogue.study_record`) as the tables a reader sees, in order; `shown`
    are the reports printed with it (the other reports of its trial are named, not repeated)."""
    s = rec["study"]
    facts = pd.DataFrame(
        [(k, cell(v)) for k, v in s.items() if cell(v) != "–"], columns=["field", "value"])
    ref = f"ref {cell(s['ref'])}" if s.get("ref") is not None else f"source {s['source']}"
    note = other_reports_note(rec, shown)
    sections = [
        Section(facts, f"{s['study']} ({ref})", [note] if note else []),
        Section(rec["cohorts"][["cohort", "label", "parent", "arm", "regimen", "n", "headline", "source"]],
                "Cohorts and arms"),
        Section(outcome_view(rec["outcomes"]), "Outcomes", [
            "* count derived here (from the categories the source lists, or the one whole "
            "count its percentage allows); 'computed' is count/denominator. Percentages are "
            "as printed. --format json gives every field."])]
    if len(rec["comparisons"]):
        comp = rec["comparisons"].copy()
        for col in ("estimate", "ci_low", "ci_high"):
            comp[col] = [as_printed(v, d) for v, d in zip(comp[col], comp["decimals"], strict=True)]
        comp = comp.rename(columns={"p_text": "p"})
        sections.append(Section(
            comp[["cohort_a", "cohort_b", "measure", "timepoint", "statistic", "estimate", "ci_low",
                  "ci_high", "p", "test", "source", "note"]], "Comparisons between arms",
            ["As reported by the source: estimates, confidence limits and p-values are "
             "printed as given, with the source's decimals; nothing here is recomputed."]))
    if len(rec.get("syntheses", ())):
        sections.append(Section(rec["syntheses"][["measure", "population", "value", "unit", "low", "high",
                                                  "out_of", "bracket", "source"]],
                                "Published pooled figures (a synthesis of other studies; never pooled again)"))
    if len(rec["adverse_events"]):
        sections.append(Section(rec["adverse_events"][["cohort", "kind", "term", "grade", "count", "n",
                                                       "percent_reported", "statement", "source"]],
                                "Safety and dose findings"))
    return sections


def outcome_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Outcome rows for reading: one value column in the clinic's notation."""


    def value(r):
        k, den, pct = value_or_none(r.count_used), value_or_none(r.denominator), value_or_none(r.percent_reported)
        med, wk = value_or_none(r.median_months), value_or_none(r.median_weeks)
        lo, hi = value_or_none(r.range_low), value_or_none(r.range_high)
        if med is not None or wk is not None or lo is not None or hi is not None:
            unit = "wk" if wk is not None else "mo"
            text = f"median {cell(med if med is not None else wk)} {unit}" if (med or wk) is not None else ""
            if lo is not None or hi is not None:
                text += f" (range {cell(lo) if lo is not None else '?'}–{cell(hi)} {unit})"
            return text.strip()
        if k is None and pct is None:
            return "stated in words only"
        text = ""
        if k is not None:
            text = f"{k}{DERIVED_MARK if r.count_basis not in (None, 'reported') else ''}"
            text += f"/{den}" if den is not None else ""
        if pct is not None:
            text += f" ({cell(pct)}%)" if text else f"{cell(pct)}%"
        calc = value_or_none(r.percent_calc)
        if calc is not None and (pct is None or abs(calc - pct) > 0.05):
            text += f" [computed {cell(calc)}%]"
        return text

    def ci(r):
        lo, hi = value_or_none(r.ci_low), value_or_none(r.ci_high)
        if lo is None and hi is None:
            return "–"
        return f"{cell(lo) if lo is not None else 'NE'}–{cell(hi) if hi is not None else 'NE'}"

    return pd.DataFrame({
        "cohort": frame["cohort"], "measure": frame["measure"],
        "when": [cell(t) for t in frame["timepoint"]],
        "value": [value(r) for r in row_tuples(frame)],
        "95% CI (reported)": [ci(r) for r in row_tuples(frame)],
        "source": frame["source"], "note": [cell(n) for n in frame["note"]]})


def compare_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`compare`: one column per compared study, one row per metric."""
    def column_name(r):
        where = f"ref {cell(r.ref)}" if value_or_none(r.ref) is not None else (r.trial or r.study)
        arm = f" ({r.cohort_label})" if isinstance(r.arm, str) else ""
        return f"{r.compared} · {where}{arm}"

    def fmt_row(r):
        return {
            "study": f"{r.study} [{r.source}]", "disease": r.disease,
            "treatment": f"{r.regimen}: " + (f"{r.agent}" if isinstance(r.agent, str) else "no XPO1 inhibitor")
            + (f" ({r.arm} arm)" if isinstance(r.arm, str) else ""),
            "design / phase": f"{r.design}" + (f", phase {r.phase}" if isinstance(r.phase, str)
                                               and "phase" not in r.design else ""),
            "setting": cell(r.setting), "population": f"{r.cohort_label} (n={cell(r.n)})",
            "ORR": fraction(r.orr_count, r.orr_denominator, r.orr_percent, r.orr_count_basis),
            "depth": (f"{r.depth} {fraction(r.depth_count, r.depth_denominator, r.depth_percent, r.depth_count_basis)}"
                      if isinstance(r.depth, str) else MISSING),
            "median PFS, mo": cell(r.median_pfs), "median OS, mo": cell(r.median_os),
            "other cohorts": cell(r.other_cohorts), "between arms, as reported": cell(r.between_arms),
            "comparison": r.comparison,
        }

    rows = [fmt_row(r) for r in row_tuples(frame)]
    if not rows:
        return pd.DataFrame(columns=["metric"])
    wide = pd.DataFrame(rows).T
    names = [column_name(r) for r in row_tuples(frame)]
    wide.columns = [f"{n} [{r.study}]" if names.count(n) > 1 else n
                    for n, r in zip(names, row_tuples(frame), strict=True)]
    wide.insert(0, "metric", wide.index)
    return wide.reset_index(drop=True)


CUMULATIVE_MARK = "†"


def rate(n, pct, lo=None, hi=None, basis=None) -> str:
    """A response rate cell: '12* (30%) [17–47]'; NR when the source gives neither count nor %."""
    n, pct, lo, hi, basis = (value_or_none(x) for x in (n, pct, lo, hi, basis))
    if n is None and pct is None:
        return "NR"
    if n is None:
        mark = CUMULATIVE_MARK if isinstance(basis, str) and basis.startswith("cumulative") else ""
        text = f"{cell(pct)}%{mark}" if pct is not None else MISSING
    else:
        text = f"{cell(n)}{DERIVED_MARK if derived(basis) else ''}"
        if pct is not None:
            text += f" ({cell(pct)}%)"
    if lo is not None and hi is not None:
        text += f" [{cell(lo)}–{cell(hi)}]"
    return text


def response_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`response`: one column per measure any row reports."""
    shown = []
    for m in ALL_RESPONSE:
        k = response_key(m)
        if f"{k}_n" in frame and (frame[f"{k}_n"].notna() | frame[f"{k}_pct"].notna()).any():
            shown.append((m, k))
    out = pd.DataFrame({"ref": frame["ref"], "study": frame["study"], "cohort": frame["cohort"],
                        "n eval": frame["denominator"],
                        "⚠": ["audit" if isinstance(a, str) else "" for a in frame["audit"]]})
    for m, k in shown:
        if m in CATEGORIES:
            out[m] = [rate(a, b) for a, b in zip(frame[f"{k}_n"], frame[f"{k}_pct"], strict=True)]
        else:
            out[m.replace("_", "/")] = [
                rate(*cells) for cells in zip(frame[f"{k}_n"], frame[f"{k}_pct"], frame[f"{k}_ci_low"],
                                               frame[f"{k}_ci_high"], frame[f"{k}_basis"], strict=True)]
    return out


def survival_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`survival`: the median and its range in the unit the source gives."""
    def rng(lo, hi):
        lo, hi = value_or_none(lo), value_or_none(hi)
        if lo is None and hi is None:
            return "–"
        return f"{cell(lo) if lo is not None else '?'}–{cell(hi)}"

    return pd.DataFrame({
        "ref": frame["ref"], "study": frame["study"], "cohort": frame["cohort_label"],
        "regimen": frame["regimen"], "n": frame["n"], "measure": frame["measure"],
        "median": frame["median"], "unit": frame["unit"],
        "range": [rng(a, b) for a, b in zip(frame["range_low"], frame["range_high"], strict=True)],
        "note": frame["note"]})


def arms_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`toxicity --arms`: each event arm against arm with the risk difference."""
    def arm(k, n, p):
        return f"{cell(k)}/{cell(n)} ({cell(p)}%)" if value_or_none(p) is not None else f"{cell(k)}/{cell(n)}"

    return pd.DataFrame({
        "trial": frame["trial"], "event": frame["term"], "grade": frame["grade"],
        "experimental arm": [f"{lab}: {arm(a, b, c)}" for lab, a, b, c in zip(
            frame["experimental"], frame["exp_count"], frame["exp_n"], frame["exp_pct"], strict=True)],
        "control arm": [f"{lab}: {arm(a, b, c)}" for lab, a, b, c in zip(
            frame["control"], frame["ctl_count"], frame["ctl_n"], frame["ctl_pct"], strict=True)],
        "difference, points [95% CI]": [f"{cell(d)} [{cell(lo)} to {cell(hi)}]" for d, lo, hi in zip(
            frame["risk_difference"], frame["rd_ci_low"], frame["rd_ci_high"], strict=True)],
        "n": frame["n_basis"], "source": frame["source"]})


def toxicity_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`toxicity`: each finding with where it was seen and its incidence."""
    def incidence(r):
        c, n, p = value_or_none(r.count), value_or_none(r.n), value_or_none(r.percent_reported)
        if c is None and p is None:
            return "not quantified"
        text = f"{c}" if c is not None else ""
        if p is not None:
            text += f" ({cell(p)}%)" if c is not None else f"{cell(p)}%"
        return text + (f" of {cell(n)}" if n is not None else "")

    def where(r):
        if isinstance(r.study, str):
            return r.study + (f" / {r.cohort}" if isinstance(r.cohort, str) else "")
        return r.population if isinstance(r.population, str) else "all XPO1 inhibitors"

    def treatment(r):
        if not isinstance(r.study, str):
            return f"{r.regimen} (label)" if isinstance(r.regimen, str) else "–"
        arm = f" ({r.arm} arm)" if r.arm in ("experimental", "control") else f" ({r.arm})" if isinstance(
            r.arm, str) else ""
        return f"{r.regimen if isinstance(r.regimen, str) else 'trial'}{arm}"

    return pd.DataFrame({
        "kind": frame["kind"].str.replace("_", " "), "category": frame["category"],
        "term": frame["term"], "agent": frame["agent"], "where": [where(r) for r in row_tuples(frame)],
        "regimen (arm)": [treatment(r) for r in row_tuples(frame)],
        "grade": frame["grade"], "incidence": [incidence(r) for r in row_tuples(frame)],
        "finding": frame["statement"],
        "source": [f"ref {cell(r.ref)}" if value_or_none(r.ref) is not None else r.source
                   for r in row_tuples(frame)]})



NO_STATUS = "no status in our sources"
TRIALS_NOTE = ("status: as a source states it, never inferred ('no status in our sources' where none "
               "does); results: 'reported' where a report of the trial's results is in the data "
               "(figures: whether any is stored here). 'xpo1 show TRIAL' gives every report side by side.")


def trials_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`trials`: the stated status, or that no source states one."""
    return frame.assign(status=frame["status"].map(lambda s: s if isinstance(s, str) else NO_STATUS))


def no_regimen_note(count: int) -> list[str]:
    """The note on toxicity rows left out of a regimen's listing because they name no regimen."""
    if not count:
        return []
    rows = "row names" if count == 1 else "rows name"
    return [f"{count} {rows} no regimen (class-wide findings of XPO1 inhibitors, prescribing-"
            "information populations naming no regimen, trial-level rows naming no arm) and are not "
            "shown as this regimen's; 'xpo1 toxicity' without a treatment filter lists them."]


def survival_chart(frame: pd.DataFrame, by_median: bool = False, stream: IO | None = None) -> None:
    """`survival --chart`: the medians in months as text bars, one group per measure, and a line
    for each median given in another unit (not drawn)."""
    stream = stream or sys.stdout
    months = frame[frame["unit"] == "months"]
    labels = months.assign(label=[
        f"{'ref ' + cell(r.ref) if cell(r.ref) != '–' else r.source} {r.regimen} · {r.cohort_label}"
        for r in row_tuples(months)])
    bars(labels.sort_values(["measure", "median"], ascending=[True, False], kind="stable") if by_median
         else labels.sort_values(["measure", "ref", "study"], kind="stable"),
         "label", "median", group="measure", stream=stream)
    stream.write("Medians in months as reported; a range-only figure (e.g. the longest response) "
                 "shows as not reported. Bars are not comparable across different populations.\n")
    for r in row_tuples(frame[frame["unit"] != "months"]):
        stream.write(f"Not drawn (in {r.unit}, not months): {r.study} {r.cohort_label} {r.measure} "
                     f"median {cell(r.median)} {r.unit}.\n")


# --- pool ---------------------------------------------------------------------------------------

CORRECTION_TEXT = {
    "only0": "0.5 added to both cells of 0/n and n/n cohorts only",
    "all": "0.5 added to both cells of every cohort",
    "none": "none",
}

def pool_caption(summary: dict) -> str:
    """The caption of one pooled group: estimate, CI and prediction interval with their level,
    heterogeneity, the test, the continuity correction, the cohorts' interval type, cautions;
    with subgroups, each subgroup's estimate and the test for subgroup differences."""
    lv = level_text(summary["level"])
    s = summary

    def test_text(fit):
        return f"t with {fit['df']} df (Knapp–Hartung)" if fit["test"] == "knha" else "z (normal)"

    def fit_text(fit):
        text = f"{fit['estimate']:.1f}% [{lv} CI {fit['ci_low']:.1f}–{fit['ci_high']:.1f}"
        if fit.get("pi_low") is not None:
            text += f"; {lv} prediction interval {fit['pi_low']:.1f}–{fit['pi_high']:.1f}"
        return text + f"], k = {fit['k']}"

    if s.get("overall", True):
        parts = [f"{s['group']}: {s['label']} {fit_text(s)}; tau² = {s['tau2']:.3f}, I² = {s['i2']:.1f}%, "
                 f"H² = {s['h2']:.2f}, Q = {s['q']:.2f} (df {s['q_df']}, p = {s['q_p']:.3g})."]
    else:
        parts = [f"{s['group']}: {s['label']}, one pool per {s['by']}, no estimate across them (k = {s['k']})."]
    if s.get("across"):
        parts.append(f"Pooled across regimens ({', '.join(s['across'])}), as asked: a summary of several "
                     "regimens, not the effect of any one.")
    if s.get("by"):
        subs = []
        for name, fit in s["subgroups"].items():
            if fit.get("refused"):
                subs.append(f"{name} not pooled: {fit['refused']} (k = {fit['k']})")
            elif fit["k"] < 2:
                subs.append(f"{name} one cohort, not pooled ({fit['estimate']:.1f}%)")
            else:
                subs.append(f"{name} {fit_text(fit)}, tau² = {fit['tau2']:.3f}, I² = {fit['i2']:.1f}%")
        parts.append(f"Subgroups by {s['by']}, each with its own tau² (cohort weights are within each "
                     f"subgroup): {'; '.join(subs)}.")
        if s.get("q_between") is not None:
            unrandomized = (" (not a comparison of regimens: the cohorts were not randomized between them)"
                            if s["by"] == "regimen" else "")
            parts.append(f"Test for subgroup differences (random effects){unrandomized}: Q = {s['q_between']:.2f}, "
                         f"df = {s['q_between_df']}, p = {s['q_between_p']:.3g}.")
    corr = CORRECTION_TEXT[s["correction"]]
    if s["correction"] != "none":
        corr += f" ({s['corrected']} cohort{'s' if s['corrected'] != 1 else ''} corrected)"
    parts.append(f"Intervals of the pooled estimate: {test_text(s)}. Logit scale; continuity "
                 f"correction: {corr}. Each cohort's whisker: {lv} "
                 f"{'Clopper–Pearson exact' if s['ci'] == 'exact' else 'Wilson'} interval.")
    cautions = list(s.get("cautions") or [])
    by_text: dict[str, list[str]] = {}
    for name, fit in (s.get("subgroups") or {}).items():
        for c in fit.get("cautions") or []:
            if fit["k"] >= 2 and c not in cautions:
                by_text.setdefault(c, []).append(name)
    cautions += [f"{c} (subgroup{'s' if len(names) > 1 else ''} {', '.join(names)})"
                 for c, names in by_text.items()]
    if cautions:
        parts.append("Caution: " + "; ".join(cautions) + ".")
    return " ".join(parts)


def pool_mixes(included: pd.DataFrame, by: str | None = None, across: bool = False) -> list[str]:
    """What each pooled group puts together, named exactly, each with the option that splits it
    (or, for diseases, gives each its own estimate with --by disease). Groups of fewer than two
    cohorts are not pooled and mix nothing; with two pooled groups each note names its group.
    Regimens are mixed only in a pool asked for across them (`across`); split by regimen without
    it, each pool is one regimen's."""
    groups = [(g, rows) for g, rows in included.groupby("group", sort=False) if len(rows) >= 2]
    return [f"{g}: {note}" if len(groups) > 1 else note for g, rows in groups
            for note in _group_mixes(rows, by, across)]


def _group_mixes(included: pd.DataFrame, by: str | None, across: bool = False) -> list[str]:
    notes = []
    study, cohort = included["study"].tolist(), included["cohort"].tolist()
    disease_lists = {v: split_list(v) for v in set(included["disease"].tolist())}  # a few distinct cells
    cells = [disease_lists[v] for v in included["disease"].tolist()]
    diseases = sorted({d for codes in disease_lists.values() for d in codes})
    if len(diseases) > 1:
        how = "split by --by disease" if by == "disease" else \
            "pool one with --disease, or one estimate each with --by disease"
        notes.append(f"mixes diseases: {', '.join(diseases)} ({how})")
    mixed = [f"{s}/{c} ({d})" for s, c, d, codes in zip(study, cohort, included["disease"].tolist(), cells,
                                                         strict=True) if len(codes) > 1]
    if mixed:
        notes.append(f"includes mixed-disease cohorts: {', '.join(mixed)}")
    setting = included["setting"].tolist()
    settings = sorted({v for v in setting if isinstance(v, str)})
    unstated = [f"{s}/{c}" for s, c, v in zip(study, cohort, setting, strict=True) if not isinstance(v, str)]
    if len(settings) > 1 or "mixed" in settings:
        notes.append(f"mixes settings: {', '.join(settings)} (pool one with --setting)")
    if unstated and settings:
        notes.append(f"setting not stated for {', '.join(unstated)}")
    regimens = list(dict.fromkeys(r for r in included["regimen"].tolist() if isinstance(r, str)))
    if len(regimens) > 1 and across:
        notes.append(f"mixes regimens, pooled across them as asked (--across-regimens): {', '.join(regimens)} "
                     "(pool one with --regimen, or one pool each with --by regimen)")
    derived_rows = [f"{s}/{c} {e}/{n} ({b})" for s, c, e, n, b in zip(
        study, cohort, included["events"].tolist(), included["n"].tolist(), included["count_basis"].tolist(),
        strict=True) if b != "reported"]
    if derived_rows:
        notes.append(f"derived counts used (marked *): {', '.join(derived_rows)}")
    return notes


def pool_reports(included: pd.DataFrame, excluded: pd.DataFrame) -> list[str]:
    """For each trial with several reports, which report and population the pool used."""
    # one pass over the reasons (pool_inputs writes "another report of the same trial (TRIAL); ..."),
    # not one per pooled cohort: a pool of thousands of cohorts stays linear
    prefix = "another report of the same trial ("
    others = Counter(reason[len(prefix):].split("); the ", 1)[0] for reason in excluded["reason"]
                     if reason.startswith(prefix))
    out = []
    for r in row_tuples(included):
        if others.get(r.trial):
            out.append(f"{r.trial}: pooled the {r.report_role} report {r.study} [{r.source}], population "
                       f"'{r.cohort_label}' ({r.events}/{r.n}); {others[r.trial]} other report(s) left out")
    return [*out, *included.attrs.get("published", [])]


KIND_NOTE = ("Pooled single-arm cohorts and arms of different designs and populations: a summary of "
             "the evidence, not an estimate of one treatment's effect.")
CONTROLS_NOTE = " Control arms are pooled apart, as their own estimate, never with XPO1-inhibitor arms."
MIXED_NOTE = (" Cohorts of several diseases, settings or designs are pooled as asked (--allow-mixed): such a "
              "figure is no one population's.")
MAX_LEFT_OUT = 12  # cohorts left out named one by one; beyond, the first ten and a count


def pool_warnings(result: PoolResult) -> list[str]:
    """What a reader of a pool must know: what it mixes, which report of a trial it used, the
    cohorts alone in their group and the cohorts left out."""
    left = [f"left out {r.study}/{r.cohort} [{r.source}]: {r.reason}" for r in row_tuples(result.excluded)]
    if len(left) > MAX_LEFT_OUT:
        left = [*left[:10], f"... and {len(left) - 10} more cohorts left out (subgroups, second "
                "reports, or figures without counts)"]
    single = [f"not pooled, the only cohort of its group ({g}): {r.study}/{r.cohort} {r.events}/{r.n}"
              for g, rows in result.singles for r in row_tuples(rows)]
    kind_note = (KIND_NOTE + (CONTROLS_NOTE if result.pools_controls else "")
                 + (MIXED_NOTE if result.allow_mixed else ""))
    return [kind_note, *pool_mixes(result.included, by=result.by, across=result.across_regimens),
            *pool_reports(result.included, result.excluded), *single, *left]


def pool_influence(result: PoolResult) -> list[str]:
    """For each group refitted leave-one-out, the cohort that moves the estimate most."""
    out = []
    for g in result.groups:
        top = g.most_influential
        if top is not None:
            out.append(f"{g.name}: leaving out {top['study']}/{top['cohort']} moves the pooled estimate most, "
                       f"by {top['shift']:+.1f} percentage points (to {top['percent']:.1f}%).")
    return out


def pool_frame(result: PoolResult) -> pd.DataFrame:
    """Every row of a pool for the machine formats: each group's cohorts and pooled rows, then
    its leave-one-out rows."""
    parts = [p for g in result.groups for p in (g.table, g.leave_one_out) if p is not None]
    return pd.concat(parts, ignore_index=True)


def show_pool(result: PoolResult, fmt: str) -> None:
    """`pool` in the format asked for: the terminal view (table, plain) or every row with the
    captions, influence and warnings as notes (machine formats)."""
    from .render import render

    if fmt in ("table", "plain"):
        pool_text(result)
    else:
        render(pool_frame(result), fmt, title=f"Pooled {result.measure}",
               notes=[*(pool_caption(g.summary) for g in result.groups), *pool_influence(result)],
               warnings=pool_warnings(result))


def pool_figure(result: PoolResult, filters) -> tuple[pd.DataFrame, str, str]:
    """The forest plot's rows, title (the measure, the filters and the model) and caption."""
    shown = ", ".join(filter_words(filters)) or "all cohorts"
    title = (f"Pooled {result.measure} ({shown}) — {result.groups[0].summary['label']}"
             + (f", by {result.by}" if result.by else ""))
    caption = " ".join(pool_caption(g.summary) for g in result.groups)
    return pd.concat([g.table for g in result.groups], ignore_index=True), title, caption


def filter_words(f) -> list[str]:
    """The filters of a query as words for a figure's title: 'disease MM', 'source review'."""
    import dataclasses

    words = []
    for each in dataclasses.fields(f):
        value = getattr(f, each.name)
        if value is None or value == ():
            continue
        name = {"evidence": "type", "min_n": "n ≥"}.get(each.name, each.name.replace("_", " "))
        if isinstance(value, tuple):
            value = " + ".join(value)
        words.append(f"{name} {value}")
    return words


def pool_text(result: PoolResult, stream: IO | None = None) -> None:
    """`pool` on a terminal: per group a heading, the forest table with its caption and the
    leave-one-out table; then the most influential cohorts and the notes, wrapped to the
    terminal's width."""
    stream = stream or sys.stdout
    columns = terminal_width(stream)
    lv = level_text(result.level)

    def say(line: str) -> None:
        stream.write(("\n".join(wrap_words(line, columns)) if columns else line) + "\n")

    for g in result.groups:
        say(f"Pooled {result.measure}, {lv} CI: {g.name} ({g.summary['label']})")
        forest(g.table, stream=stream, caption=pool_caption(g.summary))
        if g.leave_one_out is not None:
            stream.write(f"\nLeave-one-out — {g.name} ({lv} CI)\n")
            leave_one_out_table(g.leave_one_out, stream=stream)
    for line in [*pool_influence(result), *(f"note: {w}" for w in pool_warnings(result))]:
        say(line)
