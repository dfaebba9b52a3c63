"""The three clinical views by study cohort: `response`, `survival`, `toxicity`."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from .errors import fail
from .options import CiMethod, FilterOptions, Fmt, Level, interval_options
from .output import load, output, resolve_format


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
    from ..query import filter_arms, filter_studies
    from ..render import DERIVED_NOTE
    from ..views import response_table

    ci = interval_options(ci, level)
    ds = load()
    f = filters.query()
    studies = filter_studies(ds, f)
    if measure is not None and re.fullmatch(r"(?i)\s*(ge_?|>=|≥)(cr|vgpr)\s*", measure):
        measure = "≥" + re.sub(r"(?i)^\s*(ge_?|>=|≥)", "", measure).strip().upper()
    frame = response_table(ds, studies, measure=measure, method=ci, level=level,
                           matched=filter_arms(ds, f, studies))
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
    from ..query import filter_arms, filter_studies
    from ..views import survival_table

    sort = sort.strip().lower()
    if sort not in ("ref", "median"):
        fail(f"unknown sort key '{sort}'; known: ref, median")
    ds = load()
    f = filters.query()
    studies = filter_studies(ds, f)
    frame = survival_table(ds, studies, measure=measure, matched=filter_arms(ds, f, studies))
    if sort == "median":  # months first, then weeks: a median is compared only within its unit
        frame = frame.sort_values(["unit", "median", "ref", "study", "cohort"],
                                  ascending=[True, False, True, True, True], kind="stable",
                                  na_position="last").reset_index(drop=True)
    if chart:
        if fmt not in (None, "table", "plain"):
            fail("--chart draws text bars; use it without --format (or with table/plain)")
        if len(frame) == 0:
            typer.echo("xpo1: no matching rows", err=True)
            return
        from ..present import survival_chart

        survival_chart(frame, by_median=sort == "median")
        return
    from ..present import survival_view

    output(frame, fmt, title="Survival and durations", view=survival_view,
           notes=["Each median, range and CI is in the unit shown beside it, as the source gives it."])


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
    import dataclasses

    from ..present import arms_view, no_regimen_note, toxicity_view
    from ..query import Resolver, filter_arms, filter_studies
    from ..views import toxicity_arms, toxicity_table

    ds = load()
    # --agent names the drug of a finding, not of a study: it is resolved here, not filtered on
    f = dataclasses.replace(filters, agent=None).query()
    studies = filter_studies(ds, f)
    matched = filter_arms(ds, f, studies)
    FilterOptions(agent=filters.agent).check()  # an empty or over-long --agent is refused as in every listing
    agent_name = Resolver(ds).agent(filters.agent) if filters.agent else None
    fmt = resolve_format(fmt)
    human = fmt in ("table", "plain", "markdown")
    if arms and row_kind is not None and not "adverse_event".startswith(
            row_kind.strip().casefold().replace("-", "_").replace(" ", "_") or "?"):
        fail(f"--arms compares adverse events between arms; --kind {row_kind} has no such table")
    ae_kind = row_kind is None or "adverse_event".startswith(
        row_kind.strip().casefold().replace("-", "_").replace(" ", "_") or "?")
    paired = toxicity_arms(ds, studies) if arms or (human and ae_kind) else None
    if paired is not None and (category is not None or agent_name is not None):
        # the arm table holds adverse events only: keep the events that the filters keep
        wanted = toxicity_table(ds, studies, agent=agent_name, category=category,
                                kind="adverse_event", source=filters.source)
        keep = set(zip(wanted["study"], wanted["term"], strict=True))
        paired = paired[[(s, t) in keep for s, t in zip(paired["study"], paired["term"], strict=True)]]
    if arms:
        output(paired, fmt, title="Adverse events, arm against arm", notes=ARM_NOTES, view=arms_view)
        return
    frame = toxicity_table(ds, studies, agent=agent_name, category=category, kind=row_kind,
                           source=filters.source, matched=matched, arm_filters=f)
    output(frame, fmt, title="Toxicity and safety", view=toxicity_view,
           warnings=no_regimen_note(frame.attrs.get("no_regimen", 0)), notes=[
        "scope: class = all XPO1 inhibitors; agent = one drug; study = one study's finding; "
        "label = the prescribing information's pooled populations. 'not quantified' means the "
        "source names the event without a rate."])
    if paired is not None and len(paired):
        output(paired, fmt, title="Adverse events, arm against arm", notes=ARM_NOTES, view=arms_view)
