"""AML and MDS briefs as a clinician reads them: a trial that mixes the brief's disease with another
without counting it is indirect evidence; a setting is named in words; a figure in a stated conflict
says so where it is shown."""

from __future__ import annotations

from .conftest import bundled_brief


def _moves(f, rule: str) -> list[str]:
    return [m.reason for m in f.moves if m.rule == rule]


def test_a_trial_mixing_the_briefs_disease_with_another_without_counting_it_is_rated_down_for_indirectness():
    """HOVON-103 enrolled AML or high-risk MDS and no source says how many had MDS: in the MDS brief its
    comparisons are rated down one (low, not moderate) and say why; in the AML brief (its main
    population, listed first) they are not."""
    mds = [f for f in bundled_brief("MDS").findings if f.effect is not None and "HOVON-103-SEL" in f.trials]
    assert mds and all(f.rating == "low" for f in mds), [(f.outcome, f.rating) for f in mds]
    assert all(any("MDS share not reported" in r and "AML or high-risk MDS" in r for r in _moves(f, "indirectness"))
               for f in mds)
    aml = [f for f in bundled_brief("AML").findings if f.effect is not None and "HOVON-103-SEL" in f.trials]
    assert aml and all(not _moves(f, "indirectness") and f.rating == "moderate" for f in aml)


def test_a_mixed_setting_is_named_in_words_and_never_beside_one_of_its_parts_as_a_list():
    b = bundled_brief("AML")
    reasons = {r for f in b.findings for r in _moves(f, "indirectness")}
    assert "settings mixed (newly diagnosed and relapsed/refractory)" in reasons  # S-HiDAC-MITO, S-DEC
    assert not any(r.startswith("settings mixed,") for r in reasons), reasons


def _bullets(disease: str) -> list[str]:
    from xpo1cli.brief_render_claims import claim_text

    return [claim_text(c) for c in bundled_brief(disease).bottom_line]


def test_harms_of_a_study_where_the_briefs_disease_is_a_minority_say_they_are_not_its_evidence():
    """SELHEM (children with relapsed or refractory acute leukaemia or MDS, how many had MDS not stated):
    its efficacy bullet says 'not evidence'; its harms bullet says so too."""
    (harms,) = [t for t in _bullets("MDS") if t.startswith("Harms with S-FLA")]
    assert "(not MDS evidence: children with relapsed or refractory acute leukaemia or MDS; how many had MDS " \
           "not stated)" in harms


def test_a_trial_no_report_of_which_states_a_dose_says_dose_not_stated():
    """HOVON-103: 'intensive chemotherapy with or without selinexor', no amount in any report; SEL-AML-PH1:
    'dose escalation'. A trial one of whose reports states an amount (SD-PH1's expansion) is not so marked."""
    aml = " ".join(_bullets("AML"))
    assert "intensive chemotherapy with or without selinexor; selinexor dose not stated" in aml
    assert "SEL-AML-PH1 (single-arm; relapsed or refractory AML; dose escalation; selinexor dose not stated)" in aml
    assert not any("SD-PH1" in t and "dose not stated" in t for t in _bullets("MM"))


def test_a_median_two_reports_give_for_different_populations_says_so_beside_the_figure():
    """SEL-AML-PH1: N11 gives median OS 2.7 months for its 81 patients, the review 2.7 months for the
    non-responders; SEL-DEC-PH1 the same with 5.9 months. The bullet and the summary-of-findings rows say
    so where they show the figure, and the bullet cites both reports."""
    from xpo1cli.brief_render_layout import sof_row

    b = bundled_brief("AML")
    (bullet,) = [(c, t) for c, t in zip(b.bottom_line, _bullets("AML"), strict=True) if c.kind == "single-arm median"]
    claim, text = bullet
    assert "2.7 months in newly diagnosed and relapsed/refractory AML (Garzon et al.) (n = 81) (review ref 22 " \
           "(s-aml-ref22) [review] gives 2.7 months as the median of non-responders: population disputed)" in text
    assert {"N11", "review"} <= set(claim.sources)
    rows = {(f.regimen, f.outcome): sof_row(f) for f in b.findings if f.kind == "median" and f.effect is None}
    assert "gives 2.7 months as the median of non-responders: population disputed" in rows["S", "median OS"][5]
    assert "gives 5.9 months as the median of non-responders: population disputed" in rows["S-DEC", "median OS"][5]
    assert "population disputed" not in rows["S-CLAG", "median OS"][5]  # one report: nothing to dispute


def test_two_reports_counting_one_population_differently_are_both_shown_and_the_count_left_unresolved():
    """SEL-7+3-PH1: A1 prints '8 (53%)' of 19 evaluable, the review (ref 47) 10 of the same 19. The
    review's figure is another reading of the population section 3 shows, not a subgroup; the row and its
    summary-of-findings row name both readings and pick neither."""
    from xpo1cli.brief_render_layout import sof_row

    b = bundled_brief("AML")
    assert not [r for r in b.subgroup_rates if r.study == "s-7plus3-ref47"]
    (a1,) = [r for g in b.response for r in g.rates if r.study == "sel-7plus3-ph1-ccr2020"]
    assert [(x.study, x.events, x.n, x.source) for x in a1.readings] == [("s-7plus3-ref47", 10, 19, "review")]
    (row,) = [f for f in b.findings if f.regimen == "S-7+3" and f.outcome == "CR/CRi"]
    assert ("reports differ: sel-7plus3-ph1-ccr2020 [A1] prints 8 (53%) of 19; review ref 47 (s-7plus3-ref47) "
            "[review] gives 10/19 (52.6%); the count is unresolved (42.1–52.6%)") in sof_row(row)[5]


def test_a_single_arm_regimen_points_first_to_a_randomized_trial_of_the_same_regimen_even_without_a_statistic():
    (row,) = [f for f in bundled_brief("AML").findings if f.regimen == "S-7+3" and f.outcome == "CR/CRi"]
    assert row.related[0] == ("a randomized trial of the same regimen exists: SEL-7+3-RAND (S-7+3 vs 7+3), arm "
                              "figures only, no between-arm statistic reported, so no direction is claimed (CR/CRi "
                              "18/21 (85.7%) with S-7+3; CR/CRi 3/7 (42.9%) with 7+3)")


def test_a_real_world_series_with_response_figures_shows_them_labelled_as_not_a_trials():
    """N9 (10 patients, retrospective): CR/CRi 60%, ORR 80%. Its adverse-event row is printed, so its
    response figures are too: in its population row, as reported, with why they are not in sections 3 or 6."""
    (g,) = [g for g in bundled_brief("AML").gaps if g.subject == "real-world series only"]
    assert g.detail.endswith("its figures, as reported and not a trial's (low weight: not in sections 3 or 6, never "
                             "pooled or rated): CR/CRi 60% of 10 [N9], ORR 80% of 10 [N9]")
    assert g.sources == ["N9"]
    assert not any(r.study == "rw-aml-tongji" for gr in bundled_brief("AML").response for r in gr.rates)


def test_a_table_names_the_trial_beside_each_report_where_it_shows_several_reports_of_it():
    """SEL-AML-PH1 reaches sections 3 and 4 through two reports (the review's ref 22 and N11's summary):
    each row names the trial, so the two study ids read as one trial; a trial shown through one report
    keeps its report's id alone."""
    from xpo1cli.brief_render import markdown

    b = bundled_brief("AML")
    assert {"SEL-AML-PH1", "SEL-DEC-PH1"} <= b.several_reports
    md = markdown(b)
    assert "| SEL-AML-PH1: ref 22 (s-aml-ref22) |" in md and "| SEL-AML-PH1: s-aml-n11 " in md
    assert "| ref 22 (s-aml-ref22) " not in md
    assert "SEL-HIDAC-MITO-PH1" not in b.several_reports and "| s-hidac-mito-jho2018 " in md


def test_the_json_brief_carries_both_readings_and_the_disputed_median_as_data():
    from xpo1cli.brief_render import brief_json

    data = brief_json(bundled_brief("AML"))
    cr = next(f for f in data["findings"] if f["regimen"] == "S-7+3" and f["outcome"] == "CR/CRi")
    assert [(x["source"], x["events"], x["denominator"], x["percent_reported"]) for x in cr["readings"]] == [
        ("A1", 8, 19, 53.0), ("review", 10, 19, 53.0)]
    os_ = next(f for f in data["findings"] if f["regimen"] == "S" and f["outcome"] == "median OS")
    (m,) = os_["per_trial"]
    assert [(x["source"], x["population"], x["median"]) for x in m["disputed"]] == [("review", "non-responders", 2.7)]
