"""`indirect`: anchored indirect comparisons over the network of randomized trials."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Fmt, Level, completer, interval_options
from .output import open_dataset, output


def indirect_cmd(
    a: Annotated[str, typer.Argument(help="the first regimen (code or alias), e.g. SVd",
                                     autocompletion=completer("regimens", "regimen"))],
    b: Annotated[str, typer.Argument(help="the second regimen, e.g. Kd",
                                     autocompletion=completer("regimens", "regimen"))],
    measure: Annotated[str, typer.Option("--measure", "-m", help="PFS or OS (hazard ratios as reported) or ORR "
                                         "(odds or risk ratio from arm counts or reported rates)")] = "PFS",
    via: Annotated[str | None, typer.Option("--via", help="only chains through this common comparator, "
                                            "e.g. Vd")] = None,
    report: Annotated[str, typer.Option("--report", help="which report of each trial: primary (its earliest "
                                        "with an interval) or latest (its latest with one)")] = "primary",
    effect: Annotated[str, typer.Option("--effect", help="for ORR: OR (odds ratio) or RR (risk ratio)")] = "OR",
    method: Annotated[str, typer.Option("--method", help="between-trial variance of the random-effects network, "
                                        "where several trials share a comparison or a loop closes: REML or DL "
                                        "(DerSimonian–Laird)")] = "REML",
    level: Level = 0.95,
    fmt: Fmt = None,
) -> None:
    """Anchored indirect comparison of two regimens through the randomized trials that link them
    (Bucher; chains of common comparators; a common-effect network meta-analysis where several
    paths or a direct comparison exist, with the inconsistency test, and a random-effects one where
    the trials leave residual degrees of freedom), each trial's own estimate, data cut and source
    beside it, and the checks an assessor makes (in --format csv/json as rows of their own).

    Example: xpo1 indirect SVd Kd --measure PFS
    """
    from ..indirect_present import indirect_frame, indirect_notes, indirect_view

    interval_options("exact", level)  # checks --level as every command does
    answer = open_dataset().indirect(a, b, measure, via=via, report=report, effect=effect, method=method,
                                     level=level)
    title, notes, warnings = indirect_notes(answer)
    output(indirect_frame(answer), fmt, title=title, notes=notes, warnings=warnings, view=indirect_view)
