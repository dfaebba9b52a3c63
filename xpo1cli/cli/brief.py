"""`xpo1 brief`: the evidence brief of one disease (or of every disease, as HTML pages)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .errors import EXIT_DATA, check_folder, check_writable, fail, write_beside, write_together
from .options import Agent, Disease, FilterOptions, Fmt, Regimen, Source
from .output import emit, open_dataset

BRIEF_FORMATS = ("table", "plain", "markdown", "json")


def write_atomic(path: Path, text: str) -> None:
    """Write a page whole or not at all (a temporary file beside it, then renamed)."""
    check_writable(path)
    write_beside(path, lambda tmp: _write_page(tmp, text))


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
    out: Annotated[str | None, typer.Option("--out", metavar="DIR", help="the folder for --all (made if "
                                            "missing; pages written whole, all or none)")] = None,
) -> None:
    """The evidence brief of one disease: bottom line, randomized evidence, response by regimen (pooled
    where two or more cohorts share a regimen), survival, harms, a summary of findings with certainty
    signals from stated rules, what is not known, and the sources.

    Example: xpo1 brief --disease MM --html brief-mm.html
    """
    fmt = _checked_options(disease, fmt, html, all_diseases, out)
    folder = check_folder(out, "--out") if all_diseases else None
    ds = open_dataset()
    if folder is not None:
        return _write_all(ds, agent, regimen, source, folder)
    if disease is None:
        fail("name a disease: xpo1 brief --disease MM (or --all --out DIR for every disease)")
    b = FilterOptions(disease=disease, agent=agent, regimen=regimen, source=source).select(ds).brief()
    if b.n_studies == 0:
        fail("no matching studies for this brief")
    if html is not None:
        from ..brief_render import html_page

        write_atomic(html, html_page(b))
        typer.echo(f"saved {html}", err=True)
    if html is None or fmt is not None:
        from ..pages import brief_page

        emit(brief_page(b, fmt), fmt)


def _checked_options(disease, fmt, html, all_diseases, out) -> str | None:
    """The brief's format (None: the default), once the options are checked to go together."""
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
    return fmt


# the dataset of `brief --all`, for the processes that build its pages (inherited when forked)
_ALL: dict = {}


def _page(agent, regimen, source, code: str) -> tuple[str, str, dict]:
    """One disease's page of --all: its file name, its HTML and its row in the index."""
    from ..brief_render import html_page, index_entry

    b = FilterOptions(disease=code, agent=agent, regimen=regimen, source=source).select(_ALL["ds"]).brief()
    return page_name(code), html_page(b), index_entry(page_name(code), b)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _build_pages(ds, codes: list[str], make) -> list:
    """make(code) for every code, in order: on as many cores as the machine gives, in processes
    forked from this one (they share the loaded dataset), else one after the other."""
    import multiprocessing

    _ALL["ds"] = ds
    workers = min(len(codes), _cores())
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [make(code) for code in codes]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(make, codes))


def _write_all(ds, agent, regimen, source, out: Path) -> None:
    import contextlib
    import functools

    from ..brief_render import html_index, prepare_pages

    FilterOptions(agent=agent, regimen=regimen, source=source).select(ds)  # what was typed is checked here
    prepare_pages(ds.ds)
    pages = _build_pages(ds, list(ds.ds.diseases["disease"]), functools.partial(_page, agent, regimen, source))
    files = {out / name: html for name, html, _ in pages}
    files[out / "index.html"] = html_index([entry for _, _, entry in pages])
    made = [p for p in [out.absolute(), *out.absolute().parents] if not p.exists()]  # innermost first
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}; nothing written", EXIT_DATA)
        write_together({path: functools.partial(_write_page, text=text) for path, text in files.items()})
    except typer.Exit:
        for folder in made:  # the folders made for these pages, when none was written
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    typer.echo(f"wrote {len(files)} pages to {out}", err=True)


def _write_page(tmp: Path, text: str) -> None:
    tmp.write_text(text, encoding="utf-8", newline="\n")
