"""Shared helpers: run the CLI the way a user does and parse what it prints."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from xpo1cli.cli import STATE, app

ROOT = Path(__file__).resolve().parent.parent

# modules whose tests start the real program (or a fresh interpreter) over and over, time it, or
# fuzz whole generated datasets
SLOW_MODULES = {"test_readme", "test_performance", "test_checker_hostile", "test_ctgov"}
# fixtures that start a browser: what the page looks like is slow to learn; what it holds is read
# from the HTML in the fast tests
SLOW_FIXTURES = {"browser"}
# single tests that take seconds each on an idle machine: generated datasets checked against the
# row rules, real processes on several cores, a browser, drawn figures, an external validator
SLOW_TESTS = {
    "test_every_drawn_name_is_known", "test_all_built_on_several_cores_writes_what_one_core_writes",
    "test_html_brief_runs_and_links_nothing_from_the_data", "test_a_synthetic_dataset_checks_as_the_row_rules_do",
    "test_reml_is_the_maximum_of_its_likelihood_on_random_small_pools",
    "test_frictionless_validates_the_bundled_and_the_packaged_data", "test_views_do_not_import_the_statistics_stack",
    "test_page_never_scrolls_sideways_and_plot_text_stays_readable", "test_file_forest_plot_has_no_overlapping_text",
    "test_a_label_is_drawn_literally_in_every_page_of_brief_all", "test_a_key_named_by_both_schemas_is_checked_once",
    "test_a_users_copy_of_the_bundled_data_checks_as_the_row_rules_do", "test_bundled_pool_inputs_are_the_row_rules",
    "test_bundled_pool_inputs_of_one_regimens_arms_are_the_row_rules", "test_generated_rows_reach_every_rule",
    "test_fuzz_every_command_with_generated_arguments", "test_fuzz_broken_datasets",
    # every disease's page built in worker processes, to see a failed write keep the pages already
    # there (the fast subset writes --all once: test_all_writes_an_index_and_a_page_per_disease)
    "test_pages_already_there_are_kept_when_new_ones_cannot_be_written",
}


def first_fast(cases: list) -> list:
    """Parameters of a test that applies one rule to every case the data declares (each key, each
    disease): the first case stays in the fast subset (the rule's one implementation), the rest run
    in the full suite."""
    return [pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=() if i == 0 else pytest.mark.slow)
            for i, case in enumerate(cases)]


def pytest_collection_modifyitems(items):
    """Mark `slow` every generated-data property (a hypothesis test), every test of SLOW_MODULES,
    every test using a fixture of SLOW_FIXTURES and the tests of SLOW_TESTS, so
    `python -m pytest -m "not slow"` runs the domain, API and wiring tests alone; the full suite
    (CI) runs them all."""
    for item in items:
        if (getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
                or item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES
                or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or getattr(item, "originalname", item.name) in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
DATA = ROOT / "data"
# hypothesis's limits in time (a deadline per example, the health check that data is generated
# fast enough) fail a correct test on a busy machine: off for every property test
settings.register_profile("xpo1", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("xpo1")

# seconds a test waits for a process before calling it hung: generous, so that a slow run on a
# busy machine is never taken for a hang (no test here times how fast anything is)
HANG = 600


@pytest.fixture(scope="session")
def _cache_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xpo1-cache")


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch, _cache_folder):
    """Each test starts with the bundled data and no XPO1_DATA from the caller's shell; checked
    datasets are kept in the test session's own cache folder, never the user's."""
    monkeypatch.setenv("XPO1_CACHE", str(_cache_folder))
    monkeypatch.delenv("XPO1_DATA", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)  # output does not depend on the runner's terminal
    STATE["data"] = None
    yield
    STATE["data"] = None


_BRIEFS: dict = {}


def bundled_brief(disease: str):
    """The brief of one disease on the bundled data, built once per test process and shared by the
    tests that only read it (a test that changes the data builds its own)."""
    from xpo1cli.brief import build_brief
    from xpo1cli.data import load
    from xpo1cli.query import Filters

    if disease not in _BRIEFS:
        _BRIEFS[disease] = build_brief(load(DATA), Filters(disease=disease))
    return _BRIEFS[disease]


def synthetic(folder: Path, studies: int, seed: int):
    """A loaded synthetic dataset of benchmarks/synth.py (random but consistent figures)."""
    from xpo1cli import data

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from synth import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return data.load(generate(folder, studies, seed=seed))


def run(*args: str, code: int = 0):
    """Invoke `xpo1 ARGS` in-process; assert the exit code; return the result."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def stdout_of(result) -> str:
    return result.stdout


def run_csv(*args: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))


def run_json(*args: str):
    return json.loads(run(*args, "--format", "json").stdout)


def xpo1_exe() -> list[str]:
    """The installed console script if there is one, else the module (same entry point)."""
    exe = shutil.which("xpo1")
    return [exe] if exe else [sys.executable, "-m", "xpo1cli"]


def sh(*args: str, cwd=None, env=None, input_text=None, check_code: int | None = 0):
    """Run the real program in a subprocess, from another folder by default."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("XPO1_DATA", "NO_COLOR")}
    full_env.update(env or {})
    proc = subprocess.run([*xpo1_exe(), *args], capture_output=True, text=True,
                          cwd=cwd or "/", env=full_env, input=input_text, timeout=HANG)
    if check_code is not None:
        assert proc.returncode == check_code, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def one_row(frame, **key):
    """The one row of a table whose columns hold these values (asserts there is exactly one)."""
    mask = True
    for k, v in key.items():
        mask = mask & (frame[k] == v)
    rows = frame[mask]
    assert len(rows) == 1, key
    return rows.iloc[0]
