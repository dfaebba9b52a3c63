"""The pool command's reviewer options (prediction interval, --knha, --by, --leave-one-out,
--correction) and its forest plots, against R's metafor.

Reference numbers were produced with R 4 and metafor 3.8-1 by:

    library(metafor)
    x <- c(8,32,25,6,11,18,14,4,3); n <- c(84,122,40,7,15,31,19,27,14)   # MM, source review
    d <- escalc(measure="PLO", xi=x, ni=n)
    predict(rma(yi, vi, data=d, method="DL"), transf=transf.ilogit)
        # pred 0.4303725 ci 0.2499188 0.631436  pi 0.06566421 0.890379
    predict(rma(yi, vi, data=d, method="DL", test="knha"), transf=transf.ilogit)
        # pred 0.4303725 ci 0.2076296 0.6853805 pi 0.04273755 0.9274617
    leave1out(rma(yi, vi, data=d, method="DL"), transf=transf.ilogit)   # LOO below
    g <- c("Sd","Sd","SVd","SRd","SRd","SPd","SDd","SDoxd","SId")
    fits <- lapply(split(seq_along(g), factor(g, levels=unique(g))), function(i)
        if (length(i) > 1) rma(yi, vi, data=d[i,], method="DL") else rma(yi, vi, data=d[i,], method="FE"))
    rma(yi=sapply(fits, coef), sei=sapply(fits, function(f) f$se), method="FE")
        # QE 33.73182, df 6, QEp 7.578916e-06 (R meta's Q.b.random, tau.common=FALSE)
    # AML: x <- c(11,10,14); n <- c(81,25,20), test="knha"
        # pred 0.3771035 ci 0.02070794 0.9454525 pi 0.0009053219 0.9975338
    # xi=c(0,0,0), ni=c(10,20,30): pred 0.02586722 ci 0.005208979 0.1186797, tau2 0
    # xi=c(10,20,30), ni=c(10,20,30): pred 0.9741328 ci 0.8813203 0.994791, tau2 0
    # xi=c(5,5,5), ni=c(20,20,20): pred 0.25 ci 0.1567038 0.3741945 = pi, tau2 0, I2 0
"""

from __future__ import annotations

import io
import itertools

import pandas as pd
import pytest

from xpo1cli.present import pool_caption
from xpo1cli.render import wrap_words
from xpo1cli.textcharts import forest
from xpo1cli.views import POOL_COLUMNS, pool_leave_one_out, pool_table

from .conftest import run, run_csv

# the statistics of pools of no one population (MM with a MM+WM cohort, two settings), asked for as such
MM = ["-d", "MM", "--source", "review", "--allow-mixed"]
ACROSS = [*MM, "--across-regimens"]  # the metafor pool above: nine cohorts of seven regimens, asked for as such
LOO = {  # leave1out: estimate, ci.lb, ci.ub, tau2, I2, in input order
    "estimate": [0.4952057, 0.4618994, 0.4034721, 0.3920306, 0.3925061, 0.4113743, 0.3897366, 0.4756027,
                 0.4598017],
    "ci_low": [0.3094992, 0.2404084, 0.2183251, 0.21874, 0.2159984, 0.2197706, 0.2150395, 0.2744481, 0.2601473],
    "ci_high": [0.6822446, 0.6995267, 0.6209109, 0.5975952, 0.6024203, 0.6342353, 0.5982004, 0.6849981,
                0.6732501],
    "tau2": [0.9908295, 1.753006, 1.327433, 1.24106, 1.245307, 1.420064, 1.216701, 1.317529, 1.36606],
    "i2": [84.97819, 88.60666, 87.79832, 89.27535, 88.79377, 88.9452, 88.36578, 89.22735, 89.81689],
}


def cohorts(events, totals, labels=None, group="XPO1 inhibitor arms and cohorts", **cols) -> pd.DataFrame:
    """Pool inputs as pool_inputs makes them, for synthetic cohorts."""
    k = len(events)
    labels = labels or [f"cohort {i + 1}" for i in range(k)]
    frame = pd.DataFrame({"row": "cohort", "group": group, "study": [f"study-{i}" for i in range(k)],
                          "cohort": "all", "cohort_label": labels, "regimen": "S", "events": events,
                          "n": totals, "count_basis": "reported", **cols}, columns=POOL_COLUMNS)
    frame.attrs["measure"] = "ORR"
    return frame


def random_row(rows, subgroup=""):
    return next(r for r in rows if r["row"] == "random" and r["subgroup"] == subgroup)


# --- figures against metafor ------------------------------------------------------------------


def test_prediction_interval_in_csv_caption_and_terminal():
    rows = run_csv("pool", *ACROSS)
    r = random_row(rows)
    assert float(r["pi_low"]) == pytest.approx(6.566421, abs=1e-3)
    assert float(r["pi_high"]) == pytest.approx(89.0379, abs=1e-3)
    assert r["test"] == "z" and r["t_df"] == "" and r["correction"] == "only0"
    assert all(x["pi_low"] == "" for x in rows if x["row"] != "random")
    out = run("pool", *ACROSS, "-f", "plain").stdout
    assert "95% prediction interval 6.6–89.0" in out and "[6.6–89.0]" in out and "╌" in out
    assert "Intervals of the pooled estimate: z (normal)" in out


def test_knapp_hartung_in_csv_and_caption():
    r = random_row(run_csv("pool", *ACROSS, "--knha"))
    assert (r["test"], r["t_df"]) == ("t", "8")
    for col, ref in (("percent", 43.03725), ("ci_low", 20.76296), ("ci_high", 68.53805),
                     ("pi_low", 4.273755), ("pi_high", 92.74617)):
        assert float(r[col]) == pytest.approx(ref, abs=1e-3), col
    assert "t with 8 df (Knapp–Hartung)" in run("pool", *ACROSS, "--knha", "-f", "plain").stdout


def test_knapp_hartung_for_three_cohorts_and_the_caution_without_it():
    inc = cohorts([11, 10, 14], [81, 25, 20])
    frame, summary = pool_table(inc, knha=True)
    r = frame[frame["row"] == "random"].iloc[0]
    assert (r["percent"], r["ci_low"], r["ci_high"], r["pi_low"], r["pi_high"]) == pytest.approx(
        (37.71035, 2.070794, 94.54525, 0.09053219, 99.75338), abs=1e-3)
    _, plain = pool_table(inc)
    assert "with 3 cohorts normal-theory intervals are too narrow; Knapp–Hartung" in pool_caption(plain)
    assert "too narrow" not in pool_caption(summary)


def test_subgroups_by_regimen_and_the_test_for_differences():
    rows = run_csv("pool", *MM, "--by", "regimen")
    # no pool across regimens: and no test of their differences (their cohorts are not randomized)
    assert not [r for r in rows if r["row"] == "subgroup test" or r["q_between"]]
    assert not [r for r in rows if r["row"] in ("random", "common") and not r["subgroup"]]
    overall = random_row(run_csv("pool", *ACROSS, "--by", "regimen"))  # asked across regimens: the test
    assert float(overall["q_between"]) == pytest.approx(33.73182, abs=1e-4)
    assert overall["q_between_df"] == "6"
    assert float(overall["q_between_p"]) == pytest.approx(7.578916e-06, rel=1e-4)
    assert float(overall["percent"]) == pytest.approx(43.03725, abs=1e-3)  # the overall pool is unchanged
    subgroups = [r["subgroup"] for r in rows if r["row"] == "random" and r["subgroup"]]
    assert subgroups == ["Sd", "SRd"]  # a one-cohort subgroup is shown, not pooled
    sd = [r for r in rows if r["subgroup"] == "Sd" and r["row"] == "cohort"]
    assert sum(float(r["weight"]) for r in sd) == pytest.approx(100, abs=0.02)


def test_subgroup_own_fit_equals_pooling_it_alone():
    rows = run_csv("pool", *MM, "--by", "regimen")
    alone = random_row(run_csv("pool", *MM, "-r", "SRd"))
    srd = random_row(rows, "SRd")
    for col in ("percent", "ci_low", "ci_high", "tau2"):
        assert float(srd[col]) == pytest.approx(float(alone[col]), abs=1e-9), col
    assert srd["pi_low"] == alone["pi_low"] == "" and srd["pi_high"] == alone["pi_high"] == ""  # k = 2: no PI


def test_by_disease_is_suggested_and_keeps_controls_apart():
    err = run("pool", "--across-regimens", "--allow-mixed", "-f", "csv").stderr
    assert "one estimate each with --by disease" in err
    rows = run_csv("pool", "-d", "MM", "--include-controls", "--by", "disease", "--across-regimens", "--allow-mixed")
    groups = {(r["group"], r["subgroup"]) for r in rows if r["row"] == "cohort"}
    assert all(g != "control arms (no XPO1 inhibitor)" or s for g, s in groups)
    assert {r["group"] for r in rows if r["row"] == "random" and not r["subgroup"]} >= {
        "XPO1 inhibitor arms and cohorts"}
    assert "cannot split a pool by 'phase'" in run("pool", "--by", "phase", code=2).stderr


def test_leave_one_out_equals_metafor_and_names_the_most_influential():
    rows = [r for r in run_csv("pool", *ACROSS, "--leave-one-out") if r["row"] == "leave-one-out"]
    assert len(rows) == 9
    for col, ref in LOO.items():
        scale = 100 if col in ("estimate", "ci_low", "ci_high") else 1
        got = [float(r["percent" if col == "estimate" else col]) for r in rows]
        assert got == pytest.approx([scale * v for v in ref], abs=1e-3), col
    assert float(rows[0]["shift"]) == pytest.approx(100 * (0.4952057 - 0.4303725), abs=1e-3)
    out = run("pool", *ACROSS, "--leave-one-out", "-f", "plain").stdout
    assert "leaving out sd-phase1-ref12/all moves the pooled estimate most, by +6.5 percentage points" in out
    assert "Leave-one-out" in out


@pytest.mark.parametrize("events,totals,ref", [
    ([0, 0, 0], [10, 20, 30], (2.586722, 0.5208979, 11.86797)),
    ([10, 20, 30], [10, 20, 30], (97.41328, 88.13203, 99.4791)),
    ([5, 5, 5], [20, 20, 20], (25.0, 15.67038, 37.41945)),
])
def test_all_zero_all_n_and_identical_cohorts(events, totals, ref):
    frame, summary = pool_table(cohorts(events, totals))
    r = frame[frame["row"] == "random"].iloc[0]
    assert (r["percent"], r["ci_low"], r["ci_high"]) == pytest.approx(ref, abs=1e-3)
    assert r["tau2"] == 0 and (r["pi_low"], r["pi_high"]) == pytest.approx(ref[1:], abs=1e-3)
    corrected = 0 if events == [5, 5, 5] else 3
    assert f"only ({corrected} cohorts corrected)" in pool_caption(summary)


def test_correction_none_with_a_zero_cohort_is_a_usage_error(tmp_path):
    with pytest.raises(ValueError, match="infinite"):
        pool_table(cohorts([0, 3], [10, 12]), correction="none")
    frame, summary = pool_table(cohorts([1, 3], [10, 12]), correction="none")
    assert "continuity correction: none" in pool_caption(summary)
    r = run("pool", *ACROSS, "--correction", "none", "-f", "plain")  # no 0/n cohort: fine
    assert "continuity correction: none" in r.stdout
    assert "unknown continuity correction" in run("pool", "--correction", "half", code=2).stderr
    assert "GLMM" in run("pool", "--help").stdout


def test_two_cohorts_pool_with_a_visible_caution():
    out = run("pool", "-d", "MM", "-p", "proteasome inhibitor", "--source", "review", "--across-regimens",
              "--allow-mixed", "-f", "plain").stdout
    assert "only two cohorts" in out and "Knapp–Hartung" in out and "are advised" in out
    assert "prediction interval from fewer than three cohorts is not meaningful" in out


def test_user_dataset_with_a_zero_cohort(tmp_path):
    """A user's dataset (--data, also after the command name): a 0/n cohort is pooled with the
    stated correction, and refused with one line (exit 2) under --correction none."""
    import csv
    import shutil

    from .conftest import DATA, sh

    shutil.copytree(DATA, tmp_path / "d")
    path = tmp_path / "d" / "outcomes.csv"
    with path.open(newline="") as fh:
        table = list(csv.DictReader(fh))
    hit = next(r for r in table if r["study"] == "sdoxd-ref21" and r["measure"] == "ORR")
    hit["count"], hit["percent_reported"] = "0", "0"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    rows = run_csv("--data", str(tmp_path / "d"), "pool", *ACROSS)
    assert any(r["study"] == "sdoxd-ref21" and r["events"] == "0" for r in rows)
    p = sh("pool", *ACROSS, "--data", str(tmp_path / "d"), "--correction", "none", check_code=2)
    assert p.stderr.count("\n") == 1 and "infinite (0/27)" in p.stderr


# --- the terminal forest ------------------------------------------------------------------------


def test_terminal_forest_with_subgroups_fits_80_columns():
    rows = run_csv("pool", *ACROSS, "--by", "regimen")
    frame = pd.DataFrame(rows)
    for c in ("percent", "ci_low", "ci_high", "weight", "pi_low", "pi_high"):
        frame[c] = pd.to_numeric(frame[c])
    frame["subgroup"] = frame["subgroup"].replace("", None)
    frame["ref"] = pd.to_numeric(frame["ref"]).astype("Int64")
    buf = io.StringIO()
    forest(frame, stream=buf, columns=80, caption="a caption " * 30)
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    for heading in ("Sd", "SVd", "SRd", "SId"):
        assert heading in text.splitlines()
    # the overall pool's prediction interval (k = 9); none from the two-cohort subgroups (Sd, SRd)
    assert text.count("◆") == 4 and text.count("prediction interval") == 1
    assert "[6.6–89.0]" in text


# --- the file forest plot -----------------------------------------------------------------------

LONG = "relapsed or refractory after at least three prior lines including a proteasome inhibitor"


def overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of texts whose laid-out boxes intersect (by more than half a pixel)."""
    from matplotlib.text import Text

    fig.canvas.draw()  # axis labels and tick labels take their places when drawn
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    bad = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 0.5 and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 0.5:
            bad.append((a[:30], b[:30]))
    outside = [t for t, b in boxes if b.x0 < 0 or b.y0 < 0 or b.x1 > fig.bbox.width or b.y1 > fig.bbox.height]
    return bad + [(t[:30], "outside the figure") for t in outside]


@pytest.mark.parametrize("k", [2, 5, 15, 40])
def test_file_forest_plot_has_no_overlapping_text(k):
    pytest.importorskip("matplotlib")
    from xpo1cli.plot import draw_forest

    events = [(7 * i) % 19 + (i % 3) for i in range(k)]
    totals = [20 + (5 * i) % 40 for i in range(k)]
    labels = [f"{LONG} ({i})" if i % 3 == 0 else f"cohort {i}" for i in range(k)]
    inc = cohorts(events, totals, labels, disease=["MM" if i % 2 else "AML" for i in range(k)])
    for by in (None, "disease"):
        frame, summary = pool_table(inc, by=by)
        fig = draw_forest(frame, f"Pooled ORR (synthetic, k = {k}) — " + "a long title " * 8,
                          pool_caption(summary))
        assert overlaps(fig) == [], (k, by)
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_plot_file_svg_keeps_text_and_shows_the_pieces(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "f.svg"
    run("pool", *ACROSS, "--by", "regimen", "--knha", "--plot", str(target), "-f", "csv")
    svg = target.read_text()
    assert "<text" in svg and "font-family" in svg  # text, not glyph paths
    for piece in ("Events/n", "95% CI", "Weight", "Prediction interval", "Heterogeneity",
                  "Test for subgroup differences", "SRd", "disease MM, source review", "Knapp–Hartung"):
        assert piece in svg, piece


def test_leave_one_out_view_matches_the_stats_layer():
    inc = cohorts([8, 32, 25, 6, 11, 18, 14, 4, 3], [84, 122, 40, 7, 15, 31, 19, 27, 14])
    loo = pool_leave_one_out(inc)
    assert loo.attrs["most_influential"] == 0
    assert list(loo["row"].unique()) == ["leave-one-out"] and list(loo["k"].unique()) == [8]
    assert loo["percent"].tolist() == pytest.approx([100 * v for v in LOO["estimate"]], abs=1e-3)


def test_wrap_words_never_splits_a_figure():
    assert wrap_words("Q = 33.73 (df 6)", 6) == ["Q =", "33.73", "(df 6)"]


def test_knapp_hartung_caution_only_when_its_interval_is_narrower():
    from xpo1cli.metaanalysis import pool_proportions

    # the review's AML ORR cohorts (refs 22, 23, 25): the t interval is wider than the z one
    z = pool_proportions([11, 10, 14], [81, 25, 20])
    kh = pool_proportions([11, 10, 14], [81, 25, 20], knha=True)
    assert kh["ci_high"] - kh["ci_low"] > z["ci_high"] - z["ci_low"]
    assert not any("narrower" in c for c in kh["cautions"])


def test_file_plot_shows_no_crude_sum_beside_a_pooled_estimate(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "mm.svg"
    run("pool", "-d", "MM", "--by", "regimen", "--across-regimens", "--allow-mixed", "--plot", str(target), "-f", "csv")
    svg = target.read_text(encoding="utf-8")
    assert "121/359" not in svg and "40/206" not in svg  # sums of events and patients
    assert "k = 9" in svg and "k = 2" in svg


def test_knapp_hartung_subgroup_of_identical_cohorts_has_no_test_and_says_why():
    """metafor: rma(yi=est, sei=se, method="FE") with a zero se stops with "Division by zero when
    computing the inverse variance weights"; here the test is left out with a caution, and no
    numpy warning is raised on the way (warnings are errors in this test)."""
    import warnings

    inc = cohorts([10, 10, 10, 5, 8, 20], [50, 50, 50, 20, 30, 40], disease=["AML"] * 3 + ["MM"] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame, summary = pool_table(inc, knha=True, by="disease")
        caption = pool_caption(summary)
        _, plain = pool_table(inc, by="disease")
    assert summary["q_between"] is None and summary["q_between_p"] is None
    assert "Test for subgroup differences" not in caption
    assert "no test for subgroup differences: the Knapp–Hartung standard error of subgroup AML is zero" in caption
    assert "logits are identical, so the Knapp–Hartung standard error is zero" in caption
    aml = frame[(frame["row"] == "random") & (frame["subgroup"] == "AML")].iloc[0]
    assert aml["ci_low"] == aml["ci_high"] == pytest.approx(20.0)
    assert plain["q_between"] is not None and plain["q_between"] > 0  # normal errors: a test
