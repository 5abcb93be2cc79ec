"""How reports, emails and the index print numbers and dates: one place, one style.

- Counts: thousands separators (``25,900``). Identifiers (customer ids) are not counts.
- Money: whole pounds in text and tables (``£3,787,612``); compact on chart axes
  (``£1.4M``, ``£600k``); pence only in CSV files.
- Percentages: one decimal (``14.1%``; growth signed, ``+36.5%``).
- Dates: ``9 Dec 2011``; times ``9 Dec 2011, 12:50``.
- Missing values: ``n/a``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

__all__ = [
    "is_missing",
    "format_money",
    "format_money_short",
    "format_pct",
    "format_share",
    "format_count",
    "format_date",
    "format_datetime",
    "format_window",
    "ordinal",
    "plural",
]


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
    except (TypeError, ValueError):
        return False


def format_money(value: Any) -> str:
    """Whole pounds: ``£1,234,568``; negative ``-£12`` (``n/a`` when missing)."""
    if is_missing(value):
        return "n/a"
    amount = round(float(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,}"


def format_money_short(value: Any) -> str:
    """Compact pounds for chart axes and tight spaces: ``£1.4M``, ``£600k``, ``£950``."""
    if is_missing(value):
        return "n/a"
    amount = float(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1e6:
        text = f"{amount / 1e6:.1f}".rstrip("0").rstrip(".") + "M"
    elif amount >= 1e3:
        text = f"{amount / 1e3:.0f}k"
    else:
        text = f"{amount:.0f}"
    return f"{sign}£{text}"


def format_pct(value: Any, signed: bool = True) -> str:
    """A percentage (given in percent) with one decimal: ``+12.3%``; ``n/a`` when missing."""
    if is_missing(value):
        return "n/a"
    return f"{float(value):+.1f}%" if signed else f"{float(value):.1f}%"


def format_share(fraction: Any) -> str:
    """A share given as a fraction (0.141) in percent with one decimal: ``14.1%``."""
    if is_missing(fraction):
        return "n/a"
    return f"{float(fraction) * 100:.1f}%"


def format_count(value: Any) -> str:
    """An integer with thousands separators: ``25,900`` (``n/a`` when missing)."""
    if is_missing(value):
        return "n/a"
    return f"{int(value):,}"


def format_date(day: date | datetime | str) -> str:
    """A day as the reports write it: ``9 Dec 2011``."""
    if isinstance(day, str):
        day = datetime.fromisoformat(day)
    return f"{day.day} {day:%b %Y}"


def format_datetime(moment: datetime | str) -> str:
    """A moment as the reports write it: ``9 Dec 2011, 12:50`` (in the moment's own zone)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    zone = f" {moment.tzname()}" if moment.tzinfo is not None else ""
    return f"{format_date(moment)}, {moment:%H:%M}{zone}"


def format_window(start: date, end: date) -> str:
    """A window [start, end) in words, its last day included: ``1 Dec 2011 to 9 Dec 2011``."""
    return f"{format_date(start)} to {format_date(end - timedelta(days=1))}"


def ordinal(number: int) -> str:
    """``85th``, ``1st``, ``22nd``, ``13th``."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 period``, ``2 periods``, ``1,476 customers``."""
    word = noun if count == 1 else (nouns or noun + "s")
    return f"{count:,} {word}"
