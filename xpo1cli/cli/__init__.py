"""The `xpo1` command line: the app, its root options and its command table.

Each command group lives in its own module (studies, clinical, synthesis, reference, dataset) as
plain functions: parse the options, call the domain, hand the result to the renderer. They are
registered here, in the order `xpo1 --help` lists them, each through the one error boundary
(`errors.guarded`).

Only typer and the standard library are imported at module level, so `--help`, `--version`
and shell completion never load pandas.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .. import __version__
from . import brief as brief_command
from . import clinical, dataset, importing, indirect, reference, studies, synthesis
from .errors import STATE, Group, fail
from .options import with_filters

__all__ = ["STATE", "app", "hoist_global_options"]

app = typer.Typer(
    name="xpo1",
    cls=Group,
    help="Evidence summarizer for XPO1 inhibitors (selinexor, eltanexor) in blood cancers.\n\n"
    "Every figure carries its source reference. Output is a table on a terminal and CSV when "
    "piped; choose with --format. Each option is given once (only --partner repeats: all must "
    "match); a repeated one is refused.\n\n"
    "Shell completion: --show-completion prints the script to add to your shell yourself; "
    "--install-completion appends it to your shell's start-up file (e.g. ~/.bashrc) without asking.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- root ----------------------------------------------------------------------------------------

GLOBAL_OPTIONS = ("--data",)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options typed after the command name in front of it, so `xpo1 list --data DIR`
    means `xpo1 --data DIR list`, as gh and kubectl allow for their global flags."""
    out, moved, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out += argv[i:]
            break
        if arg in GLOBAL_OPTIONS and i + 1 < len(argv):
            moved += argv[i:i + 2]
            i += 2
            continue
        if any(arg.startswith(f"{o}=") for o in GLOBAL_OPTIONS):
            moved.append(arg)
        else:
            out.append(arg)
        i += 1
    return [*moved, *out]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xpo1 {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    data: Annotated[str | None, typer.Option(
        "--data", envvar="XPO1_DATA", metavar="DIR_OR_DATAPACKAGE",
        help="use another dataset with the same schema (a folder or its datapackage.json)")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Evidence summarizer for XPO1 inhibitors in haematological malignancies."""
    if data is not None and not data.strip():
        fail("--data needs a dataset folder or its datapackage.json, not an empty value")
    if data is None and os.environ.get("XPO1_DATA", "unset").strip() == "":
        fail("XPO1_DATA is set but empty; name a dataset folder, or unset it to use the bundled data")
    STATE["data"] = data


# --- the command table, in the order `xpo1 --help` lists it ---------------------------------------
# A new command group is a new module beside these, its commands added here.

COMMANDS = (  # name, function, and how it is wrapped when built (with_filters: the twelve filters)
    ("list", studies.list_studies, with_filters),
    ("show", studies.show, None),
    ("compare", studies.compare, None),
    ("regimens", reference.regimens_cmd, None),
    ("diseases", reference.diseases_cmd, None),
    ("agents", reference.agents_cmd, None),
    ("export", dataset.export, None),
    ("schema", reference.schema_cmd, None),
    ("package", dataset.package_cmd, None),
    ("audit", dataset.audit_cmd, None),
    ("validate", dataset.validate_cmd, None),
    ("import", importing.import_cmd, None),
    ("response", clinical.response_cmd, with_filters),
    ("survival", clinical.survival_cmd, with_filters),
    ("toxicity", clinical.toxicity_cmd, with_filters),
    ("pool", synthesis.pool_cmd, with_filters),
    ("indirect", indirect.indirect_cmd, None),
    ("trials", reference.trials_cmd, None),
    ("syntheses", reference.syntheses_cmd, None),
    ("sources", reference.sources_cmd, None),
    ("cite", reference.cite_cmd, None),
    ("brief", brief_command.brief, None),
)

# each command is built when first used, through the one error boundary (errors.guarded)
Group.lazy = {name: (function, wrap) for name, function, wrap in COMMANDS}
