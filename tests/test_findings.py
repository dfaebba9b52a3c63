"""Findings as data: every between-arm result with its arms' figures and its direction, read as a
haematologist checks a brief."""

from __future__ import annotations

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render import markdown
from xpo1cli.brief_render_cells import direction_text
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.data import load
from xpo1cli.findings import CONTROL, EXPERIMENTAL, NOT_REPORTED, between_arms, ratio_favours_first
from xpo1cli.query import Filters

from .conftest import DATA, bundled_brief, first_fast, run


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


def _effect(ds, study, measure, subgroup=None):
    trial = ds.studies.set_index("study").at[study, "trial"]
    return next(e for e in between_arms(ds, trial, study) if e.measure == measure and e.subgroup == subgroup)


def test_a_p_value_alone_takes_its_direction_from_the_arms_figures(ds):
    efs = _effect(ds, "hovon103-sel", "EFS_rate")
    assert (efs.experimental.regimen, efs.experimental.value, efs.control.regimen, efs.control.value) == \
        ("S-IC", 26.0, "IC", 45.0)
    assert (efs.timepoint, efs.direction, efs.basis, efs.clear, efs.harm_signal) == \
        ("18 months", CONTROL, "arm figures", True, True)
    orr = _effect(ds, "boston-lancet-2020", "ORR")
    assert (orr.experimental.value, orr.control.value, orr.direction, orr.p_text) == \
        (76.4, 62.3, EXPERIMENTAL, "0.0012")


def test_a_p_value_without_arm_figures_has_no_direction(ds):
    # M7's 'strong trend' in proteasome-inhibitor-treated patients names no arm and no figure
    e = _effect(ds, "boston-lancet-2020", "PFS", subgroup="proteasome-inhibitor-treated")
    assert (e.experimental.value, e.direction, e.basis) == (None, NOT_REPORTED, None)
    assert direction_text(e) == "direction not reported"


def test_a_ratio_takes_its_direction_from_the_estimate_and_the_outcome():
    vocabulary = {"ORR", "PFS", "OS"}
    assert ratio_favours_first("HR", 0.70, "PFS", vocabulary) is True  # fewer progressions
    assert ratio_favours_first("HR", 1.18, "OS", vocabulary) is False
    assert ratio_favours_first("OR", 2.0, "ORR", vocabulary) is True  # more responses
    assert ratio_favours_first("OR", 0.50, "peripheral neuropathy grade ≥2", vocabulary) is True  # fewer events
    assert ratio_favours_first("HR", 1, "OS", vocabulary) is None


def test_an_interval_including_no_effect_is_not_a_clear_difference(ds):
    sopra = _effect(ds, "sopra-2021", "OS")
    assert (sopra.direction, sopra.clear, sopra.experimental.value, sopra.control.value) == (CONTROL, False, 3.2, 5.6)
    assert direction_text(sopra) == \
        "no clear difference; point estimate favours PC (control); the interval includes no difference"
    assert sopra.harm_signal is False  # a direction without a clear difference is no harm signal


def test_a_result_that_is_not_clear_is_no_harm_signal_in_the_bottom_line(ds):
    b = bundled_brief("AML")
    sopra = next(claim_text(c) for c in b.bottom_line if c.kind == "randomized" and c.trial.trial == "SOPRA")
    assert "Harm signal" not in sopra and "did worse" not in sopra
    assert sopra.startswith("No clear difference between arms on OS.")
    assert "point estimate favours PC (control); the interval includes no difference" in sopra


def test_an_adverse_event_compared_between_arms_shows_each_arms_rate(ds):
    pn = _effect(ds, "boston-lancet-2020", "peripheral neuropathy grade ≥2")
    assert (pn.experimental.value, pn.experimental.events, pn.control.value, pn.control.events) == (21.0, 41, 34.0, 70)
    assert pn.direction == EXPERIMENTAL and pn.basis == "estimate"


def test_aml_bottom_line_says_the_harm_signal_with_the_arms_figures(ds):
    b = bundled_brief("AML")
    text = " ".join(claim_text(c) for c in b.bottom_line)
    assert "Harm signal: the XPO1-inhibitor arm did worse" in text
    assert "EFS rate at 18 months 26% with S-IC vs 45% with IC (Cox p = 0.012; favours IC" in text
    assert "OS rate at 18 months 33% with S-IC vs 58% with IC (p = 0.009; favours IC" in text
    assert "more deaths from AML and from infections in the selinexor arm" in text


def test_every_between_arm_result_in_every_section_says_whom_it_favours(ds):
    md = markdown(bundled_brief("MM"))
    assert "ORR 76.4% with SVd vs 62.3% with Vd (p = 0.0012; favours SVd" in md
    table = md.split("**BOSTON: between arms, as reported**")[1].split("**")[0]
    rows = [r for r in table.splitlines() if r.startswith("| SVd vs Vd")]
    assert rows and all("favours" in r or "direction not reported" in r for r in rows)


def test_the_cli_markdown_brief_says_favours():
    out = run("brief", "--disease", "AML", "--format", "markdown").stdout
    assert "favours IC" in out and "26% with S-IC vs 45% with IC" in out


def test_each_disease_reads_its_own_critical_outcomes_from_the_data(ds):
    from xpo1cli.findings import critical_outcomes

    assert [c.measure for c in critical_outcomes(ds, "MF")][:2] == ["SVR35", "TSS50"]
    assert [c.measure for c in critical_outcomes(ds, "MM")][:4] == ["PFS", "OS", "ORR", "≥VGPR"]
    aml = [c.measure for c in critical_outcomes(ds, "AML")]
    assert {"CR_CRi", "OS", "OS_rate", "EFS_rate"} <= set(aml)
    # a lymphoma without rows of its own reads the rows of its parent (NHL)
    assert [c.measure for c in critical_outcomes(ds, "DLBCL")] == ["ORR", "CR", "DOR", "PFS", "OS"]


def test_mf_brief_shows_svr35_at_each_time_point_and_tss50(ds):
    b = bundled_brief("MF")
    svr = [(r.timepoint, r.percent_reported) for g in b.response if g.measure == "SVR35" for r in g.rates]
    assert svr == [("week 12", 71.0), ("week 24", 79.0)]
    md = markdown(b)
    assert "at week 12" in md and "at week 24" in md and "TSS50" in md
    assert "No clinical response figures" not in md


def test_a_users_table_of_critical_outcomes_changes_the_brief(tmp_path):
    import csv

    folder = tmp_path / "mine"
    run("package", str(folder))
    path = folder / "critical_outcomes.csv"
    rows = [r for r in csv.DictReader(path.open(encoding="utf-8")) if not (r["disease"] == "MF"
                                                                          and r["measure"] == "SVR35")]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    b = build_brief(load(folder), Filters(disease="MF"))
    assert [g.measure for g in b.response] == ["TSS50_sustained"]


def test_a_dataset_without_critical_outcomes_reads_every_outcome_its_studies_report(tmp_path):
    import json

    folder = tmp_path / "mine"
    run("package", str(folder))
    (folder / "critical_outcomes.csv").unlink()
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] != "critical_outcomes"]
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    b = build_brief(load(folder), Filters(disease="MF"))
    assert [g.measure for g in b.response] == ["SVR35", "TSS50_sustained"]
    assert "FU" not in b.rate_measures and "ORR" in b.rate_measures


# --- the bottom line never overstates ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mm_claims(ds):
    b = bundled_brief("MM")
    return b, {c.kind: c for c in b.bottom_line}, [claim_text(c) for c in b.bottom_line]


def test_trials_without_results_are_listed_apart_never_as_evidence(mm_claims):
    b, kinds, text = mm_claims
    assert kinds["overview"].trials["with results"] == ["BOSTON"]
    assert kinds["overview"].trials["planned or ongoing"] == ["XPORT-MM-031"]
    evidence = [c for c in b.bottom_line if c.kind in ("randomized", "randomized without statistic")]
    assert all(c.trial.trial != "XPORT-MM-031" for c in evidence)
    planned = {p.trial: p.status for p in kinds["planned"].planned}
    assert planned["XPORT-MM-031"] is None and planned["SCOPE"] == "active, not recruiting"
    assert "BENCH (phase 3, SVd; myeloma from first relapse; selinexor + bortezomib + low-dose dexamethasone; "\
           "no status in our sources)" in text[-1]


def test_an_early_stop_for_futility_is_said_plainly(mm_claims):
    _, kinds, _ = mm_claims
    sealand = kinds["stopped early"]
    assert sealand.trial.trial == "SEALAND" and "futility" in sealand.reported
    assert "stopped early" in claim_text(sealand)


def test_a_pool_mixing_diseases_is_never_headlined_the_studies_are_shown(mm_claims):
    b, _, _ = mm_claims
    sd = next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "ORR")
    assert sd.regimen == "Sd" and sd.pooled is None and "mixes diseases (MM, WM" in sd.unpooled
    said = claim_text(sd)
    assert "8*/84" in said and "32/122 (26.2%)" in said and "29.3% (no count printed; 82 in the cohort)" in said
    assert "16.8" not in said  # the pooled figure of the mixed pool


def test_randomized_results_lead_highest_certainty_first(ds):
    b = bundled_brief("AML")
    ranked = [c.certainty for c in b.bottom_line if c.kind == "randomized"]
    from xpo1cli.brief_rules import LEVELS

    assert ranked == sorted(ranked, key=LEVELS.index, reverse=True) and len(ranked) == 2
    assert b.bottom_line[0].kind == "overview" and b.bottom_line[1].kind == "randomized"


# --- the summary of findings: certainty rules, one test each -----------------------------------------


def test_the_source_kind_decides_the_reporting_rule():
    from xpo1cli.brief_findings import low_reporting_kind

    assert low_reporting_kind("peer-reviewed article abstract (Journal of Hematology & Oncology 1/2018)") is None
    assert low_reporting_kind("journal article abstract") is None
    assert low_reporting_kind("conference abstract (ASH 2025)") == "a conference abstract or report"
    assert low_reporting_kind("news report of the Lancet paper") == "a news report"
    assert low_reporting_kind("company press release, 2017-03-02") == "a press release"


def test_an_interval_including_no_effect_is_imprecise(ds):
    b = bundled_brief("AML")
    sopra = next(f for f in b.findings if f.effect is not None and f.effect.measure == "OS")
    assert any(m.rule == "imprecision" and "includes no effect" in m.reason for m in sopra.moves)


def test_a_pool_of_two_is_imprecise(tmp_path):
    """The bundled SRd pool mixes settings (and is shown trial by trial); in a user's copy where both
    SRd studies are of relapsed/refractory myeloma, the pool of two is a row, rated down for it."""
    import csv

    folder = tmp_path / "mine"
    run("package", str(folder))
    path = folder / "studies.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for r in rows:
        if r["study"] == "srd-ndmm-ref17":
            r["setting"] = "relapsed/refractory"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    b = build_brief(load(folder), Filters(disease="MM"))
    srd = next(f for f in b.findings if f.regimen == "SRd" and f.measure == "ORR")
    assert srd.kind == "pooled proportion" and any("a pool of two" in m.reason for m in srd.moves)
    assert srd.pi_low is None and srd.pi_high is None  # no prediction interval from two cohorts


def test_subgroups_are_rated_down_and_never_above_the_overall_result(ds):
    from xpo1cli.brief_rules import LEVELS

    b = bundled_brief("MM")
    overall = next(f for f in b.findings if f.effect is not None and not f.subgroup and f.measure == "PFS")
    subs = [f for f in b.findings if f.subgroup and f.measure == "PFS" and f.estimable]
    assert subs and all(any(m.rule == "subgroup" for m in f.moves) for f in subs)
    assert all(LEVELS.index(f.rating) <= LEVELS.index(overall.rating) for f in subs)


def test_a_row_with_neither_estimate_nor_p_value_is_not_estimable(ds):
    b = bundled_brief("MM")
    trend = next(f for f in b.findings if f.effect is not None and f.effect.id == "boston-pi-treated-pfs-trend")
    assert trend.rating == "not estimable" and trend.moves == []


def test_trials_are_counted_once_and_each_trials_median_is_shown(ds):
    b = bundled_brief("MM")
    os_sd = next(f for f in b.findings if f.regimen == "Sd" and f.measure == "OS")
    assert sorted(os_sd.trials) == ["MARCH", "STORM"] and os_sd.studies == 2  # STORM's two reports are one trial
    assert sorted(m.median for m in os_sd.per_trial) == [8.6, 13.2]


# --- the JSON brief: the tests read it as a clinician checks a brief --------------------------------

ALL = [r for r in load(DATA).diseases["disease"]]


def _row_exists(ds, row: dict) -> bool:
    """A bottom-line row resolves to a dataset row (the keys it names, missing keys as empty)."""
    table = getattr(ds, row["table"])
    keys = {k: v for k, v in row.items() if k != "table"}
    if row["table"] == "adverse_events" and "trial" in keys:  # a risk difference: the trial's reports
        studies = set(ds.studies.loc[ds.studies["trial"] == keys.pop("trial"), "study"])
        table = table[table["study"].isin(studies)]
    if row["table"] == "outcomes" and row.get("timepoint") is None:
        table = table[table["timepoint"].isna()]
        keys.pop("timepoint", None)
    for k, v in keys.items():
        if v is not None:
            table = table[table[k] == v]
    return len(table) > 0


def _numbers(text: str) -> set[str]:
    import re

    return set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", text))


@pytest.mark.parametrize("disease", first_fast(ALL))
def test_every_bottom_line_sentence_traces_to_its_rows(ds, disease):
    import json

    from xpo1cli.bottom_line import ABSENCE
    from xpo1cli.brief_render import brief_json

    data = json.loads(json.dumps(brief_json(bundled_brief(disease))))
    ids = {f["id"] for f in data["findings"]}
    for claim in data["bottom_line"]:
        assert claim["text"], claim
        if claim["kind"] not in ABSENCE:
            assert claim["rows"], claim["kind"]
        for row in claim["rows"]:
            assert _row_exists(ds, row), row
        assert set(claim["findings"]) <= ids
        for source in claim["sources"]:
            assert source in claim["text"]
    for f in data["findings"]:
        if f["comparison"] is not None:  # every between-arm finding has a direction and its arms
            assert f["direction"] in ("experimental", "control", "no difference", "not reported")
            assert [a["role"] for a in f["arms"]] == ["experimental", "control"]
            assert ("favours" in f["direction_text"]) or f["direction_text"] == "direction not reported"


def test_json_brief_carries_the_harm_signal_with_arm_values():
    import json

    from xpo1cli.brief_render import brief_json

    data = json.loads(json.dumps(brief_json(bundled_brief("AML")), ensure_ascii=False))  # as the command writes it
    efs = next(f for f in data["findings"] if f["id"] == "hovon-efs18-p")
    assert (efs["direction"], efs["harm_signal"], efs["timepoint"], efs["p_text"]) == \
        ("control", True, "18 months", "0.012")
    assert [(a["regimen"], a["value"]) for a in efs["arms"]] == [("S-IC", 26.0), ("IC", 45.0)]
    hovon = next(c for c in data["bottom_line"] if "hovon-efs18-p" in c["findings"])
    assert "Harm signal" in hovon["text"] and {"table": "comparisons", "id": "hovon-efs18-p"} in hovon["rows"]
    sopra = next(f for f in data["findings"] if f["id"] == "sopra-os-hr")  # not clear: a direction, no harm signal
    assert (sopra["direction"], sopra["clear"], sopra["harm_signal"]) == ("control", False, False)
    assert sopra["direction_text"].startswith("no clear difference; point estimate favours PC")


def test_json_brief_of_a_users_dataset(tmp_path):
    import json

    folder = tmp_path / "mine"
    run("package", str(folder))
    data = json.loads(run("--data", str(folder), "brief", "-d", "MF", "-f", "json").stdout)
    assert data["schema"] == "xpo1-brief/1"
    single = [c for c in data["bottom_line"] if c["kind"] == "single-arm"]
    assert single and single[0]["findings"] == ["S-RUX:SVR35@week 12", "S-RUX:SVR35@week 24"]
    assert [r["timepoint"] for r in single[0]["rows"]] == ["week 12", "week 24"]


def test_where_knapp_hartung_is_advised_the_pooled_interval_is_its(ds):
    b = bundled_brief("AML")
    s73 = next(g for g in b.response if g.regimen == "S-7+3" and g.pooled is not None)
    assert s73.pooled.k == 2 and s73.pooled.test == "knha"
    assert not any("Knapp–Hartung (t with k-1 df) intervals are advised" in c for c in s73.pooled.cautions)
