"""The evidence brief of one disease: what the evidence is, how strong, and what it costs the patient.

A view like the others: pure functions of the dataset that return a structured `Brief` (brief_model:
sections of rows of numbers, each with its source). This module puts it together from its sections:
brief_results (randomized trials, response, survival), harms, brief_findings (the summary of
findings), indirect_brief, brief_gaps (what is not known, the sources cited) and bottom_line. Nothing
here prints or formats a table; brief_render turns a Brief into terminal text, Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd

from .brief_findings import summary_of_findings
from .brief_gaps import cited_sources, gaps_of, trial_report_differences
from .brief_model import Brief
from .brief_results import (
    count_responders,
    critical_summaries,
    mark_unclear_sizes,
    printed_categories,
    randomized_trials,
    response_groups,
    subgroup_rates,
    survival_medians,
    worded_outcomes,
)
from .brief_scope import disease_shares
from .data import Dataset
from .findings import critical_outcomes
from .harms import harms_section
from .query import Filters, Resolver
from .values import row_tuples


def disease_label(ds: Dataset, disease: str | None) -> tuple[str | None, str]:
    """The disease code and name a brief is about ('all diseases' without one)."""
    if disease is None:
        return None, "all diseases"
    res = Resolver(ds)
    codes = res.disease_codes(disease)
    table = ds.diseases
    for row in row_tuples(table):
        if row.disease in codes and (not isinstance(row.parent, str) or row.parent not in codes):
            return row.disease, row.name
    return disease, disease


def build_brief(ds: Dataset, filters: Filters | None = None, *, level: float = 0.95) -> Brief:
    """The brief of the studies the filters select (one disease, usually)."""
    from .audit import audit
    from .counts import outcome_table
    from .query import arm_table, filter_arms, filter_studies

    f = filters or Filters()
    studies = filter_studies(ds, f)
    matched = filter_arms(ds, f, studies)
    code, name = disease_label(ds, f.disease)
    arms = arm_table(ds)
    arms = arms[arms["study"].isin(set(studies["study"]))]
    every_arm = {(a.study, a.cohort): a for a in row_tuples(arms, index=False)}  # a trial keeps its comparator
    if matched is not None:
        keys = pd.Series(list(zip(arms["study"], arms["cohort"], strict=True)), index=arms.index, dtype=object)
        arms = arms[keys.isin(matched)]
    arm_of = {(a.study, a.cohort): a for a in row_tuples(arms, index=False)}
    outcomes = outcome_table(ds, studies=studies["study"])
    findings_audit = audit(ds, set(studies["study"]), outcomes)
    flags: dict[tuple[str, str], list] = {}
    for r in row_tuples(findings_audit):
        flags.setdefault((r.study, r.cohort), []).append(r)

    b = Brief(disease=code, disease_name=name, filters=f, n_studies=len(studies),
              n_clinical=int((studies["evidence_type"] == "clinical trial").sum()),
              bottom_line=[], randomized=[], response=[], forests=[], survival=[], harms=[],
              harm_ranges=[], risk_differences=[], mitigations=[], findings=[], gaps=[], citations=[],
              critical=critical_outcomes(ds, code), shares=disease_shares(ds, studies, code))
    outcomes = critical_summaries(outcomes, b.rate_measures)  # after the audit: it reads what sources print
    b.randomized = randomized_trials(ds, studies, every_arm, outcomes, b.rate_measures)
    b.response, b.forests = response_groups(ds, studies, matched, outcomes, arm_of, flags, level, b)
    mark_unclear_sizes(ds, b)
    b.subgroup_rates, b.landmark_rates = subgroup_rates(ds, studies, outcomes, arm_of, flags, b, level)
    b.worded = worded_outcomes(studies, outcomes, arm_of, b)
    b.printed_categories = printed_categories(ds, studies, arm_of, outcomes, findings_audit, b)
    b.survival = survival_medians(ds, studies, matched, arm_of, outcomes)
    count_responders(b)
    b.harms, b.harm_ranges, b.risk_differences, b.mitigations = harms_section(ds, studies, matched, f, code, level)
    b.findings = summary_of_findings(ds, b, flags, level)
    from .indirect_brief import hta_rows, synthesis_rows

    b.indirect = hta_rows(ds, code) + synthesis_rows(ds, set(studies["study"]))
    for r in b.indirect:
        b.statistics.update(r.figures)
    b.gaps = gaps_of(ds, studies, b, findings_audit, trial_report_differences(ds, set(studies["study"])))
    from .bottom_line import bottom_line

    b.bottom_line = bottom_line(ds, b, set(studies["study"]))

    b.citations = cited_sources(ds, b)
    kinds = {c.source: c.kind for c in b.citations}
    for x in [*(r for g in b.response for r in g.rates), *(r for t in b.randomized for r in t.rates),
              *b.subgroup_rates, *b.landmark_rates,
              *(x for r in [*b.subgroup_rates, *b.landmark_rates] for x in r.also),
              *(m for t in b.randomized for m in t.medians), *b.survival,
              *(m for f in b.findings for m in [*f.per_trial, *f.nested])]:
        x.source_kind = kinds.get(x.source)
    _register(b)
    return b


def _register(b: Brief) -> None:
    """Name every count and figure computed here (not read from the data), so each number a brief
    prints traces to a dataset row or to one of these."""
    st = b.statistics
    st["studies"], st["clinical studies"], st["randomized trials"] = b.n_studies, b.n_clinical, len(b.randomized)
    for t in b.randomized:
        ns = [a.n for a in t.arms]
        if all(n is not None for n in ns):
            st[f"{t.trial} patients randomized"] = sum(ns)
    for f in b.findings:
        st[f"{f.regimen} {f.outcome} studies"] = f.studies
        if f.patients is not None:
            st[f"{f.regimen} {f.outcome} patients"] = f.patients
    for h in b.harm_ranges:
        st[f"{h.term} grade {h.grade} reports"] = h.k
    for r in [*b.subgroup_rates, *b.landmark_rates]:  # a part of a population: its exact interval, from its count
        if r.ci_basis == "exact":
            name = f"{r.study} {r.cohort} {r.measure} [{r.source}]"
            st[f"{name} percent"], st[f"{name} low"], st[f"{name} high"] = r.percent, r.ci_low, r.ci_high
    for d in b.risk_differences:  # Newcombe interval of the risk difference (views.toxicity_arms)
        for key in ("difference", "ci_low", "ci_high"):
            if getattr(d, key) is not None:
                st[f"{d.trial} {d.term} risk {key}"] = getattr(d, key)
