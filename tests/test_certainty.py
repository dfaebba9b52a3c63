"""The brief's certainty rules, summary-of-findings rows, subgroup rows and indirect section, checked
as a systematic reviewer on a tumour board reads them: one test per rule."""

from __future__ import annotations

import pytest

from xpo1cli.brief import build_brief
from xpo1cli.brief_render_claims import claim_text
from xpo1cli.brief_rules import LEVELS, RULES
from xpo1cli.data import load
from xpo1cli.query import Filters
from xpo1cli.stats import optimal_information_size

from .conftest import DATA, bundled_brief


@pytest.fixture(scope="module")
def ds():
    return load(DATA)


@pytest.fixture(scope="module")
def aml(ds):
    return bundled_brief("AML")


@pytest.fixture(scope="module")
def mm(ds):
    return bundled_brief("MM")


def _row(b, trial, measure, subgroup=None):
    return next(f for f in b.findings if f.effect is not None and f.effect.trial == trial
                and f.effect.measure == measure and f.effect.subgroup == subgroup)


def _reasons(f, rule):
    return " ".join(m.reason for m in f.moves if m.rule == rule)


# --- A1: the rules of a randomized comparison --------------------------------------------------------


def test_optimal_information_size_is_the_two_proportion_sample_size():
    # 50% vs 30%: (1.960 + 0.842)² × 2 × 0.4 × 0.6 / 0.2² = 94.2 per arm -> 95, 190 in all
    assert optimal_information_size(0.5, 0.3) == 190
    assert optimal_information_size(0.3, 0.5) == 190
    assert optimal_information_size(0.4, 0.4) is None


def test_a_p_value_with_each_arms_own_interval_is_not_rated_down_as_a_bare_p_value(aml):
    cr = _row(aml, "HOVON-103-SEL", "CR_CRi")
    assert "a p-value only" not in _reasons(cr, "imprecision")
    assert any("each arm reports its own interval (59%, 45–72 vs 80%, 69–91)" in n for n in cr.notes)


def test_several_clear_results_of_one_trial_in_one_direction_stand_for_a_missing_interval(aml, mm):
    os18 = _row(aml, "HOVON-103-SEL", "OS_rate")
    assert "a p-value only" not in _reasons(os18, "imprecision")
    assert any("2 other results of the trial are clear in the same direction" in n for n in os18.notes)
    orr = _row(mm, "BOSTON", "ORR")  # PFS HR and neuropathy OR agree with it
    assert not [m for m in orr.moves if m.rule == "imprecision"]


def test_a_subgroups_p_value_alone_is_still_rated_down(mm):
    sub = next(f for f in mm.findings if f.subgroup and f.effect.id == "boston-prior2-3-pfs-p")
    assert "a p-value only" in _reasons(sub, "imprecision")


def test_the_trials_own_population_is_not_indirectness(aml):
    for measure in ("CR_CRi", "EFS_rate", "OS_rate"):
        f = _row(aml, "HOVON-103-SEL", measure)
        assert not [m for m in f.moves if m.rule == "indirectness"]
        assert any("population as the trial enrolled it: AML or high-risk MDS, age over 65" in n for n in f.notes)


def test_fewer_patients_than_the_optimal_information_size_is_imprecise(aml, mm):
    cr = _row(aml, "HOVON-103-SEL", "CR_CRi")
    assert "102 patients, fewer than the 152 needed" in _reasons(cr, "imprecision")
    assert cr.rating == "moderate"
    orr = _row(mm, "BOSTON", "ORR")  # 76.4% vs 62.3% needs 336; BOSTON randomized 402
    assert "optimal information size" not in _reasons(orr, "imprecision")


def test_risk_of_bias_is_said_to_be_not_assessed(aml):
    assert any(name == "risk of bias" and "Not assessed" in text for name, text in RULES)
    said = [claim_text(c) for c in aml.bottom_line if c.kind == "randomized"]
    assert said and all("risk of bias not assessed" in t for t in said)


def test_a_clear_harm_is_never_ranked_below_a_result_that_is_not_clear(aml):
    ranked = [c for c in aml.bottom_line if c.kind == "randomized"]
    assert [c.trial.trial for c in ranked] == ["HOVON-103-SEL", "SOPRA"]
    clear = [any(e.clear for e in c.effects) for c in ranked]
    assert clear == sorted(clear, reverse=True)
    for a, b in zip(ranked, ranked[1:], strict=False):
        if any(e.clear for e in a.effects) == any(e.clear for e in b.effects):
            assert LEVELS.index(a.certainty) >= LEVELS.index(b.certainty)


# --- A2/A4: no pool in the summary of findings that mixes what should not be mixed --------------------


def _single(b, regimen, measure):
    return [f for f in b.findings if f.effect is None and f.regimen == regimen and f.measure == measure]


def test_a_pool_mixing_diseases_becomes_each_trials_own_row(mm):
    rows = {f.trials[0]: f for f in _single(mm, "Sd", "ORR")}
    assert all(f.kind != "pooled proportion" for f in rows.values())
    storm, march = rows["STORM"], rows["MARCH"]
    assert (round(storm.estimate, 1), round(storm.ci_low, 1), round(storm.ci_high, 1), storm.patients) == \
        (26.2, 18.7, 35.0, 122)
    assert (march.estimate, march.ci_low, march.ci_high, march.patients) == (29.3, 19.7, 40.4, 82)
    assert march.sources == ["M1"] and storm.sources == ["S2"]
    assert all("not pooled: the pool mixes diseases" in " ".join(f.notes) for f in rows.values())
    assert len({f.id for f in mm.findings}) == len(mm.findings)


def test_a_pool_mixing_settings_becomes_each_trials_own_row(mm):
    rows = _single(mm, "SRd", "ORR")
    assert len(rows) == 2 and all(f.kind == "proportion" and f.pi_low is None for f in rows)


def test_no_prediction_interval_for_a_pool_of_two(ds):
    for disease in ("MM", "AML"):
        b = bundled_brief(disease)
        pools = [g.pooled for g in b.response if g.pooled is not None]
        assert pools and all(p.pi_low is None and p.pi_high is None for p in pools if p.k == 2)


def test_a_pooled_row_cites_only_the_cohorts_in_its_pool(ds):
    for disease in ds.diseases["disease"]:
        b = bundled_brief(disease)
        for f in b.findings:
            if f.kind == "pooled proportion":
                g = next(g for g in b.response if g.regimen == f.regimen and g.measure == f.measure)
                assert set(f.sources) <= {r.source for r in g.rates if r.pooled and r.events is not None}


def test_single_arm_rows_say_a_randomized_trial_of_the_same_partner_class_exists(aml, mm):
    s73 = _single(aml, "S-7+3", "CR_CRi")[0]
    assert any("same partner class (chemotherapy)" in x and "HOVON-103-SEL" in x and "favours IC on CR/CRi" in x
               for x in s73.related)
    mono = _single(aml, "S", "ORR")[0]
    assert any("same regimen" in x and "SOPRA" in x and "no clear difference on OS (point estimate favours PC)" in x
               for x in mono.related)
    assert not any(f.related for f in _single(mm, "Sd", "ORR"))  # dexamethasone alone is not SVd's partner class


# --- A5: subgroups: the direction their source states, one row each -----------------------------------


def test_a_subgroup_p_value_takes_the_direction_its_source_states(ds, mm):
    from xpo1cli.brief_render_cells import direction_text
    from xpo1cli.findings import EXPERIMENTAL, STATED, between_arms

    stated = {c.id for c in ds.comparisons.itertuples() if isinstance(c.stated_favours, str)}
    assert stated and all(ds.comparisons.set_index("id").at[i, "source"] == "M7" for i in stated)
    effects = {e.id: e for e in between_arms(ds, "BOSTON", "boston-lancet-2020")}
    two3 = effects["boston-prior2-3-pfs-p"]  # no arm figures anywhere: the words of M7 give the direction
    assert (two3.direction, two3.basis, two3.clear) == (EXPERIMENTAL, STATED, True)
    assert direction_text(two3) == "favours SVd (experimental, as stated; no estimate)"
    trend = effects["boston-pi-treated-pfs-trend"]  # 'a strong trend' names no arm: not filled
    assert trend.direction == "not reported"


def test_one_row_per_subgroup_with_every_source(mm):
    from xpo1cli.brief_render_layout import sof_groups, sof_row

    subs = [f for f in mm.findings if f.subgroup]
    keys = [(f.effect.subgroup, f.measure) for f in subs]
    assert len(keys) == len(set(keys))
    naive = next(f for f in subs if f.effect.subgroup == "proteasome-inhibitor-naive" and f.measure == "PFS")
    assert {naive.effect.source, *(x.source for x in naive.also)} == {"M7", "B3"}
    assert set(naive.sources) >= {"M7", "B3"}
    row = sof_row(naive)
    assert "p = 0.0003 [M7]" in row[1] and "HR 0.29 (no CI reported) [B3]" in row[1]
    assert "direction not reported" not in row[5]
    table = next(rows for caption, rows in sof_groups(mm) if caption.startswith("Subgroups of BOSTON"))
    assert len(table) == len(subs)


def test_subgroups_are_not_repeated_in_the_between_arm_table(mm):
    from xpo1cli.brief_render_layout import layout

    sec = layout(mm)[1]
    stats = next(t for t in sec.tables if t.caption == "BOSTON: between arms, as reported")
    assert not [r for r in stats.rows if "(" in r[0]]  # 'SVd vs Vd (1 prior line)' is a subgroup row
    assert stats.notes and "one row per subgroup in the summary of findings" in stats.notes[0]


# --- A15 and lesser: intervals carry their level; the source's own words ------------------------------


def test_an_interval_carries_the_level_its_source_states(mm, aml):
    from xpo1cli.brief_render import brief_json

    said = claim_text(next(c for c in mm.bottom_line if c.kind == "randomized"))
    assert "HR 0.70 (95% CI 0.53–0.93), p = 0.0075" in said
    sopra = claim_text(next(c for c in aml.bottom_line if c.kind == "randomized" and c.trial.trial == "SOPRA"))
    assert "HR 1.18 (CI 0.79–1.75; level not stated)" in sopra  # P1 prints no level
    pfs = next(f for f in brief_json(mm)["findings"] if f["id"] == "boston-pfs-hr")
    assert pfs["interval"] == {"low": 0.53, "high": 0.93, "level": 0.95, "as_reported": True}
    os_hr = next(f for f in brief_json(aml)["findings"] if f["id"] == "sopra-os-hr")
    assert os_hr["interval"]["level"] is None


def test_a_limit_the_source_calls_not_evaluable_says_so(mm):
    from xpo1cli.brief_render_cells import spread_text

    svd = next(m for t in mm.randomized for m in t.medians if m.cohort == "svd" and m.measure == "PFS")
    assert spread_text(svd) == "95% CI lower limit 11.73 months, upper not evaluable"


def test_a_p_value_keeps_the_name_of_its_test(aml):
    efs = _row(aml, "HOVON-103-SEL", "EFS_rate")
    from xpo1cli.brief_render_cells import statistic_text

    assert statistic_text(efs.effect) == "Cox p = 0.012"
    assert "Cox p = 0.012" in claim_text(next(c for c in aml.bottom_line if c.kind == "randomized"))


# --- A6/A7: indirect comparisons in a section of their own, with direction and certainty ---------------


def test_indirect_comparisons_have_their_own_section_with_direction_and_certainty(mm):
    from xpo1cli.brief_render_cells import INDIRECT_TITLE, indirect_direction
    from xpo1cli.brief_render_layout import layout

    sections = layout(mm)
    randomized = sections[1]
    assert not any(t.kind == "indirect" for t in randomized.tables)
    own = next(s for s in sections if s.title == INDIRECT_TITLE)
    rows = {r.comparison: r for r in mm.indirect}
    kd = rows["SVd vs Kd, PFS"]
    assert indirect_direction(kd) == "point estimate favours Kd; the interval includes no difference"
    assert kd.certainty == "very low"
    assert any(r.startswith("imprecision") for r in kd.reasons)
    assert any("ITT populations used" in r and "NICE TA974" in r for r in kd.reasons)
    assert indirect_direction(rows["SVd vs PanoVd, PFS"]).startswith("point estimate favours PanoVd")
    assert any(t.kind == "indirect" for t in own.tables)


def test_published_comparative_syntheses_show_their_direction_and_kind(mm):
    from xpo1cli.brief_render_cells import indirect_direction, indirect_estimate

    rows = {r.comparison: r for r in mm.indirect if r.study is not None}
    maic = rows["belantamab mafodotin vs Sd, OS (matched populations)"]
    assert indirect_estimate(maic) == "HR 0.53 (CI 0.34–0.83; level not stated)"
    # an unanchored matched comparison (no common comparator arm) starts low and goes down for no anchor
    assert indirect_direction(maic) == "favours belantamab mafodotin" and maic.certainty == "very low"
    assert any(x.startswith("no anchor") for x in maic.reasons)
    assert "matching-adjusted indirect comparison" in maic.method and "systematic review" not in maic.method
    nma = next(r for r in rows.values() if r.study == "xvd-network-meta-analysis")
    assert "DVd favourable over XVd" in indirect_direction(nma) and "network meta-analysis" in nma.method
    shown = {r.study for r in mm.indirect if r.study}
    assert not [g for g in mm.gaps if g.kind == "population" and g.detail.split(":")[0] in shown]


def test_a_brief_without_indirect_comparisons_says_so(aml):
    from xpo1cli.brief_render_cells import INDIRECT_TITLE
    from xpo1cli.brief_render_layout import layout

    own = next(s for s in layout(aml) if s.title == INDIRECT_TITLE)
    assert own.paragraphs == ["No indirect comparison in this selection."] and not own.tables


def test_the_json_brief_carries_the_indirect_comparisons():
    from xpo1cli.brief_render import brief_json
    from xpo1cli.data import load as _load

    b = build_brief(_load(DATA), Filters(disease="MM"))
    rows = {r["comparison"]: r for r in brief_json(b)["indirect"]}
    assert rows["SVd vs PanoVd, PFS"]["certainty"] == "very low"
    assert rows["belantamab mafodotin vs Sd, OS (matched populations)"]["direction"] == "favours belantamab mafodotin"
    assert rows["belantamab mafodotin vs Sd, OS (matched populations)"]["certainty"] == "very low"


def test_duration_of_response_counts_the_responders_not_the_cohorts(mm):
    dor = next(f for f in mm.findings if f.kind == "median" and f.measure == "DOR")
    each = {m.study: m.participants_text for m in dor.per_trial}
    assert each["sd-phase1-ref12"] == "responders: 8*"  # derived from the printed 10% of 84
    assert each["march-bmcmed-2022"] == "responders: not stated"  # no denominator printed: nothing derived
    assert each["storm-nejm-2019"] == "responders: 32"  # the cohort is the responders themselves
    assert dor.patients is None  # never the cohorts' sizes (84 + 82 + 32) summed
    assert all(m.responders is None or m.responders < m.n for m in mm.survival if m.responder_only
               and "respon" not in m.label)


def test_section_3_prints_no_pooled_figure_the_brief_refuses(mm):
    from xpo1cli.bottom_line import headline_pool
    from xpo1cli.brief_render_layout import layout

    refused = [g for g in mm.response if g.pooled is not None and headline_pool(g)]
    assert refused  # Sd and SRd: the pools mix diseases or designs
    rows = [r for s in layout(mm) for t in s.tables if t.kind == "response" for r in t.rows]
    for g in refused:
        mine = [r for r in rows if r[0] == g.regimen and "pooled" in r[1]]
        assert mine and all(r[1] == "XPO1-inhibitor cohorts, not pooled" for r in mine)
        assert all(f"{g.pooled.estimate:.1f}" not in " ".join(r) for r in mine)
        assert all(r[-1].startswith("not pooled: ") for r in mine)


def test_the_mm_bottom_line_says_the_comparator_sections_headline(mm):
    claims = [c for c in mm.bottom_line if c.kind == "comparators"]
    assert len(claims) == 1
    text = claim_text(claims[0])
    assert "SVd vs Kd, PFS: HR 1.32 (0.94–1.86, 95%), no clear difference (anchored; certainty very low)" in text
    assert "DVd favourable over XVd" in text
    assert "favours belantamab mafodotin" in text and "certainty very low" in text
    assert "certainty low)" not in text  # every indirect estimate here is very low


def test_a_brief_without_indirect_rows_has_no_comparator_sentence(aml):
    assert not [c for c in aml.bottom_line if c.kind == "comparators"]
