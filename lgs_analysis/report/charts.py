"""Charts: each function draws one figure from an analysis result and returns it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "plot_monthly_sales",
    "plot_monthly_customers",
    "plot_invoice_distribution",
    "plot_segment_pie",
    "plot_segment_value",
]

PALETTE = [
    "#0b3954",
    "#087e8b",
    "#bfd7ea",
    "#ff5a5f",
    "#c81d25",
    "#f4a259",
    "#5b8e7d",
    "#8cb369",
    "#bc4b51",
    "#6c757d",
    "#3d5a80",
    "#98c1d9",
]
plt.rcParams.update(
    {
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "font.size": 9,
    }
)


def plot_monthly_sales(monthly: pd.DataFrame) -> Figure:
    """Gross and net sales per month (bars) with cancelled invoices (line)."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    x = range(len(monthly))
    ax.bar(
        [i - 0.2 for i in x],
        monthly["gross_sales"],
        width=0.4,
        label="gross sales",
        color=PALETTE[2],
    )
    ax.bar(
        [i + 0.2 for i in x], monthly["net_sales"], width=0.4, label="net sales", color=PALETTE[0]
    )
    ax.set_xticks(list(x), monthly["month"], rotation=45, ha="right")
    ax.set_ylabel("£")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:,.0f}k")
    ax.set_title("Sales per month")
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def plot_monthly_customers(monthly: pd.DataFrame) -> Figure:
    """Active customers per month split into new and returning."""
    fig, ax = plt.subplots(figsize=(9, 3.0))
    ax.bar(monthly["month"], monthly["returning_customers"], label="returning", color=PALETTE[1])
    ax.bar(
        monthly["month"],
        monthly["new_customers"],
        bottom=monthly["returning_customers"],
        label="new",
        color=PALETTE[5],
    )
    ax.tick_params(axis="x", rotation=45)
    ax.set_title("Active customers per month")
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def plot_invoice_distribution(totals: pd.Series, cap: float | None = None) -> Figure:
    """Histogram and box plot of invoice totals; with ``cap``, only totals up to it."""
    values = totals if cap is None else totals[totals <= cap]
    fig, (hist, box) = plt.subplots(
        2, 1, figsize=(9, 3.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    if cap is None and len(values) and values.min() > 0:  # long tail: log-spaced bins
        bins = np.geomspace(values.min(), values.max(), 60)
        hist.set_xscale("log")
    else:
        bins = 60
    hist.hist(values, bins=bins, color=PALETTE[0])
    hist.set_ylabel("invoices")
    title = "Invoice totals" + (f" up to £{cap:,.0f}" if cap is not None else " (all, log scale)")
    hist.set_title(title)
    box.boxplot(values, vert=False, widths=0.6, showfliers=cap is not None)
    box.set_yticks([])
    box.set_xlabel("invoice total (£)")
    fig.tight_layout()
    return fig


def plot_segment_pie(segments: pd.DataFrame) -> Figure:
    """Share of customers per segment (segments with customers only)."""
    shown = segments[segments["customers"] > 0]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    wedges, _, _ = ax.pie(
        shown["customers"],
        autopct=lambda pct: f"{pct:.0f}%" if pct >= 3 else "",
        startangle=90,
        counterclock=False,
        colors=PALETTE[: len(shown)],
        pctdistance=0.75,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
        textprops={"fontsize": 8, "color": "white", "weight": "bold"},
    )
    labels = [
        f"{name} ({share:.0%})"
        for name, share in zip(shown["segment"], shown["customer_share"], strict=True)
    ]
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title("Customers by RFM segment")
    ax.axis("equal")
    fig.tight_layout()
    return fig


def plot_segment_value(segments: pd.DataFrame) -> Figure:
    """Share of customers against share of revenue, per segment."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    y = range(len(segments))
    ax.barh(
        [i + 0.2 for i in y],
        segments["customer_share"] * 100,
        height=0.4,
        label="% of customers",
        color=PALETTE[2],
    )
    ax.barh(
        [i - 0.2 for i in y],
        segments["revenue_share"] * 100,
        height=0.4,
        label="% of revenue",
        color=PALETTE[0],
    )
    ax.set_yticks(list(y), segments["segment"])
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.set_title("Customers and revenue by segment")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
