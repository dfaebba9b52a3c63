"""Random-effects pooling of proportions on the logit scale: one pool, subgroups with their test
of difference, and each cohort left out in turn (see `heterogeneity` for the effects and tau²).
"""

from __future__ import annotations

from .heterogeneity import _TAU2, REML_MAXITER, REML_THRESHOLD, NotConverged, _checked_effects, _tau2_pm, _tau2_reml
from .stats import check_level, special


def _critical(level: float, df: int | None) -> float:
    """The two-sided critical value: normal, or t with df degrees of freedom."""
    ndtri, stdtrit = special("ndtri", "stdtrit")

    alpha = 1 - check_level(level)
    return float(ndtri(1 - alpha / 2)) if df is None else float(stdtrit(df, 1 - alpha / 2))


def _cautions(k: int, knha: bool, narrower: bool = False, flat: bool = False) -> list[str]:
    notes = []
    if k == 2:
        notes.append("only two cohorts: tau² rests on one degree of freedom and the pooled estimate "
                     "should be read with caution")
    if k <= 3 and not knha:
        notes.append(f"with {k} cohorts normal-theory intervals are too narrow; Knapp–Hartung "
                     "(t with k-1 df) intervals are advised")
    if k < 3:
        notes.append("a prediction interval from fewer than three cohorts is not meaningful")
    if narrower:
        notes.append("the Knapp–Hartung interval is narrower than the normal one here (the cohorts "
                     "agree more than their sampling variances predict); it is not truncated")
    if flat:
        notes.append("the cohorts' logits are identical, so the Knapp–Hartung standard error is zero "
                     "and its interval has no width; the normal interval (without --knha) shows "
                     "their sampling error")
    return notes


def _fit(y, v, method: str, level: float, knha: bool) -> dict:
    """The random-effects fit of logit effects y with variances v (k >= 2)."""
    import numpy as np
    chdtrc, expit = special("chdtrc", "expit")

    k = len(y)
    w_fe = 1 / v
    sw_fe = float(np.sum(w_fe))
    mu_fe = float(np.sum(w_fe * y) / sw_fe)
    se_fe = float(np.sqrt(1 / sw_fe))
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    tau2 = _TAU2[method](y, v)
    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(1 / np.sum(w)))
    flat = bool(np.all(y == y[0]))  # identical logits: no residual at all, not one of rounding
    s2w = 0.0 if flat else float(np.sum(w * (y - mu) ** 2) / (k - 1))
    if knha:  # Knapp–Hartung: the variance scaled by the weighted residual mean square, not truncated
        se = float(np.sqrt(s2w / np.sum(w)))
    z = _critical(level, None)
    crit = _critical(level, k - 1) if knha else z
    pi_se = float(np.sqrt(se**2 + tau2))
    s2 = (k - 1) * sw_fe / (sw_fe**2 - np.sum(w_fe**2))
    return {
        "method": method, "k": k, "level": level,
        "logit": mu, "se": se,
        "estimate": float(expit(mu)), "ci_low": float(expit(mu - crit * se)),
        "ci_high": float(expit(mu + crit * se)),
        "common_logit": mu_fe, "common_se": se_fe, "common_estimate": float(expit(mu_fe)),
        "common_ci_low": float(expit(mu_fe - z * se_fe)),
        "common_ci_high": float(expit(mu_fe + z * se_fe)),
        "tau2": tau2, "i2": float(100 * tau2 / (tau2 + s2)), "h2": float((tau2 + s2) / s2),
        "q": q, "q_df": k - 1, "q_p": float(chdtrc(k - 1, q)),
        "weights": (100 * w / np.sum(w)).tolist(), "yi": y.tolist(), "vi": v.tolist(),
        "test": "knha" if knha else "z", "df": k - 1 if knha else None, "crit": crit,
        "ci_logit_low": mu - crit * se, "ci_logit_high": mu + crit * se,
        "pi_logit_low": mu - crit * pi_se, "pi_logit_high": mu + crit * pi_se,
        "pi_low": float(expit(mu - crit * pi_se)), "pi_high": float(expit(mu + crit * pi_se)),
        "cautions": _cautions(k, knha, knha and crit * np.sqrt(s2w) < z, knha and flat),
    }


def pool_proportions(events: list[int], totals: list[int], method: str = "DL",
                     level: float = 0.95, *, knha: bool = False, correction: str = "only0",
                     add: float = 0.5) -> dict:
    """Random-effects meta-analysis of proportions on the logit scale (metafor's rma on
    escalc(measure="PLO")).

    Returns the random-effects and common-effect estimates (proportions, with CIs), tau², I²
    (metafor's definition: tau² over tau² plus the typical within-study variance), H², Cochran's
    Q with its p-value, each study's random-effects weight in percent, and the prediction interval
    for the proportion in a new study (pi_low, pi_high; metafor's predict() pi.lb, pi.ub).
    knha=True gives Knapp–Hartung intervals (t with k-1 df; metafor's test="knha"), which the
    prediction interval follows. `correction` and `add` choose the continuity correction
    (see logit_effects); `corrected` counts the cohorts it touched. `cautions` lists plain-words
    warnings (k = 2, small k without Knapp–Hartung).
    """
    y, v, corrected = _checked_effects(events, totals, method, level, correction, add, min_k=2)
    res = _fit(y, v, method, level, knha)
    res.update(correction=correction, add=add if correction != "none" else 0.0, corrected=corrected)
    return res


# --- subgroups ------------------------------------------------------------------------------------

def _single(y: float, v: float, level: float) -> dict:
    """A subgroup of one cohort: its own estimate and normal interval; no tau², I² or Q."""
    import math

    (expit,) = special("expit")

    z = _critical(level, None)
    se = math.sqrt(v)
    return {"k": 1, "logit": y, "se": se, "estimate": float(expit(y)),
            "ci_low": float(expit(y - z * se)), "ci_high": float(expit(y + z * se)),
            "tau2": None, "i2": None, "h2": None, "q": None, "q_df": 0, "q_p": None,
            "pi_low": None, "pi_high": None, "weights": [100.0],
            "cautions": ["a single cohort: nothing is pooled"]}


def pool_subgroups(events: list[int], totals: list[int], groups: list, method: str = "DL",
                   level: float = 0.95, *, knha: bool = False, correction: str = "only0",
                   add: float = 0.5) -> dict:
    """Each subgroup pooled on its own (its own tau²) and the test for subgroup differences.

    Q between is the common-effect Q of the subgroup random-effects estimates with their
    standard errors, on G-1 df (R meta's Q.b.random with tau.common=FALSE; metafor:
    rma(yi=estimates, sei=ses, method="FE")$QE). With knha=True the standard errors are the
    Knapp–Hartung ones; where one of those is zero (a subgroup of identical logits) there is no
    test: q_between is None and q_between_note says why. Q within is the sum of the subgroups'
    Cochran Q. Subgroups keep the order
    in which they first appear; a one-cohort subgroup is reported as that cohort alone.
    """
    import numpy as np
    (chdtrc,) = special("chdtrc")

    if len(groups) != len(events):
        raise ValueError("need one subgroup label for each cohort")
    y, v, corrected = _checked_effects(events, totals, method, level, correction, add)
    index: dict = {}
    for i, g in enumerate(groups):
        index.setdefault(g, []).append(i)
    subgroups = {}
    for g, rows in index.items():
        rows = np.asarray(rows)
        try:
            subgroups[g] = _fit(y[rows], v[rows], method, level, knha) if len(rows) > 1 \
                else _single(float(y[rows[0]]), float(v[rows[0]]), level)
        except NotConverged as exc:
            raise NotConverged(f"subgroup {g}: {exc}") from None
        subgroups[g]["rows"] = rows.tolist()
    est = np.array([s["logit"] for s in subgroups.values()])
    se = np.array([s["se"] for s in subgroups.values()])
    n_groups = len(subgroups)
    q_b = p_b = note = None
    flat = [str(g) for g, s in subgroups.items() if not s["se"] > 0]
    if n_groups > 1 and flat:
        note = (f"no test for subgroup differences: the Knapp–Hartung standard error of subgroup "
                f"{', '.join(flat)} is zero (its cohorts' logits are identical), so the test's "
                f"inverse-variance weights are undefined (metafor stops there too); without "
                f"Knapp–Hartung (--knha) the test uses the normal standard errors")
    elif n_groups > 1:
        w = 1 / se**2
        q_b = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
        p_b = float(chdtrc(n_groups - 1, q_b))
    q_w = float(sum(s["q"] for s in subgroups.values() if s["q"] is not None))
    df_w = int(sum(s["q_df"] for s in subgroups.values()))
    overall = _fit(y, v, method, level, knha) if len(y) > 1 else None
    return {"method": method, "level": level, "test": "knha" if knha else "z",
            "correction": correction, "corrected": corrected, "subgroups": subgroups,
            "q_between": q_b, "q_between_df": n_groups - 1, "q_between_p": p_b, "q_between_note": note,
            "q_within": q_w, "q_within_df": df_w,
            "q_within_p": float(chdtrc(df_w, q_w)) if df_w > 0 else None, "overall": overall}


# --- leave-one-out --------------------------------------------------------------------------------

_SERIES_TERMS = 12  # terms of the expansion of 1/(v+t)^m around t0
_SERIES_RHO = 0.05  # |t - t0| / min(v + t0) at most this: remainder below 1e-15 relative
_EXACT_K = 400  # up to this many cohorts every omission is summed directly


class _OmitSums:
    """For omission i at tau² t_i: the sums over j != i of y_j^p / (v_j + t_i)^m, p = 0..2,
    m = 1..3. Summed directly (blocks of rows, O(k) each), or for large k from moments about a
    common t0 by the binomial series of (v + t0 + d)^-m, which is O(1) per omission and exact to
    rounding while |d| max(1/(v + t0)) <= _SERIES_RHO; rows outside that are summed directly."""

    def __init__(self, y, v, t0: float):
        import numpy as np

        self.y, self.v, self.t0 = y, v, t0
        self.k = len(y)
        self.yp = np.stack([np.ones_like(y), y, y * y])  # 3 x k
        self.series = self.k > _EXACT_K
        if self.series:
            (binom,) = special("binom")  # C(m+n-1, n): scipy's comb is binom where 0 <= n <= m+n-1

            a = 1 / (v + t0)
            self.a_max = float(a.max())
            n_terms = _SERIES_TERMS + 1
            # moments[p, q] = sum_j y_j^p a_j^q, q = 0 .. 3 + n_terms
            pw = np.ones_like(a)
            mom = np.zeros((3, 4 + n_terms))
            for q in range(4 + n_terms):
                mom[:, q] = self.yp @ pw
                pw = pw * a
            # coef[m-1][p, n] = C(m+n-1, n) * moments[p, m+n]
            self.coef = [binom(m + np.arange(n_terms) - 1, np.arange(n_terms)) * mom[:, m:m + n_terms]
                         for m in (1, 2, 3)]
            self.dominant = a / mom[0, 1] > 0.5  # a study holding most of the weight: sum directly

    def __call__(self, rows, t):
        """Array (len(rows), 3 powers of y, 3 powers of the weight) of leave-one-out sums."""
        import numpy as np

        out = np.empty((len(rows), 3, 3))
        direct = np.ones(len(rows), dtype=bool)
        if self.series:
            d = t - self.t0
            direct = (np.abs(d) * self.a_max > _SERIES_RHO) | self.dominant[rows]
            ok = ~direct
            if ok.any():
                powers = (-d[ok])[:, None] ** np.arange(_SERIES_TERMS + 1)  # rows x n
                own_w = 1 / (self.v[rows[ok]] + t[ok])
                own_y = self.yp[:, rows[ok]]  # 3 x rows
                for m in (1, 2, 3):
                    out[ok, :, m - 1] = powers @ self.coef[m - 1].T - (own_y * own_w**m).T
        idx = np.flatnonzero(direct)
        step = max(1, (1 << 20) // self.k)
        for s in range(0, len(idx), step):
            sel = idx[s:s + step]
            w = 1 / (self.v[None, :] + t[sel, None])
            w[np.arange(len(sel)), rows[sel]] = 0.0
            wm = w
            for m in (1, 2, 3):
                out[sel, :, m - 1] = wm @ self.yp.T
                if m < 3:
                    wm = wm * w
        return out


def _loo_tau2(sums: _OmitSums, method: str, q, c, df: int):
    """tau² with each study left out, by the same estimator as the full fit; q and c are the
    leave-one-out Cochran Q and DL scaling term. Iterations start at the omission's DL value, or
    for large k at the full fit's tau², which lies within O(1/k) of the answer."""
    import numpy as np

    k = sums.k
    rows = np.arange(k)
    dl = np.maximum(0.0, (q - df) / c)
    if method == "DL":
        return dl
    start = np.full(k, sums.t0) if sums.series else dl.copy()
    t = start
    if method == "REML":
        return _loo_reml(sums, t)
    # PM: the root of the generalized Q minus its df, by Newton's method (Q is decreasing in
    # tau²); zero where Cochran's Q is at most its df
    t = np.where(q <= df, 0.0, np.maximum(t, 0.0))
    active = rows[q > df]
    for _ in range(200):
        if not active.size:
            break
        s = sums(active, t[active])
        sw, swy, swy2 = s[:, 0, 0], s[:, 1, 0], s[:, 2, 0]
        sw2, sw2y, sw2y2 = s[:, 0, 1], s[:, 1, 1], s[:, 2, 1]
        mu = swy / sw
        f = swy2 - 2 * mu * swy + mu * mu * sw - df
        slope = -(sw2y2 - 2 * mu * sw2y + mu * mu * sw2)
        new = np.maximum(0.0, t[active] - f / slope)
        done = np.abs(new - t[active]) <= 1e-13 * np.maximum(1.0, new)
        t[active] = new
        active = active[~done]
    for i in active:  # did not settle: bracket and bisect this omission alone
        t[i] = _tau2_pm(np.delete(sums.y, i), np.delete(sums.v, i))
    return t


def _loo_reml(sums: _OmitSums, t):
    """REML tau² with each study left out, by the rules of _tau2_reml: all omissions iterate
    together (Fisher scoring, each step halved while it would go below zero) until a step moves
    tau² by at most 1e-12 (relative), which is the polished root. An omission whose likelihood
    also rises towards zero (a maximum there) settles at zero if it came within REML_THRESHOLD of
    it; that one, any with two maxima, and any that does not settle within REML_MAXITER steps is
    refitted alone by _tau2_reml (which may refuse: NotConverged)."""
    import numpy as np

    k = sums.k
    active = np.arange(k)
    settled = np.zeros(k, dtype=bool)
    for _ in range(REML_MAXITER):
        s = sums(active, t[active])
        sw, swy = s[:, 0, 0], s[:, 1, 0]
        sw2, sw2y, sw2y2, sw3 = s[:, 0, 1], s[:, 1, 1], s[:, 2, 1], s[:, 0, 2]
        mu = swy / sw
        step = ((sw2y2 - 2 * mu * sw2y + mu * mu * sw2) - (sw - sw2 / sw)) / (
            sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2)
        now = t[active]
        step = np.where((now <= 0) & (step < 0), 0.0, step)
        while np.any(now + step < 0):
            step = np.where(now + step < 0, step / 2, step)
        t[active] = now + step
        done = np.abs(step) <= 1e-12 * np.maximum(1.0, t[active])
        settled[active[done]] = True
        active = active[~done]
        if not active.size:
            break
    # the score at zero of each omission, from the totals at tau² = 0 less the omitted study
    y, v = sums.y, sums.v
    w = 1 / v

    def omitted(term):
        return np.sum(term) - term

    sw, sw2, sw3 = omitted(w), omitted(w**2), omitted(w**3)
    mu = omitted(w * y) / sw
    rising = (omitted(w**2 * y**2) - 2 * mu * omitted(w**2 * y) + mu * mu * sw2) - (sw - sw2 / sw) > 0
    at_zero = settled & ~rising & (t <= REML_THRESHOLD)
    t[at_zero] = 0.0
    for i in np.flatnonzero(~settled | (~rising & ~at_zero)):
        try:
            t[i] = _tau2_reml(np.delete(y, i), np.delete(v, i))
        except NotConverged as exc:
            raise NotConverged(f"with cohort {i + 1} of {k} left out, {exc}") from None
    return t


def leave_one_out(events: list[int], totals: list[int], method: str = "DL", level: float = 0.95,
                  *, knha: bool = False, correction: str = "only0", add: float = 0.5) -> dict:
    """The pooled estimate refitted with each cohort left out (metafor's leave1out(rma(...))).

    Lists, one entry per omitted cohort in input order: estimate, ci_low, ci_high (proportions),
    logit, se, tau2, i2, h2, q, q_p. `most_influential` is the index of the cohort whose omission
    moves the pooled proportion most, `largest_shift` that change (proportion, signed).
    O(k) memory; time O(k) per omission for small k, about O(1) per omission for large k.
    """
    import numpy as np
    chdtrc, expit = special("chdtrc", "expit")

    y, v, corrected = _checked_effects(events, totals, method, level, correction, add, min_k=2,
                                       what="leaving one out")
    k = len(y)
    full = _fit(y, v, method, level, knha)
    df = k - 2
    shift = full["common_logit"]  # centre the effects: the sums below then lose no digits
    yc = y - shift
    w = 1 / v
    sw, sw2 = np.sum(w) - w, np.sum(w**2) - w**2
    swy, swy2 = np.sum(w * yc) - w * yc, np.sum(w * yc**2) - w * yc**2
    if k == 2:  # each fit is the other cohort alone (metafor: k = 1, tau² = 0)
        tau2 = np.zeros(2)
        mu, se = yc[::-1].copy(), np.sqrt(v[::-1])
        q = np.zeros(2)
        i2, h2, q_p = np.zeros(2), np.ones(2), np.ones(2)
        crit = np.full(2, _critical(level, None))
    else:
        q = swy2 - swy**2 / sw
        c = sw - sw2 / sw
        sums = _OmitSums(yc, v, full["tau2"])
        tau2 = _loo_tau2(sums, method, q, c, df)
        s = sums(np.arange(k), tau2)
        rw, rwy, rwy2 = s[:, 0, 0], s[:, 1, 0], s[:, 2, 0]
        mu = rwy / rw
        se = np.sqrt(1 / rw)
        if knha:
            se = np.sqrt(np.maximum(rwy2 - rwy**2 / rw, 0.0) / df / rw)
        s2 = df * sw / (sw**2 - sw2)
        i2 = 100 * tau2 / (tau2 + s2)
        h2 = (tau2 + s2) / s2
        q_p = chdtrc(df, q)
        crit = np.full(k, _critical(level, df if knha else None))
    logit = mu + shift
    est = expit(logit)
    moved = est - full["estimate"]
    top = int(np.argmax(np.abs(moved)))
    return {"method": method, "level": level, "test": "knha" if knha else "z", "k": k,
            "correction": correction, "corrected": corrected,
            "estimate": est.tolist(), "ci_low": expit(logit - crit * se).tolist(),
            "ci_high": expit(logit + crit * se).tolist(), "logit": logit.tolist(),
            "se": se.tolist(), "tau2": np.asarray(tau2, dtype=float).tolist(), "i2": i2.tolist(),
            "h2": h2.tolist(), "q": q.tolist(), "q_p": np.asarray(q_p, dtype=float).tolist(),
            "most_influential": top, "largest_shift": float(moved[top])}
