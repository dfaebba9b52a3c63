"""The three clinical views by study cohort: `response`, `survival`, `toxicity`."""

from __future__ import annotations

from typing import Annotated

import typer

from .errors import fail
from .options import CiMethod, FilterOptions, Fmt, Level, interval_options
from .output import open_dataset, output, resolve_format


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
    from ..present import CUMULATIVE_MARK, response_view
    from ..render import DERIVED_NOTE

    ci = interval_options(ci, level)
    frame = filters.select(open_dataset()).response(measure, ci=ci, level=level)
    name = "Clopper–Pearson exact" if ci == "exact" else "Wilson"
    output(frame, fmt, title="Response", view=response_view, notes=[
        f"[lo–hi]: {level:.0%} {name} interval, computed here (the review gives none). "
        "Percentages as printed. NR: not reported.", DERIVED_NOTE,
        f"{CUMULATIVE_MARK} the source prints MR, PR and VGPR rates that add up to more than 100%: "
        "read here as cumulative ('or better') rates, the summary each is (the source does not say "
        "so; see 'xpo1 audit').",
        "⚠ audit: the printed figures of this cohort disagree with each other; see 'xpo1 audit'."])


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
    frame = filters.select(open_dataset()).survival(measure, sort=sort)
    if chart:
        if fmt not in (None, "table", "plain"):
            fail("--chart draws text bars; use it without --format (or with table/plain)")
        if len(frame) == 0:
            typer.echo("xpo1: no matching rows", err=True)
            return
        from ..present import survival_chart

        survival_chart(frame, by_median=sort.strip().lower() == "median")
        return
    from ..present import survival_view

    output(frame, fmt, title="Survival and durations", view=survival_view,
           notes=["Each median, range and CI is in the unit shown beside it, as the source gives it."])


HUMAN = ("table", "plain", "markdown")
ARM_NOTES = ["Risk difference: experimental minus control, percentage points, with a 95% Newcombe "
             "interval, computed here. n_basis says where an arm's n comes from when the source "
             "gives no denominator for the event."]


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
    from ..present import arms_view, no_regimen_note, toxicity_view

    sel = filters.select(open_dataset())
    fmt = resolve_format(fmt)
    # on a terminal the findings of adverse events are followed by their arm-against-arm table
    harms = sel.toxicity(category, row_kind, arms=True if arms else None if fmt in HUMAN else False)
    if harms.findings is not None:
        output(harms.findings, fmt, title="Toxicity and safety", view=toxicity_view,
               warnings=no_regimen_note(harms.findings.attrs.get("no_regimen", 0)), notes=[
            "scope: class = all XPO1 inhibitors; agent = one drug; study = one study's finding; "
            "label = the prescribing information's pooled populations. 'not quantified' means the "
            "source names the event without a rate."])
    if harms.arms is not None and (arms or len(harms.arms)):
        output(harms.arms, fmt, title="Adverse events, arm against arm", notes=ARM_NOTES, view=arms_view)
