"""How reports, emails and the index print numbers: one place, one style."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

__all__ = [
    "is_missing",
    "format_money",
    "format_pct",
    "format_count",
    "format_date",
    "format_window",
]


def is_missing(value: Any) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_money(value: Any) -> str:
    """Pounds with pence: ``£1,234,567.89`` (``n/a`` when missing)."""
    if is_missing(value):
        return "n/a"
    return f"£{float(value):,.2f}"


def format_pct(value: Any, signed: bool = True) -> str:
    """A percentage with one decimal: ``+12.3%`` (``n/a`` when missing)."""
    if is_missing(value):
        return "n/a"
    return f"{float(value):+.1f}%" if signed else f"{float(value):.1f}%"


def format_count(value: Any) -> str:
    """An integer with thousands separators: ``25,900`` (``n/a`` when missing)."""
    if is_missing(value):
        return "n/a"
    return f"{int(value):,}"


def format_date(day: date) -> str:
    """A day as the reports write it: ``9 Dec 2011``."""
    return f"{day.day} {day:%b %Y}"


def format_window(start: date, end: date) -> str:
    """A window [start, end) in words, its last day included: ``1 Dec 2011 to 9 Dec 2011``."""
    return f"{format_date(start)} to {format_date(end - timedelta(days=1))}"
