"""The three clinical views by study cohort: `response`, `survival`, `toxicity`."""

from __future__ import annotations

from typing import Annotated

import typer

from .errors import fail
from .options import CiMethod, FilterOptions, Fmt, Level, interval_options
from .output import emit, open_dataset, resolve_format


def response_cmd(
    filters: FilterOptions,
    measure: Annotated[str | None, typer.Option(
        "--measure", "-m", help="narrow to one measure: sCR CR CRi VGPR PR MR SD PD ORR CR_CRi CBR "
        "DCR ≥VGPR (or ge_vgpr) ≥CR (ge_cr)")] = None,
    ci: CiMethod = "exact", level: Level = 0.95, fmt: Fmt = None,
) -> None:
    """Response by study cohort: every category the source reports as count and %, ORR and the
    depth summaries of the disease with confidence intervals. NR = not reported (never zero).

    Example: xpo1 response --disease MM --partner bortezomib
    """
    from ..pages import response_page

    ci = interval_options(ci, level)
    frame = filters.select(open_dataset()).response(measure, ci=ci, level=level)
    emit(response_page(frame, ci, level), fmt)


def survival_cmd(
    filters: FilterOptions,
    measure: Annotated[str | None, typer.Option("--measure", "-m", help="PFS, OS, DOR or TTR")] = None,
    sort: Annotated[str, typer.Option("--sort", help="ref or median")] = "ref",
    chart: Annotated[bool, typer.Option("--chart", help="draw the medians as bars")] = False,
    fmt: Fmt = None,
) -> None:
    """Median PFS, OS, duration of and time to response by study cohort, with ranges where
    reported, including responder vs non-responder splits.

    Example: xpo1 survival --disease AML --measure OS --chart
    """
    from ..pages import survival_page

    frame = filters.select(open_dataset()).survival(measure, sort=sort)
    if chart and fmt not in (None, "table", "plain"):
        fail("--chart draws text bars; use it without --format (or with table/plain)")
    emit(survival_page(frame, chart, by_median=sort.strip().lower() == "median"), fmt)


HUMAN = ("table", "plain", "markdown")
def toxicity_cmd(
    filters: FilterOptions,
    category: Annotated[str | None, typer.Option(
        "--category", "-c", help="gastrointestinal, haematological, neurological, infection, "
        "hepatic, metabolic")] = None,
    row_kind: Annotated[str | None, typer.Option(
        "--kind", help="adverse_event, mitigation, dose_finding, cns_penetration")] = None,
    arms: Annotated[bool, typer.Option(
        "--arms", help="only the arm-against-arm table of randomized trials, with risk differences")] = False,
    fmt: Fmt = None,
) -> None:
    """The adverse-event profile by category, its mitigations, dose findings and the selinexor vs
    eltanexor CNS contrast. Incidences are shown only where the source gives numbers.

    Example: xpo1 toxicity --category gastrointestinal
    """
    from ..pages import toxicity_page

    sel = filters.select(open_dataset())
    fmt = resolve_format(fmt)
    # on a terminal the findings of adverse events are followed by their arm-against-arm table
    harms = sel.toxicity(category, row_kind, arms=True if arms else None if fmt in HUMAN else False)
    emit(toxicity_page(harms, arms_only=arms), fmt)
