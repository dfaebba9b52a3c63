"""The commands are wiring: each parses its options, makes one call of the API and hands the
result to the presentation, in a few lines; the command line imports nothing but the API, the
presentation layer and its own modules."""

from __future__ import annotations

import ast
import inspect
import textwrap

from xpo1cli.cli import COMMANDS

from .conftest import ROOT

MAX_LINES = 25
# commands still being thinned, each with the lines it has today (a ceiling: it may only shrink)
NOT_YET: dict[str, int] = {}
# the presentation layer: words, tables, pages and figures
PRESENTATION = {"present", "pages", "render", "brief_render", "plot", "indirect_present"}
# constants the command line reads without pandas, at --help and completion time: the tables
# `export` names in its help (data.EXPORTABLE) and where the bundled data is (data.bundled_root)
# and the umask the files written whole take their permissions from (files.umask)
PANDAS_FREE = {("data", "EXPORTABLE"), ("data", "bundled_root"), ("datapackage", "EXPORTABLE"),
               ("datapackage", "bundled_root"), ("files", "umask")}


def body_lines(function) -> int:
    """The lines of a function's body below its docstring, not counting blank and comment lines."""
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    lines = source.splitlines()[body[0].lineno - 1:node.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_body_lines_counts_statements_not_signature_docstring_or_comments():
    def example(a: int = 1,
                b: int = 2) -> int:
        """A docstring
        of two lines."""
        # a comment

        c = a + b
        return c

    assert body_lines(example) == 2


def test_every_command_is_a_few_lines_of_wiring():
    sizes = {name: body_lines(function) for name, function, _ in COMMANDS}
    too_long = {n: s for n, s in sizes.items() if s > MAX_LINES and s > NOT_YET.get(n, 0)}
    assert not too_long, f"commands over {MAX_LINES} lines: {too_long}"
    done = {n for n in NOT_YET if sizes[n] <= MAX_LINES}
    assert not done, f"{done} now within {MAX_LINES} lines: take them off NOT_YET"


def test_the_command_line_imports_only_the_api_the_presentation_and_itself():
    wrong = []
    for path in sorted((ROOT / "xpo1cli" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level < 2:
                continue  # the standard library, typer, or cli/ itself (one dot)
            module = (node.module or "").split(".")[0]
            names = {a.name for a in node.names}
            if module in {"api", *PRESENTATION} or (module == "" and names <= {"__version__"}):
                continue
            if all((module, n) in PANDAS_FREE for n in names):
                continue
            wrong.append(f"{path.name}:{node.lineno} from ..{node.module} import {', '.join(sorted(names))}")
    assert not wrong, "\n".join(wrong)
