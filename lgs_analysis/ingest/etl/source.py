"""The OLTP source of the ETL: a checked, read-only PostgreSQL connection that streams
the sync window as CSV blocks of whole lines (``COPY (query) TO STDOUT``), read on a
background thread through a bounded queue, so memory stays at a few blocks."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Generator
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy.engine import make_url

from ...config import normalise_url, redact_url
from ...exceptions import (
    DataValidationError,
    SourceError,
)
from ...log import logger
from ...warehouse import (
    RETAIL_COLUMNS,
    checked_url,
    describe_target,
    load_sql,
)
from ..validate import MONTH_FIRST, DateOrder

__all__ = ["OltpSource", "source_key", "identity_key", "parse_block"]

_BLOCK_BYTES = 8 << 20  # ~90,000 retail lines of CSV per block
_QUEUE_BLOCKS = 2  # blocks waiting between the source reader and the warehouse writer
_TYPED_DATES = ("timestamp", "date")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_END = object()


def source_key(source_url: str) -> str:
    """Name a source by host, port and database as its URL spells them (never user or
    password): how earlier versions keyed a source, and how messages name it."""
    url = make_url(normalise_url(source_url))
    return f"postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def identity_key(system_id: str, database: str, schema: str) -> str:
    """The ``source_name`` of a source's watermark, runs and batches: what the server says
    about itself (cluster system identifier, database, schema), not the URL's text."""
    return f"postgresql:{system_id}/{database}/{schema}.retail"


def _pg_sql(name: str) -> str:
    """A SQL file with ``:name`` binds turned into psycopg2's ``%(name)s``."""
    return _BIND.sub(r"%(\1)s", load_sql(name, "postgresql"))


class OltpSource:
    """A checked, read-only connection to the OLTP database."""

    def __init__(self, source_url: str) -> None:
        url = checked_url(source_url, "LGS_SOURCE_URL", ("postgresql",))
        self.url = normalise_url(source_url)  # a password holding @ stays whole
        self.described = describe_target(source_url)
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
            self.key = self._identity()
        except BaseException:
            self.close()
            raise
        self.url_key = source_key(source_url)

    def _identity(self) -> str:
        """:func:`identity_key` of this source, from the server's own catalog."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(_pg_sql("ingest/etl/source_identity"))
                system_id, database, schema = cur.fetchone()
        except psycopg2.Error as exc:
            raise SourceError(
                f"cannot identify the ETL source, {self.described}: {self._reason(exc)} "
                "(it needs pg_control_system(), which PostgreSQL grants to every role)"
            ) from exc
        return identity_key(system_id, database, schema)

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

    def date_order(self) -> str:
        """How the source writes slashed dates, decided once from all of them (one
        aggregated query); month-first where invoice_date is a timestamp.

        Only ambiguous ones (``05/11/2011``) are read month-first, with a warning.

        Raises
        ------
        DataValidationError
            If its text dates are written both ways.
        """
        order = DateOrder()
        if not self.dates_are_text:
            return MONTH_FIRST
        try:
            with self.conn.cursor() as cur:
                cur.execute(_pg_sql("ingest/etl/source_date_order"))
                day, day_example, month, month_example, ambiguous = cur.fetchone()
        except psycopg2.Error as exc:
            raise SourceError(
                f"cannot read the dates of the ETL source, {self.described}: {self._reason(exc)}"
            ) from exc
        order.day_first = (int(day), day_example) if day else None
        order.month_first = (int(month), month_example) if month else None
        if ambiguous and not (day or month):
            # unlike a file, a live source is not refused for this: it keeps syncing
            logger.warning(
                "ETL source %s: no slashed date such as %r shows whether they are day-first "
                "or month-first; read month-first, as the UCI export writes them",
                self.described,
                ambiguous,
            )
            return MONTH_FIRST
        return order.decide(f"ETL source {self.described}, table retail")

    def day_totals(self) -> pd.DataFrame | None:
        """Lines and amount per day of the whole source, in one aggregated query
        (``day_at, count_lines, count_unpriced, amount``); None where invoice_date is
        text, whose days cannot be read safely in SQL."""
        if self.dates_are_text:
            return None
        try:
            with self.conn.cursor() as cur:
                cur.execute(_pg_sql("ingest/etl/source_days"))
                rows = cur.fetchall()
        except psycopg2.Error as exc:
            raise SourceError(
                f"cannot read the daily totals of the ETL source, {self.described}: "
                f"{self._reason(exc)}"
            ) from exc
        return pd.DataFrame(rows, columns=["day_at", "count_lines", "count_unpriced", "amount"])

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


def parse_block(block: bytes) -> pd.DataFrame:
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
