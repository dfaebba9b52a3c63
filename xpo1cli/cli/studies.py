"""Studies: `list` (one row per study), `show` (everything about one), `compare` (regimens side
by side)."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Disease, FilterOptions, Fmt, complete_study, completer
from .output import emit, open_dataset, resolve_format


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
    from ..pages import list_page

    sel = filters.select(open_dataset())
    emit(list_page(sel.cohorts(sort) if cohorts else sel.studies(sort)), fmt)


def show(
    study: Annotated[str, typer.Argument(help="the review's reference number (e.g. 16) or a study id",
                                         autocompletion=complete_study)],
    fmt: Fmt = None,
) -> None:
    """Everything about one study: population, regimen and dose, cohorts, every outcome with its
    source, safety findings.

    Example: xpo1 show 19      (JSON: one object per study; CSV: the outcome rows)
    """
    from ..pages import show_page

    fmt = resolve_format(fmt)
    emit(show_page(open_dataset().show(study), fmt), fmt)


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
    from ..pages import compare_page

    FilterOptions(disease=disease).check()  # the same checks of what was typed as every listing
    result = open_dataset().select(disease=disease).compare(*regimens, include_preclinical=include_preclinical)
    emit(compare_page(result), fmt)
