"""Reference: what the data knows (`regimens`, `diseases`, `agents`, `sources`, `schema`) and how
to cite it (`cite`)."""

from __future__ import annotations

from typing import Annotated

import typer

from .errors import fail
from .options import Disease, Fmt, completer, matching
from .output import open_dataset, output


def regimens_cmd(fmt: Fmt = None) -> None:
    """Regimens the data knows: code, drugs, partner classes, aliases you can type, study count.

    Example: xpo1 regimens --format markdown
    """
    output(open_dataset().regimens(), fmt, title="Regimens")


def diseases_cmd(fmt: Fmt = None) -> None:
    """Diseases the data knows, with their hierarchy and study counts.

    Example: xpo1 diseases
    """
    output(open_dataset().diseases(), fmt, title="Diseases",
           notes=["A broader disease includes its narrower ones: --disease NHL lists DLBCL and MCL."])


def agents_cmd(fmt: Fmt = None) -> None:
    """XPO1 inhibitors (SINE compounds) the data knows, with study counts.

    Example: xpo1 agents --format json
    """
    output(open_dataset().agents(), fmt, title="XPO1 inhibitors")



def schema_cmd(
    table: Annotated[str | None, typer.Argument(help="one table; all when omitted")] = None,
    fmt: Fmt = None,
) -> None:
    """The data dictionary of the dataset in use: every column with its type, keys, allowed values
    and meaning.

    Example: xpo1 schema outcomes --format markdown
    """
    output(open_dataset().schema(table), fmt, title="Data dictionary")



def sources_cmd(
    which: Annotated[str | None, typer.Option("--source", help="review, later or all [default: all]")] = None,
    fmt: Fmt = None,
) -> None:
    """The sources every figure comes from: the review and the later reports, with their addresses
    and the citation details they state.

    Example: xpo1 sources --source later
    """
    output(open_dataset().sources(which), fmt, title="Sources",
           notes=["Identifiers (citation, DOI, PMID) appear only where a source states them."])


def cite_cmd(
    source: Annotated[str, typer.Argument(help="a source id (B1, D3, ...), a study id or a trial id",
                                          autocompletion=completer("sources", "source"))],
    bibtex: Annotated[bool, typer.Option("--bibtex", help="BibTeX only")] = False,
) -> None:
    """A citation built only from the fields the sources state, as plain text and BibTeX.

    Example: xpo1 cite D3
    """
    for plain, bib in open_dataset().cite(source):
        if not bibtex:
            typer.echo(plain)
        typer.echo(bib)


TRIAL_FILTERS = ("ongoing", "ended", "reported", "unreported", "all")  # catalogue.TRIAL_STATUSES, read without pandas


def trials_cmd(
    status: Annotated[str, typer.Option(
        "--status", help="ongoing (a source states it registered, recruiting or active), ended (a source "
        "states it closed or stopped), reported (a result report is in the data), unreported, or all",
        autocompletion=lambda incomplete: matching(TRIAL_FILTERS, incomplete))] = "all",
    disease: Disease = None,
    fmt: Fmt = None,
) -> None:
    """Every trial with its status as a source states it, its reports and whether any result is
    known: what is coming as well as what is published.

    Example: xpo1 trials --status ongoing --disease MM
    """
    from ..present import TRIALS_NOTE, trials_view

    for name, value in (("--status", status), ("--disease", disease)):
        if value is not None and not value.strip():
            fail(f"{name} needs a value")
    output(open_dataset().trials(status, disease), fmt, title="Trials", view=trials_view, notes=[TRIALS_NOTE])


def syntheses_cmd(disease: Disease = None, fmt: Fmt = None) -> None:
    """Published systematic reviews and meta-analyses with their own pooled figures, kept apart
    from the trials: 'pool' never pools them again and prints a matching one beside its result.

    Example: xpo1 syntheses --disease MM
    """
    output(open_dataset().syntheses(disease), fmt, title="Published syntheses (not trials)",
           notes=["Figures as the synthesis prints them; low/high are the bracketed figures it prints "
                  "beside a value, described in 'bracket'."])
