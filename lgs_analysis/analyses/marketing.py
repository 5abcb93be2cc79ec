"""The marketing analyses of a report in one call: baskets, movement, cohorts, CLV.

:func:`collect_marketing` runs them on an open warehouse connection and returns the
``extras`` of :class:`~lgs_analysis.report_data.ReportData`: ``tables`` (exported as
``tables/<name>.csv``), ``metrics`` (merged into ``metrics.json``) and the frames the
report shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from ..log import logger
from ..periods import Period
from ..warehouse import SideReads
from . import basket, clv, clv_holdout, clv_intervals, cohorts, migration, rfm
from .coverage import DataSpan

__all__ = ["FOCUS_SEGMENTS", "CLV_TABLE_COLUMNS", "basket_reads", "collect_marketing"]

FOCUS_SEGMENTS = ("Champions", "Can't Lose", "Hibernating")
CLV_TABLE_COLUMNS = [
    "customer_id",
    "segment",
    "predicted_clv_12m",
    "predicted_clv_12m_low",
    "predicted_clv_12m_high",
    "p_purchase_90d",
    "p_alive",
]


def _no_clv_table() -> pd.DataFrame:
    return pd.DataFrame(columns=CLV_TABLE_COLUMNS)


def _customer_value(
    conn: Connection, snapshot: date, params: dict[str, Any], scored: pd.DataFrame
) -> dict[str, Any]:
    """Fit CLV up to ``snapshot``, predict every customer with an 80% interval, and check
    the prediction on held-out months against the naive baselines."""
    summary = clv.fetch_clv_summary(conn, snapshot)
    fit = clv.fit_clv(summary)
    dropout = clv.identify_dropout(summary, fit)
    horizon = int(params["clv_horizon_months"])
    predicted = clv.predict_clv(
        summary,
        fit,
        scored,
        horizon_months=horizon,
        monthly_discount_rate=float(params["clv_monthly_discount_rate"]),
        dropout_identified=dropout["identified"],
    )
    draws = clv_intervals.draw_parameters(summary, fit)
    values = clv_intervals.draw_values(summary, predicted, draws, horizon)
    predicted = clv_intervals.add_intervals(predicted, values)
    by_segment = clv.sum_clv_by_segment(predicted.dropna(subset=["segment"]), rfm.SEGMENT_ORDER)
    bounds = [
        clv_intervals.total_interval(values, (predicted["segment"] == name).to_numpy())
        for name in by_segment["segment"]
    ]
    at = by_segment.columns.get_loc("predicted_clv_12m") + 1
    by_segment.insert(at, "predicted_clv_12m_low", [low for low, _ in bounds])
    by_segment.insert(at + 1, "predicted_clv_12m_high", [high for _, high in bounds])
    return {
        "clv": predicted,
        "clv_fit": fit,
        "clv_dropout": dropout,
        "clv_draws": draws,
        "clv_total_interval": clv_intervals.total_interval(values),
        "clv_by_segment": by_segment,
        "clv_holdout": clv_holdout.evaluate_holdout(
            conn, snapshot, int(params["clv_holdout_months"])
        ),
    }


def basket_reads(period: Period, params: dict[str, Any]) -> list[Callable[[Connection], Any]]:
    """The report's three basket reads, independent of its other work: the period's
    products and baskets, its rules (mined over baskets streamed in bounded blocks), and
    each customer's products over the RFM window. Start them early with
    :class:`~lgs_analysis.warehouse.SideReads`."""
    rfm_start = period.lookback_start(int(params["rfm_lookback_months"]))
    return [
        lambda c: basket.fetch_products(c, period.start, period.end),
        lambda c: basket.mine_warehouse_rules(
            c,
            period.start,
            period.end,
            min_support=float(params["min_support"]),
            min_confidence=float(params["min_confidence"]),
            min_lift=float(params["min_lift"]),
            max_rules=int(params["max_rules"]),
            max_len=int(params["max_itemset_size"]),
        ),
        lambda c: basket.fetch_customer_products(c, rfm_start, period.end),
    ]


def collect_marketing(
    conn: Connection,
    period: Period,
    params: dict[str, Any],
    scored: pd.DataFrame,
    snapshot: date | None,
    span: DataSpan,
    baskets: SideReads | None = None,
) -> dict[str, Any]:
    """Run the basket, segment-movement, cohort and CLV analyses for ``period``.

    Parameters
    ----------
    conn : Connection
        Open warehouse connection.
    period : Period
        The report period; the basket window is the period itself, segment products and
        movement use the RFM window (``rfm_lookback_months`` up to the period end).
    params : dict
        Merged report parameters (``min_support``, ``min_confidence``, ``min_lift``,
        ``max_rules``, ``max_itemset_size``, ``top_products``, ``cohort_months``,
        ``clv_horizon_months``, ``clv_monthly_discount_rate``, ``clv_holdout_months``,
        ``rfm_lookback_months``, ``rfm_monetary``, ``segment_map``).
    scored : DataFrame
        The period's scored customers (:func:`lgs_analysis.analyses.rfm.score_rfm`).
    snapshot : date or None
        Day after the last purchase of the RFM window: the CLV observation end.
    span : DataSpan
        The days the warehouse holds: segment movement is computed only when it holds
        the previous period as fully as this one.
    baskets : SideReads, optional
        The :func:`basket_reads`, already started on ``conn``'s snapshot (by default
        they start here).

    Returns
    -------
    dict
        ``tables``, ``metrics`` and the frames named in the code below.
    """
    lookback = int(params["rfm_lookback_months"])
    segment_map = params.get("segment_map") or None
    out: dict[str, Any] = {}

    # products and baskets: three independent reads, started early where that helps
    reads = baskets or SideReads(conn, basket_reads(period, params))
    with reads:
        (products, count_baskets), mined, customer_products = reads.results()
    descriptions = products.set_index("stock_code")["description"]
    mined = mined.described(descriptions)
    rules = mined.rules
    top_products = basket.rank_top_products(products, int(params["top_products"]))
    segment_products = basket.pick_segment_products(
        customer_products, scored, FOCUS_SEGMENTS, mined.pair_rules, descriptions
    )
    out.update(
        count_baskets=count_baskets,
        count_frequent_items=mined.count_frequent_items,
        count_qualifying_rules=mined.count_rules,
        rules=rules,
        promotion_pairs=basket.select_promotion_pairs(rules, top_n=10),
        top_products=top_products,
        segment_products=segment_products,
        customer_products=customer_products,
    )

    # segment movement: only against a previous period the warehouse holds as fully
    previous = period.previous()
    monetary = str(params.get("rfm_monetary", "net"))
    current_cover = span.coverage(period.start, period.end)
    previous_cover = span.coverage(previous.start, previous.end)
    out.update(
        previous_period=previous,
        previous_rfm_start=previous.lookback_start(lookback),
        movement_comparable=previous_cover >= current_cover and previous_cover > 0,
        movement_reason="",
        previous_segments=pd.Series(dtype="object"),
    )
    if out["movement_comparable"]:
        basis, _ = rfm.fetch_rfm_basis(conn, out["previous_rfm_start"], previous.end, monetary)
        previous_basis, _ = rfm.split_refunded(basis, monetary)
        previous_scored = rfm.score_rfm(previous_basis, segment_map=segment_map)
        matrix = migration.build_migration(scored, previous_scored)
        movers = migration.find_at_risk_movers(scored, previous_scored)
        out["previous_segments"] = previous_scored.set_index("customer_id")["segment"]
    else:
        out["movement_reason"] = (
            f"{span.describe()}: it covers {previous_cover:.0%} of {previous.label} against "
            f"{current_cover:.0%} of {period.label}, so there is no comparable baseline for "
            "segment movement"
        )
        matrix = migration.build_migration(scored.head(0), scored.head(0))
        movers = migration.find_at_risk_movers(scored.head(0), scored.head(0))
    out.update(
        migration=matrix,
        shifts=migration.summarize_shifts(matrix),
        movers=movers,
    )

    # cohorts
    out["cohorts"] = cohorts.fetch_cohorts(conn, period.end, int(params["cohort_months"]))
    first_month = [] if span.empty else [f"{span.first_day:%Y-%m}"]
    out["first_data_month"] = first_month[0] if first_month else None
    out["cohort_next_month"] = cohorts.next_month_retention(out["cohorts"], exclude=first_month)

    # customer value
    out.update(clv=None, clv_fit=None, clv_holdout=None, clv_error=None)
    if snapshot is not None:
        try:
            out.update(_customer_value(conn, snapshot, params, scored))
        except clv.ClvModelError as exc:
            logger.warning("CLV skipped: %s", exc)
            out["clv_error"] = str(exc)
    movers["predicted_clv_12m"] = float("nan")
    if out["clv"] is not None:
        value = out["clv"].set_index("customer_id")["predicted_clv_12m"]
        movers["predicted_clv_12m"] = movers["customer_id"].map(value).astype("float64")

    out["tables"] = {
        "top_products": top_products,
        "basket_rules": rules,
        "segment_products": segment_products,
        "segment_migration": matrix,
        "at_risk_movers": movers,
        "cohorts": out["cohorts"],
        "clv": out["clv"][CLV_TABLE_COLUMNS] if out["clv"] is not None else _no_clv_table(),
    }
    if out["clv_holdout"] is not None:
        evaluation = out["clv_holdout"]
        out["tables"].update(
            clv_holdout=evaluation.scores,
            clv_calibration=evaluation.calibration,
            clv_probability_calibration=evaluation.probability_calibration,
        )
    out["metrics"] = _metrics(out)
    return out


def _metrics(out: dict[str, Any]) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "baskets": out["count_baskets"],
        "basket_rules": len(out["rules"]),
        "basket_rules_qualifying": out["count_qualifying_rules"],
        "segment_movement_comparable": bool(out["movement_comparable"]),
        "at_risk_movers": len(out["movers"]),
        "at_risk_movers_previous_revenue": round(
            float(out["movers"]["previous_monetary"].sum()), 2
        ),
    }
    fit = out.get("clv_fit")
    if fit is not None:
        metrics["clv_12m_total"] = round(float(out["clv"]["predicted_clv_12m"].sum()), 2)
        metrics["clv_12m_interval"] = [round(v, 2) for v in out["clv_total_interval"]]
        metrics["clv_12m_by_segment"] = {
            row.segment: round(float(row.predicted_clv_12m), 2)
            for row in out["clv_by_segment"].itertuples()
        }
        metrics["clv_12m_by_segment_interval"] = {
            row.segment: [
                round(float(row.predicted_clv_12m_low), 2),
                round(float(row.predicted_clv_12m_high), 2),
            ]
            for row in out["clv_by_segment"].itertuples()
        }
        evaluation = out["clv_holdout"]
        metrics["clv_beats_past_rate"] = evaluation.check["comparison"]["beats_past_rate"]
        metrics["clv_caveat"] = clv_holdout.skill_caveat(evaluation.check)
        metrics["clv_model"] = {
            "params": {k: round(v, 6) for k, v in fit.params.items()},
            "log_likelihood": {k: round(v, 2) for k, v in fit.log_likelihood.items()},
            "customers": fit.customers,
            "repeat_customers": fit.repeat_customers,
            "dropout": out["clv_dropout"],
            "interval_draws": {
                "draws": len(out["clv_draws"].bgnbd),
                "effective": out["clv_draws"].effective,
            },
            "holdout": evaluation.check,
            "holdout_scores": [
                {k: (None if pd.isna(v) else v) for k, v in row.items()}
                for row in evaluation.scores.to_dict("records")
            ],
        }
    return metrics
