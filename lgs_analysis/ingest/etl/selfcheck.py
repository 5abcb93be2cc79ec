"""The ETL checks itself: the source and the warehouse are compared day by day.

Each run reads the source's lines and amount per day (one aggregated query on the
source, :meth:`~.source.OltpSource.day_totals`) and the warehouse's copy of them (one on
the warehouse, plus this source's quarantined rows, which count as synced). A day before
the run's window that differs, in lines or in amount, moves the window back to it: the
run syncs again from the earliest differing day. So a watermark moved too far (a line
typed 2021-12-09 for 2011-12-09 once stopped every later sale from syncing) and a
correction older than the overlap window are both caught.

Lines dated far beyond the rest are quarantined (:func:`far_beyond`): the rule looks at
the source's days in order, and where a gap of more than :data:`GAP_DAYS` days leaves
less than :data:`FAR_SHARE` of the lines after it, those lines are a typo, not sales.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from ...warehouse import run_query
from ..validate import parse_dates

__all__ = ["GAP_DAYS", "FAR_SHARE", "FAR_REASON", "far_beyond", "differing_days"]

GAP_DAYS = 365  # a year without a sale, then a handful of lines: a year typo
FAR_SHARE = 0.01  # ... if the lines after the gap are under 1% of the source's
FAR_REASON = "dated far beyond the rest of the source"
_AMOUNT_TOLERANCE = 0.005  # half a penny per day: the sums are of decimal(12, 3) products


def far_beyond(days: pd.DataFrame | None) -> datetime | None:
    """The first moment of the days whose lines are quarantined as dated far beyond the
    rest, or None.

    ``days`` holds ``day_at`` and ``count_lines``, one row per day of the source. Going
    through the days in order, the first gap of more than :data:`GAP_DAYS` days after
    which lie less than :data:`FAR_SHARE` of all lines marks those later lines.
    """
    if days is None or len(days) < 2:
        return None
    ordered = days.sort_values("day_at")
    when = pd.to_datetime(ordered["day_at"]).to_numpy()
    counts = ordered["count_lines"].to_numpy(dtype=np.int64)
    after = counts[::-1].cumsum()[::-1]  # lines on or after each day
    gaps = np.diff(when) > np.timedelta64(GAP_DAYS, "D")
    for i in np.flatnonzero(gaps) + 1:
        if after[i] < FAR_SHARE * counts.sum():
            return pd.Timestamp(when[i]).to_pydatetime()
    return None


def _warehouse_days(conn: Connection, source_name: str) -> pd.DataFrame:
    """Lines and amount per day in the warehouse from this source, quarantine included
    (except lines quarantined as far beyond the rest: they are looked at again)."""
    lines = run_query(conn, "ingest/etl/warehouse_days", source_name=source_name)
    lines = lines.assign(day_at=pd.to_datetime(lines["day_at"]).dt.date)
    kept = run_query(conn, "ingest/etl/window_quarantine", source_name=source_name)
    if kept.empty:
        return lines.assign(count_unpriced=0)
    raw = [json.loads(r) for r in kept["raw_row"]]
    keep = ~kept["reason"].astype(str).str.startswith(FAR_REASON).to_numpy()
    dates = parse_dates(pd.Series([r.get("invoice_date") for r in raw], dtype="object"))
    quantity = pd.to_numeric(pd.Series([r.get("quantity") for r in raw]), errors="coerce")
    price = pd.to_numeric(pd.Series([r.get("unit_price") for r in raw]), errors="coerce")
    held = pd.DataFrame(
        {
            "day_at": dates.dt.date,
            "count_lines": 1,
            "amount": (quantity * price).fillna(0.0),
            "count_unpriced": (quantity * price).isna().astype(int),
        }
    )[keep & dates.notna().to_numpy()]
    both = pd.concat([lines.assign(count_unpriced=0), held], ignore_index=True)
    return both.groupby("day_at", as_index=False)[["count_lines", "amount", "count_unpriced"]].sum()


def differing_days(
    conn: Connection,
    source_name: str,
    source_days: pd.DataFrame | None,
    before: datetime,
    far: datetime | None,
) -> list[date]:
    """The days before ``before`` (and before ``far``) whose lines or amount differ
    between the source and the warehouse, earliest first."""
    if source_days is None:
        return []
    source = source_days.assign(day_at=pd.to_datetime(source_days["day_at"]).dt.date)
    mine = _warehouse_days(conn, source_name)
    both = source.merge(mine, on="day_at", how="outer", suffixes=("_source", "_warehouse"))
    both = both.fillna({c: 0 for c in both.columns if c != "day_at"})
    last = min(before, far) if far is not None else before
    both = both[both["day_at"] < last.date()]
    lines_differ = both["count_lines_source"] != both["count_lines_warehouse"]
    priced = (both["count_unpriced_source"] == 0) & (both["count_unpriced_warehouse"] == 0)
    gap = (both["amount_source"] - both["amount_warehouse"]).abs()
    amounts_differ = priced & (gap > _AMOUNT_TOLERANCE)
    return sorted(both.loc[lines_differ | amounts_differ, "day_at"])
