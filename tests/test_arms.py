"""Every row says whose figure it is: the arm, its regimen and agent, the unit, whether a count
was printed or derived, and what a pooled estimate mixed. Checked as a clinician reads the
output: the label next to the number."""

from __future__ import annotations

import csv
import io
import json

import pytest

from xpo1cli.cli import hoist_global_options

from .conftest import DATA, run, run_csv, run_json, sh

# --- arms: regimen, agent and partners of the arm a row describes ----------------------------------


def test_toxicity_of_svd_shows_the_svd_arm_not_the_control_arm():
    rows = run_csv("toxicity", "--regimen", "SVd")
    boston = [r for r in rows if r["study"] == "boston-lancet-2020"]
    assert boston and {(r["regimen"], r["arm"], r["cohort"]) for r in boston} == {("SVd", "experimental", "svd")}
    neuropathy = next(r for r in boston if r["term"] == "peripheral neuropathy")
    assert (neuropathy["count"], neuropathy["percent_reported"]) == ("41", "21.0")
    assert "34.0" not in {r["percent_reported"] for r in boston}  # the Vd arm's rate
    out = run("toxicity", "--regimen", "SVd", "-f", "plain").stdout
    assert "SVd (experimental arm)" in out and "Vd (control arm)" not in out


def test_toxicity_of_the_control_arm_is_labelled_control():
    rows = [r for r in run_csv("toxicity", "--regimen", "Vd") if r["study"] == "boston-lancet-2020"]
    neuropathy = next(r for r in rows if r["term"] == "peripheral neuropathy")
    assert (neuropathy["regimen"], neuropathy["arm"], neuropathy["percent_reported"]) == ("Vd", "control", "34.0")
    assert "Vd (control arm)" in run("toxicity", "--regimen", "Vd", "-f", "plain").stdout
    arms = run("toxicity", "--arms", "-f", "plain").stdout
    line = next(x for x in arms.splitlines() if "peripheral neuropathy" in x)
    assert "SVd arm: 41/195 (21%)" in line and "Vd arm: 70/207 (34%)" in line


def test_trial_level_events_of_a_randomized_trial_say_the_arm_is_not_stated():
    rows = [r for r in run_csv("toxicity", "-d", "AML") if r["study"] == "sopra-2021"]
    assert rows and {(r["regimen"], r["arm"]) for r in rows} == {("", "arm not stated")}


@pytest.mark.parametrize("regimen", ["Vd", "7+3", "IC", "PC"])
def test_control_arms_have_no_xpo1_agent(regimen):
    rows = run_csv("list", "--regimen", regimen)
    assert rows, regimen
    for r in rows:
        assert (r["regimen"], r["agent"], r["arm"]) == (regimen, "", "control"), r
    out = run("compare", "SVd", "Vd", "-f", "plain").stdout
    assert "Vd: no XPO1 inhibitor (control arm)" in out


def test_partner_filter_selects_arms_not_studies():
    rows = run_csv("list", "--partner", "physician's choice")
    assert [(r["study"], r["regimen"], r["arm"], r["agent"]) for r in rows] == [
        ("sopra-2021", "PC", "control", ""), ("sopra-interim-2017", "PC", "control", "")]
    sopra = [r for r in run_csv("list", "-d", "AML") if r["study"] == "sopra-2021"]
    assert [(r["regimen"], r["partners"]) for r in sopra] == [("S", "")]  # selinexor alone: no partner
    svd = [r for r in run_csv("list", "--agent", "selinexor", "--partner", "bortezomib")]
    newer = {"bench-m14", "xvd-network-meta-analysis"}  # 2021-2026 pack: a registration and a synthesis
    assert {(r["study"], r["regimen"]) for r in svd if r["study"] not in newer} == {
        ("svd-ref16", "SVd"), ("boston-lancet-2020", "SVd")}


def test_response_and_survival_follow_the_arm_filter():
    assert {r["cohort"] for r in run_csv("survival", "--regimen", "7+3") if r["study"].startswith("sel-7plus3-rand")} \
        <= {"7plus3"}
    rows = run_csv("response", "--regimen", "S-7+3", "-m", "CR_CRi")
    assert ("sel-7plus3-rand-ash2020", "s-7plus3") in {(r["study"], r["cohort"]) for r in rows}
    assert "7plus3" not in {r["cohort"] for r in rows if r["study"] == "sel-7plus3-rand-ash2020"}


# --- derived counts are marked wherever they are shown ---------------------------------------------


def test_list_marks_derived_counts_and_names_their_basis():
    rows = {r["ref"]: r for r in run_csv("list", "--source", "review", "-d", "MM")}
    assert (rows["12"]["orr_count"], rows["12"]["orr_count_basis"]) == ("8", "sum of categories")
    assert (rows["18"]["orr_count"], rows["18"]["orr_count_basis"]) == ("11", "from percentage")
    assert (rows["14"]["orr_count"], rows["14"]["orr_count_basis"]) == ("3", "derived ORR")
    assert (rows["16"]["orr_count_basis"], rows["16"]["depth_count_basis"]) == ("reported", "sum of categories")
    assert rows["15"]["orr_count_basis"] == ""  # no count at all: no basis
    out = run("list", "--source", "review", "-d", "MM", "-f", "plain").stdout
    assert "8*/84 (10%)" in out and "11*/15 (73%)" in out and "3*/14 (21.4%)" in out
    assert "25/40 (63%)" in out and "* count derived here" in out
    data = run_json("list", "--source", "review", "-d", "MM")
    assert next(r for r in data if r["ref"] == 12)["orr_count_basis"] == "sum of categories"


def test_pool_marks_derived_counts():
    r = run("pool", "-d", "MM", "--by", "regimen", "-f", "csv")
    assert "derived counts used (marked *): sd-phase1-ref12/all 8/84 (sum of categories)" in r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert next(x for x in rows if x["study"] == "srd-rrmm-ref18")["count_basis"] == "from percentage"


# --- ref 15: printed categories that can only be cumulative ---------------------------------------


def test_ref15_rates_are_shown_as_the_cumulative_rates_the_audit_reads():
    row = next(r for r in run_csv("response", "--source", "review", "-d", "MM") if r["ref"] == "15")
    assert (row["orr_pct"], row["cbr_pct"], row["ge_vgpr_pct"]) == ("48.0", "71.0", "14.0")
    assert row["orr_basis"] == "cumulative reading of the printed PR rate"
    assert row["ge_vgpr_basis"] == "cumulative reading of the printed VGPR rate"
    assert (row["mr_pct"], row["pr_pct"], row["vgpr_pct"], row["orr_n"]) == ("", "", "", "")
    out = run("response", "--source", "review", "-d", "MM", "-f", "plain").stdout
    line = next(x for x in out.splitlines() if x.startswith("15 "))
    assert "48%†" in line and "71%†" in line and "14%†" in line
    assert "read here as cumulative" in out


# --- numbers keep their printed precision; units are part of the value -----------------------------


def test_boston_hazard_ratio_as_printed_and_said_to_be_as_reported():
    out = run("show", "BOSTON", "-f", "plain").stdout
    line = next(x for x in out.splitlines() if x.startswith("svd ") and " PFS " in x and " HR " in x)
    assert "0.70" in line and "0.53" in line and "0.93" in line and "0.0075" in line
    assert "nothing here is recomputed" in out
    compare = run("compare", "SVd", "Vd", "-f", "plain").stdout
    assert "PFS: HR 0.70 (0.53–0.93), p = 0.0075 [B1]" in compare
    assert "between arms, as reported" in compare


def test_time_in_weeks_is_never_under_a_months_heading():
    rows = run_json("survival", "-r", "Sd")
    ttr = next(r for r in rows if r["study"] == "storm-nejm-2019" and r["measure"] == "TTR")
    assert (ttr["median"], ttr["unit"], ttr["range_low"], ttr["range_high"]) == (4.1, "weeks", 1.0, 14.0)
    assert "median_months" not in ttr
    out = run("survival", "-r", "Sd", "-f", "plain").stdout
    assert "(months)" not in out
    line = next(x for x in out.splitlines() if "storm-nejm-2019" in x and " TTR " in x)
    assert "4.1" in line and "weeks" in line and "1–14" in line
    chart = run("survival", "-r", "Sd", "--chart").stdout
    assert "Not drawn (in weeks, not months): storm-nejm-2019 partial response or better TTR median 4.1 weeks" in chart


# --- pooled output says what it is ---------------------------------------------------------------


def test_pooled_rows_carry_no_crude_events_over_n():
    rows = run_csv("pool", "-d", "MM", "--across-regimens", "--allow-mixed")
    pooled = [r for r in rows if r["row"] in ("random", "common")]
    assert len(pooled) == 2
    for r in pooled:
        assert (r["events"], r["n"]) == ("", "")
        assert int(r["events_total"]) == sum(int(x["events"]) for x in rows if x["row"] == "cohort")
        assert int(r["n_total"]) == sum(int(x["n"]) for x in rows if x["row"] == "cohort")
        assert r["k"] == str(sum(x["row"] == "cohort" for x in rows))
    random = pooled[0]
    crude = 100 * int(random["events_total"]) / int(random["n_total"])
    assert abs(float(random["percent"]) - crude) > 1  # the estimate is not the ratio of the sums


def test_pool_level_is_printed_wherever_an_interval_is(tmp_path):
    out = run("pool", "-d", "MM", "--by", "regimen", "--allow-mixed", "--level", "0.90", "-f", "plain").stdout
    heading = "Pooled ORR, 90% CI: XPO1 inhibitor arms and cohorts (random effects, DerSimonian–Laird)"
    assert out.splitlines()[0] == heading
    assert "[90% CI " in out and "90% Clopper–Pearson" in out
    assert "95%" not in out
    rows = run_csv("pool", "-d", "MM", "--by", "regimen", "--level", "0.9")
    assert {r["level"] for r in rows} == {"0.9"}
    across = ("pool", "-d", "MM", "--across-regimens", "--allow-mixed", "--level", "0.975")
    assert {r["level"] for r in run_json(*across)} == {0.975}
    assert "[97.5% CI " in run(*across, "-f", "plain").stdout


def test_pool_note_names_exactly_what_was_mixed():
    err = run("pool", "--across-regimens", "--allow-mixed", "-f", "csv").stderr
    assert ("mixes diseases: AML, DLBCL, MM, NHL, WM (pool one with --disease, or one estimate each "
            "with --by disease)") in err
    assert "includes mixed-disease cohorts: sd-phase1-ref12/all (MM;WM)" in err
    assert "mixes settings: mixed, newly diagnosed, relapsed/refractory (pool one with --setting)" in err
    assert "mixes regimens, pooled across them as asked (--across-regimens): " in err
    assert "(pool one with --regimen, or one pool each with --by regimen)" in err
    mm = run("pool", "-d", "AML", "--across-regimens", "--allow-mixed", "-f", "csv").stderr
    assert "mixes diseases" not in mm


def test_control_arms_are_never_pooled_with_xpo1_arms():
    from xpo1cli.data import load
    from xpo1cli.query import Filters, filter_studies
    from xpo1cli.views import CONTROL_GROUP, XPO1_GROUP, pool_inputs

    ds = load()
    studies = filter_studies(ds, Filters(disease="AML"))
    included, excluded = pool_inputs(ds, studies, "CR_CRi", include_controls=True)
    groups = dict(zip(included["cohort"], included["group"], strict=True))
    assert groups["7plus3"] == CONTROL_GROUP and groups["s-7plus3"] == XPO1_GROUP
    assert all(g == XPO1_GROUP for c, g in groups.items() if c != "7plus3")
    _, left = pool_inputs(ds, studies, "CR_CRi")
    assert "control arm, no XPO1 inhibitor" in left.set_index("cohort").at["7plus3", "reason"]


def test_forest_plot_file_for_a_pool_with_later_trials(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "forest.svg"
    r = run("pool", "--across-regimens", "--allow-mixed", "--plot", str(target), "-f", "csv")
    svg = target.read_text(encoding="utf-8")
    assert "saved" in r.stderr and "<svg" in svg
    assert "sadal-lancet-2020" in svg and "95% CI" in svg


# --- the data package is valid for the reference validator; --data anywhere ------------------------


def test_frictionless_validates_the_bundled_and_the_packaged_data(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(DATA / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    run("package", str(tmp_path / "pkg"))
    report = frictionless.validate(str(tmp_path / "pkg" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_partial_cohort_key_is_still_checked(tmp_path):
    run("package", str(tmp_path / "pkg"))
    ae = tmp_path / "pkg" / "adverse_events.csv"
    text = ae.read_text(encoding="utf-8").replace("boston-lancet-2020,svd,", "boston-lancet-2020,nosuch,", 1)
    ae.write_text(text, encoding="utf-8")
    r = run("--data", str(tmp_path / "pkg"), "validate", code=1)
    assert "'boston-lancet-2020/nosuch' not found in cohorts" in r.stdout + r.stderr


def test_global_options_after_the_command_are_moved_in_front():
    assert hoist_global_options(["list", "--data", "D", "-d", "MM"]) == ["--data", "D", "list", "-d", "MM"]
    assert hoist_global_options(["show", "19", "--data=D"]) == ["--data=D", "show", "19"]
    assert hoist_global_options(["list", "--", "--data", "x"]) == ["list", "--", "--data", "x"]
    assert hoist_global_options(["list", "--data"]) == ["list", "--data"]  # click says the value is missing


def test_data_after_the_command_in_a_real_process(tmp_path):
    run("package", str(tmp_path / "pkg"))
    studies = tmp_path / "pkg" / "studies.csv"
    studies.write_text(studies.read_text(encoding="utf-8").replace("storm-ref13,", "storm-mine,"), encoding="utf-8")
    for name in ("cohorts.csv", "outcomes.csv", "adverse_events.csv", "comparisons.csv"):
        f = tmp_path / "pkg" / name
        f.write_text(f.read_text(encoding="utf-8").replace("storm-ref13,", "storm-mine,"), encoding="utf-8")
    proc = sh("list", "-d", "MM", "--data", str(tmp_path / "pkg"), "-f", "json")
    assert "storm-mine" in {r["study"] for r in json.loads(proc.stdout)}


def test_pool_notes_speak_of_the_pooled_group_only():
    err = run("pool", "-d", "AML", "-m", "CR_CRi", "--include-controls", "--across-regimens", "--allow-mixed",
              "-f", "csv").stderr
    assert "mixes regimens, pooled across them as asked (--across-regimens): S-7+3, S-CLAG (" in err  # not the
    # lone 7+3 control
