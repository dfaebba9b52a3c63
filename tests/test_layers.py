"""The package's layout, read from its own source: no module over 600 lines, no import cycle among
its modules, and no domain module importing the presentation layer (the domain returns data; the
words and tables a reader sees are made in presentation). What still breaks a rule is named in
an allow-list below, which may only shrink: a listed module that keeps the rule fails too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "xpo1cli"
MAX_LINES = 600

# presentation: what a reader sees (words, tables, pages, figures) and the command line over it
PRESENTATION = ("xpo1cli.present", "xpo1cli.render", "xpo1cli.brief_render",
                "xpo1cli.brief_render_*", "xpo1cli.plot", "xpo1cli.textcharts", "xpo1cli.indirect_present",
                "xpo1cli.pages", "xpo1cli.cli", "xpo1cli.cli.*")
# the entry points above both layers: the package's face and `python -m xpo1cli`
ENTRY = ("xpo1cli", "xpo1cli.__main__")

# modules still over MAX_LINES, each to be split; remove a module once it is split
OVER_600_LINES_TO_SPLIT: set[str] = set()
# (importer, imported) pairs of a domain module importing presentation, each to be removed
DOMAIN_IMPORTS_OF_PRESENTATION_TO_REMOVE: set[tuple[str, str]] = set()


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    return any(module == p or (p.endswith("*") and module.startswith(p[:-1])) for p in patterns)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> set[str]:
    """The package's modules this module imports when it runs (imports inside functions too; not
    those made for type checkers only)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")
                if child.level:
                    base = base[:len(base) - (child.level - 1)]
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                for a in child.names:  # a submodule imported by name, else a name the module defines
                    found.add(f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_module_over_600_lines():
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    over = {m for m, n in lines.items() if n > MAX_LINES}
    assert over - OVER_600_LINES_TO_SPLIT == set(), {m: lines[m] for m in over - OVER_600_LINES_TO_SPLIT}
    split = OVER_600_LINES_TO_SPLIT - over
    assert not split, f"now at most {MAX_LINES} lines: remove from OVER_600_LINES_TO_SPLIT: {sorted(split)}"


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_domain_imports_no_presentation():
    found = {(m, i) for m, imported in GRAPH.items()
             if not _matches(m, PRESENTATION) and not _matches(m, ENTRY)
             for i in imported if _matches(i, PRESENTATION)}
    assert found - DOMAIN_IMPORTS_OF_PRESENTATION_TO_REMOVE == set()
    gone = DOMAIN_IMPORTS_OF_PRESENTATION_TO_REMOVE - found
    assert not gone, f"no longer imported: remove from DOMAIN_IMPORTS_OF_PRESENTATION_TO_REMOVE: {sorted(gone)}"


def test_the_rules_see_what_they_check():
    """The walk finds the layers it checks: a cycle made of two real modules is found, the brief's
    domain imports its model, and the command line is presentation."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert "xpo1cli.brief_model" in GRAPH["xpo1cli.brief"]
    assert "xpo1cli.brief_render" in GRAPH["xpo1cli.cli.brief"]
    assert _matches("xpo1cli.cli.brief", PRESENTATION) and not _matches("xpo1cli.brief", PRESENTATION)
