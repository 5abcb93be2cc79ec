"""Segment movement: hand-made scores, and the matrix against segments on real data."""

from __future__ import annotations

from datetime import date

import pandas as pd

from lgs_analysis.analyses import migration, rfm
from lgs_analysis.periods import parse_period
from lgs_analysis.warehouse import get_engine


def _scored(rows):
    return pd.DataFrame(
        rows, columns=["customer_id", "segment", "monetary", "frequency", "recency"]
    )


PREVIOUS = _scored(
    [(1, "Champions", 100.0, 9, 3), (2, "Loyal Customers", 50.0, 5, 10), (3, "At Risk", 5.0, 3, 90)]
)
CURRENT = _scored(
    [
        (1, "Can't Lose", 20.0, 8, 200),
        (2, "Loyal Customers", 60.0, 6, 8),
        (4, "New Customers", 9.0, 1, 2),
    ]
)


def test_build_migration_none_on_missing_side():
    matrix = migration.build_migration(CURRENT, PREVIOUS)
    got = {
        (r.from_segment, r.to_segment): (r.customers, r.revenue, r.previous_revenue)
        for r in matrix.itertuples()
    }
    assert got == {
        ("Champions", "Can't Lose"): (1, 20.0, 100.0),
        ("Loyal Customers", "Loyal Customers"): (1, 60.0, 50.0),
        ("At Risk", "(none)"): (1, 0.0, 5.0),
        ("(none)", "New Customers"): (1, 9.0, 0.0),
    }
    assert list(matrix.columns) == migration.MIGRATION_COLUMNS


def test_find_at_risk_movers_champion_into_cant_lose():
    movers = migration.find_at_risk_movers(CURRENT, PREVIOUS)
    assert movers["customer_id"].tolist() == [1]
    assert movers.iloc[0]["previous_monetary"] == 100.0 and movers.iloc[0]["recency"] == 200


def test_summarize_shifts_counts_each_side():
    shifts = migration.summarize_shifts(migration.build_migration(CURRENT, PREVIOUS)).set_index(
        "segment"
    )
    assert shifts.loc["Champions", "change"] == -1
    assert shifts.loc["Loyal Customers", "customers"] == 1


def test_build_migration_real_rows_into_segment_equal_segments(real_duckdb_url):
    period = parse_period("2011-11")
    previous = period.previous()
    with get_engine(real_duckdb_url).connect() as conn:
        now, _ = rfm.fetch_rfm_basis(conn, period.lookback_start(12), period.end)
        before, _ = rfm.fetch_rfm_basis(conn, previous.lookback_start(12), previous.end)
    scored, previous_scored = rfm.score_rfm(now), rfm.score_rfm(before)
    matrix = migration.build_migration(scored, previous_scored)
    segments = rfm.summarize_segments(scored).set_index("segment")["customers"]
    into = matrix.groupby("to_segment")["customers"].sum()
    for name, customers in segments.items():
        assert into.get(name, 0) == customers, name
    # every customer of either window is counted once
    assert matrix["customers"].sum() == len(
        set(scored["customer_id"]) | set(previous_scored["customer_id"])
    )
    assert into.get("(none)", 0) == len(
        set(previous_scored["customer_id"]) - set(scored["customer_id"])
    )
    assert date(2011, 11, 1) == previous.end
