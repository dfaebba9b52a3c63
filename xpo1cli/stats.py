"""Intervals of proportions and of their differences (pooling: `metaanalysis`, `heterogeneity`).
Heavy libraries are imported inside the functions that need them, so listing commands never pay
for them: exact intervals need only scipy's beta quantiles."""

from __future__ import annotations

import math
import sys

CI_METHODS = ("exact", "wilson")


def special(*names: str) -> tuple:
    """scipy.special's functions by name, by the cheapest import: the ones used here are ufuncs of
    its compiled module `_ufuncs`, which loads in about 20 ms, whereas the package's own
    `__init__` first builds its array-API layer (numpy.testing, f2py, unittest: about 0.2 s).
    `_ufuncs` is loaded under a bare package entry that is removed again, so a later
    `import scipy.special` runs in full and hands out these same objects. Where this scipy keeps
    them elsewhere, or has been imported already, the package itself serves them."""
    public = sys.modules.get("scipy.special")
    if public is None:
        try:
            found = tuple(getattr(_compiled_special(), name) for name in names)
        except (ImportError, AttributeError):
            found = None
        if found is not None:
            return found
    import scipy.special as public

    return tuple(getattr(public, name) for name in names)


def _compiled_special():
    """scipy.special._ufuncs, imported without running scipy.special's `__init__`."""
    compiled = sys.modules.get("scipy.special._ufuncs")
    if compiled is not None:
        return compiled
    import importlib
    import importlib.util
    import types

    spec = importlib.util.find_spec("scipy.special")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("scipy.special is not a package here")
    bare = types.ModuleType("scipy.special")
    bare.__path__ = list(spec.submodule_search_locations)
    sys.modules["scipy.special"] = bare
    try:
        return importlib.import_module("scipy.special._ufuncs")
    finally:
        if sys.modules.get("scipy.special") is bare:
            del sys.modules["scipy.special"]


def check_level(level: float) -> float:
    if not (0.5 <= level < 1):
        raise ValueError(f"confidence level must be at least 0.5 and below 1, not {level}")
    return level


def proportion_ci(k: int, n: int, method: str = "exact", level: float = 0.95) -> tuple[float, float]:
    """Confidence interval (as proportions) for k events of n (see proportion_cis)."""
    (lo,), (hi,) = proportion_cis([k], [n], method, level)
    return float(lo), float(hi)


def proportion_cis(ks, ns, method: str = "exact", level: float = 0.95):
    """Confidence intervals (as proportions, two arrays) for many k events of n, in one call of
    the interval functions over arrays: element for element what one call each gives.

    exact: Clopper–Pearson, from scipy's inverse regularized incomplete beta (beta quantiles);
    wilson: the Wilson score interval, from statsmodels' proportion_confint.
    """
    import numpy as np

    k, n = np.asarray(ks, dtype="float64"), np.asarray(ns, dtype="float64")
    if len(k) and (np.any(n <= 0) or np.any(k < 0) or np.any(k > n)):
        bad = int(np.flatnonzero((n <= 0) | (k < 0) | (k > n))[0])
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={ks[bad]}, n={ns[bad]}")
    alpha = 1 - check_level(level)
    if method == "exact":
        (betaincinv,) = special("betaincinv")

        with np.errstate(invalid="ignore", divide="ignore"):  # k = 0 and k = n are set apart below
            lo = np.where(k == 0, 0.0, betaincinv(np.maximum(k, 1), n - k + 1, alpha / 2))
            hi = np.where(k == n, 1.0, betaincinv(k + 1, np.maximum(n - k, 1), 1 - alpha / 2))
        return np.atleast_1d(lo), np.atleast_1d(hi)
    if method == "wilson":
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson") if len(k) else (k, k)
        return np.atleast_1d(lo), np.atleast_1d(hi)
    raise ValueError(f"unknown interval method '{method}'; known: {', '.join(CI_METHODS)}")


def risk_difference_ci(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (his method 10, from two Wilson intervals without
    continuity correction), as proportions: what statsmodels' confint_proportions_2indep(
    method="newcomb") gives (a test checks they agree), without statsmodels' second of import."""
    import math

    (ndtri,) = special("ndtri")
    z = float(ndtri(1 - (1 - level) / 2))

    def wilson(x: int, n: int) -> tuple[float, float]:
        centre = (x + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4)
        return centre - half, centre + half

    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson(x1, n1), wilson(x2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def optimal_information_size(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Patients (two equal arms together) a trial needs to detect the difference between two
    proportions (0-1) with a two-sided test at alpha and the given power: GRADE's optimal information
    size, normal approximation. None for equal proportions (no difference to detect)."""
    from statistics import NormalDist

    if p1 == p2:
        return None
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    mean = (p1 + p2) / 2
    return 2 * math.ceil(2 * z * z * mean * (1 - mean) / (p1 - p2) ** 2)


def percent_ci(k, n, method: str = "exact", level: float = 0.95) -> tuple[float | None, float | None]:
    """The interval in percent rounded to 0.1, or (None, None) when k or n is missing."""
    if k is None or n is None or (isinstance(k, float) and math.isnan(k)):
        return None, None
    (lo,), (hi,) = percent_cis([int(k)], [int(n)], method, level)
    return lo, hi


def percent_cis(ks: list[int], ns: list[int], method: str = "exact", level: float = 0.95
                ) -> tuple[list[float], list[float]]:
    """proportion_cis in percent, each rounded to 0.1 as percent_ci rounds."""
    lo, hi = proportion_cis(ks, ns, method, level)
    return [round(100 * float(v), 1) for v in lo], [round(100 * float(v), 1) for v in hi]

