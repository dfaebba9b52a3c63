"""Labels a clinician reads beside the figures, as an independent reviewer checked them: where a
figure is read (which page, which kind of source), what a subgroup's n is, and which rows of a mixed
cohort are not the brief's disease's evidence."""

from __future__ import annotations

import pytest

from xpo1cli.brief_render_layout import layout, subgroup_table

from .conftest import bundled_brief


def _cells(table) -> list[str]:
    return [c for row in table.rows for c in row]


def test_a_figure_missing_from_the_trials_first_page_says_which_page_and_what_the_other_source_is():
    b = bundled_brief("MM")
    boston = next(t for t in layout(b)[1].tables if t.caption.startswith("BOSTON"))
    svd = next(row for row in boston.rows if row[0] == "SVd arm")[4]
    # B1 is itself a news/conference page: "the primary report" would say the Lancet paper lacks ORR
    assert "primary report" not in svd
    assert "ORR 76.4% (no count printed) (not on B1's page; from B2, a news report of the Lancet paper) [B2]" in svd
    assert "median PFS 13.93 months" in svd and "not on" not in svd.split("median PFS")[1]


def test_a_subgroup_says_how_many_patients_it_has_and_no_longer_that_its_denominator_is_unknown():
    b = bundled_brief("MM")
    row = next(r for r in subgroup_table(b, 0.95).rows if r[1].endswith("march-bmcmed-2022"))
    assert "n = 20 of 82 (24.4%)" in row[2] and "as printed" not in row[2]
    assert "denominator not stated" not in row[8]
    assert row[5] == "25% (no count printed)"  # the printed figure, no count invented


def test_a_subgroup_of_a_mixed_cohort_carries_the_same_not_evidence_note_as_its_parent():
    wm = subgroup_table(bundled_brief("WM"), 0.95)
    row = next(r for r in wm.rows if r[1].endswith("sd-ph1-blood"))
    assert row[8].startswith("not WM evidence: 3 of 84 patients had WM [M6]")
    mm = subgroup_table(bundled_brief("MM"), 0.95)  # myeloma is the cohort's own disease: no note
    assert not any("not MM evidence" in c for c in _cells(mm))


# --- deaths a randomized trial reports are harms ------------------------------------------------------


def test_deaths_reported_by_one_arm_only_are_shown_with_the_other_arm_not_stated():
    from xpo1cli.brief_render_claims import harms_text
    from xpo1cli.data import load
    from xpo1cli.harms import regimen_harms

    from .conftest import DATA

    ds = load(DATA)

    b = bundled_brief("MM")
    deaths = [h for h in b.harms if h.where == "boston-lancet-2020" and h.term == "deaths"]
    assert [(h.role, h.count, h.n, h.percent, h.statement) for h in deaths] == \
        [("experimental", 47, None, 24.0, "Vd arm: not stated")]  # no control row: nothing to compare
    assert not any(d.term == "deaths" for d in b.risk_differences)
    svd = next(p for p in regimen_harms(b, ds, set()) if p.regimen == "SVd")  # the harms section's
    assert "deaths 24% (47 patients) in the SVd arm (Vd arm: not stated)" in harms_text(svd)
    # the bottom line weighs deaths arm against arm only: one arm's deaths are left to section 5
    line = next(c.harms for c in b.bottom_line if c.harms is not None and c.harms.regimen == "SVd")
    assert "deaths" not in harms_text(line).split("Section 5")[0] and "deaths of one arm" in harms_text(line)


def test_deaths_of_both_randomized_arms_are_compared_with_both_arms_figures():
    from xpo1cli.brief_render_claims import harms_text

    b = bundled_brief("AML")
    d = next(d for d in b.risk_differences if d.trial == "SEL-7+3-RAND" and d.term.startswith("deaths"))
    assert (d.exp_count, d.exp_n, d.ctl_count, d.ctl_n) == (2, 21, 1, 7)
    assert d.ci_low < 0 < d.ci_high
    text = harms_text(next(c.harms for c in b.bottom_line if c.harms is not None and c.harms.regimen == "S-7+3"))
    assert ("no clear difference (95% CI includes 0) in deaths (60 days) 10% (2/21) in the selinexor + 7+3 arm "
            "vs 14% (1/7) in the 7+3 arm") in text
    assert "grade not stated deaths" not in text


# --- every source a row names is in the source list ---------------------------------------------------


@pytest.mark.parametrize("disease", ["MM", "AML", "DLBCL", "TCL", "WM", "MF", "MDS"])
def test_every_source_a_gaps_row_names_is_one_of_its_sources_and_in_the_source_list(disease):
    from xpo1cli.brief_gaps import SOURCE_ID
    from xpo1cli.data import load

    from .conftest import DATA

    known = set(load(DATA).sources["source"])
    b = bundled_brief(disease)
    listed = {c.source for c in b.citations}
    for g in b.gaps:
        named = {x for x in SOURCE_ID.findall(g.detail) if x in known}
        assert named <= set(g.sources) and named <= listed, (g.subject, named - listed)


def test_a_population_row_naming_a_news_report_cites_it():
    b = bundled_brief("MM")
    row = next(g for g in b.gaps if g.detail.startswith("rw-mm-best-practices:"))
    assert "as G16 reports it" in row.detail and row.sources == ["G31", "G16"]
    assert "G16" in {c.source for c in b.citations}


def test_two_sources_printing_one_subgroups_figure_make_one_row_naming_both():
    b = bundled_brief("MM")
    penta = [r for r in b.subgroup_rates if r.study == "storm-nejm-2019" and r.measure == "ORR"]
    assert len(penta) == 1
    (r,) = penta
    assert (r.events, r.n, r.source) == (21, 83, "L3") and [(x.source, x.percent) for x in r.also] == [("S4", 25.3)]
    row = next(x for x in subgroup_table(b, 0.95).rows if x[1].endswith("storm-nejm-2019"))
    assert row[7] == "L3, S4" and "also S4: 25.3% (no count printed), 16.4–36 (as reported)" in row[8]
    assert "S4" in {c.source for c in b.citations}


@pytest.mark.parametrize("disease", ["DLBCL", "TCL"])
def test_a_brief_points_to_the_broader_diseases_evidence_it_leaves_out(disease):
    b = bundled_brief(disease)
    row = next(g for g in b.gaps if g.kind == "related evidence" and g.subject == "non-Hodgkin lymphoma")
    assert "s-nhl-phase1-ref30" in row.detail and row.detail.endswith("(xpo1 brief --disease NHL)")
    assert not any(g.kind == "related evidence" for g in bundled_brief("NHL").gaps
                   if g.subject == "non-Hodgkin lymphoma")  # its own evidence is no pointer


def test_a_phone_card_hides_empty_cells_and_an_empty_cell_is_empty_in_the_page():
    import re

    from xpo1cli.brief_render import html_page

    page = html_page(bundled_brief("MM"))
    phone = page.split("@media screen and (max-width: 600px) {")[1].split("\n}")[0]
    assert re.search(r"td:empty\s*\{\s*display:\s*none;", phone)
    assert re.search(r'<td data-label="notes"></td>', page)  # what :empty matches: no text, no space


def test_one_studys_figures_from_one_kind_of_source_say_that_kind_once():
    from xpo1cli.brief_render_claims import claim_text

    b = bundled_brief("MF")
    text = claim_text(next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "SVR35"))
    assert text.count("from a news/feature article") == 1
    assert "10*/14 (71.4%; printed 71%) at week 12, 11*/14 (78.6%; printed 79%) at week 24 (from a news" in text


def test_a_percentage_no_whole_count_of_its_n_prints_says_what_is_printed_not_a_denominator():
    from xpo1cli.brief_render_claims import claim_text

    b = bundled_brief("TCL")
    text = claim_text(next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "ORR"))
    assert "91% printed; 10 evaluable for response; denominator not stated" in text
    assert "91% of 10" not in text
    assert "10*/11 would print as 91% (* derived here, not printed)" in text  # the audit's count stays marked


def test_the_mm_bottom_line_says_each_indirect_comparison_in_one_short_clause_and_section_7_keeps_the_detail():
    from xpo1cli.brief_render import markdown
    from xpo1cli.brief_render_claims import claim_text

    b = bundled_brief("MM")
    text = claim_text(next(c for c in b.bottom_line if c.kind == "comparators"))
    assert "SVd vs PanoVd, PFS: HR 1.11 (0.79–1.56, 95%), no clear difference (anchored; certainty very low)" in text
    assert ("belantamab mafodotin vs Sd, OS (matched populations): HR 0.53 (CI 0.34–0.83; level not stated), "
            "favours belantamab mafodotin (matching-adjusted indirect comparison; certainty very low)") in text
    assert "point estimate favours" not in text and "DREAMM-2 vs STORM Part 2" not in text
    section = markdown(b).split("## 7 ")[1].split("## 8 ")[0]
    assert "point estimate favours Kd; the interval includes no difference" in section


def test_a_cohort_whose_regimen_another_report_does_not_name_says_so_in_a_compact_phrase():
    from xpo1cli.brief_render_claims import claim_text

    b = bundled_brief("MM")
    text = claim_text(next(c for c in b.bottom_line if c.kind == "single-arm" and c.measure == "ORR"))
    assert "SD-PH1 (phase 1; MM and WM in one cohort;" in text and "; regimen mixed (M6; section 3))" in text
    assert "names no single regimen" not in text
