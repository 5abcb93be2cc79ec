"""Segment movement: where each customer's RFM segment was a period ago, and is now.

Both sides are scored the same way (:func:`lgs_analysis.analyses.rfm.score_rfm` over the
trailing RFM window that ends where the period ends, and where the previous period
ends). A customer scored on one side only is ``(none)`` on the other.
"""

from __future__ import annotations

import pandas as pd

from .rfm import SEGMENT_ORDER

__all__ = [
    "NONE",
    "SLIPPING_FROM",
    "SLIPPING_TO",
    "MIGRATION_COLUMNS",
    "MOVER_COLUMNS",
    "build_migration",
    "find_at_risk_movers",
    "summarize_shifts",
]

NONE = "(none)"
SLIPPING_FROM = ("Champions", "Loyal Customers")
SLIPPING_TO = ("At Risk", "Can't Lose", "Hibernating")
MIGRATION_COLUMNS = ["from_segment", "to_segment", "customers", "revenue", "previous_revenue"]
MOVER_COLUMNS = [
    "customer_id",
    "from_segment",
    "to_segment",
    "previous_monetary",
    "current_monetary",
    "previous_frequency",
    "current_frequency",
    "recency",
]
_SCORED = ["customer_id", "segment", "monetary", "frequency", "recency"]


def _check(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in _SCORED if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _joined(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    _check(current, "current scores")
    _check(previous, "previous scores")
    joined = previous[_SCORED].merge(
        current[_SCORED], on="customer_id", how="outer", suffixes=("_previous", "_current")
    )
    joined["from_segment"] = joined["segment_previous"].fillna(NONE)
    joined["to_segment"] = joined["segment_current"].fillna(NONE)
    return joined


def _order(names: pd.Series) -> pd.Series:
    known = [*SEGMENT_ORDER, NONE]
    return names.map(lambda n: known.index(n) if n in known else len(known))


def build_migration(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """The migration matrix in long form: customers from their previous segment to now.

    Parameters
    ----------
    current, previous : DataFrame
        Scored customers (:func:`lgs_analysis.analyses.rfm.score_rfm` output) of the period and
        of the period before it.

    Returns
    -------
    DataFrame
        Columns :data:`MIGRATION_COLUMNS`, one row per (from_segment, to_segment) with
        customers, in the standard segment order, ``(none)`` last. ``revenue`` is the
        customers' monetary value in the current RFM window (0 for ``to (none)``);
        ``previous_revenue`` is theirs in the previous window (0 for ``from (none)``).
    """
    joined = _joined(current, previous)
    joined["revenue"] = joined["monetary_current"].fillna(0.0)
    joined["previous_revenue"] = joined["monetary_previous"].fillna(0.0)
    matrix = (
        joined.groupby(["from_segment", "to_segment"])
        .agg(
            customers=("customer_id", "size"),
            revenue=("revenue", "sum"),
            previous_revenue=("previous_revenue", "sum"),
        )
        .reset_index()
    )
    matrix["customers"] = matrix["customers"].astype("int64")
    matrix = matrix.assign(
        _f=_order(matrix["from_segment"]), _t=_order(matrix["to_segment"])
    ).sort_values(["_f", "from_segment", "_t", "to_segment"], ignore_index=True)
    return matrix[MIGRATION_COLUMNS]


def find_at_risk_movers(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    slipping_from: tuple[str, ...] = SLIPPING_FROM,
    slipping_to: tuple[str, ...] = SLIPPING_TO,
) -> pd.DataFrame:
    """The customers who slid from ``slipping_from`` into ``slipping_to`` segments.

    Returns
    -------
    DataFrame
        Columns :data:`MOVER_COLUMNS` (``recency`` in days, current window), most
        valuable before first.
    """
    joined = _joined(current, previous)
    moved = joined[
        joined["from_segment"].isin(slipping_from) & joined["to_segment"].isin(slipping_to)
    ]
    out = pd.DataFrame(
        {
            "customer_id": moved["customer_id"].astype("int64"),
            "from_segment": moved["from_segment"],
            "to_segment": moved["to_segment"],
            "previous_monetary": moved["monetary_previous"].astype("float64"),
            "current_monetary": moved["monetary_current"].astype("float64"),
            "previous_frequency": moved["frequency_previous"].astype("int64"),
            "current_frequency": moved["frequency_current"].astype("int64"),
            "recency": moved["recency_current"].astype("int64"),
        }
    )
    return out.sort_values(
        ["previous_monetary", "customer_id"], ascending=[False, True], ignore_index=True
    )[MOVER_COLUMNS]


def summarize_shifts(matrix: pd.DataFrame) -> pd.DataFrame:
    """Customers per segment before and now, from the migration matrix.

    Returns
    -------
    DataFrame
        Columns ``segment``, ``previous_customers``, ``customers``, ``change``; one row
        per named segment (``(none)`` excluded), in the standard order.
    """
    before = matrix.groupby("from_segment")["customers"].sum()
    now = matrix.groupby("to_segment")["customers"].sum()
    names = [n for n in SEGMENT_ORDER] + sorted(
        (set(before.index) | set(now.index)) - set(SEGMENT_ORDER) - {NONE}
    )
    out = pd.DataFrame(
        {
            "segment": names,
            "previous_customers": before.reindex(names).fillna(0).astype("int64").to_numpy(),
            "customers": now.reindex(names).fillna(0).astype("int64").to_numpy(),
        }
    )
    out["change"] = out["customers"] - out["previous_customers"]
    return out
