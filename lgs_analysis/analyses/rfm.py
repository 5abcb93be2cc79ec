"""RFM scoring and segmentation (pure pandas on one row per customer).

Recency, frequency and monetary value come from ``sql/analyses/rfm_customers.sql``; this
module turns them into quintile scores and the ten standard segments.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..warehouse import run_query

__all__ = [
    "RFM_COLUMNS",
    "SEGMENT_COLUMNS",
    "SEGMENT_ORDER",
    "DEFAULT_SEGMENT_MAP",
    "CAMPAIGNS",
    "SPEND_COLUMNS",
    "BASIS_COLUMNS",
    "MONETARY_RULES",
    "fetch_rfm_basis",
    "split_refunded",
    "score_rfm",
    "assign_segments",
    "summarize_segments",
]

RFM_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "r", "f", "m", "segment"]
# Spend columns carried through scoring when the basis has them (customers.csv shows both).
SPEND_COLUMNS = ["gross_spend", "net_spend"]
BASIS_COLUMNS = ["customer_id", "recency", "frequency", "monetary", *SPEND_COLUMNS]
MONETARY_RULES = ("net", "gross")
SEGMENT_COLUMNS = [
    "segment",
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "mean_recency",
    "mean_frequency",
    "mean_monetary",
]
# The standard R-F segment map: a regex over the two digits "<R><F>"; the first match wins.
DEFAULT_SEGMENT_MAP: dict[str, str] = {
    r"[1-2][1-2]": "Hibernating",
    r"[1-2][3-4]": "At Risk",
    r"[1-2]5": "Can't Lose",
    r"3[1-2]": "About to Sleep",
    r"33": "Need Attention",
    r"[3-4][4-5]": "Loyal Customers",
    r"41": "Promising",
    r"51": "New Customers",
    r"[4-5][2-3]": "Potential Loyalists",
    r"5[4-5]": "Champions",
}
SEGMENT_ORDER = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
]
# The recommended campaign for the three segments marketing acts on.
CAMPAIGNS: dict[str, str] = {
    "Champions": "Novel campaigns to keep them interested: new ranges first, loyalty rewards.",
    "Can't Lose": "Personalised deals on the goods they bought before, to win them back.",
    "Hibernating": "Discount coupons to bring them back.",
}


def fetch_rfm_basis(
    conn: Connection | Engine, start: date, end: date, monetary: str = "net"
) -> tuple[pd.DataFrame, date | None]:
    """Recency, frequency and spend of every customer who bought in [start, end).

    Parameters
    ----------
    monetary : {'net', 'gross'} (default: 'net')
        Which spend becomes ``monetary``: ``net`` (all the customer's lines in the window,
        cancellations included, adjustments excluded) or ``gross`` (purchase lines only,
        the textbook rule).

    Returns
    -------
    basis : DataFrame
        Columns :data:`BASIS_COLUMNS`: ``recency`` (whole days from the last purchase to
        the snapshot), ``frequency`` (distinct invoices with a purchase line),
        ``monetary``, ``gross_spend`` and ``net_spend``. Every customer with a purchase
        line, whatever their net spend: see :func:`split_refunded`.
    snapshot : date or None
        The day after the last purchase in the window; None when there is none.
    """
    if monetary not in MONETARY_RULES:
        raise ValueError(f"monetary must be one of {MONETARY_RULES}, got {monetary!r}")
    raw = run_query(
        conn, "analyses/rfm_customers", start=_as_datetime(start), end=_as_datetime(end)
    )
    if raw.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in BASIS_COLUMNS}), None
    last = pd.to_datetime(raw["last_purchase_at"]).dt.normalize()
    snapshot = (last.max() + timedelta(days=1)).date()
    gross = raw["gross_spend"].astype("float64")
    net = raw["net_spend"].astype("float64")
    basis = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "recency": (pd.Timestamp(snapshot) - last).dt.days.astype("int64"),
            "frequency": raw["frequency"].astype("int64"),
            "monetary": net if monetary == "net" else gross,
            "gross_spend": gross,
            "net_spend": net,
        }
    )
    return basis, snapshot


def split_refunded(basis: pd.DataFrame, monetary: str = "net") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the customers to score from those who refunded everything.

    A customer *refunded everything* when their net spend in the window is 0 or less: what
    they bought was cancelled. Under the ``net`` rule they are not scored; under the
    ``gross`` rule (the textbook one) everyone with a purchase is scored.

    Returns
    -------
    scored_basis, refunded : DataFrame
        Both with the columns of ``basis``; ``refunded`` holds every customer whose net
        spend is 0 or less (under either rule), largest gross spend first.
    """
    refunded_mask = basis["net_spend"] <= 0
    refunded = basis[refunded_mask].sort_values(
        ["gross_spend", "customer_id"], ascending=[False, True], ignore_index=True
    )
    keep = ~refunded_mask if monetary == "net" else pd.Series(True, index=basis.index)
    return basis[keep].reset_index(drop=True), refunded


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _check_columns(frame: pd.DataFrame, columns: Mapping[str, str]) -> None:
    missing = [f"{role}={name!r}" for role, name in columns.items() if name not in frame.columns]
    if missing:
        raise ValueError(
            f"RFM input lacks column(s) {', '.join(missing)}; it has {list(frame.columns)}"
        )


def _quintiles(values: pd.Series, labels: list[int], by_rank: bool = False) -> pd.Series:
    """Score into five quantile bins; collapsed bins fall back to ranks with a warning."""
    series = values.rank(method="first") if by_rank else values
    try:
        return pd.qcut(series, 5, labels=labels).astype("int64")
    except ValueError:
        warnings.warn(
            f"{values.name}: too few distinct values for 5 quantile bins; scoring by rank",
            UserWarning,
            stacklevel=3,
        )
        position = np.ceil(values.rank(method="first", pct=True) * 5).clip(1, 5).astype(int)
        return pd.Series(np.asarray(labels)[position - 1], index=values.index, dtype="int64")


def score_rfm(
    basis: pd.DataFrame,
    customer_id_col: str = "customer_id",
    recency_col: str = "recency",
    frequency_col: str = "frequency",
    monetary_col: str = "monetary",
    segment_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Score customers 1..5 on R, F and M and assign a segment.

    R = qcut(recency, 5) labelled 5..1 (recent is high); F = qcut(rank(frequency,
    method='first'), 5) labelled 1..5; M = qcut(monetary, 5) labelled 1..5. When
    ties collapse bins, R or M falls back to ranks (UserWarning). The segment comes
    from R and F through ``segment_map`` (regex over "<R><F>", first match wins;
    entries given override :data:`DEFAULT_SEGMENT_MAP`).

    Returns
    -------
    DataFrame
        Columns :data:`RFM_COLUMNS`, with ``gross_spend`` and ``net_spend`` after
        ``monetary`` when ``basis`` has them; empty with those columns when ``basis``
        is empty.
    """
    _check_columns(
        basis,
        {
            "customer_id_col": customer_id_col,
            "recency_col": recency_col,
            "frequency_col": frequency_col,
            "monetary_col": monetary_col,
        },
    )
    if basis.empty:
        spend = [c for c in SPEND_COLUMNS if c in basis.columns]
        columns = [*RFM_COLUMNS[:4], *spend, *RFM_COLUMNS[4:]]
        return pd.DataFrame(
            {c: pd.Series(dtype="object" if c == "segment" else "int64") for c in columns}
        ).astype({c: "float64" for c in ["monetary", *spend]})
    frame = pd.DataFrame(
        {
            "customer_id": basis[customer_id_col].to_numpy(),
            "recency": basis[recency_col].astype("int64").to_numpy(),
            "frequency": basis[frequency_col].astype("int64").to_numpy(),
            "monetary": basis[monetary_col].astype("float64").to_numpy(),
        }
    )
    frame["r"] = _quintiles(frame["recency"], [5, 4, 3, 2, 1])
    frame["f"] = _quintiles(frame["frequency"], [1, 2, 3, 4, 5], by_rank=True)
    frame["m"] = _quintiles(frame["monetary"], [1, 2, 3, 4, 5])
    frame["segment"] = assign_segments(frame["r"], frame["f"], segment_map)
    spend = [c for c in SPEND_COLUMNS if c in basis.columns]
    for column in spend:
        frame[column] = basis[column].astype("float64").to_numpy()
    columns = [*RFM_COLUMNS[:4], *spend, *RFM_COLUMNS[4:]]
    return frame[columns].sort_values("customer_id", ignore_index=True)


def assign_segments(
    r: pd.Series, f: pd.Series, segment_map: Mapping[str, str] | None = None
) -> pd.Series:
    """Map R and F scores to segment names; raise ValueError if a pair matches nothing."""
    rules = {**DEFAULT_SEGMENT_MAP, **(segment_map or {})}
    compiled = [(re.compile(f"^{pattern}$"), name) for pattern, name in rules.items()]
    lookup = {}
    for key in {f"{a}{b}" for a in range(1, 6) for b in range(1, 6)}:
        lookup[key] = next((name for rx, name in compiled if rx.match(key)), None)
    unmatched = sorted(k for k, v in lookup.items() if v is None)
    if unmatched:
        raise ValueError(f"segment_map leaves R-F pairs without a segment: {unmatched}")
    keys = r.astype(str) + f.astype(str)
    return keys.map(lookup)


def summarize_segments(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per segment (all ten, in the standard order, plus any custom ones).

    Returns
    -------
    DataFrame
        Columns :data:`SEGMENT_COLUMNS`. Shares are fractions of all scored customers
        and of their total monetary value.
    """
    grouped = scored.groupby("segment").agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        mean_recency=("recency", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    )
    names = SEGMENT_ORDER + sorted(set(grouped.index) - set(SEGMENT_ORDER))
    table = grouped.reindex(names)
    table["customers"] = table["customers"].fillna(0).astype("int64")
    table["revenue"] = table["revenue"].fillna(0.0)
    total_customers = table["customers"].sum()
    total_revenue = table["revenue"].sum()
    table["customer_share"] = table["customers"] / total_customers if total_customers else 0.0
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue else 0.0
    table = table.rename_axis("segment").reset_index()
    return table[SEGMENT_COLUMNS]
