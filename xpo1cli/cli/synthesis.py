"""Synthesis: `pool`, a random-effects meta-analysis of a proportion across cohorts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, check_writable, fail, write_beside
from .options import CiMethod, FilterOptions, Fmt, Level, interval_options
from .output import load, output, resolve_format


def pool_cmd(
    measure: Annotated[str, typer.Option("--measure", "-m", help="ORR, CR_CRi, CBR, DCR, CR, ...")] = "ORR",
    filters: FilterOptions = FilterOptions(),
    method: Annotated[str, typer.Option("--method", help="DL (DerSimonian–Laird), REML or PM "
                                                        "(Paule–Mandel)")] = "DL",
    knha: Annotated[bool, typer.Option(
        "--knha", help="Knapp–Hartung intervals (t with k-1 df, metafor's test=\"knha\"), advised for few "
        "cohorts: with k ≤ 3 tau² rests on one or two degrees of freedom and normal (z) intervals "
        "are too narrow")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", help="one pooled estimate per subgroup (each its own tau²) and the test for subgroup "
        "differences: disease, regimen, setting, agent, design or source. Applies within each group: "
        "control arms (--include-controls) are split apart too, never pooled with XPO1 arms")] = None,
    leave_one_out: Annotated[bool, typer.Option(
        "--leave-one-out", help="also refit with each cohort left out (metafor's leave1out), naming the "
        "cohort that moves the estimate most; machine formats add rows with row=leave-one-out")] = False,
    correction: Annotated[str, typer.Option(
        "--correction", help="continuity correction on the logit scale: only0 (0.5 added to both cells of "
        "0/n and n/n cohorts, metafor's default), all (every cohort) or none (refuses 0/n and n/n). "
        "No binomial-normal GLMM is offered: it is not yet implemented and checked against metafor's "
        "rma.glmm")] = "only0",
    ci: CiMethod = "exact", level: Level = 0.95,
    plot: Annotated[str | None, typer.Option("--plot", help="also save a forest plot: forest.svg, "
                                             ".png or .pdf (needs the [plot] extra)")] = None,
    include_controls: Annotated[bool, typer.Option(
        "--include-controls", help="also pool the control arms of randomized trials")] = False,
    fmt: Fmt = None,
) -> None:
    """Random-effects meta-analysis of a proportion across the matching cohorts (logit scale),
    with the common-effect estimate, the prediction interval, tau², I², Cochran's Q and each
    cohort's weight, and a forest plot. One population per trial: subgroups and second reports
    are left out.

    Example: xpo1 pool --measure ORR --disease AML --knha --plot forest.svg
    """
    from ..query import filter_studies
    from ..stats import CORRECTIONS, POOL_METHODS

    method = method.strip().upper()
    if method not in POOL_METHODS:
        fail(f"unknown method '{method}'; known: {', '.join(POOL_METHODS)}")
    ci = interval_options(ci, level)
    if correction not in CORRECTIONS:
        fail(f"unknown continuity correction '{correction}'; known: {', '.join(CORRECTIONS)}")
    from ..views import BY_COLUMNS

    if by is not None:
        by = by.strip().lower()
        if by not in BY_COLUMNS:
            fail(f"cannot split a pool by '{by}'; known: {', '.join(BY_COLUMNS)}")
    if plot is not None:
        from ..plot import PLOT_HINT, have_matplotlib

        if Path(plot).suffix.lower() not in (".svg", ".png", ".pdf"):
            fail("--plot takes a file ending in .svg, .png or .pdf")
        if not have_matplotlib():
            fail(PLOT_HINT, EXIT_DATA)
        check_writable(Path(plot))
    fmt = resolve_format(fmt)
    ds = load()
    f = filters.query()
    studies = filter_studies(ds, f)
    from ..query import filter_arms
    from ..render import level_text
    from ..views import (
        CONTROL_GROUP,
        pool_caption,
        pool_inputs,
        pool_leave_one_out,
        pool_mixes,
        pool_reports,
        pool_table,
    )

    included, excluded = pool_inputs(ds, studies, measure, include_controls=include_controls,
                                     matched=filter_arms(ds, f, studies))
    groups = {g: included[included["group"] == g] for g in dict.fromkeys(included["group"])}
    pooled = {g: rows for g, rows in groups.items() if len(rows) >= 2}
    if not pooled:
        names = ", ".join(f"{r.study}/{r.cohort}" for r in included.itertuples()) or "none"
        fail(f"pooling needs at least two independent cohorts with counts; matched: {names}")
    lv = level_text(level)
    tables, captions, omitted = [], [], []
    for group, rows in pooled.items():
        try:
            frame, summary = pool_table(rows, method=method, ci=ci, level=level, knha=knha,
                                        correction=correction, by=by)
            loo = pool_leave_one_out(rows, method=method, level=level, knha=knha,
                                     correction=correction) if leave_one_out else None
        except ValueError as exc:
            fail(str(exc))
        tables.append((group, frame, summary))
        captions.append(pool_caption(summary))
        omitted.append(loo)
    measure_name = tables[0][2]["measure"]
    if plot is not None:  # drawn before anything is printed: a plot that fails leaves no output
        import pandas as pd

        from ..plot import forest_file

        shown = ", ".join(filter_words(f)) or "all cohorts"
        title = (f"Pooled {measure_name} ({shown}) — {tables[0][2]['label']}"
                 + (f", by {by}" if by else ""))
        write_beside(Path(plot), lambda tmp: forest_file(
            pd.concat([t[1] for t in tables], ignore_index=True), tmp, title=title, caption=" ".join(captions)))
    left = [f"left out {r.study}/{r.cohort}: {r.reason}" for r in excluded.itertuples()]
    if len(left) > 12:
        left = [*left[:10], f"... and {len(left) - 10} more cohorts left out (subgroups, second "
                "reports, or figures without counts)"]
    single = [f"not pooled, the only cohort of its group ({g}): {r.study}/{r.cohort} {r.events}/{r.n}"
              for g, rows in groups.items() if len(rows) == 1 for r in rows.itertuples()]
    kind_note = ("Pooled single-arm cohorts and arms of different designs and populations: a summary of "
                 "the evidence, not an estimate of one treatment's effect.")
    if CONTROL_GROUP in pooled:
        kind_note += " Control arms are pooled apart, as their own estimate, never with XPO1-inhibitor arms."
    warn = [kind_note, *pool_mixes(included, by=by), *pool_reports(included, excluded), *single, *left]
    influence = []
    for (group, _, _), loo in zip(tables, omitted, strict=True):
        if loo is not None:
            top = loo.iloc[loo.attrs["most_influential"]]
            influence.append(
                f"{group}: leaving out {top['study']}/{top['cohort']} moves the pooled estimate most, "
                f"by {top['shift']:+.1f} percentage points (to {top['percent']:.1f}%).")
    if fmt in ("table", "plain"):
        import sys

        from ..render import forest, leave_one_out_table, terminal_width, wrap_words

        columns = terminal_width(sys.stdout)
        for (group, frame, summary), caption, loo in zip(tables, captions, omitted, strict=True):
            heading = f"Pooled {measure_name}, {lv} CI: {group} ({summary['label']})"
            typer.echo("\n".join(wrap_words(heading, columns) if columns else [heading]))
            forest(frame, caption=caption)
            if loo is not None:
                typer.echo(f"\nLeave-one-out — {group} ({lv} CI)")
                leave_one_out_table(loo)
        for line in [*influence, *(f"note: {w}" for w in warn)]:
            typer.echo("\n".join(wrap_words(line, columns)) if columns else line)
    else:
        import pandas as pd

        parts = [p for t, loo in zip(tables, omitted, strict=True) for p in (t[1], loo) if p is not None]
        output(pd.concat(parts, ignore_index=True), fmt, title=f"Pooled {measure_name}",
               notes=[*captions, *influence], warnings=warn)
    if plot is not None:
        typer.echo(f"saved {plot}", err=True)



def filter_words(f) -> list[str]:
    """The filters of a query as words for a figure's title: 'disease MM', 'source review'."""
    import dataclasses

    words = []
    for field in dataclasses.fields(f):
        value = getattr(f, field.name)
        if value is None or value == ():
            continue
        name = {"evidence": "type", "min_n": "n ≥"}.get(field.name, field.name.replace("_", " "))
        if isinstance(value, tuple):
            value = " + ".join(value)
        words.append(f"{name} {value}")
    return words

