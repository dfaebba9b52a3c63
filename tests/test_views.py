"""The response, survival and toxicity views, checked against the dataset's figures."""

from __future__ import annotations

import pytest

from .conftest import run, run_csv, run_json


def by_cohort(rows):
    return {(r["study"], r["cohort"]): r for r in rows}


# --- response ----------------------------------------------------------------------------------


def test_response_categories_counts_and_not_reported():
    rows = by_cohort(run_json("response", "--source", "review", "-d", "MM"))
    svd = rows[("svd-ref16", "evaluable")]
    assert (svd["cr_n"], svd["vgpr_n"], svd["pr_n"], svd["orr_n"], svd["orr_pct"]) == (3, 9, 13, 25, 63.0)
    assert svd["scr_n"] is None and svd["mr_n"] is None  # not reported stays missing, never 0
    assert (svd["ge_vgpr_n"], svd["ge_vgpr_pct"], svd["ge_cr_n"]) == (12, 30.0, 3)
    dara = rows[("sdd-ref20", "dara-naive")]
    assert [dara[k] for k in ("vgpr_n", "pr_n", "mr_n", "sd_n", "pd_n")] == [5, 9, 2, 2, 1]


def test_response_exact_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    rows = by_cohort(run_json("response", "--source", "review", "-m", "ORR"))
    for (study, _cohort), r in rows.items():
        if r["orr_n"] is None:
            continue
        lo, hi = proportion_confint(r["orr_n"], r["denominator"], alpha=0.05, method="beta")
        assert r["orr_ci_low"] == pytest.approx(round(100 * lo, 1), abs=1e-9), study
        assert r["orr_ci_high"] == pytest.approx(round(100 * hi, 1), abs=1e-9), study
    svd = rows[("svd-ref16", "evaluable")]
    assert (svd["orr_ci_low"], svd["orr_ci_high"]) == (45.8, 77.3)


def test_response_wilson_and_level():
    from statsmodels.stats.proportion import proportion_confint

    r = by_cohort(run_json("response", "--source", "review", "-m", "ORR", "--ci", "wilson", "--level", "0.9"))
    storm = r[("storm-ref13", "all")]
    lo, hi = proportion_confint(32, 122, alpha=0.10, method="wilson")
    assert (storm["orr_ci_low"], storm["orr_ci_high"]) == (round(100 * lo, 1), round(100 * hi, 1))
    assert "unknown interval method" in run("response", "--source", "review", "--ci", "bayes", code=2).stderr
    assert "confidence level" in run("response", "--source", "review", "--level", "95", code=2).stderr


def test_response_aml_depth_and_measure_filter():
    rows = by_cohort(run_json("response", "--source", "review", "-d", "AML"))
    ref25 = rows[("s-hidac-mito-ref25", "all")]  # CR + CRi = 10 + 3, the review prints no CR/CRi
    assert (ref25["cr_cri_n"], ref25["cr_cri_pct"], ref25["cr_cri_basis"]) == (13, 65.0, "sum of categories")
    assert rows[("s-aml-ref22", "evaluable")]["cr_cri_n"] == 7
    assert rows[("s-7plus3-ref47", "evaluable")]["cr_cri_pct"] == 53.0
    assert rows[("s-clag-ref27", "all")]["cr_cri_n"] == 18
    only = run_json("response", "--source", "review", "-m", "CR_CRi")
    assert {r["study"] for r in only} == {"s-7plus3-ref47", "s-clag-ref27", "s-hidac-mito-ref25",
                                          "s-aml-ref22"}
    assert all(k.startswith(("cr_cri", "ref", "study", "cohort", "disease", "regimen", "arm", "agent", "n",
                             "denominator", "audit", "source")) for k in only[0])
    assert "unknown response measure" in run("response", "--source", "review", "-m", "HR", code=2).stderr


def test_response_marks_audited_cohorts_and_not_reported_in_table():
    out = run("response", "--source", "review", "-r", "SKd", "-f", "plain").stdout
    assert "audit" in out
    out = run("response", "--source", "review", "-r", "SVd", "-f", "plain").stdout
    assert "25 (63%) [45.8–77.3]" in out and "NR" in out


# --- survival ------------------------------------------------------------------------------------


def test_survival_rows_and_responder_split():
    rows = run_csv("survival", "--source", "review", "-d", "AML", "-m", "OS")
    got = {(r["ref"], r["cohort"]): r["median"] for r in rows}
    assert {r["unit"] for r in rows} == {"months"}
    assert got == {("22", "non-responders"): "2.7", ("22", "responders"): "9.7",
                   ("23", "non-responders"): "5.9", ("23", "responders"): "12.9",
                   ("27", "all"): "7.8"}


def test_survival_ranges_and_sort():
    rows = run_json("survival", "--source", "review", "-r", "Sd")
    dor = next(r for r in rows if r["measure"] == "DOR")
    assert (dor["median"], dor["unit"], dor["range_low"], dor["range_high"]) == (5.0, "months", 2.0, 11.0)
    med = [r["median"] for r in run_json("survival", "--source", "review", "-m", "PFS", "--sort", "median")]
    assert med == sorted(med, reverse=True) and med[0] == 12.2
    assert "unknown survival measure" in run("survival", "--source", "review", "-m", "EFS", code=2).stderr


def test_survival_chart_draws_bars():
    out = run("survival", "--source", "review", "-d", "AML", "-m", "PFS", "--chart").stdout
    lines = [line for line in out.splitlines() if "mo" in line and "█" in line]
    assert len(lines) == 5
    longest = max(lines, key=lambda line: line.count("█"))
    assert "11.8 mo" in longest and "responders" in longest
    assert "--chart draws" in run("survival", "--source", "review", "--chart", "-f", "csv", code=2).stderr


# --- toxicity ------------------------------------------------------------------------------------


def test_toxicity_profile_by_category_without_invented_rates():
    rows = run_json("toxicity", "--source", "review", "--kind", "adverse_event")
    cats = {r["category"] for r in rows}
    assert cats == {"gastrointestinal", "haematological", "neurological and constitutional",
                    "infection", "hepatic", "metabolic"}
    assert all(r["count"] is None and r["percent_reported"] is None for r in rows)
    out = run("toxicity", "--source", "review", "-c", "haem", "-f", "plain").stdout
    assert "thrombocytopenia" in out and "not quantified" in out and "nausea" not in out


def test_toxicity_mitigations_doses_and_cns_contrast():
    rows = run_json("toxicity", "--source", "review")
    mit = {r["term"] for r in rows if r["kind"] == "mitigation"}
    assert mit == {"megestrol acetate", "ondansetron", "dose reduction or discontinuation"}
    doses = {(r["ref"], r["term"]) for r in rows if r["kind"] == "dose_finding"}
    assert (47, "safe combination dose") in doses and (30, "recommended dose") in doses
    eltanexor = run_json("toxicity", "--source", "review", "--agent", "KPT-8602", "--kind", "cns")
    assert [r["agent"] for r in eltanexor] == ["eltanexor", "eltanexor"]
    assert all("lower brain penetration" in r["statement"] for r in eltanexor)


def test_toxicity_study_filters_keep_class_rows():
    rows = run_json("toxicity", "--source", "review", "-d", "AML")
    assert {r["ref"] for r in rows if r["scope"] == "study"} == {47}
    assert any(r["scope"] == "class" for r in rows)
    assert "unknown category" in run("toxicity", "--source", "review", "-c", "dermatological", code=2).stderr
