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


def _resample(
    name: str, loglik: Any, estimate: np.ndarray, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Sampling-importance resampling of one model's parameters around ``estimate``."""
    from scipy.stats import multivariate_t
    from statsmodels.tools.numdiff import approx_hess

    centre = np.log(estimate)
    hessian = approx_hess(centre, lambda lp: -float(np.sum(loglik(np.exp(lp)[:, None]))))
    values, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    values = np.maximum(values, 1.0 / MAX_LOG_SD**2)
    scale = (vectors / values) @ vectors.T
    proposal = multivariate_t(loc=centre, shape=scale, df=5, seed=rng)
    points = np.atleast_2d(proposal.rvs(size=PROPOSALS))
    points = points[(np.abs(points) <= _BOUND).all(axis=1)]
    log_weight = np.sum(loglik(np.exp(points).T[..., None]), axis=1) - proposal.logpdf(points)
    log_weight = np.nan_to_num(log_weight - np.nanmax(log_weight), nan=-np.inf)
    weight = np.exp(log_weight)
    weight /= weight.sum()
    effective = float(1.0 / np.sum(weight**2))
    # systematic resampling: draws spread evenly over the cumulative weights
    picks = np.searchsorted(np.cumsum(weight), (rng.random() + np.arange(draws)) / draws)
    return np.exp(points[np.minimum(picks, len(points) - 1)]), effective


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
    bg, bg_n = _resample(
        "BG/NBD", lambda p: clv._bgnbd_log_likelihood(p, x, t_x, age), fit.bgnbd, draws, rng
    )
    gg, gg_n = _resample(
        "Gamma-Gamma",
        lambda p: clv._gamma_gamma_log_likelihood(p, rx, rm),
        fit.gamma_gamma,
        draws,
        rng,
    )
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
