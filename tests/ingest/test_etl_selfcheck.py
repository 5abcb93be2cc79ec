"""The ETL checks itself against the source, day by day (issue 22, section 3): a line
with a year typo never stops the sync, and a day that differs before the window is
synced again. Real PostgreSQL source, real warehouses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lgs_analysis.ingest.etl import run_etl
from lgs_analysis.ingest.etl.selfcheck import FAR_REASON, far_beyond

from ..conftest import create_pg_database, drop_pg_database
from .test_etl import OLTP_TABLE

START = datetime(2011, 11, 20, 9, 0)


@pytest.fixture
def source_url(pg_server: str) -> Iterator[str]:
    """A fresh OLTP source database (its URL carries a password, as in test_etl)."""
    url = create_pg_database(pg_server, prefix="lgs_t_etl_check")
    try:
        yield url.replace("postgres@", "postgres:s3cr3t-pw@", 1)
    finally:
        drop_pg_database(url)


@pytest.fixture(autouse=True)
def _lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGS_LOCK_DIR", str(tmp_path / "locks"))


def _execute(url: str, sql: str, rows: list[dict] | None = None) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text(sql), rows or {})
    engine.dispose()


def _lines(days: int, per_day: int = 12, first: datetime = START) -> list[dict]:
    return [
        {
            "inv": f"5{d:03d}{i:02d}",
            "at": first + timedelta(days=d, minutes=i),
            "q": 1 + i % 5,
            "p": 1.25 + d % 3,
        }
        for d in range(days)
        for i in range(per_day)
    ]


def _insert(url: str, rows: list[dict]) -> None:
    _execute(
        url,
        "insert into retail values (:inv, '85123A', 'HEART', :q, :at, :p, 17850, 'UK')",
        rows,
    )


def _warehouse(url: str) -> pd.DataFrame:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        frame = pd.read_sql(
            text(
                "select cast(invoice_date as date) as day_at, count(*) as count_lines,"
                " sum(quantity * unit_price) as amount from retail group by 1 order by 1"
            ),
            conn,
        )
    engine.dispose()
    return frame


def _expected(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["day_at"] = frame["at"].dt.date
    frame["amount"] = frame["q"] * frame["p"]
    return frame.groupby("day_at").agg(count_lines=("inv", "size"), amount=("amount", "sum"))


def _assert_synced(url: str, rows: list[dict]) -> None:
    got = _warehouse(url).set_index("day_at")
    want = _expected(rows)
    assert got.index.tolist() == want.index.tolist()
    assert got["count_lines"].tolist() == want["count_lines"].tolist()
    assert got["amount"].astype(float).tolist() == pytest.approx(want["amount"].tolist())


@pytest.mark.postgres
@pytest.mark.parametrize("warehouse", ["duckdb_url", "pg_url"])
def test_a_year_typo_is_quarantined_and_later_sales_still_sync(source_url, warehouse, request):
    """Before: a line typed 2021-12-09 moved the watermark to 2021 and nothing later
    than it synced again, every run exiting 0."""
    url = request.getfixturevalue(warehouse)
    _execute(source_url, OLTP_TABLE.format(name="retail"))
    rows = _lines(15)  # 180 lines from 2011-11-20 to 2011-12-04
    _insert(source_url, rows)
    run_etl(source_url, url, progress=False)
    typo = {"inv": "581587", "at": datetime(2021, 12, 9, 12, 50), "q": 12, "p": 0.85}
    _insert(source_url, [typo])
    second = run_etl(source_url, url, progress=False)
    assert second.watermark_after == rows[-1]["at"]  # not 2021
    later = _lines(2, first=datetime(2011, 12, 5, 9, 0))
    later = [{**r, "inv": "9" + r["inv"]} for r in later]
    _insert(source_url, later)
    run_etl(source_url, url, progress=False)
    _assert_synced(url, rows + later)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        reasons = [r[0] for r in conn.execute(text("select reason from quarantine"))]
    engine.dispose()
    assert len(reasons) == 1 and reasons[0].startswith(FAR_REASON)
    assert "on or after 2021-12-09, more than 365 days" in reasons[0]


@pytest.mark.postgres
def test_a_watermark_moved_too_far_is_caught_by_the_daily_check(source_url, duckdb_url):
    """A warehouse whose watermark already stands in 2021 (written by the old code) syncs
    the days it missed: they differ from the source."""
    _execute(source_url, OLTP_TABLE.format(name="retail"))
    rows = _lines(10)
    _insert(source_url, rows)
    run_etl(source_url, duckdb_url, progress=False)
    _execute(duckdb_url, "update etl_watermarks set watermark_at = '2021-12-09 12:50:00'")
    later = [{**r, "inv": "9" + r["inv"]} for r in _lines(3, first=datetime(2011, 11, 30, 9))]
    _insert(source_url, later)
    third = run_etl(source_url, duckdb_url, progress=False)
    assert third.window_start == datetime(2011, 11, 30)
    _assert_synced(duckdb_url, rows + later)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        "update retail set quantity = quantity + 1 where invoice_no = '500005'",  # amount
        "delete from retail where invoice_no = '500103'",  # a line gone
        "insert into retail values ('L1', '22633', 'WARMER', 2, '2011-11-21 10:00', 1.85,"
        " 17850, 'UK')",  # a late line older than the overlap window
    ],
    ids=["quantity", "deleted", "late-line"],
)
def test_a_correction_older_than_the_window_is_synced_again(source_url, duckdb_url, change):
    _execute(source_url, OLTP_TABLE.format(name="retail"))
    _insert(source_url, _lines(12))
    run_etl(source_url, duckdb_url, progress=False)
    _execute(source_url, change)
    again = run_etl(source_url, duckdb_url, progress=False)
    assert again.window_start < datetime(2011, 11, 28)  # before the 3-day overlap
    engine = create_engine(source_url.replace(":s3cr3t-pw", ""), poolclass=NullPool)
    with engine.connect() as conn:
        source = pd.read_sql(text("select * from retail"), conn)
    engine.dispose()
    rows = [
        {"inv": r.invoice_no, "at": r.invoice_date, "q": r.quantity, "p": float(r.unit_price)}
        for r in source.itertuples()
    ]
    _assert_synced(duckdb_url, rows)
    quiet = run_etl(source_url, duckdb_url, progress=False)
    assert quiet.window_start == quiet.watermark_before - timedelta(days=3)  # all days match


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ({"2011-12-01": 500, "2011-12-09": 500, "2021-12-09": 1}, "2021-12-09"),
        ({"2011-12-01": 500, "2021-12-09": 1, "2031-01-01": 3}, "2021-12-09"),
        ({"2011-12-01": 50, "2021-12-09": 1}, None),  # 2% of the lines: a real reopening
        ({"2011-12-01": 500, "2012-10-01": 1}, None),  # within a year
        ({"2011-12-01": 500}, None),
    ],
)
def test_far_beyond_marks_a_few_lines_after_a_year_long_gap(days, expected):
    frame = pd.DataFrame({"day_at": list(days), "count_lines": list(days.values())})
    found = far_beyond(frame)
    assert (found.date().isoformat() if found else None) == expected


def _text_source(url: str, dates: list[str]) -> None:
    columns = ", ".join(
        f"{c} text"
        for c in "invoice_no stock_code description quantity invoice_date unit_price "
        "customer_id country".split()
    )
    _execute(url, f"create table retail ({columns})")
    _execute(
        url,
        "insert into retail values (:inv, '85123A', 'HEART', '6', :at, '2.55', '17850', 'UK')",
        [{"inv": str(i), "at": at} for i, at in enumerate(dates)],
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["05/11/2011 10:00", "13/11/2011 10:00"], ["2011-11-05", "2011-11-13"]),
        (["05/11/2011 10:00", "11/13/2011 10:00"], ["2011-05-11", "2011-11-13"]),
        (["13/11/2011 10:00", "11/13/2011 10:00"], "written both day-first"),
    ],
    ids=["day-first", "month-first", "mixed"],
)
def test_text_dates_of_a_source_are_read_in_its_one_order(source_url, duckdb_url, dates, expected):
    """The source's slashed text dates are read in the order its unambiguous ones show;
    a source writing both is refused (exit 5), never read as a mix."""
    from lgs_analysis.exceptions import DataValidationError

    _text_source(source_url, dates)
    if isinstance(expected, str):
        with pytest.raises(DataValidationError, match=expected) as caught:
            run_etl(source_url, duckdb_url, progress=False)
        assert caught.value.exit_code == 5
        return
    run_etl(source_url, duckdb_url, progress=False)
    assert [d.isoformat() for d in _warehouse(duckdb_url)["day_at"]] == expected
