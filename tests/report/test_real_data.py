"""The real UCI data, PERIOD=2011: report tables against figures computed here with pandas.

Nothing here calls the package's analysis code: the expected values come from the
raw CSV and the written definitions, so a wrong query or rule shows up as a diff.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.realdata

SEGMENTS = {  # the standard R-F map, written out again on purpose
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


@pytest.fixture(scope="module")
def raw(real_csv) -> pd.DataFrame:
    frame = pd.read_csv(
        real_csv,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    )
    frame["amount"] = (frame["Quantity"] * frame["UnitPrice"]).round(3)
    frame["month"] = frame["InvoiceDate"].dt.strftime("%Y-%m")
    return frame


@pytest.fixture(scope="module")
def real_report(real_csv, tmp_path_factory):
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.report.build import build_report
    from lgs_analysis.warehouse import get_engine

    root = tmp_path_factory.mktemp("real")
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_DATABASE_URL", url)
        mp.setenv("LGS_REPORTS_DIR", str(root / "reports"))
        load_file(real_csv, get_engine(url), progress=False)
        yield build_report("2011").version_dir


def expected_monthly(raw: pd.DataFrame) -> pd.DataFrame:
    cancelled = raw["InvoiceNo"].str.startswith("C")
    first = (
        raw[~cancelled & raw["CustomerID"].notna()]
        .groupby("CustomerID")["InvoiceDate"]
        .min()
        .dt.strftime("%Y-%m")
    )
    rows = []
    for month, lines in raw.groupby("month"):
        c = lines["InvoiceNo"].str.startswith("C")
        rows.append(
            {
                "month": month,
                "invoices": lines["InvoiceNo"].nunique(),
                "cancelled_invoices": lines.loc[c, "InvoiceNo"].nunique(),
                "placed_orders": lines.loc[~c, "InvoiceNo"].nunique(),
                "gross_sales": lines.loc[lines["amount"] >= 0, "amount"].sum(),
                "net_sales": lines["amount"].sum(),
                "active_customers": lines["CustomerID"].nunique(),
                "new_customers": int((first == month).sum()),
            }
        )
    table = pd.DataFrame(rows).sort_values("month").reset_index(drop=True)
    table["sales_growth_pct"] = table["net_sales"].pct_change() * 100
    table["returning_customers"] = table["active_customers"] - table["new_customers"]
    return table[table["month"].str.startswith("2011")].reset_index(drop=True)


def test_monthly_matches_independent_pandas(raw, real_report):
    got = pd.read_csv(real_report / "tables" / "monthly.csv")
    want = expected_monthly(raw)[got.columns]
    assert got["month"].tolist() == want["month"].tolist()
    for column in [
        "invoices",
        "cancelled_invoices",
        "placed_orders",
        "active_customers",
        "new_customers",
        "returning_customers",
    ]:
        assert got[column].tolist() == want[column].tolist(), column
    for column in ["gross_sales", "net_sales"]:
        np.testing.assert_allclose(got[column], want[column], atol=0.006, err_msg=column)
    np.testing.assert_allclose(got["sales_growth_pct"], want["sales_growth_pct"], atol=0.006)


def expected_segments(raw: pd.DataFrame) -> pd.Series:
    lines = raw[
        (raw["InvoiceDate"] >= "2011-01-01")
        & (raw["InvoiceDate"] < "2012-01-01")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & raw["CustomerID"].notna()
    ]
    per = lines.groupby("CustomerID").agg(
        last=("InvoiceDate", "max"), frequency=("InvoiceNo", "nunique"), monetary=("amount", "sum")
    )
    snapshot = per["last"].max().normalize() + pd.Timedelta(days=1)
    per["recency"] = (snapshot - per["last"].dt.normalize()).dt.days
    r = pd.qcut(per["recency"], 5, labels=[5, 4, 3, 2, 1]).astype(int)
    f = pd.qcut(per["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    key = r.astype(str) + f.astype(str)
    segment = key.map(lambda k: next(n for p, n in SEGMENTS.items() if re.fullmatch(p, k)))
    return segment.value_counts()


def test_segment_counts_match_independent_pandas(raw, real_report):
    got = pd.read_csv(real_report / "tables" / "segments.csv").set_index("segment")["customers"]
    want = expected_segments(raw)
    for name in SEGMENTS.values():
        assert got[name] == want.get(name, 0), name
    assert got.sum() == want.sum()


def test_real_report_headline_figures(raw, real_report):
    import json

    metrics = json.loads((real_report / "metrics.json").read_text())
    in_2011 = raw[raw["InvoiceDate"].dt.year == 2011]
    assert metrics["invoices"] == in_2011["InvoiceNo"].nunique()
    assert metrics["net_sales"] == pytest.approx(in_2011["amount"].sum(), abs=0.01)
    assert metrics["active_customers"] == in_2011["CustomerID"].nunique()
    assert metrics["is_demo"] is False
