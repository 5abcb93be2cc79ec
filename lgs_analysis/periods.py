"""Report periods: ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``, each a window [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from .exceptions import PeriodError

__all__ = [
    "Period",
    "parse_period",
    "expand_periods",
    "add_months",
    "shift_months",
    "accepted_years",
    "last_complete_month",
    "ACCEPTED_FORMS",
]

ACCEPTED_FORMS = "YYYY (e.g. 2011), YYYY-Qn (e.g. 2011-Q4) or YYYY-MM (e.g. 2011-11)"
_PATTERNS = {
    "year": re.compile(r"^(\d{4})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}
_MONTHS = {"year": 12, "quarter": 3, "month": 1}


def add_months(day: date, months: int) -> date:
    """Return the first of the month ``months`` after ``day``'s month (negative goes back)."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def shift_months(day: date, months: int) -> date:
    """The same day ``months`` months later (negative goes back), clipped to the month's end.

    ``shift_months(date(2011, 12, 10), -1)`` is 10 Nov 2011; 31 Mar less one month is 28 Feb.
    """
    first = add_months(day, months)
    last_day = (add_months(first, 1) - first).days
    return first.replace(day=min(day.day, last_day))


@dataclass(frozen=True)
class Period:
    """A report window [start, end) of one kind: year, quarter or month."""

    label: str
    kind: str
    start: date
    end: date

    @property
    def months(self) -> int:
        """Number of calendar months in the window."""
        return _MONTHS[self.kind]

    def previous(self) -> Period:
        """The period of the same kind just before this one (2011 -> 2010)."""
        return _from_start(self.kind, add_months(self.start, -self.months))

    def lookback_start(self, months: int) -> date:
        """Start of the trailing ``months``-month window that ends where this period ends."""
        return add_months(self.end, -months)

    def month_starts(self) -> list[date]:
        """First day of every month in the window."""
        return [add_months(self.start, i) for i in range(self.months)]

    def __str__(self) -> str:
        return self.label


def _from_start(kind: str, start: date) -> Period:
    end = add_months(start, _MONTHS[kind])
    if kind == "year":
        label = f"{start.year}"
    elif kind == "quarter":
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    else:
        label = f"{start.year}-{start.month:02d}"
    return Period(label=label, kind=kind, start=start, end=end)


def parse_period(value: str | Period) -> Period:
    """Parse ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM`` into a :class:`Period`.

    Raises
    ------
    PeriodError
        For anything else, with a message that lists the accepted forms.
    """
    if isinstance(value, Period):
        return value
    text = str(value).strip() if value is not None else ""
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        first, last = accepted_years()
        if not first <= year <= last:
            raise PeriodError(
                f"period {text!r} is outside the years the warehouse can hold: use a period "
                f"from {first} to {last} (lines before LGS_EARLIEST_DATE or after today are "
                "never loaded)"
            )
        if kind == "year":
            start = date(year, 1, 1)
        elif kind == "quarter":
            start = date(year, 3 * (int(match.group(2)) - 1) + 1, 1)
        else:
            start = date(year, int(match.group(2)), 1)
        return _from_start(kind, start)
    raise PeriodError(f"invalid period {text!r}: use {ACCEPTED_FORMS}")


PERIOD_LIST_FORMS = (
    "periods separated by spaces or commas, each one period, a range FIRST..LAST of one "
    "kind (2011-01..2011-12, 2011-Q1..2011-Q4, 2010..2011), YYYY-* (the months of a year) "
    "or YYYY-Q* (its quarters)"
)
MAX_PERIODS = 1200  # a hundred years of months: a typo, not a batch


def expand_periods(spec: str) -> list[Period]:
    """Expand a list of periods, ranges and wildcards, in order and without repeats.

    ``"2011-01..2011-03"`` gives 2011-01, 2011-02, 2011-03; ``"2011-Q1 2011-Q2"`` the
    two quarters; ``"2011-*"`` the twelve months of 2011 and ``"2011-Q*"`` its quarters.

    Raises
    ------
    PeriodError
        For an empty list, a bad period, a range whose ends differ in kind or run
        backwards, or more than ``MAX_PERIODS`` periods; the message names the token.
    """
    tokens = [t for t in re.split(r"[\s,]+", str(spec or "").strip()) if t]
    if not tokens:
        raise PeriodError(f"no periods given: use {PERIOD_LIST_FORMS}")
    found: dict[str, Period] = {}
    for token in tokens:
        for period in _expand_token(token):
            found.setdefault(period.label, period)
            if len(found) > MAX_PERIODS:
                raise PeriodError(f"more than {MAX_PERIODS} periods in {spec!r}")
    return list(found.values())


def _expand_token(token: str) -> list[Period]:
    wildcard = re.match(r"^(\d{4})-(Q?)\*$", token)
    if wildcard:
        year, quarter = wildcard.groups()
        first = parse_period(f"{year}-Q1" if quarter else f"{year}-01")
        return _run(first, parse_period(f"{year}-Q4" if quarter else f"{year}-12"))
    if ".." in token:
        left, _, right = token.partition("..")
        try:
            first, last = parse_period(left), parse_period(right)
        except PeriodError as exc:
            raise PeriodError(f"in range {token!r}: {exc}") from None
        if first.kind != last.kind:
            raise PeriodError(
                f"range {token!r} mixes a {first.kind} and a {last.kind}: "
                "both ends must be of one kind"
            )
        if last.start < first.start:
            raise PeriodError(f"range {token!r} runs backwards: write {last}..{first}")
        return _run(first, last)
    try:
        return [parse_period(token)]
    except PeriodError as exc:
        if re.match(r"^\d{4}(-|$)", token):
            raise
        raise PeriodError(f"{exc}; a list holds {PERIOD_LIST_FORMS}") from None


def _run(first: Period, last: Period) -> list[Period]:
    """Every period of ``first``'s kind from ``first`` to ``last``, both included."""
    count = (last.start.year - first.start.year) * 12 + last.start.month - first.start.month
    if count // first.months + 1 > MAX_PERIODS:
        raise PeriodError(f"{first}..{last} holds more than {MAX_PERIODS} periods")
    return [
        _from_start(first.kind, add_months(first.start, i * first.months))
        for i in range(count // first.months + 1)
    ]


def accepted_years() -> tuple[int, int]:
    """The first and last year a period may fall in: from the earliest plausible line
    (``LGS_EARLIEST_DATE``, 1990 by default) to the year of today plus ``LGS_FUTURE_DAYS``."""
    from .config import get_settings

    settings = get_settings()
    latest = date.fromordinal(date.today().toordinal() + settings.future_days)
    return settings.earliest_date.year, latest.year


def last_complete_month(last_at: date | datetime, today: date | None = None) -> Period:
    """The last calendar month that ends on or before the day after ``last_at``, and never
    one that has not ended by ``today`` (default: the real date).

    Data that runs to 2011-12-09 gives 2011-11; data that runs to 2011-11-30 gives 2011-11;
    data dated 2999-12-31 gives last month, not 2999-12.
    """
    day = last_at.date() if isinstance(last_at, datetime) else last_at
    yesterday = date.fromordinal((today or date.today()).toordinal() - 1)
    day = min(day, yesterday)
    first_of_month = date(day.year, day.month, 1)
    if add_months(first_of_month, 1) == date.fromordinal(day.toordinal() + 1):
        return _from_start("month", first_of_month)  # last_at is the month's last day
    return _from_start("month", add_months(first_of_month, -1))
