"""Charts: each function draws one figure from an analysis result and returns it."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..escape import chart_text

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


def _month_styles(monthly: pd.DataFrame, highlight: pd.Series | None) -> tuple[list, list]:
    """Per month: bar transparency (context months lighter) and hatch (partial months)."""
    inside = highlight.tolist() if highlight is not None else [True] * len(monthly)
    alphas = [1.0 if flag else 0.35 for flag in inside]
    complete = monthly["complete"].tolist() if "complete" in monthly else [True] * len(monthly)
    hatches = ["" if flag else "////" for flag in complete]
    return alphas, hatches


def _style_bars(bars: Any, alphas: list, hatches: list) -> None:
    for bar, alpha, hatch in zip(bars, alphas, hatches, strict=True):
        bar.set_alpha(alpha)
        if hatch:
            bar.set_hatch(hatch)
            bar.set_edgecolor("white")


def _legend_extras(monthly: pd.DataFrame, highlight: pd.Series | None) -> list:
    extras = []
    if "complete" in monthly and not monthly["complete"].all():
        extras.append(
            Patch(facecolor="#999999", hatch="////", edgecolor="white", label="partial month")
        )
    if highlight is not None and not highlight.all():
        extras.append(Patch(facecolor="#999999", alpha=0.35, label="context (outside the period)"))
    return extras


def plot_monthly_sales(monthly: pd.DataFrame, highlight: pd.Series | None = None) -> Figure:
    """Gross and net sales per month; partial months hatched, months outside ``highlight`` light."""
    fig, ax = plt.subplots(figsize=(9, 3.4))
    x = list(range(len(monthly)))
    alphas, hatches = _month_styles(monthly, highlight)
    gross = ax.bar(
        [i - 0.2 for i in x],
        monthly["gross_sales"],
        width=0.4,
        label="gross sales",
        color=PALETTE[2],
    )
    net = ax.bar(
        [i + 0.2 for i in x], monthly["net_sales"], width=0.4, label="net sales", color=PALETTE[0]
    )
    _style_bars(gross, alphas, hatches)
    _style_bars(net, alphas, hatches)
    ax.set_xticks(x, monthly["month"], rotation=45, ha="right")
    ax.set_ylabel("£")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:,.0f}k")
    ax.set_title("Sales per month")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + _legend_extras(monthly, highlight), loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def plot_monthly_customers(monthly: pd.DataFrame, highlight: pd.Series | None = None) -> Figure:
    """Active customers per month: returning, new and cancelling only (stacked).

    A month whose new/returning split is not meaningful (NA, the warehouse's first month)
    shows its purchasing customers as one grey bar.
    """
    fig, ax = plt.subplots(figsize=(9, 3.0))
    x = list(range(len(monthly)))
    alphas, hatches = _month_styles(monthly, highlight)
    unsplit = monthly["new_customers"].isna()
    purchasing = monthly["active_customers"] - monthly["cancelling_only_customers"]
    returning = monthly["returning_customers"].astype("float64").fillna(0)
    new = monthly["new_customers"].astype("float64").fillna(0)
    bars = [
        ax.bar(x, returning, label="returning", color=PALETTE[1]),
        ax.bar(x, new, bottom=returning, label="new", color=PALETTE[5]),
        ax.bar(
            x,
            purchasing.where(unsplit, 0),
            label="first month of data (not split)" if unsplit.any() else None,
            color="#9e9e9e",
        ),
        ax.bar(
            x,
            monthly["cancelling_only_customers"],
            bottom=purchasing,
            label="cancelling only",
            color=PALETTE[4],
        ),
    ]
    for group in bars:
        _style_bars(group, alphas, hatches)
    ax.set_xticks(x, monthly["month"], rotation=45, ha="right")
    ax.set_title("Active customers per month")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + _legend_extras(monthly, highlight), loc="upper left", frameon=False)
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
        f"{chart_text(name)} ({share:.0%})"
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
    ax.set_yticks(list(y), [chart_text(n) for n in segments["segment"]])
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.set_title("Customers and revenue by segment")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
