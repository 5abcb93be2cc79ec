"""Everything one report shows, computed once: the notebook only displays it.

``collect_report_data`` runs every analysis for a period; ``report_metrics`` gives
the key figures (glued into the notebook and published as ``metrics.json``);
``export_tables`` writes the CSV tables a published version carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..analyses import marketing, rfm, sales
from ..exceptions import NoDataError
from ..periods import Period, parse_period
from ..warehouse import data_range, get_engine

__all__ = [
    "ReportData",
    "collect_report_data",
    "check_period_has_data",
    "report_metrics",
    "export_tables",
    "FOCUS_SEGMENTS",
    "notebook_params",
]

FOCUS_SEGMENTS = ("Champions", "Can't Lose", "Hibernating")


@dataclass
class ReportData:
    """The results of every analysis for one period."""

    period: Period
    params: dict[str, Any]
    is_demo: bool
    warehouse_range: tuple[Any, Any, int]
    summary: dict[str, Any]
    previous_summary: dict[str, Any]
    monthly: pd.DataFrame
    invoice_totals: pd.Series
    invoice_stats: dict[str, float]
    invoice_stats_capped: dict[str, float]
    rfm_start: date
    rfm_end: date
    snapshot: date | None
    customers: pd.DataFrame
    segments: pd.DataFrame
    actions: pd.DataFrame
    quality: dict[str, int]
    extras: dict[str, Any] = field(default_factory=dict)


def _warehouse_description(rng: tuple[Any, Any, int]) -> str:
    first, last, count = rng
    if not count:
        return "the warehouse is empty"
    return f"the warehouse holds {count:,} lines from {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def check_period_has_data(conn: Connection | Engine, period: Period) -> dict[str, Any]:
    """Return the period's totals, or raise NoDataError naming the range the warehouse holds."""
    summary = sales.fetch_period_summary(conn, period.start, period.end)
    if summary["count_lines"] == 0:
        raise NoDataError(
            f"no data for period {period.label} [{period.start} to {period.end}); "
            f"{_warehouse_description(data_range(conn))}"
        )
    return summary


def _actions(scored: pd.DataFrame, segments: pd.DataFrame, top_n: int) -> pd.DataFrame:
    rows = []
    for name in FOCUS_SEGMENTS:
        seg = segments.loc[segments["segment"] == name].iloc[0]
        members = scored[scored["segment"] == name].sort_values("monetary", ascending=False)
        rows.append(
            {
                "segment": name,
                "action": rfm.CAMPAIGNS[name],
                "customers": int(seg["customers"]),
                "revenue": round(float(seg["revenue"]), 2),
                "top_customer_ids": members["customer_id"].head(top_n).tolist(),
            }
        )
    return pd.DataFrame(rows)


def collect_report_data(
    period: str | Period,
    params: dict[str, Any],
    engine: Engine | None = None,
) -> ReportData:
    """Run every analysis of the report for ``period`` with merged ``params``.

    Raises
    ------
    NoDataError
        If the warehouse has no line in the period.
    """
    from ..ingest.demo import is_demo

    period = parse_period(period)
    engine = engine or get_engine()
    lookback = int(params["rfm_lookback_months"])
    rfm_start = period.lookback_start(lookback)
    with engine.connect() as conn:
        summary = check_period_has_data(conn, period)
        previous = period.previous()
        previous_summary = sales.fetch_period_summary(conn, previous.start, previous.end)
        monthly = sales.fetch_monthly_metrics(conn, period)
        totals = sales.fetch_invoice_totals(conn, period)
        basis, snapshot = rfm.fetch_rfm_basis(conn, rfm_start, period.end)
        quality = sales.fetch_data_quality(conn, period)
        rng = data_range(conn)
        demo = is_demo(conn)
        scored = rfm.score_rfm(basis, segment_map=params.get("segment_map") or None)
        extras = marketing.collect_marketing(conn, period, params, scored, snapshot)
    segments = rfm.summarize_segments(scored)
    return ReportData(
        period=period,
        params=params,
        is_demo=demo,
        warehouse_range=rng,
        summary=summary,
        previous_summary=previous_summary,
        monthly=monthly,
        invoice_totals=totals,
        invoice_stats=sales.describe_invoice_totals(totals),
        invoice_stats_capped=sales.describe_invoice_totals(
            totals, float(params["invoice_percentile_cap"])
        ),
        rfm_start=rfm_start,
        rfm_end=period.end,
        snapshot=snapshot,
        customers=scored,
        segments=segments,
        actions=_actions(scored, segments, int(params["top_customers"])),
        quality=quality,
        extras=extras,
    )


def notebook_params(namespace: dict[str, Any]) -> dict[str, Any]:
    """Pick the declared report parameters (``params/defaults.yaml``) out of a namespace.

    A template calls ``notebook_params(globals())`` after its parameters cell, so a new
    parameter only needs a line in defaults.yaml and one in that cell.
    """
    from .params import declared_parameters

    names = declared_parameters()
    missing = [n for n in names if n not in namespace]
    if missing:
        raise NameError(f"the parameters cell lacks {missing}; add them with their defaults")
    return {name: namespace[name] for name in names}


def _growth(now: float, before: float) -> float | None:
    return round((now - before) / abs(before) * 100, 2) if before else None


def report_metrics(data: ReportData) -> dict[str, Any]:
    """The key figures of a report as JSON-ready values (published as metrics.json)."""
    s, p = data.summary, data.previous_summary
    return {
        "period": data.period.label,
        "period_start": data.period.start.isoformat(),
        "period_end": data.period.end.isoformat(),
        "previous_period": data.period.previous().label,
        "is_demo": bool(data.is_demo),
        "net_sales": s["net_sales"],
        "gross_sales": s["gross_sales"],
        "previous_net_sales": p["net_sales"],
        "sales_growth_pct": _growth(s["net_sales"], p["net_sales"]),
        "invoices": s["invoices"],
        "placed_orders": s["placed_orders"],
        "cancelled_invoices": s["cancelled_invoices"],
        "active_customers": s["active_customers"],
        "new_customers": int(data.monthly["new_customers"].sum()),
        "rfm_customers": int(len(data.customers)),
        "rfm_window_start": data.rfm_start.isoformat(),
        "rfm_window_end": data.rfm_end.isoformat(),
        "snapshot_date": data.snapshot.isoformat() if data.snapshot else None,
        "median_invoice_total": round(data.invoice_stats.get("median", 0.0), 2),
        "segments": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in data.segments[
                ["segment", "customers", "customer_share", "revenue", "revenue_share"]
            ].to_dict("records")
        ],
        "actions": data.actions[["segment", "action", "customers", "revenue"]].to_dict("records"),
        **{k: v for k, v in data.extras.get("metrics", {}).items()},
    }


def export_tables(data: ReportData, output_dir: str | Path) -> list[Path]:
    """Write tables/monthly.csv, segments.csv, customers.csv (and extras) under ``output_dir``."""
    tables = Path(output_dir) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    frames = {
        "monthly": data.monthly,
        "segments": data.segments,
        "customers": data.customers,
        **data.extras.get("tables", {}),
    }
    written = []
    for name, frame in frames.items():
        path = tables / f"{name}.csv"
        # 6 decimals: sums that differ only by float summation order print the same
        frame.round(6).to_csv(path, index=False)
        written.append(path)
    return written
