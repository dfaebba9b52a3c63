"""`xpo1 indirect` fed what a hostile user gives it: a user's dataset whose interval levels,
intervals and populations are not what the bundled data holds. Each figure stays what its row says
(a 90% interval is read at 90%), nothing is left out unsaid, and no sentence claims more than the
rows support."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from xpo1cli import data, indirect_network
from xpo1cli import indirect as ind
from xpo1cli.indirect_present import indirect_frame

from .conftest import DATA, run


def _pkg(tmp_path, edit):
    """A copy of the bundled data with `edit(tables)` applied to the frames named in it."""
    pkg = tmp_path / "pkg"
    shutil.copytree(DATA, pkg)
    frames: dict[str, pd.DataFrame] = {}

    def table(name):
        if name not in frames:
            frames[name] = pd.read_csv(pkg / f"{name}.csv", dtype=str, keep_default_na=False)
        return frames[name]

    edit(table)
    for name, frame in frames.items():
        frame.to_csv(pkg / f"{name}.csv", index=False)
    return pkg


def _trial_row(ans, trial):
    frame = indirect_frame(ans)
    return frame[frame["row"] == "trial"].set_index("trial").loc[trial]


def _set(frame, key_col, key, **values):
    for col, value in values.items():
        frame.loc[frame[key_col] == key, col] = value


def test_an_xpo1_trials_interval_is_read_at_the_level_its_row_states(tmp_path):
    """BOSTON's PFS hazard ratio 0.70 (0.53-0.93) stated as a 90% interval is read at 90%, not 95%."""
    pkg = _pkg(tmp_path, lambda t: _set(t("comparisons"), "id", "boston-pfs-hr", ci_level="90"))
    ans = ind.compare(data.load(pkg), "SVd", "Kd", measure="PFS")
    boston = ans.trials.set_index("trial").loc["BOSTON"]
    z90 = indirect_network.z_of(0.90)
    assert boston["ci_level"] == 90
    assert boston["se"] == pytest.approx((math.log(0.93) - math.log(0.53)) / (2 * z90))
    se = math.sqrt(boston["se"] ** 2 + indirect_network.se_from_interval(0.44, 0.65, 0.95) ** 2)
    assert ans.estimate.se == pytest.approx(se)
    assert any(c.kind == "interval_level" and "BOSTON" in c.trials for c in ans.assessment)
    row = _trial_row(ans, "BOSTON")
    assert row["level"] == pytest.approx(0.90) and row["as_reported"].endswith("0.93, 90%)")


def test_an_interval_whose_level_no_source_states_is_said_to_be_read_as_95(tmp_path):
    pkg = _pkg(tmp_path, lambda t: _set(t("comparisons"), "id", "boston-pfs-hr", ci_level=""))
    ans = ind.compare(data.load(pkg), "SVd", "Kd", measure="PFS")
    said = [c for c in ans.assessment if c.kind == "interval_level" and "BOSTON" in c.trials]
    assert said and "states no level" in said[0].text and "95%" in said[0].text
    row = _trial_row(ans, "BOSTON")
    assert "level not stated" in row["as_reported"]


@pytest.mark.parametrize("low, high", [("0.53", "0.53"), ("0", "0.65")])
def test_a_trial_whose_interval_gives_no_standard_error_is_said_to_be_left_out(tmp_path, low, high):
    """ENDEAVOR's PFS interval with no width (or a lower limit of 0) gives no standard error: the
    trial cannot enter, and the answer says so instead of only finding no path."""
    pkg = _pkg(tmp_path, lambda t: _set(t("comparator_results"), "id", "endeavor-pfs-primary",
                                        ci_low=low, ci_high=high))
    ans = ind.compare(data.load(pkg), "SVd", "Kd", measure="PFS")
    assert ans.estimate is None
    assert any("ENDEAVOR" in m and "left out" in m for m in ans.missing)


def test_a_trial_left_out_beside_a_path_that_still_links_is_a_warning(tmp_path):
    """With a second Kd vs Vd trial, the link survives ENDEAVOR's unusable interval: the estimate
    rests on the other trial, and a warning names ENDEAVOR as left out."""
    def edit(t):
        _set(t("comparator_results"), "id", "endeavor-pfs-primary", ci_low="0.53", ci_high="0.53")
        trials, arms, res = t("comparator_trials"), t("trial_arms"), t("comparator_results")
        trials.loc[len(trials)] = {**dict.fromkeys(trials.columns, ""), "trial": "KD-2", "name": "Kd vs Vd (made up)",
                                   "phase": "3", "disease": "MM", "source": "C3"}
        for arm, reg, role in (("kd", "Kd", "experimental"), ("vd", "Vd", "control")):
            arms.loc[len(arms)] = {**dict.fromkeys(arms.columns, ""), "trial": "KD-2", "arm": arm, "regimen": reg,
                                   "role": role, "source": "C3"}
        res.loc[len(res)] = {**dict.fromkeys(res.columns, ""), "id": "kd2-pfs", "trial": "KD-2",
                             "report": "primary analysis", "data_cut": "primary", "sequence": "1", "arm_a": "kd",
                             "arm_b": "vd", "measure": "PFS", "statistic": "HR", "estimate": "0.60",
                             "ci_low": "0.45", "ci_high": "0.80", "ci_level": "95", "section": "x", "source": "C3"}
    ans = ind.compare(data.load(_pkg(tmp_path, edit)), "SVd", "Kd", measure="PFS")
    assert set(ans.trials["trial"]) == {"BOSTON", "KD-2"}
    left = [c for c in ans.assessment if "ENDEAVOR" in c.trials and "left out" in c.text]
    assert left and left[0].severity == "warning"


def test_an_unstated_blinding_is_not_called_a_difference():
    """BOSTON's blinding is not stated in the data, ENDEAVOR's is (open label): the sentence says
    BOSTON's cannot be checked; it does not claim the two differ."""
    ans = ind.compare(data.load(), "SVd", "Kd", measure="PFS")
    text = " | ".join(c.text for c in ans.assessment if c.kind == "population")
    assert "blinding" in text and "differ" not in text.split("blinding")[1].split("|")[0]
    assert "not stated for BOSTON" in text


def test_trials_that_state_different_blinding_are_said_to_differ():
    ans = ind.compare(data.load(), "Kd", "PanoVd", measure="PFS")  # ENDEAVOR open label, PANORAMA-1 double blind
    text = [c.text for c in ans.assessment if c.kind == "population" and c.text.startswith("blinding")]
    assert text and "differs between the trials" in text[0]


def test_an_unstated_data_cut_is_not_called_a_different_one():
    """PANORAMA-1's report states no data cut: the check says so, not that the cuts differ."""
    ans = ind.compare(data.load(), "SVd", "PanoVd", measure="PFS")
    cut = [c.text for c in ans.assessment if c.kind == "data_cut"]
    assert cut and "not stated for PANORAMA-1" in cut[0] and "different" not in cut[0]


def test_the_same_regimen_twice_is_quoted_whole_on_the_command_line():
    err = run("indirect", "SVd", "svd", code=2).stderr
    assert err.strip() == "xpo1: 'SVd' and 'svd' are the same regimen (SVd)"


def test_response_counts_read_the_other_way_round_stay_with_their_own_arm():
    """CASTOR reports DVd against Vd (83.8% of 251, 63.2% of 247: 210 and 156 responders, derived
    from the rates); read along SVd-Vd-DVd it is inverted, and the as-reported text still gives
    each arm its own count, marked derived."""
    ans = ind.compare(data.load(), "SVd", "DVd", measure="ORR")
    row = _trial_row(ans, "CASTOR")
    assert row["orientation"].startswith("inverted")
    assert row["as_reported"] == "DVd vs Vd: 210/251 vs 156/247 (derived)"
    assert _trial_row(ans, "BOSTON")["as_reported"] == "SVd vs Vd: 149/195 vs 129/207 (derived)"


def test_the_method_note_describes_a_chain_only_where_there_is_one():
    from xpo1cli.indirect_present import indirect_notes

    _, direct, _ = indirect_notes(ind.compare(data.load(), "SVd", "Vd", measure="PFS"))
    assert direct[0].startswith("method: direct comparison only") and "chain" not in direct[0]
    _, chain, _ = indirect_notes(ind.compare(data.load(), "SVd", "KdD", measure="PFS"))
    assert "log ratios add along the chain" in chain[0]


def test_a_no_path_answer_does_not_call_an_existing_comparison_missing():
    """SVd vs Kd for ORR: SVd has its comparison with Vd, Kd has none for ORR. The line about SVd
    says what the data hold; it is not headed 'missing'."""
    from xpo1cli.indirect_present import indirect_notes

    _, notes, _ = indirect_notes(ind.compare(data.load(), "SVd", "Kd", measure="ORR"))
    said = [n for n in notes if "SVd is compared with Vd" in n]
    assert said and not said[0].startswith("missing")
