"""Intervals and pooling. Heavy libraries are imported inside the functions that need them, so
listing commands never pay for them: exact intervals need only scipy's beta quantiles."""

from __future__ import annotations

import math

CI_METHODS = ("exact", "wilson")


def check_level(level: float) -> float:
    if not (0.5 <= level < 1):
        raise ValueError(f"confidence level must be at least 0.5 and below 1, not {level}")
    return level


def proportion_ci(k: int, n: int, method: str = "exact", level: float = 0.95) -> tuple[float, float]:
    """Confidence interval (as proportions) for k events of n.

    exact: Clopper–Pearson, from scipy's inverse regularized incomplete beta (beta quantiles);
    wilson: the Wilson score interval, from statsmodels' proportion_confint.
    """
    if n <= 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    alpha = 1 - check_level(level)
    if method == "exact":
        from scipy.special import betaincinv

        lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
        hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
        return lo, hi
    if method == "wilson":
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
        return float(lo), float(hi)
    raise ValueError(f"unknown interval method '{method}'; known: {', '.join(CI_METHODS)}")


def percent_ci(k, n, method: str = "exact", level: float = 0.95) -> tuple[float | None, float | None]:
    """The interval in percent rounded to 0.1, or (None, None) when k or n is missing."""
    if k is None or n is None or (isinstance(k, float) and math.isnan(k)):
        return None, None
    lo, hi = proportion_ci(int(k), int(n), method, level)
    return round(100 * lo, 1), round(100 * hi, 1)


# --- random-effects pooling of proportions (logit scale, as metafor's escalc(measure="PLO")) ----

POOL_METHODS = ("DL", "REML", "PM")


def logit_effects(events: list[int], totals: list[int]) -> tuple[list[float], list[float]]:
    """Logit proportions and their sampling variances; a study with 0 or all events gets 0.5
    added to both cells (metafor's default add=1/2, to="only0")."""
    import numpy as np

    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    zero = (x == 0) | (x == n)
    x = np.where(zero, x + 0.5, x)
    n = np.where(zero, n + 1.0, n)
    yi = np.log(x / (n - x))
    vi = 1 / x + 1 / (n - x)
    return yi.tolist(), vi.tolist()


def _tau2_dl(y, v) -> float:
    import numpy as np

    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(max(0.0, (q - (len(y) - 1)) / c))


def _tau2_pm(y, v) -> float:
    """Paule–Mandel: the tau² at which the generalized Q equals its degrees of freedom."""
    import numpy as np
    from scipy.optimize import brentq

    def excess(t2):
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return float(np.sum(w * (y - mu) ** 2) - (len(y) - 1))

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
    return float(brentq(excess, 0.0, hi, xtol=1e-12, rtol=1e-12))


def _tau2_reml(y, v) -> float:
    """Restricted maximum likelihood, by Fisher scoring from the DL start (as metafor does),
    truncated at zero."""
    import numpy as np

    t2 = _tau2_dl(y, v)
    for _ in range(1000):
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        p_diag = w - w**2 / np.sum(w)
        # REML score and expected information for tau²
        r = y - mu
        score = 0.5 * (np.sum(w**2 * r**2) - np.sum(p_diag))
        pmat = np.diag(w) - np.outer(w, w) / np.sum(w)
        info = 0.5 * np.sum(pmat * pmat)
        new = max(0.0, t2 + score / info)
        if abs(new - t2) < 1e-12:
            t2 = new
            break
        t2 = new
    return float(t2)


def pool_proportions(events: list[int], totals: list[int], method: str = "DL",
                     level: float = 0.95) -> dict:
    """Random-effects meta-analysis of proportions on the logit scale.

    Returns the random-effects and common-effect estimates (proportions, with CIs), tau², I²
    (metafor's definition: tau² over tau² plus the typical within-study variance), H², Cochran's
    Q with its p-value, and each study's random-effects weight in percent.
    """
    import numpy as np
    from scipy.special import chdtrc, expit, ndtri

    if method not in POOL_METHODS:
        raise ValueError(f"unknown method '{method}'; known: {', '.join(POOL_METHODS)}")
    if len(events) < 2:
        raise ValueError("pooling needs at least two cohorts")
    z = float(ndtri(1 - (1 - check_level(level)) / 2))
    y, v = (np.asarray(a) for a in logit_effects(events, totals))
    k = len(y)
    w_fe = 1 / v
    mu_fe = float(np.sum(w_fe * y) / np.sum(w_fe))
    se_fe = float(np.sqrt(1 / np.sum(w_fe)))
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    tau2 = {"DL": _tau2_dl, "REML": _tau2_reml, "PM": _tau2_pm}[method](y, v)
    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(1 / np.sum(w)))
    s2 = (k - 1) * np.sum(w_fe) / (np.sum(w_fe) ** 2 - np.sum(w_fe**2))
    return {
        "method": method, "k": k, "level": level,
        "logit": mu, "se": se,
        "estimate": float(expit(mu)), "ci_low": float(expit(mu - z * se)),
        "ci_high": float(expit(mu + z * se)),
        "common_logit": mu_fe, "common_se": se_fe, "common_estimate": float(expit(mu_fe)),
        "common_ci_low": float(expit(mu_fe - z * se_fe)),
        "common_ci_high": float(expit(mu_fe + z * se_fe)),
        "tau2": tau2, "i2": float(100 * tau2 / (tau2 + s2)), "h2": float((tau2 + s2) / s2),
        "q": q, "q_df": k - 1, "q_p": float(chdtrc(k - 1, q)),
        "weights": (100 * w / np.sum(w)).tolist(), "yi": y.tolist(), "vi": v.tolist(),
    }
