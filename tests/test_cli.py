"""The command line as a user drives it: every command, filter and format, checked on content."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from .conftest import run, run_csv, run_json, sh, xpo1_exe

# --- list ------------------------------------------------------------------------------------------


def refs(rows) -> list[int]:
    return [int(r["ref"]) for r in rows]


def test_list_myeloma_rows_and_figures():
    rows = run_csv("list", "--source", "review", "--disease", "MM")
    assert refs(rows) == [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]
    svd = next(r for r in rows if r["regimen"] == "SVd")
    assert (svd["orr_count"], svd["orr_denominator"], svd["orr_percent"]) == ("25", "40", "63.0")
    assert (svd["depth"], svd["depth_count"], svd["median_pfs"]) == ("≥VGPR", "12", "9.0")
    assert (svd["n_enrolled"], svd["n_evaluable"]) == ("42", "40")


@pytest.mark.parametrize("name", ["MM", "mm", "myeloma", "Multiple Myeloma", "RRMM"])
def test_disease_names_and_case(name):
    expected = refs(run_csv("list", "--source", "review", "--disease", "MM"))
    assert refs(run_csv("list", "--source", "review", "--disease", name)) == expected


def test_disease_hierarchy_nhl_includes_dlbcl_and_mcl():
    nhl = {r["disease"] for r in run_csv("list", "--source", "review", "--disease", "NHL")}
    assert nhl == {"NHL", "DLBCL", "MCL"}
    assert {int(r["ref"]) for r in run_csv("list", "--source", "review", "--disease", "DLBCL")} == {31, 32}
    assert [r["study"] for r in run_csv("list", "--source", "review", "-d", "waldenstrom")] == ["sd-phase1-ref12"]


def test_filter_agent():
    rows = run_csv("list", "--source", "review", "--agent", "KPT-8602")
    assert [(r["ref"], r["agent"]) for r in rows] == [("11", "eltanexor")]


def test_filter_partner_drug_and_class_all_must_match():
    pis = run_csv("list", "--source", "review", "--partner", "proteasome inhibitor")
    assert sorted(r["regimen"] for r in pis) == ["SId", "SKd", "SVd"]
    assert refs(run_csv("list", "--source", "review", "-p", "PI", "-p", "dexamethasone")) == [14, 15, 16]
    assert refs(run_csv("list", "--source", "review", "-p", "bortezomib", "-p", "IMiD")) == []
    assert sorted(refs(run_csv("list", "--source", "review", "-p", "anthracycline"))) == [21, 26, 47]
    assert refs(run_csv("list", "--source", "review", "-p", "hypomethylating agent")) == [23]
    assert refs(run_csv("list", "--source", "review", "-p", "FLT3 inhibitor")) == [24]


@pytest.mark.parametrize("alias", ["SVd", "S-Vd", "svd", "XVd", "selinexor+bortezomib+dexamethasone",
                                   "dexamethasone + bortezomib + selinexor", "bortezomib, selinexor and dex"])
def test_regimen_aliases(alias):
    assert [r["study"] for r in run_csv("list", "--source", "review", "--regimen", alias)] == ["svd-ref16"]


def test_regimen_seven_plus_three():
    assert refs(run_csv("list", "--source", "review", "-r", "selinexor + 7+3")) == [26, 47]


def test_filter_phase_setting_type_min_n():
    assert refs(run_csv("list", "--source", "review", "--phase", "1")) == [12, 14, 20, 30]
    assert refs(run_csv("list", "--source", "review", "--phase", "Ib")) == [20]
    assert refs(run_csv("list", "--source", "review", "--phase", "2b")) == [31]
    assert refs(run_csv("list", "--source", "review", "--setting", "nd")) == [17]
    assert refs(run_csv("list", "--source", "review", "--setting", "mixed")) == [23, 25]
    assert refs(run_csv("list", "--source", "review", "--type", "preclinical")) == [28, 29]
    assert refs(run_csv("list", "--source", "review", "--type", "case")) == [32]
    big = run_csv("list", "--source", "review", "--min-n", "80")
    assert all(int(r["n_enrolled"] or r["n_evaluable"]) >= 80 for r in big)
    assert refs(big) == [12, 13, 22, 31, 31]


def test_filters_combine():
    rows = run_csv("list", "--source", "review", "-d", "AML", "-p", "cytarabine", "--min-n", "20")
    assert refs(rows) == [25, 27, 47]


def test_cohorts_expand_subgroups():
    rows = [r for r in run_csv("list", "--source", "review", "--cohorts", "-r", "SPd")]
    got = {r["cohort"]: (r["n"], r["orr_percent"], r["median_pfs"]) for r in rows}
    assert got == {"all": ("48", "", ""), "pom-naive": ("31", "58.0", "12.2"),
                   "len-pom-refractory": ("13", "31.0", "4.2")}


def test_sort_orr_descending_stable():
    rows = run_csv("list", "--source", "review", "-d", "MM", "--sort", "orr")
    pcts = [float(r["orr_percent"]) for r in rows if r["orr_percent"]]
    assert pcts == sorted(pcts, reverse=True) and pcts[0] == 86.0
    args = ("list", "--source", "review", "--sort", "orr", "-f", "csv")
    assert run(*args).stdout == run(*args).stdout


def test_sort_by_evidence_puts_preclinical_last():
    rows = run_csv("list", "--source", "review", "--sort", "evidence")
    assert rows[-1]["design"] == "preclinical" and rows[0]["design"] == "single-arm"


# --- formats --------------------------------------------------------------------------------------


def test_json_rows_carry_the_machine_interface():
    rows = run_json("list", "--source", "review", "--disease", "MM")
    need = {"ref", "study", "disease", "regimen", "agent", "partners", "phase", "setting",
            "n_enrolled", "n_evaluable"}
    assert all(need <= set(r) for r in rows)
    spd = next(r for r in rows if r["regimen"] == "SPd")
    assert spd["n_enrolled"] == 48 and spd["n_evaluable"] is None and spd["phase"] is None
    assert isinstance(spd["orr_percent"], float) and spd["partners"] == "pomalidomide;dexamethasone"


def test_jsonl_tsv_markdown_plain_table_hold_the_same_rows():
    csv_rows = run_csv("list", "--source", "review", "-d", "AML")
    out = run("list", "--source", "review", "-d", "AML", "-f", "jsonl").stdout
    jsonl = [json.loads(line) for line in out.splitlines()]
    tsv = list(csv.DictReader(io.StringIO(run("list", "--source", "review", "-d", "AML", "-f", "tsv").stdout),
                              delimiter="\t"))
    assert [r["study"] for r in jsonl] == [r["study"] for r in csv_rows] == [r["study"] for r in tsv]
    md = run("list", "--source", "review", "-d", "AML", "-f", "markdown").stdout
    assert "| ref" in md and "s-clag-ref27" in md and "CR/CRi 18/40 (45%)" in md
    plain = run("list", "--source", "review", "-d", "AML", "-f", "plain").stdout
    assert "10/25 (40%)" in plain and "|" not in plain
    table = run("list", "--source", "review", "-d", "AML", "-f", "table").stdout
    assert "s-dec-ref23" in table and "\x1b[" not in table


def test_piped_default_is_csv_and_unknown_format_is_usage_error():
    out = run("list", "--source", "review", "-d", "WM").stdout
    assert out.splitlines()[0].startswith("ref,study,trial,disease")
    r = run("list", "--source", "review", "-f", "xml", code=2)
    assert "unknown format 'xml'" in r.stderr


def test_missing_values_empty_in_csv_and_null_in_json():
    row = run_csv("list", "--source", "review", "-r", "SKd")[0]
    assert row["orr_count"] == "" and row["median_pfs"] == ""
    assert run_json("list", "--source", "review", "-r", "SKd")[0]["orr_count"] is None


# --- show -------------------------------------------------------------------------------------------


def test_show_by_ref_gives_everything():
    out = run("show", "19", "-f", "plain").stdout
    for text in ("spd-ref19", "pomalidomide-naive", "lenalidomide/pomalidomide-refractory",
                 "12.2", "4.2", "XPO1 inhibitor plus immunomodulatory drugs"):
        assert text in out


def test_show_json_nested_and_ref_with_two_reports():
    obj = run_json("show", "spd-ref19")
    assert obj["ref"] == 19 and obj["n_enrolled"] == 48
    orr = {(o["cohort"], o["measure"]): o for o in obj["outcomes"]}
    assert orr[("len-pom-refractory", "ORR")]["percent_reported"] == 31
    both = run_json("show", "31")
    assert [s["study"] for s in both["reports"]] == ["sadal-129-ref31", "sadal-interim-ref31"]
    assert both["side_by_side"][2]["sadal-129-ref31"] == 129  # a number, as every count in JSON


def test_show_safety_findings_and_csv_outcomes():
    out = run("show", "47", "-f", "plain").stdout
    assert "dose-limiting toxicity" in out and "80 mg" in out
    rows = run_csv("show", "47")
    assert [(r["measure"], r["count"], r["denominator"], r["percent_reported"]) for r in rows] == [
        ("CR_CRi", "10", "19", "53.0")]


def test_show_unknown():
    assert "no study with ref 99" in run("show", "99", code=2).stderr
    err = run("show", "svd-ref61", code=2).stderr
    assert "did you mean svd-ref16" in err


# --- compare -----------------------------------------------------------------------------------------


def test_compare_side_by_side_with_warning():
    r = run("compare", "SVd", "SPd", "-f", "plain")
    out = r.stdout
    assert "SVd · ref 16" in out and "SPd · ref 19" in out
    assert "25/40 (63%)" in out and "18*/31 (58%)" in out  # 18 derived from categories: marked
    assert "non-randomized" in out and "populations" in out
    assert "lenalidomide/pomalidomide-refractory: ORR 4/13 (31%)" in out


def test_compare_machine_output_one_row_per_study_and_warning_on_stderr():
    r = run("compare", "S-Vd", "selinexor+pomalidomide+dex", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["compared"], x["ref"], x["study"]) for x in rows] == [
        ("SVd", "16", "svd-ref16"), ("SVd", "", "boston-lancet-2020"), ("SPd", "19", "spd-ref19"),
        ("SPd", "", "stomp-spd-ash2019")]
    assert [x["comparison"] for x in rows] == ["cross-trial, not randomized"] * 4
    assert "non-randomized" in r.stderr


def test_compare_keeps_each_study_apart():
    rows = run_csv("compare", "Sd", "SRd")
    assert [(x["regimen"], x["study"]) for x in rows] == [
        ("Sd", "sd-phase1-ref12"), ("Sd", "storm-ref13"), ("Sd", "march-bmcmed-2022"),
        ("Sd", "storm-consensus-2020"), ("Sd", "storm-nejm-2019"),
        ("SRd", "srd-ndmm-ref17"), ("SRd", "srd-rrmm-ref18")]


def test_compare_needs_two_known_regimens():
    assert "at least two" in run("compare", "SVd", code=2).stderr
    err = run("compare", "SVd", "SXd", code=2).stderr
    assert "unknown regimen 'SXd'" in err and "did you mean" in err


# --- catalogues, export, audit, validate --------------------------------------------------------------


def test_regimens_catalogue():
    rows = {r["regimen"]: r for r in run_csv("regimens")}
    assert rows["SDd"]["partner_classes"] == "anti-CD38 antibody;corticosteroid"
    assert rows["SRd"]["n_studies"] == "2" and rows["SRd"]["refs"] == "17, 18"
    assert rows["S-DEC"]["partner_classes"] == "hypomethylating agent"


def test_diseases_and_agents():
    d = {r["disease"]: r for r in run_csv("diseases")}
    assert d["NHL"]["includes"] == "DLBCL;MCL;NKTCL;TCL" and d["NHL"]["n_studies"] == "12"
    assert d["AML"]["n_studies"] == "21" and d["AML"]["includes"] == "MSARC"
    a = {r["agent"]: r for r in run_csv("agents")}
    assert a["eltanexor"]["n_studies"] == "3" and a["eltanexor"]["generation"] == "second"
    assert a["selinexor"]["n_studies"] == "67"


@pytest.mark.parametrize("table,count", [("studies", 70), ("outcomes", 203), ("adverse_events", 129),
                                         ("regimens", 38), ("comparisons", 21), ("trials", 27),
                                         ("syntheses", 35), ("conflicts", 23)])
def test_export_tables(table, count):
    rows = run_json("export", table)
    assert len(rows) == count
    assert rows == json.loads(json.dumps(run_json("export", table)))


def test_export_outcome_objects():
    rows = run_json("export", "outcomes")
    need = {"ref", "study", "cohort", "measure", "count", "denominator", "percent_reported",
            "median_months", "range_low", "range_high"}
    assert all(need <= set(r) for r in rows)
    storm_pfs = next(r for r in rows if r["study"] == "storm-ref13" and r["measure"] == "PFS")
    assert storm_pfs["median_months"] == 3.7 and storm_pfs["ref"] == 13
    assert "unknown table" in run("export", "trial", code=2).stderr


def test_audit_command_lists_the_disagreements():
    rows = run_csv("audit")
    within = [(r["ref"], r["study"], r["measure"]) for r in rows if r["section"] == "within a source"]
    assert within == [("15", "skd-ref15", "MR+PR+VGPR"), ("31", "sadal-129-ref31", "ORR"),
                      ("", "sel-7plus3-ph1-ccr2020", "CR_CRi"), ("", "sel-dice-ph1", "CR"),
                      ("", "sel-dice-ph1", "ORR"), ("", "stomp-sdd-eha2019", "n"),
                      ("", "stomp-sdd-eha2019", "n"), ("", "stomp-sdd-eha2019", "n")]
    run("audit", "--strict", code=1)


def test_validate_bundled():
    r = run("validate")
    assert "valid" in r.stderr


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    (["list", "--disease", "myelomaa"], "did you mean MM"),
    (["list", "--disease", ""], "--disease needs a value"),
    (["list", "--agent", "selinexo"], "did you mean selinexor"),
    (["list", "--regimen", "SVD2"], "unknown regimen"),
    (["list", "--phase", "4"], "unknown phase"),
    (["list", "--setting", "adjuvant"], "unknown setting"),
    (["list", "--type", "animal"], "unknown study type"),
    (["list", "--sort", "size"], "unknown sort key"),
    (["list", "--disease", "x" * 5000], "too long"),
    (["list", "--disease", "ММ"], "unknown disease"),  # Cyrillic look-alike letters
])
def test_bad_values_exit_2_with_one_line(args, message):
    r = run(*args, code=2)
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_no_result_is_exit_0_header_only_and_a_note():
    r = run("list", "--source", "review", "-d", "MDS", "-f", "csv")
    assert r.stdout.strip().splitlines() == [r.stdout.splitlines()[0]]
    assert r.stdout.startswith("ref,study") and "no matching rows" in r.stderr


def test_version_and_help_examples():
    assert run("--version").stdout.strip().startswith("xpo1 ")
    for cmd in ("list", "show", "compare", "regimens", "diseases", "agents", "export", "audit",
                "validate", "response", "survival", "toxicity", "pool", "sources", "cite", "schema",
                "package"):
        assert "Example: xpo1" in run(cmd, "--help").stdout


# --- the installed program in a real process --------------------------------------------------------


def test_installed_script_from_another_folder(tmp_path):
    p = sh("list", "--disease", "MM", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 28 and p.stderr == ""


def test_module_entry_point(tmp_path):
    p = subprocess.run([sys.executable, "-m", "xpo1cli", "--version"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("xpo1 ")


def test_closed_pipe_prints_no_traceback():
    cmd = " ".join(xpo1_exe()) + " export outcomes --format jsonl | head -1"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""
    assert json.loads(p.stdout)["study"] == "sd-phase1-ref12"


def test_no_color_and_piped_table_have_no_escape_codes():
    p = sh("list", "-d", "MM", "-f", "table", env={"NO_COLOR": "1"})
    assert "\x1b[" not in p.stdout and "storm-ref13" in p.stdout


def test_shell_completion_from_data():
    env = {"_XPO1_COMPLETE": "complete_bash", "COMP_WORDS": "xpo1 list --regimen SV",
           "COMP_CWORD": "3"}
    p = sh(env=env)
    assert p.stdout.split() == ["SVd"]
    env["COMP_WORDS"], env["COMP_CWORD"] = "xpo1 list --disease ", "3"
    assert sh(env=env).stdout.split() == ["MM", "WM", "AML", "MDS", "NHL", "DLBCL", "MCL",
                                                         "MF", "TCL", "NKTCL", "AL", "MSARC"]


def test_help_and_completion_do_not_import_pandas():
    code = ("import sys; sys.argv=['xpo1','--help'];"
            "from xpo1cli.cli import app\n"
            "try:\n app(prog_name='xpo1')\nexcept SystemExit:\n pass\n"
            "assert 'pandas' not in sys.modules, 'pandas imported'\n"
            "assert 'scipy' not in sys.modules, 'scipy imported'")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ})
    assert p.returncode == 0, p.stderr


def test_data_dictionary_doc_is_current():
    from .conftest import ROOT

    doc = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert run("schema", "-f", "markdown").stdout == doc
    rows = run_csv("schema", "outcomes")
    measure = next(r for r in rows if r["column"] == "measure")
    assert "CR_or_better" in measure["allowed"] and measure["required"] == "True"
    assert "unknown table" in run("schema", "trial", code=2).stderr


def test_package_round_trip(tmp_path):
    target = tmp_path / "pkg"
    r = run("package", str(target))
    assert "wrote 18 files" in r.stderr
    assert run("--data", str(target), "validate").exit_code == 0
    for args in (("list", "-f", "csv"), ("export", "outcomes", "-f", "json"), ("audit", "-f", "csv")):
        assert run("--data", str(target), *args).stdout == run(*args).stdout
    assert "not an empty folder" in run("package", str(target), code=2).stderr


def test_show_outcome_view_reads_like_the_clinic():
    out = run("show", "16", "-f", "plain").stdout
    assert "25/40 (63%) [computed 62.5%]" in out and "median 9 mo" in out
    out = run("show", "storm-nejm-2019", "-f", "plain").stdout
    assert "median 4.1 wk (range 1–14 wk)" in out and "19–35" in out


def test_reports_side_by_side_keep_numbers_as_numbers_in_json():
    """`show` of a trial with several reports: in JSON the side-by-side counts and medians are
    numbers (null where a report gives none), never display strings; the table still marks ≠."""
    side = {row["metric"]: row for row in run_json("show", "31")["side_by_side"]}
    n = side["n"]
    assert n["sadal-129-ref31"] == 129 and n["sadal-interim-ref31"] == 32 and n[""] == "≠"
    storm = {row["metric"]: row for row in run_json("show", "STORM")["side_by_side"]}
    assert storm["n"]["storm-nejm-2019"] == 122 and storm["n"]["storm-consensus-2020"] is None
    assert all(isinstance(v, float) or v is None for k, v in storm["median PFS, mo"].items()
               if k not in ("metric", ""))


def test_short_help_option_works_before_and_after_the_command():
    assert run("-h").stdout == run("--help").stdout
    assert run("list", "-h").stdout == run("list", "--help").stdout
