"""`import ctgov`: ClinicalTrials.gov records into a dataset that extends the one in use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import STATE, fail
from .options import Fmt
from .output import emit

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
    from ..api import import_ctgov
    from ..api import open as open_api
    from ..pages import import_page

    if registry.strip().lower() not in REGISTRIES:
        fail(f"unknown registry '{registry}'; known: {', '.join(REGISTRIES)}")
    if not into.strip():  # read as text: an empty path would be the current folder
        fail("--into needs a folder to write the dataset to, not an empty value")
    done = import_ctgov(paths, into, base=STATE["data"], terms=terms)
    emit(import_page(done, into, open_api(into).registry_differences() if diff else None), fmt)
