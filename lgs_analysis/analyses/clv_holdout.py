"""How good the CLV prediction is: the model against two naive baselines on held-out months.

The models are fitted on the data before the last ``holdout_months`` and every
calibration customer's purchases and net spend in those months are predicted three ways:

- ``model``: BG/NBD expected purchases, times the Gamma-Gamma expected spend per purchase;
- ``past_rate``: frequency / age x holdout days purchases, times the customer's net spend
  per repeat purchase (the Gamma-Gamma input, 0 when negative);
- ``last_window``: the purchases and net spend the customer made in the window of the
  holdout's length just before the calibration end, repeated.

Each is scored against what the customer did (:data:`HOLDOUT_COLUMNS`). The model's
probability of buying in the first 90 days is scored by its Brier score against a
Poisson process at each customer's past rate (and at their last window's rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..formatting import format_date
from ..periods import add_months
from . import clv

__all__ = [
    "HOLDOUT_COLUMNS",
    "METHODS",
    "HoldoutEvaluation",
    "evaluate_holdout",
    "score_methods",
    "decile_table",
    "compare_methods",
    "skill_caveat",
]

METHODS = ("model", "past_rate", "last_window")
HOLDOUT_COLUMNS = [
    "method",
    "customers",
    "holdout_days",
    "mae_purchases",
    "rmse_purchases",
    "mae_spend",
    "rmse_spend",
    "spearman_spend",
    "top_decile_capture",
    "total_ratio_purchases",
    "total_ratio_spend",
    "brier_90d",
    "brier_90d_baseline",
]
_DECIMALS = 6


@dataclass
class HoldoutEvaluation:
    """The holdout check: scores per method, calibration tables, the legacy summary."""

    scores: pd.DataFrame  # HOLDOUT_COLUMNS, one row per method
    calibration: pd.DataFrame  # per decile of the model's predicted spend
    probability_calibration: pd.DataFrame  # per decile of p_purchase_90d
    check: dict[str, Any]  # calibration_end, holdout_days, totals (metrics.json)
    predictions: pd.DataFrame  # per calibration customer: predictions and actuals


def _holdout_dates(observation_end: date, holdout_months: int) -> tuple[date, int]:
    calibration_end = add_months(observation_end, -holdout_months)
    if observation_end.day != 1:  # keep the holdout exactly holdout_months long
        calibration_end = calibration_end.replace(day=min(observation_end.day, 28))
    return calibration_end, (observation_end - calibration_end).days


def predict_methods(summary: pd.DataFrame, fit: clv.ClvFit, days: int) -> pd.DataFrame:
    """Per calibration customer, each method's predicted purchases, spend and 90-day
    probability of buying, beside the actual values.

    Returns
    -------
    DataFrame
        ``customer_id``, ``actual_purchases``, ``actual_spend``, ``bought_90d``, then
        ``<method>_purchases``, ``<method>_spend`` and ``<method>_p90`` per method.
    """
    f, r, t = summary["frequency"], summary["recency"], summary["age"]
    x = f.to_numpy(dtype="float64")
    age = t.to_numpy(dtype="float64")
    spend_per = np.maximum(summary["monetary_value"].to_numpy(dtype="float64"), 0)
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "actual_purchases": summary["holdout_frequency"].to_numpy(dtype="float64"),
            "actual_spend": summary["holdout_net_spend"].to_numpy(dtype="float64"),
            "bought_90d": summary["bought_by_probability_end"].to_numpy(dtype="float64"),
        }
    )
    model = clv.expected_purchases(fit, days, f, r, t)
    out["model_purchases"] = model
    out["model_spend"] = model * clv.expected_spend(fit, f, summary["monetary_value"])
    out["model_p90"] = clv.probability_purchase(fit, clv.PROBABILITY_DAYS, f, r, t)
    rate = x / age
    out["past_rate_purchases"] = rate * days
    out["past_rate_spend"] = rate * days * spend_per
    out["past_rate_p90"] = -np.expm1(-rate * clv.PROBABILITY_DAYS)
    window = summary["window_frequency"].to_numpy(dtype="float64")
    out["last_window_purchases"] = window
    out["last_window_spend"] = summary["window_net_spend"].to_numpy(dtype="float64")
    out["last_window_p90"] = -np.expm1(-window / days * clv.PROBABILITY_DAYS)
    return out


def _top_decile_capture(customer_id: pd.Series, predicted: pd.Series, actual: pd.Series) -> float:
    """Share of the actual net spend made by the tenth of customers ranked highest
    (ties by customer number, ascending; the top tenth rounded up)."""
    frame = pd.DataFrame({"id": customer_id, "p": predicted, "a": actual})
    frame = frame.sort_values(["p", "id"], ascending=[False, True])
    top = math.ceil(len(frame) / 10)
    total = frame["a"].sum()
    return float(frame["a"].head(top).sum() / total) if total else float("nan")


def score_methods(predictions: pd.DataFrame, days: int) -> pd.DataFrame:
    """Score every method's predictions against the actual values (:data:`HOLDOUT_COLUMNS`).

    The Brier scores are left empty when the holdout is shorter than 90 days.
    """
    actual_p = predictions["actual_purchases"]
    actual_s = predictions["actual_spend"]
    bought = predictions["bought_90d"]
    probabilities = days >= clv.PROBABILITY_DAYS
    baseline = ((predictions["past_rate_p90"] - bought) ** 2).mean() if probabilities else None
    rows = []
    for method in METHODS:
        pp, ps = predictions[f"{method}_purchases"], predictions[f"{method}_spend"]
        brier = ((predictions[f"{method}_p90"] - bought) ** 2).mean() if probabilities else None
        rows.append(
            {
                "method": method,
                "customers": len(predictions),
                "holdout_days": days,
                "mae_purchases": (pp - actual_p).abs().mean(),
                "rmse_purchases": math.sqrt(((pp - actual_p) ** 2).mean()),
                "mae_spend": (ps - actual_s).abs().mean(),
                "rmse_spend": math.sqrt(((ps - actual_s) ** 2).mean()),
                "spearman_spend": ps.corr(actual_s, method="spearman"),
                "top_decile_capture": _top_decile_capture(predictions["customer_id"], ps, actual_s),
                "total_ratio_purchases": pp.sum() / actual_p.sum() if actual_p.sum() else None,
                "total_ratio_spend": ps.sum() / actual_s.sum() if actual_s.sum() else None,
                "brier_90d": brier,
                "brier_90d_baseline": baseline,
            }
        )
    scores = pd.DataFrame(rows, columns=HOLDOUT_COLUMNS)
    numeric = HOLDOUT_COLUMNS[3:]
    scores[numeric] = scores[numeric].astype("float64").round(_DECIMALS)
    return scores


def decile_table(
    customer_id: pd.Series, predicted: pd.Series, actual: pd.Series, names: tuple[str, str]
) -> pd.DataFrame:
    """Customers split into ten groups by ``predicted`` (1 lowest, 10 highest; ties by
    customer number), with the mean predicted and mean actual value of each."""
    frame = pd.DataFrame({"id": customer_id, "p": predicted, "a": actual})
    frame = frame.sort_values(["p", "id"]).reset_index(drop=True)
    frame["decile"] = np.arange(len(frame)) * 10 // max(len(frame), 1) + 1
    out = frame.groupby("decile").agg(customers=("id", "size"), p=("p", "mean"), a=("a", "mean"))
    out = out.rename(columns={"p": names[0], "a": names[1]}).reset_index()
    out[list(names)] = out[list(names)].round(_DECIMALS)
    return out


def evaluate_holdout(
    conn: Connection | Engine, observation_end: date, holdout_months: int = 3
) -> HoldoutEvaluation:
    """Fit on the data before the last ``holdout_months``, predict those months three
    ways and score them.

    Raises
    ------
    ClvModelError
        When the calibration data are too few to fit the models.
    """
    calibration_end, days = _holdout_dates(observation_end, holdout_months)
    probability_end = min(calibration_end + timedelta(days=clv.PROBABILITY_DAYS), observation_end)
    summary = clv.fetch_clv_summary(
        conn,
        calibration_end,
        observation_end,
        window_start=calibration_end - timedelta(days=days),
        probability_end=probability_end,
    )
    fit = clv.fit_clv(summary)
    predictions = predict_methods(summary, fit, days)
    scores = score_methods(predictions, days)
    calibration = decile_table(
        predictions["customer_id"],
        predictions["model_spend"],
        predictions["actual_spend"],
        ("mean_predicted_spend", "mean_actual_spend"),
    )
    probability = decile_table(
        predictions["customer_id"],
        predictions["model_p90"],
        predictions["bought_90d"],
        ("mean_predicted", "share_bought"),
    )
    if days < clv.PROBABILITY_DAYS:
        probability = probability.head(0)
    predicted_sum = float(predictions["model_purchases"].sum())
    actual = float(predictions["actual_purchases"].sum())
    check = {
        "calibration_end": calibration_end.isoformat(),
        "holdout_days": days,
        "customers": int(len(summary)),
        "predicted_purchases": round(predicted_sum, 1),
        "actual_purchases": actual,
        "predicted_to_actual": round(predicted_sum / actual, 3) if actual else None,
        "comparison": compare_methods(scores),
    }
    return HoldoutEvaluation(scores, calibration, probability, check, predictions)


def compare_methods(scores: pd.DataFrame) -> dict[str, Any]:
    """Whether the model beat each baseline on spend (mean absolute error), and by how much.

    Returns
    -------
    dict
        Per baseline: ``beaten`` (bool: lower mean absolute error of spend) and
        ``mae_change`` (the model's error relative to the baseline's, -0.12 = 12%
        lower); ``beats_past_rate`` repeats the first, which decides the caveat.
    """
    by = scores.set_index("method")
    out: dict[str, Any] = {}
    for baseline in METHODS[1:]:
        model, base = float(by.loc["model", "mae_spend"]), float(by.loc[baseline, "mae_spend"])
        out[baseline] = {
            "beaten": bool(model < base),
            "mae_change": round(model / base - 1, 4) if base else None,
        }
    out["beats_past_rate"] = out["past_rate"]["beaten"]
    return out


def skill_caveat(check: dict[str, Any]) -> str | None:
    """The sentence to print beside every use of predicted value when the model did not
    beat the past-rate baseline on the holdout (None when it did)."""
    past = check["comparison"]["past_rate"]
    if past["beaten"]:
        return None
    change = past["mae_change"]
    worse = f", its mean error {change:.0%} larger" if change else ""
    return (
        f"Caution: on the {check['holdout_days']} days held out from "
        f"{format_date(check['calibration_end'])}, predicted value was less accurate per "
        f"customer than each customer's past rate{worse} (see Customer value): use it as a "
        "rough guide, not as a ranking to spend by."
    )
