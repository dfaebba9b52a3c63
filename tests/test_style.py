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
