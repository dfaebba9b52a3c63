"""Studies: `list` (one row per study), `show` (everything about one), `compare` (regimens side
by side)."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Disease, FilterOptions, Fmt, complete_study, completer
from .output import load, open_dataset, output, resolve_format


def list_studies(
    filters: FilterOptions,
    cohorts: Annotated[bool, typer.Option("--cohorts", help="one row per cohort/subgroup")] = False,
    sort: Annotated[str, typer.Option("--sort", help="ref, study, disease, regimen, phase, n, orr, "
                                                     "pfs, os or evidence")] = "ref",
    fmt: Fmt = None,
) -> None:
    """One row per study (its headline population): n, ORR, depth of response, median PFS/OS.

    Example: xpo1 list --disease MM --partner "proteasome inhibitor" --sort orr
    """
    from ..present import list_view
    from ..render import DERIVED_NOTE

    sel = filters.select(open_dataset())
    frame = sel.cohorts(sort) if cohorts else sel.studies(sort)
    notes = ["ORR and depth show count/denominator (percentage as printed, else computed); "
             "'xpo1 show REF' gives every figure with its source.", DERIVED_NOTE,
             "⚠ audit: a printed figure disagrees with its counts; 'xpo1 audit' says which."]
    output(frame, fmt, title="XPO1-inhibitor studies", notes=notes, view=list_view)


def show(
    study: Annotated[str, typer.Argument(help="the review's reference number (e.g. 16) or a study id",
                                         autocompletion=complete_study)],
    fmt: Fmt = None,
) -> None:
    """Everything about one study: population, regimen and dose, cohorts, every outcome with its
    source, safety findings.

    Example: xpo1 show 19      (JSON: one object per study; CSV: the outcome rows)
    """
    from ..catalogue import find_studies, study_record
    from ..present import reports_side_by_side

    fmt = resolve_format(fmt)
    ds = load()
    from ..comparators import find_trial

    if find_trial(ds, study) is not None:  # a comparator trial: no XPO1 arm, its own tables
        return show_comparator(ds, find_trial(ds, study), fmt)
    found = find_studies(ds, study)
    recs = [study_record(ds, s) for s in found]
    side = reports_side_by_side(ds, found) if len(found) > 1 else None
    from ..present import other_reports_note

    named = [n for n in (other_reports_note(r, found) for r in recs) if n]
    if fmt in ("csv", "tsv", "excel"):
        import pandas as pd

        output(pd.concat([r["outcomes"] for r in recs], ignore_index=True), fmt, warnings=named)
        return
    if fmt in ("json", "jsonl"):
        import json

        from ..render import records

        objs = [{**r["study"], **{k: records(r[k]) for k in ("cohorts", "outcomes", "comparisons",
                                                              "adverse_events", "syntheses", "other_reports")}}
                for r in recs]
        if fmt == "json":
            doc = objs[0] if len(objs) == 1 else {"reports": objs, "side_by_side": records(side)}
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
        else:
            for o in objs:
                typer.echo(json.dumps(o, ensure_ascii=False))
        return
    from ..present import show_sections

    if side is not None:
        from ..render import DERIVED_NOTE

        output(side, fmt, title=f"{study}: {len(found)} reports side by side",
               notes=["≠ marks a figure that differs between reports: later reports update earlier "
                      "ones; each keeps its own population and source.", DERIVED_NOTE])
    for rec in recs:
        for section in show_sections(rec, found):
            output(section.frame, fmt, title=section.title, notes=section.notes)


def show_comparator(ds, trial: str, fmt: str) -> None:
    """`show` of a comparator trial: its design, arms, results by report and conflicts."""
    from ..comparators import trial_record
    from ..indirect_present import comparator_sections

    rec = trial_record(ds, trial)
    if fmt in ("csv", "tsv", "excel"):
        output(rec["results"], fmt)
        return
    if fmt in ("json", "jsonl"):
        import json

        from ..render import records

        doc = {**{k: v for k, v in rec["trial"].items() if isinstance(v, str)},
               **{k: records(rec[k]) for k in ("arms", "results", "conflicts")}}
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1 if fmt == "json" else None))
        return
    for title, frame, notes in comparator_sections(rec):
        output(frame, fmt, title=title, notes=notes)


CROSS_TRIAL = ("Cross-trial comparison: these are separate, non-randomized studies whose populations "
               "differ; do not read differences as treatment effects.")


def compare(
    regimens: Annotated[list[str], typer.Argument(
        help="two or more regimen codes or aliases (SVd, S-Vd, 'selinexor+pomalidomide+dex')",
        autocompletion=completer("regimens", "regimen"))],
    disease: Disease = None,
    include_preclinical: Annotated[bool, typer.Option(
        "--include-preclinical", help="also list preclinical reports (they carry no figures)")] = False,
    fmt: Fmt = None,
) -> None:
    """Regimens side by side, one column per study (never blended): n, ORR, depth, PFS/OS, the
    best-documented subgroup and the source.

    Example: xpo1 compare SVd SPd
    """
    from ..present import compare_view
    from ..render import DERIVED_NOTE

    FilterOptions(disease=disease).check()  # the same checks of what was typed as every listing
    result = open_dataset().select(disease=disease).compare(*regimens, include_preclinical=include_preclinical)
    codes = result.codes
    notes = [DERIVED_NOTE, "Between arms: the trial's statistics as reported by its source; nothing "
             "there is recomputed."]
    if result.linked:
        notes.append(f"Randomized trials link {codes[0]} and {codes[1]} through common comparators "
                     f"({', '.join(result.linked)}): 'xpo1 indirect {codes[0]} {codes[1]} --measure "
                     f"{result.linked[0]}' gives the anchored indirect comparison, with its checks.")
    output(result.frame, fmt, title=f"Compare {' vs '.join(codes)}", warnings=result.warnings,
           view=compare_view, notes=notes)
