"""What a reader sees: terminal tables at any width, data shown as text, and output formats that
other tools (Markdown, TSV readers, spreadsheets) take as they are."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xpo1cli.cli import app
from xpo1cli.render import github_table, markdown_cell, render, table, word_pieces, wrap_cell, wrap_words

from .conftest import HANG, ROOT, first_fast, run, run_csv, xpo1_exe

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def shown(*args: str, columns: int) -> str:
    """`xpo1 ARGS --format table` as a terminal of that many columns would show it."""
    result = CliRunner().invoke(app, [*args, "--format", "table"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def figure(text: str, value: str) -> bool:
    """value appears in text as a whole number: not part of a longer one."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?!\.?\d)", text) is not None


def number(value: str) -> str:
    return f"{float(value):g}"


def myeloma_figures() -> tuple[list[str], int]:
    """Every figure the CSV of `xpo1 list --disease MM` holds for the columns the table shows,
    and how many rows carry an audit flag."""
    rows = run_csv("list", "--disease", "MM")
    figures = [number(r[c]) for r in rows for c in (
        "ref", "n", "orr_count", "orr_denominator", "orr_percent", "depth_count",
        "depth_denominator", "depth_percent", "median_pfs", "median_os") if r[c]]
    return figures, sum(1 for r in rows if r["audit"])


def every_word_whole(text: str, frame: pd.DataFrame) -> None:
    """Each word of each cell of the human view appears whole, as often as it should; a long text
    word (an id) may be broken after a hyphen or slash (word_pieces), a figure never."""
    from xpo1cli.values import cell

    want = Counter(p for row in frame.itertuples(index=False, name=None) for v in row
                   for w in cell(v).split() for p in word_pieces(w))
    have = Counter(p for w in text.split() for p in word_pieces(w))
    missing = {w: n for w, n in want.items() if have[w] < n}
    assert not missing, missing


def id_shown(text: str, ident: str) -> bool:
    """ident appears whole, or broken after hyphens down one column of a table: each piece on
    the next line at the same place."""
    if ident in text.split():
        return True
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for m in re.finditer(r"(?<!\S)\S+", line):
            got, j = m.group(), i
            while ident.startswith(got) and got != ident and j + 1 < len(lines):
                j += 1
                below = re.match(r"\S+", lines[j][m.start():])
                if not below or lines[j][m.start() - 1:m.start()].strip():
                    break
                got += below.group()
            if got == ident:
                return True
    return False


# --- the terminal table at any width ------------------------------------------------------------------


@pytest.mark.parametrize("columns", [50, 80, 100, 200])
def test_list_myeloma_keeps_every_figure_whole(columns):
    text = shown("list", "--disease", "MM", columns=columns)
    figures, audited = myeloma_figures()
    for value in ("13.93", "3.7", "8.6", "12.2", *figures):
        assert figure(text, value), (value, columns)
    assert text.split().count("audit") == audited >= 1  # the flag, not the note explaining it
    for row in run_csv("list", "--disease", "MM"):
        assert id_shown(text, row["study"]), row["study"]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns


@pytest.mark.parametrize("columns", [100, 120])
@pytest.mark.parametrize("args", [("list", "--disease", "MM"), ("list",), ("compare", "SVd", "Sd")])
def test_the_main_tables_stay_tables_from_100_columns(args, columns):
    """A table, not one block per row: its header rule is there and no 'study:' record key."""
    text = shown(*args, columns=columns)
    assert "━━━━" in text and not re.search(r"^study: ", text, flags=re.M)
    assert max(len(line) for line in text.splitlines()) <= columns
    if args[0] == "list":
        assert figure(text, "13.93") and figure(text, "76.4")


@pytest.mark.parametrize("disease", first_fast(["MM", "AML", "MF", "DLBCL", "WM", "TCL"]))
def test_the_certainty_table_of_every_brief_is_a_table_at_100_columns(disease):
    """Each Summary of findings table has its header rule before its first row: never a record."""
    lines = shown("brief", "--disease", disease, columns=100).splitlines()
    titles = [i for i, line in enumerate(lines) if line.strip().startswith("Summary of findings")]
    if disease == "WM":  # WM's only figures are a myeloma cohort's (3 of 84 patients): nothing to rate
        assert not titles and any("No finding to rate" in line for line in lines)
        return
    assert titles
    for i in titles:
        following = [line for line in lines[i + 1:i + 8] if line.strip()]
        rule = next(k for k, line in enumerate(following) if "━━━━" in line)
        assert not any(re.match(r"^\S[^:]*: ", line) for line in following[:rule])


def test_list_layout_follows_the_width():
    wide = shown("list", "--disease", "MM", columns=200)
    assert re.search(r"^ *ref +study +disease", wide, flags=re.M)  # one table, as before
    narrow = shown("list", "--disease", "MM", columns=80)
    assert "study:   storm-ref13" in narrow and "PFS mo:  3.7" in narrow and "OS mo:   8.6" in narrow
    assert "PFS mo:  13.93" in narrow
    assert "XPO1-inhibitor studies" in narrow and "'xpo1 audit' says which" in narrow


def test_every_word_of_every_cell_is_shown_whole_at_each_layout():
    frame = pd.DataFrame({
        "study": ["storm-ref13", "boston-lancet-2020"], "n": [122, 195],
        "ORR": ["32/122 (26%)", "(76.4%)"], "PFS mo": [3.7, 13.93],
        "note": ["upper 95% confidence limit not evaluable; later subgroup analysis (EHA 2023)",
                 "HR 0.70 (0.53–0.93), p = 0.0075"]})
    layouts = {}
    for width in (30, 50, 80, 120, 300):
        out = io.StringIO()
        layouts[width] = table(frame, title="t", notes=["a note"], stream=out, width=width)
        every_word_whole(out.getvalue(), frame)
        assert "a note" in out.getvalue()
        assert max(len(line) for line in out.getvalue().splitlines()) <= max(width, 18)
    assert layouts == {30: "stacked", 50: "wrapped", 80: "wrapped", 120: "wrapped", 300: "table"}


def test_short_cells_are_never_wrapped_in_a_narrowed_table():
    frame = pd.DataFrame({"ORR": ["101/195 (51.8%)"], "note": ["word " * 30]})
    out = io.StringIO()
    assert table(frame, stream=out, width=60) == "wrapped"
    assert "101/195 (51.8%)" in out.getvalue()


def test_wrap_words_never_splits_a_word():
    assert wrap_words("median 13.93 mo (range 6.2–19.8 mo)", 8) == [
        "median", "13.93 mo", "(range", "6.2–19.8", "mo)"]
    assert wrap_words("s-mm-resensitization-ref10", 5) == ["s-mm-resensitization-ref10"]


def test_a_table_cell_breaks_a_long_text_word_after_a_hyphen_never_a_figure():
    assert wrap_cell("s-mm-resensitization-ref10", 16) == ["s-mm-", "resensitization-", "ref10"]
    assert wrap_cell("SEL-HIDAC-MITO-PH1 relapsed/refractory", 12) == [
        "SEL-HIDAC-", "MITO-PH1", "relapsed/", "refractory"]
    for figure_text in ("32/122", "8*/84", "1b/2", "1-2", "6.2–19.8", "(0.53–0.93),", "IL-6", "-3.2", "ref10"):
        assert word_pieces(figure_text) == [figure_text]
    assert word_pieces("MM;WM") == ["MM;", "WM"] and word_pieces("consensus-2020]") == ["consensus-", "2020]"]
    assert wrap_cell("13.93 mo", 2) == ["13.93", "mo"]  # too narrow: a figure stays whole, never cut


def test_a_web_address_wider_than_the_terminal_is_cut_a_figure_never():
    address = "index.php?q=mKaqo5uVYpaqq6OmmamixmPVo8mQx9SonJzRnGeuqapfZWtm"
    lines = wrap_cell(f"see {address} (0.53–0.93), 13.930000000001", 20)
    assert max(len(line) for line in lines) <= 20
    assert "".join(lines[1:-2]) == address and lines[-2:] == ["(0.53–0.93),", "13.930000000001"]


@pytest.mark.parametrize("columns", [40, 60])
def test_sources_and_the_brief_fit_a_narrow_terminal(columns):
    for args in (("sources",), ("brief", "--disease", "AML")):
        text = shown(*args, columns=columns)
        assert max(width_of(line) for line in text.splitlines()) <= columns, args


def test_show_boston_at_80_columns_keeps_the_comparisons_source_and_note():
    text = shown("show", "BOSTON", columns=80)
    part = text[text.index("Comparisons between arms"):text.index("Safety and dose findings")]
    assert "no confidence interval on the page" in part
    assert re.search(r"^source: +B3$", part, flags=re.M) and "p:         0.0075" in part
    assert "0.53" in part and "0.93" in part


# --- data is text, never markup ----------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 200])
def test_square_brackets_in_the_bundled_data_are_shown(columns):
    show = shown("show", "19", columns=columns)
    # a narrowed table may break a long cell between words, never inside one
    assert "[computed 22.6%]" in show if columns == 200 else {"[computed", "22.6%]"} <= set(show.split())
    assert "[a-z0-9][a-z0-9+.-]*" in shown("schema", columns=columns)
    assert "[review]" in shown("compare", "SVd", "SPd", columns=columns)
    assert "[review]" in shown("audit", columns=columns)
    assert "[lo–hi]" in shown("response", "--disease", "AML", columns=columns)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A copy of the bundled data whose STORM cohort label and outcome note hold markup, a pipe,
    a line break and a terminal escape sequence."""
    folder = tmp_path_factory.mktemp("planted") / "data"
    shutil.copytree(ROOT / "data", folder)
    cohorts = pd.read_csv(folder / "cohorts.csv", dtype=str, keep_default_na=False)
    storm = (cohorts.study == "storm-ref13") & (cohorts.cohort == "all")
    cohorts.loc[storm, "label"] = "[blink]x[/blink] and [link=http://e.x]y[/link]"
    cohorts.to_csv(folder / "cohorts.csv", index=False)
    outcomes = pd.read_csv(folder / "outcomes.csv", dtype=str, keep_default_na=False)
    first = outcomes.index[outcomes.study == "storm-ref13"][0]
    outcomes.loc[first, "note"] = "a|b\nc [bold]d[/bold] \x1b[31mred"
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    return folder


@pytest.mark.parametrize("fmt", ["table", "plain", "markdown"])
@pytest.mark.parametrize("columns", [80, 200])
def test_markup_planted_in_a_dataset_comes_out_literally(planted, fmt, columns):
    result = CliRunner().invoke(app, ["--data", str(planted), "show", "storm-ref13", "-f", fmt],
                                env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, (result.output, result.exception)
    out = result.stdout
    assert "[blink]x[/blink]" in out and "[link=http://e.x]y[/link]" in out
    assert "[bold]d[/bold]" in out
    assert "\x1b" not in out and r"\x1b[31mred" in out


def test_a_pipe_or_line_break_stays_inside_its_markdown_cell(planted):
    out = run("--data", str(planted), "show", "storm-ref13", "-f", "markdown").stdout
    row = next(line for line in out.splitlines() if "a\\|b" in line)
    assert r"a\|b<br>c [bold]d[/bold]" in row
    header = next(line for line in out.splitlines() if line.startswith("| cohort") and "note" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == len(re.findall(r"(?<!\\)\|", header))


# --- formats for other tools ---------------------------------------------------------------------------

CELLS = pd.DataFrame({"id": ["a", "b", "c", "d"], "estimate": [-3.2, 0.5, None, 2.0],
                      "text": ["=1+1", "x|y\nz", "t\tu", "-3.2"],
                      "other": ["+SUM(A1)", "@cmd", "plain", "≥VGPR"]})


def rendered(fmt: str, frame: pd.DataFrame = CELLS) -> str:
    out = io.StringIO()
    render(frame, fmt, stream=out)
    return out.getvalue()


def test_csv_is_exactly_what_pandas_writes():
    assert rendered("csv") == CELLS.to_csv(index=False, lineterminator="\n")
    back = pd.read_csv(io.StringIO(rendered("csv")))
    assert back["text"].tolist() == CELLS["text"].tolist()


def test_tsv_writes_tabs_and_line_breaks_as_visible_escapes():
    text = rendered("tsv")
    assert text.count("\n") == len(CELLS) + 1
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert [r["text"] for r in rows] == ["=1+1", r"x|y\nz", r"t\tu", "-3.2"]
    assert [r["estimate"] for r in rows] == ["-3.2", "0.5", "", "2.0"]
    assert all(len(line.split("\t")) == 4 for line in text.splitlines())


def test_excel_has_bom_crlf_and_neutralised_formulas_but_numbers_untouched():
    raw = rendered("excel")
    assert raw.startswith("\ufeffid,estimate,text,other\r\n")
    rows = list(csv.DictReader(io.StringIO(raw[1:], newline="")))
    assert [r["estimate"] for r in rows] == ["-3.2", "0.5", "", "2.0"]
    assert [r["text"] for r in rows] == ["'=1+1", "x|y\nz", "t\tu", "-3.2"]
    assert [r["other"] for r in rows] == ["'+SUM(A1)", "'@cmd", "plain", "≥VGPR"]
    tab = rendered("excel", pd.DataFrame({"x": ["\tcmd", "\r=1"]}))
    assert "'\tcmd" in tab and "'\r=1" in tab


def test_excel_changes_no_cell_of_the_bundled_outcomes():
    plain = run("export", "outcomes", "-f", "csv").stdout
    excel = run("export", "outcomes", "-f", "excel").stdout
    assert excel[0] == "\ufeff"
    assert list(csv.reader(io.StringIO(excel[1:], newline=""))) == list(csv.reader(io.StringIO(plain)))


@pytest.mark.parametrize("name", ["CSV", "Csv", "JSON", "Markdown", "EXCEL"])
def test_format_names_in_any_case(name):
    out = run("list", "-d", "WM", "--format", name).stdout
    assert "sd-phase1-ref12" in out


def test_machine_formats_keep_warnings_on_stderr():
    for fmt in ("csv", "tsv", "excel", "json", "jsonl"):
        result = run("compare", "SVd", "SPd", "--format", fmt)
        assert "Cross-trial" not in result.stdout and "Cross-trial" in result.stderr
    rows = list(csv.DictReader(io.StringIO(run("compare", "SVd", "SPd", "-f", "csv").stdout)))
    assert {r["regimen"] for r in rows} == {"SVd", "SPd"}


# --- text charts fit the terminal ------------------------------------------------------------------------


def width_of(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_forest_fits_the_terminal_and_keeps_every_figure(columns):
    text = shown("pool", "--measure", "ORR", "--disease", "AML", "--source", "review",
                 "--across-regimens", "--allow-mixed",
                 columns=columns)
    plot = [line for line in text.splitlines() if not line.startswith("note:")]
    assert max(width_of(line) for line in plot) <= columns
    rows = run_csv("pool", "--measure", "ORR", "--disease", "AML", "--source", "review", "--across-regimens",
                   "--allow-mixed")
    for r in rows:
        for c in ("percent", "ci_low", "ci_high"):
            assert f"{float(r[c]):.1f}" in text
        if r["row"] == "cohort":
            assert f"{r['events']}/{r['n']}" in text
    words = " ".join(text.split())
    assert "S-HiDAC-MITO ref 25 all patients" in words
    assert "across regimens, random effects (DerSimonian–Laird)" in words


def test_forest_at_150_columns_is_one_line_per_cohort():
    text = shown("pool", "--measure", "ORR", "--disease", "AML", "--source", "review",
                 "--across-regimens", "--allow-mixed",
                 columns=150)
    assert re.search(r"^S-DEC ref 23 all patients +10/25  40\.0 \[21\.1–61\.3\]", text, flags=re.M)


@pytest.mark.parametrize("columns", [50, 80])
def test_survival_bars_fit_the_terminal(columns):
    result = CliRunner().invoke(app, ["survival", "--disease", "AML", "--chart"],
                                env={"COLUMNS": str(columns)})
    lines = result.stdout.splitlines()
    bars = [line for line in lines if line.startswith("  ")]
    assert bars and max(width_of(line) for line in bars) <= columns
    for r in run_csv("survival", "--disease", "AML"):
        if r["median"]:
            assert figure(result.stdout, number(r["median"]))


# --- a real terminal -----------------------------------------------------------------------------------


def in_a_terminal(columns: int, *args: str) -> str:
    """Run xpo1 with its stdout on a pseudo-terminal of that many columns; what it wrote."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "XPO1_DATA")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen([*xpo1_exe(), *args], stdout=child, stderr=child, stdin=child,
                            env=env, cwd=Path(ROOT).anchor)
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([parent], [], [], HANG)
        if not ready:
            break
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(parent)
    assert proc.wait(timeout=HANG) == 0
    return ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


@pytest.mark.parametrize("columns", first_fast([80, 50, 100, 200]))  # a real process each: one in the fast subset
def test_a_real_terminal_shows_every_myeloma_figure(columns):
    text = in_a_terminal(columns, "list", "--disease", "MM")
    figures, audited = myeloma_figures()
    for value in ("13.93", "3.7", "8.6", "12.2", *figures):
        assert figure(text, value), (value, columns)
    assert text.split().count("audit") == audited >= 1
    assert max(width_of(line) for line in text.splitlines()) <= max(columns, 30)


def test_a_real_terminal_fits_the_pool_forest_and_its_notes():
    text = in_a_terminal(80, "pool", "--disease", "AML", "--knha", "--across-regimens", "--allow-mixed")
    assert max(width_of(line) for line in text.splitlines()) <= 80
    assert "14*/20" in text and "prediction interval" in text


# --- Markdown tables without tabulate's per-cell work ---------------------------------------------

CELL_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["≥VGPR", "63% (25/40)", " padded ", "中文", "e\u0301", "👩‍⚕️", "a|b", "line\nbreak", "\x1b[31m", ""])


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data(), ncols=st.integers(1, 4), nrows=st.integers(0, 5))
def test_github_table_is_tabulates_github_table(data, ncols, nrows):
    from tabulate import tabulate

    cells = st.lists(CELL_TEXT.map(markdown_cell), min_size=ncols, max_size=ncols)
    headers = data.draw(cells)
    rows = data.draw(st.lists(cells, min_size=nrows, max_size=nrows))
    assert github_table(rows, headers) == tabulate(rows, headers=headers, tablefmt="github",
                                                          disable_numparse=True)


HOSTILE = st.sampled_from([
    "<script>alert(1)</script>", "<svg onload=alert(1)>", "<img src=x onerror=alert(1)>", "<!-- c -->",
    "[x](javascript:alert(1))", "![x](data:text/html,<b>)", "[x](http://e.x)", "<javascript:alert(1)>",
    "<http://e.x>", "[r]: javascript:alert(1)", "\n[r]: http://e.x\n", "[r]", "[x][r]", "&lt;b&gt;", "&#106;",
    "\\", "\\[x\\](y)", "]", "[", "(", ")", ":", "|", "a", " ", "\n"])


def _tags(markdown: str) -> list[tuple[str, list]]:
    """The HTML elements (tag, attributes) a CommonMark renderer with raw HTML allowed makes of it."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    seen = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.append((tag, attrs))

    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    renderer.validateLink = lambda address: True  # as a renderer that lets javascript: through would
    Tags().feed(renderer.render(markdown))
    return seen


@settings(max_examples=300, deadline=None, database=None)
@given(pieces=st.lists(HOSTILE | CELL_TEXT, max_size=6))
def test_text_from_the_data_is_never_markup_in_markdown(pieces):
    """Whatever a cell holds, a Markdown renderer makes no element of it with an attribute (no link,
    image, script or event handler) and no raw HTML: the cell in a table, the text in a paragraph."""
    text = "".join(pieces)
    assume(text.strip())
    from xpo1cli.render import markdown_text

    table = github_table([[markdown_cell(text), "x"]], ["a", "b"])
    assert {tag for tag, _ in _tags(table)} <= {"table", "thead", "tbody", "tr", "th", "td", "br", "em", "strong",
                                               "code"}
    assert all(not attrs or tag in ("th", "td") for tag, attrs in _tags(table))
    paragraph = "before " + markdown_text(" ".join(text.split())) + " after"
    assert all(not attrs and tag in ("p", "em", "strong", "code") for tag, attrs in _tags(paragraph))


@settings(max_examples=300, deadline=None, database=None)
@given(pieces=st.lists(HOSTILE | CELL_TEXT, max_size=6))
def test_markdown_text_renders_as_the_text_itself(pieces):
    """A renderer shows the escaped text as the data wrote it: nothing escaped is lost or doubled."""
    import html

    from markdown_it import MarkdownIt

    from xpo1cli.render import markdown_text

    text = " ".join("".join(pieces).split())
    assume(text and text.isprintable())  # control characters are shown escaped by markdown_cell
    rendered = MarkdownIt("commonmark", {"html": True}).render("before " + markdown_text(text) + " after")
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n")
    shown = html.unescape(re.sub(r"</?(em|strong|code)>", "", rendered[3:-5]))
    if not re.search(r"[*_`]", text):  # emphasis and code spans are Markdown's, kept as such
        assert shown == "before " + text + " after"


def test_markdown_text_reads_as_it_was_written():
    from xpo1cli.render import markdown_text

    # only what would be markup is escaped: the raw text of a brief reads as the data
    assert markdown_text("Hematology & Oncology") == "Hematology & Oncology"
    assert markdown_text("p < 0.0001; age > 65; ?id=212&page=38") == "p < 0.0001; age > 65; ?id=212&page=38"
    assert markdown_text("<script>") == "&lt;script>"
    assert markdown_text("&lt;b&gt; &#106;") == "&amp;lt;b&amp;gt; &amp;#106;"
    assert markdown_text("<!-- c --> </i> <?x <http://e.x>") == "&lt;!-- c --> &lt;/i> &lt;?x &lt;http://e.x>"
    assert markdown_text("> quoted\n  > again") == "&gt; quoted\n  &gt; again"
    assert markdown_text("[x](javascript:alert(1))") == r"[x\](javascript:alert(1))"
    assert markdown_text("[B1] and [B1, S2]") == "[B1] and [B1, S2]"  # a citation marker is no link: kept
    assert markdown_text("8*/84 (9.5%)") == "8*/84 (9.5%)"


def test_only_web_and_doi_addresses_are_links():
    from xpo1cli.render import link_target

    assert link_target("https://pubmed.ncbi.nlm.nih.gov/35379237/") == "https://pubmed.ncbi.nlm.nih.gov/35379237/"
    assert link_target("HTTP://E.X/a?b=1&c=2") == "HTTP://E.X/a?b=1&c=2"
    assert link_target("doi:10.1186/s12916-022-02305-4") == "https://doi.org/10.1186/s12916-022-02305-4"
    assert link_target("10.1000/a<b>#c") == "https://doi.org/10.1000/a%3Cb%3E%23c"
    for address in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                    "data:text/html,<script>alert(1)</script>", "vbscript:x", "file:///etc/passwd", "//e.x/a",
                    "/relative", "https://e.x/\"onmouseover=\"alert(1)", "https://e.x/a b", "https://e.x/\nx",
                    "https:alert(1)", "doi:javascript:alert(1)", "", None):
        assert link_target(address) is None, address
