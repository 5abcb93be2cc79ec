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


def show_title(data: ReportData) -> None:
    """Title, window, and a prominent banner when the figures are demo data."""
    p = data.period
    text = (
        f"# London Gift Shop: RFM report {p.label}\n\n"
        f"Period {p.start:%d %b %Y} to {p.end:%d %b %Y} (end excluded); RFM window "
        f"{data.rfm_start:%d %b %Y} to {data.rfm_end:%d %b %Y}"
    )
    if data.snapshot:
        text += f", snapshot {data.snapshot:%d %b %Y}"
    display(Markdown(text + "."))
    if data.is_demo:
        display(
            HTML(
                '<div class="lgs-banner">DEMO DATA: these figures come from generated demo data, '
                "not from LGS's sales. Load real data with <code>make load SOURCE=...</code>.</div>"
            )
        )


def _kpi(label: str, value: str, delta: str = "") -> str:
    return (
        f'<div class="lgs-kpi"><div class="label">{label}</div>'
        f'<div class="value">{value}</div><div class="delta">{delta}</div></div>'
    )


def show_headline(data: ReportData, metrics: dict[str, Any]) -> None:
    """Key figures of the period against the previous period."""
    s, prev = data.summary, data.previous_summary
    previous = data.period.previous()
    previous_label = previous.label
    first_at = data.warehouse_range[0]
    if first_at is not None and pd.Timestamp(first_at).date() > previous.start:
        previous_label += f" (data from {pd.Timestamp(first_at):%d %b %Y} only)"
    cards = [
        _kpi(
            "net sales",
            money(s["net_sales"]),
            f"{_pct(metrics['sales_growth_pct'])} vs {previous_label}",
        ),
        _kpi("gross sales", money(s["gross_sales"])),
        _kpi(
            "placed orders",
            f"{s['placed_orders']:,}",
            f"{prev['placed_orders']:,} in {previous_label}",
        ),
        _kpi("cancelled invoices", f"{s['cancelled_invoices']:,}"),
        _kpi(
            "active customers",
            f"{s['active_customers']:,}",
            f"{prev['active_customers']:,} in {previous_label}",
        ),
        _kpi("new customers", f"{metrics['new_customers']:,}"),
    ]
    display(HTML('<div class="lgs-kpis">' + "".join(cards) + "</div>"))


def show_monthly(data: ReportData, output_dir: str | None = None) -> None:
    """Monthly sales, orders and customers: table and charts."""
    display(Markdown("## Sales, orders and customers per month"))
    _show_figure(charts.plot_monthly_sales(data.monthly), output_dir, "monthly_sales")
    _show_figure(charts.plot_monthly_customers(data.monthly), output_dir, "monthly_customers")
    _table(data.monthly, {"gross_sales": money, "net_sales": money, "sales_growth_pct": _pct})


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
    display(Markdown("## Invoice amounts"))
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
    display(
        Markdown(
            f"## RFM segments\n\n{len(data.customers):,} customers scored on their purchases "
            f"between {data.rfm_start:%d %b %Y} and {data.rfm_end:%d %b %Y}."
        )
    )
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


def show_focus_segments(data: ReportData) -> None:
    """Champions, Can't Lose and Hibernating: who, worth, and the recommended campaign."""
    display(Markdown("## Who to act on"))
    top_n = int(data.params["top_customers"])
    for name in FOCUS_SEGMENTS:
        action = data.actions.set_index("segment").loc[name]
        members = data.customers[data.customers["segment"] == name]
        display(Markdown(f"### {name}"))
        display(
            HTML(
                f'<div class="lgs-action"><b>{action["customers"]:,} customers, '
                f"{money(action['revenue'])}</b> in the RFM window. "
                f"Recommended: {action['action']}</div>"
            )
        )
        if members.empty:
            display(Markdown("No customer in this segment."))
            continue
        top = members.sort_values("monetary", ascending=False).head(top_n)
        _table(top, {"monetary": money})
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
    display(
        Markdown(f"""## Definitions

- **Line**: one row of the warehouse table `retail`; **amount** = quantity × unit price.
- **Invoice**: a distinct invoice number. **Cancellation**: an invoice whose number starts
  with `C`. **Adjustment**: an invoice whose number starts with `A` (bad-debt adjustment).
- **Product line**: a line whose stock code starts with a digit; codes such as POST, DOT, M,
  D, C2, BANK CHARGES, AMAZONFEE and CRUK are not products.
- **Placed orders**: invoices that are not cancellations. **Cancelled invoices**: distinct
  `C` invoice numbers.
- **Gross sales**: sum of amount over lines with amount ≥ 0. **Net sales**: sum of amount over
  all lines, cancellations and adjustments included. **Sales growth**: month-on-month change
  of net sales, in percent.
- **Customer**: a customer id; lines without one count in sales but not in customer figures.
  **Active customers**: distinct customers with any line in the month, cancellations included.
  **New customers**: customers whose first purchase (earliest line that is not a
  cancellation, anywhere in the warehouse) falls in the month. **Returning**: active, not new.
- **Invoice amounts**: per-invoice totals over positive lines (quantity > 0 and unit price > 0)
  of invoices that are neither cancellations nor adjustments; the mode is taken over totals
  rounded to the penny.
- **RFM basis**: positive lines (quantity > 0 and unit price > 0) of identified customers over
  the {lookback} months ending where the period ends. **Snapshot**: the day after the last
  purchase in that window. **Recency**: whole days from a customer's last purchase date to the
  snapshot. **Frequency**: distinct invoices. **Monetary**: sum of amount.
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
