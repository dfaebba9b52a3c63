"""The effects pooled and the between-study variance tau²: logit proportions with their
continuity correction (as metafor's escalc(measure="PLO")), the DerSimonian–Laird, REML and
Paule–Mandel estimators, and the weighted meta-regression a network meta-analysis fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from .stats import check_level, special

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
