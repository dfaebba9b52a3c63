"""`xpo1 brief`: the evidence brief of one disease (or of every disease, as HTML pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, check_writable, fail, write_beside
from .options import Agent, Disease, FilterOptions, Fmt, Regimen, Source
from .output import load

BRIEF_FORMATS = ("table", "plain", "markdown")


def write_atomic(path: Path, text: str) -> None:
    """Write a page whole or not at all (a temporary file beside it, then renamed)."""
    check_writable(path)
    write_beside(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def page_name(code: str) -> str:
    """The file of one disease's page in --all: 'brief-mm.html'."""
    safe = "".join(c if c.isalnum() else "-" for c in code.lower()).strip("-") or "disease"
    return f"brief-{safe}.html"


def brief(
    disease: Disease = None, agent: Agent = None, regimen: Regimen = None, source: Source = None,
    fmt: Fmt = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="write the brief as one self-contained HTML page (inline SVG forest plots, print "
        "stylesheet for A4)", dir_okay=False)] = None,
    all_diseases: Annotated[bool, typer.Option(
        "--all", help="one HTML page per disease of the hierarchy and an index page, written to --out")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="the folder for --all", file_okay=False)] = None,
) -> None:
    """The evidence brief of one disease: bottom line, randomized evidence, response by regimen (pooled
    where two or more cohorts share a regimen), survival, harms, a summary of findings with certainty
    signals from stated rules, what is not known, and the sources.

    Example: xpo1 brief --disease MM --html brief-mm.html
    """
    from ..brief import build_brief

    if all_diseases != (out is not None):
        fail("--all and --out go together: xpo1 brief --all --out DIR")
    if all_diseases and (disease is not None or html is not None or fmt is not None):
        fail("--all writes one HTML page per disease: give no --disease, --html or --format with it")
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in BRIEF_FORMATS:
            fail(f"the brief is written as {', '.join(BRIEF_FORMATS)} (or --html FILE), not '{fmt}': "
                 "'xpo1 export' gives the tables for other tools")
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        fail("--html takes a file ending in .html")
    ds = load()
    if all_diseases:
        return _write_all(ds, agent, regimen, source, out)
    if disease is None:
        fail("name a disease: xpo1 brief --disease MM (or --all --out DIR for every disease)")
    f = FilterOptions(disease=disease, agent=agent, regimen=regimen, source=source).query()
    b = build_brief(ds, f)
    if b.n_studies == 0:
        fail("no matching studies for this brief")
    if html is not None:
        from ..brief_render import html_page

        write_atomic(html, html_page(b))
        typer.echo(f"saved {html}", err=True)
        if fmt is None:
            return
    from ..brief_render import markdown, terminal
    from ..render import default_format

    fmt = fmt or ("table" if default_format() == "table" else "plain")
    if fmt == "markdown":
        typer.echo(markdown(b), nl=False)
    else:
        terminal(b, fmt)


def _write_all(ds, agent, regimen, source, out: Path) -> None:
    from ..brief import build_brief
    from ..brief_render import html_index, html_page

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}; nothing written", EXIT_DATA)
    pages = []
    for code in ds.diseases["disease"]:
        f = FilterOptions(disease=code, agent=agent, regimen=regimen, source=source).query()
        b = build_brief(ds, f)
        pages.append((page_name(code), b))
    for name, b in pages:
        write_atomic(out / name, html_page(b))
    write_atomic(out / "index.html", html_index(pages))
    typer.echo(f"wrote {len(pages) + 1} pages to {out}", err=True)
