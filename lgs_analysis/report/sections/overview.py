"""Report sections: title, key figures, actions, months, invoices, segments, who to act on,
definitions. Each function only presents what :mod:`lgs_analysis.report.data` computed.

Charts are also saved as PNG under ``<output_dir>/charts`` for the email summary.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.display import HTML, display

from ...escape import html_text, markdown_text
from ...escape import markdown_text as md
from ...formatting import (
    format_count,
    format_date,
    format_pct,
    format_share,
    format_window,
    ordinal,
)
from .. import charts
from ..data import ReportData
from .common import (
    count,
    csv_link,
    figure_png,
    link_html,
    money,
    show_block,
    show_markdown,
    table_html,
)

__all__ = [
    "show_title",
    "show_headline",
    "show_actions",
    "show_monthly",
    "show_invoice_distribution",
    "show_segments",
    "show_focus_segments",
    "show_definitions",
]


def _period_words(data: ReportData) -> str:
    """``2011-12 (partial: data through 9 Dec 2011)``, ``2010 (partial: data from 1 Dec
    2010)`` or just the label."""
    if data.period_complete:
        return data.period.label
    return f"{data.period.label} (partial: {data.partial_note})"


def show_title(data: ReportData) -> None:
    """Title, window, a partial-period note, and a banner when the figures are demo data."""
    p = data.period
    start, end = data.window
    rfm_window = format_window(*data.span.cut(data.rfm_start, data.rfm_end))
    text = (
        f"# London Gift Shop: RFM report {_period_words(data)}\n\n"
        f"Period {format_window(p.start, p.end)}; the figures cover "
        f"{format_window(start, end)}. RFM window {rfm_window}"
    )
    if data.snapshot:
        text += f", snapshot {format_date(data.snapshot)}"
    text += "."
    if not data.period_complete:
        compared = any(c.comparable for c in data.comparisons.values())
        text += (
            f"\n\n**This period is incomplete**: {data.span.describe()}. Its figures cover "
            f"{format_window(start, end)} only"
            + (
                ", and it is compared with the same days of its baseline."
                if compared
                else "; there is no comparable baseline."
            )
        )
    show_markdown(text)
    if data.is_demo:
        display(
            HTML(
                '<div class="lgs-banner">DEMO DATA: these figures come from generated demo data, '
                "not from LGS's sales. Load your own data with "
                "<code>make load SOURCE=path/to/your/export.csv</code>.</div>"
            )
        )


def _kpi(label: str, value: str, delta: str = "") -> str:
    return (
        f'<div class="lgs-kpi"><div class="label">{html_text(label)}</div>'
        f'<div class="value">{html_text(value)}</div>'
        f'<div class="delta">{html_text(delta)}</div></div>'
    )


def _versus(data: ReportData, key: str) -> str:
    comparison = data.comparisons["previous"]
    base = data.baselines.get("previous")
    if base is None:
        return "no comparable baseline"
    return f"{format_count(base[key])} in {comparison.describe_base()}"


def show_headline(data: ReportData, metrics: dict[str, Any]) -> None:
    """Key figures of the period against the previous period (like for like)."""
    s = data.summary
    previous = data.comparisons["previous"]
    growth = metrics["sales_growth_pct"]
    sales_delta = (
        f"{format_pct(growth)} vs {previous.describe_base()}"
        if growth is not None
        else "no comparable baseline"
    )
    if "year_ago" in data.comparisons:
        yoy = metrics.get("sales_growth_yoy_pct")
        sales_delta += "; " + (
            f"{format_pct(yoy)} vs {data.comparisons['year_ago'].describe_base()}"
            if yoy is not None
            else "no year-ago baseline"
        )
    new = format_count(s["new_customers"]) if data.new_customers_meaningful else "n/a"
    cards = [
        _kpi("net sales", money(s["net_sales"]), sales_delta),
        _kpi("gross sales", money(s["gross_sales"]), "before cancellations"),
        _kpi("placed orders", format_count(s["placed_orders"]), _versus(data, "placed_orders")),
        _kpi("cancelled invoices", format_count(s["cancelled_invoices"])),
        _kpi(
            "active customers",
            format_count(s["active_customers"]),
            _versus(data, "active_customers"),
        ),
        _kpi(
            "new customers",
            new,
            "" if data.new_customers_meaningful else "first month of data: everyone looks new",
        ),
    ]
    if not data.period_complete:
        show_markdown(
            f"Key figures of {format_window(*data.window)}: **a partial period** "
            f"({data.partial_note})."
        )
    display(HTML('<div class="lgs-kpis">' + "".join(cards) + "</div>"))
    notes = []
    for comparison in data.comparisons.values():
        if not comparison.comparable:
            against = "previous period" if comparison.kind == "previous" else "year before"
            notes.append(f"No comparable baseline in the {against}: {comparison.reason}.")
    if notes:
        show_markdown(" ".join(notes))


def show_actions(data: ReportData) -> None:
    """What to do with every segment, with the customers and value at stake, and the lists."""
    if data.customers.empty:
        show_block(
            "## What to do, segment by segment\n\nNothing this period: there is no one to "
            "score, so no segment has customers and there is no campaign list (see RFM "
            "segments)."
        )
        return
    shown = data.actions.copy()
    shown["list"] = shown["list_file"]
    table = table_html(
        shown[
            ["segment", "customers", "held_out", "revenue", "predicted_clv_12m", "action", "list"]
        ],
        formats={
            "revenue": money,
            "predicted_clv_12m": money,
            "list": lambda v: link_html(v, v.removeprefix("tables/")) if v else "",
        },
        labels={
            "revenue": "net spend (RFM window)",
            "predicted_clv_12m": "predicted 12-month value",
            "list": "campaign list",
            "held_out": "held out",
        },
        numeric=["customers", "held_out", "revenue", "predicted_clv_12m"],
    )
    share = float(data.params["holdout_share"])
    caveat = _value_caveat(data)
    show_block(
        "## What to do, segment by segment\n\n"
        "The action for each segment (wording from `params/actions.yaml`, which marketing may "
        "edit), with its customers, what they spent in the RFM window and what they are "
        "predicted to be worth. Each campaign list holds the segment's customers with their "
        "country, purchases, spend, predicted value and the three products they bought most "
        f"(all scored customers: {csv_link('tables/customers.csv')}). Each list holds the "
        f"customers to mail; a random {share:.0%} of each segment (**held out**) is listed "
        "apart in `holdout_<segment>.csv` and must not be mailed: comparing them with the "
        "mailed customers is how later reports measure what the campaign changed (see "
        '"Did the campaigns work?").' + caveat,
        table,
    )


def _value_caveat(data: ReportData) -> str:
    """The skill caveat of predicted value (empty when it beat past rate), as Markdown."""
    caveat = (data.extras.get("metrics") or {}).get("clv_caveat")
    return f"\n\n**{markdown_text(caveat)}**" if caveat else ""


def _monthly_notes(data: ReportData) -> str:
    notes = []
    first, last = data.monthly["month"].iloc[0], data.monthly["month"].iloc[-1]
    if len(data.monthly) < data.period.months:
        notes.append(
            f"The warehouse holds {first} to {last} of this period ({data.span.describe()}); "
            "months without data are not shown."
        )
    if not data.monthly["complete"].all():
        partial = ", ".join(data.monthly.loc[~data.monthly["complete"], "month"])
        notes.append(
            f"Partial months ({partial}) are hatched; their growth compares the same days of "
            "the month before and of the year before."
        )
    if data.trend is not None:
        notes.append("The charts show the 13 months to the period's end; the period is darker.")
    if not data.new_customers_meaningful:
        notes.append(
            "New and returning customers are n/a in the first month the warehouse holds, "
            "where every customer looks new."
        )
    return " ".join(notes)


_SALES_NUMBERS = [
    "invoices",
    "cancelled_invoices",
    "placed_orders",
    "gross_sales",
    "net_sales",
    "sales_growth_pct",
    "sales_growth_yoy_pct",
]


def show_monthly(data: ReportData, output_dir: str | None = None) -> None:
    """Monthly sales, orders and customers: charts and two tables that fit the page."""
    chart_months = data.trend if data.trend is not None else data.monthly
    highlight = chart_months["in_period"] if data.trend is not None else None
    sales_chart = figure_png(
        charts.plot_monthly_sales(chart_months, highlight),
        output_dir,
        "monthly_sales",
        "Gross and net sales per month",
    )
    show_block(
        "## Sales, orders and customers per month\n\n" + _monthly_notes(data),
        sales_chart,
    )
    m = data.monthly.copy()
    m["complete"] = m["complete"].map({True: "yes", False: "partial"})
    show_block(
        "",
        table_html(
            m[["month", "complete", *_SALES_NUMBERS]],
            formats={
                "gross_sales": money,
                "net_sales": money,
                "sales_growth_pct": format_pct,
                "sales_growth_yoy_pct": format_pct,
            },
            labels={
                "cancelled_invoices": "cancelled",
                "placed_orders": "placed orders",
                "sales_growth_pct": "vs month before",
                "sales_growth_yoy_pct": "vs year before",
            },
            numeric=_SALES_NUMBERS,
        ),
    )
    customers_chart = figure_png(
        charts.plot_monthly_customers(chart_months, highlight),
        output_dir,
        "monthly_customers",
        "Active customers per month: returning, new and cancelling only",
    )
    show_block(
        "",
        customers_chart,
        table_html(
            m[
                [
                    "month",
                    "active_customers",
                    "new_customers",
                    "returning_customers",
                    "cancelling_only_customers",
                ]
            ],
            formats={c: count for c in ["new_customers", "returning_customers"]},
            labels={
                "active_customers": "active customers",
                "new_customers": "new",
                "returning_customers": "returning",
                "cancelling_only_customers": "cancelling only",
            },
            numeric=[
                "active_customers",
                "new_customers",
                "returning_customers",
                "cancelling_only_customers",
            ],
            note="Active = new + returning + cancelling only (see Definitions).",
        ),
    )


def _stats_frame(stats: dict[str, float]) -> pd.DataFrame:
    names = ["count", "min", "mean", "median", "max"]
    return pd.DataFrame([{n: stats[n] for n in names if n in stats}])


def _stats_table(stats: dict[str, float]) -> str:
    return table_html(
        _stats_frame(stats),
        formats={n: money for n in ["min", "mean", "median", "max"]},
        labels={"count": "invoices"},
    )


def show_invoice_distribution(data: ReportData, output_dir: str | None = None) -> None:
    """Invoice totals: statistics, histogram and box plot, all and up to the cap percentile."""
    cap_pct = float(data.params["invoice_percentile_cap"])
    orders = data.summary["placed_orders"]
    counted = int(len(data.invoice_totals))
    intro = (
        f"## Invoice amounts\n\nThe totals of the {counted:,} placed orders with at least one "
        f"purchase line (positive quantity and price), over those lines. The other "
        f"{orders - counted:,} of the {orders:,} placed orders hold no purchase line: all their "
        "lines are free (£0) or take goods out (no positive quantity), such as free goods and "
        "the warehouse's stock corrections for damaged, lost or found goods."
    )
    if data.invoice_totals.empty:
        show_block(intro + "\n\nNo invoices with positive lines in this period.")
        return
    if data.invoice_totals.nunique() == 1:  # no spread to draw (a tiny or odd period)
        total = money(data.invoice_totals.iloc[0])
        show_block(
            intro + f"\n\nEvery one of them totals {total}: there is no spread to draw.",
            _stats_table(data.invoice_stats),
        )
        return
    all_chart = figure_png(
        charts.plot_invoice_distribution(data.invoice_totals),
        output_dir,
        "invoices_all",
        "Invoice totals, log scale",
    )
    show_block(intro, all_chart, _stats_table(data.invoice_stats))
    cap = data.invoice_stats_capped["cap"]
    above = int((data.invoice_totals > cap).sum())
    capped_chart = figure_png(
        charts.plot_invoice_distribution(data.invoice_totals, cap),
        output_dir,
        "invoices_capped",
        f"Invoice totals up to the {ordinal(round(cap_pct * 100))} percentile",
    )
    show_block(
        f"### Invoices up to the {ordinal(round(cap_pct * 100))} percentile ({money(cap)})\n\n"
        f"The {above:,} invoices above {money(cap)} are left out; the box shows the middle half "
        "and the whiskers reach 1.5 times its width.",
        capped_chart,
        _stats_table(data.invoice_stats_capped),
    )


_RFM_NOTE = (
    "Recency in days since the last purchase, frequency in invoices, spend in pounds (net of "
    "cancellations unless the report says gross)."
)


def show_segments(data: ReportData, output_dir: str | None = None) -> None:
    """The segment pie, the segment table with shares and means, customers vs revenue."""
    rule = data.params["rfm_monetary"]
    text = (
        f"## RFM segments\n\n{len(data.customers):,} customers scored on their purchases "
        f"from {format_window(*data.span.cut(data.rfm_start, data.rfm_end))}; spend is their "
        f"**{rule}** spend"
    )
    text += (
        " (cancellations deducted)."
        if rule == "net"
        else " (purchases before cancellations, the textbook rule)."
    )
    refunded = data.refunded
    if data.customers.empty:
        show_block(text + "\n\n" + no_one_to_score(data))
        _show_refunded(data)
        return
    if not refunded.empty:
        scored = "are not scored" if rule == "net" else "are scored on their gross spend"
        text += (
            f" **{len(refunded):,} customers refunded everything**: they bought "
            f"{money(refunded['gross_spend'].sum())} in the window and cancelled it all (net "
            f"spend £0 or less); they {scored} and are listed in "
            f"{csv_link('tables/refunded_customers.csv')}."
        )
    pie = figure_png(
        charts.plot_segment_pie(data.segments), output_dir, "segment_pie", "Customers by segment"
    )
    # the email's copy: large type for a phone-width screen
    figure_png(
        charts.plot_segment_pie_compact(data.segments),
        output_dir,
        "segment_pie_email",
        "Customers by segment",
    )
    show_block(text, pie)
    show_block(
        "",
        table_html(
            data.segments,
            formats={
                "customer_share": format_share,
                "revenue": money,
                "revenue_share": format_share,
                "mean_recency": lambda v: "n/a" if pd.isna(v) else f"{v:,.0f}",
                "mean_frequency": lambda v: "n/a" if pd.isna(v) else f"{v:,.1f}",
                "mean_monetary": money,
            },
            labels={
                "customer_share": "share of customers",
                "revenue": "spend",
                "revenue_share": "share of spend",
                "mean_recency": "mean recency (days)",
                "mean_frequency": "mean frequency (invoices)",
                "mean_monetary": "mean spend",
            },
            note=html_text(_RFM_NOTE),
        ),
        figure_png(
            charts.plot_segment_value(data.segments),
            output_dir,
            "segment_value",
            "Share of customers and of spend by segment",
        ),
    )
    _show_refunded(data)


def no_one_to_score(data: ReportData) -> str:
    """Why no customer was scored in the RFM window, in a marketer's words (Markdown)."""
    window = format_window(*data.span.cut(data.rfm_start, data.rfm_end))
    refunded = len(data.refunded)
    reasons = []
    if refunded:
        reasons.append(
            f"the {refunded:,} customers who bought in it cancelled everything they bought"
        )
    else:
        reasons.append(
            "no line in it has both a customer number and a purchase (the window holds only "
            "cancellations, or only sales without a customer number)"
        )
    return (
        f"**There is no one to score.** No customer has a positive "
        f"{data.params['rfm_monetary']} spend from {window}: {'; '.join(reasons)}. So there "
        "are no segments, no campaign lists and no customer values for this period; the sales "
        "figures above still hold."
    )


def _show_refunded(data: ReportData) -> None:
    refunded = data.refunded
    if not refunded.empty:
        top_n = int(data.params["top_customers"])
        show_block(
            f"### Refunded everything (largest orders first, top {top_n})",
            table_html(
                refunded.head(top_n)[["customer_id", "frequency", "gross_spend", "net_spend"]],
                formats={"customer_id": str, "gross_spend": money, "net_spend": money},
                labels={
                    "customer_id": "customer",
                    "frequency": "invoices",
                    "gross_spend": "ordered (gross)",
                    "net_spend": "net spend",
                },
            ),
        )


_SCORES_NOTE = (
    "Scores R-F-M: recency, frequency and spend quintiles, 5 = the best fifth of customers "
    "(most recent, most invoices, most spend), 1 = the lowest."
)


def _top_customers(members: pd.DataFrame) -> str:
    shown = members.copy()
    shown["scores"] = (
        shown["r"].astype(str) + "-" + shown["f"].astype(str) + "-" + shown["m"].astype(str)
    )
    shown["last_purchase"] = shown["last_purchase"].map(
        lambda v: "n/a" if pd.isna(v) else format_date(str(v))
    )
    if "group" in shown:  # held-out customers are shown, marked: they must not be mailed
        shown["customer_id"] = [
            f"{c} (held out)" if g == "holdout" else str(c)
            for c, g in zip(shown["customer_id"], shown["group"], strict=True)
        ]
    return table_html(
        shown[
            [
                "customer_id",
                "country",
                "last_purchase",
                "recency_days",
                "invoices",
                "net_spend",
                "predicted_clv_12m",
                "scores",
                "top_product_1_description",
            ]
        ],
        formats={
            "customer_id": str,
            "net_spend": money,
            "predicted_clv_12m": money,
            "top_product_1_description": lambda v: "" if pd.isna(v) else str(v),
        },
        labels={
            "customer_id": "customer",
            "last_purchase": "last purchase",
            "recency_days": "recency (days)",
            "net_spend": "net spend",
            "predicted_clv_12m": "predicted 12-month value",
            "top_product_1_description": "bought most",
        },
        numeric=["recency_days", "invoices", "net_spend", "predicted_clv_12m"],
        note=html_text(_SCORES_NOTE),
    )


def show_focus_segments(data: ReportData) -> None:
    """The segments marketing acts on first: who they are, what they are worth, what to do."""
    top_n = int(data.params["top_customers"])
    focus = data.actions[data.actions["email_list"]]
    if data.customers.empty:
        show_block("## Who to act on\n\nNo one this period: there is no one to score.")
        return
    first = True
    for action in focus.itertuples():
        members = data.campaign_list[data.campaign_list["segment"] == action.segment]
        heading = "## Who to act on\n\n" if first else ""
        first = False
        text = (
            f"{heading}### {markdown_text(action.segment)}\n\n"
            f"**{action.customers:,} customers, {money(action.revenue)} net spend** in the RFM "
            f"window. Recommended: {markdown_text(action.action)}"
        )
        if members.empty:
            show_block(text + "\n\nNo customer in this segment.")
            continue
        text += (
            f"\n\n**{action.targeted:,} to mail** in {csv_link(action.list_file)}; "
            f"**{action.held_out:,} held out** in {csv_link(action.holdout_file)}, a random "
            f"{float(data.params['holdout_share']):.0%} of the segment that must not be "
            "mailed, so that a later report can tell what the campaign changed. Top "
            f"{min(top_n, len(members))} of all {len(members):,} by net spend:"
        ) + _value_caveat(data)
        show_block(text, _top_customers(members.head(top_n)))


def show_definitions(data: ReportData) -> None:
    """Every rule behind the figures, the model fits, and the data-quality summary."""
    q = data.quality
    lookback = data.params["rfm_lookback_months"]
    rule = data.params["rfm_monetary"]
    show_block(f"""## Definitions

- **Line**: one row of the warehouse table `retail`; **amount** = quantity × unit price.
- **Invoice**: a distinct invoice number. **Cancellation**: an invoice whose number starts
  with `C`. **Adjustment**: an invoice whose number starts with `A` (bad-debt adjustment).
- **Product line**: a line whose stock code starts with a digit; codes such as POST, DOT, M,
  D, C2, BANK CHARGES, AMAZONFEE and CRUK are not products.
- **Placed orders**: invoices that are neither cancellations nor adjustments.
  **Cancelled invoices**: distinct `C` invoice numbers. Invoices = placed orders + cancelled
  invoices + adjustments.
- **Gross sales**: sum of amount over lines with amount ≥ 0. **Net sales**: sum of amount over
  all lines, cancellations and adjustments included: what was really sold.
- **Complete period**: the warehouse holds data from the period's first day to its last. An
  incomplete period is marked "partial" and its figures cover the days held only.
- **Sales growth**: change of net sales against the previous period (month on month in the
  monthly table) and, for months and quarters, against the same period a year before. A
  partial period or month is compared **like for like**, over the same days of the baseline
  (1-9 Dec against 1-9 Nov). No growth is shown when the warehouse does not hold the whole
  baseline: the report says there is no comparable baseline.
- **Customer**: a customer id; lines without one count in sales but not in customer figures.
  **Active customers**: distinct customers with any line in the month, cancellations included.
  Each is exactly one of: **new** (their first purchase, the earliest line that is not a
  cancellation anywhere in the warehouse, falls in the month), **returning** (another line
  that is not a cancellation in the month) or **cancelling only** (their only lines in the
  month are cancellations). Active = new + returning + cancelling only. "First purchase" means
  the first the warehouse holds ({data.span.describe()}): in its first month every customer
  looks new, so new and returning are n/a there, and that month's cohort is left out of
  cohort averages.
- **Invoice amounts**: per-invoice totals over positive lines (quantity > 0 and unit price > 0)
  of placed orders; orders holding no such line are not counted.
- **Basket**: a placed order with at least one purchase line (positive quantity and price) of
  a product; its items are those products. Baskets are the invoices of the amount distribution
  that buy a product: orders buying only postage, fees or other items that are not products
  are not baskets, nor are free goods and stock corrections at £0. Frequent itemsets of up to
  {data.params["max_itemset_size"]} products are mined (parameter `max_itemset_size`).
  **Top products** rank by baskets, and by net quantity and net revenue: the period's basket
  lines less its cancellation lines of the same stock code.
- **RFM basis**: the customers with a purchase line (quantity > 0 and unit price > 0) over the
  {lookback} months ending where the period ends. **Snapshot**: the day after the last
  purchase in that window. **Recency**: whole days from a customer's last purchase date to the
  snapshot. **Frequency**: distinct invoices with a purchase line.
- **Net spend**: the amount of all the customer's lines in the RFM window, cancellation lines
  included, adjustments excluded. **Gross spend**: the amount of their purchase lines only.
  **Monetary** is the {rule} spend (parameter `rfm_monetary`; `gross` is the textbook rule).
  Customers whose net spend is £0 or less **refunded everything**: they are
  {"not scored" if rule == "net" else "scored on gross spend"} and are listed apart.
- **Scores**: R = quintile of recency labelled 5 (most recent) to 1; F = quintile of the
  frequency rank (ties broken by order), 1 to 5; M = quintile of monetary, 1 to 5. When ties
  leave too few distinct values for five bins, that score falls back to ranks.
- **Segments** from R and F: Champions (R 5, F 4-5), Loyal Customers (R 3-4, F 4-5),
  Potential Loyalists (R 4-5, F 2-3), New Customers (R 5, F 1), Promising (R 4, F 1),
  Need Attention (R 3, F 3), About to Sleep (R 3, F 1-2), At Risk (R 1-2, F 3-4),
  Can't Lose (R 1-2, F 5), Hibernating (R 1-2, F 1-2).
- **Holdout**: each customer has a stable bucket, 0 to 9,999: the first 8 hex digits of
  md5("<salt>:<customer id>") as a number, modulo 10,000 (salt
  `{md(str(data.params["holdout_salt"]))}`). A customer is **held out** when their bucket
  is below {float(data.params["holdout_share"]):.0%} of 10,000 (parameter `holdout_share`):
  in every segment and every month with the same salt, like a global control group. Held-out
  customers are listed in `holdout_<segment>.csv`, never in the lists to mail.
- **Campaign readout**: a campaign is a segment's list as recorded when it went out (`make
  campaign`, `make monthly`), issued on a day. A member **responds** with at least one
  purchase line in [issue day, issue day + window) (`response_window_days`, here
  {int(data.params["response_window_days"])}); their **revenue** is their net spend in that
  window (cancellations count, £0 without a line). **Uplift** = response rate of the
  targeted minus that of the held out, in points, with the Newcombe hybrid score interval at
  95% (statsmodels `confint_proportions_2indep`, method "newcomb"). **Revenue uplift** per
  customer: difference of mean revenue with Welch's 95% interval; **incremental revenue** =
  that × the number targeted, with its interval scaled the same way. **Detectable**: the
  smallest uplift above the campaign's overall response rate that a two-sided 5% test
  detects with 80% power (statsmodels `NormalIndPower`, Cohen's h). **Verdict** (on the
  response uplift): "worked" when the whole interval is above 0, "backfired" when it is
  below, otherwise inconclusive. **Pooled**: all measured campaigns of a segment together, a
  customer counted once per campaign.
- **Numbers**: counts with thousands separators; money in whole pounds (pence only in the CSV
  files); percentages with one decimal; dates as 9 Dec 2011.
""")
    fit = data.extras.get("clv_fit")
    if fit is not None:
        pr, ll = fit.params, fit.log_likelihood
        draws = len(data.extras["clv_draws"].bgnbd)
        found = data.extras["clv_dropout"]
        p_value = found["p_value"]
        shown_p = "p < 0.0001" if p_value < 1e-4 else f"p = {p_value:.4f}"
        dropout = (
            f"here it is ({shown_p})"
            if found["identified"]
            else f"here it is not (p = {found['p_value']:.2f}), so P(alive) is not shown"
        )
        show_markdown(
            f"""### Model fit (customer value)

BG/NBD: r = {pr["r"]:.3f}, α = {pr["alpha"]:.2f}, a = {pr["a"]:.4f}, b = {pr["b"]:.3f}
(log-likelihood {ll["bgnbd"]:,.1f}); Gamma-Gamma: p = {pr["p"]:.3f}, q = {pr["q"]:.3f},
v = {pr["v"]:.2f} (log-likelihood {ll["gamma_gamma"]:,.1f}). Fitted by maximum likelihood on
{fit.customers:,} customers ({fit.repeat_customers:,} with repeat purchases).

- **Predicted value** and its **80% interval**: the interval is the 10th to 90th
  percentile of the value over {draws} redraws of the fitted parameters from their sampling
  distribution (importance resampling around the estimate, scale from the likelihood's
  curvature, so a flat ridge of the likelihood widens it). It covers the model's uncertainty
  about each customer's *expected* value (and a segment's expected total), not the luck of
  one customer's next purchases, which vary far more.
- **p_purchase_90d**: the model's probability that the customer buys at least once in the
  next 90 days: P(alive) × (1 − ((α + T) / (α + T + 90))^(r + x)), with x repeat purchases
  and T days since the first.
- **P(alive)** is shown only when the data identify dropout (BG/NBD fits significantly
  better than the same model without dropout: likelihood-ratio test, p < 0.01 at 2 degrees
  of freedom); {dropout}. **Who has lapsed comes from RFM recency** (the segments), not
  from the model.
- **Holdout check**: the models refitted on the data before the last
  {data.params["clv_holdout_months"]} months (`clv_holdout_months`), scored on what each of
  those customers did in those months. **Past rate**: repeat purchases per day since the
  first purchase × the holdout's days, times the net spend per repeat purchase (0 when
  negative); **last window repeats**: the purchases and net spend of the same number of
  days just before. **MAE/RMSE**: mean absolute / root mean squared error per customer;
  **rank corr.**: Spearman's; **top tenth's share**: the share of the holdout's net spend
  made by the tenth of customers a method ranks highest (ties by customer number);
  **Brier 90 days**: mean of (probability − bought in the first 90 days)², the past-rate
  probability being 1 − e^(−rate × 90). The model **beats** a baseline when its MAE of
  spend is lower."""
        )
    first, last, lines = data.warehouse_range
    quality = pd.DataFrame(
        [
            ("lines in the period", q["count_lines"]),
            ("invoices", q["count_invoices"]),
            ("cancellation lines", q["count_cancellation_lines"]),
            ("cancelled invoices", q["count_cancelled_invoices"]),
            ("adjustment lines", q["count_adjustment_lines"]),
            ("lines without a customer", q["count_lines_without_customer"]),
            ("non-product lines", q["count_non_product_lines"]),
            ("zero-price lines", q["count_zero_price_lines"]),
            ("customers", q["count_customers"]),
            ("countries", q["count_countries"]),
            ("rows held in quarantine (all loads)", q["count_quarantined_rows"]),
        ],
        columns=["check", "count"],
    )
    show_block(
        f"## Data quality\n\nThe warehouse holds {lines:,} lines from {format_date(first)} to "
        f"{format_date(last)}" + (" (**demo data**)." if data.is_demo else "."),
        table_html(quality),
    )
