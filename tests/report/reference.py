"""The report's written definitions, computed again with pandas from the raw file.

Nothing here calls the package: a wrong query or rule in the package shows up as a
difference from these functions. Each follows the report's Definitions section.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

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


def read_raw(path) -> pd.DataFrame:
    """The raw CSV with amount, month and the invoice kinds."""
    frame = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"},
        parse_dates=["InvoiceDate"],
    )
    frame["amount"] = (frame["Quantity"] * frame["UnitPrice"]).round(3)
    frame["month"] = frame["InvoiceDate"].dt.strftime("%Y-%m")
    frame["is_c"] = frame["InvoiceNo"].str.startswith("C")
    frame["is_a"] = frame["InvoiceNo"].str.startswith("A")
    frame["is_product"] = frame["StockCode"].str[:1].str.isdigit()
    return frame


def between(raw: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """Lines dated in [start, end)."""
    return raw[(raw["InvoiceDate"] >= start) & (raw["InvoiceDate"] < end)]


def net_sales(raw: pd.DataFrame, start: str, end: str) -> float:
    return float(between(raw, start, end)["amount"].sum())


def first_purchase_month(raw: pd.DataFrame) -> pd.Series:
    """Customer -> month of their earliest line that is not a cancellation."""
    lines = raw[~raw["is_c"] & raw["CustomerID"].notna()]
    return lines.groupby("CustomerID")["InvoiceDate"].min().dt.strftime("%Y-%m")


def customer_counts(lines: pd.DataFrame, new_ids: set) -> dict[str, int]:
    """Active customers split into new, returning and cancelling only."""
    known = lines[lines["CustomerID"].notna()]
    active = set(known["CustomerID"])
    purchasing = set(known.loc[~known["is_c"], "CustomerID"])
    new = active & new_ids
    return {
        "active_customers": len(active),
        "new_customers": len(new),
        "returning_customers": len(purchasing - new),
        "cancelling_only_customers": len(active - purchasing),
    }


def monthly(raw: pd.DataFrame, year: str = "2011") -> pd.DataFrame:
    """monthly.csv for the months of ``year`` (the data ends on 9 Dec 2011)."""
    first = first_purchase_month(raw)
    rows = []
    for month, lines in raw.groupby("month"):
        rows.append(
            {
                "month": month,
                "invoices": lines["InvoiceNo"].nunique(),
                "cancelled_invoices": lines.loc[lines["is_c"], "InvoiceNo"].nunique(),
                "placed_orders": lines.loc[~lines["is_c"] & ~lines["is_a"], "InvoiceNo"].nunique(),
                "gross_sales": lines.loc[lines["amount"] >= 0, "amount"].sum(),
                "net_sales": lines["amount"].sum(),
                **customer_counts(lines, set(first[first == month].index)),
            }
        )
    table = pd.DataFrame(rows).sort_values("month").reset_index(drop=True)
    table["sales_growth_pct"] = table["net_sales"].pct_change() * 100
    table["sales_growth_yoy_pct"] = np.nan
    # December 2011 holds 1-9 Dec: compared like for like with 1-9 Nov and 1-9 Dec 2010
    dec = table["month"] == "2011-12"
    now = net_sales(raw, "2011-12-01", "2011-12-10")
    table.loc[dec, "sales_growth_pct"] = (
        (now - net_sales(raw, "2011-11-01", "2011-11-10"))
        / abs(net_sales(raw, "2011-11-01", "2011-11-10"))
        * 100
    )
    table.loc[dec, "sales_growth_yoy_pct"] = (
        (now - net_sales(raw, "2010-12-01", "2010-12-10"))
        / abs(net_sales(raw, "2010-12-01", "2010-12-10"))
        * 100
    )
    table["complete"] = table["month"] != "2011-12"
    return table[table["month"].str.startswith(year)].reset_index(drop=True)


def rfm_basis(raw: pd.DataFrame, start: str, end: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Per customer with a purchase line in [start, end): last, frequency, gross, net."""
    window = between(raw, start, end)
    window = window[window["CustomerID"].notna() & ~window["is_a"]]
    buys = window[(window["Quantity"] > 0) & (window["UnitPrice"] > 0)]
    per = buys.groupby("CustomerID").agg(
        last=("InvoiceDate", "max"),
        frequency=("InvoiceNo", "nunique"),
        gross_spend=("amount", "sum"),
    )
    # amounts have 3 decimals: round away float noise, so a full refund nets exactly 0
    per["net_spend"] = window.groupby("CustomerID")["amount"].sum().reindex(per.index).round(3)
    snapshot = per["last"].max().normalize() + pd.Timedelta(days=1)
    per["recency"] = (snapshot - per["last"].dt.normalize()).dt.days
    return per, snapshot


def segment_counts(raw: pd.DataFrame, start: str, end: str, rule: str = "net") -> pd.Series:
    """Customers per segment under the ``net`` or ``gross`` monetary rule."""
    per, _ = rfm_basis(raw, start, end)
    if rule == "net":
        per = per[per["net_spend"] > 0]
    r = pd.qcut(per["recency"], 5, labels=[5, 4, 3, 2, 1]).astype(int)
    f = pd.qcut(per["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    key = r.astype(str) + f.astype(str)
    segment = key.map(lambda k: next(n for p, n in SEGMENTS.items() if re.fullmatch(p, k)))
    return segment.value_counts()


def net_products(raw: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """Per stock code bought in a basket (a product purchase line of a placed order):
    baskets, gross and net quantity and revenue."""
    window = between(raw, start, end)
    basket = window[~window["is_c"] & ~window["is_a"] & window["is_product"]]
    basket = basket[(basket["Quantity"] > 0) & (basket["UnitPrice"] > 0)]
    cancel = window[window["is_c"] & window["is_product"]]
    per = basket.groupby("StockCode").agg(
        baskets=("InvoiceNo", "nunique"),
        gross_quantity=("Quantity", "sum"),
        gross_revenue=("amount", "sum"),
    )
    back = cancel.groupby("StockCode").agg(q=("Quantity", "sum"), r=("amount", "sum"))
    back = back.reindex(per.index).fillna(0)
    per["net_quantity"] = per["gross_quantity"] + back["q"]
    per["net_revenue"] = per["gross_revenue"] + back["r"]
    return per


def order_counts(raw: pd.DataFrame, start: str, end: str) -> dict[str, int]:
    """Placed orders, those with a purchase line (invoice amounts), and baskets."""
    window = between(raw, start, end)
    placed = window[~window["is_c"] & ~window["is_a"]]
    buying = placed[(placed["Quantity"] > 0) & (placed["UnitPrice"] > 0)]
    return {
        "placed_orders": placed["InvoiceNo"].nunique(),
        "purchase_orders": buying["InvoiceNo"].nunique(),
        "baskets": buying.loc[buying["is_product"], "InvoiceNo"].nunique(),
    }
