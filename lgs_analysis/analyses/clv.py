"""Customer lifetime value: BG/NBD purchases x Gamma-Gamma spend (lifetimes).

``sql/analyses/clv_customers.sql`` summarises every customer's purchase days in the warehouse
(frequency, recency and age in days, mean repeat spend). The BG/NBD model (Fader,
Hardie and Lee 2005) predicts repeat purchases; the Gamma-Gamma model predicts spend
per purchase; their product, discounted monthly, is the predicted value over the
horizon. A calibration/holdout fit checks the model on the last months of data.

Both models are fitted here by maximum likelihood (scipy L-BFGS-B over log-parameters)
from their published log-likelihoods. pymc-marketing took ~27 s to import and fit (MAP)
~4,300 customers, far beyond the report's budget; lifetimes 0.11.3 (archived) fits the
full data but refuses to converge when the dropout parameter ``a`` tends to 0, as it
does on nine months of this data, and prints the optimiser's state to stdout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..exceptions import LgsError
from ..warehouse import run_query

__all__ = [
    "SUMMARY_COLUMNS",
    "CLV_COLUMNS",
    "ClvFit",
    "ClvModelError",
    "fetch_clv_summary",
    "fit_clv",
    "expected_purchases",
    "bgnbd_expected_purchases",
    "probability_alive",
    "probability_purchase",
    "identify_dropout",
    "expected_spend",
    "predict_clv",
    "sum_clv_by_segment",
]

SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "age", "monetary_value"]
CLV_COLUMNS = [
    "customer_id",
    "segment",
    "frequency",
    "recency",
    "age",
    "monetary_value",
    "expected_purchases_12m",
    "expected_spend_per_purchase",
    "predicted_clv_12m",
    "p_purchase_90d",
    "p_alive",
]
_DAYS_PER_MONTH = 30
PROBABILITY_DAYS = 90


class ClvModelError(LgsError):
    """The CLV models could not be fitted to the customers' purchases."""


@dataclass
class ClvFit:
    """Fitted BG/NBD and Gamma-Gamma models and their goodness of fit."""

    bgnbd: np.ndarray  # r, alpha, a, b
    gamma_gamma: np.ndarray  # p, q, v
    customers: int
    repeat_customers: int
    params: dict[str, float] = field(default_factory=dict)
    log_likelihood: dict[str, float] = field(default_factory=dict)


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def fetch_clv_summary(
    conn: Connection | Engine,
    calibration_end: date,
    observation_end: date | None = None,
    window_start: date | None = None,
    probability_end: date | None = None,
) -> pd.DataFrame:
    """Per customer, the purchase-day summary before ``calibration_end`` (see the SQL).

    Parameters
    ----------
    window_start : date, optional
        Start of the window just before ``calibration_end`` whose purchases and net spend
        are counted (``window_frequency``, ``window_net_spend``); none by default.
    probability_end : date, optional
        ``bought_by_probability_end`` is 1 for a customer with a purchase day in
        [calibration_end, probability_end); never by default.

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`, then ``holdout_frequency`` (purchase days in
        [calibration_end, observation_end); 0 without an observation end),
        ``holdout_net_spend``, ``bought_by_probability_end``, ``window_frequency`` and
        ``window_net_spend``.
    """
    raw = run_query(
        conn,
        "analyses/clv_customers",
        calibration_end=_dt(calibration_end),
        observation_end=_dt(observation_end or calibration_end),
        window_start=_dt(window_start or calibration_end),
        probability_end=_dt(probability_end or calibration_end),
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "frequency": raw["frequency"].astype("int64"),
            "recency": raw["recency"].astype("int64"),
            "age": raw["age"].astype("int64"),
            "monetary_value": raw["monetary_value"].astype("float64"),
            "holdout_frequency": raw["holdout_frequency"].astype("int64"),
            "holdout_net_spend": raw["holdout_net_spend"].astype("float64"),
            "bought_by_probability_end": raw["bought_by_probability_end"].astype("int64"),
            "window_frequency": raw["window_frequency"].astype("int64"),
            "window_net_spend": raw["window_net_spend"].astype("float64"),
        }
    )


def _bgnbd_log_likelihood(params: np.ndarray, x, t_x, age) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie and Lee 2005, eq. 6)."""
    from scipy.special import gammaln  # scipy loads only when a report fits CLV

    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def _gamma_gamma_log_likelihood(params: np.ndarray, x, m) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` of ``x`` purchases."""
    from scipy.special import gammaln

    p, q, v = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


def _maximise(name: str, loglik: Any, start: np.ndarray) -> tuple[np.ndarray, float]:
    from scipy.optimize import minimize

    def objective(log_params: np.ndarray) -> float:
        value = -np.sum(loglik(np.exp(log_params)))
        return float(value) if np.isfinite(value) else 1e300

    result = minimize(
        objective, np.log(start), method="L-BFGS-B", bounds=[(-15.0, 15.0)] * len(start)
    )
    if not np.isfinite(result.fun) or result.fun >= 1e299:
        raise ClvModelError(f"the {name} fit failed: {result.message}")
    return np.exp(result.x), -float(result.fun)


def fit_clv(summary: pd.DataFrame) -> ClvFit:
    """Fit BG/NBD on all customers and Gamma-Gamma on those with repeat purchases.

    Gamma-Gamma is fitted on the customers with repeat purchases whose net spend per
    repeat purchase is positive; those who cancelled everything they bought again are
    left out.

    Maximum likelihood over log-parameters bounded to [e^-15, e^15], so an estimate
    at a boundary (e.g. no dropout, ``a`` -> 0) is still a fit.

    Raises
    ------
    ClvModelError
        With fewer than 10 customers or 5 repeat customers, or when a fit fails.
    """
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"CLV summary lacks column(s) {missing}")
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(summary) < 10 or len(repeat) < 5:
        raise ClvModelError(
            f"too few customers to fit CLV models: {len(summary)} customers, "
            f"{len(repeat)} with repeat purchases (need 10 and 5)"
        )
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x = summary["recency"].to_numpy(dtype="float64")
    age = summary["age"].to_numpy(dtype="float64")
    bg, bg_ll = _maximise(
        "BG/NBD",
        lambda p: _bgnbd_log_likelihood(p, x, t_x, age),
        np.array([1.0, max(float(age.mean()), 1.0), 1.0, 1.0]),
    )
    rx = repeat["frequency"].to_numpy(dtype="float64")
    rm = repeat["monetary_value"].to_numpy(dtype="float64")
    gg, gg_ll = _maximise(
        "Gamma-Gamma",
        lambda p: _gamma_gamma_log_likelihood(p, rx, rm),
        np.array([1.0, 2.0, float(rm.mean())]),
    )
    params = dict(zip(("r", "alpha", "a", "b"), map(float, bg), strict=True))
    params.update(dict(zip(("p", "q", "v"), map(float, gg), strict=True)))
    return ClvFit(
        bgnbd=bg,
        gamma_gamma=gg,
        customers=len(summary),
        repeat_customers=len(repeat),
        params=params,
        log_likelihood={"bgnbd": bg_ll, "gamma_gamma": gg_ll},
    )


def _bgnbd_columns(params: np.ndarray) -> tuple[np.ndarray, ...]:
    """r, alpha, a, b as columns: one row per parameter draw, broadcast over customers."""
    params = np.asarray(params, dtype="float64")
    return tuple(params[..., k, None] if params.ndim > 1 else params[k] for k in range(4))


def _alive_odds(params: np.ndarray, x, t_x, T) -> np.ndarray:
    """Odds of having dropped out: a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)."""
    r, alpha, a, b = _bgnbd_columns(params)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return np.where(x > 0, odds, 0.0)


def bgnbd_expected_purchases(params: np.ndarray, days: float, x, t_x, T) -> np.ndarray:
    """BG/NBD expected purchases in the next ``days`` (Fader et al. 2005, eq. 10).

    ``params`` is (r, alpha, a, b), or one such row per draw: the result then has one row
    per draw and one column per customer.
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = _bgnbd_columns(params)
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    ratio = (alpha + T) / (alpha + T + days)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        numerator = (
            (a + b + x - 1)
            / (a - 1)
            * (
                1
                - ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, days / (alpha + T + days))
            )
        )
        value = numerator / (1 + _alive_odds(params, x, t_x, T))
    return np.clip(np.nan_to_num(value, nan=0.0, posinf=0.0), 0, None)


def expected_purchases(
    fit: ClvFit, days: float, frequency: pd.Series, recency: pd.Series, age: pd.Series
) -> np.ndarray:
    """BG/NBD expected purchases in the next ``days`` days (Fader et al. 2005, eq. 10)."""
    return bgnbd_expected_purchases(fit.bgnbd, days, frequency, recency, age)


def probability_alive(fit: ClvFit, frequency, recency, age) -> np.ndarray:
    """BG/NBD probability that each customer has not dropped out (1 without a repeat)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (frequency, recency, age))
    return 1.0 / (1.0 + _alive_odds(fit.bgnbd, x, t_x, T))


def probability_purchase(fit: ClvFit, days: float, frequency, recency, age) -> np.ndarray:
    """BG/NBD probability of at least one purchase in the next ``days`` days.

    A customer still alive keeps buying at a rate drawn from Gamma(r + x, alpha + T) and
    cannot drop out before buying again, so P(no purchase | alive) = ((alpha + T) /
    (alpha + T + days))^(r + x); the probability is P(alive) times its complement.
    """
    r, alpha, _, _ = fit.bgnbd
    x, T = (np.asarray(v, dtype="float64") for v in (frequency, age))
    silent = ((alpha + T) / (alpha + T + days)) ** (r + x)
    return probability_alive(fit, frequency, recency, age) * (1.0 - silent)


def _nbd_log_likelihood(params: np.ndarray, x, age) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD without dropout (a -> 0): the NBD."""
    from scipy.special import gammaln

    r, alpha = params
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + age)


def identify_dropout(summary: pd.DataFrame, fit: ClvFit) -> dict[str, Any]:
    """Whether the data identify dropout: a likelihood-ratio test of BG/NBD against the
    same model where no one drops out (NBD, its limit as a -> 0).

    With a few months of history a fit can put the dropout parameters anywhere along a
    ridge of equal likelihood (a -> 0, b -> infinity): P(alive) is then about 1 for
    everyone, whatever their recency. Dropout counts as identified when letting
    customers drop out improves the log-likelihood significantly: p < 0.01 against a
    chi-squared with 2 degrees of freedom (a and b; conservative at the boundary a = 0).

    Returns
    -------
    dict
        ``identified`` (bool), ``lr_statistic``, ``p_value``, ``dropout_per_purchase``
        (a / (a + b), the mean probability of dropping out after a purchase).
    """
    from scipy.stats import chi2

    x = summary["frequency"].to_numpy(dtype="float64")
    age = summary["age"].to_numpy(dtype="float64")
    start = np.array([fit.params["r"], fit.params["alpha"]])
    _, nbd_ll = _maximise("NBD", lambda p: _nbd_log_likelihood(p, x, age), start)
    statistic = max(0.0, 2.0 * (fit.log_likelihood["bgnbd"] - nbd_ll))
    p_value = float(chi2.sf(statistic, 2))
    a, b = fit.params["a"], fit.params["b"]
    return {
        "identified": bool(p_value < 0.01),
        "lr_statistic": round(statistic, 3),
        "p_value": round(p_value, 4),
        "dropout_per_purchase": float(f"{a / (a + b):.3g}"),
    }


def expected_spend(fit: ClvFit, frequency: pd.Series, monetary_value: pd.Series) -> np.ndarray:
    """Gamma-Gamma expected spend per purchase: p (v + x m) / (p x + q - 1).

    A repeat customer whose net spend per repeat purchase is 0 or less (they cancelled
    what they bought again) is expected to spend 0: the model cannot describe them, and
    a refund is no sign of value.
    """
    p, q, v = fit.gamma_gamma
    x = np.asarray(frequency, dtype="float64")
    m = np.asarray(monetary_value, dtype="float64")
    spend = p * (v + x * np.maximum(m, 0)) / (p * x + q - 1)
    return np.where((x > 0) & (m <= 0), 0.0, spend)


def predict_clv(
    summary: pd.DataFrame,
    fit: ClvFit,
    segments: pd.DataFrame | None = None,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    dropout_identified: bool = False,
) -> pd.DataFrame:
    """Predicted value of every customer over ``horizon_months``.

    Expected purchases come from BG/NBD month by month (30-day months), times the
    Gamma-Gamma expected spend per purchase, discounted at ``monthly_discount_rate``.

    Returns
    -------
    DataFrame
        Columns :data:`CLV_COLUMNS` (``segment`` from ``segments`` by customer_id, empty
        when absent); ``predicted_clv_12m`` >= 0, highest first; ``p_purchase_90d`` the
        probability of buying in the next 90 days; ``p_alive`` only when
        ``dropout_identified`` (see :func:`identify_dropout`), else empty.
    """
    f, r, t = summary["frequency"], summary["recency"], summary["age"]
    spend = expected_spend(fit, f, summary["monetary_value"])
    value = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for month in range(1, horizon_months + 1):
        cumulative = expected_purchases(fit, month * _DAYS_PER_MONTH, f, r, t)
        value += (cumulative - previous) * spend / (1 + monthly_discount_rate) ** month
        previous = cumulative
    out = summary[SUMMARY_COLUMNS].copy()
    seg = (
        segments.set_index("customer_id")["segment"]
        if segments is not None and "segment" in segments
        else pd.Series(dtype="object")
    )
    out.insert(1, "segment", out["customer_id"].map(seg))
    out["expected_purchases_12m"] = previous
    out["expected_spend_per_purchase"] = spend
    out["predicted_clv_12m"] = np.clip(np.nan_to_num(value), 0, None)
    out["p_purchase_90d"] = probability_purchase(fit, PROBABILITY_DAYS, f, r, t)
    out["p_alive"] = probability_alive(fit, f, r, t) if dropout_identified else np.nan
    return out.sort_values(
        ["predicted_clv_12m", "customer_id"], ascending=[False, True], ignore_index=True
    )[CLV_COLUMNS]


def sum_clv_by_segment(clv: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Customers, total and mean predicted 12-month value per segment.

    Returns
    -------
    DataFrame
        Columns ``segment``, ``customers``, ``predicted_clv_12m``, ``mean_clv_12m``.
    """
    grouped = (
        clv.dropna(subset=["segment"])
        .groupby("segment")
        .agg(customers=("customer_id", "size"), predicted_clv_12m=("predicted_clv_12m", "sum"))
    )
    names = [n for n in (order or []) if n in grouped.index]
    names += sorted(set(grouped.index) - set(names))
    out = grouped.reindex(names).rename_axis("segment").reset_index()
    out["mean_clv_12m"] = out["predicted_clv_12m"] / out["customers"]
    return out
