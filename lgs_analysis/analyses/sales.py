"""Sales, orders and customers per month; invoice amounts; data quality.

Each function runs one query from ``sql/analyses/`` (aggregation stays in the warehouse)
and returns a small DataFrame or dict with documented columns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..periods import Period, add_months
from ..warehouse import run_query

__all__ = [
    "MONTHLY_COLUMNS",
    "fetch_monthly_metrics",
    "fetch_period_summary",
    "fetch_invoice_totals",
    "describe_invoice_totals",
    "fetch_data_quality",
]

MONTHLY_COLUMNS = [
    "month",
    "invoices",
    "cancelled_invoices",
    "placed_orders",
    "gross_sales",
    "net_sales",
    "sales_growth_pct",
    "active_customers",
    "new_customers",
    "returning_customers",
]

Conn = Connection | Engine


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def fetch_monthly_metrics(conn: Conn, period: Period) -> pd.DataFrame:
    """The nine monthly figures for every month of ``period``.

    Returns
    -------
    DataFrame
        Columns :data:`MONTHLY_COLUMNS`, one row per month of the window (months
        without lines show zeros). ``month`` is ``YYYY-MM``; ``sales_growth_pct`` is
        the month-on-month change of net sales in percent (NaN without a base).
    """
    raw = run_query(
        conn,
        "analyses/monthly_sales",
        history_start=_dt(add_months(period.start, -1)),
        end=_dt(period.end),
    )
    months = [add_months(period.start, -1), *period.month_starts()]
    index = pd.Index([pd.Timestamp(m) for m in months], name="month_start")
    raw["month_start"] = pd.to_datetime(raw["month_start"]).dt.tz_localize(None)
    frame = raw.set_index("month_start").reindex(index)
    counts = [
        "invoices",
        "cancelled_invoices",
        "placed_orders",
        "active_customers",
        "new_customers",
    ]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame[["gross_sales", "net_sales"]] = frame[["gross_sales", "net_sales"]].fillna(0.0).round(2)
    previous = frame["net_sales"].shift(1)
    frame["sales_growth_pct"] = np.where(
        previous.abs() > 0, (frame["net_sales"] - previous) / previous.abs() * 100, np.nan
    )
    frame["sales_growth_pct"] = frame["sales_growth_pct"].round(2)
    frame["returning_customers"] = frame["active_customers"] - frame["new_customers"]
    frame = frame.iloc[1:].reset_index()
    frame["month"] = frame["month_start"].dt.strftime("%Y-%m")
    return frame[MONTHLY_COLUMNS]


def fetch_period_summary(conn: Conn, start: date, end: date) -> dict[str, Any]:
    """Totals over [start, end): lines, invoices, orders, sales, active customers, date range."""
    row = (
        run_query(conn, "analyses/period_summary", start=_dt(start), end=_dt(end)).iloc[0].to_dict()
    )
    for key in (
        "count_lines",
        "invoices",
        "cancelled_invoices",
        "placed_orders",
        "active_customers",
    ):
        row[key] = int(row[key])
    for key in ("gross_sales", "net_sales"):
        row[key] = round(float(row[key]), 2)
    return row


def fetch_invoice_totals(conn: Conn, period: Period) -> pd.Series:
    """Per-invoice totals over positive lines of non-cancelled, non-adjustment invoices."""
    frame = run_query(conn, "analyses/invoice_totals", start=_dt(period.start), end=_dt(period.end))
    return frame["invoice_total"].astype("float64").rename("invoice_total")


def describe_invoice_totals(
    totals: pd.Series, cap_percentile: float | None = None
) -> dict[str, float]:
    """Count, min, mean, median, mode (of amounts rounded to pence), max; optionally capped.

    With ``cap_percentile`` (e.g. 0.85) only invoices up to that percentile are described,
    and ``cap`` holds the cut-off amount.
    """
    values = totals.dropna()
    stats: dict[str, float] = {}
    if cap_percentile is not None and len(values):
        stats["cap"] = float(values.quantile(cap_percentile))
        values = values[values <= stats["cap"]]
    if values.empty:
        return {**stats, "count": 0}
    modes = values.round(2).mode()
    stats.update(
        count=int(len(values)),
        min=float(values.min()),
        mean=float(values.mean()),
        median=float(values.median()),
        mode=float(modes.iloc[0]),
        max=float(values.max()),
    )
    return stats


def fetch_data_quality(conn: Conn, period: Period) -> dict[str, int]:
    """Data-quality counts for the period (lines, cancellations, no customer, non-product...)."""
    row = run_query(
        conn, "analyses/data_quality", start=_dt(period.start), end=_dt(period.end)
    ).iloc[0]
    quality = {k: int(v or 0) for k, v in row.to_dict().items()}
    quarantine = run_query(conn, "analyses/quarantine_summary")
    quality["count_quarantined_rows"] = (
        int(quarantine["count_rows"].sum()) if len(quarantine) else 0
    )
    return quality
