"""The dataset as a whole: `export` a table, write a `package`, `audit` the figures, `validate`
a dataset against the schema."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from ..datapackage import EXPORTABLE
from .errors import STATE, cannot_write, fail, umask
from .options import Fmt, complete_format, matching
from .output import load, open_dataset, output, resolve_format


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
    import shutil
    import tempfile

    from ..data import write_package

    if not out_dir.strip():
        fail("package needs a folder to write to, not an empty value")
    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            fail(f"{out_dir} exists and is not an empty folder; nothing written")
    except OSError as exc:
        cannot_write(out_dir, exc)
    ds = load()
    # written into a temporary folder beside the target and renamed at the end: a full disk or
    # a refused write leaves nothing behind, so a retry is not refused
    missing = [p for p in [out_dir.absolute(), *out_dir.absolute().parents] if not p.exists()]
    tmp = None
    try:
        out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:40]}.", dir=out_dir.absolute().parent))
        written = write_package(ds, tmp)
        os.chmod(tmp, 0o777 & ~umask())  # as an ordinary new folder, not mkdtemp's 0700
        if out_dir.exists():
            out_dir.rmdir()  # the empty folder the user named
        os.rename(tmp, out_dir)
        tmp = None
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for p in missing[1:]:  # folders made on the way, innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
        cannot_write(out_dir, exc)
    typer.echo(f"wrote {len(written)} files to {out_dir}", err=True)


def audit_cmd(
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when anything is found")] = False,
    fmt: Fmt = None,
) -> None:
    """Recompute every percentage from its counts and check sums and populations; list each
    disagreement beyond rounding with its ref and measure. Nothing is corrected.

    Example: xpo1 audit --format json
    """
    result = open_dataset().audit()
    fmt = resolve_format(fmt)
    if fmt in ("csv", "tsv", "excel", "json", "jsonl"):
        output(result.table(), fmt)
    else:
        within, conflicts, updates = result.within, result.conflicts, result.updates
        output(within, fmt, title=f"Within a source: {len(within)} finding(s)",
               notes=["Rounding as printed is not a finding (25/40 printed as 63% is consistent)."])
        if len(conflicts):
            output(conflicts, fmt, title=f"Stated conflicts: {len(conflicts)}",
                   notes=["Readings that disagree between sources or within one, which no count can "
                          "show (a dose, a ratio, a population): both are kept, neither is chosen."])
        output(updates, fmt, title=f"Between reports of one trial: {len(updates)} difference(s)",
               notes=["Later reports update earlier ones (more patients, longer follow-up): read them "
                      "side by side; these are not errors."])
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
