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
from ..periods import add_months
from ..warehouse import run_query

__all__ = [
    "SUMMARY_COLUMNS",
    "CLV_COLUMNS",
    "ClvFit",
    "ClvModelError",
    "fetch_clv_summary",
    "fit_clv",
    "expected_purchases",
    "expected_spend",
    "predict_clv",
    "check_holdout",
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
]
_DAYS_PER_MONTH = 30


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
    conn: Connection | Engine, calibration_end: date, observation_end: date | None = None
) -> pd.DataFrame:
    """Per customer, the purchase-day summary before ``calibration_end`` (see the SQL).

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS` and ``holdout_frequency`` (purchase days in
        [calibration_end, observation_end); 0 without an observation end).
    """
    raw = run_query(
        conn,
        "analyses/clv_customers",
        calibration_end=_dt(calibration_end),
        observation_end=_dt(observation_end or calibration_end),
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "frequency": raw["frequency"].astype("int64"),
            "recency": raw["recency"].astype("int64"),
            "age": raw["age"].astype("int64"),
            "monetary_value": raw["monetary_value"].astype("float64"),
            "holdout_frequency": raw["holdout_frequency"].astype("int64"),
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


def expected_purchases(
    fit: ClvFit, days: float, frequency: pd.Series, recency: pd.Series, age: pd.Series
) -> np.ndarray:
    """BG/NBD expected purchases in the next ``days`` days (Fader et al. 2005, eq. 10)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = fit.bgnbd
    x = np.asarray(frequency, dtype="float64")
    t_x = np.asarray(recency, dtype="float64")
    T = np.asarray(age, dtype="float64")
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
        alive_odds = np.where(
            x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0
        )
        value = numerator / (1 + alive_odds)
    return np.clip(np.nan_to_num(value, nan=0.0, posinf=0.0), 0, None)


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
) -> pd.DataFrame:
    """Predicted value of every customer over ``horizon_months``.

    Expected purchases come from BG/NBD month by month (30-day months), times the
    Gamma-Gamma expected spend per purchase, discounted at ``monthly_discount_rate``.

    Returns
    -------
    DataFrame
        Columns :data:`CLV_COLUMNS` (``segment`` from ``segments`` by customer_id, empty
        when absent); ``predicted_clv_12m`` >= 0, highest first.
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
    return out.sort_values(
        ["predicted_clv_12m", "customer_id"], ascending=[False, True], ignore_index=True
    )[CLV_COLUMNS]


def check_holdout(
    conn: Connection | Engine, observation_end: date, holdout_months: int = 3
) -> dict[str, float]:
    """Fit on the data before the last ``holdout_months`` and predict those months.

    Returns
    -------
    dict
        ``calibration_end``, ``holdout_days``, ``customers``, ``predicted_purchases``
        and ``actual_purchases`` (repeat purchase days in the holdout, summed over the
        calibration customers), and their ratio.
    """
    calibration_end = add_months(observation_end, -holdout_months)
    if observation_end.day != 1:  # keep the holdout exactly holdout_months long
        calibration_end = calibration_end.replace(day=min(observation_end.day, 28))
    summary = fetch_clv_summary(conn, calibration_end, observation_end)
    fit = fit_clv(summary)
    days = (observation_end - calibration_end).days
    predicted = expected_purchases(
        fit, days, summary["frequency"], summary["recency"], summary["age"]
    )
    predicted_sum = float(np.nansum(predicted))
    actual = float(summary["holdout_frequency"].sum())
    return {
        "calibration_end": calibration_end.isoformat(),
        "holdout_days": days,
        "customers": int(len(summary)),
        "predicted_purchases": round(predicted_sum, 1),
        "actual_purchases": actual,
        "predicted_to_actual": round(predicted_sum / actual, 3) if actual else None,
    }


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
