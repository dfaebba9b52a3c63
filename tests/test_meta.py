"""Prediction intervals, Knapp–Hartung, subgroups, leave-one-out, continuity corrections and the
edges of random-effects pooling, against R's metafor (R 4, metafor 3.8-1). In-process only.

Pools: "aml", "mm_pi" and "mm" are the project's pools of tests/test_pool.py (AML ORR, myeloma
triplets with a proteasome inhibitor, every myeloma cohort); "zeros", "alln", "same" and "mixed"
are edge cases (every cohort 0/n, every cohort n/n, identical cohorts, 0/n beside n/n).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from xpo1cli.heterogeneity import NotConverged, logit_effects
from xpo1cli.metaanalysis import leave_one_out, pool_proportions, pool_subgroups

POOLS = {
    "aml": ([11, 10, 14], [81, 25, 20]),
    "mm_pi": ([25, 3], [40, 14]),
    "mm": ([8, 32, 25, 6, 11, 18, 14, 4, 3], [84, 122, 40, 7, 15, 31, 19, 27, 14]),
    "zeros": ([0, 0, 0], [10, 20, 30]),
    "alln": ([12, 7, 30], [12, 7, 30]),
    "same": ([10, 10, 10], [50, 50, 50]),
    "mixed": ([0, 5, 9, 20], [15, 22, 9, 40]),
}

# (pool, method, test, level) -> logit scale: estimate, se, ci.lb, ci.ub, pi.lb, pi.ub, tau2; from
#     d <- escalc(measure="PLO", xi=x, ni=n)
#     ctl <- list(threshold=1e-12, tol=1e-12, maxiter=1000)  # converge fully: metafor's defaults stop
#                                                            # REML at 1e-5 and PM at 1.2e-4 in tau²
#     r <- rma(yi, vi, data=d, method=meth, test=test, level=lev, control=ctl)   # test "z" or "knha"
#     p <- predict(r)
#     c(r$b, r$se, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub, r$tau2)
METAFOR = {
    ("aml", "DL", "z", 95): (-0.50186054, 0.78441266, -2.03928110, 1.03556002, -3.46964992, 2.46592884, 1.67751683),
    ("aml", "DL", "z", 90): (-0.50186054, 0.78441266, -1.79210455, 0.78838346, -2.99250790, 1.98878682, 1.67751683),
    ("aml", "DL", "knha", 95): (
        -0.50186054, 0.77962421, -3.85631276, 2.85259167, -7.00631422, 6.00259313, 1.67751683),
    ("aml", "DL", "knha", 90): (
        -0.50186054, 0.77962421, -2.77835198, 1.77463090, -4.91609337, 3.91237229, 1.67751683),
    ("aml", "REML", "z", 95): (-0.50221640, 0.78011546, -2.03121461, 1.02678181, -3.45256135, 2.44812855, 1.65736511),
    ("aml", "REML", "z", 90): (-0.50221640, 0.78011546, -1.78539215, 0.78095935, -2.97822393, 1.97379114, 1.65736511),
    ("aml", "REML", "knha", 95): (
        -0.50221640, 0.77962398, -3.85666763, 2.85223483, -6.97792839, 5.97349559, 1.65736511),
    ("aml", "REML", "knha", 90): (
        -0.50221640, 0.77962398, -2.77870717, 1.77427437, -4.89694375, 3.89251095, 1.65736511),
    ("aml", "PM", "z", 95): (-0.50225748, 0.77962395, -2.03029233, 1.02577738, -3.45060670, 2.44609174, 1.65506723),
    ("aml", "PM", "z", 90): (-0.50225748, 0.77962395, -1.78462475, 0.78010980, -2.97659014, 1.97207519, 1.65506723),
    ("aml", "PM", "knha", 95): (
        -0.50225748, 0.77962395, -3.85670858, 2.85219363, -6.97468397, 5.97016902, 1.65506723),
    ("aml", "PM", "knha", 90): (
        -0.50225748, 0.77962395, -2.77874816, 1.77423321, -4.89475513, 3.89024018, 1.65506723),
    ("mm_pi", "DL", "z", 95): (-0.30650583, 0.90079298, -2.07202764, 1.45901597, -3.20315758, 2.59014591, 1.37279204),
    ("mm_pi", "DL", "knha", 95): (
        -0.30650583, 0.90079298, -11.75216588, 11.13915421, -19.08514177, 18.47213010, 1.37279204),
    ("mm_pi", "REML", "z", 95): (
        -0.30650583, 0.90079298, -2.07202764, 1.45901597, -3.20315758, 2.59014591, 1.37279204),
    ("mm_pi", "REML", "knha", 95): (
        -0.30650583, 0.90079298, -11.75216588, 11.13915421, -19.08514177, 18.47213010, 1.37279204),
    ("mm_pi", "PM", "z", 95): (-0.30650583, 0.90079298, -2.07202764, 1.45901597, -3.20315758, 2.59014591, 1.37279204),
    ("mm_pi", "PM", "knha", 95): (
        -0.30650583, 0.90079298, -11.75216588, 11.13915421, -19.08514177, 18.47213010, 1.37279204),
    ("mm", "DL", "z", 95): (-0.28033159, 0.41771875, -1.09904531, 0.53838212, -2.65528183, 2.09461864, 1.29380444),
    ("mm", "DL", "z", 90): (-0.28033159, 0.41771875, -0.96741780, 0.40675461, -2.27345266, 1.71278947, 1.29380444),
    ("mm", "DL", "knha", 95): (-0.28033159, 0.45921064, -1.33927322, 0.77861003, -3.10899967, 2.54833649, 1.29380444),
    ("mm", "DL", "knha", 90): (-0.28033159, 0.45921064, -1.13425583, 0.57359265, -2.56135273, 2.00068954, 1.29380444),
    ("mm", "REML", "z", 95): (-0.26950445, 0.45427320, -1.15986357, 0.62085466, -2.88547136, 2.34646245, 1.57506400),
    ("mm", "REML", "z", 90): (-0.26950445, 0.45427320, -1.01671738, 0.47770847, -2.46489309, 1.92588418, 1.57506400),
    ("mm", "REML", "knha", 95): (
        -0.26950445, 0.46119644, -1.33302534, 0.79401643, -3.35280200, 2.81379309, 1.57506400),
    ("mm", "REML", "knha", 90): (
        -0.26950445, 0.46119644, -1.12712138, 0.58811247, -2.75585728, 2.21684837, 1.57506400),
    ("mm", "PM", "z", 95): (-0.26754803, 0.46154889, -1.17216723, 0.63707118, -2.93126283, 2.39616678, 1.63402523),
    ("mm", "PM", "z", 90): (-0.26754803, 0.46154889, -1.02672839, 0.49163234, -2.50300796, 1.96791190, 1.63402523),
    ("mm", "PM", "knha", 95): (-0.26754803, 0.46154889, -1.33188168, 0.79678562, -3.40155324, 2.86645719, 1.63402523),
    ("mm", "PM", "knha", 90): (-0.26754803, 0.46154889, -1.12582036, 0.59072431, -2.79479122, 2.25969516, 1.63402523),
    ("zeros", "DL", "z", 95): (
        -3.62857104, 0.82837122, -5.25214880, -2.00499328, -5.25214880, -2.00499328, 0.00000000),
    ("zeros", "DL", "knha", 95): (
        -3.62857104, 0.31036985, -4.96398474, -2.29315735, -4.96398474, -2.29315735, 0.00000000),
    ("zeros", "REML", "z", 95): (
        -3.62857104, 0.82837122, -5.25214880, -2.00499328, -5.25214880, -2.00499328, 0.00000000),
    ("zeros", "REML", "knha", 95): (
        -3.62857104, 0.31036985, -4.96398474, -2.29315735, -4.96398474, -2.29315735, 0.00000000),
    ("zeros", "PM", "z", 95): (
        -3.62857104, 0.82837122, -5.25214880, -2.00499328, -5.25214880, -2.00499328, 0.00000000),
    ("zeros", "PM", "knha", 95): (
        -3.62857104, 0.31036985, -4.96398474, -2.29315735, -4.96398474, -2.29315735, 0.00000000),
    ("alln", "DL", "z", 95): (3.35717776, 0.83291273, 1.72469881, 4.98965671, 1.72469881, 4.98965671, 0.00000000),
    ("alln", "DL", "knha", 95): (3.35717776, 0.41065185, 1.59028546, 5.12407006, 1.59028546, 5.12407006, 0.00000000),
    ("alln", "REML", "z", 95): (3.35717776, 0.83291273, 1.72469881, 4.98965671, 1.72469881, 4.98965671, 0.00000000),
    ("alln", "REML", "knha", 95): (
        3.35717776, 0.41065185, 1.59028546, 5.12407006, 1.59028546, 5.12407006, 0.00000000),
    ("alln", "PM", "z", 95): (3.35717776, 0.83291273, 1.72469881, 4.98965671, 1.72469881, 4.98965671, 0.00000000),
    ("alln", "PM", "knha", 95): (3.35717776, 0.41065185, 1.59028546, 5.12407006, 1.59028546, 5.12407006, 0.00000000),
    ("same", "DL", "z", 95): (
        -1.38629436, 0.20412415, -1.78637033, -0.98621839, -1.78637033, -0.98621839, 0.00000000),
    ("same", "DL", "knha", 95): (
        -1.38629436, 0.00000000, -1.38629436, -1.38629436, -1.38629436, -1.38629436, 0.00000000),
    ("same", "REML", "z", 95): (
        -1.38629436, 0.20412415, -1.78637033, -0.98621839, -1.78637033, -0.98621839, 0.00000000),
    ("same", "REML", "knha", 95): (
        -1.38629436, 0.00000000, -1.38629436, -1.38629436, -1.38629436, -1.38629436, 0.00000000),
    ("same", "PM", "z", 95): (
        -1.38629436, 0.20412415, -1.78637033, -0.98621839, -1.78637033, -0.98621839, 0.00000000),
    ("same", "PM", "knha", 95): (
        -1.38629436, 0.00000000, -1.38629436, -1.38629436, -1.38629436, -1.38629436, 0.00000000),
    ("mixed", "DL", "z", 95): (-0.48036120, 0.76555394, -1.98081936, 1.02009696, -3.34725029, 2.38652789, 1.55349273),
    ("mixed", "DL", "knha", 95): (
        -0.48036120, 1.08819576, -3.94348577, 2.98276337, -5.74599991, 4.78527751, 1.55349273),
    ("mixed", "REML", "z", 95): (
        -0.46004631, 1.10952363, -2.63467267, 1.71458005, -4.93032359, 4.01023097, 3.97098599),
    ("mixed", "REML", "knha", 95): (
        -0.46004631, 1.20912315, -4.30801581, 3.38792320, -7.87792164, 6.95782902, 3.97098599),
    ("mixed", "PM", "z", 95): (-0.45500220, 1.23165296, -2.86899764, 1.95899324, -5.49007674, 4.58007234, 5.08260078),
    ("mixed", "PM", "knha", 95): (
        -0.45500220, 1.23165296, -4.37467161, 3.46466721, -8.63058833, 7.72058393, 5.08260078),
}


@pytest.mark.parametrize("pool,method,test,level", sorted(METAFOR))
def test_intervals_agree_with_metafor(pool, method, test, level):
    x, n = POOLS[pool]
    b, se, lo, hi, pi_lo, pi_hi, tau2 = METAFOR[(pool, method, test, level)]
    r = pool_proportions(x, n, method, level / 100, knha=test == "knha")
    assert r["logit"] == pytest.approx(b, abs=1e-7)
    assert r["se"] == pytest.approx(se, abs=1e-7)
    assert r["tau2"] == pytest.approx(tau2, abs=1e-7)
    assert (r["ci_logit_low"], r["ci_logit_high"]) == pytest.approx((lo, hi), abs=1e-7)
    assert (r["pi_logit_low"], r["pi_logit_high"]) == pytest.approx((pi_lo, pi_hi), abs=1e-7)
    # transf=transf.ilogit gives the same on the proportion scale
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((expit(lo), expit(hi)), abs=1e-7)
    assert (r["pi_low"], r["pi_high"]) == pytest.approx((expit(pi_lo), expit(pi_hi)), abs=1e-7)
    assert r["test"] == test and r["df"] == (len(x) - 1 if test == "knha" else None)


def test_default_keeps_the_normal_interval():
    a = pool_proportions(*POOLS["mm"], "REML")
    b = pool_proportions(*POOLS["mm"], "REML", knha=True)
    assert a["test"] == "z" and a["estimate"] == b["estimate"] and a["tau2"] == b["tau2"]
    assert b["ci_high"] - b["ci_low"] > a["ci_high"] - a["ci_low"]
    assert a["correction"] == "only0" and a["corrected"] == 0


# (pool, method, test) -> per omitted cohort, from
#     l <- leave1out(rma(yi, vi, data=d, method=meth, test=test, control=ctl), transf=transf.ilogit)
#     l$estimate, l$ci.lb, l$ci.ub, l$tau2, l$I2, l$Q
LEAVE1OUT = {
    ("aml", "DL", "z"): {
        "estimate": [0.54795414, 0.37138460, 0.24061676],
        "ci_low": [0.26230839, 0.04032079, 0.07143227],
        "ci_high": [0.80515351, 0.89256076, 0.56618223],
        "tau2": [0.58232658, 3.46768133, 0.90827665],
        "i2": [74.20937798, 95.28360457, 86.98240042],
        "q": [3.87737837, 21.20263271, 7.68190782],
    },
    ("aml", "REML", "knha"): {
        "estimate": [0.54795414, 0.37138460, 0.24061676],
        "ci_low": [0.00042701, 0.00000002, 0.00003276],
        "ci_high": [0.99970935, 0.99999994, 0.99967384],
        "tau2": [0.58232658, 3.46768133, 0.90827665],
        "i2": [74.20937798, 95.28360457, 86.98240042],
        "q": [3.87737837, 21.20263271, 7.68190782],
    },
    ("aml", "PM", "z"): {
        "estimate": [0.54795414, 0.37138460, 0.24061676],
        "ci_low": [0.26230839, 0.04032079, 0.07143227],
        "ci_high": [0.80515351, 0.89256076, 0.56618223],
        "tau2": [0.58232658, 3.46768133, 0.90827665],
        "i2": [74.20937798, 95.28360457, 86.98240042],
        "q": [3.87737837, 21.20263271, 7.68190782],
    },
    ("mm", "DL", "z"): {
        "estimate": [
            0.49520574, 0.46189943, 0.40347212, 0.39203062, 0.39250605, 0.41137430, 0.38973657, 0.47560275,
            0.45980173],
        "ci_low": [
            0.30949925, 0.24040839, 0.21832511, 0.21874003, 0.21599836, 0.21977057, 0.21503952, 0.27444811,
            0.26014726],
        "ci_high": [
            0.68224456, 0.69952673, 0.62091093, 0.59759516, 0.60242026, 0.63423532, 0.59820037, 0.68499807,
            0.67325005],
        "tau2": [
            0.99082951, 1.75300554, 1.32743291, 1.24106028, 1.24530659, 1.42006424, 1.21670139, 1.31752876,
            1.36605959],
        "i2": [
            84.97818911, 88.60666452, 87.79831900, 89.27535007, 88.79376689, 88.94520117, 88.36578191,
            89.22734772, 89.81688649],
        "q": [
            46.59890909, 61.43942669, 57.36914448, 65.27019573, 62.46523639, 63.32091705, 60.16734385,
            64.97935532, 68.74125474],
    },
    ("mm", "REML", "z"): {
        "estimate": [
            0.49652809, 0.46203391, 0.40807763, 0.39227937, 0.39542487, 0.41510874, 0.39309690, 0.47801336,
            0.46364567],
        "ci_low": [
            0.30282331, 0.23958512, 0.20372451, 0.20888159, 0.20360882, 0.20638146, 0.20267169, 0.26537502,
            0.24634285],
        "ci_high": [
            0.69128074, 0.70070158, 0.65006854, 0.61211186, 0.62592158, 0.65950876, 0.62270681, 0.69893037,
            0.69569155],
        "tau2": [
            1.10956278, 1.77375684, 1.73670392, 1.45459878, 1.56260684, 1.79261470, 1.53918614, 1.52226420,
            1.70162416],
        "i2": [
            86.36650462, 88.72492720, 90.39765263, 90.70338754, 90.86133321, 91.03673885, 90.57356658,
            90.53913059, 91.65749325],
        "q": [
            46.59890909, 61.43942669, 57.36914448, 65.27019573, 62.46523639, 63.32091705, 60.16734385,
            64.97935532, 68.74125474],
    },
    ("mm", "REML", "knha"): {
        "estimate": [
            0.49652809, 0.46203391, 0.40807763, 0.39227937, 0.39542487, 0.41510874, 0.39309690, 0.47801336,
            0.46364567],
        "ci_low": [
            0.26298545, 0.20253553, 0.16970450, 0.17953723, 0.17016687, 0.17198308, 0.16927333, 0.22786330,
            0.20856693],
        "ci_high": [
            0.73159562, 0.74387501, 0.69928321, 0.65565798, 0.67597049, 0.70803646, 0.67308251, 0.73969985,
            0.73928133],
        "tau2": [
            1.10956278, 1.77375684, 1.73670392, 1.45459878, 1.56260684, 1.79261470, 1.53918614, 1.52226420,
            1.70162416],
        "i2": [
            86.36650462, 88.72492720, 90.39765263, 90.70338754, 90.86133321, 91.03673885, 90.57356658,
            90.53913059, 91.65749325],
        "q": [
            46.59890909, 61.43942669, 57.36914448, 65.27019573, 62.46523639, 63.32091705, 60.16734385,
            64.97935532, 68.74125474],
    },
    ("mm", "PM", "knha"): {
        "estimate": [
            0.49736390, 0.46222558, 0.40872852, 0.39228929, 0.39614498, 0.41563677, 0.39394375, 0.47836511,
            0.46413596],
        "ci_low": [
            0.26314659, 0.20261714, 0.16993682, 0.17953754, 0.17032593, 0.17217430, 0.16947976, 0.22803616,
            0.20878507],
        "ci_high": [
            0.73274387, 0.74407253, 0.70006910, 0.65567630, 0.67704208, 0.70865759, 0.67431999, 0.74005343,
            0.73978636],
        "tau2": [
            1.19287302, 1.80386595, 1.80784209, 1.46468230, 1.65446857, 1.85556617, 1.63569263, 1.55569701,
            1.75225156],
        "i2": [
            87.19676007, 88.89221983, 90.74051582, 90.76147667, 91.32472391, 91.31441256, 91.08012065,
            90.72358930, 91.87895654],
        "q": [
            46.59890909, 61.43942669, 57.36914448, 65.27019573, 62.46523639, 63.32091705, 60.16734385,
            64.97935532, 68.74125474],
    },
    ("mixed", "DL", "z"): {
        "estimate": [0.50395721, 0.46307507, 0.26059476, 0.34474424],
        "ci_low": [0.19332932, 0.05573993, 0.07974365, 0.02837566],
        "ci_high": [0.81156001, 0.92647534, 0.58905883, 0.90456354],
        "tau2": [1.13056610, 4.36397065, 1.05208840, 5.17455517],
        "i2": [78.09712597, 79.64087033, 76.88111446, 80.85648028],
        "q": [9.13122176, 9.82360264, 8.65093603, 10.44739959],
    },
    ("mixed", "REML", "z"): {
        "estimate": [0.55097475, 0.46155473, 0.24663784, 0.34954672],
        "ci_low": [0.14219401, 0.02975839, 0.06262054, 0.01710691],
        "ci_high": [0.90082323, 0.95993120, 0.61603321, 0.94315772],
        "tau2": [2.51722265, 7.34647206, 1.44310126, 7.79710320],
        "i2": [88.81292485, 86.81655928, 82.01888858, 86.42104876],
        "q": [9.13122176, 9.82360264, 8.65093603, 10.44739959],
    },
    ("mixed", "PM", "knha"): {
        "estimate": [0.56464008, 0.46134094, 0.23589629, 0.35032246],
        "ci_low": [0.00963676, 0.00041563, 0.00636118, 0.00022261],
        "ci_high": [0.99424845, 0.99943346, 0.93705831, 0.99923480],
        "tau2": [3.23458779, 8.11035140, 1.86844251, 8.44290527],
        "i2": [91.07249120, 87.90810717, 85.51946259, 87.32809143],
        "q": [9.13122176, 9.82360264, 8.65093603, 10.44739959],
    },
    ("mm_pi", "REML", "knha"): {
        "estimate": [0.21428571, 0.62500000],
        "ci_low": [0.07070671, 0.46772097],
        "ci_high": [0.49432972, 0.75968388],
        "tau2": [0.00000000, 0.00000000],
        "i2": [0.00000000, 0.00000000],
        "q": [0.00000000, 0.00000000],
    },
}


@pytest.mark.parametrize("pool,method,test", sorted(LEAVE1OUT))
def test_leave_one_out_agrees_with_metafor(pool, method, test):
    ref = LEAVE1OUT[(pool, method, test)]
    r = leave_one_out(*POOLS[pool], method, knha=test == "knha")
    for key in ("estimate", "ci_low", "ci_high", "tau2", "q"):
        assert r[key] == pytest.approx(ref[key], abs=1e-7), key
    assert r["i2"] == pytest.approx(ref["i2"], abs=1e-6)
    moved = np.abs(np.array(ref["estimate"]) - pool_proportions(*POOLS[pool], method)["estimate"])
    assert r["most_influential"] == int(np.argmax(moved))
    assert abs(r["largest_shift"]) == pytest.approx(moved.max(), abs=1e-7)


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
@pytest.mark.parametrize("k", [25, 450])  # 450: large enough for the series path
def test_leave_one_out_equals_refitting_without_each_cohort(method, k):
    rng = np.random.default_rng(k)
    n = rng.integers(5, 300, k)
    x = rng.binomial(n, rng.beta(2, 3, k))
    x[:2] = 0
    r = leave_one_out(x, n, method, knha=True)
    for i in (0, 1, 7, k - 1):
        alone = pool_proportions(np.delete(x, i).tolist(), np.delete(n, i).tolist(), method, knha=True)
        for key in ("estimate", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_p"):
            assert r[key][i] == pytest.approx(alone[key], abs=1e-8), (i, key)


# AML, MM and NHL ORR cohorts of the project, by disease; per subgroup the estimate and its SE, and
# the test for subgroup differences, from
#     est, se <- per subgroup: r <- rma(yi, vi, data=d[g == s, ], method=meth, test=test, control=ctl)
#                r$b, r$se
#                (a one-cohort subgroup: yi, sqrt(vi))
#     b <- rma(yi=est, sei=se, method="FE"); b$QE, b$QEp
# which is R meta's Q.b.random for metaprop(x, n, subgroup=g, method="Inverse", sm="PLOGIT",
# method.tau=meth) (meta could not be installed here, so the metafor computation is quoted).
SUB_X = [11, 10, 14, 8, 32, 25, 6, 11, 18, 14, 4, 3, 22, 35]
SUB_N = [81, 25, 20, 84, 122, 40, 7, 15, 31, 19, 27, 14, 70, 129]
SUB_G = ["AML"] * 3 + ["MM"] * 9 + ["NHL"] * 2
SUBGROUPS = {
    ("DL", "z"): ((-0.50186054, -0.28033159, -0.91071921), (0.78441266, 0.41771875, 0.15696133),
                  2.16754872, 0.33831619),
    ("DL", "knha"): ((-0.50186054, -0.28033159, -0.91071921), (0.77962421, 0.45921064, 0.10041351),
                     2.03246975, 0.36195518),
    ("REML", "z"): ((-0.50221640, -0.26950445, -0.91071921), (0.78011546, 0.45427320, 0.15696133),
                    1.96333520, 0.37468575),
    ("REML", "knha"): ((-0.50221640, -0.26950445, -0.91071921), (0.77962398, 0.46119644, 0.10041351),
                       2.07876195, 0.35367355),
    ("PM", "z"): ((-0.50225748, -0.26754803, -0.91071921), (0.77962395, 0.46154889, 0.15696133),
                  1.92601995, 0.38174212),
    ("PM", "knha"): ((-0.50225748, -0.26754803, -0.91071921), (0.77962395, 0.46154889, 0.10041351),
                     2.08722696, 0.35217979),
}
# the same with NHL reduced to its first cohort (22/70), a one-cohort subgroup
SUBGROUPS_ONE = {
    "DL": ((-0.50186054, -0.28033159, -0.78015856), (0.78441266, 0.41771875, 0.25746433), 1.06742730, 0.58642315),
    "REML": ((-0.50221640, -0.26950445, -0.78015856), (0.78011546, 0.45427320, 0.25746433), 0.99231537, 0.60886562),
    "PM": ((-0.50225748, -0.26754803, -0.78015856), (0.77962395, 0.46154889, 0.25746433), 0.97784448, 0.61328701),
}


@pytest.mark.parametrize("method,test", sorted(SUBGROUPS))
def test_subgroup_differences_agree_with_metafor(method, test):
    est, se, qb, qp = SUBGROUPS[(method, test)]
    r = pool_subgroups(SUB_X, SUB_N, SUB_G, method, knha=test == "knha")
    assert list(r["subgroups"]) == ["AML", "MM", "NHL"]
    assert [s["logit"] for s in r["subgroups"].values()] == pytest.approx(est, abs=1e-7)
    assert [s["se"] for s in r["subgroups"].values()] == pytest.approx(se, abs=1e-7)
    assert r["q_between"] == pytest.approx(qb, abs=1e-7)
    assert r["q_between_p"] == pytest.approx(qp, abs=1e-7)
    assert r["q_between_df"] == 2
    mm = pool_proportions(*POOLS["mm"], method, knha=test == "knha")
    assert r["subgroups"]["MM"]["tau2"] == mm["tau2"] and r["subgroups"]["MM"]["rows"] == list(range(3, 12))
    assert r["q_within"] == pytest.approx(sum(s["q"] for s in r["subgroups"].values()))
    assert r["q_within_df"] == 2 + 8 + 1
    assert r["overall"]["k"] == 14


@pytest.mark.parametrize("method", sorted(SUBGROUPS_ONE))
def test_a_one_cohort_subgroup_stands_alone(method):
    est, se, qb, qp = SUBGROUPS_ONE[method]
    r = pool_subgroups(SUB_X[:13], SUB_N[:13], SUB_G[:13], method)
    one = r["subgroups"]["NHL"]
    assert one["k"] == 1 and one["tau2"] is None and one["estimate"] == pytest.approx(22 / 70)
    assert [s["se"] for s in r["subgroups"].values()] == pytest.approx(se, abs=1e-7)
    assert r["q_between"] == pytest.approx(qb, abs=1e-7) and r["q_between_p"] == pytest.approx(qp, abs=1e-7)


def test_one_subgroup_has_no_test_of_differences():
    r = pool_subgroups(*POOLS["aml"], ["AML"] * 3)
    assert r["q_between"] is None and r["q_between_p"] is None and r["q_between_df"] == 0
    with pytest.raises(ValueError, match="one subgroup label"):
        pool_subgroups(*POOLS["aml"], ["AML"] * 2)


# --- continuity corrections and the edges -------------------------------------------------------

def test_continuity_corrections():
    # escalc(measure="PLO", xi=c(0,5,9,20), ni=c(15,22,9,40), add=1/2, to=...)
    only0 = logit_effects(*POOLS["mixed"])
    assert only0[0][0] == pytest.approx(logit(0.5 / 16)) and only0[0][1] == pytest.approx(logit(5 / 22))
    everyone = logit_effects(*POOLS["mixed"], correction="all")
    assert everyone[0][1] == pytest.approx(logit(5.5 / 23)) and everyone[1][1] == pytest.approx(1 / 5.5 + 1 / 17.5)
    assert logit_effects(*POOLS["aml"], correction="none") == logit_effects(*POOLS["aml"])
    assert pool_proportions(*POOLS["aml"], correction="none")["corrected"] == 0
    assert pool_proportions(*POOLS["mixed"])["corrected"] == 2
    with pytest.raises(ValueError, match=r"0/15, 9/9"):
        pool_proportions(*POOLS["mixed"], correction="none")
    with pytest.raises(ValueError, match="unknown continuity correction"):
        pool_proportions(*POOLS["aml"], correction="half")


def test_two_cohorts_pool_with_a_caution():
    r = pool_proportions(*POOLS["mm_pi"])
    assert r["k"] == 2 and any("two cohorts" in c for c in r["cautions"])
    assert any("Knapp–Hartung" in c for c in r["cautions"])
    assert any("prediction interval" in c for c in r["cautions"])
    assert not pool_proportions(*POOLS["mm"], knha=True)["cautions"]
    # leave1out at k = 2: each fit is the other cohort alone, with its normal interval
    loo = leave_one_out(*POOLS["mm_pi"], knha=True)
    assert loo["estimate"] == pytest.approx([3 / 14, 25 / 40])
    assert loo["ci_low"] == pytest.approx([0.07070671, 0.46772097], abs=1e-7)
    assert loo["tau2"] == [0.0, 0.0]


def test_identical_cohorts_have_no_heterogeneity():
    for method in ("DL", "REML", "PM"):
        r = pool_proportions(*POOLS["same"], method)
        assert r["tau2"] == 0.0 and r["i2"] == 0.0 and r["q"] == pytest.approx(0.0, abs=1e-12)
        assert (r["pi_low"], r["pi_high"]) == (r["ci_low"], r["ci_high"])
    kh = pool_proportions(*POOLS["same"], knha=True)  # metafor: se 0, as Knapp–Hartung is not truncated
    assert kh["se"] == pytest.approx(0.0, abs=1e-12) and any("narrower" in c for c in kh["cautions"])


def test_level_is_checked():
    with pytest.raises(ValueError, match="confidence level"):
        pool_proportions(*POOLS["aml"], level=0.3)
    with pytest.raises(ValueError, match="at least two"):
        leave_one_out([3], [10])


# --- REML converges or says so --------------------------------------------------------------------
# Fisher scoring as metafor's rma.uni does it (Hedges' start, a step halved while it would take tau²
# below zero, threshold 1e-5, maxiter 100, ll0check), the converged value made exact. References:
#     d <- escalc(measure="PLO", xi=x, ni=n)
#     rma(yi, vi, data=d, method="REML")                           # metafor's defaults
#     r <- rma(yi, vi, data=d, method="REML", control=list(threshold=1e-12, maxiter=100000))
#     c(r$tau2, r$b, r$se, r$ci.lb, r$ci.ub)                        # converged in full
# "no" where the defaults stop with "Fisher scoring algorithm did not converge".
# (x, n) -> (converges at the defaults, tau2, b, se, ci.lb, ci.ub converged in full)
REML_EDGES = {
    # the issue's AML reproducer: Fisher scoring creeps down towards the maximum at tau² = 0 (the
    # loop this replaced stopped after 1,000 steps at 0.0251: 53.51% (46.27-60.60)); converged,
    # or from tau2.init=0: tau² 0, 53.60% (51.38-55.80), as predict(r, transf=transf.ilogit) gives
    ((1023, 10, 14), (1908, 25, 20)): ("no", 0.0, 0.14418051, 0.04542149, 0.05515602, 0.23320499),
    # the same creep up to an interior maximum; the second run, from zero, reaches it
    ((968, 10, 12, 18), (2346, 34, 20, 37)): (
        "no", 0.00094866, -0.34623106, 0.05061687, -0.44543830, -0.24702382),
    # the defaults stop at tau² = 0.00000442, short of the boundary maximum
    ((534, 9, 5, 3), (1964, 23, 25, 17)): ("yes", 0.0, -0.98503747, 0.04995273, -1.08294302, -0.88713192),
    # the defaults converge, then ll0check finds the likelihood higher at zero (a warning, tau² 0)
    ((1140, 9, 5, 15), (2401, 13, 20, 28)): (
        "yes", 0.0, -0.10008846, 0.04041570, -0.17930178, -0.02087514),
    # the loop this replaced hit its cap of 1,000 steps here and printed tau² 0.0247
    ((453, 17, 4, 5, 5), (1407, 42, 12, 31, 24)): (
        "no", 0.0, -0.75195043, 0.05520827, -0.86015666, -0.64374420),
    ((638, 4, 11), (3275, 25, 33)): ("yes", 0.09503152, -1.27191148, 0.24126166, -1.74477564, -0.79904731),
}
# the defaults do not converge and neither run here does: refused. In full metafor reaches tau²
# 0.02763333, 0.20683066 and 0.00761787 (the loop this replaced hit its cap of 1,000 steps on the
# last and printed its last step).
REML_REFUSED = [((2133, 14, 21, 25, 22), (3074, 18, 27, 32, 29)), ((6, 14, 15, 8, 28), (6, 15, 16, 8, 35)),
                ((2333, 20, 24, 20), (2975, 21, 28, 30))]


@pytest.mark.parametrize("x,n", sorted(REML_EDGES))
def test_reml_converges_where_metafor_does_in_full(x, n):
    from xpo1cli.heterogeneity import _effects, _fisher_scoring, _tau2_he

    at_defaults, tau2, b, se, lo, hi = REML_EDGES[(x, n)]
    y, v, _ = _effects(x, n)
    assert _fisher_scoring(y, v, _tau2_he(y, v))[1] == (at_defaults == "yes")  # metafor's verdict
    r = pool_proportions(list(x), list(n), "REML")
    assert r["tau2"] == pytest.approx(tau2, abs=5e-9)
    assert (r["logit"], r["se"]) == pytest.approx((b, se), abs=5e-8)
    assert (r["ci_logit_low"], r["ci_logit_high"]) == pytest.approx((lo, hi), abs=5e-8)


def test_the_issue_reproducer_gives_the_boundary_maximum():
    r = pool_proportions([1023, 10, 14], [1908, 25, 20], "REML")
    assert r["tau2"] == 0.0
    assert [round(100 * r[k], 2) for k in ("estimate", "ci_low", "ci_high")] == [53.60, 51.38, 55.80]


@pytest.mark.parametrize("x,n", REML_REFUSED)
def test_reml_that_does_not_converge_is_refused_naming_the_way_out(x, n):
    with pytest.raises(NotConverged, match=r"REML did not converge.*--method DL"):
        pool_proportions(list(x), list(n), "REML")
    # a pool that converges, but not without its last cohort: leave-one-out says which
    assert pool_proportions([*x, 1], [*n, 40], "REML")["tau2"] > 0
    with pytest.raises(NotConverged, match=f"with cohort {len(x) + 1} of {len(x) + 1} left out, REML did not"):
        leave_one_out([*x, 1], [*n, 40], "REML")
    assert pool_proportions(list(x), list(n), "DL")["tau2"] >= 0  # the named way out works


def test_reml_is_the_maximum_of_its_likelihood_on_random_small_pools():
    """Against the likelihood itself (no reference needed): over 400 seeded small pools, a
    REML answer is never beaten by any point of a fine grid of tau² (nor by zero)."""
    from xpo1cli.heterogeneity import _effects, _reml_ll, _tau2_reml

    rng = np.random.default_rng(24)
    grid = np.concatenate([[0.0], np.geomspace(1e-7, 20, 400)])
    answered = 0
    for _ in range(400):
        k = int(rng.integers(2, 6))
        n = rng.integers(5, 60, k)
        n[0] = rng.integers(5, 4000)
        y, v, _ = _effects(rng.binomial(n, rng.uniform(0.1, 0.9)), n)
        try:
            t = _tau2_reml(y, v)
        except NotConverged:
            continue
        answered += 1
        best = max(_reml_ll(y, v, g) for g in grid)
        assert _reml_ll(y, v, t) >= best - 1e-9
    assert answered >= 390


def test_paule_mandel_says_when_it_finds_no_root():
    from xpo1cli.heterogeneity import _tau2_pm

    with pytest.raises(NotConverged, match="Paule–Mandel.*--method DL"):
        _tau2_pm(np.array([0.0, 1e9]), np.array([1.0, 1.0]))


@pytest.mark.parametrize("x,n", sorted(REML_EDGES))
def test_leave_one_out_follows_the_same_reml_rules(x, n):
    """Every omission of a pool holding one of the edge cases (boundary maxima, creeping
    iterations) is what the refit without that cohort gives."""
    xs, ns = [*x, 7, 3], [*n, 30, 11]
    r = leave_one_out(xs, ns, "REML")
    for i in range(len(xs)):
        alone = pool_proportions(xs[:i] + xs[i + 1:], ns[:i] + ns[i + 1:], "REML")
        assert r["tau2"][i] == pytest.approx(alone["tau2"], abs=1e-9)
        assert r["estimate"][i] == pytest.approx(alone["estimate"], abs=1e-9)


def test_a_subgroup_that_does_not_converge_is_named():
    x, n = REML_REFUSED[0]
    with pytest.raises(NotConverged, match="^subgroup B: REML did not converge"):
        pool_subgroups([11, 10, 14, *x], [81, 25, 20, *n], ["A"] * 3 + ["B"] * len(x), "REML")
