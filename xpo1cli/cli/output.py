"""What every command does at its two ends: read the dataset in use, and hand a result to the
renderer in the format asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from .errors import STATE, fail

if TYPE_CHECKING:
    from ..api import Dataset


def open_dataset() -> Dataset:
    """The dataset in use (--data, XPO1_DATA or the bundled one), opened through the API."""
    from ..api import open as open_api

    return open_api(STATE["data"])


def resolve_format(fmt: str | None) -> str:
    """The format asked for, or the default for this stdout; unknown -> usage error."""
    from ..render import FORMATS, default_format

    if fmt is None:
        return default_format()
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        fail(f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")
    return fmt


def output(frame, fmt, **kwargs) -> None:
    """Render a frame (with its title, notes, warnings and human view) in the format asked for."""
    from ..render import render

    fmt = resolve_format(fmt)
    if len(frame) == 0:
        typer.echo("xpo1: no matching rows", err=True)
    render(frame, fmt, **kwargs)


def emit(page: list, fmt) -> None:
    """Write a page's parts (`xpo1cli.pages`) in order: each table through `output`, JSON
    documents to stdout as they are, messages to stderr."""
    from ..pages import Document, Message, Text, Written

    for part in page:
        if isinstance(part, Message):
            typer.echo(part.text, err=True)
        elif isinstance(part, Document):
            typer.echo(part.text())
        elif isinstance(part, Text):
            typer.echo(part.text, nl=False)
        elif isinstance(part, Written):
            part.write()
        else:
            output(part.frame, fmt, title=part.title, notes=part.notes, warnings=part.warnings, view=part.view)
