"""Report section "Did the campaigns work?": the holdout readout of earlier campaigns.

Only presents what :func:`lgs_analysis.report.data.collect_report_data` put in
``data.extras["campaigns"]`` (:mod:`lgs_analysis.analyses.readout`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from ...analyses.readout import (
    format_money_interval,
    format_points,
    format_points_interval,
    format_signed_money,
)
from ...escape import html_text
from ...escape import markdown_text as md
from ...formatting import format_date, is_missing
from ..data import ReportData
from .common import csv_link, money, show_block, table_html

__all__ = ["show_campaign_readout"]


def percent(value: Any) -> str:
    """A rate (0 to 1) as a percentage with one decimal."""
    return "n/a" if is_missing(value) else f"{float(value):.1%}"


def _last_day(end: str | date) -> str:
    day = date.fromisoformat(end) if isinstance(end, str) else end
    return format_date(day - timedelta(days=1))


def _campaign_label(row: Any) -> str:
    return f"{row.segment} {row.period}"


def _response_table(frame: pd.DataFrame, first: str) -> str:
    shown = frame.copy()
    shown["uplift"] = [
        f"{format_points(r.uplift_pp)} "
        f"({format_points_interval(r.uplift_low_pp, r.uplift_high_pp)})"
        for r in shown.itertuples()
    ]
    return table_html(
        shown[
            [
                first,
                "targeted",
                "held_out",
                "response_rate_targeted",
                "response_rate_held_out",
                "uplift",
                "min_detectable_pp",
                "verdict",
            ]
        ],
        formats={
            "response_rate_targeted": percent,
            "response_rate_held_out": percent,
            "min_detectable_pp": lambda v: "n/a" if is_missing(v) else f"{v:.1f}",
        },
        labels={
            "held_out": "held out",
            "response_rate_targeted": "bought: targeted",
            "response_rate_held_out": "bought: held out",
            "uplift": "uplift, points (95% interval)",
            "min_detectable_pp": "detectable (points)",
        },
        numeric=[
            "targeted",
            "held_out",
            "response_rate_targeted",
            "response_rate_held_out",
            "min_detectable_pp",
        ],
    )


def _revenue_table(frame: pd.DataFrame, first: str) -> str:
    shown = frame.copy()
    shown["per_customer"] = [
        f"{format_signed_money(r.revenue_uplift_per_customer)} "
        f"({format_money_interval(r.revenue_uplift_low, r.revenue_uplift_high)})"
        for r in shown.itertuples()
    ]
    shown["incremental"] = [
        f"{format_signed_money(r.incremental_revenue)} "
        f"({format_money_interval(r.incremental_low, r.incremental_high)})"
        for r in shown.itertuples()
    ]
    return table_html(
        shown[
            [first, "revenue_per_targeted", "revenue_per_held_out", "per_customer", "incremental"]
        ],
        formats={"revenue_per_targeted": money, "revenue_per_held_out": money},
        labels={
            "revenue_per_targeted": "spent per targeted",
            "revenue_per_held_out": "spent per held out",
            "per_customer": "uplift per customer (95% interval)",
            "incremental": "incremental revenue (95% interval)",
        },
        numeric=["revenue_per_targeted", "revenue_per_held_out"],
        note=html_text(
            "Welch's interval assumes roughly normal means: a month's spend is mostly £0 with "
            "a few large orders, so with few held-out customers it is too narrow (README, "
            '"Closing the loop"). The verdict rests on the response.'
        ),
    )


def show_campaign_readout(data: ReportData) -> None:
    """What each earlier campaign changed: targeted against held-out customers."""
    c = data.extras["campaigns"]
    through = format_date(c["cutoff"] - timedelta(days=1))
    lead = (
        "## Did the campaigns work?\n\n"
        f"Every campaign list keeps a random **holdout**: {c['share']:.0%} of its customers "
        "(those whose bucket, from a hash of the salt and their id, falls below "
        f"{c['share']:.0%} of 10,000) are listed apart and never mailed. What the targeted "
        "customers did beyond the held-out ones is what the campaign changed: a customer who "
        "was mailed and then bought might have bought anyway, and the held-out customers show "
        "how many would have. Each campaign is measured over its response window (a purchase "
        "within its days from the issue date) once the window has ended, here with the data "
        f"through {through}. Definitions and statistics are under Definitions."
    )
    for note in c["salt_notes"]:
        lead += f"\n\n**{md(note)}**"
    readout, pooled, progress = c["readout"], c["pooled"], c["in_progress"]
    if readout.empty and progress.empty:
        show_block(
            lead + "\n\nNo campaign recorded in the warehouse has started within this "
            "report's data. Record the lists that go out with `make campaign PERIOD=...` "
            "(`make monthly` records those it emails)."
        )
        return
    parts: list[str] = []
    if not readout.empty:
        readout = readout.assign(campaign=[_campaign_label(r) for r in readout.itertuples()])
        issues = readout.drop_duplicates(["period", "issued_on", "window_end"])
        windows = "; ".join(
            f"the {r.period} lists were issued on {format_date(r.issued_on)} and count "
            f"purchases to {_last_day(r.window_end)}"
            for r in issues.itertuples()
        )
        lead += (
            f"\n\n**{len(readout):,} campaigns measured**: {windows}. Per campaign in "
            f"{csv_link('tables/campaign_readout.csv')}."
        )
        parts = [_response_table(readout, "campaign"), _revenue_table(readout, "campaign")]
    show_block(lead, *parts)
    if not pooled.empty:
        small = readout.sort_values("targeted").iloc[0] if not readout.empty else None
        note = ""
        if small is not None and not is_missing(small["min_detectable_pp"]):
            note = (
                f" One month's list is small: {md(small['campaign'])}, "
                f"{small['targeted']:,} targeted and {small['held_out']:,} held out, could "
                f"only detect an uplift of {small['min_detectable_pp']:.0f} points or more."
            )
        show_block(
            "### Pooled per segment\n\nEvery measured campaign of a segment together (a "
            "customer in several campaigns counts once per campaign): more customers, "
            f"narrower intervals.{note} In "
            f"{csv_link('tables/campaign_readout_pooled.csv')}.",
            _response_table(pooled, "segment"),
            _revenue_table(pooled, "segment"),
        )
    if not progress.empty:
        lines = [
            f"- {md(_campaign_label(r))}: in progress, {r.days_left} days left (issued "
            f"{format_date(r.issued_on)}, window to {_last_day(r.window_end)}); no figures "
            "until its window ends."
            for r in progress.itertuples()
        ]
        show_block("### Campaigns in progress\n\n" + "\n".join(lines))
