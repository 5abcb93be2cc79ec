"""Incremental sync from the shop's OLTP PostgreSQL database into the warehouse (``lgs etl``).

The source is ``LGS_SOURCE_URL``, a PostgreSQL database with the table ``retail``
(``invoice_no, stock_code, description, quantity, invoice_date, unit_price,
customer_id, country``). The warehouse is ``LGS_DATABASE_URL`` (PostgreSQL or
DuckDB). A run:

1. takes the warehouse's ETL lock (:mod:`lgs_analysis.ingest.lock`); a second run
   raises :class:`LockedError` (exit code 75);
2. connects to the source read-only and checks its columns: an unreachable
   source (:class:`SourceError`) or a wrong schema (:class:`DataValidationError`)
   fails before the warehouse is touched at all;
3. reads the source's watermark (the latest ``invoice_date`` already synced)
   and sets the window start ``low = watermark - overlap_days`` (the whole
   source on the first run); the self-check (:mod:`.selfcheck`) compares every
   day before ``low`` between the source and the warehouse (lines and amount, one
   aggregated query on each side) and moves ``low`` back to the earliest day that
   differs; lines dated far beyond the rest of the source are quarantined;
4. in **one** warehouse transaction: deletes this source's warehouse lines dated
   ``>= low`` and their quarantined rows, streams the source lines dated
   ``>= low`` in again (``COPY (select ...) TO STDOUT`` as CSV, ~8 MB blocks
   through bounded queues, each validated by
   :func:`lgs_analysis.ingest.validate.validate_rows` and bulk-inserted by
   :func:`lgs_analysis.warehouse.bulk_insert` on a second thread), registers
   the run's rows as a ``load_batches`` row (``source_kind='etl'``, its
   ``batch_id`` is the run id), moves the watermark and writes the run's
   ``etl_runs`` row with status ``succeeded``; then commits. On DuckDB, whose
   transactions keep many appends in memory, the blocks first go to temporary
   tables (committed per block, capped by DuckDB's ``memory_limit``, gone with
   the connection) and move into ``retail`` inside that one transaction.

Demo data (batches of kind ``demo``, see :mod:`lgs_analysis.ingest.demo`) is removed in
the same transaction: reports never mix demo and real lines.

So late lines and cancellations inside the overlap window are picked up, lines
deleted at the source inside the window disappear, exact duplicate lines stay
(nothing is keyed on the columns), and two runs in a row leave the warehouse as
one did. Memory is bounded by a few blocks, whatever the source size. A correction
older than ``overlap_days`` makes its day differ, so the self-check syncs from it
(a source whose invoice_date is text, and a Spark warehouse, are not self-checked).

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
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ...config import get_settings
from ...exceptions import (
    ConfigError,
    LgsError,
    ParameterError,
    WarehouseError,
)
from ...log import logger
from ...progress import Progress
from ...warehouse import (
    RETAIL_COLUMNS,
    SparkEngine,
    bulk_insert,
    describe_target,
    ensure_schema,
    execute_sql_file,
    get_engine,
    load_sql,
    refresh_derived,
    run_query,
)
from ..batches import drop_demo, quarantine_table
from ..lock import hold_advisory_lock, hold_etl_lock
from ..validate import MONTH_FIRST, QUARANTINE_COLUMNS, parse_dates, validate_rows
from .runs import EtlResult, record_failure, save_run, show_time
from .selfcheck import FAR_REASON, FAR_SHARE, GAP_DAYS, differing_days, far_beyond
from .source import OltpSource, parse_block

__all__ = ["run_etl", "ensure_etl_schema"]

_EVERYTHING = datetime(1, 1, 1)  # window start of a first run
_DUCKDB_MEMORY = "512MB"  # DuckDB's memory_limit during a run; staged rows beyond it spill
_DELAY_ENV = "LGS_ETL_TEST_DELAY_SECONDS"  # tests: pause after each block (to kill mid-copy)
_QUEUE_BLOCKS = 2  # Arrow tables waiting for the insert thread
_END = object()


def ensure_etl_schema(engine: Engine) -> None:
    """Create the warehouse schema and the ETL tables ``etl_runs``, ``etl_watermarks``."""
    ensure_schema(engine)
    with engine.begin() as conn:
        execute_sql_file(conn, "schema/etl_tables")


def _replace_quarantine(conn: Connection, source_name: str, low: datetime) -> int:
    """Delete this source's quarantined rows whose line is in the window (or undated)."""
    rows = run_query(conn, "ingest/etl/window_quarantine", source_name=source_name)
    if rows.empty:
        return 0
    dates = parse_dates(
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
    source: OltpSource,
    run_id: int,
    low: datetime | None,
    tables: tuple[str, str],
    commit_each: bool,
    tally: _Tally,
    shown: Progress,
    far: datetime | None = None,
) -> None:
    """Copy the window from the source into ``tables`` (retail-like, quarantine-like);
    lines dated from ``far`` on are quarantined (:func:`.selfcheck.far_beyond`), and
    slashed text dates are read in the source's one order (:meth:`OltpSource.date_order`)."""
    delay = float(os.environ.get(_DELAY_ENV) or 0)
    order = source.date_order()
    bound = low if low is not None else _EVERYTHING
    with _Inserter(conn, commit_each) as inserter, closing(source.blocks(bound)) as blocks:
        for block in blocks:
            frame = parse_block(block)
            if source.dates_are_text and low is not None:  # the read was a superset
                dates = parse_dates(frame["invoice_date"], order)
                frame = frame[(dates.isna() | (dates >= low)).to_numpy()]
            lines = np.arange(tally.count_read + 1, tally.count_read + 1 + len(frame))
            frame, lines, beyond = _split_far(frame, lines, far, order)
            good, rejected = validate_rows(frame, lines, date_order=order)
            if len(beyond):
                rejected = pd.concat([rejected, beyond], ignore_index=True)
            tally.add(good, rejected)
            if good.num_rows:
                ids = pa.array(np.full(good.num_rows, run_id, dtype=np.int32))
                inserter.put(tables[0], good.append_column("batch_id", ids))
                tally.count_inserted += good.num_rows
            if len(rejected):
                inserter.put(tables[1], quarantine_table(run_id, source.key, rejected))
            shown.update(len(frame))
            if delay:
                time.sleep(delay)


def _split_far(
    frame: pd.DataFrame, lines: np.ndarray, far: datetime | None, order: str = MONTH_FIRST
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """``frame`` and its ``lines`` without the rows dated from ``far`` on, and those rows
    as quarantined rows (the reason states the rule)."""
    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    if far is None or frame.empty:
        return frame, lines, empty
    beyond = (parse_dates(frame["invoice_date"], order) >= far).to_numpy()
    if not beyond.any():
        return frame, lines, empty
    reason = (
        f"{FAR_REASON}: on or after {far:%Y-%m-%d}, more than {GAP_DAYS} days after the "
        f"source's other lines, with under {FAR_SHARE:.0%} of its lines (a year typo?)"
    )
    rows = frame[beyond]
    rejected = pd.DataFrame(
        {
            "line_no": lines[beyond],
            "reason": reason,
            "raw_row": [
                json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in row.items()})
                for row in rows[RETAIL_COLUMNS].to_dict("records")
            ],
        },
        columns=QUARANTINE_COLUMNS,
    )
    return frame[~beyond], lines[~beyond], rejected


def _check_window(
    conn: Connection, source: OltpSource, low: datetime | None, log: Any
) -> tuple[datetime | None, datetime | None]:
    """The self-check: the window start, moved back to the earliest day before it that
    differs between the source and the warehouse, and the moment from which lines are
    dated far beyond the rest (:mod:`.selfcheck`)."""
    days = source.day_totals()
    far = far_beyond(days)
    if far is not None:
        logger.warning(
            "etl: lines dated on or after %s lie more than %s days after the rest of the "
            "source and hold under %s of its lines: they are quarantined as a date typo",
            f"{far:%Y-%m-%d}",
            GAP_DAYS,
            f"{FAR_SHARE:.0%}",
        )
    if low is None:
        return low, far
    with conn.begin():
        differ = differing_days(conn, source.key, days, low, far)
    if not differ:
        log("etl self-check: every day before %s matches the source", show_time(low))
        return low, far
    start = datetime.combine(differ[0], datetime.min.time())
    logger.warning(
        "etl self-check: %s day(s) before the window differ from the source in lines or "
        "amount (first %s): syncing again from %s",
        len(differ),
        differ[0].isoformat(),
        show_time(start),
    )
    return start, far


def _sync(
    engine: Engine, source: OltpSource, target: str, overlap_days: int, progress: bool
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
            low, far = _check_window(conn, source, low, log)
            state.update(watermark_before=before, window_start=low)
            bound = low if low is not None else _EVERYTHING
            log(
                "etl run %s: %s -> %s, reading %s",
                run_id,
                source.url_key,
                target,
                f"invoice_date >= {show_time(low)}" if low else "the whole source (first run)",
            )
            # DuckDB keeps a transaction's many appends in memory, so on DuckDB the window
            # goes first to temporary tables (per-block commits, memory-capped, gone with
            # the connection), then moves into retail inside the one transaction below.
            staged = conn.dialect.name == "duckdb"
            if staged:
                with conn.begin():
                    execute_sql_file(conn, "ingest/etl/stage_create", memory_limit=_DUCKDB_MEMORY)
                stage = ("etl_stage_retail", "etl_stage_quarantine")
                with Progress(f"etl run {run_id}", enabled=progress) as shown:
                    _stream(conn, source, run_id, low, stage, True, tally, shown, far)
            with conn.begin():
                replaced = conn.execute(
                    text(load_sql("ingest/etl/replace_window", conn.dialect.name)),
                    {"source_name": source.key, "low": bound},
                )
                count_replaced = max(int(replaced.rowcount), 0)
                _replace_quarantine(conn, source.key, bound)
                count_demo_removed = drop_demo(conn)
                if count_demo_removed:
                    logger.warning(
                        "etl run %s: removing the demo data (%s generated lines), real data "
                        "arrives",
                        run_id,
                        f"{count_demo_removed:,}",
                    )
                if staged:
                    execute_sql_file(conn, "ingest/etl/stage_publish")
                else:
                    with Progress(f"etl run {run_id}", enabled=progress) as shown:
                        tables = ("retail", "quarantine")
                        _stream(conn, source, run_id, low, tables, False, tally, shown, far)
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
                    count_demo_removed,
                )
    except Exception as exc:
        record_failure(
            engine, run_id, source.key, started_at, overlap_days, state, tally.count_read, exc
        )
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
    count_demo_removed: int = 0,
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
        count_demo_removed=count_demo_removed,
    )
    save_run(conn, result, "succeeded", None)
    execute_sql_file(conn, "ingest/etl/prune_batches", source_name=source_name)
    refresh_derived(conn)
    return result


def check_source(engine: Engine, source: OltpSource, new_source: bool = False) -> None:
    """Refuse a source other than the one the warehouse syncs from, unless ``new_source``.

    Sources are named by the server's identity (:func:`identity_key`), so one database
    reached through two spellings of its URL is one source. A source recorded by an
    earlier version under its URL (``postgresql://host:port/db``) is renamed in place.

    Raises
    ------
    ConfigError
        If the warehouse already syncs from another source and ``new_source`` is False.
    """
    with engine.begin() as conn:
        known = set(run_query(conn, "ingest/etl/known_sources")["source_name"])
        if source.key in known or not known:
            return
        if source.url_key in known:
            execute_sql_file(
                conn, "ingest/etl/rename_source", old_name=source.url_key, new_name=source.key
            )
            known.discard(source.url_key)
            if not known - {source.key}:
                return
        others = sorted(known - {source.key})
        if new_source:
            logger.info("adding %s as a new ETL source beside %s", source.key, ", ".join(others))
            return
    raise ConfigError(
        f"the warehouse is synced from {', '.join(others)}, and LGS_SOURCE_URL now names "
        f"another source, {source.described} ({source.key}); syncing it too would add its "
        "lines beside the first source's. If it really is a second shop database, run "
        "make etl NEW_SOURCE=1 (lgs etl --new-source); if it is the same data moved to a new "
        "server, load it into a fresh warehouse instead"
    )


def run_etl(
    source_url: str | None = None,
    database_url: str | None = None,
    overlap_days: int = 3,
    progress: bool = True,
    new_source: bool = False,
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
    new_source : bool (default: False)
        Accept a source other than the one the warehouse already syncs from
        (:func:`check_source`).

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
        source = OltpSource(source_url)  # unreachable or wrong schema: fails before the warehouse
        try:
            engine = get_engine(database_url)
            try:
                with hold_advisory_lock(engine):
                    if isinstance(engine, SparkEngine):
                        return _sync_spark(engine, source, target, overlap_days, progress)
                    try:
                        ensure_etl_schema(engine)
                    except DBAPIError as exc:
                        raise WarehouseError(
                            f"cannot create the ETL tables in {target}: "
                            f"{str(exc.orig).strip().splitlines()[0]}"
                        ) from exc
                    check_source(engine, source, new_source)
                    return _sync(engine, source, target, overlap_days, progress)
            finally:
                engine.dispose()
        finally:
            source.close()


def _quarantine_undated_or_from(rows: pa.Table, low: datetime) -> pa.Array:
    """Mask of quarantined rows to keep: those whose raw line is dated before ``low``."""
    raw = pd.Series([json.loads(r).get("invoice_date") for r in rows["raw_row"].to_pylist()])
    dates = parse_dates(raw.astype("object"))
    return pa.array((dates.notna() & (dates < low)).to_numpy(), pa.bool_())


def _sync_spark(
    engine: SparkEngine, source: OltpSource, target: str, overlap_days: int, progress: bool
) -> EtlResult:
    """The same run on a Spark warehouse, in one write transaction (a manifest swap).

    The window's old lines are removed by writing again the ETL batches that hold them
    (Parquet, :meth:`lgs_analysis.warehouse.spark.SparkConnection.rewrite`); the new lines
    are a new batch. The run id is taken first, in its own transaction, so that a failed
    run's ``etl_runs`` row keeps an id no later run reuses.
    """
    started_at = datetime.now()
    ensure_schema(engine)
    with engine.begin() as conn:
        run_id = conn.next_batch_id()
    state: dict[str, Any] = {"watermark_before": None, "window_start": None}
    tally = _Tally()
    try:
        with engine.begin() as conn:
            before = _as_datetime(
                _scalar(run_query(conn, "ingest/etl/watermark", source_name=source.key))
            )
            low = before - timedelta(days=overlap_days) if before is not None else None
            state.update(watermark_before=before, window_start=low)
            bound = low if low is not None else _EVERYTHING
            (logger.info if progress else logger.debug)(
                "etl run %s: %s -> %s, reading %s",
                run_id,
                source.key,
                target,
                f"invoice_date >= {show_time(low)}" if low else "the whole source (first run)",
            )
            batches = run_query(
                conn, "ingest/batch_ids", kind="etl", source_name=source.key, fingerprint=None
            )
            etl_ids = {int(v) for v in batches["batch_id"]}
            count_replaced = conn.rewrite(
                "retail", etl_ids, lambda rows: pc.less(rows["invoice_date"], pa.scalar(bound))
            )
            conn.rewrite(
                "quarantine", etl_ids, lambda rows: _quarantine_undated_or_from(rows, bound)
            )
            count_demo_removed = drop_demo(conn)
            if count_demo_removed:
                logger.warning(
                    "etl run %s: removing the demo data (%s generated lines), real data arrives",
                    run_id,
                    f"{count_demo_removed:,}",
                )
            with Progress(f"etl run {run_id}", enabled=progress) as shown:
                _stream(conn, source, run_id, low, ("retail", "quarantine"), False, tally, shown)
            after = before if tally.last_at is None else max(filter(None, [before, tally.last_at]))
            result = EtlResult(
                run_id=run_id,
                source_name=source.key,
                target=target,
                started_at=started_at,
                finished_at=datetime.now(),
                overlap_days=overlap_days,
                window_start=low,
                watermark_before=before,
                watermark_after=after,
                count_read=tally.count_read,
                count_inserted=tally.count_inserted,
                count_replaced=count_replaced,
                count_quarantined=tally.count_quarantined,
                source_fingerprint=tally.fingerprint(),
                quarantine_reasons=dict(tally.reasons),
                count_demo_removed=count_demo_removed,
            )
            _save_batch_spark(conn, result)
            # forget the ETL batches of this source that no longer hold a line
            held = conn.batch_ids("retail") | conn.batch_ids("quarantine") | {run_id}
            conn.drop_dirs("load_batches", etl_ids - held)
    except Exception as exc:
        _save_run_spark(
            engine,
            _failed_result(run_id, source.key, started_at, overlap_days, state, tally.count_read),
            exc,
        )
        if isinstance(exc, LgsError):
            raise
        reason = (str(exc).strip().splitlines() or [repr(exc)])[0]
        raise WarehouseError(
            f"ETL run {run_id} into {target} failed and changed nothing: {reason}"
        ) from exc
    return result


def _save_batch_spark(conn: Any, result: EtlResult) -> None:
    """The run's load_batches row, watermark and succeeded etl_runs row (Spark)."""
    run_id = result.run_id
    batch = {
        "batch_id": run_id,
        "source_kind": "etl",
        "source_name": result.source_name,
        "source_fingerprint": f"etl:{result.source_fingerprint}",
        "count_read": result.count_read,
        "count_loaded": result.count_inserted,
        "count_quarantined": result.count_quarantined,
        "loaded_at": result.finished_at,
    }
    bulk_insert(conn, "load_batches", pa.Table.from_pylist([batch]))
    if result.watermark_after is not None:
        key = result.source_name
        conn.rewrite(
            "etl_watermarks",
            conn.batch_ids("etl_watermarks"),
            lambda rows: pc.not_equal(rows["source_name"], pa.scalar(key)),
        )
        watermark = {
            "source_name": key,
            "watermark_at": result.watermark_after,
            "run_id": run_id,
            "updated_at": result.finished_at,
        }
        conn.append("etl_watermarks", pa.Table.from_pylist([watermark]), run_id)
    conn.append("etl_runs", _run_row(result, "succeeded", None), run_id)


def _run_row(result: EtlResult, status: str, message: str | None) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "run_id": result.run_id,
                "source_name": result.source_name,
                "status": status,
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "overlap_days": result.overlap_days,
                "window_start": result.window_start,
                "watermark_before": result.watermark_before,
                "watermark_after": result.watermark_after,
                "count_read": result.count_read,
                "count_inserted": result.count_inserted,
                "count_replaced": result.count_replaced,
                "count_quarantined": result.count_quarantined,
                "source_fingerprint": result.source_fingerprint or None,
                "message": message,
            }
        ]
    )


def _failed_result(
    run_id: int,
    source_name: str,
    started_at: datetime,
    overlap_days: int,
    state: dict[str, Any],
    count_read: int,
) -> EtlResult:
    return EtlResult(
        run_id=run_id,
        source_name=source_name,
        target="",
        started_at=started_at,
        finished_at=datetime.now(),
        overlap_days=overlap_days,
        window_start=state["window_start"],
        watermark_before=state["watermark_before"],
        watermark_after=state["watermark_before"],
        count_read=count_read,
        count_inserted=0,
        count_replaced=0,
        count_quarantined=0,
        source_fingerprint="",
    )


def _save_run_spark(engine: SparkEngine, failed: EtlResult, exc: BaseException) -> None:
    """After the rollback, record the failed run in its own transaction (best effort)."""
    message = f"{type(exc).__name__}: {str(exc).strip()}"[:2000]
    try:
        with engine.begin() as conn:
            conn.append("etl_runs", _run_row(failed, "failed", message), failed.run_id)
    except Exception as record_exc:  # noqa: BLE001 - the run's own error matters more
        logger.warning("could not record the failed ETL run %s: %s", failed.run_id, record_exc)
