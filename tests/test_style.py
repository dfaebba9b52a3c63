"""The code passes the project's ruff configuration (pyproject.toml), as part of the test command."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import HANG, ROOT


def test_ruff_passes():
    if shutil.which("ruff") is None and subprocess.run([sys.executable, "-m", "ruff", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.skip("ruff is not installed (it comes with the [test] extra)")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "xpo1cli", "tests", "benchmarks", "qa", "docs"],
                          capture_output=True, text=True, cwd=ROOT, timeout=HANG)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# What the code may use of Typer beyond its top-level names: the classes `typer.Typer(cls=...)`
# takes and builds, the function that gives an app's command, and the test runner. Click itself
# is Typer's own, vendored and private since Typer 0.26: neither it nor any other private module
# (a name with a leading underscore) nor typer.models is imported or reached.
TYPER_ALLOWED = {"typer.core": {"TyperGroup", "TyperCommand"}, "typer.main": {"get_command"},
                 "typer.testing": {"CliRunner"}}


def private_typer_uses(source: str) -> list[str]:
    """Each import or attribute chain of `source` that reaches past Typer's public names."""
    import ast

    found: set[str] = set()

    def check(module: str, name: str) -> None:
        parts = [*module.split("."), name]
        if parts[0] == "typer" and not any(p.startswith("_") for p in parts):
            if module == "typer" and name != "models":
                return  # a top-level name (typer.Exit, typer.main ...): what follows it is checked too
            if name in TYPER_ALLOWED.get(module, set()):
                return
        if parts[0] in ("typer", "click"):
            found.add(f"{module}.{name}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                check(node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module, _, name = alias.name.rpartition(".")
                if module:
                    check(module, name)
                elif name == "click":
                    found.add(name)
        elif isinstance(node, ast.Attribute):
            names, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                names.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "typer":
                names = ["typer", *reversed(names)]
                check(".".join(names[:-1]), names[-1])
    # an attribute chain is also seen through each of its shorter prefixes: keep the longest
    return sorted(f for f in found if not any(g.startswith(f + ".") for g in found))


def test_private_typer_names_are_found():
    assert private_typer_uses("from typer._click.exceptions import UsageError") == [
        "typer._click.exceptions.UsageError"]
    assert private_typer_uses("import click") == ["click"]
    assert private_typer_uses("from typer.main import get_command_from_info") == ["typer.main.get_command_from_info"]
    assert private_typer_uses("import typer\ntyper.models.CommandInfo") == ["typer.models.CommandInfo"]
    assert private_typer_uses("import typer\ntyper._click.utils") == ["typer._click.utils"]
    assert private_typer_uses("from typer.testing import _get_command") == ["typer.testing._get_command"]
    assert private_typer_uses("import typer.main\nfrom typer.core import TyperGroup\ntyper.main.get_command(app)\n"
                              "typer.Exit(2)\nfrom typer import Context") == []


def test_no_private_typer_or_click_names():
    """The CLI and the tests use Typer's public API only (see TYPER_ALLOWED)."""
    used = {str(path.relative_to(ROOT)): private_typer_uses(path.read_text(encoding="utf-8"))
            for folder in ("xpo1cli", "tests", "benchmarks") for path in sorted((ROOT / folder).rglob("*.py"))}
    assert {path: names for path, names in used.items() if names} == {}
