"""Intervals and pooling. Heavy libraries are imported inside the functions that need them, so
listing commands never pay for them: exact intervals need only scipy's beta quantiles."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

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


# --- random-effects pooling of proportions (logit scale, as metafor's escalc(measure="PLO")) ----

POOL_METHODS = ("DL", "REML", "PM")
# continuity corrections, as metafor's escalc(to=...): only0 (the default), all, none
CORRECTIONS = ("only0", "all", "none")
# No binomial-normal GLMM (metafor's rma.glmm(measure="PLO")) is offered: it needs the marginal
# likelihood maximized by adaptive Gauss–Hermite quadrature, as lme4 does, and has not yet been
# written and checked against metafor; until it is, 0/n and n/n cohorts are handled only by the
# stated continuity correction.


def _checked_effects(events, totals, method: str, level: float, correction: str, add: float,
                     min_k: int = 1, what: str = "pooling"):
    """The method, level and cohort count checked, then _effects: the common prologue of every
    pooling function."""
    if method not in POOL_METHODS:
        raise ValueError(f"unknown method '{method}'; known: {', '.join(POOL_METHODS)}")
    if len(events) < min_k:
        raise ValueError(f"{what} needs at least two cohorts")
    check_level(level)
    return _effects(events, totals, correction, add)


def _effects(events, totals, correction: str = "only0", add: float = 0.5):
    """Logit proportions, their sampling variances (numpy arrays) and how many cohorts were
    corrected."""
    import numpy as np

    if correction not in CORRECTIONS:
        raise ValueError(f"unknown continuity correction '{correction}'; known: {', '.join(CORRECTIONS)}")
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    if x.shape != n.shape or np.any(n <= 0) or np.any(x < 0) or np.any(x > n):
        raise ValueError("need as many events as totals, with 0 <= events <= n and n > 0")
    extreme = (x == 0) | (x == n)
    if correction == "none":
        if extreme.any():
            bad = ", ".join(f"{int(a)}/{int(b)}" for a, b in zip(x[extreme], n[extreme], strict=True))
            raise ValueError(f"without a continuity correction the logit of a 0/n or n/n cohort is "
                             f"infinite ({bad}); use the default correction (0.5 added to both cells)")
        fix = np.zeros_like(x, dtype=bool)
    else:
        if add <= 0 and extreme.any():
            raise ValueError("a 0/n or n/n cohort needs a continuity correction above zero")
        fix = extreme if correction == "only0" else np.ones_like(x, dtype=bool)
    x = np.where(fix, x + add, x)
    n = np.where(fix, n + 2 * add, n)
    return np.log(x / (n - x)), 1 / x + 1 / (n - x), int(fix.sum())


def logit_effects(events: list[int], totals: list[int], correction: str = "only0",
                  add: float = 0.5) -> tuple[list[float], list[float]]:
    """Logit proportions and their sampling variances. By default a study with 0 or all events
    gets `add` (0.5) added to both cells (metafor's default add=1/2, to="only0"); correction="all"
    adds it to every study (to="all"); "none" refuses a 0/n or n/n study, whose logit is infinite."""
    yi, vi, _ = _effects(events, totals, correction, add)
    return yi.tolist(), vi.tolist()


def _residual_projection(v, X):
    """P = W - W X (X'WX)^-1 X'W with W = diag(1/v): the residual-maker of the weighted
    meta-regression on the columns of X (for X a column of ones, W - w w'/sum(w))."""
    import numpy as np

    w = 1 / v
    wx = w[:, None] * X
    return np.diag(w) - wx @ np.linalg.solve(X.T @ wx, wx.T)


def _tau2_dl(y, v, X=None) -> float:
    """DerSimonian–Laird; with a design matrix X its generalization to meta-regression (metafor's
    rma.uni(method = "DL") with mods): (Q_E - (k - p)) / tr P at tau² = 0."""
    import numpy as np

    if X is not None:
        p_mat = _residual_projection(v, X)
        return float(max(0.0, (y @ p_mat @ y - (len(y) - X.shape[1])) / np.trace(p_mat)))
    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(max(0.0, (q - (len(y) - 1)) / c))


class NotConverged(ValueError):
    """An iterative estimator of tau² that did not settle: no number is given for it."""


# Fisher scoring as metafor's rma.uni does it (control: threshold 1e-5 on the change in tau²,
# maxiter 100, stepadj 1, tau2.min 0, ll0check with tol = .Machine$double.eps^0.25)
REML_THRESHOLD = 1e-5
REML_MAXITER = 100
_LL0_TOL = 2.0 ** -13  # .Machine$double.eps^0.25
_REFUSAL = "the DerSimonian–Laird estimator (method DL, --method DL) has a closed form and always gives one"


def _root(f, lo: float, hi: float, flo: float, fhi: float) -> tuple[float, bool]:
    """A root of f between lo and hi, where f(lo) and f(hi) have opposite signs, by the Illinois
    variant of regula falsi (superlinear, and the bracket always holds it): (root, whether it
    settled to 1e-13 relative within 200 steps). Here rather than scipy.optimize, whose import
    costs more than a whole REML fit of 10,000 cohorts."""
    side = 0
    for _ in range(200):
        mid = (lo * fhi - hi * flo) / (fhi - flo)
        if not lo < mid < hi and not hi < mid < lo:
            mid = (lo + hi) / 2
        fmid = f(mid)
        if fmid == 0 or abs(hi - lo) <= 1e-15 + 1e-13 * abs(mid):
            return mid, True
        if (fmid > 0) == (fhi > 0):
            hi, fhi = mid, fmid
            if side == -1:
                flo /= 2
            side = -1
        else:
            lo, flo = mid, fmid
            if side == 1:
                fhi /= 2
            side = 1
    return (lo + hi) / 2, False


def _tau2_he(y, v, X=None) -> float:
    """Hedges' estimator, metafor's start for REML: (sum of squares - (1-1/k) sum(v)) / (k-1);
    with a design matrix X, (RSS - sum (1 - h_ii) v_i) / (k - p) from the unweighted fit."""
    import numpy as np

    k = len(y)
    if X is not None:
        resid = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
        r = resid @ y
        return float(max(0.0, (r @ r - np.sum(np.diag(resid) * v)) / (k - X.shape[1])))
    return float(max(0.0, (np.sum((y - np.mean(y)) ** 2) - (1 - 1 / k) * np.sum(v)) / (k - 1)))


def _reml_step(y, v, t2: float, X=None) -> float:
    """One Fisher scoring step (y'PPy - tr P) / tr(PP) at tau² = t2, with P = W - w w'/sum(w):
    tr P = sum(w) - sum(w²)/sum(w) and tr(PP) = sum(w²) - 2 sum(w³)/sum(w) + (sum(w²)/sum(w))²,
    so time and memory are O(k). With a design matrix X, P is its residual projection."""
    import numpy as np

    if X is not None:
        p_mat = _residual_projection(v + t2, X)
        py = p_mat @ y
        return float((py @ py - np.trace(p_mat)) / np.sum(p_mat * p_mat))
    w = 1 / (v + t2)
    sw, sw2 = np.sum(w), np.sum(w**2)
    r = y - np.sum(w * y) / sw
    return float((np.sum(w**2 * r**2) - (sw - sw2 / sw)) / (sw2 - 2 * np.sum(w**3) / sw + (sw2 / sw) ** 2))


def _inside(t2: float, step: float) -> float:
    """The step halved until tau² stays at or above zero (metafor's tau2.min loop)."""
    if t2 <= 0 and step < 0:
        return 0.0
    while t2 + step < 0:
        step /= 2
    return step


def _reml_ll(y, v, t2: float, X=None) -> float:
    """The restricted log-likelihood at tau² = t2, up to a constant: -(sum log(v + t2)
    + log sum(w) + sum w (y - mu)²) / 2; with a design matrix X, log det(X'WX) and y'Py."""
    import numpy as np

    if X is not None:
        w = 1 / (v + t2)
        logdet = np.linalg.slogdet(X.T @ (w[:, None] * X))[1]
        return float(-0.5 * (np.sum(np.log(v + t2)) + logdet + y @ _residual_projection(v + t2, X) @ y))
    w = 1 / (v + t2)
    sw = np.sum(w)
    mu = np.sum(w * y) / sw
    return float(-0.5 * (np.sum(np.log(v + t2)) + np.log(sw) + np.sum(w * (y - mu) ** 2)))


def _fisher_scoring(y, v, t2: float, X=None) -> tuple[float, bool]:
    """metafor's iteration from t2: (tau², whether a step smaller than REML_THRESHOLD came
    within REML_MAXITER steps)."""
    for _ in range(REML_MAXITER):
        step = _inside(t2, _reml_step(y, v, t2, X))
        t2 += step
        if abs(step) < REML_THRESHOLD:
            return t2, True
    return t2, False


def _polish(y, v, t2: float, X=None) -> float:
    """A converged Fisher scoring value made exact: the root of the REML estimating equation
    (where the step changes sign from up to down) bracketed about it and found by _root; where
    the likelihood falls from zero to it, zero. Fisher scoring stops within about 1e-5 of the
    maximum, and creeps where the likelihood is flat; a root that cannot be bracketed leaves the
    value as it is."""
    if t2 <= 0:
        return 0.0
    lo = hi = t2
    for _ in range(60):
        if _reml_step(y, v, lo, X) > 0:
            break
        lo /= 2
    else:  # the likelihood falls all the way from zero: its maximum is the boundary
        return 0.0 if _reml_ll(y, v, 0.0, X) >= _reml_ll(y, v, t2, X) else t2
    for _ in range(60):
        if _reml_step(y, v, hi, X) < 0:
            break
        hi = 2 * hi
    else:
        return t2
    if lo == hi:
        return t2
    root, settled = _root(lambda t: _reml_step(y, v, t, X), lo, hi, _reml_step(y, v, lo, X),
                          _reml_step(y, v, hi, X))
    return float(root) if settled else t2


def _tau2_reml(y, v, X=None) -> float:
    """Restricted maximum likelihood, by Fisher scoring from Hedges' estimate with each step
    halved while it would take tau² below zero, as metafor's rma.uni does; then metafor's
    boundary check: if the likelihood at tau² = 0 is higher (beyond eps^0.25), the answer is 0.
    Where the iteration does not settle within 100 steps it is run once more from the boundary
    (metafor's remedy tau2.init = 0), and its answer kept unless a point the first run reached
    is more likely. Otherwise NotConverged: never the last step of a loop that did not settle.
    A converged value is made exact by _polish. With a design matrix X, the same for the
    meta-regression (the residual variance of a network meta-analysis)."""
    t2, converged = _fisher_scoring(y, v, _tau2_he(y, v, X), X)
    if not converged:
        reached = t2
        t2, converged = _fisher_scoring(y, v, 0.0, X)
        if not converged or _reml_ll(y, v, reached, X) > _reml_ll(y, v, _polish(y, v, t2, X), X):
            raise NotConverged(f"REML did not converge: Fisher scoring still moved tau² after "
                               f"{REML_MAXITER} steps from Hedges' start and from zero; {_REFUSAL}")
    if t2 > REML_THRESHOLD and _reml_ll(y, v, 0.0, X) - _reml_ll(y, v, t2, X) > _LL0_TOL:
        return 0.0
    return _polish(y, v, t2, X)


def _tau2_pm(y, v) -> float:
    """Paule–Mandel: the tau² at which the generalized Q equals its degrees of freedom (zero
    where Cochran's Q is already at most k-1), found by _root in a bracket; a bracket
    that cannot be found or a search that does not settle raises NotConverged."""
    import numpy as np

    def excess(t2):
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return float(np.sum(w * (y - mu) ** 2) - (len(y) - 1))

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
        if hi > 1e12:
            raise NotConverged(f"Paule–Mandel found no tau² up to 1e12 at which Q falls to its "
                               f"degrees of freedom; {_REFUSAL}")
    root, settled = _root(excess, 0.0, hi, excess(0.0), excess(hi))
    if not settled:
        raise NotConverged(f"Paule–Mandel did not converge in 200 steps; {_REFUSAL}")
    return float(root)


_TAU2 = {"DL": _tau2_dl, "REML": _tau2_reml, "PM": _tau2_pm}
NETWORK_METHODS = ("REML", "DL")


@dataclass(frozen=True)
class RegressionFit:
    """A weighted meta-regression without intercept (a contrast-based network meta-analysis):
    coefficients, their covariance, the residual variance tau² and its estimator, the residual
    heterogeneity Q_E (at tau² = 0) on k - p degrees of freedom."""

    beta: list[float]
    cov: list[list[float]]
    tau2: float
    method: str
    q: float
    df: int

    @property
    def q_p(self) -> float:
        """p-value of Q_E against chi² on df degrees of freedom (nan without residual df)."""
        if self.df < 1:
            return float("nan")
        return float(special("chdtrc")[0](self.df, self.q))


def meta_regression(y, v, X, method: str = "FE") -> RegressionFit:
    """Generalized least squares of y (sampling variances v) on the columns of X with no
    intercept, under a common effect (FE) or with a between-study variance tau² estimated by REML
    or DerSimonian–Laird (DL) and added to each v: metafor's rma.mv(yi, vi, mods = ~ X - 1,
    random = ~ 1 | study, method = "REML") for one row per study, or rma(yi, vi, mods = X,
    intercept = FALSE, method = "DL"). Without residual degrees of freedom tau² cannot be
    estimated and is 0."""
    import numpy as np

    if method not in ("FE", *NETWORK_METHODS):
        raise ValueError(f"unknown method '{method}'; known: FE, {', '.join(NETWORK_METHODS)}")
    y, v, X = np.asarray(y, dtype=float), np.asarray(v, dtype=float), np.asarray(X, dtype=float)
    df = len(y) - X.shape[1]
    q = float(y @ _residual_projection(v, X) @ y) if df > 0 else 0.0
    tau2 = 0.0 if method == "FE" or df < 1 else _TAU2[method](y, v, X)
    w = 1 / (v + tau2)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ (X.T @ (w * y))
    return RegressionFit(beta=beta.tolist(), cov=cov.tolist(), tau2=float(tau2), method=method, q=q, df=df)


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
