"""Where a trial's registry record and its publications differ, figure by figure."""

from __future__ import annotations

from .records import SOURCE_PREFIX

FIGURES = ("count", "denominator", "percent_reported", "median_months", "median_weeks", "ci_low", "ci_high")


def registry_differences(ds) -> object:
    """Every figure where a trial's registry record and its other reports differ, side by side:
    outcome figures of the same measure and arm (or of the whole trial), hazard and odds ratios,
    and the arms' sizes. Nothing is merged: both readings keep their sources."""
    import pandas as pd

    cols = ["trial", "figure", "arm", "registry", "registry_source", "registry_place", "publication",
            "publication_source",
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
                        out.append([reg.trial, f"{r.measure} {f}", arm, _num(a), reg.source, r.section, _num(b),
                                    p.source, p.study, "value" if f not in ("denominator",) else "population"])
                if pd.notna(r.percent_reported) and pd.notna(p.count) and pd.notna(p.denominator) \
                        and pd.isna(p.percent_reported) and int(p.denominator):
                    from ..counts import percent_matches

                    if not percent_matches(int(p.count), int(p.denominator), float(r.percent_reported)):
                        out.append([reg.trial, f"{r.measure} percent", arm, _num(r.percent_reported), reg.source,
                                    r.section,
                                    f"{int(p.count)}/{int(p.denominator)}", p.source, p.study, "value"])
            # the arm's size beside the publication's arm of the same role
        for (s, c), n in n_of.items():
            if s != reg.study or pd.isna(n) or role.get((s, c)) is None:
                continue
            for o in others.itertuples(index=False):
                for (s2, c2), n2 in n_of.items():
                    if s2 == o.study and role.get((s2, c2)) == role.get((s, c)) and (s2, c2) in whole_arm \
                            and pd.notna(n2) and int(n2) != int(n):
                        out.append([reg.trial, "n", role.get((s, c)), str(int(n)), reg.source, place[(s, c)],
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
                                    _num(a), reg.source, r.section, _num(b), p.source, p.study,
                                    "interval level" if f != "estimate" and isinstance(r.note, str)
                                    and "registry interval is" in r.note else "value"])
    return pd.DataFrame(out, columns=cols)


def _num(v) -> str:
    import pandas as pd

    if v is None or pd.isna(v):
        return "–"
    f = float(v)
    return str(int(f)) if f == int(f) else f"{f:g}"
