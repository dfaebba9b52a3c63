"""Which figures belong in a disease's brief: the disease a text names, label rows of the
disease, and the disease's share of studies whose population mixes it with another."""

from __future__ import annotations

import re

import pandas as pd

from .brief_model import Share
from .brief_values import _encloses, _str
from .data import Dataset
from .query import Resolver, split_list
from .values import missing, row_tuples, value_or_none


def names_disease(ds: Dataset, text, code: str) -> bool:
    """Whether the text names the disease (its code, name or an alias, or a narrower disease's)."""
    if not isinstance(text, str):
        return False
    from .query import norm

    codes = Resolver(ds).disease_codes(code)
    words = set()
    for row in row_tuples(ds.diseases):
        if row.disease in codes:
            words |= {row.disease, row.name, *split_list(row.aliases)}
    return any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text, flags=re.I) for w in words if len(norm(w)) > 1)


def label_matches(ds: Dataset, population, code: str | None, regimen=None, regimens: set[str] = frozenset()) -> bool:
    """Whether a label row belongs in a disease's brief: its population ('label pooled: myeloma, ...')
    names the disease, or it names no disease at all and its regimen ('label: with bortezomib and
    dexamethasone' -> SVd) is one the brief's studies test."""
    if not isinstance(population, str):
        return False
    if code is None or names_disease(ds, population.split(",")[0], code):
        return True
    return isinstance(regimen, str) and regimen in regimens and \
        not any(names_disease(ds, population, d) for d in ds.diseases["disease"])


def disease_shares(ds: Dataset, studies: pd.DataFrame, code: str | None) -> dict[str, Share]:
    """The brief's disease's share of each selected study whose population mixes it with another
    disease: where a report of the same trial gives it, the cohorts whose label names that disease
    alone (the outermost such cohorts, summed) out of the cohort they belong to; where none does and
    the study lists another disease first (its main population), a share not stated (the study's
    population as its source gives it). Study id -> Share."""
    if code is None:
        return {}
    wanted = Resolver(ds).disease_codes(code)
    mixed = [s for s in row_tuples(studies) if any(d not in wanted for d in split_list(s.disease))
             and any(d in wanted for d in split_list(s.disease))]
    if not mixed:
        return {}
    trial_of = dict(zip(ds.studies["study"], ds.studies["trial"], strict=True))
    by_trial: dict[str, list[str]] = {}
    for st, tr in trial_of.items():
        by_trial.setdefault(tr if isinstance(tr, str) else st, []).append(st)
    diseases = dict(zip(ds.studies["study"], ds.studies["disease"], strict=True))
    cohorts = set(ds.cohorts["study"])
    out: dict[str, Share] = {}
    for s in mixed:
        key = s.trial if isinstance(s.trial, str) else s.study
        for report in by_trial.get(key, [s.study]):
            listed = split_list(diseases.get(report))
            rows = list(row_tuples(ds.cohorts[ds.cohorts["study"] == report])) if report in cohorts else []
            of = {c.cohort: c for c in rows}
            alone = {c.cohort for c in rows
                     if [d for d in listed if names_disease(ds, c.label, d)] in ([d] for d in listed if d in wanted)}
            parents = {(report, c.cohort): c.parent for c in rows}
            top = [of[c] for c in alone if not any(_encloses(parents, report, a, c) for a in alone if a != c)]
            if not top or any(missing(c.n) for c in top):
                continue
            roots = {_root(of, c.cohort) for c in top}
            root = of.get(next(iter(roots))) if len(roots) == 1 else None
            if root is None or missing(root.n) or root.cohort in alone:
                continue
            out[s.study] = Share(trial=key, disease=code, patients=sum(int(c.n) for c in top), total=int(root.n),
                                 study=report, source=top[0].source)
            break
        else:  # no report gives the disease's own cohort: where the study names another disease first
            # (its main population), the brief's disease is of unknown share and its figures are not its evidence
            # (a randomized trial's comparison is of the population it enrolled, named with it)
            if split_list(s.disease)[0] in wanted or value_or_none(s.randomized) is True:
                continue
            who = _str(s.population) or _str(s.age_group)
            out[s.study] = Share(trial=key, disease=code, patients=None, total=None, study=s.study,
                                 source=s.source, population=who or None)
    return out


def _root(of: dict, cohort: str) -> str:
    seen = {cohort}
    while isinstance(of[cohort].parent, str) and of[cohort].parent in of and of[cohort].parent not in seen:
        cohort = of[cohort].parent
        seen.add(cohort)
    return cohort
