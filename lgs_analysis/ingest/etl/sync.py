"""Incremental sync from the shop's OLTP PostgreSQL database into the warehouse (``lgs etl``).

The source is ``LGS_SOURCE_URL``, a PostgreSQL database with the table ``retail``
(``invoice_no, stock_code, description, quantity, invoice_date, unit_price,
customer_id, country``). The warehouse is ``LGS_DATABASE_URL`` (PostgreSQL or
DuckDB). A run:

1. takes the warehouse's ETL lock (:mod:`lgs_analysis.etl_lock`); a second run
   raises :class:`LockedError` (exit code 75);
2. connects to the source read-only and checks its columns: an unreachable
   source (:class:`SourceError`) or a wrong schema (:class:`DataValidationError`)
   fails before the warehouse is touched at all;
3. reads the source's watermark (the latest ``invoice_date`` already synced)
   and sets the window start ``low = watermark - overlap_days`` (the whole
   source on the first run);
4. in **one** warehouse transaction: deletes this source's warehouse lines dated
   ``>= low`` and their quarantined rows, streams the source lines dated
   ``>= low`` in again (``COPY (select ...) TO STDOUT`` as CSV, ~8 MB blocks
   through bounded queues, each validated by
   :func:`lgs_analysis.validate.validate_rows` and bulk-inserted by
   :func:`lgs_analysis.warehouse.bulk_insert` on a second thread), registers
   the run's rows as a ``load_batches`` row (``source_kind='etl'``, its
   ``batch_id`` is the run id), moves the watermark and writes the run's
   ``etl_runs`` row with status ``succeeded``; then commits. On DuckDB, whose
   transactions keep many appends in memory, the blocks first go to temporary
   tables (committed per block, capped by DuckDB's ``memory_limit``, gone with
   the connection) and move into ``retail`` inside that one transaction.

Demo data (batches of kind ``demo``, see :mod:`lgs_analysis.demo`) is removed in
the same transaction: reports never mix demo and real lines.

So late lines and cancellations inside the overlap window are picked up, lines
deleted at the source inside the window disappear, exact duplicate lines stay
(nothing is keyed on the columns), and two runs in a row leave the warehouse as
one did. Memory is bounded by a few blocks, whatever the source size. Lines
dated before the window are never read again: a correction older than
``overlap_days`` needs a larger ``--overlap-days`` for one run.

Crash safety: everything a run changes commits at once, so a run killed at any
point (``kill -9`` included) leaves the warehouse exactly as it was, with no
``etl_runs`` row either; the next run starts from the same watermark and does
the work. A run that fails with an error after it began reading rolls back and
then records a ``failed`` row (with the error) in a short transaction of its
own. Failures before reading (lock, unreachable source, wrong schema) write
nothing; they are reported on stderr with their exit code.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..config import get_settings, redact_url
from ..exceptions import (
    ConfigError,
    DataValidationError,
    LgsError,
    ParameterError,
    SourceError,
    WarehouseError,
)
from ..log import logger
from ..warehouse import (
    RETAIL_COLUMNS,
    bulk_insert,
    describe_target,
    ensure_schema,
    execute_sql_file,
    get_engine,
    load_sql,
    run_query,
)
from .batches import quarantine_table
from .lock import hold_advisory_lock, hold_etl_lock
from .validate import _parse_dates, validate_rows

__all__ = [
    "STATUS_COLUMNS",
    "EtlResult",
    "run_etl",
    "etl_status",
    "format_etl_status",
    "source_key",
    "ensure_etl_schema",
]

STATUS_COLUMNS = [
    "run_id",
    "source_name",
    "status",
    "started_at",
    "finished_at",
    "window_start",
    "watermark_before",
    "watermark_after",
    "count_read",
    "count_inserted",
    "count_replaced",
    "count_quarantined",
    "source_fingerprint",
    "message",
]
_BLOCK_BYTES = 8 << 20  # ~90,000 retail lines of CSV per block
_QUEUE_BLOCKS = 2  # blocks waiting between the source reader and the warehouse writer
_EVERYTHING = datetime(1, 1, 1)  # window start of a first run
_DUCKDB_MEMORY = "512MB"  # DuckDB's memory_limit during a run; staged rows beyond it spill
_DELAY_ENV = "LGS_ETL_TEST_DELAY_SECONDS"  # tests: pause after each block (to kill mid-copy)
_TYPED_DATES = ("timestamp", "date")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_END = object()


@dataclass(frozen=True)
class EtlResult:
    """What one ETL run did (also recorded in the warehouse table ``etl_runs``)."""

    run_id: int
    source_name: str
    target: str
    started_at: datetime
    finished_at: datetime
    overlap_days: int
    window_start: datetime | None
    watermark_before: datetime | None
    watermark_after: datetime | None
    count_read: int
    count_inserted: int
    count_replaced: int
    count_quarantined: int
    source_fingerprint: str
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall time of the run."""
        return (self.finished_at - self.started_at).total_seconds()

    def summary(self) -> str:
        """A short data-quality summary for the terminal (several lines)."""
        if self.window_start is None:
            window = "the whole source (first run)"
        else:
            window = (
                f"invoice_date >= {_show(self.window_start)} (watermark "
                f"{_show(self.watermark_before)} minus {self.overlap_days} days)"
            )
        rate = self.count_read / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"etl run {self.run_id} succeeded: {self.source_name} -> {self.target} "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s)",
            f"  window       {window}",
            f"  read         {self.count_read:,} source lines",
            f"  inserted     {self.count_inserted:,}",
            f"  replaced     {self.count_replaced:,} lines of earlier runs in the window",
            f"  quarantined  {self.count_quarantined:,}",
        ]
        for reason, count in sorted(self.quarantine_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {count:>10,}  {reason}")
        lines.append(
            f"  watermark    {_show(self.watermark_before)} -> {_show(self.watermark_after)}"
        )
        lines.append(f"  fingerprint  {self.source_fingerprint}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def source_key(source_url: str) -> str:
    """Name a source by host, port and database (never user or password).

    This is the ``source_name`` of the source's watermark, runs and load batches.
    """
    url = make_url(source_url)
    return f"postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def ensure_etl_schema(engine: Engine) -> None:
    """Create the warehouse schema and the ETL tables ``etl_runs``, ``etl_watermarks``."""
    ensure_schema(engine)
    with engine.begin() as conn:
        execute_sql_file(conn, "schema/etl_tables")


# --- source ------------------------------------------------------------------------------


def _pg_sql(name: str) -> str:
    """A SQL file with ``:name`` binds turned into psycopg2's ``%(name)s``."""
    return _BIND.sub(r"%(\1)s", load_sql(name, "postgresql"))


class _Source:
    """A checked, read-only connection to the OLTP database."""

    def __init__(self, source_url: str) -> None:
        url = make_url(source_url)
        self.url = source_url
        self.key = source_key(source_url)
        self.described = describe_target(source_url)
        if url.get_backend_name() != "postgresql":
            raise ConfigError(
                f"LGS_SOURCE_URL must be a PostgreSQL URL, got {redact_url(source_url)}"
            )
        args: dict[str, Any] = {"connect_timeout": 10, "application_name": "lgs-etl"}
        args.update({k: v for k, v in url.query.items() if isinstance(v, str)})
        args.update(
            host=url.host,
            port=url.port,
            dbname=url.database,
            user=url.username,
            password=url.password,
        )
        try:
            self.conn = psycopg2.connect(**{k: v for k, v in args.items() if v is not None})
            self.conn.set_session(readonly=True, autocommit=True)
        except psycopg2.Error as exc:
            raise SourceError(
                f"cannot reach the ETL source, {self.described}: {self._reason(exc)} "
                f"(LGS_SOURCE_URL={redact_url(source_url)}); the warehouse was not touched"
            ) from exc
        try:
            self.dates_are_text = self._check_columns()
        except BaseException:
            self.close()
            raise

    def _reason(self, exc: BaseException) -> str:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        password = make_url(self.url).password
        return reason.replace(password, "***") if password else reason

    def _check_columns(self) -> bool:
        """Check table ``retail`` has the OLTP columns; return whether invoice_date is text."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(_pg_sql("ingest/etl/source_columns"))
                types = {name: data_type for name, data_type, _ in cur.fetchall()}
        except psycopg2.Error as exc:
            raise SourceError(
                f"cannot read the catalog of the ETL source, {self.described}: {self._reason(exc)}"
            ) from exc
        expected = ", ".join(RETAIL_COLUMNS)
        if not types:
            raise DataValidationError(
                f"ETL source {self.described} has no table retail (in its search_path); "
                f"expected a table retail with columns {expected}"
            )
        missing = [c for c in RETAIL_COLUMNS if c not in types]
        if missing:
            raise DataValidationError(
                f"ETL source table retail in {self.described} is missing column(s) "
                f"{', '.join(missing)}; found {', '.join(types)}; expected {expected}"
            )
        return not types["invoice_date"].startswith(_TYPED_DATES)

    def copy_sql(self, low: datetime) -> str:
        """The ``COPY (window query) TO STDOUT`` statement for the window ``>= low``."""
        name = (
            "ingest/etl/source_window_text" if self.dates_are_text else "ingest/etl/source_window"
        )
        with self.conn.cursor() as cur:
            query = cur.mogrify(_pg_sql(name), {"low": low.isoformat(sep=" ")}).decode()
        return f"copy ({query}) to stdout with (format csv)"

    def blocks(self, low: datetime) -> Generator[bytes, None, None]:
        """Stream the window as CSV blocks of whole lines, reading in a background thread."""
        blocks: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_BLOCKS)
        stop = threading.Event()
        sink = _BlockSink(blocks, stop)
        sql = self.copy_sql(low)

        def copy_out() -> None:
            try:
                with self.conn.cursor() as cur:
                    cur.copy_expert(sql, sink, size=1 << 20)
                sink.flush()
                sink.put(_END)
            except _Stopped:
                pass
            except BaseException as exc:  # handed to the consumer, which raises it
                try:
                    sink.put(exc)
                except _Stopped:
                    pass

        reader = threading.Thread(target=copy_out, name="lgs-etl-source", daemon=True)
        reader.start()
        try:
            while True:
                item = blocks.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise SourceError(
                        f"reading the ETL source {self.described} failed: {self._reason(item)}"
                    ) from item
                yield item
        finally:
            stop.set()
            if reader.is_alive():
                try:
                    self.conn.cancel()
                except psycopg2.Error:
                    pass
                while reader.is_alive():
                    try:
                        blocks.get(timeout=0.1)
                    except queue.Empty:
                        pass
                reader.join()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self.conn.closed:
            self.conn.close()


class _Stopped(Exception):
    """The consumer stopped reading; the reader thread ends."""


class _BlockSink:
    """File-like target of ``copy_expert``: gathers rows into blocks on a bounded queue.

    ``COPY ... TO STDOUT`` sends one message per row and psycopg2 writes each
    message with one ``write`` call, so a block always ends at a row boundary,
    even when a value holds a newline.
    """

    def __init__(self, blocks: queue.Queue[Any], stop: threading.Event) -> None:
        self.blocks = blocks
        self.stop = stop
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode()
        self.parts.append(data)
        self.size += len(data)
        if self.size >= _BLOCK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.parts:
            block = b"".join(self.parts)
            self.parts, self.size = [], 0
            self.put(block)

    def put(self, item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                self.blocks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def _parse_block(block: bytes) -> pd.DataFrame:
    """The CSV of a block as text columns; NULL is None, an empty string stays ''."""
    table = pacsv.read_csv(
        pa.BufferReader(block),
        read_options=pacsv.ReadOptions(column_names=RETAIL_COLUMNS, block_size=1 << 22),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in RETAIL_COLUMNS},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas()


# --- warehouse ---------------------------------------------------------------------------


def _replace_quarantine(conn: Connection, source_name: str, low: datetime) -> int:
    """Delete this source's quarantined rows whose line is in the window (or undated)."""
    rows = run_query(conn, "ingest/etl/window_quarantine", source_name=source_name)
    if rows.empty:
        return 0
    dates = _parse_dates(
        pd.Series([json.loads(r).get("invoice_date") for r in rows["raw_row"]], dtype="object")
    )
    rows = rows[(dates.isna() | (dates >= low)).to_numpy()]
    statement = text(load_sql("ingest/etl/delete_quarantine_lines", conn.dialect.name))
    statement = statement.bindparams(bindparam("line_nos", expanding=True))
    for batch_id, lines in rows.groupby("batch_id")["line_no"]:
        values = [int(v) for v in lines]
        for start in range(0, len(values), 1000):
            chunk = values[start : start + 1000]
            conn.execute(statement, {"batch_id": int(batch_id), "line_nos": chunk})
    return len(rows)


class _Inserter:
    """Bulk-inserts Arrow tables on a background thread, inside the caller's transaction.

    The warehouse ingests one block while the next is parsed and validated. The
    caller hands the connection over for the ``with`` block and must not use it
    there; leaving the block waits for the queued inserts and raises the first
    error any of them met.
    """

    def __init__(self, conn: Connection, commit_each: bool = False) -> None:
        self.conn = conn
        self.commit_each = commit_each
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_BLOCKS)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="lgs-etl-insert", daemon=True)

    def __enter__(self) -> _Inserter:
        self.thread.start()
        return self

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if self.error is None:  # after an error, drain without inserting
                try:
                    if self.commit_each:
                        with self.conn.begin():
                            bulk_insert(self.conn, *item)
                    else:
                        bulk_insert(self.conn, *item)
                except BaseException as exc:  # raised in the caller's thread
                    self.error = exc

    def put(self, table: str, data: pa.Table) -> None:
        """Queue ``data`` for ``table`` (blocks while the queue is full)."""
        if self.error is not None:
            raise self.error
        self.queue.put((table, data))

    def __exit__(self, *exc_info: object) -> None:
        self.queue.put(_END)
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error


@dataclass
class _Tally:
    """Counts and the order-independent source fingerprint of what a run read."""

    count_read: int = 0
    count_inserted: int = 0
    count_quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_at: Any = None
    last_at: Any = None
    sum_quantity: int = 0
    sum_amount_milli: int = 0

    def add(self, good: pa.Table, rejected: pd.DataFrame) -> None:
        self.count_read += good.num_rows + len(rejected)
        self.count_quarantined += len(rejected)
        self.reasons.update(rejected["reason"].astype(str).tolist())
        if good.num_rows == 0:
            return
        dates = pc.min_max(good["invoice_date"]).as_py()
        lo, hi = dates["min"], dates["max"]
        self.first_at = lo if self.first_at is None else min(self.first_at, lo)
        self.last_at = hi if self.last_at is None else max(self.last_at, hi)
        quantity = good["quantity"]
        self.sum_quantity += int(pc.sum(quantity).as_py() or 0)
        milli = pc.cast(pc.round(pc.multiply(good["unit_price"], 1000.0)), pa.int64())
        self.sum_amount_milli += int(pc.sum(pc.multiply(milli, quantity)).as_py() or 0)

    def fingerprint(self) -> str:
        summary = (
            f"{self.count_read}|{self.count_quarantined}|{self.first_at}|{self.last_at}|"
            f"{self.sum_quantity}|{self.sum_amount_milli}"
        )
        return hashlib.sha256(summary.encode()).hexdigest()[:16]


def _scalar(frame: pd.DataFrame) -> Any:
    if frame.empty:
        return None
    value = frame.iloc[0, 0]
    return None if pd.isna(value) else value


def _as_datetime(value: Any) -> datetime | None:
    return None if value is None else pd.Timestamp(value).to_pydatetime()


def _stream(
    conn: Connection,
    source: _Source,
    run_id: int,
    low: datetime | None,
    tables: tuple[str, str],
    commit_each: bool,
    tally: _Tally,
    log: Any,
) -> None:
    """Copy the window from the source into ``tables`` (retail-like, quarantine-like)."""
    delay = float(os.environ.get(_DELAY_ENV) or 0)
    bound = low if low is not None else _EVERYTHING
    with _Inserter(conn, commit_each) as inserter, closing(source.blocks(bound)) as blocks:
        for block in blocks:
            frame = _parse_block(block)
            if source.dates_are_text and low is not None:  # the read was a superset
                dates = _parse_dates(frame["invoice_date"])
                frame = frame[(dates.isna() | (dates >= low)).to_numpy()]
            lines = np.arange(tally.count_read + 1, tally.count_read + 1 + len(frame))
            good, rejected = validate_rows(frame, lines)
            tally.add(good, rejected)
            if good.num_rows:
                ids = pa.array(np.full(good.num_rows, run_id, dtype=np.int32))
                inserter.put(tables[0], good.append_column("batch_id", ids))
                tally.count_inserted += good.num_rows
            if len(rejected):
                inserter.put(tables[1], quarantine_table(run_id, source.key, rejected))
            log(
                "etl run %s: %s rows copied, %s quarantined",
                run_id,
                f"{tally.count_read:,}",
                f"{tally.count_quarantined:,}",
            )
            if delay:
                time.sleep(delay)


def _sync(
    engine: Engine, source: _Source, target: str, overlap_days: int, progress: bool
) -> EtlResult:
    log = logger.info if progress else logger.debug
    started_at = datetime.now()
    with engine.begin() as conn:
        run_id = int(_scalar(run_query(conn, "ingest/etl/next_run_id")))
    state: dict[str, Any] = {"watermark_before": None, "window_start": None}
    tally = _Tally()
    try:
        with engine.connect() as conn:
            with conn.begin():
                before = _as_datetime(
                    _scalar(run_query(conn, "ingest/etl/watermark", source_name=source.key))
                )
            low = before - timedelta(days=overlap_days) if before is not None else None
            state.update(watermark_before=before, window_start=low)
            bound = low if low is not None else _EVERYTHING
            log(
                "etl run %s: %s -> %s, reading %s",
                run_id,
                source.key,
                target,
                f"invoice_date >= {_show(low)}" if low else "the whole source (first run)",
            )
            # DuckDB keeps a transaction's many appends in memory, so on DuckDB the window
            # goes first to temporary tables (per-block commits, memory-capped, gone with
            # the connection), then moves into retail inside the one transaction below.
            staged = conn.dialect.name == "duckdb"
            if staged:
                with conn.begin():
                    execute_sql_file(conn, "ingest/etl/stage_create", memory_limit=_DUCKDB_MEMORY)
                stage = ("etl_stage_retail", "etl_stage_quarantine")
                _stream(conn, source, run_id, low, stage, True, tally, log)
            with conn.begin():
                replaced = conn.execute(
                    text(load_sql("ingest/etl/replace_window", conn.dialect.name)),
                    {"source_name": source.key, "low": bound},
                )
                count_replaced = max(int(replaced.rowcount), 0)
                _replace_quarantine(conn, source.key, bound)
                if int(_scalar(run_query(conn, "ingest/etl/demo_batches")) or 0):
                    logger.warning("etl run %s: removing the demo data, real data arrives", run_id)
                    execute_sql_file(conn, "ingest/etl/drop_demo")
                if staged:
                    execute_sql_file(conn, "ingest/etl/stage_publish")
                else:
                    _stream(conn, source, run_id, low, ("retail", "quarantine"), False, tally, log)
                result = _finish_run(
                    conn,
                    tally,
                    run_id,
                    source.key,
                    target,
                    started_at,
                    overlap_days,
                    before,
                    low,
                    count_replaced,
                )
    except Exception as exc:
        _record_failure(engine, run_id, source.key, started_at, overlap_days, state, tally, exc)
        if isinstance(exc, LgsError):
            raise
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [repr(exc)])[0]
        raise WarehouseError(
            f"ETL run {run_id} into {target} failed and changed nothing: {reason}"
        ) from exc
    return result


def _finish_run(
    conn: Connection,
    tally: _Tally,
    run_id: int,
    source_name: str,
    target: str,
    started_at: datetime,
    overlap_days: int,
    before: datetime | None,
    low: datetime | None,
    count_replaced: int,
) -> EtlResult:
    """Register the batch, move the watermark, record the run (inside the run's transaction)."""
    after = before if tally.last_at is None else max(filter(None, [before, tally.last_at]))
    finished_at = datetime.now()
    fingerprint = tally.fingerprint()
    execute_sql_file(
        conn,
        "ingest/etl/save_batch",
        batch_id=run_id,
        source_name=source_name,
        source_fingerprint=f"etl:{fingerprint}",
        count_read=tally.count_read,
        count_loaded=tally.count_inserted,
        count_quarantined=tally.count_quarantined,
        loaded_at=finished_at,
    )
    if after is not None:
        execute_sql_file(
            conn,
            "ingest/etl/save_watermark",
            source_name=source_name,
            watermark_at=after,
            run_id=run_id,
            updated_at=finished_at,
        )
    result = EtlResult(
        run_id=run_id,
        source_name=source_name,
        target=target,
        started_at=started_at,
        finished_at=finished_at,
        overlap_days=overlap_days,
        window_start=low,
        watermark_before=before,
        watermark_after=after,
        count_read=tally.count_read,
        count_inserted=tally.count_inserted,
        count_replaced=count_replaced,
        count_quarantined=tally.count_quarantined,
        source_fingerprint=fingerprint,
        quarantine_reasons=dict(tally.reasons),
    )
    _save_run(conn, result, "succeeded", None)
    execute_sql_file(conn, "ingest/etl/prune_batches", source_name=source_name)
    return result


def _save_run(conn: Connection, result: EtlResult, status: str, message: str | None) -> None:
    execute_sql_file(
        conn,
        "ingest/etl/save_run",
        run_id=result.run_id,
        source_name=result.source_name,
        status=status,
        started_at=result.started_at,
        finished_at=result.finished_at,
        overlap_days=result.overlap_days,
        window_start=result.window_start,
        watermark_before=result.watermark_before,
        watermark_after=result.watermark_after,
        count_read=result.count_read,
        count_inserted=result.count_inserted,
        count_replaced=result.count_replaced,
        count_quarantined=result.count_quarantined,
        source_fingerprint=result.source_fingerprint or None,
        message=message,
    )


def _record_failure(
    engine: Engine,
    run_id: int,
    source_name: str,
    started_at: datetime,
    overlap_days: int,
    state: dict[str, Any],
    tally: _Tally,
    exc: BaseException,
) -> None:
    """After the rollback, record the failed run in its own short transaction (best effort)."""
    failed = EtlResult(
        run_id=run_id,
        source_name=source_name,
        target="",
        started_at=started_at,
        finished_at=datetime.now(),
        overlap_days=overlap_days,
        window_start=state["window_start"],
        watermark_before=state["watermark_before"],
        watermark_after=state["watermark_before"],
        count_read=tally.count_read,
        count_inserted=0,
        count_replaced=0,
        count_quarantined=0,
        source_fingerprint="",
    )
    message = f"{type(exc).__name__}: {str(exc).strip()}"[:2000]
    try:
        with engine.begin() as conn:
            _save_run(conn, failed, "failed", message)
    except SQLAlchemyError as record_exc:
        logger.warning("could not record the failed ETL run %s: %s", run_id, record_exc)


# --- public API --------------------------------------------------------------------------


def run_etl(
    source_url: str | None = None,
    database_url: str | None = None,
    overlap_days: int = 3,
    progress: bool = True,
) -> EtlResult:
    """Sync the source's new and changed lines into the warehouse, in one transaction.

    Parameters
    ----------
    source_url : str, optional
        The OLTP PostgreSQL database (default: ``LGS_SOURCE_URL``).
    database_url : str, optional
        The warehouse (default: ``LGS_DATABASE_URL``, else the DuckDB file).
    overlap_days : int (default: 3)
        Each run reads again the lines dated from the watermark minus this many
        days, and replaces them in the warehouse, to pick up late lines and
        cancellations.
    progress : bool (default: True)
        Log the rows copied after every block (at INFO; DEBUG when False).

    Returns
    -------
    EtlResult
        Run id, counts (read, inserted, replaced, quarantined and by reason),
        window, watermarks and source fingerprint; ``summary()`` prints them.

    Raises
    ------
    ConfigError
        If no source URL is set or it is not PostgreSQL.
    ParameterError
        If ``overlap_days`` is negative.
    LockedError
        If another ETL run holds the warehouse's lock (exit code 75).
    SourceError
        If the source cannot be reached or read (names host and database, never
        the password).
    DataValidationError
        If the source has no table ``retail`` or lacks columns (names them).
    WarehouseError
        If the warehouse cannot be reached or a statement fails; the run's
        transaction is rolled back and the run recorded as ``failed``.
    """
    if isinstance(overlap_days, bool) or not isinstance(overlap_days, int) or overlap_days < 0:
        raise ParameterError(f"overlap_days must be a whole number >= 0, got {overlap_days!r}")
    if source_url is None or database_url is None:
        settings = get_settings()
        source_url = source_url or settings.source_url
        database_url = database_url or settings.database_url
    if not source_url:
        raise ConfigError(
            "LGS_SOURCE_URL is not set: point it at the shop's OLTP PostgreSQL database, "
            "e.g. postgresql+psycopg2://user:password@host:5432/shop (in the environment or .env)"
        )
    target = describe_target(database_url)
    with hold_etl_lock(database_url):
        source = _Source(source_url)  # unreachable or wrong schema: fails before the warehouse
        try:
            engine = get_engine(database_url)
            try:
                with hold_advisory_lock(engine):
                    try:
                        ensure_etl_schema(engine)
                    except DBAPIError as exc:
                        raise WarehouseError(
                            f"cannot create the ETL tables in {target}: "
                            f"{str(exc.orig).strip().splitlines()[0]}"
                        ) from exc
                    return _sync(engine, source, target, overlap_days, progress)
            finally:
                engine.dispose()
        finally:
            source.close()


def etl_status(database_url: str | None = None, limit: int = 10) -> pd.DataFrame:
    """The latest ETL runs recorded in the warehouse, newest first.

    Parameters
    ----------
    database_url : str, optional
        The warehouse (default: ``LGS_DATABASE_URL``).
    limit : int (default: 10)
        How many runs.

    Returns
    -------
    DataFrame
        Columns :data:`STATUS_COLUMNS`: ``run_id, source_name, status, started_at,
        finished_at, window_start, watermark_before, watermark_after, count_read,
        count_inserted, count_replaced, count_quarantined, source_fingerprint,
        message``; empty (same columns) when no run was recorded.
    """
    engine = get_engine(database_url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("etl_runs"):
                return pd.DataFrame(columns=STATUS_COLUMNS)
            frame = run_query(conn, "ingest/etl/runs_recent", limit=int(limit))
    finally:
        engine.dispose()
    return frame[STATUS_COLUMNS].reset_index(drop=True)


def format_etl_status(runs: pd.DataFrame) -> str:
    """Render :func:`etl_status` as a readable table (failed runs' errors below it)."""
    if runs.empty:
        return "no ETL run recorded yet (run `make etl`)"
    seconds = (
        pd.to_datetime(runs["finished_at"]) - pd.to_datetime(runs["started_at"])
    ).dt.total_seconds()
    table = pd.DataFrame(
        {
            "run": runs["run_id"].astype(int),
            "status": runs["status"],
            "started": runs["started_at"].map(_show),
            "secs": seconds.map(lambda s: f"{s:.1f}"),
            "window from": runs["window_start"].map(_show),
            "read": runs["count_read"].map(lambda n: f"{int(n):,}"),
            "inserted": runs["count_inserted"].map(lambda n: f"{int(n):,}"),
            "replaced": runs["count_replaced"].map(lambda n: f"{int(n):,}"),
            "quarantined": runs["count_quarantined"].map(lambda n: f"{int(n):,}"),
            "watermark after": runs["watermark_after"].map(_show),
            "source": runs["source_name"],
        }
    )
    lines = [table.to_string(index=False)]
    for _, run in runs[runs["status"] != "succeeded"].iterrows():
        lines.append(f"run {int(run['run_id'])} {run['status']}: {run['message']}")
    return "\n".join(lines)
