"""Synthesis: `pool`, a random-effects meta-analysis of a proportion across cohorts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, check_writable, fail, write_beside
from .options import CiMethod, FilterOptions, Fmt, Level
from .output import open_dataset, resolve_format


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
    across_regimens: Annotated[bool, typer.Option(
        "--across-regimens", help="pool cohorts of different regimens into one figure anyway (labelled "
        "'across regimens'); without it such a pool is refused: pool one with --regimen, or one pool "
        "per regimen with --by regimen")] = False,
    allow_mixed: Annotated[bool, typer.Option(
        "--allow-mixed", help="pool cohorts of several diseases, settings or designs anyway (the warnings "
        "stay); without it such a pool is refused, and split with --by such a subgroup is shown 'not "
        "pooled' with its cohorts. --across-regimens does not imply it")] = False,
    fmt: Fmt = None,
) -> None:
    """Random-effects meta-analysis of a proportion across the matching cohorts (logit scale),
    with the common-effect estimate, the prediction interval, tau², I², Cochran's Q and each
    cohort's weight, and a forest plot. One population per trial: subgroups and second reports
    are left out.

    Cohorts of several regimens are pooled one pool per regimen (--by regimen) or, asked for,
    across regimens (--across-regimens); otherwise such a pool is refused. So is a pool that mixes
    diseases, settings or designs, unless --allow-mixed; the test for subgroup differences between
    regimens is shown only with --across-regimens (their cohorts are not randomized).

    Example: xpo1 pool --measure ORR --disease MM --by regimen --knha --plot forest.svg
    """
    from ..api import check_pool
    from ..present import pool_figure, show_pool

    method, ci, by = check_pool(method, ci, level, correction, by)  # refused before the data is read
    target, fmt = plot_target(plot), resolve_format(fmt)
    sel = filters.select(open_dataset())
    result = sel.pool(measure, method, ci=ci, level=level, knha=knha, by=by, leave_one_out=leave_one_out,
                      correction=correction, include_controls=include_controls, across_regimens=across_regimens,
                      allow_mixed=allow_mixed)
    if target is not None:  # drawn before anything is printed: a plot that fails leaves no output
        save_forest(target, *pool_figure(result, sel.filters))
    show_pool(result, fmt)
    if target is not None:
        typer.echo(f"saved {plot}", err=True)


def plot_target(plot: str | None) -> Path | None:
    """The --plot file, refused before any work: a suffix that is no figure's, no matplotlib, or a
    place that cannot be written."""
    if plot is None:
        return None
    from ..plot import PLOT_HINT, have_matplotlib

    if Path(plot).suffix.lower() not in (".svg", ".png", ".pdf"):
        fail("--plot takes a file ending in .svg, .png or .pdf")
    if not have_matplotlib():
        fail(PLOT_HINT, EXIT_DATA)
    check_writable(Path(plot))
    return Path(plot)


def save_forest(path: Path, frame, title: str, caption: str) -> None:
    """The forest plot written whole to path (SVG, PNG or PDF by its suffix)."""
    from ..plot import forest_file

    write_beside(path, lambda tmp: forest_file(frame, tmp, title=title, caption=caption))
