"""Cohort retention: customers grouped by the month of their first purchase.

``sql/analyses/cohort_activity.sql`` counts, in the warehouse, the active customers of every
cohort in every month since its first; this module fills the grid and the shares.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..periods import add_months
from ..warehouse import run_query

__all__ = [
    "COHORT_COLUMNS",
    "fetch_cohorts",
    "build_cohort_table",
    "pivot_retention",
    "next_month_retention",
]

COHORT_COLUMNS = [
    "cohort_month",
    "months_since_first",
    "customers",
    "active_customers",
    "retention",
]


def fetch_cohorts(conn: Connection | Engine, end: date, months: int = 12) -> pd.DataFrame:
    """Retention of the cohorts of the ``months`` months before ``end``.

    Returns
    -------
    DataFrame
        :func:`build_cohort_table` of the warehouse's activity.
    """
    if months < 1:
        raise ValueError(f"cohort months must be >= 1, got {months!r}")
    start = add_months(end, -months) if end.day == 1 else add_months(end, -months + 1)
    raw = run_query(
        conn,
        "analyses/cohort_activity",
        cohort_start=datetime(start.year, start.month, 1),
        end=datetime(end.year, end.month, end.day),
    )
    return build_cohort_table(raw, end)


def build_cohort_table(activity: pd.DataFrame, end: date) -> pd.DataFrame:
    """Every (cohort, month since first) up to ``end``, with the share still active.

    Parameters
    ----------
    activity : DataFrame
        Columns ``cohort_month``, ``months_since_first`` and ``active_customers`` (rows
        with no activity may be absent); month 0 holds the cohort's size.
    end : date
        End of the observed window (excluded): a cohort's last month is the one
        holding ``end - 1 day``.

    Returns
    -------
    DataFrame
        Columns :data:`COHORT_COLUMNS`; ``cohort_month`` is ``YYYY-MM``; ``retention``
        = active / customers, so month 0 is 1.0.
    """
    missing = {"cohort_month", "months_since_first", "active_customers"} - set(activity.columns)
    if missing:
        raise ValueError(f"cohort activity lacks column(s) {sorted(missing)}")
    if activity.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COHORT_COLUMNS})
    months = pd.to_datetime(activity["cohort_month"]).dt.to_period("M")
    frame = pd.DataFrame(
        {
            "cohort": months,
            "months_since_first": activity["months_since_first"].astype("int64"),
            "active_customers": activity["active_customers"].astype("int64"),
        }
    )
    sizes = frame[frame["months_since_first"] == 0].set_index("cohort")["active_customers"]
    last = pd.Period(pd.Timestamp(end) - pd.Timedelta(days=1), freq="M")
    rows = []
    for cohort in sorted(frame["cohort"].unique()):
        span = (last - cohort).n + 1
        for k in range(max(span, 1)):
            rows.append((cohort, k))
    grid = pd.DataFrame(rows, columns=["cohort", "months_since_first"])
    table = grid.merge(frame, on=["cohort", "months_since_first"], how="left")
    table["active_customers"] = table["active_customers"].fillna(0).astype("int64")
    table["customers"] = table["cohort"].map(sizes).fillna(0).astype("int64")
    table["retention"] = (
        table["active_customers"] / table["customers"].where(table["customers"] > 0)
    ).fillna(0.0)
    table["cohort_month"] = table["cohort"].astype(str)
    return table[COHORT_COLUMNS]


def pivot_retention(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Cohorts as rows, months since the first purchase as columns, retention as values."""
    return cohorts.pivot(index="cohort_month", columns="months_since_first", values="retention")


def next_month_retention(cohorts: pd.DataFrame, exclude: list[str] | None = None) -> dict:
    """The share of customers who buy again in the month after their first purchase.

    Weighted over the cohorts that have a following month, leaving out ``exclude``
    (``YYYY-MM``): the first month the warehouse holds is such a cohort, since its
    "new" customers include everyone who bought before the data starts.

    Returns
    -------
    dict
        ``share`` (None without any cohort), ``cohorts`` and ``customers`` counted.
    """
    later = cohorts[
        (cohorts["months_since_first"] == 1) & ~cohorts["cohort_month"].isin(exclude or [])
    ]
    customers = int(later["customers"].sum())
    share = float(later["active_customers"].sum() / customers) if customers else None
    return {"share": share, "cohorts": int(len(later)), "customers": customers}
