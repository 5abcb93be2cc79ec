"""80% intervals of predicted customer value: a parametric bootstrap over the fit's parameters.

The BG/NBD and Gamma-Gamma parameters are redrawn from their estimated sampling
distribution and every customer's value is recomputed under each draw; the 10th and 90th
percentiles over the draws are the interval. The draws come from sampling-importance
resampling: proposals from a multivariate t around the estimate (log-parameters, scale
from the inverse Hessian of the log-likelihood, ``statsmodels`` ``approx_hess``), weighted
by likelihood / proposal density. Where the likelihood is flat along a ridge (dropout
not identified) the Hessian has a near-zero eigenvalue; the proposal then spreads
:data:`MAX_LOG_SD` log-units along it and the weights keep every draw the data cannot
tell from the estimate, so the ridge shows in the interval instead of being hidden by a
quadratic approximation.

The intervals cover the model's uncertainty about each customer's *expected* value, not
the luck of their next purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import clv

__all__ = ["DRAWS", "ParameterDraws", "draw_parameters", "draw_values", "add_intervals"]

DRAWS = 100  # parameter draws (after resampling)
PROPOSALS = 400  # proposals weighed per model
MAX_LOG_SD = 2.0  # widest proposal spread (log-units) along a flat direction
LEVEL = 0.8
_BOUND = 15.0  # the fit's bounds on log-parameters


@dataclass
class ParameterDraws:
    """Resampled parameter draws, one row each, and their effective sample sizes."""

    bgnbd: np.ndarray  # (draws, 4): r, alpha, a, b
    gamma_gamma: np.ndarray  # (draws, 3): p, q, v
    effective: dict[str, float]


def _proposal(centre: np.ndarray, scale: np.ndarray, rng: np.random.Generator) -> Any:
    from scipy.stats import multivariate_t

    return multivariate_t(loc=centre, shape=scale, df=5, seed=rng)


def _resample(
    loglik: Any, estimate: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Sampling-importance resampling of one model's log-parameters around ``estimate``.

    Two rounds: a multivariate t from the Hessian at the estimate, then one matched to
    the first round's weighted draws (a likelihood that is skewed along a ridge is
    covered by the second); all draws are weighed against the mixture of both.
    """
    from statsmodels.tools.numdiff import approx_hess

    centre = np.log(estimate)
    hessian = approx_hess(centre, lambda lp: -float(np.sum(loglik(np.exp(lp)[:, None]))))
    values, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    values = np.maximum(values, 1.0 / MAX_LOG_SD**2)
    first = _proposal(centre, (vectors / values) @ vectors.T * 1.5, rng)
    points = np.atleast_2d(first.rvs(size=PROPOSALS // 2))
    points = points[(np.abs(points) <= _BOUND).all(axis=1)]
    log_like = np.sum(loglik(np.exp(points).T[..., None]), axis=1)
    weight = _normalise(log_like - first.logpdf(points))
    mean = weight @ points
    spread = (points - mean).T @ ((points - mean) * weight[:, None])
    proposals = [first]
    if np.all(np.isfinite(spread)) and np.linalg.matrix_rank(spread) == len(centre):
        second = _proposal(mean, spread * 1.5, rng)
        more = np.atleast_2d(second.rvs(size=PROPOSALS // 2))
        more = more[(np.abs(more) <= _BOUND).all(axis=1)]
        points = np.vstack([points, more])
        log_like = np.concatenate([log_like, np.sum(loglik(np.exp(more).T[..., None]), axis=1)])
        proposals.append(second)
    mixture = np.logaddexp.reduce([q.logpdf(points) for q in proposals], axis=0)
    weight = _normalise(log_like - mixture)
    effective = float(1.0 / np.sum(weight**2))
    # systematic resampling: draws spread evenly over the cumulative weights
    picks = np.searchsorted(np.cumsum(weight), (rng.random() + np.arange(draws)) / draws)
    return np.exp(points[np.minimum(picks, len(points) - 1)]), effective


def _normalise(log_weight: np.ndarray) -> np.ndarray:
    log_weight = np.nan_to_num(log_weight - np.nanmax(log_weight), nan=-np.inf)
    weight = np.exp(log_weight)
    return weight / weight.sum()


def _bgnbd_by_draw(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> Any:
    """The BG/NBD log-likelihood per draw and customer, its gamma functions computed once
    per distinct frequency (the same terms as ``clv._bgnbd_log_likelihood``)."""
    from scipy.special import gammaln

    distinct, at = np.unique(x, return_inverse=True)
    at = at.ravel()

    def loglik(params: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        per_x = (
            gammaln(r + distinct)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + distinct)
            - gammaln(b)
            - gammaln(a + b + distinct)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            dropped = np.log(a) - np.log(np.maximum(b + distinct - 1, 1e-300))
            dropped = np.where(distinct > 0, dropped, -np.inf)
            a4 = dropped[..., at] - (r + x) * np.log(alpha + t_x)
        return per_x[..., at] + np.logaddexp(-(r + x) * np.log(alpha + age), a4)

    return loglik


def _gamma_gamma_by_draw(x: np.ndarray, m: np.ndarray) -> Any:
    """The Gamma-Gamma log-likelihood per draw and customer, gamma functions once per
    distinct frequency (the terms of ``clv._gamma_gamma_log_likelihood``)."""
    from scipy.special import gammaln

    distinct, at = np.unique(x, return_inverse=True)
    at = at.ravel()
    log_x, log_m = np.log(x), np.log(m)

    def loglik(params: np.ndarray) -> np.ndarray:
        p, q, v = params
        per_x = gammaln(p * distinct + q) - gammaln(p * distinct) - gammaln(q) + q * np.log(v)
        px = p * x
        return per_x[..., at] + (px - 1) * log_m + px * log_x - (px + q) * np.log(x * m + v)

    return loglik


def draw_parameters(
    summary: pd.DataFrame, fit: clv.ClvFit, draws: int = DRAWS, seed: int = 20
) -> ParameterDraws:
    """Redraw the BG/NBD and Gamma-Gamma parameters from their sampling distribution.

    Seeded, so a report's intervals are the same on every run and every engine.
    """
    rng = np.random.default_rng(seed)
    x, t_x, age = (summary[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "age"))
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    rx = repeat["frequency"].to_numpy(dtype="float64")
    rm = repeat["monetary_value"].to_numpy(dtype="float64")
    bg, bg_n = _resample(_bgnbd_by_draw(x, t_x, age), fit.bgnbd, draws, rng)
    gg, gg_n = _resample(_gamma_gamma_by_draw(rx, rm), fit.gamma_gamma, draws, rng)
    return ParameterDraws(bg, gg, {"bgnbd": round(bg_n, 1), "gamma_gamma": round(gg_n, 1)})


def draw_values(
    summary: pd.DataFrame, predicted: pd.DataFrame, draws: ParameterDraws, horizon_months: int
) -> np.ndarray:
    """Each customer's predicted value under each parameter draw: (draws, customers).

    Rows of ``summary`` and ``predicted`` are matched by ``customer_id``; columns follow
    ``predicted``. Under a draw, a customer's value is their expected purchases over the
    horizon times their expected spend per purchase, discounted as at the estimate (the
    estimate's ratio of discounted to undiscounted value): one hypergeometric function per
    customer and draw instead of one per month.
    """
    rows = summary.set_index("customer_id").loc[predicted["customer_id"]]
    x, t_x, age = (rows[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "age"))
    m = rows["monetary_value"].to_numpy(dtype="float64")
    days = horizon_months * clv._DAYS_PER_MONTH
    # resampling repeats draws: compute each distinct one once
    unique, inverse = np.unique(draws.bgnbd, axis=0, return_inverse=True)
    purchases = clv.bgnbd_expected_purchases(unique, days, x, t_x, age)[inverse.ravel()]
    p, q, v = (draws.gamma_gamma[:, k, None] for k in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        spend = p * (v + x * np.maximum(m, 0)) / (p * x + q - 1)
    spend = np.where((x > 0) & (m <= 0), 0.0, spend)
    undiscounted = predicted["expected_purchases_12m"] * predicted["expected_spend_per_purchase"]
    undiscounted = undiscounted.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        discount = np.where(
            undiscounted > 0, predicted["predicted_clv_12m"].to_numpy() / undiscounted, 1.0
        )
    values = purchases * spend * discount
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=0.0), 0, None)


def interval(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The central :data:`LEVEL` interval over draws (10th and 90th percentiles)."""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail], axis=axis)
    return low, high


def add_intervals(predicted: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """``predicted`` with ``predicted_clv_12m_low`` and ``_high`` after the point value."""
    low, high = interval(values)
    out = predicted.copy()
    at = out.columns.get_loc("predicted_clv_12m") + 1
    out.insert(at, "predicted_clv_12m_low", np.minimum(low, out["predicted_clv_12m"]))
    out.insert(at + 1, "predicted_clv_12m_high", np.maximum(high, out["predicted_clv_12m"]))
    return out


def total_interval(values: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, float]:
    """80% interval of the total value of the customers in ``mask`` (all by default)."""
    totals = values.sum(axis=1) if mask is None else values[:, mask].sum(axis=1)
    low, high = interval(totals)
    return float(low), float(high)
