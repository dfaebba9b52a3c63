"""The README's examples and the guide's walk-through, run as written: every `$ xpo1 ...` block of
README.md and docs/*.md prints what it shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

import pytest

from .conftest import HANG, ROOT, xpo1_exe

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(doc.relative_to(ROOT).as_posix(), command, shown) for doc in DOCUMENTS
          for command, shown in re.findall(r"```console\n\$ (xpo1 [^\n]*)\n(.*?)```",
                                           doc.read_text(encoding="utf-8"), flags=re.S)]


def test_the_documents_have_a_tour():
    commands = {shlex.split(cmd)[1] for _, cmd, _ in BLOCKS}
    assert {"list", "show", "compare", "response", "survival", "toxicity", "pool", "audit", "regimens",
            "diseases", "agents", "cite"} <= commands


def test_the_readme_has_examples():
    assert sum(doc == "README.md" for doc, _, _ in BLOCKS) >= 5


@pytest.mark.parametrize("doc,command,shown", BLOCKS, ids=[f"{doc}: {cmd}" for doc, cmd, _ in BLOCKS])
def test_documented_block_is_real_output(doc, command, shown, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("XPO1_DATA", "NO_COLOR")}
    env["COLUMNS"] = "150"
    p = subprocess.run([*xpo1_exe(), *shlex.split(command)[1:]], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=HANG)
    printed = p.stdout + p.stderr
    lines = shown.rstrip("\n").splitlines()
    if lines and lines[-1].startswith("[… cut here:"):
        # an excerpt: the README shows the first lines and says how many it leaves out
        kept = lines[:-1]
        more = len(printed.rstrip("\n").splitlines()) - len(kept)
        assert printed.startswith("\n".join(kept[:-1])) and more > 0
        assert lines[-1] == f"[… cut here: {more} more lines: run the command to see them all]"
    else:
        assert printed.rstrip("\n") == shown.rstrip("\n")
