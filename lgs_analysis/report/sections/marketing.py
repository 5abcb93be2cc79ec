"""Report sections of the marketing analyses: narrative, baskets, movement, cohorts, CLV.

Like :mod:`lgs_analysis.report.sections.overview`, each function only presents what
:func:`lgs_analysis.analyses.marketing.collect_marketing` put in ``data.extras``.
"""

from __future__ import annotations

import math

import pandas as pd

from ...analyses.narrative import narrative_markdown
from ...escape import html_text
from ...escape import markdown_text as md
from ...formatting import format_date
from .. import charts
from ..data import ReportData, rfm_window_text
from .common import csv_link, figure_png, money, show_block, show_markdown, table_html

__all__ = [
    "per_thousand",
    "show_narrative",
    "show_products",
    "show_segment_movement",
    "show_cohorts",
    "show_customer_value",
]


def show_narrative(data: ReportData) -> None:
    """The generated summary: sales against comparable baselines, shifts, actions."""
    show_markdown(narrative_markdown(data.narrative))


def _top_products_table(top: pd.DataFrame, rank: str, n: int) -> str:
    shown = top[top[rank] <= n].sort_values(rank)
    return table_html(
        shown[["stock_code", "description", "invoices", "net_quantity", "net_revenue"]],
        formats={"net_revenue": money},
        labels={
            "stock_code": "stock code",
            "invoices": "baskets",
            "net_quantity": "net quantity",
            "net_revenue": "net revenue",
        },
        numeric=["invoices", "net_quantity", "net_revenue"],
    )


def per_thousand(share: float) -> str:
    """A share per 1,000 with three significant figures: ``2.40``, ``0.815``, ``12.3``.

    The index beside two such rates is their ratio: at three figures a reader who divides
    them gets the printed index (2.4 / 2.3 would read 1.04 against an index of 1.06).
    """
    if pd.isna(share):
        return "n/a"
    rate = float(share) * 1000
    if rate <= 0:
        return "0"
    return f"{rate:.{max(0, 2 - math.floor(math.log10(rate)))}f}"


def show_products(data: ReportData) -> None:
    """Top products, promotion pairs, and what to promote to the focus segments."""
    x = data.extras
    p = data.params
    orders = data.summary["placed_orders"]
    buying = int(len(data.invoice_totals))
    n = int(p["top_products"])
    top = x["top_products"]
    show_block(
        f"""## Products and baskets

A **basket** is a placed order (an invoice that is neither a cancellation nor an
adjustment) with at least one purchase line (positive quantity and price) of a product;
its items are those products. Of the period's {orders:,} placed orders, {buying:,} hold a
purchase line (the invoice amounts above) and **{x["count_baskets"]:,} of those are
baskets**: the other {buying - x["count_baskets"]:,} bought only postage, fees or other items
that are not products. The **support** of a set of products
is the share of baskets holding all of them; a rule "X → Y" has **confidence** =
support(X and Y) / support(X), the share of X's baskets that also hold Y, and **lift** =
confidence / support(Y), how many times more often Y is bought with X than in general.
Every frequent set of products is counted exactly over all {x["count_baskets"]:,} baskets, among the
{x["count_frequent_items"]:,} products in at least {p["min_support"]:.1%} of them, in sets of
**up to {p["max_itemset_size"]} products** (parameter `max_itemset_size`: larger sets are not
looked for), keeping support ≥ {p["min_support"]:.1%}, confidence ≥
{p["min_confidence"]:.1%} and lift ≥ {p["min_lift"]:g}: {x["count_qualifying_rules"]:,}
qualify; the {len(x["rules"]):,} strongest are in {csv_link("tables/basket_rules.csv")}.

### Top products

Quantity and revenue are **net**: the period's basket lines less its cancellation lines of
the same product, so an order cancelled in the period counts for nothing. Gross values are
in {csv_link("tables/top_products.csv")}."""
        + (
            "\n\n**By baskets**"
            if not top.empty
            else "\n\nNo basket in this period: no product to rank."
        ),
        *([_top_products_table(top, "rank_by_invoices", n)] if not top.empty else []),
    )
    if not top.empty:
        show_block("**By net quantity**", _top_products_table(top, "rank_by_quantity", n))
        show_block("**By net revenue**", _top_products_table(top, "rank_by_revenue", n))
    pairs = x["promotion_pairs"]
    if pairs.empty:
        lines = ["No pair of products meets the thresholds in this period."]
    else:
        lines = [
            f"- Customers who buy **{md(r.antecedents)}** ({md(r.antecedent_codes)}) also buy "
            f"**{md(r.consequents)}** ({md(r.consequent_codes)}) in {r.confidence:.1%} of "
            f"their baskets, {r.lift:.1f} times more often than average (support "
            f"{r.support:.1%})."
            for r in pairs.itertuples()
        ]
    show_block("### Promotion pairs: customers who buy X also buy Y\n\n" + "\n".join(lines))
    products = x["segment_products"]
    intro = (
        "### Products to promote per segment\n\n"
        "For each segment, its most bought products (by customers in the RFM window) among "
        "those that take a larger part of its purchases than of the other customers' "
        "purchases (a purchase being a customer buying a product), counted per 1,000 "
        "purchases: the **index** is the first rate divided by the second (2.00: twice as "
        "large). Where a rule above links the "
        'product to another, "bought with it" names that product: lead a campaign with the '
        "first and cross-sell the second."
    )
    if data.customers.empty:
        show_block(intro + "\n\nThere is no one to score, so no segment to promote to.")
        return
    for number, name in enumerate(("Champions", "Can't Lose", "Hibernating")):
        rows = products[products["segment"] == name]
        heading = (intro + "\n\n" if number == 0 else "") + f"**{md(name)}**"
        if rows.empty:
            show_block(heading + "\n\nNo product stands out for this segment.")
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
        show_block(
            heading,
            table_html(
                rows[columns],
                formats={
                    "purchase_share": per_thousand,
                    "others_purchase_share": per_thousand,
                    "index_vs_others": lambda v: "n/a" if pd.isna(v) else f"{v:.2f}",
                    "promote_description": lambda v: v if isinstance(v, str) else "",
                },
                labels={
                    "stock_code": "stock code",
                    "purchase_share": "per 1,000 of its purchases",
                    "others_purchase_share": "per 1,000 of others' purchases",
                    "index_vs_others": "index",
                    "promote_description": "bought with it",
                },
                numeric=["buyers", "purchase_share", "others_purchase_share", "index_vs_others"],
            ),
        )


def show_segment_movement(data: ReportData, output_dir: str | None = None) -> None:
    """Migration matrix heatmap, segment sizes before and now, and the slipping customers."""
    x = data.extras
    previous = x["previous_period"]
    lookback = data.params["rfm_lookback_months"]
    current_window = rfm_window_text(data.rfm_start, data.rfm_end, data.span)
    previous_window = rfm_window_text(x["previous_rfm_start"], previous.end, data.span)
    if not x["movement_comparable"]:
        show_block(
            f"## Segment movement\n\nNot shown: {x['movement_reason']}. Comparing with a "
            "baseline the warehouse barely holds would make most customers look new."
        )
        return
    if x["migration"].empty:  # a degenerate period: nobody scored on either side
        show_block(
            f"## Segment movement\n\nNo customer was scored over {current_window} or over "
            f"{previous_window}: there is no one whose segment could move."
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
    heatmap = figure_png(
        charts.plot_migration(x["migration"]),
        output_dir,
        "segment_migration",
        "Customers by segment: previous period to now",
    )
    show_block(
        f"""## Segment movement

Each customer's segment now (scored over {current_window}) against their segment a period
earlier (the same scoring over {previous_window}, the RFM window of {previous.label}).{note}
`(none)` marks customers not scored on one side: new (no purchase in the earlier window) or
lapsed (none in the current one). In {csv_link("tables/segment_migration.csv")},
**revenue** is the customers' spend in the current RFM window (0 for lapsed customers) and
**previous revenue** theirs in the earlier window.""",
        heatmap,
    )
    show_block(
        "",
        table_html(
            x["shifts"],
            formats={"change": "{:+,}".format},
            labels={"previous_customers": f"customers in {previous.label}"},
        ),
    )
    movers = x["movers"]
    heading = "### Champions and Loyal Customers who slipped"
    if movers.empty:
        show_block(
            f"{heading}\n\nNo Champion or Loyal Customer slid into At Risk, Can't Lose or "
            "Hibernating."
        )
        return
    top_n = int(data.params["top_customers"])
    before, now = money(movers["previous_monetary"].sum()), money(movers["current_monetary"].sum())
    show_block(
        f"{heading}\n\n**{len(movers):,} customers** slid from Champions or Loyal Customers "
        f"into At Risk, Can't Lose or Hibernating. They spent {before} in {previous_window} and "
        f"{now} in {current_window}. Most valuable first (all in "
        f"{csv_link('tables/at_risk_movers.csv')}):",
        table_html(
            movers.head(top_n)[
                [
                    "customer_id",
                    "from_segment",
                    "to_segment",
                    "previous_monetary",
                    "current_monetary",
                    "predicted_clv_12m",
                    "recency",
                ]
            ],
            formats={
                "customer_id": str,
                "previous_monetary": money,
                "current_monetary": money,
                "predicted_clv_12m": money,
            },
            labels={
                "customer_id": "customer",
                "from_segment": "was",
                "to_segment": "now",
                "previous_monetary": "spent before",
                "current_monetary": "spent now",
                "predicted_clv_12m": "predicted 12-month value",
                "recency": "recency (days)",
            },
            numeric=["previous_monetary", "current_monetary", "predicted_clv_12m", "recency"],
            note=html_text((x.get("metrics") or {}).get("clv_caveat") or ""),
        ),
    )


def show_cohorts(data: ReportData, output_dir: str | None = None) -> None:
    """Retention heatmap of the first-purchase cohorts."""
    table = data.extras["cohorts"]
    months = data.params["cohort_months"]
    intro = f"""## Cohort retention

Customers grouped by the month of their first purchase (their earliest line that is not a
cancellation, anywhere in the warehouse), for the {months} months up to
{format_date(data.period.end)}; each cell is the share of the cohort with a purchase (a line
that is not a cancellation) in that month. Month 0 is 100% by definition; a month the data
covers only in part (such as the last) reads low."""
    if table.empty:
        show_block(intro + "\n\nNo customer made a first purchase in these months.")
        return
    average = data.extras["cohort_next_month"]
    first = data.extras.get("first_data_month")
    if average["share"] is not None:
        intro += (
            f"\n\nOn average {average['share']:.1%} of a cohort buys again in the month after its "
            f"first purchase ({average['cohorts']} cohorts, {average['customers']:,} customers)."
        )
        if first in set(table["cohort_month"]):
            intro += (
                f" The {first} cohort is left out: it is the first month the warehouse holds, so "
                "it mixes in every customer who bought before the data starts."
            )
    heatmap = figure_png(
        charts.plot_retention(table),
        output_dir,
        "cohort_retention",
        "Share of each cohort active per month",
    )
    show_block(intro, heatmap)


def _p_value(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def _num(value: float, spec: str) -> str:
    return "n/a" if pd.isna(value) else format(value, spec)


def _interval(low: float, high: float) -> str:
    return f"{money(low)} to {money(high)}"


def _beat_sentence(scores: pd.DataFrame, comparison: dict) -> str:
    """Whether the model beat each baseline on the holdout, and by how much."""
    by = scores.set_index("method")
    model = by.loc["model"]
    parts = []
    for name, label in (("past_rate", "past rate"), ("last_window", "last window repeats")):
        base = by.loc[name]
        change = comparison[name]["mae_change"]
        verdict = "beat" if comparison[name]["beaten"] else "did not beat"
        size = (
            "" if change is None else f" ({abs(change):.0%} {'lower' if change < 0 else 'higher'})"
        )
        parts.append(
            f"it **{verdict} {label}**: mean absolute error of spend {money(model.mae_spend)} "
            f"per customer against {money(base.mae_spend)}{size}; rank correlation "
            f"{_num(model.spearman_spend, '.2f')} against {_num(base.spearman_spend, '.2f')}; "
            f"its top tenth made {_num(model.top_decile_capture, '.0%')} of the holdout's net "
            f"spend against {_num(base.top_decile_capture, '.0%')}"
        )
    return "On the holdout, the model" + "; ".join(parts)[len("it") :] + "."


def _season_sentence(scores: pd.DataFrame) -> str:
    """The direction of a total off by more than 10%, and that the model knows no season."""
    model = scores.set_index("method").loc["model"]
    ratios = {
        "purchases": model.total_ratio_purchases,
        "net spend": model.total_ratio_spend,
    }
    off = {k: v for k, v in ratios.items() if not pd.isna(v) and not 0.9 <= v <= 1.1}
    if any(pd.isna(v) for v in ratios.values()) and not off:
        return "No one bought in the holdout: there is no total to compare with."
    if not off:
        return (
            "In total the model predicted the holdout's purchases and net spend within 10% "
            f"(predicted / actual {_num(ratios['purchases'], '.2f')} and "
            f"{_num(ratios['net spend'], '.2f')})."
        )
    words = [
        f"{'under' if v < 1 else 'over'}-predicted the holdout's total {k} "
        f"(predicted / actual {v:.2f})"
        for k, v in off.items()
    ]
    return (
        "In total the model "
        + " and ".join(words)
        + ". The model knows no season: in a giftware business it under-predicts the "
        "run-up to Christmas and over-predicts the months after it."
    )


def show_customer_value(data: ReportData, output_dir: str | None = None) -> None:
    """Predicted 12-month value per segment, its interval, and its skill on held-out months."""
    x = data.extras
    horizon = data.params["clv_horizon_months"]
    if data.customers.empty:
        show_block("## Customer value\n\nNot predicted: there is no one to score.")
        return
    if x.get("clv") is None:
        reason = md(x.get("clv_error") or "no data")
        show_block(f"## Customer value\n\nThe CLV models could not be fitted: {reason}.")
        return
    fit = x["clv_fit"]
    evaluation = x["clv_holdout"]
    low, high = x["clv_total_interval"]
    dropout = x["clv_dropout"]
    alive = (
        "Dropout is identified in this fit (likelihood-ratio test against no dropout, "
        f"{_p_value(dropout['p_value'])}): each customer's probability of still being a "
        f"customer is in {csv_link('tables/clv.csv')} (`p_alive`)."
        if dropout["identified"]
        else "The model's probability that a customer is still a customer (P(alive)) is "
        "**not shown**: this fit cannot tell when customers drop out (letting them drop out "
        "does not improve the fit, likelihood-ratio p = "
        f"{dropout['p_value']:.2f}; estimated dropout after a purchase "
        f"{dropout['dropout_per_purchase']:.2g}), so it would call nearly everyone alive, "
        "even customers silent for months. Who has lapsed comes from RFM recency."
    )
    show_block(
        f"""## Customer value

Predicted value of each customer over the next {horizon} months: the BG/NBD model (Fader,
Hardie and Lee 2005) predicts how many purchases (days with a purchase) a customer will
make, from how often and how recently they bought and how long they have been a customer
(all history in the warehouse up to {format_date(data.snapshot)}); the Gamma-Gamma model
predicts what they will spend per purchase, from their **net** spend per repeat purchase
(cancellations deducted; customers who cancelled everything they bought again are left out
of the fit and expected to spend nothing); the product is discounted at
{data.params["clv_monthly_discount_rate"]:.1%} a month. Fitted on {fit.customers:,}
customers; the parameters are in the Definitions. Per customer, with an 80% interval and the
probability of buying in the next 90 days (`p_purchase_90d`), in
{csv_link("tables/clv.csv")}. {alive}

**Total predicted {horizon}-month value: {money(x["clv"]["predicted_clv_12m"].sum())}**
(80% interval {_interval(low, high)}: the model's uncertainty about the expected value,
not the luck of the next purchases).""",
        table_html(
            x["clv_by_segment"],
            formats={
                "predicted_clv_12m": money,
                "predicted_clv_12m_low": money,
                "predicted_clv_12m_high": money,
                "mean_clv_12m": money,
            },
            labels={
                "predicted_clv_12m": f"predicted {horizon}-month value",
                "predicted_clv_12m_low": "80% interval from",
                "predicted_clv_12m_high": "to",
                "mean_clv_12m": "per customer",
            },
        ),
    )
    _show_skill(data, evaluation, output_dir)


def _show_skill(data: ReportData, evaluation, output_dir: str | None) -> None:
    """The holdout check: the model against the baselines, calibration, Brier scores."""
    ho = evaluation.check
    scores = evaluation.scores
    days = ho["holdout_days"]
    caveat = data.extras["metrics"].get("clv_caveat")
    chart = figure_png(
        charts.plot_clv_calibration(evaluation.calibration, days),
        output_dir,
        "clv_calibration",
        "Predicted and actual holdout spend per tenth of customers",
    )
    show_block(
        f"""### How good the prediction is

The models were fitted again on the data before {format_date(ho["calibration_end"])} and
every one of those {ho["customers"]:,} customers' purchases and net spend over the following
{days} days were predicted three ways: by the **model**; by **past rate** (their purchases
per day so far × {days} days, times their net spend per repeat purchase); and by **last
window repeats** (what they bought and spent in the {days} days before
{format_date(ho["calibration_end"])}). {_beat_sentence(scores, ho["comparison"])}
{_season_sentence(scores)}{" **" + md(caveat) + "**" if caveat else ""} All figures in
{csv_link("tables/clv_holdout.csv")}; the chart's figures in
{csv_link("tables/clv_calibration.csv")}.""",
        table_html(
            scores.drop(columns=["customers", "holdout_days", "brier_90d_baseline"]),
            formats={
                "mae_spend": money,
                "rmse_spend": money,
                "mae_purchases": "{:.2f}".format,
                "rmse_purchases": "{:.2f}".format,
                "spearman_spend": "{:.2f}".format,
                "top_decile_capture": "{:.1%}".format,
                "total_ratio_purchases": "{:.2f}".format,
                "total_ratio_spend": "{:.2f}".format,
                "brier_90d": lambda v: "n/a" if pd.isna(v) else f"{v:.3f}",
                "method": lambda v: v.replace("_", " "),
            },
            labels={
                "mae_purchases": "MAE purchases",
                "rmse_purchases": "RMSE purchases",
                "mae_spend": "MAE spend",
                "rmse_spend": "RMSE spend",
                "spearman_spend": "rank corr. spend",
                "top_decile_capture": "top tenth's share",
                "total_ratio_purchases": "total purchases pred./actual",
                "total_ratio_spend": "total spend pred./actual",
                "brier_90d": "Brier 90 days",
            },
        ),
        chart,
    )
    probability = evaluation.probability_calibration
    if probability.empty:
        show_block(
            f"The probability of buying in 90 days is not checked: the holdout lasts {days} "
            "days (parameter `clv_holdout_months`)."
        )
        return
    by = scores.set_index("method")
    model, base = by.loc["model", "brier_90d"], by.loc["model", "brier_90d_baseline"]
    verdict = "better" if model < base else "no better"
    show_block(
        f"""**Probability of buying in the next 90 days** (`p_purchase_90d`, in
{csv_link("tables/customers.csv")} and every campaign list). Over the first 90 days of the
holdout its Brier score (mean squared error of the probability, 0 is perfect) is
{model:.3f}, {verdict} than {base:.3f} for past rate (a Poisson process at each customer's
past purchase rate). Per tenth of customers by predicted probability, the mean predicted and
the share who bought (in {csv_link("tables/clv_probability_calibration.csv")}):""",
        table_html(
            probability,
            formats={"mean_predicted": "{:.1%}".format, "share_bought": "{:.1%}".format},
            labels={
                "decile": "tenth (1 = lowest)",
                "mean_predicted": "mean predicted",
                "share_bought": "share who bought",
            },
        ),
    )
