"""Charts: each function draws one figure from an analysis result and returns it.

One look for all: money axes read £1.4M and £600k, legends sit outside the plotted area
(below it) so they never cover data, partial months are hatched and context months pale,
and each RFM segment keeps one colour everywhere, grouped by meaning (greens for the best
customers, blues for the new, ambers for those needing attention, reds for those slipping
away).
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..analyses import cohorts as cohort_analysis
from ..analyses.migration import NONE
from ..analyses.rfm import SEGMENT_ORDER
from ..escape import chart_text
from ..formatting import format_money_short

__all__ = [
    "SEGMENT_COLOURS",
    "segment_colour",
    "plot_monthly_sales",
    "plot_monthly_customers",
    "plot_invoice_distribution",
    "plot_segment_pie",
    "plot_segment_pie_compact",
    "plot_segment_value",
    "plot_migration",
    "plot_retention",
    "plot_clv_calibration",
]

NAVY, SKY, TEAL, AMBER, RED, GREY = "#0b3954", "#a9cbe6", "#087e8b", "#e69500", "#c0392b", "#9e9e9e"
SEGMENT_COLOURS = {
    "Champions": "#1a7f37",
    "Loyal Customers": "#5cb85c",
    "Potential Loyalists": "#a6d96a",
    "New Customers": "#2b83ba",
    "Promising": "#8fc1e3",
    "Need Attention": "#f6c344",
    "About to Sleep": "#e69500",
    "At Risk": "#f46d43",
    "Can't Lose": "#c0392b",
    "Hibernating": "#6e0f1a",
}
_OTHER_COLOURS = ["#7b6fa8", "#b08ecf", "#6c757d", "#b5b5b5", "#4b7f8c"]
SLIVER = 0.02  # segments below this share get no label of their own on the pie
mpl.rcParams.update(
    {
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "font.size": 9,
        "legend.frameon": False,
    }
)
_MONEY_AXIS = FuncFormatter(lambda value, _: format_money_short(value))


def _subplots(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` without pyplot: a Figure on the Agg canvas (no GUI, no global state)."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*args, **kwargs)


def segment_colour(name: str, index: int = 0) -> str:
    """The segment's colour (a custom segment gets one of a few neutral colours)."""
    return SEGMENT_COLOURS.get(name, _OTHER_COLOURS[index % len(_OTHER_COLOURS)])


def _legend_below(ax: Any, handles: list, columns: int = 4) -> None:
    """A legend under the axes, outside the plotted area: it never covers data."""
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.3),
        ncol=columns,
        fontsize=8.5,
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
        extras.append(Patch(facecolor=GREY, hatch="////", edgecolor="white", label="partial month"))
    if highlight is not None and not highlight.all():
        extras.append(Patch(facecolor=GREY, alpha=0.35, label="before the period"))
    return extras


def plot_monthly_sales(monthly: pd.DataFrame, highlight: pd.Series | None = None) -> Figure:
    """Gross and net sales per month; partial months hatched, months outside ``highlight`` pale."""
    fig, ax = _subplots(figsize=(9, 3.6))
    x = list(range(len(monthly)))
    alphas, hatches = _month_styles(monthly, highlight)
    gross = ax.bar([i - 0.2 for i in x], monthly["gross_sales"], width=0.4, color=SKY)
    net = ax.bar([i + 0.2 for i in x], monthly["net_sales"], width=0.4, color=NAVY)
    _style_bars(gross, alphas, hatches)
    _style_bars(net, alphas, hatches)
    ax.set_xticks(x, monthly["month"], rotation=45, ha="right")
    ax.yaxis.set_major_formatter(_MONEY_AXIS)
    ax.set_title("Sales per month")
    handles = [
        Patch(facecolor=SKY, label="gross sales"),
        Patch(facecolor=NAVY, label="net sales (cancellations deducted)"),
        *_legend_extras(monthly, highlight),
    ]
    _legend_below(ax, handles)
    fig.tight_layout()
    return fig


def plot_monthly_customers(monthly: pd.DataFrame, highlight: pd.Series | None = None) -> Figure:
    """Active customers per month: returning, new and cancelling only (stacked).

    A month whose new/returning split is not meaningful (NA, the warehouse's first month)
    shows its purchasing customers as one grey bar.
    """
    fig, ax = _subplots(figsize=(9, 3.4))
    x = list(range(len(monthly)))
    alphas, hatches = _month_styles(monthly, highlight)
    unsplit = monthly["new_customers"].isna()
    purchasing = monthly["active_customers"] - monthly["cancelling_only_customers"]
    returning = monthly["returning_customers"].astype("float64").fillna(0)
    new = monthly["new_customers"].astype("float64").fillna(0)
    groups = [
        ax.bar(x, returning, color=TEAL),
        ax.bar(x, new, bottom=returning, color=AMBER),
        ax.bar(x, purchasing.where(unsplit, 0), color=GREY),
        ax.bar(x, monthly["cancelling_only_customers"], bottom=purchasing, color=RED),
    ]
    for group in groups:
        _style_bars(group, alphas, hatches)
    ax.set_xticks(x, monthly["month"], rotation=45, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("Active customers per month")
    handles = [
        Patch(facecolor=TEAL, label="returning"),
        Patch(facecolor=AMBER, label="new"),
        Patch(facecolor=RED, label="cancelling only"),
    ]
    if unsplit.any():
        handles.append(Patch(facecolor=GREY, label="first month of data (not split)"))
    _legend_below(ax, handles + _legend_extras(monthly, highlight))
    fig.tight_layout()
    return fig


def plot_invoice_distribution(totals: pd.Series, cap: float | None = None) -> Figure:
    """Histogram and box plot of invoice totals; with ``cap``, only totals up to it.

    All invoices use log-spaced bins (the tail is long); the capped view is linear and its
    box plot draws no outlier points, so nothing piles up against the cap.
    """
    values = totals if cap is None else totals[totals <= cap]
    fig, (hist, box) = _subplots(
        2, 1, figsize=(9, 3.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    # long tail: log-spaced bins (not when every invoice has one total: no range to space)
    if cap is None and len(values) and 0 < values.min() < values.max():
        bins = np.geomspace(values.min(), values.max(), 60)
        hist.set_xscale("log")
    else:
        bins = 60
    hist.hist(values, bins=bins, color=NAVY)
    hist.set_ylabel("invoices")
    hist.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    title = (
        f"Invoice totals up to {format_money_short(cap)}"
        if cap is not None
        else "Invoice totals (all, log scale)"
    )
    hist.set_title(title)
    box.boxplot(
        values,
        orientation="horizontal",
        widths=0.6,
        showfliers=cap is None,
        flierprops={"marker": "|", "markersize": 6, "alpha": 0.3, "markeredgecolor": NAVY},
    )
    box.set_yticks([])
    box.xaxis.set_major_formatter(_MONEY_AXIS)
    box.set_xlabel("invoice total")
    fig.tight_layout()
    return fig


def _spread(positions: list[float], gap: float) -> list[float]:
    """Move label heights apart so that no two are closer than ``gap`` (keeps their order)."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [0.0] * len(positions)
    last = -np.inf
    for i in order:
        placed[i] = max(positions[i], last + gap)
        last = placed[i]
    overflow = last - 1.25
    if overflow > 0:
        placed = [y - overflow for y in placed]
    return placed


def _donut(ax: Any, segments: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Draw the segments with customers as a donut, one colour each; return them and wedges."""
    shown = segments[segments["customers"] > 0].reset_index(drop=True)
    colours = [segment_colour(name, i) for i, name in enumerate(shown["segment"])]
    wedges, _ = ax.pie(
        shown["customers"],
        startangle=90,
        counterclock=False,
        colors=colours,
        wedgeprops={"linewidth": 1.2, "edgecolor": "white", "width": 0.5},
    )
    return shown, wedges


def plot_segment_pie(segments: pd.DataFrame) -> Figure:
    """Share of customers per segment, labelled directly; slivers share one label.

    Every segment keeps its slice (the data is never merged); segments under 2% get no
    label of their own but are named together under the pie.
    """
    fig, ax = _subplots(figsize=(7.6, 5.6))
    shown, wedges = _donut(ax, segments)
    labels: dict[int, list[tuple[int, float, float]]] = {-1: [], 1: []}
    slivers = []
    for i, (wedge, name, share) in enumerate(
        zip(wedges, shown["segment"], shown["customer_share"], strict=True)
    ):
        if share < SLIVER:
            slivers.append(f"{chart_text(name)} {share:.1%}")
            continue
        angle = np.deg2rad((wedge.theta1 + wedge.theta2) / 2)
        x, y = np.cos(angle), np.sin(angle)
        labels[1 if x >= 0 else -1].append((i, x, y))
    for side, items in labels.items():
        heights = _spread([1.15 * y for _, _, y in items], 0.16)
        for (i, x, y), height in zip(items, heights, strict=True):
            name, share = shown["segment"][i], shown["customer_share"][i]
            ax.annotate(
                f"{chart_text(name)} {share:.1%}",
                xy=(0.98 * x, 0.98 * y),
                xytext=(1.3 * side, height),
                ha="left" if side > 0 else "right",
                va="center",
                fontsize=10,
                arrowprops={"arrowstyle": "-", "color": "#8a8a8a", "lw": 0.8},
            )
    if slivers:
        ax.text(
            0,
            -1.42,
            "Under 2% each: " + ", ".join(slivers),
            ha="center",
            va="center",
            fontsize=9.5,
            color="#333333",
        )
    ax.set_title("Customers by RFM segment", fontsize=12)
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-1.55, 1.35)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_segment_pie_compact(segments: pd.DataFrame) -> Figure:
    """The segment donut for a phone-width email: large type, a key below in two columns."""
    fig, ax = _subplots(figsize=(5.2, 6.6))
    shown, wedges = _donut(ax, segments)
    labels = [
        f"{chart_text(name)} {share:.1%}"
        for name, share in zip(shown["segment"], shown["customer_share"], strict=True)
    ]
    ax.legend(
        wedges,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=2,
        fontsize=13,
        handlelength=1.0,
        columnspacing=1.0,
    )
    ax.set_title("Customers by RFM segment", fontsize=15)
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_segment_value(segments: pd.DataFrame) -> Figure:
    """Share of customers against share of spend, per segment."""
    fig, ax = _subplots(figsize=(9, 3.8))
    y = list(range(len(segments)))
    colours = [segment_colour(name, i) for i, name in enumerate(segments["segment"])]
    ax.barh([i + 0.2 for i in y], segments["customer_share"] * 100, height=0.4, color=SKY)
    ax.barh([i - 0.2 for i in y], segments["revenue_share"] * 100, height=0.4, color=colours)
    ax.set_yticks(y, [chart_text(n) for n in segments["segment"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title("Share of customers and of spend by segment")
    handles = [
        Patch(facecolor=SKY, label="share of customers"),
        Patch(facecolor=GREY, label="share of spend (segment colour)"),
    ]
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8.5
    )
    fig.tight_layout()
    return fig


def plot_migration(matrix: pd.DataFrame) -> Figure:
    """Heatmap of customers from their previous segment (rows) to their segment now."""
    names = [
        n
        for n in [*SEGMENT_ORDER, NONE]
        if n in set(matrix["from_segment"]) | set(matrix["to_segment"])
    ]
    grid = (
        matrix.pivot_table(
            index="from_segment", columns="to_segment", values="customers", aggfunc="sum"
        )
        .reindex(index=names, columns=names)
        .fillna(0)
    )
    fig, ax = _subplots(figsize=(9, 6.2))
    ax.imshow(np.log1p(grid.to_numpy()), cmap="Blues", aspect="auto")
    labels = [chart_text(n) for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=40, ha="right")
    ax.set_yticks(range(len(names)), labels)
    ax.set_xlabel("segment now")
    ax.set_ylabel("segment in the previous period")
    top = grid.to_numpy().max() or 1
    for i in range(len(names)):
        for j in range(len(names)):
            v = int(grid.iat[i, j])
            if v:
                colour = "white" if np.log1p(v) > 0.6 * np.log1p(top) else "black"
                ax.text(j, i, f"{v:,}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("Customers by segment: previous period → now")
    ax.spines[:].set_visible(False)
    fig.tight_layout()
    return fig


def plot_retention(cohorts: pd.DataFrame) -> Figure:
    """Heatmap of the share of each cohort active in each month since its first."""
    grid = cohort_analysis.pivot_retention(cohorts)
    # month 0 is 100% by definition: leave it out of the colour scale
    values = grid.to_numpy(dtype="float64")
    fig, ax = _subplots(figsize=(9, 0.36 * len(grid) + 1.4))
    shown = np.ma.masked_invalid(values)
    later = values[:, 1:] if values.shape[1] > 1 else values
    vmax = np.nanmax(later) if np.isfinite(later).any() else 1.0
    ax.imshow(shown, cmap="YlGnBu", vmin=0, vmax=max(vmax, 0.05), aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(len(grid)), list(grid.index))
    ax.set_xlabel("months since the first purchase")
    ax.set_ylabel("cohort (first purchase)")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            if np.isfinite(v):
                colour = "white" if j == 0 or v > 0.6 * vmax else "black"
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("Share of each cohort active per month")
    ax.spines[:].set_visible(False)
    fig.tight_layout()
    return fig


def plot_clv_calibration(calibration: pd.DataFrame, days: int) -> Figure:
    """Mean predicted against mean actual holdout spend per decile of predicted spend."""
    fig, ax = _subplots(figsize=(9, 3.4))
    x = np.arange(len(calibration))
    ax.bar(x - 0.2, calibration["mean_predicted_spend"], width=0.4, color=SKY)
    ax.bar(x + 0.2, calibration["mean_actual_spend"], width=0.4, color=NAVY)
    ax.set_xticks(x, [str(d) for d in calibration["decile"]])
    ax.set_xlabel("tenth of customers by predicted spend (1 = lowest, 10 = highest)")
    ax.yaxis.set_major_formatter(_MONEY_AXIS)
    ax.set_title(f"Predicted and actual net spend per customer over the {days} days held out")
    handles = [
        Patch(facecolor=SKY, label="predicted (mean)"),
        Patch(facecolor=NAVY, label="actual (mean)"),
    ]
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8.5
    )
    # fixed margins: tight_layout would draw the figure once more just to measure it
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.3)
    return fig
