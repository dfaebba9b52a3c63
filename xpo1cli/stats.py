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
