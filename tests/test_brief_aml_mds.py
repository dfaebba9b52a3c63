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
