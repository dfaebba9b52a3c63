"""The dataset as a whole: `export` a table, write a `package`, `audit` the figures, `validate`
a dataset against the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..datapackage import EXPORTABLE
from .errors import STATE, fail
from .options import Fmt, complete_format, matching
from .output import emit, open_dataset, output, resolve_format


def export(
    table: Annotated[str, typer.Argument(help=f"one of: {', '.join(EXPORTABLE)}",
                                         autocompletion=lambda incomplete: matching(EXPORTABLE, incomplete))],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, tsv, excel, json or jsonl",
                                     autocompletion=complete_format)] = "csv",
) -> None:
    """A whole table for other tools, with the derived columns (ref, partners, n, derived counts).

    Example: xpo1 export outcomes --format json | jq '.[] | select(.measure=="ORR")'
    """
    fmt = fmt.strip().lower()
    if fmt not in ("csv", "tsv", "excel", "json", "jsonl"):
        fail(f"export writes csv, tsv, excel, json or jsonl, not '{fmt}'")
    output(open_dataset().export(table), fmt)


def package_cmd(
    out_dir: Annotated[str, typer.Argument(help="a new or empty folder to write the data package to")],
) -> None:
    """Write the dataset in use as a data package (its CSV tables and datapackage.json) to start
    your own extraction from, or to read back with --data.

    Example: xpo1 package ./my-extraction && xpo1 --data ./my-extraction validate
    """
    from ..api import write_package

    written = write_package(out_dir, STATE["data"])  # the folder is checked before the data is read
    typer.echo(f"wrote {len(written)} files to {Path(out_dir)}", err=True)


def audit_cmd(
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when anything is found")] = False,
    fmt: Fmt = None,
) -> None:
    """Recompute every percentage from its counts and check sums and populations; list each
    disagreement beyond rounding with its ref and measure. Nothing is corrected.

    Example: xpo1 audit --format json
    """
    from ..pages import audit_page

    result = open_dataset().audit()
    fmt = resolve_format(fmt)
    emit(audit_page(result, fmt), fmt)
    if strict and len(result.findings):
        raise typer.Exit(1)


def validate_cmd(
    path: Annotated[str | None, typer.Argument(
        help="a dataset folder or its datapackage.json [default: the data in use]")] = None,
    fmt: Fmt = None,
) -> None:
    """Check a dataset against the package schema and report every problem at once (file, row,
    column, reason); exit 1 when anything is wrong.

    Example: xpo1 validate ./my-extraction/
    """
    from ..api import problem_table, validate

    fmt = resolve_format(fmt)
    problems = validate(path if path is not None else STATE["data"])
    if problems:
        output(problem_table(problems), fmt, title=f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    typer.echo("valid: every table matches the schema", err=True)
