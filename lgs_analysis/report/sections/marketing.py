"""Report sections of the marketing analyses: narrative, baskets, movement, cohorts, CLV.

Like :mod:`lgs_analysis.report.sections`, each function only presents what
:func:`lgs_analysis.analyses.marketing.collect_marketing` put in ``data.extras``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from ...analyses import cohorts as cohort_analysis
from ...analyses.migration import NONE
from ...analyses.narrative import narrative_markdown
from ...analyses.rfm import SEGMENT_ORDER
from ...escape import chart_text
from ...escape import markdown_text as md
from ..data import ReportData, rfm_window_text
from .overview import _show_figure, _table, money

__all__ = [
    "show_narrative",
    "show_products",
    "show_segment_movement",
    "show_cohorts",
    "show_customer_value",
    "plot_migration",
    "plot_retention",
]


def _pct(v: float) -> str:
    return "n/a" if pd.isna(v) else f"{v:.1%}"


def show_narrative(data: ReportData) -> None:
    """The generated summary: sales against comparable baselines, shifts, three actions."""
    display(Markdown(narrative_markdown(data.narrative)))


def show_products(data: ReportData) -> None:
    """Top products, promotion pairs, and what to promote to the focus segments."""
    x = data.extras
    p = data.params
    orders = data.summary["placed_orders"]
    display(
        Markdown(
            f"""## Products and baskets

A **basket** is a placed order (an invoice that is neither a cancellation nor an
adjustment) with at least one product line of positive quantity; its items are those
products. Of the period's {orders:,} placed orders, **{x["count_baskets"]:,} are baskets**:
the others hold only postage, fees or returned goods. The **support** of a set of products
is the share of baskets holding all of them; a rule "X → Y" has **confidence** =
support(X and Y) / support(X), the share of X's baskets that also hold Y, and **lift** =
confidence / support(Y), how many times more often Y is bought with X than in general.
Rules are mined with mlxtend's fpgrowth over all {x["count_baskets"]:,} baskets, among the
{x["count_frequent_items"]:,} products in at least {p["min_support"]:.1%} of them, in sets of
**up to {p["max_itemset_size"]} products** (parameter `max_itemset_size`: larger sets are not
looked for), keeping support ≥ {p["min_support"]:.1%}, confidence ≥
{p["min_confidence"]:.0%} and lift ≥ {p["min_lift"]:g}: {x["count_qualifying_rules"]:,}
qualify; the {len(x["rules"]):,} strongest are in `tables/basket_rules.csv`.

### Top products

Quantity and revenue are **net**: the period's basket lines less its cancellation lines of
the same product, so an order cancelled in the period counts for nothing. Gross values are
in `tables/top_products.csv`."""
        )
    )
    top = x["top_products"]
    n = int(p["top_products"])
    for rank, label in [
        ("rank_by_invoices", "baskets"),
        ("rank_by_quantity", "net quantity"),
        ("rank_by_revenue", "net revenue"),
    ]:
        shown = top[top[rank] <= n].sort_values(rank)
        display(Markdown(f"**By {label}**"))
        _table(
            shown[["stock_code", "description", "invoices", "net_quantity", "net_revenue"]].rename(
                columns={"invoices": "baskets"}
            ),
            {"net_revenue": money, "baskets": "{:,}".format, "net_quantity": "{:,}".format},
        )
    display(Markdown("### Promotion pairs: customers who buy X also buy Y"))
    pairs = x["promotion_pairs"]
    if pairs.empty:
        display(Markdown("No pair of products meets the thresholds in this period."))
    else:
        lines = [
            f"- Customers who buy **{md(r.antecedents)}** ({md(r.antecedent_codes)}) also buy "
            f"**{md(r.consequents)}** ({md(r.consequent_codes)}) in {r.confidence:.0%} of their "
            f"baskets, {r.lift:.1f} times more often than average (support {r.support:.1%})."
            for r in pairs.itertuples()
        ]
        display(Markdown("\n".join(lines)))
    display(
        Markdown(
            """### Products to promote per segment

For each segment, its most bought products (by customers in the RFM window) among those
that take a larger part of its purchases than of the other customers' purchases (a purchase
being a customer buying a product): the **index** is the first part divided by the second
(2.00: twice as large). Where a rule above links the product to another, "bought with it"
names that product: lead a campaign with the first and cross-sell the second."""
        )
    )
    products = x["segment_products"]
    for name in ("Champions", "Can't Lose", "Hibernating"):
        rows = products[products["segment"] == name]
        display(Markdown(f"**{name}**"))
        if rows.empty:
            display(Markdown("No product stands out for this segment."))
            continue
        columns = [
            "stock_code",
            "description",
            "buyers",
            "purchase_share",
            "others_purchase_share",
            "index_vs_others",
        ]
        if rows["promote_description"].notna().any():
            columns.append("promote_description")
        _table(
            rows[columns].rename(
                columns={
                    "purchase_share": "part of its purchases",
                    "others_purchase_share": "part of others' purchases",
                    "index_vs_others": "index",
                    "promote_description": "bought with it",
                }
            ),
            {
                "part of its purchases": lambda v: f"{v:.2%}",
                "part of others' purchases": lambda v: f"{v:.2%}",
                "index": lambda v: "n/a" if pd.isna(v) else f"{v:.2f}",
                "bought with it": lambda v: v if isinstance(v, str) else "",
            },
        )


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
    fig, ax = plt.subplots(figsize=(9, 6.2))
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


def show_segment_movement(data: ReportData, output_dir: str | None = None) -> None:
    """Migration matrix heatmap, segment sizes before and now, and the slipping customers."""
    x = data.extras
    previous = x["previous_period"]
    lookback = data.params["rfm_lookback_months"]
    current_window = rfm_window_text(data.rfm_start, data.rfm_end, data.span)
    previous_window = rfm_window_text(x["previous_rfm_start"], previous.end, data.span)
    if not x["movement_comparable"]:
        display(
            Markdown(
                f"## Segment movement\n\nNot shown: {x['movement_reason']}. Comparing with a "
                "baseline the warehouse barely holds would make most customers look new."
            )
        )
        return
    held = data.span.coverage(x["previous_rfm_start"], previous.end)
    note = (
        ""
        if held >= 1
        else f" The warehouse holds only {held:.0%} of that earlier {lookback}-month window "
        f"({data.span.describe()}): customers who bought only before the data starts are "
        "missing from it."
    )
    display(
        Markdown(
            f"""## Segment movement

Each customer's segment now (scored over {current_window}) against their segment a period
earlier (the same scoring over {previous_window}, the RFM window of {previous.label}).{note}
`(none)` marks customers not scored on one side: new (no purchase in the earlier window) or
lapsed (none in the current one). In `tables/segment_migration.csv`, **revenue** is the
customers' monetary value in the current RFM window (0 for lapsed customers) and **previous
revenue** theirs in the earlier window."""
        )
    )
    _show_figure(plot_migration(x["migration"]), output_dir, "segment_migration")
    _table(x["shifts"], {"change": "{:+,}".format})
    movers = x["movers"]
    display(Markdown("### Champions and Loyal Customers who slipped"))
    if movers.empty:
        display(
            Markdown("No Champion or Loyal Customer slid into At Risk, Can't Lose or Hibernating.")
        )
        return
    display(
        Markdown(
            f"**{len(movers):,} customers** slid from Champions or Loyal Customers into At Risk, "
            f"Can't Lose or Hibernating. They spent {money(movers['previous_monetary'].sum())} "
            f"in {previous_window} and {money(movers['current_monetary'].sum())} in "
            f"{current_window}. Most valuable first (all in `tables/at_risk_movers.csv`):"
        )
    )
    top_n = int(data.params["top_customers"])
    _table(
        movers.head(top_n),
        {
            "previous_monetary": money,
            "current_monetary": money,
            "predicted_clv_12m": lambda v: "n/a" if pd.isna(v) else money(v),
            "recency": lambda v: f"{v:,} d",
        },
    )


def plot_retention(cohorts: pd.DataFrame) -> Figure:
    """Heatmap of the share of each cohort active in each month since its first."""
    grid = cohort_analysis.pivot_retention(cohorts)
    # month 0 is 100% by definition: leave it out of the colour scale
    values = grid.to_numpy(dtype="float64")
    fig, ax = plt.subplots(figsize=(9, 0.36 * len(grid) + 1.4))
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


def show_cohorts(data: ReportData, output_dir: str | None = None) -> None:
    """Retention heatmap of the first-purchase cohorts."""
    table = data.extras["cohorts"]
    months = data.params["cohort_months"]
    display(
        Markdown(
            f"""## Cohort retention

Customers grouped by the month of their first purchase (their earliest line that is not a
cancellation, anywhere in the warehouse), for the {months} months up to
{data.period.end:%d %b %Y}; each cell is the share of the cohort with a purchase (a line
that is not a cancellation) in that month. Month 0 is 100% by definition; a month the data
covers only in part (such as the last) reads low."""
        )
    )
    if table.empty:
        display(Markdown("No customer made a first purchase in these months."))
        return
    _show_figure(plot_retention(table), output_dir, "cohort_retention")
    average = data.extras["cohort_next_month"]
    first = data.extras.get("first_data_month")
    left_out = (
        f" The {first} cohort is left out: it is the first month the warehouse holds, so it "
        "mixes in every customer who bought before the data starts."
        if first in set(table["cohort_month"])
        else ""
    )
    if average["share"] is not None:
        display(
            Markdown(
                f"On average {average['share']:.0%} of a cohort buys again in the month after its "
                f"first purchase ({average['cohorts']} cohorts, {average['customers']:,} "
                f"customers).{left_out}"
            )
        )


def show_customer_value(data: ReportData) -> None:
    """Predicted 12-month value per segment, the model's fit and its holdout check."""
    x = data.extras
    horizon = data.params["clv_horizon_months"]
    display(Markdown("## Customer value"))
    if x.get("clv") is None:
        reason = md(x.get("clv_error") or "no data")
        display(Markdown(f"The CLV models could not be fitted: {reason}."))
        return
    fit = x["clv_fit"]
    ho = x["clv_holdout"]
    by_segment = x["clv_by_segment"]
    display(
        Markdown(
            f"""Predicted value of each customer over the next {horizon} months: the BG/NBD
model (Fader, Hardie and Lee 2005) predicts how many purchases (days with a purchase) a
customer will make, from how often and how recently they bought and how long they have been
a customer (all history in the warehouse up to {data.snapshot:%d %b %Y}); the Gamma-Gamma
model predicts what they will spend per purchase, from their **net** spend per repeat
purchase (cancellations deducted; customers who cancelled everything they bought again are
left out of the fit and expected to spend nothing); the product is discounted at
{data.params["clv_monthly_discount_rate"]:.1%} a month. Both are fitted by maximum
likelihood on {fit.customers:,} customers ({fit.repeat_customers:,} with repeat purchases).
Per customer in `tables/clv.csv`.

**Total predicted {horizon}-month value: {money(x["clv"]["predicted_clv_12m"].sum())}.**"""
        )
    )
    _table(
        by_segment,
        {"predicted_clv_12m": money, "mean_clv_12m": money, "customers": "{:,}".format},
    )
    pr = fit.params
    ll = fit.log_likelihood
    ratio = ho["predicted_to_actual"]
    display(
        Markdown(
            f"""**Model fit.** BG/NBD r = {pr["r"]:.3f}, α = {pr["alpha"]:.2f}, a = {pr["a"]:.4f},
b = {pr["b"]:.3f} (log-likelihood {ll["bgnbd"]:,.1f}); Gamma-Gamma p = {pr["p"]:.3f},
q = {pr["q"]:.3f}, v = {pr["v"]:.2f} (log-likelihood {ll["gamma_gamma"]:,.1f}).
**Holdout check**: fitted on the data before {ho["calibration_end"]}, the model predicts
{ho["predicted_purchases"]:,.0f} purchases by those {ho["customers"]:,} customers in the
following {ho["holdout_days"]} days; they made {ho["actual_purchases"]:,.0f}
(predicted / actual = {"n/a" if ratio is None else f"{ratio:.2f}"}). The model knows no
season: in a giftware business it under-predicts the run-up to Christmas and over-predicts
the months after it."""
        )
    )
