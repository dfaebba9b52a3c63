"""`import ctgov`: ClinicalTrials.gov records into a dataset that extends the one in use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, STATE, fail
from .options import Fmt
from .output import output

REGISTRIES = ("ctgov",)


def import_cmd(
    registry: Annotated[str, typer.Argument(
        help="the registry the records come from: ctgov (ClinicalTrials.gov API v2)")],
    paths: Annotated[list[str], typer.Argument(
        help="record files (one study, or a search page {\"studies\": [...]}) and folders of them")],
    into: Annotated[str, typer.Option("--into", help="the dataset folder to write: a new or empty folder, "
                                      "or a dataset (an earlier import's records in it are replaced)")],
    terms: Annotated[Path | None, typer.Option("--terms", help="CSV of your own terms (kind,term,code): "
                                               "conditions to disease codes, interventions to drugs, "
                                               "outcome titles to measures")] = None,
    diff: Annotated[bool, typer.Option("--diff", help="print every figure where a record and the trial's "
                                       "publications differ")] = False,
    fmt: Fmt = None,
) -> None:
    """Read ClinicalTrials.gov results records into a dataset that extends the one in use (the bundled
    data, or --data): every posted figure with its place in the record, and the figures that fit the
    curated tables placed there too. Use it with --data DIR like any dataset.

    Example: xpo1 import ctgov NCT03110562.json --into ./with-registry && xpo1 --data ./with-registry show NCT03110562
    """
    from .. import api
    from ..ctgov import RecordProblems, refused_target, summary

    if registry.strip().lower() not in REGISTRIES:
        fail(f"unknown registry '{registry}'; known: {', '.join(REGISTRIES)}")
    if not into.strip():  # read as text: an empty path would be the current folder
        fail("--into needs a folder to write the dataset to, not an empty value")
    if (reason := refused_target(into)) is not None:
        fail(f"{into} {reason}; nothing written")
    again = (Path(into) / "datapackage.json").is_file()  # an earlier import: its own data is the base
    try:
        done = api.open(into if again else STATE["data"]).import_ctgov(paths, into, terms=terms)
    except RecordProblems as exc:
        for p in exc.problems:
            typer.echo(f"  {p}", err=True)
        fail(f"cannot import: {exc}", EXIT_DATA)
    except OSError as exc:
        fail(f"cannot write {into}: {exc.strerror or exc}; nothing written", EXIT_DATA)
    typer.echo(f"imported {len(done.records)} record(s) into {into}: {done.placed} placed in the curated tables, "
               f"{len(done.records) - done.placed} in the registry tables only", err=True)
    for line in summary(done.notes):
        typer.echo(f"  {line}", err=True)
    if again:
        typer.echo(f"{len(done.changes)} posted figure(s) changed since the last import of these records", err=True)
        if len(done.changes):
            output(done.changes, fmt, title="Changed since the last import")
    if diff:
        output(api.open(into).registry_differences(), fmt, title="Registry against publications: figures that differ",
               notes=["Both readings are kept, each with its source; neither is chosen."])
