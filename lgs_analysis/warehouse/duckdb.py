"""The embedded DuckDB warehouse: one file, opened through SQLAlchemy (duckdb_engine).

A read-write connection holds the file alone; read-only connections of many processes
share it. A connection that finds the file held by another process waits for it up to
``LGS_LOCK_TIMEOUT`` seconds, then names that process. Rows arrive through Arrow (bulk
inserts scan an Arrow table; query results are fetched column by column).

Each connection is bound to ``LGS_MEMORY_LIMIT`` (:mod:`.memory`): DuckDB spills to a
folder beside the file past its share, and a query that cannot fit even so raises
:class:`~lgs_analysis.exceptions.MemoryLimitError` instead of DuckDB's own error.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.pool import NullPool

from ..config import bounded_number, get_settings
from ..exceptions import LockedError, MemoryLimitError
from .memory import duckdb_config, memory_message
from .urls import describe_target

__all__ = ["LOCK_TIMEOUT_ENV", "lock_timeout", "make_engine", "insert_arrow", "fetch_frame"]

LOCK_TIMEOUT_ENV = "LGS_LOCK_TIMEOUT"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def make_engine(url: str, read_only: bool, memory_limit: int) -> Engine:
    """An engine on the DuckDB file of ``url`` (its folder is created if missing), its
    connections bound to ``memory_limit`` bytes for the whole process (see :mod:`.memory`).

    NullPool: the file is released as soon as a connection closes, so a papermill kernel
    in another process can open it.
    """
    config = duckdb_config(memory_limit, make_url(url).database)
    if "temp_directory" in config:  # DuckDB makes the last folder only, when it spills
        Path(config["temp_directory"]).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {"config": config}
    if read_only:
        connect_args["read_only"] = True
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    event.listen(engine, "do_connect", _wait_for_file_lock(url))
    event.listen(engine, "handle_error", _memory_error(memory_limit))
    return engine


def _is_out_of_memory(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.OutOfMemoryException)


def _memory_error(memory_limit: int) -> Any:
    """A ``handle_error`` hook: DuckDB's out-of-memory error becomes MemoryLimitError."""

    def translate(context: Any) -> None:
        if _is_out_of_memory(context.original_exception):
            raise MemoryLimitError(
                memory_message(memory_limit, "a query on the DuckDB warehouse")
            ) from None

    return translate


def lock_timeout() -> float:
    """Seconds to wait for a warehouse held by another process (``LGS_LOCK_TIMEOUT``, 60)."""
    return bounded_number(
        LOCK_TIMEOUT_ENV, os.environ.get(LOCK_TIMEOUT_ENV), 60.0, (0.0, 86_400.0), whole=False
    )


def _lock_holder(message: str) -> str | None:
    """``pid 123 (lgs report)`` from DuckDB's lock error, or None if it is another error."""
    if "Could not set lock on file" not in message:
        return None
    match = _LOCK_HOLDER.search(message)
    if not match:
        return "another process"
    program, pid = match.groups()
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        command = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
    except OSError:  # gone already, or no /proc: the program DuckDB named
        command = Path(program).name
    return f"pid {pid} ({command[:120]})"


def _wait_for_file_lock(url: str) -> Any:
    """A ``do_connect`` hook: open the DuckDB file, waiting while another process holds it."""

    def connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        timeout = lock_timeout()
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                return dialect.connect(*cargs, **dict(cparams))
            except Exception as exc:  # duckdb.IOException: the file is locked
                holder = _lock_holder(str(exc))
                if holder is None:
                    raise
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"busy: {describe_target(url)} is held by {holder}; waited "
                        f"{timeout:g} s ({LOCK_TIMEOUT_ENV}). Try again when it has finished."
                    ) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.5)

    return connect


def insert_arrow(conn: Connection, table: str, data: pa.Table) -> int:
    """Append an Arrow table to ``table``: DuckDB scans it directly, in ``conn``'s
    transaction.

    DuckDB finds the table by the local variable's name (a replacement scan). A view
    registered for it instead stays in the transaction's catalog until the commit, and
    with it every chunk's Arrow buffers: a load's memory then grew with the file.
    """
    columns = ", ".join(data.column_names)
    raw = conn.connection.driver_connection
    _lgs_arrow_rows = data  # noqa: F841 - read by DuckDB's replacement scan below
    try:
        raw.execute(f"insert into {table} ({columns}) select {columns} from _lgs_arrow_rows")
    except Exception as exc:
        if _is_out_of_memory(exc):
            limit = get_settings().memory_limit
            raise MemoryLimitError(memory_message(limit, f"loading into {table}")) from None
        raise
    return data.num_rows


def fetch_frame(result: CursorResult[Any]) -> pd.DataFrame:
    """A query's rows as a DataFrame: columnar fetch, ~7x faster than building rows."""
    return result.cursor.fetch_df()
