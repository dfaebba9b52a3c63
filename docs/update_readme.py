"""Refresh the `$ xpo1 ...` console blocks of README.md and docs/*.md with what the installed
program prints now (COLUMNS=150), and the `>>>` examples of their pycon blocks with what the Python
API gives now (each document's examples run in order, in one namespace). A block that shows an
excerpt keeps its number of lines.

    python docs/update_readme.py
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CUT = "[… cut here:"  # the last line of an excerpt says how much is left out
BLOCK = re.compile(r"```console\n\$ (xpo1 [^\n]*)\n(.*?)```", flags=re.S)


def run(command: str) -> str:
    exe = shutil.which("xpo1")
    argv = [exe] if exe else [sys.executable, "-m", "xpo1cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("XPO1_DATA", "NO_COLOR")}
    env["COLUMNS"] = "150"
    p = subprocess.run([*argv, *shlex.split(command)[1:]], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    return p.stdout + p.stderr


def refresh(match: re.Match) -> str:
    command, shown = match.group(1), match.group(2)
    printed = run(command).rstrip("\n").splitlines()
    old = [line for line in shown.rstrip("\n").splitlines() if not line.startswith(CUT)]
    excerpt = len(old) < len(printed) and printed[: len(old) - 1] == old[:-1]
    if not excerpt:
        return f"```console\n$ {command}\n" + "\n".join(printed) + "\n```"
    lines = printed[: len(old)]
    more = len(printed) - len(lines)
    return (f"```console\n$ {command}\n" + "\n".join(lines)
            + f"\n{CUT} {more} more lines: run the command to see them all]\n```")


PYCON = re.compile(r"```pycon\n(.*?)```", flags=re.S)


def run_example(source: str, namespace: dict) -> str:
    """What an interactive session prints for one example (the repr of an expression included)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<example>", "single"), namespace)  # noqa: S102 - the documents' own examples
    return out.getvalue()


def refresh_examples(text: str) -> str:
    namespace: dict = {}

    def block(match: re.Match) -> str:
        lines = []
        for example in doctest.DocTestParser().get_examples(match.group(1)):
            source = example.source.rstrip("\n").split("\n")
            lines += [f">>> {source[0]}", *(f"... {line}" for line in source[1:])]
            lines += run_example(example.source, namespace).rstrip("\n").splitlines()
        return "```pycon\n" + "\n".join(lines) + "\n```"

    return PYCON.sub(block, text)


def main() -> None:
    os.environ.pop("XPO1_DATA", None)
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        new = refresh_examples(BLOCK.sub(refresh, text))
        if new != text:
            doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
