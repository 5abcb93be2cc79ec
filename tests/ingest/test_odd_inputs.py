"""Odd dates and bytes in a loaded file (issue 22, section 2): one odd value never sinks or
corrupts a file, and a real file that loads nothing never lets demo data in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from lgs_analysis.exceptions import DataValidationError
from lgs_analysis.ingest.demo import ensure_data
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import get_engine

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _line(invoice: str, when: str, price: str = "2.55", sep: str = ",") -> str:
    return sep.join([invoice, "85123A", "WHITE HEART", "6", when, price, "17850", "UK"]) + "\n"


def _rows(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("select invoice_no, invoice_date, unit_price from retail order by 1")
            )
        ]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("", "no data row after the header"),
        ("\n\n", "no data row after the header"),
        (_line("1", "not a date") + _line("2", "2011-13-45 10:00"), "invoice_date is not a date"),
        (_line("1", "2011-01-01 10:00", price="abc"), "unit_price is not a number"),
    ],
    ids=["header-only", "blank-lines", "every-date-bad", "every-price-bad"],
)
def test_a_real_file_loading_nothing_exits_5_and_never_lets_demo_in(
    tmp_path, duckdb_url, body, said
):
    source = tmp_path / "retail.csv"
    source.write_text(HEADER + body, encoding="utf-8")
    engine = get_engine(duckdb_url)
    with pytest.raises(DataValidationError, match=said) as caught:
        load_file(source, engine, progress=False)
    assert caught.value.exit_code == 5 and "demo data" in str(caught.value)
    with pytest.raises(DataValidationError, match="no demo data is filled in"):
        ensure_data(engine)
    assert _rows(duckdb_url) == []


@pytest.mark.parametrize(
    ("zoned", "local"),
    [
        ("2011-11-05T10:00:00Z", "2011-11-05 10:00:00"),  # GMT in November
        ("2011-07-05T10:00:00Z", "2011-07-05 11:00:00"),  # British Summer Time
        ("2011-11-05T10:00:00+05:00", "2011-11-05 05:00:00"),
        ("2011-11-05 23:30:00-0200", "2011-11-06 01:30:00"),  # past midnight: the next day
    ],
)
def test_dates_with_a_timezone_become_the_shops_local_time(tmp_path, duckdb_url, zoned, local):
    """Beside plain dates (the shop's own time), a zoned one is converted to London time;
    before, the mix failed the whole load ('Mixed timezones detected')."""
    from datetime import datetime

    source = tmp_path / "retail.csv"
    source.write_text(
        HEADER + _line("1", "2011-11-04 09:00:00") + _line("2", zoned), encoding="utf-8"
    )
    result = load_file(source, get_engine(duckdb_url), progress=False)
    assert (result.count_loaded, result.count_quarantined) == (2, 0)
    dates = [row[1] for row in _rows(duckdb_url)]
    assert dates == [datetime(2011, 11, 4, 9), datetime.fromisoformat(local)]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["05/11/2011 10:00", "13/11/2011 10:00"], ["2011-11-05", "2011-11-13"]),  # day-first
        (["05/11/2011 10:00", "11/13/2011 10:00"], ["2011-05-11", "2011-11-13"]),  # month-first
        (
            ["5/11/2011", "28/2/2011 9:15:30", "1/1/2011"],
            ["2011-11-05", "2011-02-28", "2011-01-01"],
        ),
        (["2011-11-05 10:00", "11/11/2011 10:00"], ["2011-11-05", "2011-11-11"]),  # same both ways
    ],
    ids=["day-first", "month-first", "day-first-short", "no-ambiguity"],
)
def test_slashed_dates_are_read_in_the_order_the_whole_file_shows(
    tmp_path, duckdb_url, dates, expected
):
    source = tmp_path / "retail.csv"
    body = "".join(_line(str(i + 1), when) for i, when in enumerate(dates))
    source.write_text(HEADER + body, encoding="utf-8")
    result = load_file(source, get_engine(duckdb_url), progress=False)
    assert result.count_loaded == len(dates)
    assert [row[1].date().isoformat() for row in _rows(duckdb_url)] == expected


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (["05/11/2011 10:00", "06/11/2011 10:00"], "cannot tell whether dates such as '05/11"),
        (
            ["13/11/2011 10:00", "11/13/2011 10:00"],
            "both day-first (1, such as '13/11/2011 10:00')",
        ),
        (
            ["13/11/2011", "14/11/2011", "11/30/2011"],
            "day-first (2, such as '13/11/2011') and month-first (1, such as '11/30/2011')",
        ),
    ],
    ids=["undecidable", "mixed", "mixed-majority"],
)
def test_a_file_whose_date_order_cannot_be_decided_is_refused(tmp_path, duckdb_url, dates, said):
    source = tmp_path / "retail.csv"
    body = "".join(_line(str(i + 1), when) for i, when in enumerate(dates))
    source.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(DataValidationError, match=re.escape(said)) as caught:
        load_file(source, get_engine(duckdb_url), progress=False)
    assert caught.value.exit_code == 5 and "Nothing was loaded" in str(caught.value)


@pytest.mark.parametrize(
    ("sep", "prices", "expected"),
    [
        (";", ["2,55", "10,5", "3"], [2.55, 10.5, 3.0]),  # European export
        ("\t", ["2,55", "0,125"], [2.55, 0.125]),
        (",", ['"2,55"', '"1,5"'], [2.55, 1.5]),  # quoted in a comma-separated file
        (";", ["2.55", "3"], [2.55, 3.0]),  # semicolons with decimal points
    ],
    ids=["semicolon", "tab", "quoted-comma", "semicolon-point"],
)
def test_decimal_commas_are_read_as_decimals(tmp_path, duckdb_url, sep, prices, expected):
    """Before: a semicolon file with decimal commas had every row quarantined, exit 0."""
    source = tmp_path / "retail.csv"
    body = "".join(
        _line(str(i + 1), "2011-11-05 10:00", price, sep) for i, price in enumerate(prices)
    )
    source.write_text(HEADER.replace(",", sep) + body, encoding="utf-8")
    result = load_file(source, get_engine(duckdb_url), progress=False)
    assert (result.count_loaded, result.count_quarantined) == (len(prices), 0)
    assert [float(row[2]) for row in _rows(duckdb_url)] == expected


def test_prices_with_both_decimal_marks_are_refused_naming_the_dialect(tmp_path, duckdb_url):
    source = tmp_path / "retail.csv"
    body = _line("1", "2011-11-05 10:00", "2,55", ";") + _line("2", "2011-11-05", "2.55", ";")
    source.write_text(HEADER.replace(",", ";") + body, encoding="utf-8")
    with pytest.raises(DataValidationError, match="semicolon-separated file: the dialect"):
        load_file(source, get_engine(duckdb_url), progress=False)


@pytest.mark.parametrize(
    ("damage", "bad_lines"),
    [
        ({3: b"CAF\xc9 OLD\xff"}, [3]),  # Windows-1252 bytes in one line
        ({2: b"MUG \xe2\x82", 5: b"\x80\x80 TIN"}, [2, 5]),  # a cut-off and stray bytes
    ],
    ids=["one-line", "two-lines"],
)
def test_a_utf8_file_with_damaged_lines_stays_utf8(tmp_path, duckdb_url, damage, bad_lines):
    """Before: one invalid sequence made the whole file Windows-1252 ('CAFÉ' -> 'CAFÃ‰')."""
    source = tmp_path / "retail.csv"
    rows = []
    for i in range(1, 7):  # data lines 2..7
        text_ = damage.get(i + 1, "CAFÉ SET £5 ☕".encode())
        rows.append(b"%d,85123A,%s,6,2011-11-05 10:00,2.55,17850,UK\n" % (i, text_))
    source.write_bytes(HEADER.encode() + b"".join(rows))
    result = load_file(source, get_engine(duckdb_url), progress=False)
    assert (result.count_loaded, result.count_quarantined) == (6 - len(bad_lines), len(bad_lines))
    engine = get_engine(duckdb_url)
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("select description from retail"))}
        held = conn.execute(text("select line_no, reason from quarantine order by 1")).all()
    assert names == {"CAFÉ SET £5 ☕"}
    assert [r[0] for r in held] == bad_lines
    assert all(r[1].startswith("not valid UTF-8") for r in held)


def test_a_windows_1252_file_is_still_read_as_windows_1252(tmp_path, duckdb_url):
    source = tmp_path / "retail.csv"
    source.write_bytes(
        HEADER.encode() + _line("1", "2011-11-05 10:00").replace("WHITE", "CAFÉ").encode("cp1252")
    )
    load_file(source, get_engine(duckdb_url), progress=False)
    with get_engine(duckdb_url).connect() as conn:
        assert conn.execute(text("select description from retail")).scalar() == "CAFÉ HEART"
