"""`xpo1 indirect`: anchored (Bucher) comparisons, chains and the network estimate, against hand
formulas and against R metafor; the report rule, the interval levels, the assessor's checks, and
the answers to requests the network cannot serve."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

import xpo1cli
from xpo1cli import data, indirect_checks, indirect_network
from xpo1cli import indirect as ind
from xpo1cli.indirect_present import CHECK_ROWS

from .conftest import DATA, bundled_brief, one_row, run, run_csv, run_json

DS = data.load()
Z95 = 1.959963984540054


def se95(low, high):
    return (math.log(high) - math.log(low)) / (2 * Z95)


def test_se_from_an_interval_at_its_own_level():
    assert indirect_network.se_from_interval(0.53, 0.93, 0.95) == pytest.approx(se95(0.53, 0.93))
    # a 70% interval is a 70% interval: z = 1.0364 (R: qnorm(0.85) = 1.036433)
    assert indirect_network.z_of(0.70) == pytest.approx(1.036433, abs=1e-6)
    assert indirect_network.se_from_interval(0.59, 0.88, 0.70) == pytest.approx(
        (math.log(0.88) - math.log(0.59)) / (2 * 1.036433), rel=1e-6)


def test_svd_against_kd_is_bucher_through_vd():
    ans = ind.compare(DS, "SVd", "Kd", measure="PFS")
    # hand formula: log HR(SVd vs Kd) = log HR(SVd vs Vd) - log HR(Kd vs Vd); variances add
    log = math.log(0.70) - math.log(0.53)
    se = math.sqrt(se95(0.53, 0.93) ** 2 + se95(0.44, 0.65) ** 2)
    assert ans.paths == [["SVd", "Vd", "Kd"]] and ans.method == "anchored (Bucher) via Vd"
    assert ans.estimate.log == pytest.approx(log) and ans.estimate.se == pytest.approx(se)
    lo, hi = ans.estimate.ci
    assert (round(ans.estimate.ratio, 2), round(lo, 2), round(hi, 2)) == (1.32, 0.94, 1.86)
    trials = ans.trials.set_index("trial")
    assert trials.at["BOSTON", "source"] == "B1" and trials.at["ENDEAVOR", "source"] == "C3"
    # ENDEAVOR reports Kd against Vd: read along the path as Vd against Kd
    assert trials.at["ENDEAVOR", "orientation"].startswith("inverted")
    assert trials.at["ENDEAVOR", "estimate"] == pytest.approx(1 / 0.53)


def test_a_chain_adds_log_ratios_and_variances():
    ans = ind.compare(DS, "SVd", "KdD", measure="PFS")
    assert ans.paths == [["SVd", "Vd", "Kd", "KdD"]]
    log = math.log(0.70) - math.log(0.53) - math.log(0.64)
    se = math.sqrt(se95(0.53, 0.93) ** 2 + se95(0.44, 0.65) ** 2 + se95(0.49, 0.83) ** 2)
    assert ans.estimate.log == pytest.approx(log) and ans.estimate.se == pytest.approx(se)
    assert "chain" in ans.method


def test_the_70_percent_interval_is_read_at_70_percent_and_flagged():
    ans = ind.compare(DS, "SVd", "EVd", measure="PFS")
    se = math.sqrt(se95(0.53, 0.93) ** 2 + indirect_network.se_from_interval(0.59, 0.88, 0.70) ** 2)
    assert ans.estimate.se == pytest.approx(se)
    assert any("ELO-VD prints a 70% interval" in c for c in ans.checks)


def test_two_trials_on_one_edge_match_metafor():
    """SVd vs BVd through Vd and DVd, with CASTOR and LEPUS both on DVd vs Vd. R 4, metafor 3.8.1:
    se <- function(l, u) (log(u) - log(l)) / (2 * qnorm(0.975))
    d2 <- data.frame(yi = log(c(0.70, 0.31, 0.35, 0.41)),
                     vi = c(se(0.53,0.93), se(0.24,0.39), se(0.24,0.51), se(0.31,0.53))^2,
                     SVd = c(1,0,0,0), Vd = c(-1,-1,-1,0), DVd = c(0,1,1,-1))
    f2 <- rma.mv(yi, vi, mods = ~ SVd + Vd + DVd - 1, data = d2, method = "FE")
    coef(f2)["SVd"]; sqrt(vcov(f2)["SVd", "SVd"])   # 1.6705205330 0.2239152474"""
    ans = ind.compare(DS, "SVd", "BVd", measure="PFS")
    assert set(ans.trials["trial"]) == {"BOSTON", "CASTOR", "LEPUS", "DREAMM-7"}
    assert ans.estimate.log == pytest.approx(1.6705205330, abs=1e-9)
    assert ans.estimate.se == pytest.approx(0.2239152474, abs=1e-9)
    assert any("Vd differs in duration" in c and "CASTOR: 8 cycles only" in c for c in ans.checks)
    assert any("LEPUS: China" in c for c in ans.checks)


def test_report_rule_primary_and_latest():
    primary = ind.compare(DS, "SVd", "PVd", measure="PFS", rule="primary").trials.set_index("trial")
    latest = ind.compare(DS, "SVd", "PVd", measure="PFS", rule="latest").trials.set_index("trial")
    assert primary.at["OPTIMISMM", "report"] == "primary analysis"
    assert latest.at["OPTIMISMM", "report"] == "final analysis (IMS 2023)"
    # BELLINI's final PFS prints no interval: latest falls back, saying so
    ans = ind.compare(DS, "SVd", "VenVd", measure="PFS", rule="latest")
    assert ans.trials.set_index("trial").at["BELLINI", "report"] == "primary analysis"
    assert any(w.startswith("BELLINI: its latest report (final analysis) prints no interval") for w in ans.warnings)
    # CASTOR's primary report gives no verified HR: the earliest report with one is used, said
    ans = ind.compare(DS, "SVd", "DVd", measure="PFS")
    assert ans.trials.set_index("trial").at["CASTOR", "report"] == "update at median follow-up 19.4 months"
    assert any(w.startswith("CASTOR: its primary report") for w in ans.warnings)


def test_orr_odds_ratio_from_reported_rates_and_arm_sizes():
    ans = ind.compare(DS, "SVd", "VenVd", measure="ORR")
    t = ans.trials.set_index("trial")
    # BOSTON 76.4% of 195 and 62.3% of 207; BELLINI 82% of 194 and 68% of 97 (counts derived)
    assert (t.at["BOSTON", "count_a"], t.at["BOSTON", "count_b"]) == (149, 129)
    assert (t.at["BELLINI", "count_a"], t.at["BELLINI", "count_b"]) == (66, 159)  # read Vd vs VenVd
    lor = lambda a, n, b, m: math.log(a / (n - a)) - math.log(b / (m - b))  # noqa: E731
    v = lambda a, n, b, m: 1 / a + 1 / (n - a) + 1 / b + 1 / (m - b)  # noqa: E731
    assert ans.estimate.log == pytest.approx(lor(149, 195, 129, 207) - lor(159, 194, 66, 97))
    assert ans.estimate.se == pytest.approx(math.sqrt(v(149, 195, 129, 207) + v(159, 194, 66, 97)))
    rr = ind.compare(DS, "SVd", "VenVd", measure="ORR", effect="RR")
    assert rr.estimate.log == pytest.approx(math.log(149 / 195 / (129 / 207)) - math.log(159 / 194 / (66 / 97)))


def test_no_path_names_what_is_missing():
    ans = ind.compare(DS, "SVd", "IRd", measure="PFS")
    assert ans.estimate is None
    assert "IRd: no randomized PFS comparison in the data" in ans.missing
    ans = ind.compare(DS, "SVd", "Kd", measure="OS")
    assert ans.estimate is None and any("only subgroup results" in m for m in ans.missing)


@pytest.mark.parametrize("args,message", [
    (("SVd", "Kdx"), "unknown regimen 'Kdx'"),
    (("SVd", "Kd", "--measure", "DOR"), "unknown measure 'DOR'"),
    (("SVd", "Kd", "--report", "first"), "unknown report rule 'first'"),
    (("SVd", "Kd", "--via", "Kd"), "one of the two regimens"),
    (("SVd", "SVd"), "same regimen"),
])
def test_bad_requests_are_usage_errors(args, message):
    assert message in run("indirect", *args, code=2).stderr


def test_cli_answer_carries_trials_sources_and_checks():
    rows = [r for r in run_csv("indirect", "SVd", "Kd", "--measure", "PFS") if r["row"] not in CHECK_ROWS]
    assert [r["row"] for r in rows] == ["trial", "trial", "indirect"]
    assert rows[1]["as_reported"] == "Kd vs Vd: 0.53 (0.44–0.65, 95%)" and rows[1]["source"] == "C3"
    assert rows[2]["comparison"] == "SVd vs Kd" and round(float(rows[2]["estimate"]), 2) == 1.32
    out = run("indirect", "SVd", "Kd", "-f", "plain").stdout
    assert "common comparator Vd in BOSTON" in out and "route: IV or SC (C7)" in out
    assert "report rule: primary" in out
    none = run_csv("indirect", "SVd", "IRd")
    assert none[0]["row"] == "no path" and "IRd" in none[0]["note"]


def test_a_closed_loop_shows_direct_indirect_network_and_inconsistency(tmp_path):
    """A user's dataset adds a direct SVd vs Kd trial (made-up figures). R 4, metafor 3.8.1:
    dat <- data.frame(yi = log(c(0.70, 0.53, 1.10)),
                      vi = c(se(0.53, 0.93), se(0.44, 0.65), se(0.80, 1.50))^2,
                      SVd = c(1, 0, 1), Vd = c(-1, -1, 0))
    fit <- rma.mv(yi, vi, mods = ~ SVd + Vd - 1, data = dat, method = "FE")
    coef(fit)["SVd"]; sqrt(vcov(fit)["SVd", "SVd"])   # 0.1789954677 0.1181072607"""
    pkg = tmp_path / "pkg"
    shutil.copytree(DATA, pkg)
    with open(pkg / "comparator_trials.csv", "a", encoding="utf-8") as fh:
        fh.write("HEAD2HEAD,SVd vs Kd (made up),,3,,MM,,,,,,C3,\n")
    with open(pkg / "trial_arms.csv", "a", encoding="utf-8") as fh:
        fh.write("HEAD2HEAD,svd,SVd,experimental,100,,,,,,C3,\nHEAD2HEAD,kd,Kd,control,100,,,,,,C3,\n")
    with open(pkg / "comparator_results.csv", "a", encoding="utf-8") as fh:
        fh.write("h2h-pfs,HEAD2HEAD,primary analysis,primary,1,,,,,svd,kd,PFS,,,HR,1.10,0.80,1.50,95,2,2,"
                 ",,,,,,,,,,,x,C3,\n")
    ans = ind.compare(data.load(pkg), "SVd", "Kd", measure="PFS")
    assert ans.estimate.log == pytest.approx(0.1789954677, abs=1e-9)
    assert ans.estimate.se == pytest.approx(0.1181072607, abs=1e-9)
    assert ans.direct.log == pytest.approx(math.log(1.10))
    assert ans.indirect.log == pytest.approx(math.log(0.70) - math.log(0.53))
    z = (ans.direct.log - ans.indirect.log) / math.sqrt(ans.direct.se ** 2 + ans.indirect.se ** 2)
    assert ans.inconsistency[0] == pytest.approx(z)
    rows = [r for r in run_csv("--data", str(pkg), "indirect", "SVd", "Kd") if r["row"] not in CHECK_ROWS]
    # one residual df (the loop): the random-effects estimate follows the common-effect network one
    assert [r["row"] for r in rows][-5:] == ["direct", "indirect", "network", "random effects", "inconsistency"]
    assert "Bucher z = " in rows[-1]["note"]


def test_comparator_trials_are_never_listed_or_pooled_as_xpo1_studies():
    listed = {r["study"] for r in run_csv("list")}
    assert not any(t.lower() in s for s in listed for t in ("endeavor", "castor", "optimismm", "bellini"))
    assert "ENDEAVOR" not in {r["trial"] for r in run_csv("trials")}


def test_compare_points_to_indirect_where_a_randomized_path_exists():
    out = run("compare", "SVd", "Kd", "-f", "plain").stdout
    assert "'xpo1 indirect SVd Kd --measure PFS'" in out
    assert "xpo1 indirect" not in run("compare", "SVd", "SPd", "-f", "plain").stdout
    assert indirect_network.linked_measures(DS, "SVd", "DVd") == ["PFS", "ORR"]


def test_the_myeloma_brief_carries_the_comparisons_nice_names():
    from xpo1cli.brief_render_cells import indirect_direction, indirect_estimate, indirect_trials

    b = bundled_brief("MM")
    rows = {r.comparison: r for r in b.indirect}
    assert indirect_estimate(rows["SVd vs Kd, PFS"]) == "HR 1.32 (0.94–1.86, 95%); anchored (Bucher) via Vd"
    kd = rows["SVd vs Kd, PFS"]
    assert indirect_direction(kd) == "point estimate favours Kd; the interval includes no difference"
    assert "ENDEAVOR: Kd vs Vd: 0.53 (0.44–0.65, 95%)" in indirect_trials(rows["SVd vs Kd, PFS"])
    assert indirect_estimate(rows["SVd vs IRd, PFS"]).startswith("no randomized path")
    assert rows["SVd vs IRd, PFS"].kind == "no path" and not rows["SVd vs IRd, PFS"].directed
    assert {"C37", "B1", "C3"} <= {c.source for c in b.citations}
    assert bundled_brief("AML").indirect == []


def test_transitivity_warnings_come_from_the_schedule_columns():
    ans = ind.compare(DS, "SVd", "PanoVd", measure="PFS")
    # PANORAMA-1's first 24 weeks match BOSTON's twice-weekly block; its duration does not
    assert not any("differs in frequency" in c for c in ans.checks)
    assert any(c.startswith("warning: the common comparator Vd differs in duration: BOSTON: until progression; "
                            "PANORAMA-1: 8 cycles of 21 days") for c in ans.checks)
    assert any("blinding" in c and "PANORAMA-1: double blind" in c for c in ans.checks)
    defs = ans.anchors.set_index("trial")
    assert defs.at["PANORAMA-1", "route"] == "IV" and pd.isna(defs.at["BOSTON", "route"])


def test_every_estimate_says_which_regimen_it_favours_and_whether_its_interval_rules_out_no_difference():
    from xpo1cli.indirect_present import favours

    # a hazard ratio below 1 favours the first regimen; an odds ratio of response above 1 does
    assert favours("SVd vs Vd", "HR", 0.70, 0.53, 0.93) == "favours SVd"
    assert favours("Vd vs Kd", "HR", 1.89, 1.54, 2.27) == "favours Kd"
    assert favours("SVd vs Kd", "HR", 1.32, 0.94, 1.86) == (
        "point estimate favours Kd; the interval includes no difference")
    assert favours("SVd vs Kd", "OR", 1.5, 1.1, 2.0) == "favours SVd"
    rows = run_csv("indirect", "SVd", "Kd", "--measure", "PFS")
    got = {r["row"] + " " + r["comparison"]: r["favours"] for r in rows if r["row"] not in CHECK_ROWS}
    assert got == {"trial SVd vs Vd": "favours SVd", "trial Vd vs Kd": "favours Kd",
                   "indirect SVd vs Kd": "point estimate favours Kd; the interval includes no difference"}


# --- random-effects network meta-analysis (R 4, metafor 3.8.1) -------------------------------------

def _pkg_with_head_to_head(tmp_path, trials):
    """A copy of the bundled data with made-up direct SVd vs Kd trials: (id, HR, low, high)."""
    pkg = tmp_path / "pkg"
    shutil.copytree(DATA, pkg)
    for trial, hr, low, high in trials:
        with open(pkg / "comparator_trials.csv", "a", encoding="utf-8") as fh:
            fh.write(f"{trial},SVd vs Kd (made up),,3,,MM,,,,,,C3,\n")
        with open(pkg / "trial_arms.csv", "a", encoding="utf-8") as fh:
            fh.write(f"{trial},svd,SVd,experimental,100,,,,,,C3,\n{trial},kd,Kd,control,100,,,,,,C3,\n")
        with open(pkg / "comparator_results.csv", "a", encoding="utf-8") as fh:
            fh.write(f"{trial.lower()}-pfs,{trial},primary analysis,primary,1,,,,,svd,kd,PFS,,,HR,{hr},{low},{high},"
                     "95,2,2,,,,,,,,,,,,x,C3,\n")
    return pkg


def test_meta_regression_matches_metafor_reml_and_dl():
    """Four two-arm trials, two of them on SVd vs Kd (made-up figures), two residual df:
    dat <- data.frame(study = c("BOSTON", "ENDEAVOR", "H2H-1", "H2H-2"),
                      yi = log(c(0.70, 0.53, 0.60, 1.20)),
                      vi = c(se(0.53, 0.93), se(0.44, 0.65), se(0.45, 0.80), se(0.85, 1.70))^2,
                      SVd = c(1, 0, 1, 1), Vd = c(-1, -1, 0, 0))
    fit <- rma.mv(yi, vi, mods = ~ SVd + Vd - 1, random = ~ 1 | study, data = dat, method = "REML")
    fit$sigma2; coef(fit)["SVd"]; sqrt(vcov(fit)["SVd", "SVd"]); fit$QE; fit$QEp
      # 0.136839715419 -0.0788447341018 0.253591249098 15.0247400076 0.000546284856096
    DerSimonian-Laird generalized to the network (rma.mv has no DL), by hand and refitted at it:
    X <- cbind(dat$SVd, dat$Vd); W <- diag(1 / dat$vi)
    P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
    t2 <- max(0, (c(t(dat$yi) %*% P %*% dat$yi) - (nrow(X) - ncol(X))) / sum(diag(P)))
    fdl <- rma.mv(yi, vi, mods = ~ SVd + Vd - 1, random = ~ 1 | study, data = dat, sigma2 = t2)
    t2; coef(fdl)["SVd"]; sqrt(vcov(fdl)["SVd", "SVd"])   # 0.135565352645 -0.078866209459 0.25258266566"""
    from xpo1cli.heterogeneity import meta_regression

    y = [math.log(x) for x in (0.70, 0.53, 0.60, 1.20)]
    v = [se95(0.53, 0.93) ** 2, se95(0.44, 0.65) ** 2, se95(0.45, 0.80) ** 2, se95(0.85, 1.70) ** 2]
    x = [[1, -1], [0, -1], [1, 0], [1, 0]]
    reml = meta_regression(y, v, x, "REML")
    assert reml.tau2 == pytest.approx(0.136839715419, abs=1e-6)  # R's optimizer stops within ~1e-7
    assert reml.beta[0] == pytest.approx(-0.0788447341018, abs=1e-7)
    assert math.sqrt(reml.cov[0][0]) == pytest.approx(0.253591249098, abs=1e-6)
    assert (reml.q, reml.df, reml.q_p) == (pytest.approx(15.0247400076), 2, pytest.approx(0.000546284856096))
    dl = meta_regression(y, v, x, "DL")
    assert dl.tau2 == pytest.approx(0.135565352645, abs=1e-9)
    assert dl.beta[0] == pytest.approx(-0.078866209459, abs=1e-9)
    assert math.sqrt(dl.cov[0][0]) == pytest.approx(0.25258266566, abs=1e-9)
    fe = meta_regression(y, v, x, "FE")
    assert fe.tau2 == 0 and math.sqrt(fe.cov[0][0]) < math.sqrt(dl.cov[0][0])


def test_random_effects_network_over_a_loop_matches_metafor(tmp_path):
    """The same four trials read from a user's dataset (BOSTON and ENDEAVOR as bundled, two
    made-up direct SVd vs Kd trials): the random-effects estimate of SVd against Kd is metafor's
    (see test_meta_regression_matches_metafor_reml_and_dl); the common-effect one stays the answer's
    `estimate`, and a Q this large is a warning."""
    pkg = _pkg_with_head_to_head(tmp_path, [("H2H-1", 0.60, 0.45, 0.80), ("H2H-2", 1.20, 0.85, 1.70)])
    dsx = data.load(pkg)
    ans = ind.compare(dsx, "SVd", "Kd", measure="PFS")
    assert set(ans.trials["trial"]) == {"BOSTON", "ENDEAVOR", "H2H-1", "H2H-2"}
    assert ans.random.log == pytest.approx(-0.0788447341018, abs=1e-7)
    assert ans.random.se == pytest.approx(0.253591249098, abs=1e-6)
    h = ans.heterogeneity
    assert (h.method, h.df) == ("REML", 2) and h.tau2 == pytest.approx(0.136839715419, abs=1e-6)
    assert any(c.kind == "heterogeneity" and c.severity == "warning" and "Q = 15.02 on 2 df" in c.text
               for c in ans.assessment)
    dl = ind.compare(dsx, "SVd", "Kd", measure="PFS", method="DL")
    assert dl.random.log == pytest.approx(-0.078866209459, abs=1e-9)
    assert dl.random.se == pytest.approx(0.25258266566, abs=1e-9)
    rows = run_json("--data", str(pkg), "indirect", "SVd", "Kd", "--method", "DL")
    re = next(r for r in rows if r["row"] == "random effects")
    assert (re["tau2_method"], re["q_df"]) == ("DL", 2) and re["tau2"] == pytest.approx(0.135565352645, abs=1e-9)
    assert re["log_ratio"] == pytest.approx(-0.078866209459, abs=1e-9)


def test_random_effects_where_two_trials_share_a_comparison():
    """SVd vs BVd: CASTOR and LEPUS both on DVd vs Vd leave one residual df. R:
    r2 <- rma.mv(yi, vi, mods = ~ SVd + Vd + DVd - 1, random = ~ 1 | study, data = d2, method = "REML")
    r2$sigma2; coef(r2)["SVd"]; sqrt(vcov(r2)["SVd", "SVd"])   # 6.3e-12 1.67052053296 0.223915247466
    (d2 as in test_two_trials_on_one_edge_match_metafor): tau² at the boundary, so the random-effects
    estimate is the common-effect one."""
    ans = ind.compare(DS, "SVd", "BVd", measure="PFS")
    assert ans.heterogeneity.df == 1 and ans.heterogeneity.tau2 == pytest.approx(0, abs=1e-9)
    assert ans.random.log == pytest.approx(1.67052053296, abs=1e-9)
    assert ans.random.se == pytest.approx(0.223915247466, abs=1e-9)
    # one trial per comparison and no loop: no random-effects estimate, and the reason is said
    kd = ind.compare(DS, "SVd", "Kd", measure="PFS")
    assert kd.random is None and kd.heterogeneity.df == 0
    assert any(c.kind == "heterogeneity" and "cannot be estimated" in c.text for c in kd.assessment)


def test_unknown_method_is_a_usage_error():
    assert "unknown method 'PM'" in run("indirect", "SVd", "BVd", "--method", "PM", code=2).stderr


# --- the assessor's checks in the machine formats and the API --------------------------------------

def test_json_carries_the_checks_with_their_kinds():
    rows = run_json("indirect", "SVd", "Kd", "--measure", "PFS")
    assert [r["row"] for r in rows][:3] == ["trial", "trial", "indirect"]
    anchors = {r["trial"]: r for r in rows if r["row"] == "common comparator"}
    # the comparator's definition as the data's schedule columns state it
    boston = one_row(DS.trial_arms, trial="BOSTON", arm="vd")
    assert anchors["BOSTON"]["comparison"] == "Vd" and anchors["BOSTON"]["frequency"] == boston["frequency"]
    assert anchors["BOSTON"]["duration"] == boston["duration"] and anchors["BOSTON"]["transitivity"] is True
    pops = {r["trial"]: r for r in rows if r["row"] == "population"}
    assert pops["ENDEAVOR"]["prior_lines"] == one_row(DS.comparator_trials, trial="ENDEAVOR")["prior_lines"]
    checks = [r for r in rows if r["row"] == "check"]
    kinds = {r["check"] for r in checks}
    assert {"common_comparator", "population", "follow_up", "heterogeneity"} <= kinds
    assert kinds <= set(indirect_checks.CHECK_KINDS)
    follow = next(r for r in checks if r["check"] == "follow_up")
    assert "BOSTON: median follow-up 13.2 mo (SVd), 16.5 mo (Vd)" in follow["note"]
    assert follow["transitivity"] is True and follow["trials"] == "BOSTON; ENDEAVOR"
    assert all(r["severity"] in ("warning", "note") for r in checks)
    # the same checks as the API gives them
    ans = xpo1cli.open().indirect("SVd", "Kd")
    assert [c.as_dict()["text"] for c in ans.assessment] == [r["note"] for r in checks]
    # the human view keeps its table to the estimates; the checks are its notes and warnings
    plain = run("indirect", "SVd", "Kd", "-f", "plain")
    assert "common comparator Vd in BOSTON" in plain.stdout and "\ncheck " not in plain.stdout
    assert "Vd route not stated (or not verified) for BOSTON" in plain.stdout
