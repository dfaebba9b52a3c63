"""The human views: what a reader sees of a domain result on a terminal or in Markdown.

Each view takes the frame a domain function returns (numbers as numbers, missing as missing) and
gives the columns of the table, in the clinic's notation: '25/40 (63%)', 'median 9.5 mo'. The
machine formats (CSV, JSON) never pass through here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO

import pandas as pd

from .query import CATEGORIES
from .render import DERIVED_MARK, MISSING, as_printed, bars, cell, derived, fraction
from .values import value_or_none
from .views import ALL_RESPONSE, response_key

SETTING_SHORT = {"relapsed/refractory": "R/R", "newly diagnosed": "ND"}


def list_view(frame: pd.DataFrame) -> pd.DataFrame:
    """`list`: one row per study with ORR and depth as count/denominator (percent)."""
    rows = []
    for r in frame.itertuples():
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
    """One titled table of a report: the frame, its title and its notes."""

    frame: pd.DataFrame
    title: str
    notes: list[str] = field(default_factory=list)


def show_sections(rec: dict) -> list[Section]:
    """One study's record (`query.study_record`) as the tables a reader sees, in order."""
    s = rec["study"]
    facts = pd.DataFrame(
        [(k, cell(v)) for k, v in s.items() if cell(v) != "–"], columns=["field", "value"])
    ref = f"ref {cell(s['ref'])}" if s.get("ref") is not None else f"source {s['source']}"
    sections = [
        Section(facts, f"{s['study']} ({ref})"),
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
            text = f"{k}{'*' if r.count_basis not in (None, 'reported') else ''}"
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
        "value": [value(r) for r in frame.itertuples()],
        "95% CI (reported)": [ci(r) for r in frame.itertuples()],
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

    rows = [fmt_row(r) for r in frame.itertuples()]
    if not rows:
        return pd.DataFrame(columns=["metric"])
    wide = pd.DataFrame(rows).T
    names = [column_name(r) for r in frame.itertuples()]
    wide.columns = [f"{n} [{r.study}]" if names.count(n) > 1 else n
                    for n, r in zip(names, frame.itertuples(), strict=True)]
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
            return "–"
        arm = f" ({r.arm} arm)" if r.arm in ("experimental", "control") else f" ({r.arm})" if isinstance(
            r.arm, str) else ""
        return f"{r.regimen if isinstance(r.regimen, str) else 'trial'}{arm}"

    return pd.DataFrame({
        "kind": frame["kind"].str.replace("_", " "), "category": frame["category"],
        "term": frame["term"], "agent": frame["agent"], "where": [where(r) for r in frame.itertuples()],
        "regimen (arm)": [treatment(r) for r in frame.itertuples()],
        "grade": frame["grade"], "incidence": [incidence(r) for r in frame.itertuples()],
        "finding": frame["statement"],
        "source": [f"ref {cell(r.ref)}" if value_or_none(r.ref) is not None else r.source
                   for r in frame.itertuples()]})



def survival_chart(frame: pd.DataFrame, by_median: bool = False, stream: IO | None = None) -> None:
    """`survival --chart`: the medians in months as text bars, one group per measure, and a line
    for each median given in another unit (not drawn)."""
    stream = stream or sys.stdout
    months = frame[frame["unit"] == "months"]
    labels = months.assign(label=[
        f"{'ref ' + cell(r.ref) if cell(r.ref) != '–' else r.source} {r.regimen} · {r.cohort_label}"
        for r in months.itertuples()])
    bars(labels.sort_values(["measure", "median"], ascending=[True, False], kind="stable") if by_median
         else labels.sort_values(["measure", "ref", "study"], kind="stable"),
         "label", "median", group="measure", stream=stream)
    stream.write("Medians in months as reported; a range-only figure (e.g. the longest response) "
                 "shows as not reported. Bars are not comparable across different populations.\n")
    for r in frame[frame["unit"] != "months"].itertuples():
        stream.write(f"Not drawn (in {r.unit}, not months): {r.study} {r.cohort_label} {r.measure} "
                     f"median {cell(r.median)} {r.unit}.\n")
