"""Labels a clinician reads beside the figures, as an independent reviewer checked them: where a
figure is read (which page, which kind of source), what a subgroup's n is, and which rows of a mixed
cohort are not the brief's disease's evidence."""

from __future__ import annotations

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
    row = next(r for r in subgroup_table(b, 0.95).rows if r[1] == "march-bmcmed-2022")
    assert "n = 20 of 82 (24.4%)" in row[2] and "as printed" not in row[2]
    assert "denominator not stated" not in row[8]
    assert row[5] == "25% (no count printed)"  # the printed figure, no count invented


def test_a_subgroup_of_a_mixed_cohort_carries_the_same_not_evidence_note_as_its_parent():
    wm = subgroup_table(bundled_brief("WM"), 0.95)
    row = next(r for r in wm.rows if r[1] == "sd-ph1-blood")
    assert row[8].startswith("not WM evidence: 3 of 84 patients had WM [M6]")
    mm = subgroup_table(bundled_brief("MM"), 0.95)  # myeloma is the cohort's own disease: no note
    assert not any("not MM evidence" in c for c in _cells(mm))
