"""Synthesis: `pool`, a random-effects meta-analysis of a proportion across cohorts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, check_writable, fail, write_beside
from .options import CiMethod, FilterOptions, Fmt, Level
from .output import open_dataset, output, resolve_format


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
    from ..api import check_pool

    method, ci, by = check_pool(method, ci, level, correction, by)  # refused before the data is read
    if plot is not None:
        from ..plot import PLOT_HINT, have_matplotlib

        if Path(plot).suffix.lower() not in (".svg", ".png", ".pdf"):
            fail("--plot takes a file ending in .svg, .png or .pdf")
        if not have_matplotlib():
            fail(PLOT_HINT, EXIT_DATA)
        check_writable(Path(plot))
    fmt = resolve_format(fmt)
    sel = filters.select(open_dataset())
    result = sel.pool(measure, method, ci=ci, level=level, knha=knha, by=by, leave_one_out=leave_one_out,
                      correction=correction, include_controls=include_controls)
    from ..present import pool_caption, pool_frame, pool_influence, pool_text, pool_warnings

    if plot is not None:  # drawn before anything is printed: a plot that fails leaves no output
        import pandas as pd

        from ..plot import forest_file

        shown = ", ".join(filter_words(sel.filters)) or "all cohorts"
        title = (f"Pooled {result.measure} ({shown}) — {result.groups[0].summary['label']}"
                 + (f", by {by}" if by else ""))
        caption = " ".join(pool_caption(g.summary) for g in result.groups)
        write_beside(Path(plot), lambda tmp: forest_file(
            pd.concat([g.table for g in result.groups], ignore_index=True), tmp, title=title, caption=caption))
    if fmt in ("table", "plain"):
        pool_text(result)
    else:
        output(pool_frame(result), fmt, title=f"Pooled {result.measure}",
               notes=[*(pool_caption(g.summary) for g in result.groups), *pool_influence(result)],
               warnings=pool_warnings(result))
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

