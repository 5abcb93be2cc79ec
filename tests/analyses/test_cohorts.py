"""Cohort retention: the grid from hand-made activity, and shares on real data."""

from __future__ import annotations

from datetime import date

import pandas as pd

from lgs_analysis.analyses import cohorts
from lgs_analysis.warehouse import get_engine


def test_build_cohort_table_fills_missing_months():
    activity = pd.DataFrame(
        {
            "cohort_month": pd.to_datetime(["2011-01-01", "2011-01-01", "2011-02-01"]),
            "months_since_first": [0, 2, 0],
            "active_customers": [10, 4, 5],
        }
    )
    table = cohorts.build_cohort_table(activity, date(2011, 4, 1))
    jan = table[table["cohort_month"] == "2011-01"]
    assert jan["months_since_first"].tolist() == [0, 1, 2]  # up to March: April is excluded
    assert jan["retention"].tolist() == [1.0, 0.0, 0.4]
    assert len(table[table["cohort_month"] == "2011-02"]) == 2


def test_fetch_cohorts_real_shares_and_first_cohort(real_duckdb_url, real_frame):
    with get_engine(real_duckdb_url).connect() as conn:
        table = cohorts.fetch_cohorts(conn, date(2012, 1, 1), 12)
    assert sorted(table["cohort_month"].unique())[0] == "2011-01"
    assert table["retention"].between(0, 1).all()
    assert (table.loc[table["months_since_first"] == 0, "retention"] == 1.0).all()
    # January 2011 cohort: customers whose first non-cancellation line is in that month
    raw = real_frame[
        (real_frame["CustomerID"] != "") & ~real_frame["InvoiceNo"].str.startswith("C")
    ]
    when = pd.to_datetime(raw["InvoiceDate"], format="mixed")
    first = when.groupby(raw["CustomerID"]).min()
    jan = set(first[(first >= "2011-01-01") & (first < "2011-02-01")].index)
    row0 = table[(table["cohort_month"] == "2011-01") & (table["months_since_first"] == 0)]
    assert row0["customers"].iloc[0] == len(jan)
    feb = when[(when >= "2011-02-01") & (when < "2011-03-01")]
    active = set(raw.loc[feb.index, "CustomerID"]) & jan
    row1 = table[(table["cohort_month"] == "2011-01") & (table["months_since_first"] == 1)]
    assert row1["active_customers"].iloc[0] == len(active)
