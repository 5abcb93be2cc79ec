"""Benchmark: the ETL from an OLTP PostgreSQL database (target: >= 200,000 rows/s into PostgreSQL).

Figures: a full initial sync of the real data (541,909 lines) into PostgreSQL and
DuckDB; a full initial sync of a 10-million-line source (the real lines repeated
with dates shifted by whole years of 371 days); then an incremental run that picks
up one new day. Each run is a fresh subprocess, so its peak memory (maxrss) is
its own: it stays flat whatever the source size.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ..conftest import PG_SERVER_URL, REAL_CSV, create_pg_database, drop_pg_database

PROJECT = Path(__file__).resolve().parents[2]
BIG_ROWS = 10_000_000
_OLTP_TABLE = """
create table {name} (
    invoice_no varchar(10), stock_code varchar(20), description varchar(64),
    quantity integer, invoice_date timestamp, unit_price numeric(8, 3),
    customer_id integer, country varchar(32)
)
"""
_RUN = """
import json, os
from lgs_analysis.ingest.etl import run_etl
r = run_etl(os.environ["BENCH_SOURCE"], os.environ["BENCH_TARGET"], progress=False)
# VmHWM is this process's own peak: ru_maxrss from wait4 keeps the parent's pre-exec
# high-water mark on Linux, which misreports when the benchmark parent is large.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"read": r.count_read, "inserted": r.count_inserted,
                  "replaced": r.count_replaced, "seconds": r.seconds, "peak_kb": hwm}))
"""


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _seed_real(url: str) -> None:
    _execute(url, _OLTP_TABLE.format(name="retail"))
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        with gzip.open(REAL_CSV, "rb") as fh:
            cursor.copy_expert("copy retail from stdin with (format csv, header true)", fh)
    engine.dispose()


def _seed_big(url: str, rows: int) -> None:
    """``rows`` lines: the real ones repeated, each copy shifted by 371 more days."""
    _seed_real(url)
    _execute(
        url,
        "alter table retail rename to retail_real",
        _OLTP_TABLE.format(name="retail"),
        "insert into retail"
        " select r.invoice_no, r.stock_code, r.description, r.quantity,"
        " r.invoice_date + make_interval(days => 371 * k), r.unit_price, r.customer_id, r.country"
        f" from generate_series(0, {rows // 541_909}) as k cross join retail_real as r"
        f" limit {rows}",
        "drop table retail_real",
        "analyze retail",
    )


def _add_next_day(url: str) -> None:
    """A new day at the source: the real lines of 2011-12-08 again, the day after the last."""
    _execute(
        url,
        "insert into retail select invoice_no, stock_code, description, quantity,"
        " invoice_date + ((select date_trunc('day', max(invoice_date)) from retail)"
        " + interval '1 day' - timestamp '2011-12-08'), unit_price, customer_id, country"
        " from retail where invoice_date >= '2011-12-08' and invoice_date < '2011-12-09'",
    )


def _timed_run(source: str, target: str, label: str) -> str:
    env = dict(os.environ, BENCH_SOURCE=source, BENCH_TARGET=target)
    env["LGS_LOCK_DIR"] = tempfile.gettempdir()
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        return f"{label}: FAILED (exit {process.returncode})"
    r = json.loads(output.strip().splitlines()[-1])
    rate = r["read"] / r["seconds"] if r["seconds"] else 0.0
    peak_mb = r.get("peak_kb", usage.ru_maxrss) / 1024  # KiB on Linux
    return (
        f"{label}: {r['seconds']:.2f} s, {r['read']:,} read, {r['inserted']:,} inserted, "
        f"{r['replaced']:,} replaced, {rate:,.0f} rows/s, peak memory {peak_mb:,.0f} MB"
    )


def run() -> list[str]:
    """Initial syncs (real data, 10M lines) and an incremental run, with rows/s and memory."""
    if not REAL_CSV.exists():
        return [f"skipped: real data not found at {REAL_CSV}"]
    lines: list[str] = []
    try:
        source = create_pg_database(PG_SERVER_URL, prefix="lgs_b_etl_src")
    except Exception as exc:  # noqa: BLE001 - report and go on with the other benchmarks
        return [f"skipped: PostgreSQL not reachable ({exc.__class__.__name__})"]
    made = [source]
    try:
        _seed_real(source)
        warehouse = create_pg_database(PG_SERVER_URL, prefix="lgs_b_etl_wh")
        made.append(warehouse)
        lines.append(_timed_run(source, warehouse, "real data (541,909) -> postgresql, initial"))
        with tempfile.TemporaryDirectory() as tmp:
            duck = f"duckdb:///{Path(tmp) / 'warehouse.duckdb'}"
            lines.append(_timed_run(source, duck, "real data (541,909) -> duckdb, initial"))
        _add_next_day(source)
        lines.append(_timed_run(source, warehouse, "real data + 1 new day -> postgresql"))

        big = create_pg_database(PG_SERVER_URL, prefix="lgs_b_etl_big")
        made.append(big)
        _seed_big(big, BIG_ROWS)
        big_wh = create_pg_database(PG_SERVER_URL, prefix="lgs_b_etl_bigwh")
        made.append(big_wh)
        lines.append(_timed_run(big, big_wh, f"{BIG_ROWS:,} lines -> postgresql, initial"))
        _add_next_day(big)
        lines.append(_timed_run(big, big_wh, f"{BIG_ROWS:,} lines + 1 new day -> postgresql"))
        with tempfile.TemporaryDirectory() as tmp:
            duck = f"duckdb:///{Path(tmp) / 'warehouse.duckdb'}"
            lines.append(_timed_run(big, duck, f"{BIG_ROWS:,} lines -> duckdb, initial"))
    finally:
        for url in reversed(made):
            drop_pg_database(url)
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
