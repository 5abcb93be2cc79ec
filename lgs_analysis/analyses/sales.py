"""Sales, orders and customers per month; invoice amounts; data quality.

Each function runs one query from ``sql/analyses/`` (aggregation stays in the warehouse)
and returns a small DataFrame or dict with documented columns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..periods import Period, add_months, parse_period
from ..warehouse import run_query
from .coverage import DataSpan, compare_window

__all__ = [
    "MONTHLY_COLUMNS",
    "held_months",
    "trailing_months",
    "fetch_monthly_metrics",
    "fetch_sales_window",
    "growth_pct",
    "fetch_period_summary",
    "fetch_invoice_totals",
    "describe_invoice_totals",
    "fetch_data_quality",
]

MONTHLY_COLUMNS = [
    "month",
    "complete",
    "invoices",
    "cancelled_invoices",
    "placed_orders",
    "gross_sales",
    "net_sales",
    "sales_growth_pct",
    "sales_growth_yoy_pct",
    "active_customers",
    "new_customers",
    "returning_customers",
    "cancelling_only_customers",
]
_COUNTS = [
    "invoices",
    "cancelled_invoices",
    "placed_orders",
    "active_customers",
    "new_customers",
    "returning_customers",
    "cancelling_only_customers",
]

Conn = Connection | Engine


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def held_months(starts: list[date], span: DataSpan) -> list[date]:
    """The months of ``starts`` from the first to the last that the warehouse holds data in.

    Months before the data starts or after it ends are dropped, not padded with zeros; a
    month inside the span without any line stays (its figures are zero).
    """
    return [m for m in starts if not span.empty and span.coverage(m, add_months(m, 1)) > 0]


def trailing_months(end: date, count: int = 13) -> list[date]:
    """The first days of the ``count`` months before ``end`` (a month start), oldest first."""
    return [add_months(end, -count + i) for i in range(count)]


def fetch_monthly_metrics(conn: Conn, months: list[date], span: DataSpan) -> pd.DataFrame:
    """The monthly figures of ``months`` (first days of months, oldest first).

    Growth is month on month (``sales_growth_pct``) and year on year
    (``sales_growth_yoy_pct``) of net sales, like for like: a month the data stops in is
    compared over the same days of the month before and of the year before. Growth is NaN
    when the warehouse does not hold the whole baseline. New and returning customers are
    NA in the first month the warehouse holds, where every customer looks new.

    Returns
    -------
    DataFrame
        Columns :data:`MONTHLY_COLUMNS`, one row per month. ``month`` is ``YYYY-MM``;
        ``complete`` is whether the warehouse holds every day of the month.
    """
    if not months:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in MONTHLY_COLUMNS})
    history_start = add_months(months[0], -12)
    raw = run_query(
        conn,
        "analyses/monthly_sales",
        history_start=_dt(history_start),
        end=_dt(add_months(months[-1], 1)),
    )
    raw["month_start"] = pd.to_datetime(raw["month_start"]).dt.tz_localize(None).dt.date
    history = raw.set_index("month_start")
    rows = []
    for month in months:
        row = {c: 0 for c in _COUNTS} | {"gross_sales": 0.0, "net_sales": 0.0}
        if month in history.index:
            row.update(history.loc[month].to_dict())
        row = {k: (int(v) if k in _COUNTS else v) for k, v in row.items()}
        period = parse_period(f"{month:%Y-%m}")
        net = float(row["net_sales"])
        rows.append(
            {
                **row,
                "month": f"{month:%Y-%m}",
                "complete": span.covers(month, add_months(month, 1)),
                "gross_sales": round(float(row["gross_sales"]), 2),
                "net_sales": round(net, 2),
                "sales_growth_pct": _monthly_growth(conn, period, span, history, net, "previous"),
                "sales_growth_yoy_pct": _monthly_growth(
                    conn, period, span, history, net, "year_ago"
                ),
            }
        )
    frame = pd.DataFrame(rows)
    for column in _COUNTS:
        frame[column] = frame[column].astype("Int64")
    first_month = None if span.empty else span.first_day.replace(day=1)
    first = frame["month"] == (f"{first_month:%Y-%m}" if first_month else "")
    frame.loc[first, ["new_customers", "returning_customers"]] = pd.NA
    return frame[MONTHLY_COLUMNS]


def _monthly_growth(
    conn: Conn, month: Period, span: DataSpan, history: pd.DataFrame, net: float, kind: str
) -> float:
    comparison = compare_window(month, span, kind)
    if not comparison.comparable:
        return float("nan")
    if comparison.like_for_like:
        base = fetch_sales_window(conn, comparison.base_start, comparison.base_end)["net_sales"]
    else:
        base_month = comparison.base_start
        base = float(history.loc[base_month, "net_sales"]) if base_month in history.index else 0.0
    return growth_pct(net, base)


def growth_pct(now: float, before: float) -> float:
    """Percent change from ``before`` to ``now``, rounded to 2 decimals; NaN without a base."""
    if not before:
        return float("nan")
    return round((now - before) / abs(before) * 100, 2)


def fetch_sales_window(conn: Conn, start: date, end: date) -> dict[str, float]:
    """Gross and net sales over [start, end) (``count_lines``, ``gross_sales``, ``net_sales``)."""
    row = run_query(conn, "analyses/sales_window", start=_dt(start), end=_dt(end)).iloc[0]
    return {
        "count_lines": int(row["count_lines"]),
        "gross_sales": round(float(row["gross_sales"]), 2),
        "net_sales": round(float(row["net_sales"]), 2),
    }


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
        "adjustment_invoices",
        "active_customers",
        "new_customers",
        "returning_customers",
        "cancelling_only_customers",
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
