import re
from datetime import date, datetime

import pytest

from lgs_analysis.exceptions import PeriodError
from lgs_analysis.periods import add_months, expand_periods, last_complete_month, parse_period


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2011", "year", date(2011, 1, 1), date(2012, 1, 1)),
        ("2011-Q1", "quarter", date(2011, 1, 1), date(2011, 4, 1)),
        ("2011-Q4", "quarter", date(2011, 10, 1), date(2012, 1, 1)),
        ("2011-11", "month", date(2011, 11, 1), date(2011, 12, 1)),
        ("2011-12", "month", date(2011, 12, 1), date(2012, 1, 1)),
        (" 2010-02 ", "month", date(2010, 2, 1), date(2010, 3, 1)),
    ],
    ids=["year", "q1", "q4", "month", "december", "spaces"],
)
def test_parse_period_accepts(text, kind, start, end):
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize(
    "text",
    [
        "2011-13",
        "11/2011",
        "2011-Q5",
        "20111",
        "abc",
        "",
        "2011-00",
        "2011-Q0",
        "2011-1",
        None,
    ],
)
def test_parse_period_rejects_with_accepted_forms(text):
    with pytest.raises(PeriodError, match=r"YYYY .*YYYY-Qn .*YYYY-MM"):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2011", "2010"),
        ("2011-11", "2011-10"),
        ("2011-01", "2010-12"),
        ("2011-Q4", "2011-Q3"),
        ("2011-Q1", "2010-Q4"),
    ],
)
def test_period_previous_same_kind(text, previous):
    assert parse_period(text).previous().label == previous


def test_period_lookback_start_trailing_twelve_months():
    assert parse_period("2011-11").lookback_start(12) == date(2010, 12, 1)
    assert parse_period("2011").lookback_start(12) == date(2011, 1, 1)


def test_add_months_crosses_years():
    assert add_months(date(2011, 12, 9), 1) == date(2012, 1, 1)
    assert add_months(date(2011, 1, 31), -1) == date(2010, 12, 1)


@pytest.mark.parametrize(
    ("last", "month"),
    [
        (datetime(2011, 12, 9, 12, 50), "2011-11"),
        (date(2011, 11, 30), "2011-11"),
        (date(2011, 12, 1), "2011-11"),
        (date(2011, 12, 31), "2011-12"),
    ],
)
def test_last_complete_month(last, month):
    assert last_complete_month(last).label == month


@pytest.mark.parametrize("text", ["9999", "9999-12", "9999-Q4", "1989-12", "3000", "0999"])
def test_parse_period_bounds_years_to_what_a_warehouse_holds(text):
    with pytest.raises(PeriodError, match=r"outside the years.*from 1990 to \d{4}"):
        parse_period(text)


def test_last_complete_month_is_never_in_the_future():
    """Lines dated 2999-12-31 must not make `make monthly` pick 2999-12 (issue 11)."""
    assert last_complete_month(date(2999, 12, 31), today=date(2026, 11, 25)).label == "2026-10"
    assert last_complete_month(date(2026, 11, 30), today=date(2026, 12, 1)).label == "2026-11"
    assert last_complete_month(date(2011, 12, 9), today=date(2026, 11, 25)).label == "2011-11"


@pytest.mark.parametrize(
    "spec, labels",
    [
        ("2011-01..2011-03", ["2011-01", "2011-02", "2011-03"]),
        ("2010-11..2011-02", ["2010-11", "2010-12", "2011-01", "2011-02"]),
        ("2011-Q1 2011-Q2", ["2011-Q1", "2011-Q2"]),
        ("2011-Q1,2011-Q2, 2011", ["2011-Q1", "2011-Q2", "2011"]),
        ("2010-Q4..2011-Q1", ["2010-Q4", "2011-Q1"]),
        ("2010..2011", ["2010", "2011"]),
        ("2011-*", [f"2011-{m:02d}" for m in range(1, 13)]),
        ("2011-Q*", ["2011-Q1", "2011-Q2", "2011-Q3", "2011-Q4"]),
        ("2011-02 2011-01..2011-03 2011-02", ["2011-02", "2011-01", "2011-03"]),
        ("  2011\n", ["2011"]),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_expand_periods_accepts(spec, labels):
    assert [p.label for p in expand_periods(spec)] == labels


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "no periods given"),
        ("2011-01..2011", "mixes a month and a year"),
        ("2011-03..2011-01", "runs backwards: write 2011-01..2011-03"),
        ("2011-13", "invalid period '2011-13'"),
        ("2011-01..x", "in range '2011-01..x'"),
        ("abc", "a list holds periods separated by spaces or commas"),
        ("2011-*-*", "invalid period"),
        ("$(touch x)", "invalid period"),
    ],
)
def test_expand_periods_rejects_naming_the_token(spec, message):
    with pytest.raises(PeriodError, match=re.escape(message)):
        expand_periods(spec)
