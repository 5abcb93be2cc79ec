"""What the warehouse covers of a window: complete or partial, and fair comparisons.

A window [start, end) is **complete** when the warehouse holds data from its first day
to its last (its first line is on or before ``start`` and its last on or after the day
before ``end``). A comparison of a window against a baseline (the previous period, or
the same period a year before) is **like for like**: when the data stops inside the
window, both sides are cut to the same days (1-9 Dec against 1-9 Nov). It is
**comparable** only when the warehouse holds the whole baseline; otherwise the report
says there is no comparable baseline instead of showing a growth figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from ..formatting import format_date, format_window
from ..periods import Period, shift_months

__all__ = ["DataSpan", "Comparison", "data_span", "compare_window"]


def _day(value: Any) -> date | None:
    if value is None or (not isinstance(value, date | datetime | str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


@dataclass(frozen=True)
class DataSpan:
    """The days the warehouse holds: from its first line's day to its last line's day."""

    first_day: date | None
    last_day: date | None

    @property
    def empty(self) -> bool:
        """True when the warehouse holds no line."""
        return self.first_day is None or self.last_day is None

    def covers(self, start: date, end: date) -> bool:
        """Whether the warehouse holds data over the whole window [start, end)."""
        if self.empty:
            return False
        return self.first_day <= start and self.last_day >= end - timedelta(days=1)

    def coverage(self, start: date, end: date) -> float:
        """The share of the window's days that lie within the warehouse's span (0 to 1)."""
        if self.empty or end <= start:
            return 0.0
        lo, hi = max(start, self.first_day), min(end, self.last_day + timedelta(days=1))
        return max((hi - lo).days, 0) / (end - start).days

    def cut(self, start: date, end: date) -> tuple[date, date]:
        """The part of [start, end) the warehouse holds (may be empty: start == end)."""
        if self.empty:
            return start, start
        lo = max(start, self.first_day)
        hi = min(end, self.last_day + timedelta(days=1))
        return (lo, hi) if hi > lo else (lo, lo)

    def partial_note(self, start: date, end: date) -> str:
        """Which side of [start, end) the warehouse lacks, in words; '' when it holds it all.

        ``data from 1 Dec 2010`` (the data starts inside the window), ``data through
        9 Dec 2011`` (it stops inside), or ``data from 1 Dec 2010 to 9 Dec 2011`` (both).
        """
        if self.empty:
            return "no data"
        late = self.first_day > start
        early = self.last_day < end - timedelta(days=1)
        first, last = format_date(self.first_day), format_date(self.last_day)
        if late and early:
            return f"data from {first} to {last}"
        if late:
            return f"data from {first}"
        return f"data through {last}" if early else ""

    def describe(self) -> str:
        """``the warehouse holds data from 1 Dec 2010 to 9 Dec 2011``."""
        if self.empty:
            return "the warehouse holds no data"
        first, last = format_date(self.first_day), format_date(self.last_day)
        return f"the warehouse holds data from {first} to {last}"


def data_span(first_at: Any, last_at: Any) -> DataSpan:
    """A :class:`DataSpan` from the warehouse's first and last ``invoice_date``."""
    return DataSpan(_day(first_at), _day(last_at))


@dataclass(frozen=True)
class Comparison:
    """A window against its baseline, cut like for like, and whether they compare."""

    kind: str  # "previous" or "year_ago"
    start: date
    end: date
    base_start: date
    base_end: date
    base_label: str
    like_for_like: bool
    comparable: bool
    reason: str = ""  # why not comparable, a clause: "the warehouse holds data from ..."

    def describe_base(self) -> str:
        """The baseline in words: ``2011-11`` or ``the same days of 2011-11 (1 Nov ...)``."""
        if self.like_for_like:
            return (
                f"the same days of {self.base_label} "
                f"({format_window(self.base_start, self.base_end)})"
            )
        return self.base_label

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields for metrics.json."""
        return {
            "kind": self.kind,
            "window_start": self.start.isoformat(),
            "window_end": self.end.isoformat(),
            "baseline_start": self.base_start.isoformat(),
            "baseline_end": self.base_end.isoformat(),
            "baseline_label": self.base_label,
            "like_for_like": self.like_for_like,
            "comparable": self.comparable,
            "reason": self.reason,
        }


def compare_window(period: Period, span: DataSpan, kind: str = "previous") -> Comparison:
    """Compare ``period`` with the previous period of its kind, or the same period a year ago.

    The window is the part of the period the warehouse holds from its start; when the data
    stops inside it, the baseline is cut to the same days. The comparison is comparable
    when the period starts within the data and the warehouse holds the whole baseline.
    """
    months = period.months if kind == "previous" else 12
    base = period.previous() if kind == "previous" else _same_period_year_ago(period)
    cut = period.end
    if not span.empty and span.last_day + timedelta(days=1) < period.end:
        cut = max(span.last_day + timedelta(days=1), period.start)
    like_for_like = cut < period.end
    base_end = shift_months(cut, -months) if like_for_like else base.end
    reason = ""
    if span.empty:
        reason = "the warehouse holds no data"
    elif span.first_day > period.start:
        reason = f"{period.label} starts before the data does ({span.describe()})"
    elif not span.covers(base.start, base_end):
        reason = (
            f"{span.describe()}, which does not cover {base.label} "
            f"({format_window(base.start, base_end)})"
        )
    return Comparison(
        kind=kind,
        start=period.start,
        end=cut,
        base_start=base.start,
        base_end=base_end,
        base_label=base.label,
        like_for_like=like_for_like,
        comparable=not reason,
        reason=reason,
    )


def _same_period_year_ago(period: Period) -> Period:
    back = period
    for _ in range(12 // period.months):
        back = back.previous()
    return back
