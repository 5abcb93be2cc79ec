"""Campaign lists: every scored customer with what marketing needs to reach and tempt them.

One row per customer: whether they are mailed or held out (``group``), where they are,
when they first and last bought, how recently and how often, what they spent (gross and
net), what they are predicted to be worth, their segment now and a period ago, and the
three products they bought most, for a personalised offer.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..warehouse import run_query

__all__ = [
    "CAMPAIGN_COLUMNS",
    "fetch_customer_profiles",
    "top_products",
    "build_campaign_list",
]

TOP_PRODUCTS = 3
CAMPAIGN_COLUMNS = [
    "customer_id",
    "country",
    "first_purchase",
    "last_purchase",
    "recency_days",
    "invoices",
    "gross_spend",
    "net_spend",
    "predicted_clv_12m",
    "predicted_clv_12m_low",
    "predicted_clv_12m_high",
    "p_purchase_90d",
    "segment",
    "previous_segment",
    "group",
    "r",
    "f",
    "m",
    *[
        name
        for k in range(1, TOP_PRODUCTS + 1)
        for name in (f"top_product_{k}", f"top_product_{k}_description")
    ],
]

_VALUE_COLUMNS = [
    "predicted_clv_12m",
    "predicted_clv_12m_low",
    "predicted_clv_12m_high",
    "p_purchase_90d",
]
Conn = Connection | Engine


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def fetch_customer_profiles(conn: Conn, start: date, end: date) -> pd.DataFrame:
    """Country, first purchase (ever) and last purchase (in [start, end)) per customer.

    Returns
    -------
    DataFrame
        Columns ``customer_id``, ``country``, ``first_purchase``, ``last_purchase``
        (dates as ``YYYY-MM-DD`` text).
    """
    raw = run_query(conn, "analyses/customer_profile", start=_dt(start), end=_dt(end))
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "country": raw["country"].astype("object"),
            "first_purchase": pd.to_datetime(raw["first_purchase_at"]).dt.strftime("%Y-%m-%d"),
            "last_purchase": pd.to_datetime(raw["last_purchase_at"]).dt.strftime("%Y-%m-%d"),
        }
    )


def top_products(customer_products: pd.DataFrame) -> pd.DataFrame:
    """The three products each customer bought in most baskets, side by side.

    ``customer_products`` is the frame of
    :func:`lgs_analysis.analyses.basket.fetch_customer_products` (its ``product_rank``
    and the top three's ``description``), for the window the campaign list covers.

    Returns
    -------
    DataFrame
        ``customer_id`` and ``top_product_<k>`` (stock code) and
        ``top_product_<k>_description`` for k = 1..3 (empty when fewer products).
    """
    top = customer_products[customer_products["product_rank"] <= TOP_PRODUCTS]
    columns = ["customer_id", *CAMPAIGN_COLUMNS[CAMPAIGN_COLUMNS.index("top_product_1") :]]
    if top.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    wide = top.pivot(
        index="customer_id", columns="product_rank", values=["stock_code", "description"]
    )
    out = pd.DataFrame(index=wide.index)
    for k in range(1, TOP_PRODUCTS + 1):
        has = k in wide["stock_code"].columns
        out[f"top_product_{k}"] = wide["stock_code"][k] if has else None
        out[f"top_product_{k}_description"] = wide["description"][k] if has else None
    out = out.reset_index()
    out["customer_id"] = out["customer_id"].astype("int64")
    return out[columns]


def build_campaign_list(
    scored: pd.DataFrame,
    profiles: pd.DataFrame,
    top_products: pd.DataFrame,
    clv: pd.DataFrame | None = None,
    previous_segments: pd.Series | None = None,
    segment_order: list[str] | None = None,
    groups: pd.Series | None = None,
) -> pd.DataFrame:
    """Join the scored customers with their profile, value and products.

    Parameters
    ----------
    scored : DataFrame
        :func:`~lgs_analysis.analyses.rfm.score_rfm` output (with gross and net spend).
    profiles, top_products : DataFrame
        From :func:`fetch_customer_profiles` and :func:`top_products`.
    clv : DataFrame, optional
        ``customer_id``, ``predicted_clv_12m`` with its 80% interval
        (``predicted_clv_12m_low``, ``_high``) and ``p_purchase_90d``.
    previous_segments : Series, optional
        customer_id -> segment a period ago (empty when not scored then, or when there
        is no comparable previous period).
    segment_order : list of str, optional
        Rows are sorted by segment in this order, then by net spend (largest first).
    groups : Series, optional
        customer_id -> ``"target"`` or ``"holdout"``
        (:func:`lgs_analysis.analyses.holdout.assign_groups`); customers without one
        are targets.

    Returns
    -------
    DataFrame
        Columns :data:`CAMPAIGN_COLUMNS`, one row per scored customer.
    """
    frame = scored.rename(columns={"recency": "recency_days", "frequency": "invoices"})
    frame = frame.merge(profiles, on="customer_id", how="left")
    frame = frame.merge(top_products, on="customer_id", how="left")
    value = clv.set_index("customer_id") if clv is not None else pd.DataFrame()
    for column in _VALUE_COLUMNS:
        known = value[column] if column in value else pd.Series(dtype="float64")
        frame[column] = frame["customer_id"].map(known).astype("float64")
    previous = previous_segments if previous_segments is not None else pd.Series(dtype=object)
    frame["previous_segment"] = frame["customer_id"].map(previous)
    held = groups if groups is not None else pd.Series(dtype=object)
    frame["group"] = frame["customer_id"].map(held).fillna("target").astype(object)
    if "gross_spend" not in frame:
        frame["gross_spend"] = frame["monetary"]
        frame["net_spend"] = frame["monetary"]
    order = {name: i for i, name in enumerate(segment_order or [])}
    frame["_order"] = frame["segment"].map(order).fillna(len(order))
    frame = frame.sort_values(["_order", "net_spend", "customer_id"], ascending=[True, False, True])
    return frame.reset_index(drop=True)[CAMPAIGN_COLUMNS]
