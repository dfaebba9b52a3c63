"""Random-effects pooling against R's metafor, the refusals, and the forest plots.

Reference numbers were produced with R 4 and metafor 3.8-1 by, for each pool below:

    library(metafor)
    d <- escalc(measure="PLO", xi=x, ni=n)
    r <- rma(yi, vi, data=d, method=meth)          # meth in "DL", "REML", "PM"
    p <- predict(r, transf=transf.ilogit)           # p$pred, p$ci.lb, p$ci.ub
    f <- predict(rma(yi, vi, data=d, method="FE"), transf=transf.ilogit)
    c(r$tau2, r$I2, r$H2, r$QE, r$QEp, weights(r))
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from xpo1cli.metaanalysis import pool_proportions

from .conftest import run, run_csv, run_json

# pool name -> (CLI filters, x, n); each pool puts several regimens together, asked for as such
POOLS = {
    # ORR of the AML cohorts: x=c(11,10,14), n=c(81,25,20)
    "aml": (["-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed"], [11, 10, 14], [81, 25, 20]),
    # ORR of myeloma triplets with a proteasome inhibitor: x=c(25,3), n=c(40,14)
    "mm_pi": (["-d", "MM", "-p", "proteasome inhibitor", "--source", "review", "--across-regimens", "--allow-mixed"],
              [25, 3], [40, 14]),
    # ORR of every myeloma cohort: x=c(8,32,25,6,11,18,14,4,3), n=c(84,122,40,7,15,31,19,27,14)
    "mm": (["-d", "MM", "--source", "review", "--across-regimens", "--allow-mixed"], [8, 32, 25, 6, 11, 18, 14, 4, 3],
           [84, 122, 40, 7, 15, 31, 19, 27, 14]),
}
# (pool, method) -> metafor: estimate, ci.lb, ci.ub, tau2, I2, H2, QE, QEp, FE estimate
METAFOR = {
    ("aml", "DL"): (0.377104, 0.115140, 0.737992, 1.677517, 91.2275, 11.3993, 22.798602, 0.000011, 0.302465),
    ("aml", "REML"): (0.377020, 0.115964, 0.736292, 1.657365, 91.1303, 11.2744, 22.798602, 0.000011, 0.302465),
    ("aml", "PM"): (0.377010, 0.116059, 0.736097, 1.655069, 91.1191, 11.2601, 22.798602, 0.000011, 0.302465),
    ("mm_pi", "DL"): (0.423968, 0.111845, 0.811382, 1.372792, 83.7964, 6.1715, 6.171477, 0.012983, 0.536721),
    ("mm_pi", "REML"): (0.423968, 0.111845, 0.811382, 1.372792, 83.7964, 6.1715, 6.171477, 0.012983, 0.536721),
    ("mm_pi", "PM"): (0.423968, 0.111846, 0.811382, 1.372790, 83.7964, 6.1715, 6.171477, 0.012983, 0.536721),
    ("mm", "DL"): (0.430372, 0.249919, 0.631436, 1.293804, 88.5845, 8.7600, 70.079944, 0.0, 0.363461),
    ("mm", "REML"): (0.433029, 0.238692, 0.650413, 1.575064, 90.4278, 10.4469, 70.079944, 0.0, 0.363461),
    ("mm", "PM"): (0.433509, 0.236463, 0.654091, 1.634027, 90.7412, 10.8006, 70.079944, 0.0, 0.363461),
}
# weights(r) for the AML pool, DL: 34.5150, 33.3645, 32.1205


@pytest.mark.parametrize("pool,method", sorted(METAFOR))
def test_pool_agrees_with_metafor(pool, method):
    args, x, n = POOLS[pool]
    est, lo, hi, tau2, i2, h2, q, qp, fe = METAFOR[(pool, method)]
    rows = run_csv("pool", *args, "--method", method)
    cohorts = [r for r in rows if r["row"] == "cohort"]
    assert sorted(zip((int(r["events"]) for r in cohorts), (int(r["n"]) for r in cohorts), strict=True)) \
        == sorted(zip(x, n, strict=True))
    res = pool_proportions([int(r["events"]) for r in cohorts], [int(r["n"]) for r in cohorts], method)
    assert res["estimate"] == pytest.approx(est, abs=5e-4)
    assert res["ci_low"] == pytest.approx(lo, abs=5e-4)
    assert res["ci_high"] == pytest.approx(hi, abs=5e-4)
    assert res["tau2"] == pytest.approx(tau2, abs=5e-4)
    assert res["i2"] == pytest.approx(i2, abs=5e-3)
    assert res["h2"] == pytest.approx(h2, abs=5e-3)
    assert res["q"] == pytest.approx(q, abs=5e-4)
    assert res["q_p"] == pytest.approx(qp, abs=5e-4)
    assert res["common_estimate"] == pytest.approx(fe, abs=5e-4)
    random = next(r for r in rows if r["row"] == "random")
    assert float(random["percent"]) == pytest.approx(100 * est, abs=0.01)
    assert float(random["tau2"]) == pytest.approx(tau2, abs=5e-4)


def test_weights_agree_with_metafor():
    rows = run_csv("pool", "-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed")
    w = {r["ref"]: float(r["weight"]) for r in rows if r["row"] == "cohort"}
    assert w == pytest.approx({"22": 34.5150, "23": 33.3645, "25": 32.1205}, abs=0.01)


def test_refuses_fewer_than_two_cohorts():
    r = run("pool", "-r", "SVd", code=2)
    assert "at least two independent cohorts" in r.stderr and "svd-ref16/evaluable" in r.stderr
    assert "cannot pool" in run("pool", "-m", "PFS", code=2).stderr


def test_never_pools_a_subgroup_with_its_parent():
    r = run("pool", "-d", "MM", "--source", "review", "--by", "regimen", "-f", "csv")
    studies = [row["study"] for row in csv.DictReader(io.StringIO(r.stdout)) if row["row"] == "cohort"]
    assert len(studies) == len(set(studies))
    assert "left out srd-rrmm-ref18/len-sensitive [review]: overlaps" in r.stderr
    assert "left out spd-ref19/len-pom-refractory [review]: overlaps" in r.stderr


def test_never_pools_two_reports_of_one_trial_or_a_case_report():
    r = run("pool", "-d", "NHL", "--source", "review", "--allow-mixed", "-f", "csv")
    rows = [row for row in csv.DictReader(io.StringIO(r.stdout)) if row["row"] == "cohort"]
    assert [(row["study"], row["events"], row["n"]) for row in rows] == [
        ("s-nhl-phase1-ref30", "22", "70"), ("sadal-129-ref31", "35", "129")]
    assert "sadal-interim-ref31/interim [review]: another report of the same trial" in r.stderr
    assert "s-cns-dlbcl-case-ref32/all [review]: case report" in r.stderr


def test_pool_json_and_exact_cohort_intervals():
    rows = run_json("pool", "-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed")
    first = rows[0]
    assert (first["study"], first["ci_low"], first["ci_high"]) == ("s-aml-ref22", 7.0, 23.0)
    assert rows[-1]["row"] == "common" and rows[-2]["row"] == "random"
    assert rows[-2]["q_df"] == 2


def test_terminal_forest_plot():
    out = run("pool", "-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed", "-f", "plain").stdout
    assert out.count("■") == 3 and "◆" in out and "I² = 91.2%" in out
    assert "11/81" in out and "34.5%" in out


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_forest_plot_file(tmp_path, suffix):
    target = tmp_path / f"forest{suffix}"
    r = run("pool", "-d", "AML", "--across-regimens", "--allow-mixed", "--plot", str(target), "-f", "csv")
    assert target.stat().st_size > 5000 and "saved" in r.stderr
    if suffix == ".svg":
        text = target.read_text()
        assert "<svg" in text and "tau" in text and "across regimens" in text
    else:
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    from xpo1cli import plot

    monkeypatch.setattr(plot, "have_matplotlib", lambda: False)
    r = run("pool", "-d", "AML", "--plot", str(tmp_path / "f.svg"), code=1)
    assert "pip install 'xpo1cli[plot]'" in r.stderr
    assert not (tmp_path / "f.svg").exists()
    assert "--plot takes a file ending" in run("pool", "-d", "AML", "--plot", "f.gif", code=2).stderr


def test_views_do_not_import_the_statistics_stack():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom xpo1cli.cli import app\n"
            "r = CliRunner().invoke(app, ['{cmd}', '-f', 'csv'])\nassert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in ('scipy', 'statsmodels', 'matplotlib') if m in sys.modules))")
    for cmd, allowed in (("list", "[]"), ("show 16", "[]"), ("survival", "[]"),
                         ("toxicity", "[]"), ("response", "['scipy']")):
        parts = cmd.split()
        src = code.replace("'{cmd}'", ", ".join(repr(p) for p in parts))
        p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                           env={**os.environ})
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == allowed, cmd


# --- pools across regimens: refused unless asked ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "plain", "markdown"])
def test_a_pool_across_regimens_is_a_usage_error_with_nothing_on_stdout(fmt):
    r = run("pool", "--measure", "ORR", "--disease", "AML", "-f", fmt, code=2)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xpo1: ")
    assert "3 regimens (S, S-DEC, S-HiDAC-MITO)" in lines[0]
    assert all(way in lines[0] for way in ("--regimen X", "--by regimen", "--across-regimens"))


def test_across_regimens_says_so_in_every_format():
    out = run("pool", "-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed", "-f", "plain").stdout
    assert "across regimens, random effects (DerSimonian–Laird)" in out
    assert "Pooled across regimens (S, S-DEC, S-HiDAC-MITO), as asked" in out
    assert "mixes regimens, pooled across them as asked (--across-regimens): S, S-DEC, S-HiDAC-MITO" in out
    rows = run_csv("pool", "-d", "AML", "--source", "review", "--across-regimens", "--allow-mixed")
    pooled = [r for r in rows if r["row"] != "cohort"]
    assert [r["row"] for r in pooled] == ["random", "common"]
    assert all(r["regimen"] == "S;S-DEC;S-HiDAC-MITO" and "across regimens" in r["cohort_label"] for r in pooled)


def test_by_regimen_prints_no_overall_row():
    out = run("pool", "-d", "MM", "--source", "review", "--by", "regimen", "--allow-mixed", "-f", "plain").stdout
    assert out.count("◆") == 2  # Sd's and SRd's own pools, none across regimens
    assert "43.0" not in out and "common effect" not in out  # the pool of all nine cohorts
    assert "one pool per regimen, no estimate across them (k = 9)" in out
    # the regimens' cohorts are not randomized between them: no test of their differences
    assert "Test for subgroup differences" not in out and "Q = 33.73" not in out
    assert "no test for subgroup differences across regimens: their cohorts were not randomized" in out
    assert "mixes regimens" not in out
    rows = run_json("pool", "-d", "MM", "--source", "review", "--by", "regimen", "--allow-mixed")
    assert [r["row"] for r in rows if not r.get("subgroup") and r["row"] != "cohort"] == []
    assert all(r.get("q_between") is None for r in rows)


def test_a_pool_of_one_regimen_prints_as_before():
    """The keyword changes nothing where one regimen is pooled."""
    for fmt in ("csv", "plain", "json"):
        plain = run("pool", "-d", "MM", "-r", "SRd", "--allow-mixed", "-f", fmt)
        asked = run("pool", "-d", "MM", "-r", "SRd", "--allow-mixed", "--across-regimens", "-f", fmt)
        assert (plain.stdout, plain.stderr) == (asked.stdout, asked.stderr)
        assert "across" not in plain.stdout


# --- pools of no one population: refused unless asked (the brief's rule) ----------------------------


def test_a_single_pool_that_mixes_diseases_is_a_usage_error_naming_its_cohorts():
    r = run("pool", "-m", "ORR", "-d", "MM", "-r", "Sd", code=2)
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("xpo1: not pooled: the pool mixes diseases (MM, WM; a cohort of several)")
    assert "sd-phase1-ref12/all 8*/84" in line and "storm-nejm-2019/mitt 32/122" in line
    assert "--allow-mixed" in line
    out = run("pool", "-m", "ORR", "-d", "MM", "-r", "Sd", "--allow-mixed", "-f", "plain")
    assert "16.8" in out.stdout and "mixes diseases: MM, WM" in out.stdout + out.stderr
    assert "pooled as asked (--allow-mixed)" in out.stdout + out.stderr


def test_across_regimens_does_not_imply_allow_mixed():
    r = run("pool", "-d", "AML", "--source", "review", "--across-regimens", code=2)
    assert "the pool mixes" in r.stderr and "--allow-mixed" in r.stderr


def test_by_regimen_shows_a_mixed_regimen_not_pooled_with_its_cohorts():
    out = run("pool", "-m", "ORR", "-d", "MM", "--by", "regimen", "-f", "plain").stdout
    assert "not pooled: the pool mixes diseases (MM, WM; a cohort of several)" in out
    assert "not pooled: the pool mixes populations" in out  # SRd: newly diagnosed with relapsed/refractory
    assert "8*/84" in out and "32/122" in out and "6/7" in out and "11*/15" in out  # their cohorts stay shown
    assert "◆" not in out and "16.8" not in out and "76.6" not in out
    rows = run_json("pool", "-m", "ORR", "-d", "MM", "--by", "regimen")
    refused = [r for r in rows if r["row"] == "not pooled"]
    assert [(r["subgroup"], r["k"]) for r in refused] == [("Sd", 2), ("SRd", 2)]
    assert all(r["weight"] is None for r in rows if r["subgroup"] in ("Sd", "SRd"))
    assert not [r for r in rows if r["row"] in ("random", "common", "subgroup test")]


def test_no_prediction_interval_from_two_cohorts():
    rows = run_json("pool", "-m", "ORR", "-d", "MM", "-r", "Sd", "--allow-mixed")
    random = next(r for r in rows if r["row"] == "random")
    assert random["k"] == 2 and random["pi_low"] is None and random["pi_high"] is None
    out = run("pool", "-m", "ORR", "-d", "MM", "-r", "Sd", "--allow-mixed", "-f", "plain").stdout
    assert "prediction interval" not in out.replace("a prediction interval from fewer than three", "")


def test_subgroup_test_across_regimens_only_when_asked_and_labelled():
    out = run("pool", "-d", "MM", "--source", "review", "--by", "regimen", "--across-regimens", "--allow-mixed",
              "-f", "plain").stdout
    assert ("Test for subgroup differences (random effects) (not a comparison of regimens: the cohorts were "
            "not randomized between them): Q = 33.73, df = 6") in " ".join(out.split())


def test_left_out_rows_name_their_source_and_a_pooled_cohorts_other_report():
    r = run("pool", "-m", "ORR", "-d", "MM", "-r", "Sd", "--allow-mixed", "-f", "csv")
    assert ("left out storm-nejm-2019/mitt [S1]: a percentage without a stated denominator, so no count (one is "
            "derived only over a stated denominator); the cohort's n = 122 is not stated as its denominator; "
            "another report of the pooled cohort storm-nejm-2019/mitt (32/122 [S2])") in r.stderr
    assert ("left out march-bmcmed-2022/all [M1]: a percentage without a stated denominator, so no count (one is "
            "derived only over a stated denominator); the cohort's n = 82 is not stated as its denominator") \
        in r.stderr
    assert "its trial STORM is pooled from another report (storm-nejm-2019)" in r.stderr
