"""The incremental ETL from an OLTP PostgreSQL database, on the real server.

Each test makes its own source database (table ``retail`` with the OLTP columns,
seeded from the real file) and its own warehouse (PostgreSQL or DuckDB), and
checks the warehouse against figures computed here with pandas from the raw file.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lgs_analysis.cli import cli
from lgs_analysis.exceptions import ConfigError, DataValidationError, LockedError, SourceError
from lgs_analysis.ingest.etl import etl_status, format_etl_status, run_etl, source_key
from lgs_analysis.ingest.lock import hold_advisory_lock
from lgs_analysis.warehouse import get_engine

from ..conftest import assert_derived_current, create_pg_database, drop_pg_database

PROJECT = Path(__file__).resolve().parents[2]
OLTP_TABLE = """
create table {name} (
    invoice_no varchar(10), stock_code varchar(20), description varchar(64),
    quantity integer, invoice_date timestamp, unit_price numeric(8, 3),
    customer_id integer, country varchar(32)
)
"""


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock files go to the test's tmp dir (subprocesses inherit the variable)."""
    monkeypatch.setenv("LGS_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture(scope="module")
def real_lines(real_csv: Path) -> pd.DataFrame:
    """The raw file, parsed independently of the package."""
    frame = pd.read_csv(real_csv, dtype={"InvoiceNo": str, "StockCode": str})
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame["amount"] = frame["Quantity"] * frame["UnitPrice"]
    return frame


@pytest.fixture
def source_url(pg_server: str) -> Iterator[str]:
    """A fresh source database; the URL carries a password, which must never show."""
    url = create_pg_database(pg_server, prefix="lgs_t_etl_src")
    try:
        yield url.replace("postgres@", "postgres:s3cr3t-pw@", 1)
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["postgresql", "duckdb"])
def warehouse_url(request: pytest.FixtureRequest) -> str:
    """A fresh warehouse of each kind."""
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "duckdb_url")


def _engine(url: str):
    return create_engine(url, poolclass=NullPool)


def _seed_source(url: str, real_csv: Path) -> None:
    """Source with the whole real file in ``retail_all`` and an empty OLTP ``retail``."""
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text(OLTP_TABLE.format(name="retail_all")))
        conn.execute(text(OLTP_TABLE.format(name="retail")))
        cursor = conn.connection.driver_connection.cursor()
        with gzip.open(real_csv, "rb") as fh:
            cursor.copy_expert("copy retail_all from stdin with (format csv, header true)", fh)
    engine.dispose()


def _append(url: str, start: str, end: str) -> None:
    """Copy the real lines dated in [start, end) from retail_all into the source's retail."""
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into retail select * from retail_all"
                " where invoice_date >= :start and invoice_date < :end"
            ),
            {"start": start, "end": end},
        )
    engine.dispose()


def _source_execute(url: str, sql: str, **params) -> None:
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def _snapshot(url: str) -> dict[str, object]:
    """Everything a run may change, read with plain SQL."""
    engine = _engine(url)
    with engine.connect() as conn:

        def one(sql: str) -> object:
            return conn.execute(text(sql)).scalar()

        snap = {
            "lines": one("select count(*) from retail"),
            "amount": float(one("select coalesce(sum(quantity * unit_price), 0) from retail")),
            "quarantine": one("select count(*) from quarantine"),
            "batches": one("select count(*) from load_batches"),
            "runs": one("select count(*) from etl_runs"),
            "watermark": one("select max(watermark_at) from etl_watermarks"),
        }
    engine.dispose()
    return snap


def _months(url: str) -> pd.Series:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select extract(year from invoice_date) * 100 + extract(month from invoice_date)"
                " as month, count(*) as n from retail group by 1"
            )
        ).fetchall()
    engine.dispose()
    return pd.Series({int(m): int(n) for m, n in rows}).sort_index()


def _expected_months(lines: pd.DataFrame) -> pd.Series:
    dates = lines["InvoiceDate"]
    month = (dates.dt.year * 100 + dates.dt.month).astype("int64")
    return lines.groupby(month).size().astype("int64").sort_index()


def _cli_process(source: str, warehouse: str, *args: str, delay: float = 0) -> subprocess.Popen:
    env = dict(os.environ, LGS_SOURCE_URL=source, LGS_DATABASE_URL=warehouse)
    env["LGS_PROGRESS_SECONDS"] = "0"  # a progress line per block: the tests wait for one
    if delay:
        env["LGS_ETL_TEST_DELAY_SECONDS"] = str(delay)
    return subprocess.Popen(
        [sys.executable, "-c", "from lgs_analysis.cli import main; main()", *args],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_copying(process: subprocess.Popen, timeout: float = 120) -> str:
    """Read the process's log until it reports rows copied; return what it logged."""
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in process.stderr:
            seen.append(line)
            if "rows so far" in line:
                done.set()
                return
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout)
    log = "".join(seen)
    assert "rows so far" in log, f"the ETL never reported copying:\n{log}"
    return log


def _run_until_unlocked(source: str, warehouse: str, seconds: float = 20):
    """Run the ETL, retrying while a killed run's server session still holds its lock."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return run_etl(source, warehouse, progress=False)
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --- incremental equivalence ---------------------------------------------------------------


def test_run_etl_increments_equal_one_full_load(
    source_url: str, warehouse_url: str, real_csv: Path, real_lines: pd.DataFrame
) -> None:
    _seed_source(source_url, real_csv)
    cuts = ["2010-01-01", "2011-03-01", "2011-07-01", "2011-10-15", "2012-01-01"]
    for start, end in zip(cuts, cuts[1:], strict=False):
        _append(source_url, start, end)
        result = run_etl(source_url, warehouse_url, progress=False)
        so_far = real_lines[real_lines["InvoiceDate"] < end]
        snap = _snapshot(warehouse_url)
        assert snap["lines"] == len(so_far)
        assert snap["watermark"] == so_far["InvoiceDate"].max().to_pydatetime()
        assert result.watermark_after == so_far["InvoiceDate"].max().to_pydatetime()
        assert result.count_quarantined == 0
        assert_derived_current(warehouse_url)  # refilled by each run, inside its transaction

    again = run_etl(source_url, warehouse_url, progress=False)  # nothing new: same warehouse
    snap = _snapshot(warehouse_url)
    assert len(real_lines) == 541_909
    assert snap["lines"] == len(real_lines)
    assert snap["amount"] == pytest.approx(real_lines["amount"].sum(), abs=0.01)
    assert snap["amount"] == pytest.approx(9_747_747.93, abs=0.01)
    pd.testing.assert_series_equal(
        _months(warehouse_url), _expected_months(real_lines), check_names=False
    )
    window = real_lines[real_lines["InvoiceDate"] >= again.window_start]
    assert again.count_read == again.count_inserted == again.count_replaced == len(window)
    assert snap["runs"] == 5
    runs = etl_status(warehouse_url)
    assert runs["status"].tolist() == ["succeeded"] * 5
    assert runs["count_read"].iloc[-1] == (real_lines["InvoiceDate"] < "2011-03-01").sum()
    assert runs["source_name"].iloc[0].startswith("postgresql:")  # the server's identity


def test_run_etl_picks_up_late_line_in_overlap(
    source_url: str, duckdb_url: str, real_csv: Path, real_lines: pd.DataFrame
) -> None:
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2010-12-10")
    first = run_etl(source_url, duckdb_url, progress=False)
    watermark = first.watermark_after
    assert watermark == datetime(2010, 12, 9, 20, 1)  # last line before 2010-12-10

    late = "insert into retail values (:inv, 'LATE1', 'LATE LINE', 2, :at, 1.5, 12345, 'UK')"
    _source_execute(source_url, late, inv="L900001", at="2010-12-08 10:00:00")  # in overlap
    _source_execute(source_url, late, inv="L900002", at="2010-12-01 10:00:00")  # before it
    cancelled = real_lines[
        (real_lines["InvoiceDate"] >= "2010-12-07") & (real_lines["InvoiceDate"] < "2010-12-10")
    ]["InvoiceNo"].iloc[0]
    _source_execute(source_url, "delete from retail where invoice_no = :inv", inv=cancelled)
    _append(source_url, "2010-12-10", "2010-12-11")  # the next day

    second = run_etl(source_url, duckdb_url, progress=False)
    expected = real_lines[
        (real_lines["InvoiceDate"] < "2010-12-11") & (real_lines["InvoiceNo"] != cancelled)
    ]
    engine = _engine(duckdb_url)
    with engine.connect() as conn:
        invoices = {
            r[0]
            for r in conn.execute(
                text("select distinct invoice_no from retail where invoice_no like 'L9%'")
            )
        }
        count_cancelled = conn.execute(
            text("select count(*) from retail where invoice_no = :i"), {"i": cancelled}
        ).scalar()
    engine.dispose()
    # the line older than the overlap makes its day differ: the self-check syncs from it
    assert invoices == {"L900001", "L900002"}
    assert count_cancelled == 0  # deleted at the source inside the window: gone
    assert _snapshot(duckdb_url)["lines"] == len(expected) + 2
    assert second.window_start == datetime(2010, 12, 1)
    assert (
        second.watermark_after
        == real_lines[real_lines["InvoiceDate"] < "2010-12-11"]["InvoiceDate"].max().to_pydatetime()
    )


# --- crash safety and the lock ---------------------------------------------------------------


def test_run_etl_killed_mid_copy_leaves_warehouse_unchanged(
    source_url: str, warehouse_url: str, real_csv: Path, real_lines: pd.DataFrame
) -> None:
    # both kinds: PostgreSQL streams inside its transaction, DuckDB stages in temp tables
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2011-06-01")
    run_etl(source_url, warehouse_url, progress=False)
    before = _snapshot(warehouse_url)
    _append(source_url, "2011-06-01", "2012-01-01")

    process = _cli_process(source_url, warehouse_url, "etl", delay=60)
    try:
        _wait_for_copying(process)  # it inserted a block and sits inside its transaction
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert _snapshot(warehouse_url) == before

    result = _run_until_unlocked(source_url, warehouse_url)
    snap = _snapshot(warehouse_url)
    assert snap["lines"] == len(real_lines)
    assert snap["amount"] == pytest.approx(real_lines["amount"].sum(), abs=0.01)
    assert snap["runs"] == 2  # the killed run left no trace
    assert result.watermark_before == before["watermark"]
    assert etl_status(warehouse_url)["status"].tolist() == ["succeeded", "succeeded"]


def test_run_etl_source_failure_mid_copy_rolls_back_and_records_failed(
    source_url: str, pg_url: str, pg_server: str, real_csv: Path, monkeypatch
) -> None:
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2012-01-01")
    monkeypatch.setenv("LGS_ETL_TEST_DELAY_SECONDS", "1")
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            run_etl(source_url, pg_url, progress=False)
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    server = create_engine(pg_server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    database = source_url.rsplit("/", 1)[1]
    killed = 0
    deadline = time.monotonic() + 60
    with server.connect() as conn:
        while not killed and time.monotonic() < deadline:
            killed = conn.execute(
                text(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                    " where datname = :db and application_name = 'lgs-etl'"
                    " and query ilike 'copy%'"
                ),
                {"db": database},
            ).scalar()
            time.sleep(0.05)
    server.dispose()
    worker.join(timeout=120)
    assert killed
    error = outcome.get("error")
    assert isinstance(error, SourceError), repr(error)
    assert "reading the ETL source" in str(error) and "s3cr3t" not in str(error)
    snap = _snapshot(pg_url)
    assert (snap["lines"], snap["quarantine"], snap["batches"], snap["watermark"]) == (
        0,
        0,
        0,
        None,
    )
    runs = etl_status(pg_url)
    assert runs["status"].tolist() == ["failed"]
    assert "SourceError" in runs["message"].iloc[0]
    assert "failed" in format_etl_status(runs)


def test_run_etl_second_concurrent_run_is_refused(
    source_url: str, pg_url: str, real_csv: Path
) -> None:
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2010-12-03")
    process = _cli_process(source_url, pg_url, "etl", delay=60)
    try:
        _wait_for_copying(process)
        with pytest.raises(LockedError, match="another ETL run .*pid \\d+.* is syncing into"):
            run_etl(source_url, pg_url, progress=False)
        second = _cli_process(source_url, pg_url, "etl")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 75
        assert "another ETL run" in err and "s3cr3t" not in err
    finally:
        process.kill()
        process.wait(timeout=30)


def test_hold_advisory_lock_refuses_second_session(pg_url: str) -> None:
    first, second = get_engine(pg_url), get_engine(pg_url)
    try:
        with hold_advisory_lock(first):
            with pytest.raises(LockedError, match="advisory lock"):
                with hold_advisory_lock(second):
                    pass
        with hold_advisory_lock(second):  # released with the first session's block
            pass
    finally:
        first.dispose()
        second.dispose()


# --- validation -----------------------------------------------------------------------------

BAD_SOURCE_ROWS = [
    # (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer, country)
    ("536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850", "UK"),
    ("536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850", "UK"),
    ("536366", "22633", "HAND WARMER", "six", "2010-12-01 08:28:00", "1.85", "17850", "UK"),
    ("A563185", "B", "Adjust bad debt", "1", "2010-12-10 14:50:00", "-11062.06", "", "UK"),
    ("536367", "84879", "BIRD ORNAMENT", "32", "not a date", "1.69", "13047", "UK"),
    ("", "22745", "PLAYHOUSE", "6", "2010-12-10 08:34:00", "2.10", "13047", "UK"),
    ("536368", "22960", "JAM MAKING SET", "6", "2010-12-10 08:34:00", "-4.25", "13047", "UK"),
    ("536369", "21756", "BATH BUILDING BLOCK", "3", "12/10/2010 8:35", "5.95", "", "UK"),
]


def _text_source(url: str) -> None:
    columns = ", ".join(
        f"{c} text"
        for c in (
            "invoice_no stock_code description quantity invoice_date unit_price customer_id country"
        ).split()
    )
    _source_execute(url, f"create table retail ({columns})")
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("insert into retail values (:a, :b, :c, :d, :e, :f, :g, :h)"),
            [dict(zip("abcdefgh", row, strict=True)) for row in BAD_SOURCE_ROWS],
        )
    engine.dispose()


def _quarantine(url: str) -> pd.DataFrame:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("select reason, raw_row from quarantine order by reason"))
        frame = pd.DataFrame(rows.fetchall(), columns=["reason", "raw_row"])
    engine.dispose()
    return frame


def test_run_etl_quarantines_bad_rows_with_reasons(source_url: str, warehouse_url: str) -> None:
    _text_source(source_url)
    result = run_etl(source_url, warehouse_url, progress=False)
    expected_reasons = [
        "invoice_date is not a date",
        "missing invoice_no",
        "negative unit_price on a line that is not an adjustment",
        "quantity is not a whole number",
    ]
    assert (result.count_read, result.count_inserted, result.count_quarantined) == (8, 4, 4)
    assert sorted(result.quarantine_reasons) == expected_reasons
    summary = result.summary()
    assert "quarantined  4" in summary and "quantity is not a whole number" in summary
    quarantine = _quarantine(warehouse_url)
    assert quarantine["reason"].tolist() == expected_reasons
    assert '"quantity": "six"' in quarantine["raw_row"].iloc[3]
    snap = _snapshot(warehouse_url)
    assert snap["lines"] == 4  # both exact duplicates, the adjustment, the US-format date
    assert snap["amount"] == pytest.approx(2 * 6 * 2.55 - 11062.06 + 3 * 5.95, abs=0.001)

    # Watermark 2010-12-10 14:50, window from 2010-12-07 14:50: the 2010-12-01 lines (and
    # the bad quantity among them) are not read again; the rest is replaced, not doubled.
    again = run_etl(source_url, warehouse_url, progress=False)
    assert again.window_start == datetime(2010, 12, 7, 14, 50)
    assert (again.count_read, again.count_inserted, again.count_quarantined) == (5, 2, 3)
    assert _quarantine(warehouse_url)["reason"].tolist() == expected_reasons
    assert _snapshot(warehouse_url)["lines"] == 4


# --- clear failures ---------------------------------------------------------------------------


def test_run_etl_wrong_schema_names_missing_columns(source_url: str, duckdb_url: str) -> None:
    with pytest.raises(DataValidationError, match="has no table retail"):
        run_etl(source_url, duckdb_url, progress=False)
    _source_execute(
        source_url,
        "create table retail (invoice_no text, stock_code text, quantity integer,"
        " invoice_date timestamp, unit_price numeric)",
    )
    with pytest.raises(
        DataValidationError, match=r"missing column\(s\) description, customer_id, country"
    ) as caught:
        run_etl(source_url, duckdb_url, progress=False)
    assert "s3cr3t" not in str(caught.value)
    assert not Path(duckdb_url.removeprefix("duckdb:///")).exists()  # warehouse untouched


def test_run_etl_unreachable_source_names_host_not_password(
    duckdb_url: str, pg_server: str
) -> None:
    closed_port = "postgresql+psycopg2://shop:s3cr3t-pw@127.0.0.1:1/shopdb"
    with pytest.raises(SourceError, match="cannot reach the ETL source") as caught:
        run_etl(closed_port, duckdb_url, progress=False)
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "'shopdb'" in message
    assert "s3cr3t" not in message
    missing_db = pg_server.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cr3t-pw@") + (
        "/lgs_t_etl_no_such_db"
    )
    with pytest.raises(SourceError, match="lgs_t_etl_no_such_db") as caught:
        run_etl(missing_db, duckdb_url, progress=False)
    assert "s3cr3t" not in str(caught.value)
    assert not Path(duckdb_url.removeprefix("duckdb:///")).exists()  # warehouse untouched


def test_source_key_hides_credentials() -> None:
    key = source_key("postgresql+psycopg2://etl:pw@db.lgs.example:6432/shop?sslmode=require")
    assert key == "postgresql://db.lgs.example:6432/shop"


# --- one source is one source ---------------------------------------------------------------


def _good_source(url: str) -> None:
    _source_execute(url, OLTP_TABLE.format(name="retail"))
    _source_execute(
        url,
        "insert into retail values ('536365', '85123A', 'HEART', 6, '2010-12-01 08:26', "
        "2.55, 17850, 'United Kingdom'), ('536366', '22633', 'HAND WARMER', 6, "
        "'2010-12-01 08:28', 1.85, 17850, 'United Kingdom')",
    )


def test_run_etl_same_database_under_another_url_is_one_source(
    source_url: str, pg_server: str, duckdb_url: str
) -> None:
    """Issue 11: 127.0.0.1 then localhost doubled the warehouse (1,083,818 rows)."""
    _good_source(source_url)
    first = run_etl(source_url, duckdb_url, progress=False)
    assert first.count_inserted == 2
    spelled = source_url.replace("127.0.0.1", "localhost", 1)
    assert spelled != source_url
    run_etl(spelled, duckdb_url, progress=False)
    assert _snapshot(duckdb_url)["lines"] == 2  # replaced, not added

    other = create_pg_database(pg_server, prefix="lgs_t_etl_other")
    try:
        _good_source(other)
        with pytest.raises(ConfigError, match="synced from .*NEW_SOURCE=1"):
            run_etl(other, duckdb_url, progress=False)
        assert _snapshot(duckdb_url)["lines"] == 2
        run_etl(other, duckdb_url, progress=False, new_source=True)
        assert _snapshot(duckdb_url)["lines"] == 4  # a second shop, as the operator said
    finally:
        drop_pg_database(other)


def test_run_etl_renames_a_source_recorded_by_its_url(source_url: str, duckdb_url: str) -> None:
    """A warehouse synced by an earlier version keys the source by its URL text."""
    _good_source(source_url)
    run_etl(source_url, duckdb_url, progress=False)
    engine = _engine(duckdb_url)
    with engine.begin() as conn:
        for table in ("etl_watermarks", "etl_runs", "load_batches", "quarantine"):
            conn.execute(
                text(f"update {table} set source_name = :old"), {"old": source_key(source_url)}
            )
    engine.dispose()
    run_etl(source_url, duckdb_url, progress=False)
    assert _snapshot(duckdb_url)["lines"] == 2
    names = etl_status(duckdb_url)["source_name"].unique().tolist()
    assert len(names) == 1 and names[0].startswith("postgresql:")


# --- command line -----------------------------------------------------------------------------


def test_cli_etl_and_etl_status(source_url: str, duckdb_url: str, monkeypatch) -> None:
    _text_source(source_url)
    monkeypatch.setenv("LGS_DATABASE_URL", duckdb_url)
    monkeypatch.setenv("LGS_SOURCE_URL", source_url)
    runner = CliRunner()
    empty = runner.invoke(cli, ["etl-status"])
    assert empty.exit_code == 0 and "no ETL run recorded yet" in empty.output
    synced = runner.invoke(cli, ["etl", "--overlap-days", "1"])
    assert synced.exit_code == 0, synced.output
    assert "succeeded" in synced.output and "quarantined  4" in synced.output
    status = runner.invoke(cli, ["etl-status", "--limit", "5"])
    assert status.exit_code == 0
    assert "succeeded" in status.output and "s3cr3t" not in status.output
    refused = runner.invoke(cli, ["etl", "--overlap-days", "-1"])
    assert refused.exit_code == 2


def test_run_etl_replaces_demo_data(
    source_url: str, duckdb_url: str, real_csv: Path, real_lines: pd.DataFrame
) -> None:
    from lgs_analysis.ingest.demo import is_demo, load_demo

    engine = get_engine(duckdb_url)
    load_demo(engine, n_rows=2_000, seed=1)
    engine.dispose()
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2010-12-03")
    run_etl(source_url, duckdb_url, progress=False)
    engine = get_engine(duckdb_url)
    with engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text("select source_kind from load_batches"))]
        assert not is_demo(conn)
    engine.dispose()
    assert kinds == ["etl"]
    assert _snapshot(duckdb_url)["lines"] == (real_lines["InvoiceDate"] < "2010-12-03").sum()


# --- a Spark warehouse ---------------------------------------------------------------------


def _spark_snapshot(url: str) -> dict[str, object]:
    from lgs_analysis.warehouse import get_engine, run_query

    engine = get_engine(url)
    with engine.connect() as conn:
        summary = run_query(conn, "warehouse/fingerprint").iloc[0]
        status = etl_status(url)
        marker = run_query(conn, "ingest/batch_ids", kind="etl", source_name=None, fingerprint=None)
    return {
        "lines": int(summary["count_lines"]),
        "amount": float(summary["sum_amount"]),
        "runs": status["status"].tolist(),
        "batches": len(marker),
    }


def test_run_etl_into_spark_replaces_the_window(
    source_url: str, spark_url: str, real_csv: Path, real_lines: pd.DataFrame
) -> None:
    """The same increments, late line and deletion on a Spark warehouse (Parquet batches)."""
    _seed_source(source_url, real_csv)
    _append(source_url, "2010-01-01", "2011-07-01")
    first = run_etl(source_url, spark_url, progress=False)
    so_far = real_lines[real_lines["InvoiceDate"] < "2011-07-01"]
    assert first.count_inserted == len(so_far)
    assert _spark_snapshot(spark_url)["lines"] == len(so_far)

    late = "insert into retail values (:inv, 'LATE1', 'LATE LINE', 2, :at, 1.5, 12345, 'UK')"
    _source_execute(source_url, late, inv="L900001", at="2011-06-29 10:00:00")  # in overlap
    _source_execute(source_url, late, inv="L900002", at="2011-06-01 10:00:00")  # before it
    in_window = real_lines[
        (real_lines["InvoiceDate"] >= first.watermark_after - pd.Timedelta(days=3))
        & (real_lines["InvoiceDate"] < "2011-07-01")
    ]
    cancelled = in_window["InvoiceNo"].iloc[0]
    _source_execute(source_url, "delete from retail where invoice_no = :inv", inv=cancelled)
    _append(source_url, "2011-07-01", "2012-01-01")
    second = run_etl(source_url, spark_url, progress=False)
    expected = real_lines[real_lines["InvoiceNo"] != cancelled]
    snap = _spark_snapshot(spark_url)
    assert snap["lines"] == len(expected) + 1  # L900001 only: L900002 is before the window
    assert snap["amount"] == pytest.approx(expected["amount"].sum() + 3.0, abs=0.01)
    assert second.count_replaced == len(in_window) + 0  # the window's old lines, rewritten
    assert second.watermark_after == real_lines["InvoiceDate"].max().to_pydatetime()

    third = run_etl(source_url, spark_url, progress=False)  # nothing new: the same warehouse
    again = _spark_snapshot(spark_url)
    assert (again["lines"], again["amount"]) == (snap["lines"], snap["amount"])
    assert third.count_read == third.count_inserted == third.count_replaced
    assert again["runs"] == ["succeeded"] * 3
    assert again["batches"] <= 3  # batches emptied by later runs are forgotten
