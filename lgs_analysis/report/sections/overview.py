"""Report sections: each function displays one part of a report in the notebook.

They take a :class:`~lgs_analysis.report_data.ReportData` and only present it:
Markdown text, HTML tables and charts. Charts are also saved as PNG under
``<output_dir>/charts`` for the email summary.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from ...escape import html_text, markdown_text
from ...formatting import format_date, format_window
from .. import charts
from ..data import FOCUS_SEGMENTS, ReportData

__all__ = [
    "show_title",
    "show_headline",
    "show_monthly",
    "show_invoice_distribution",
    "show_segments",
    "show_focus_segments",
    "show_definitions",
    "money",
]


def money(value: float) -> str:
    """Format pounds: £1,234,567."""
    return f"£{value:,.0f}" if abs(value) >= 100 else f"£{value:,.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:+.1f}%"


def _table(frame: pd.DataFrame, formats: dict[str, Any] | None = None) -> None:
    shown = frame.copy()
    for column, fmt in (formats or {}).items():
        if column in shown:
            shown[column] = shown[column].map(fmt)
    shown.columns = [str(c).replace("_", " ") for c in shown.columns]  # headers can wrap
    display(HTML(shown.to_html(index=False, escape=True, border=0, na_rep="n/a")))


def _show_figure(fig: plt.Figure, output_dir: str | None, name: str) -> None:
    """Render the figure to PNG once: shown inline and saved under charts/ for the email."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    png = buffer.getvalue()
    if output_dir:
        target = Path(output_dir) / "charts"
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.png").write_bytes(png)
    display(Image(data=png, format="png"))


def _period_words(data: ReportData) -> str:
    """``2011-12 (partial: data through 9 Dec 2011)`` or just the label."""
    if data.period_complete:
        return data.period.label
    return f"{data.period.label} (partial: data through {format_date(data.data_through)})"


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
        text += (
            f"\n\n**This period is incomplete**: {data.span.describe()}. Its figures cover "
            f"{format_window(start, end)} only, and comparisons use the same days of the "
            "baseline."
        )
    display(Markdown(text))
    if data.is_demo:
        display(
            HTML(
                '<div class="lgs-banner">DEMO DATA: these figures come from generated demo data, '
                "not from LGS's sales. Load real data with <code>make load SOURCE=&lt;your "
                "file&gt;</code>.</div>"
            )
        )


def _kpi(label: str, value: str, delta: str = "") -> str:
    return (
        f'<div class="lgs-kpi"><div class="label">{label}</div>'
        f'<div class="value">{value}</div><div class="delta">{delta}</div></div>'
    )


def _versus(data: ReportData, kind: str, key: str, value_format: Any) -> str:
    comparison = data.comparisons.get(kind)
    base = data.baselines.get(kind)
    if comparison is None:
        return ""
    if base is None:
        return "no comparable baseline"
    return f"{value_format(base[key])} in {comparison.describe_base()}"


def show_headline(data: ReportData, metrics: dict[str, Any]) -> None:
    """Key figures of the period against the previous period (like for like)."""
    s = data.summary
    previous = data.comparisons["previous"]
    growth = metrics["sales_growth_pct"]
    sales_delta = (
        f"{_pct(growth)} vs {previous.describe_base()}"
        if growth is not None
        else "no comparable baseline"
    )
    if "year_ago" in data.comparisons:
        yoy = metrics.get("sales_growth_yoy_pct")
        sales_delta += "; " + (
            f"{_pct(yoy)} vs {data.comparisons['year_ago'].describe_base()}"
            if yoy is not None
            else "no year-ago baseline"
        )
    new = f"{s['new_customers']:,}" if data.new_customers_meaningful else "n/a"
    cards = [
        _kpi("net sales", money(s["net_sales"]), sales_delta),
        _kpi("gross sales", money(s["gross_sales"]), "before cancellations"),
        _kpi(
            "placed orders",
            f"{s['placed_orders']:,}",
            _versus(data, "previous", "placed_orders", "{:,}".format),
        ),
        _kpi("cancelled invoices", f"{s['cancelled_invoices']:,}"),
        _kpi(
            "active customers",
            f"{s['active_customers']:,}",
            _versus(data, "previous", "active_customers", "{:,}".format),
        ),
        _kpi(
            "new customers",
            new,
            "" if data.new_customers_meaningful else "first month of data: everyone looks new",
        ),
    ]
    display(HTML('<div class="lgs-kpis">' + "".join(cards) + "</div>"))
    notes = []
    for comparison in data.comparisons.values():
        if not comparison.comparable:
            against = "previous period" if comparison.kind == "previous" else "year before"
            notes.append(f"No comparable baseline in the {against}: {comparison.reason}.")
    if notes:
        display(Markdown(" ".join(notes)))


def show_monthly(data: ReportData, output_dir: str | None = None) -> None:
    """Monthly sales, orders and customers: table and charts (13-month trend for months
    and quarters, the reported months highlighted; partial months marked)."""
    display(Markdown("## Sales, orders and customers per month"))
    first, last = data.monthly["month"].iloc[0], data.monthly["month"].iloc[-1]
    notes = []
    months_in_period = data.period.months
    if len(data.monthly) < months_in_period:
        notes.append(
            f"The warehouse holds {first} to {last} of this period ({data.span.describe()}); "
            "months without data are not shown."
        )
    if not data.monthly["complete"].all():
        partial = ", ".join(data.monthly.loc[~data.monthly["complete"], "month"])
        notes.append(
            f"Partial months ({partial}) are hatched in the charts; their growth compares the "
            "same days of the month before and of the year before."
        )
    if not data.new_customers_meaningful:
        notes.append(
            "New and returning customers are n/a in the first month the warehouse holds, "
            "where every customer looks new."
        )
    if notes:
        display(Markdown(" ".join(notes)))
    chart_months = data.trend if data.trend is not None else data.monthly
    highlight = chart_months["in_period"] if data.trend is not None else None
    _show_figure(charts.plot_monthly_sales(chart_months, highlight), output_dir, "monthly_sales")
    _show_figure(
        charts.plot_monthly_customers(chart_months, highlight), output_dir, "monthly_customers"
    )
    shown = data.monthly.copy()
    shown["complete"] = shown["complete"].map({True: "yes", False: "partial"})
    _table(
        shown,
        {
            "gross_sales": money,
            "net_sales": money,
            "sales_growth_pct": _pct,
            "sales_growth_yoy_pct": _pct,
            "new_customers": _count,
            "returning_customers": _count,
        },
    )


def _count(value: Any) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"


def _stats_table(stats: dict[str, float]) -> pd.DataFrame:
    names = ["count", "min", "mean", "median", "mode", "max"]
    return pd.DataFrame(
        [
            {
                n: (f"{stats[n]:,}" if n == "count" else f"£{stats[n]:,.2f}")
                for n in names
                if n in stats
            }
        ]
    )


def show_invoice_distribution(data: ReportData, output_dir: str | None = None) -> None:
    """Invoice totals: statistics, histogram and box plot, all and up to the cap percentile."""
    cap_pct = data.params["invoice_percentile_cap"]
    orders = data.summary["placed_orders"]
    counted = int(len(data.invoice_totals))
    display(
        Markdown(
            f"## Invoice amounts\n\nThe totals of the {counted:,} placed orders with at least "
            f"one line of positive quantity and price, over those lines. The other "
            f"{orders - counted:,} of the {orders:,} placed orders hold no such line (only "
            "free or returned goods)."
        )
    )
    if data.invoice_totals.empty:
        display(Markdown("No invoices with positive lines in this period."))
        return
    _table(_stats_table(data.invoice_stats))
    _show_figure(charts.plot_invoice_distribution(data.invoice_totals), output_dir, "invoices_all")
    cap = data.invoice_stats_capped["cap"]
    display(Markdown(f"### Invoices up to the {cap_pct:.0%} percentile ({money(cap)})"))
    _table(_stats_table(data.invoice_stats_capped))
    _show_figure(
        charts.plot_invoice_distribution(data.invoice_totals, cap), output_dir, "invoices_capped"
    )


def show_segments(data: ReportData, output_dir: str | None = None) -> None:
    """The segment table with shares and mean R, F, M, and the segment pie."""
    rule = data.params["rfm_monetary"]
    text = (
        f"## RFM segments\n\n{len(data.customers):,} customers scored on their purchases "
        f"from {format_window(*data.span.cut(data.rfm_start, data.rfm_end))}; monetary value "
        "and revenue are "
        f"their **{rule}** spend"
    )
    text += (
        " (cancellations deducted)."
        if rule == "net"
        else " (purchases before cancellations, the textbook rule)."
    )
    refunded = data.refunded
    if not refunded.empty:
        scored = "are not scored" if rule == "net" else "are scored on their gross spend"
        text += (
            f" **{len(refunded):,} customers refunded everything**: they bought "
            f"{money(refunded['gross_spend'].sum())} in the window and cancelled it all (net "
            f"spend £0 or less); they {scored} and are listed in "
            "`tables/refunded_customers.csv`."
        )
    display(Markdown(text))
    _show_figure(charts.plot_segment_pie(data.segments), output_dir, "segment_pie")
    _table(
        data.segments,
        {
            "customer_share": lambda v: f"{v:.1%}",
            "revenue": money,
            "revenue_share": lambda v: f"{v:.1%}",
            "mean_recency": lambda v: "n/a" if pd.isna(v) else f"{v:,.0f} d",
            "mean_frequency": lambda v: "n/a" if pd.isna(v) else f"{v:,.1f}",
            "mean_monetary": lambda v: "n/a" if pd.isna(v) else money(v),
        },
    )
    _show_figure(charts.plot_segment_value(data.segments), output_dir, "segment_value")
    if not refunded.empty:
        top_n = int(data.params["top_customers"])
        display(Markdown(f"### Refunded everything (largest orders first, top {top_n})"))
        _table(
            refunded.head(top_n)[["customer_id", "frequency", "gross_spend", "net_spend"]],
            {"gross_spend": money, "net_spend": money},
        )


def show_focus_segments(data: ReportData) -> None:
    """Champions, Can't Lose and Hibernating: who, worth, and the recommended campaign."""
    display(Markdown("## Who to act on"))
    top_n = int(data.params["top_customers"])
    for name in FOCUS_SEGMENTS:
        action = data.actions.set_index("segment").loc[name]
        members = data.customers[data.customers["segment"] == name]
        display(Markdown(f"### {markdown_text(name)}"))
        display(
            HTML(
                f'<div class="lgs-action"><b>{action["customers"]:,} customers, '
                f"{money(action['revenue'])}</b> in the RFM window. "
                f"Recommended: {html_text(action['action'])}</div>"
            )
        )
        if members.empty:
            display(Markdown("No customer in this segment."))
            continue
        top = members.sort_values("monetary", ascending=False).head(top_n)
        _table(top, {"monetary": money, "gross_spend": money, "net_spend": money})
        if len(members) > top_n:
            display(
                Markdown(
                    f"Top {top_n} by value; all {len(members):,} are in `tables/customers.csv`."
                )
            )


def show_definitions(data: ReportData) -> None:
    """Every rule behind the figures, and the data-quality summary."""
    q = data.quality
    lookback = data.params["rfm_lookback_months"]
    rule = data.params["rfm_monetary"]
    display(
        Markdown(f"""## Definitions

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
- **Basket**: a placed order with at least one product line of positive quantity (free goods
  included); its items are those products. Orders holding only postage, fees or returns are
  not baskets. Frequent itemsets of up to {data.params["max_itemset_size"]} products are mined
  (parameter `max_itemset_size`). **Top products** rank by baskets, and by net quantity and
  net revenue: the period's basket lines less its cancellation lines of the same stock code.
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
""")
    )
    first, last, count = data.warehouse_range
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
    display(
        Markdown(
            f"## Data quality\n\nThe warehouse holds {count:,} lines from {first:%d %b %Y} to "
            f"{last:%d %b %Y}" + (" (**demo data**)." if data.is_demo else ".")
        )
    )
    _table(quality, {"count": lambda v: f"{v:,}"})
