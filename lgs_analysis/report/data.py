"""Everything one report shows, computed once: the notebook only displays it.

``collect_report_data`` runs every analysis for a period; ``report_metrics`` gives
the key figures (glued into the notebook and published as ``metrics.json``);
``export_tables`` writes the CSV tables a published version carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ..analyses import campaigns, holdout, marketing, readout, rfm, sales
from ..analyses.coverage import Comparison, DataSpan, compare_window, data_span
from ..analyses.narrative import build_narrative, campaign_paragraph
from ..escape import file_name_collisions, markdown_plain, segment_file_stem, write_csv
from ..exceptions import NoDataError, ParameterError
from ..formatting import format_date, format_window
from ..periods import Period, parse_period
from ..warehouse import (
    SideReads,
    data_fingerprint,
    data_range,
    get_engine,
    tune_report_session,
)
from .actions import MISSING_ACTION, Action, load_actions

__all__ = [
    "ReportData",
    "collect_report_data",
    "check_period_has_data",
    "report_metrics",
    "export_tables",
    "FOCUS_SEGMENTS",
    "notebook_params",
    "campaign_file",
    "holdout_file",
    "readout_cutoff",
]

FOCUS_SEGMENTS = ("Champions", "Can't Lose", "Hibernating")


@dataclass
class ReportData:
    """The results of every analysis for one period.

    ``comparisons`` holds the period against the previous one (and, for months and
    quarters, against the same period a year before), cut like for like;
    ``baselines`` the totals of each baseline window, or None when the warehouse does
    not hold it (no comparable baseline).
    """

    period: Period
    params: dict[str, Any]
    is_demo: bool
    warehouse_range: tuple[Any, Any, int]
    span: DataSpan
    summary: dict[str, Any]
    period_complete: bool
    data_through: date | None
    comparisons: dict[str, Comparison]
    baselines: dict[str, dict[str, Any] | None]
    monthly: pd.DataFrame
    trend: pd.DataFrame | None
    new_customers_meaningful: bool
    invoice_totals: pd.Series
    invoice_stats: dict[str, float]
    invoice_stats_capped: dict[str, float]
    rfm_start: date
    rfm_end: date
    snapshot: date | None
    customers: pd.DataFrame
    campaign_list: pd.DataFrame
    refunded: pd.DataFrame
    segments: pd.DataFrame
    actions: pd.DataFrame
    quality: dict[str, int]
    extras: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str | None = None
    narrative: list[str] = field(default_factory=list)

    @property
    def partial_note(self) -> str:
        """'' for a complete period; else ``data through 9 Dec 2011`` or ``data from ...``."""
        return self.span.partial_note(self.period.start, self.period.end)

    @property
    def window(self) -> tuple[date, date]:
        """The part of the period the warehouse holds: [first day, day after the last)."""
        return self.span.cut(self.period.start, self.period.end)

    def growth(self, kind: str = "previous") -> float | None:
        """Net sales growth in percent against a baseline; None when not comparable."""
        base = self.baselines.get(kind)
        if base is None:
            return None
        value = sales.growth_pct(self.summary["net_sales"], base["net_sales"])
        return None if pd.isna(value) else value


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


_VALUE = ["predicted_clv_12m", "predicted_clv_12m_low", "predicted_clv_12m_high"]


def _actions(
    segments: pd.DataFrame,
    actions: dict[str, Action],
    clv_by_segment: pd.DataFrame | None,
    campaign_list: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per segment: what to do, with the customers and value at stake, and how
    many of them the list mails (``targeted``) and holds out (``held_out``)."""
    held = (
        campaign_list[campaign_list["group"] == "holdout"].groupby("segment").size()
        if campaign_list is not None
        else pd.Series(dtype="int64")
    )
    value = (
        clv_by_segment.set_index("segment")
        if clv_by_segment is not None and not clv_by_segment.empty
        else pd.DataFrame(columns=_VALUE)
    )
    rows = []
    for seg in segments.itertuples():
        action = actions.get(seg.segment, Action(seg.segment, MISSING_ACTION))
        rows.append(
            {
                "segment": seg.segment,
                "customers": int(seg.customers),
                "revenue": round(float(seg.revenue), 2),
                **{
                    column: round(float(value[column].get(seg.segment, float("nan"))), 2)
                    for column in _VALUE
                },
                "action": action.action,
                "email_list": bool(action.email_list),
                "list_file": f"tables/{campaign_file(seg.segment)}" if seg.customers else "",
                "targeted": int(seg.customers) - int(held.get(seg.segment, 0)),
                "held_out": int(held.get(seg.segment, 0)),
                "holdout_file": f"tables/{holdout_file(seg.segment)}" if seg.customers else "",
            }
        )
    return pd.DataFrame(rows)


def campaign_file(segment: str) -> str:
    """The campaign list's file name of a segment: ``campaign_can_t_lose.csv``."""
    return f"campaign_{segment_file_stem(segment)}.csv"


def holdout_file(segment: str) -> str:
    """The held-out customers' file of a segment's list: ``holdout_can_t_lose.csv``."""
    return "holdout_" + campaign_file(segment).removeprefix("campaign_")


def readout_cutoff(period: Period, span: DataSpan) -> date:
    """The day a report's campaign readout stops: the period's end, or the day after the
    data's last day when the data stops earlier."""
    if span.empty:
        return period.start
    return min(period.end, span.last_day + timedelta(days=1))


def _comparisons(
    conn: Connection, period: Period, span: DataSpan
) -> tuple[dict[str, Comparison], dict[str, dict[str, Any] | None]]:
    kinds = ["previous"] if period.kind == "year" else ["previous", "year_ago"]
    comparisons, baselines = {}, {}
    for kind in kinds:
        comparison = compare_window(period, span, kind)
        comparisons[kind] = comparison
        baselines[kind] = (
            sales.fetch_period_summary(conn, comparison.base_start, comparison.base_end)
            if comparison.comparable
            else None
        )
    return comparisons, baselines


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
    MixedDataError
        If the warehouse holds demo and real lines together.
    """
    from ..ingest.demo import check_not_mixed, is_demo

    period = parse_period(period)
    engine = engine or get_engine(read_only=True)  # side by side with other reports
    lookback = int(params["rfm_lookback_months"])
    monetary = str(params["rfm_monetary"])
    rfm_start = period.lookback_start(lookback)
    # one transaction with one snapshot (REPEATABLE READ on PostgreSQL; DuckDB transactions
    # are snapshots): every figure, and the fingerprint, describe the same data even if a
    # load commits while the report runs
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        tune_report_session(conn)
        fingerprint = data_fingerprint(conn)
        check_not_mixed(conn)
        summary = check_period_has_data(conn, period)
        # the basket reads need nothing computed below: on PostgreSQL they run beside it
        with SideReads(conn, marketing.basket_reads(period, params)) as baskets:
            rng = data_range(conn)
            span = data_span(rng[0], rng[1])
            comparisons, baselines = _comparisons(conn, period, span)
            monthly = sales.fetch_monthly_metrics(
                conn, sales.held_months(period.month_starts(), span), span
            )
            trend = None
            if period.kind != "year":
                trend = sales.fetch_monthly_metrics(
                    conn, sales.held_months(sales.trailing_months(period.end, 13), span), span
                )
                trend["in_period"] = trend["month"].isin(
                    [f"{m:%Y-%m}" for m in period.month_starts()]
                )
            totals = sales.fetch_invoice_totals(conn, period)
            basis, snapshot = rfm.fetch_rfm_basis(conn, rfm_start, period.end, monetary)
            scorable, refunded = rfm.split_refunded(basis, monetary)
            quality = sales.fetch_data_quality(conn, period)
            demo = is_demo(conn)
            scored = rfm.score_rfm(scorable, segment_map=params.get("segment_map") or None)
            extras = marketing.collect_marketing(
                conn, period, params, scored, snapshot, span, baskets
            )
            profiles = campaigns.fetch_customer_profiles(conn, rfm_start, period.end)
            buckets = holdout.fetch_holdout_buckets(
                conn, rfm_start, period.end, str(params["holdout_salt"])
            )
            cutoff = readout_cutoff(period, span)
            ledger = readout.fetch_campaign_ledger(conn)
            outcomes = (
                readout.fetch_campaign_outcomes(conn, cutoff)
                if (ledger["window_end"] <= cutoff).any()
                else readout.empty_outcomes()
            )
    segments = rfm.summarize_segments(scored)
    groups = pd.Series(
        holdout.assign_groups(buckets, float(params["holdout_share"])), index=buckets.index
    )
    campaign_list = campaigns.build_campaign_list(
        scored,
        profiles,
        campaigns.top_products(extras["customer_products"]),  # over [rfm_start, period.end)
        clv=extras.get("clv"),
        previous_segments=extras.get("previous_segments"),
        segment_order=list(segments["segment"]),
        groups=groups,
    )
    extras["campaigns"] = _campaign_readout(
        period, params, ledger, outcomes, cutoff, list(segments["segment"])
    )
    extras["tables"]["campaign_readout"] = extras["campaigns"]["readout"][readout.READOUT_COLUMNS]
    extras["tables"]["campaign_readout_pooled"] = extras["campaigns"]["pooled"][
        readout.POOLED_COLUMNS
    ]
    first_month = None if span.empty else span.first_day.replace(day=1)
    data = ReportData(
        period=period,
        params=params,
        is_demo=demo,
        warehouse_range=rng,
        span=span,
        summary=summary,
        period_complete=span.covers(period.start, period.end),
        data_through=pd.Timestamp(summary["last_at"]).date(),
        comparisons=comparisons,
        baselines=baselines,
        monthly=monthly,
        trend=trend,
        new_customers_meaningful=first_month is None
        or not (period.start <= first_month < period.end),
        invoice_totals=totals,
        invoice_stats=sales.describe_invoice_totals(totals),
        invoice_stats_capped=sales.describe_invoice_totals(
            totals, float(params["invoice_percentile_cap"])
        ),
        rfm_start=rfm_start,
        rfm_end=period.end,
        snapshot=snapshot,
        customers=scored,
        campaign_list=campaign_list,
        refunded=refunded,
        segments=segments,
        actions=_actions(segments, load_actions(), extras.get("clv_by_segment"), campaign_list),
        quality=quality,
        extras=extras,
        data_fingerprint=fingerprint,
    )
    data.narrative = build_narrative(**narrative_inputs(data))
    return data


def _previous_salt(period: Period) -> tuple[str, str] | None:
    """(version, salt) of the period's latest published version, when it had a salt."""
    from ..config import get_settings
    from .publish import latest_manifest, list_versions

    period_dir = get_settings().reports_dir / period.label
    try:
        manifest = latest_manifest(period_dir)
        versions = list_versions(period_dir)
    except (OSError, ValueError):
        return None
    salt = ((manifest or {}).get("parameters") or {}).get("holdout_salt")
    return (versions[-1].name, str(salt)) if salt and versions else None


def _campaign_readout(
    period: Period,
    params: dict[str, Any],
    ledger: pd.DataFrame,
    outcomes: pd.DataFrame,
    cutoff: date,
    segment_order: list[str],
) -> dict[str, Any]:
    """The readout of every campaign measured by ``cutoff``, pooled per segment, the
    campaigns still in progress, and notes when the holdout's salt changed."""
    salt = str(params["holdout_salt"])
    notes = []
    previous = _previous_salt(period)
    if previous and previous[1] != salt:
        notes.append(
            f"The holdout salt ({salt}) differs from the one of {previous[0]}, the previous "
            f"version of this report ({previous[1]}): its lists hold out other customers."
        )
    other = sorted(set(ledger["salt"]) - {salt}) if not ledger.empty else []
    if other:
        notes.append(
            f"The holdout salt ({salt}) differs from the one of campaigns already issued "
            f"({', '.join(other)}): customers held out then may be mailed now, so these "
            "lists do not continue their control group."
        )
    return {
        "cutoff": cutoff,
        "share": float(params["holdout_share"]),
        "salt": salt,
        "window_days": int(params["response_window_days"]),
        "readout": readout.read_out_campaigns(ledger, outcomes),
        "pooled": readout.pool_by_segment(ledger, outcomes, segment_order),
        "in_progress": readout.campaigns_in_progress(ledger, cutoff),
        "salt_notes": notes,
    }


def rfm_window_text(start: date, end: date, span: DataSpan | None = None) -> str:
    """An RFM window [start, end) in words, as much of it as the warehouse holds.

    ``the 12 months to 30 Nov 2011`` when the warehouse holds it all; the days it holds
    (``1 Dec 2010 to 31 Oct 2011``) when the data starts or stops inside the window.
    """
    if span is not None:
        lo, hi = span.cut(start, end)
        if (lo, hi) != (start, end) and hi > lo:
            return f"the days from {format_window(lo, hi)}"
    months = (end.year - start.year) * 12 + end.month - start.month
    unit = "month" if months == 1 else f"{months} months"
    return f"the {unit} to {format_date(end - timedelta(days=1))}"


def narrative_inputs(data: ReportData) -> dict[str, Any]:
    """The keyword arguments of :func:`~lgs_analysis.analyses.narrative.build_narrative`."""
    x = data.extras
    window_start, window_end = data.window
    previous_rfm = rfm_window_text(x["previous_rfm_start"], x["previous_period"].end, data.span)
    return {
        "period_label": data.period.label,
        "window_text": format_window(window_start, window_end),
        "partial_note": data.partial_note,
        "net_sales": data.summary["net_sales"],
        "comparisons": [
            (c, None if data.baselines[k] is None else data.baselines[k]["net_sales"])
            for k, c in data.comparisons.items()
        ],
        "rfm_window_text": rfm_window_text(data.rfm_start, data.rfm_end, data.span),
        "previous_rfm_window_text": previous_rfm,
        "movement_comparable": x["movement_comparable"],
        "movement_reason": x["movement_reason"],
        "shifts": x["shifts"],
        "migration": x["migration"],
        "movers": x["movers"],
        "segments": data.segments,
        "campaigns": {
            row.segment: row.action for row in data.actions.itertuples() if row.email_list
        },
        "clv_by_segment": x.get("clv_by_segment"),
        "clv_caveat": (x.get("metrics") or {}).get("clv_caveat"),
        "refunded": data.refunded,
        "monetary_rule": str(data.params["rfm_monetary"]),
        "campaign_readout": x["campaigns"]["readout"],
        "campaigns_in_progress": len(x["campaigns"]["in_progress"]),
    }


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


def _optional(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def report_metrics(data: ReportData) -> dict[str, Any]:
    """The key figures of a report as JSON-ready values (published as metrics.json)."""
    s = data.summary
    previous = data.comparisons["previous"]
    base = data.baselines["previous"]
    year_ago = data.comparisons.get("year_ago")
    window_start, window_end = data.window
    meaningful = data.new_customers_meaningful
    metrics = {
        "period": data.period.label,
        "period_start": data.period.start.isoformat(),
        "period_end": data.period.end.isoformat(),
        "period_complete": bool(data.period_complete),
        "partial_note": data.partial_note,
        "data_through": data.data_through.isoformat() if data.data_through else None,
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "previous_period": data.period.previous().label,
        "is_demo": bool(data.is_demo),
        "data_fingerprint": data.data_fingerprint,
        "net_sales": s["net_sales"],
        "gross_sales": s["gross_sales"],
        "previous_net_sales": None if base is None else base["net_sales"],
        "sales_growth_pct": data.growth("previous"),
        "comparison": previous.as_dict(),
        "invoices": s["invoices"],
        "placed_orders": s["placed_orders"],
        "purchase_orders": int(len(data.invoice_totals)),
        "cancelled_invoices": s["cancelled_invoices"],
        "adjustment_invoices": s["adjustment_invoices"],
        "active_customers": s["active_customers"],
        "new_customers": s["new_customers"] if meaningful else None,
        "returning_customers": s["returning_customers"] if meaningful else None,
        "cancelling_only_customers": s["cancelling_only_customers"],
        "rfm_monetary": str(data.params["rfm_monetary"]),
        "rfm_customers": int(len(data.customers)),
        "refunded_customers": int(len(data.refunded)),
        "refunded_gross_spend": round(float(data.refunded["gross_spend"].sum()), 2),
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
        "actions": [
            {k: _optional(v) for k, v in row.items()}
            for row in data.actions[
                [
                    "segment",
                    "action",
                    "customers",
                    "revenue",
                    "predicted_clv_12m",
                    "predicted_clv_12m_low",
                    "predicted_clv_12m_high",
                    "email_list",
                    "list_file",
                    "targeted",
                    "held_out",
                    "holdout_file",
                ]
            ].to_dict("records")
        ],
        "holdout": {
            "share": float(data.params["holdout_share"]),
            "salt": str(data.params["holdout_salt"]),
            "held_out": int((data.campaign_list["group"] == "holdout").sum()),
            "response_window_days": int(data.params["response_window_days"]),
        },
        "campaign_readout": campaign_metrics(data),
        "max_itemset_size": int(data.params["max_itemset_size"]),
        "narrative": [markdown_plain(paragraph) for paragraph in data.narrative],
        **{k: v for k, v in data.extras.get("metrics", {}).items()},
    }
    if year_ago is not None:
        base_yoy = data.baselines["year_ago"]
        metrics.update(
            year_ago_net_sales=None if base_yoy is None else base_yoy["net_sales"],
            sales_growth_yoy_pct=_optional(data.growth("year_ago")),
            comparison_yoy=year_ago.as_dict(),
        )
    return metrics


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if _optional(v) is None else round(v, 6) if isinstance(v, float) else v)
        for k, v in row.items()
    }


def campaign_metrics(data: ReportData) -> dict[str, Any]:
    """The campaign readout for metrics.json (and the email): measured campaigns, pooled
    per segment, those in progress, and the salt notes."""
    c = data.extras["campaigns"]
    progress = c["in_progress"]
    return {
        "through": (c["cutoff"] - timedelta(days=1)).isoformat(),
        "campaigns": [_json_row(r) for r in c["readout"].to_dict("records")],
        "pooled": [_json_row(r) for r in c["pooled"].to_dict("records")],
        "in_progress": [
            {
                "campaign_id": row.campaign_id,
                "period": row.period,
                "segment": row.segment,
                "issued_on": row.issued_on.isoformat(),
                "window_end": row.window_end.isoformat(),
                "days_left": int(row.days_left),
            }
            for row in progress.itertuples()
        ],
        "salt_notes": list(c["salt_notes"]),
        # the narrative's paragraph on campaigns (the email shows its own section instead)
        "narrative": markdown_plain(campaign_paragraph(c["readout"], len(progress))) or None,
    }


def export_tables(data: ReportData, output_dir: str | Path) -> list[Path]:
    """Write tables/monthly.csv, segments.csv, customers.csv (and extras) under ``output_dir``.

    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are prefixed with a single
    quote (:func:`lgs_analysis.escape.write_csv`), so that no cell runs as a formula.
    """
    tables = Path(output_dir) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    frames = {
        "monthly": data.monthly,
        "segments": data.segments,
        "customers": data.campaign_list,
        "refunded_customers": data.refunded,
        **data.extras.get("tables", {}),
    }
    groups = list(data.campaign_list.groupby("segment", sort=False))
    clash = file_name_collisions(str(segment) for segment, _ in groups)
    if clash:  # checked with the parameters already; never let one list replace another
        first, second, stem = clash[0]
        raise ParameterError(
            f"segments {first!r} and {second!r} would share the file campaign_{stem}.csv"
        )
    # the lists to mail hold the targets only; the held-out customers of each list go to
    # a file of their own, never attached to an email
    for segment, members in groups:
        frames[campaign_file(str(segment))[: -len(".csv")]] = members[members["group"] == "target"]
        frames[holdout_file(str(segment))[: -len(".csv")]] = members[members["group"] == "holdout"]
    # 6 decimals: sums that differ only by float summation order print the same; text
    # cells that a spreadsheet would run as formulas get a leading quote
    return [write_csv(frame, tables / f"{name}.csv", decimals=6) for name, frame in frames.items()]
