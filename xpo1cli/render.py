"""The one place that turns a frame into table / plain / markdown / csv / tsv / excel / json / jsonl.

Machine formats carry numbers as numbers and missing values as empty (CSV) or null (JSON);
the terminal table may show a compact, human view of the same rows. Whatever a cell holds is
shown as text: never as rich markup, a Markdown table break or a terminal control sequence.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import IO

import pandas as pd

from .values import cell, row_tuples, value_or_none

FORMATS = ("table", "plain", "markdown", "csv", "tsv", "excel", "json", "jsonl")
MACHINE_FORMATS = ("csv", "tsv", "excel", "json", "jsonl")


def default_format(stream: IO | None = None) -> str:
    """A rich table on a terminal, CSV when piped (gh and csvkit do the same)."""
    stream = stream or sys.stdout
    return "table" if stream.isatty() else "csv"


def records(frame: pd.DataFrame) -> list[dict]:
    cols = list(frame.columns)
    return [{c: value_or_none(v) for c, v in zip(cols, row, strict=True)}
            for row in row_tuples(frame, index=False, name=None)]


def level_text(level: float) -> str:
    """A confidence level as people write it: 0.95 -> '95%', 0.975 -> '97.5%'."""
    return f"{100 * level:.10g}%"


DERIVED_NOTE = ("* count derived here, not printed by the source (from the categories it lists, or "
                "the one whole count its percentage allows); the *_basis columns of --format csv/json "
                "say which.")


# --- cells as text --------------------------------------------------------------------------------

SHORT = 16  # a terminal cell up to this wide (an ORR like '101/195 (51.8%)') is never wrapped
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _display(text: str) -> str:
    """A cell as a terminal may show it: line breaks kept, tabs as a space, and any other control
    character (an escape sequence planted in a dataset) written out visibly as \\x1b etc."""
    text = text.replace("\r\n", "\n").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# what Markdown would read as markup, and only that, so the raw text stays readable ('p < 0.001',
# 'Leukemia & Lymphoma', an address's '&page=38'): a backslash (it escapes the next character), an &
# that starts an entity ('&lt;', '&#106;'), a < that starts raw HTML or an autolink ('<b', '</',
# '<!--', '<?', '<http:'), a > that starts a line (a block quote) and the ] that closes a link
# ('](', '][', ']:' of a definition)
_MARKDOWN_SPECIAL = re.compile(r"\\|&(?=#?\w+;)|<(?=[A-Za-z/!?])|(?:^|(?<=\n))[ \t]*>|\](?=[(\[:])")
_MARKDOWN_ESCAPES = {"\\": "\\\\", "&": "&amp;", "<": "&lt;", "]": "\\]"}


def markdown_text(text: str) -> str:
    r"""Text from the data as Markdown shows it, never as markup: an & that would start an entity and
    a < that would start HTML or an autolink written as entities (no raw HTML, no
    <javascript:...> autolink), a > that would start a block quote as &gt;, a backslash doubled and
    the ] of any link syntax escaped (no [text](address) link and no [label]: address definition).
    Any other & < > stays as typed. Renders as the text itself."""
    if not _MARKDOWN_SPECIAL.search(text):
        return text
    return _MARKDOWN_SPECIAL.sub(_markdown_escape, text)


def _markdown_escape(match: re.Match) -> str:
    found = match.group()
    return found[:-1] + "&gt;" if found.endswith(">") else _MARKDOWN_ESCAPES[found]


def markdown_cell(text: str) -> str:
    r"""A cell that stays inside its Markdown table cell as text (markdown_text), | escaped as \|,
    line breaks as <br>."""
    if text.isprintable():  # no line break, tab or control character: the common cell
        return markdown_text(text).replace("|", r"\|")
    text = markdown_text(_display(text)).replace("|", r"\|")
    return "<br>".join(text.split("\n"))


def markdown_cells(rows: list[list[str]]) -> list[list[str]]:
    """markdown_cell of every cell."""
    return [[markdown_cell(c) for c in r] for r in rows]


_WEB_ADDRESS = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f\"'<>`\\]+", re.IGNORECASE)
_DOI = re.compile(r"(?:doi:\s*)?(10\.\d{4,9}/\S+)", re.IGNORECASE)


def link_target(address: str | None) -> str | None:
    """The address a page may link to, else None (then shown as text only): an http or https
    address as given; a DOI ('10.1186/...' or 'doi:10.1186/...') as its https://doi.org/ address.
    Any other scheme (javascript:, data:, file:, ...), a relative address, or one holding a space,
    a control character, a quote or an angle bracket is never a link."""
    from urllib.parse import quote

    if not address:
        return None
    if _WEB_ADDRESS.fullmatch(address):
        return address
    doi = _DOI.fullmatch(address)
    if doi:
        return "https://doi.org/" + quote(doi.group(1), safe="/:;()._-~+")
    return None


def github_table(rows: list[list[str]], headers: list[str]) -> str:
    """A Markdown (GitHub) pipe table of text cells without line breaks, laid out exactly as
    `tabulate(rows, headers, tablefmt="github", disable_numparse=True)` lays it out (cells
    stripped, left-aligned, each column at least its header and two spaces wide, widths as the
    terminal counts them), a column at a time: tabulate's per-cell type detection is most of a
    long brief's writing time."""
    import tabulate as tb

    wide = tb.wcwidth.wcswidth if getattr(tb, "WIDE_CHARS_MODE", False) else len

    widths_of: dict[str, int] = {}  # a long table repeats its texts (regimens, units)

    def width(text: str) -> int:
        if text.isascii():
            return len(text)
        if text not in widths_of:
            widths_of[text] = wide(text)
        return widths_of[text]

    columns = [[c.strip() for c in column] for column in zip(*rows, strict=True)] if rows else [[] for _ in headers]
    sizes = [[len(c) if c.isascii() else width(c) for c in column] for column in columns]
    widths = [max(width(h) + 2, max(ns, default=0)) for h, ns in zip(headers, sizes, strict=True)]

    def padded(cells, ns, w) -> list[str]:
        return [c if n == w else c + " " * (w - n) for c, n in zip(cells, ns, strict=True)]

    out = ["| " + " | ".join(h + " " * (w - width(h)) for h, w in zip(headers, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(r) + " |"
            for r in zip(*(padded(c, ns, w) for c, ns, w in zip(columns, sizes, widths, strict=True)), strict=True)]
    return "\n".join(out)


TSV_ESCAPES = {"\t": r"\t", "\n": r"\n", "\r": r"\r"}
_TSV_SPECIAL = re.compile("[\t\n\r]")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _tsv_cell(value):
    """TSV cells cannot hold a tab or a line break: they are written as the two characters \\t,
    \\n, \\r. Anything else, numbers included, is left as it is."""
    if isinstance(value, str) and _TSV_SPECIAL.search(value):
        return _TSV_SPECIAL.sub(lambda m: TSV_ESCAPES[m.group()], value)
    return value


def _excel_cell(value):
    """A text cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
    leading ' (OWASP's advice for CSV meant for spreadsheets). Numbers, and text that is just a
    number such as '-3.2', are left alone: they cannot run anything."""
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def _map_text(frame: pd.DataFrame, fn: Callable) -> pd.DataFrame:
    """fn applied to the text cells of frame; numeric columns are not touched."""
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col].dtype) and out[col].dtype != bool:
            out[col] = out[col].map(fn, na_action="ignore")
    return out


# --- the one entry point ---------------------------------------------------------------------------


def render(
    frame: pd.DataFrame,
    fmt: str | None = None,
    *,
    title: str | None = None,
    notes: list[str] | None = None,
    warnings: list[str] | None = None,
    view: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    stream: IO | None = None,
    width: int | None = None,
) -> None:
    """Write frame in fmt. `view` gives the human columns for table/plain/markdown. Notes are
    captions of a human table; warnings are too, and go to stderr with machine formats, so
    pipes get clean data and a reader still gets the caveat. `width` overrides the terminal's
    width for the table."""
    stream = stream or sys.stdout
    fmt = (fmt or default_format(stream)).lower()
    warnings = warnings or []
    notes = [*warnings, *(notes or [])]
    if fmt == "csv":
        frame.to_csv(stream, index=False, lineterminator="\n")
    elif fmt == "tsv":
        _map_text(frame, _tsv_cell).to_csv(stream, index=False, sep="\t", lineterminator="\n")
    elif fmt == "excel":
        stream.write("\ufeff")
        _map_text(frame, _excel_cell).to_csv(stream, index=False, lineterminator="\r\n")
    elif fmt == "json":
        json.dump(records(frame), stream, ensure_ascii=False, indent=1)
        stream.write("\n")
    elif fmt == "jsonl":
        for rec in records(frame):
            stream.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        shown = view(frame) if view else frame
        if fmt == "table":
            table(shown, title=title, notes=notes, stream=stream, width=width)
            return
        markdown = fmt == "markdown"
        text = markdown_cell if markdown else _display
        rows = [[cell(v) for v in row] for row in row_tuples(shown, index=False, name=None)]
        rows = markdown_cells(rows) if markdown else [[_display(c) for c in r] for r in rows]
        headers = [text(str(c)) for c in shown.columns]
        if title:
            stream.write(f"## {markdown_text(_flat(title))}\n\n" if markdown else f"{_display(title)}\n\n")
        if markdown:
            stream.write(github_table(rows, headers) + "\n")
        else:
            from tabulate import tabulate

            stream.write(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True) + "\n")
        for n in notes:
            stream.write("\n> " + "\n> ".join(markdown_text(_display(n)).split("\n")) + "\n" if markdown
                         else f"\n{_display(n)}\n")
        return
    for w in warnings:
        sys.stderr.write(f"note: {w}\n")


def _flat(text: str) -> str:
    return " ".join(_display(text).split())


# --- the terminal table ------------------------------------------------------------------------------


def _env_columns() -> int | None:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def terminal_width(stream: IO) -> int | None:
    """The width to fit: $COLUMNS, else the terminal's own width; None for a pipe or file."""
    columns = _env_columns()
    if columns:
        return columns
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _cell_width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


# A text word may break after a hyphen, dash, underscore or semicolon that follows a letter and
# precedes a letter or a year ('s-mm-|resensitization-|ref10', 'MM;|WM', 'consensus-|2020',
# 'DerSimonian–|Laird'), or
# that follows a digit and precedes a letter ('ph1-|blood'), and after a slash between letters
# ('CR/|CRi'); never inside a figure ('32/122', '1b/2', '1-2', 'IL-6', '6.2–19.8', 'ref10').
_SOFT_BREAK = re.compile(r"(?<=[^\W\d_][-_;–])(?=[^\W\d_]|\d{4})|(?<=\d[-_;])(?=[^\W\d_])"
                         r"|(?<=[^\W\d_]/)(?=[^\W\d_])")


def word_pieces(word: str) -> list[str]:
    """The parts a text word may be broken into at the end of a line (see _SOFT_BREAK)."""
    return [p for p in _SOFT_BREAK.split(word) if p]


def _least(text: str, level: int, header: bool = False) -> int:
    """The narrowest a cell may be at a layout level without splitting a number:
    1: a short cell (a figure like '101/195 (51.8%)') stays whole, a longer one breaks between words;
    2: a short cell stays whole, a longer one breaks between words and inside a long text word
       after a hyphen or slash (word_pieces: ids, 'relapsed/refractory');
    3: any cell breaks between words and inside text words.
    A header breaks as a long cell does."""
    from rich.cells import cell_len

    if level < 3 and not header and "\n" not in text and cell_len(text) <= SHORT:
        return cell_len(text)
    words = text.split()
    if level > 1:
        words = [p for w in words for p in word_pieces(w)]
    return max((cell_len(w) for w in words), default=0)


def wrap_words(text: str, width: int) -> list[str]:
    """text in lines of at most width cells, broken between words only; a word longer than
    width gets a line of its own, whole (a number is never split)."""
    return _wrap(text, width, soft=False)


def wrap_cell(text: str, width: int) -> list[str]:
    """A table cell in lines of at most width cells: broken between words, and a text word
    longer than width after a hyphen or slash too (word_pieces); a part of a word still longer
    than width that holds a letter (a web address, a long id) is cut into lines of width; a
    number is never split."""
    return _wrap(text, width, soft=True)


_FIGURE = re.compile(r"[^\W\d_]")  # a letter: a word without one is a figure ('(0.53–0.93),', '32/122')


def _fold(piece: str, width: int) -> list[str]:
    """A text piece wider than width in lines of width; a figure whole."""
    from rich.cells import cell_len

    if width < 1 or cell_len(piece) <= width or not _FIGURE.search(piece):
        return [piece]
    out, line = [], ""
    for ch in piece:
        if line and cell_len(line + ch) > width:
            out.append(line)
            line = ""
        line += ch
    return [*out, line]


def _wrap(text: str, width: int, soft: bool) -> list[str]:
    from rich.cells import cell_len

    out: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        if not words:
            out.append("")
            continue
        line = ""
        for word in words:
            glue = " " if line else ""
            if cell_len(line) + len(glue) + cell_len(word) <= width:
                line += glue + word
                continue
            pieces = ([f for p in word_pieces(word) for f in _fold(p, width)]
                      if soft and cell_len(word) > width else [word])
            if line and cell_len(line) + 1 + cell_len(pieces[0]) > width:
                out.append(line)
                line, glue = "", ""
            for i, piece in enumerate(pieces):
                if line and cell_len(line) + cell_len(piece) + (len(glue) if i == 0 else 0) > width:
                    out.append(line)
                    line, glue = "", ""
                line += (glue if i == 0 else "") + piece
        out.append(line)
    return out


def _share(extra: int, needs: list[int]) -> list[int]:
    """extra columns shared in proportion to need, never more than a column needs."""
    total = sum(needs)
    if total <= extra:
        return list(needs)
    given = [extra * n // total for n in needs]
    left = extra - sum(given)
    for i in sorted(range(len(needs)), key=lambda i: needs[i] - given[i], reverse=True):
        if left == 0:
            break
        if given[i] < needs[i]:
            given[i] += 1
            left -= 1
    return given


LEVELS = (1, 2, 3)  # see _least: what a narrowed table may break, from least to most
PADDINGS = (1, 0)  # two spaces between columns and one at each edge; then one between, none at the edges


def table(frame: pd.DataFrame, *, title: str | None = None, notes: list[str] | None = None,
          stream: IO | None = None, width: int | None = None) -> str:
    """A human table for a terminal, fitted to its width without ever cutting a figure:

    - the table at its natural width when that fits (every cell on one line);
    - else a table whose text cells wrap, at the level (see _least: short cells whole and long
      ones broken between words; also long text words broken after a hyphen or slash, as ids
      and 'relapsed/refractory'; any cell broken) and spacing (two spaces between columns, or
      one) that fits and takes the fewest lines. Numbers are never split. From the least each
      level allows, columns get back as much room as the width allows, short cells first;
    - else one block of 'column: value' lines per row (stacked), values wrapped between words.

    Returns the layout used ('table', 'wrapped' or 'stacked')."""
    from rich.console import Console

    stream = stream or sys.stdout
    notes = notes or []
    if width is None and not stream.isatty():
        width = _env_columns() or 160
    console = Console(file=stream, width=width, highlight=False, soft_wrap=False,
                      no_color=bool(os.environ.get("NO_COLOR")) or None)
    width = console.width
    headers = [_display(str(c)) for c in frame.columns]
    rows = [[_display(cell(v)) for v in row] for row in row_tuples(frame, index=False, name=None)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype) for c in frame.columns]
    columns = [[h, *(r[i] for r in rows)] for i, h in enumerate(headers)]
    sizes = [[_cell_width(v) for v in col] for col in columns]
    natural = [max(1, *ns) for ns in sizes]
    tiers = [[max(1, _least(col[0], level, header=True), *(_least(v, level) for v in col[1:]))
              for col in columns] for level in LEVELS]
    layout, widths, pad, fewest = "stacked", None, 1, None
    for p in PADDINGS:
        overhead = _measure(_rich_table(None, headers, [], numeric, natural, p)) - sum(natural)
        if p == PADDINGS[0] and sum(natural) + overhead <= width:
            layout, widths = "table", None
            break
        for k, least in enumerate(tiers):
            if sum(least) + overhead <= width:
                fitted = _widen(least, [*tiers[:k][::-1], natural], width - overhead)
                lines = _lines(columns, sizes, fitted)
                if fewest is None or lines < fewest:
                    layout, widths, pad, fewest = "wrapped", fitted, p, lines
    if layout == "stacked":
        _stacked(console, title, headers, rows, width)
        shown_width = width
    else:
        if widths is not None:
            headers = ["\n".join(wrap_cell(h, w)) for h, w in zip(headers, widths, strict=True)]
            rows = [["\n".join(wrap_cell(v, w)) for v, w in zip(r, widths, strict=True)] for r in rows]
        t = _rich_table(title, headers, rows, numeric, widths, pad)
        console.print(t)
        shown_width = _measure(t)
    if notes:
        from rich.text import Text

        # notes wrap between words at the table's width (at least 40 columns), as a caption
        note_width = max(min(width, 40), min(width, shown_width))
        for note in notes:
            for line in wrap_cell(_display(note), note_width):
                console.print(Text(line, style="table.caption"), soft_wrap=True)
        console.print()
    return layout


def _lines(columns: list[list[str]], sizes: list[list[int]], widths: list[int]) -> int:
    """How many lines a table of these columns (header first) takes at these widths."""
    count = [1] * len(columns[0])
    for col, ns, w in zip(columns, sizes, widths, strict=True):
        for i, (text, n) in enumerate(zip(col, ns, strict=True)):
            if n > w or "\n" in text:
                count[i] = max(count[i], len(wrap_cell(text, w)))
    return sum(count)


def _widen(least: list[int], targets: list[list[int]], room: int) -> list[int]:
    """Column widths from their least, given back toward each wider target in turn (the next
    layout level's least, ..., the natural width) while the room lasts."""
    widths = list(least)
    for target in targets:
        needs = [max(0, t - w) for t, w in zip(target, widths, strict=True)]
        more = _share(room - sum(widths), needs)
        widths = [w + x for w, x in zip(widths, more, strict=True)]
    return widths


def _rich_table(title, headers, rows, numeric, widths, pad=1):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(_flat(title)) if title else None, box=box.SIMPLE_HEAVY, show_lines=False,
              padding=(0, pad), collapse_padding=True, pad_edge=False, show_edge=bool(pad))
    for i, header in enumerate(headers):
        t.add_column(Text(header), justify="right" if numeric[i] else "left", overflow="fold",
                     width=None if widths is None else widths[i])
    for row in rows:
        t.add_row(*[Text(v) for v in row])
    return t


def _measure(renderable) -> int:
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=1_000_000).measure(renderable).maximum


def _stacked(console, title, headers, rows, width) -> None:
    """One block per row: 'column: value' lines, values wrapped between words. Keys sit beside
    their values when that leaves room, else above them."""
    from rich.text import Text

    key_width = max((_cell_width(h) for h in headers), default=0) + 1
    value_width = width - key_width - 1
    beside = value_width >= max(20, width // 3)
    if title:
        for line in wrap_cell(_flat(title), width):
            console.print(Text(line, style="table.title"), soft_wrap=True)
        console.print()
    for r, row in enumerate(rows):
        if r:
            console.print()
        for header, value in zip(headers, row, strict=True):
            if value == "":
                continue
            key = Text(f"{header}:", style="bold")
            if beside:
                lines = wrap_cell(value, value_width)
                key.pad_right(key_width - key.cell_len)
                console.print(Text.assemble(key, " ", lines[0]), soft_wrap=True)
                for line in lines[1:]:
                    console.print(Text(" " * (key_width + 1) + line), soft_wrap=True)
            else:
                console.print(key, soft_wrap=True)
                for line in wrap_cell(value, width - 2):
                    console.print(Text("  " + line), soft_wrap=True)
    console.print()

