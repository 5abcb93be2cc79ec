"""Running named SQL on any engine: queries into DataFrames, statement files, bulk inserts,
and the warehouse's summaries (fingerprint, date range)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from . import duckdb, postgresql
from .spark import SparkConnection, SparkEngine
from .sql import _check_binds, _statements, load_sql

__all__ = [
    "run_query",
    "stream_query",
    "execute_sql_file",
    "bulk_insert",
    "tune_report_session",
    "data_fingerprint",
    "data_range",
]


def _dialect(conn: Connection | Engine) -> str:
    return conn.dialect.name


def run_query(conn: Connection | Engine, name: str, **params: Any) -> pd.DataFrame:
    """Run the named query with bind parameters and return its rows as a DataFrame.

    Raises
    ------
    MissingParameterError
        If the SQL uses a ``:name`` that ``params`` does not supply.
    """
    sql = load_sql(name, _dialect(conn))
    _check_binds(name, sql, params)
    if isinstance(conn, SparkEngine):
        with conn.connect() as c:
            return c.query(sql, params)
    if isinstance(conn, SparkConnection):
        return conn.query(sql, params)
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return _fetch(c, sql, params)
    return _fetch(conn, sql, params)


def stream_query(
    conn: Connection | Engine, name: str, chunk_rows: int, **params: Any
) -> Iterator[pd.DataFrame]:
    """Run the named query and yield its rows as DataFrames of at most ``chunk_rows`` rows.

    Python holds one chunk at a time: DuckDB hands its result over in DataFrame chunks and
    PostgreSQL through a server-side cursor, so a result of any size streams through a
    bounded amount of memory (the warehouse sorts and spills on its side). A Spark
    query comes back whole, then in chunks.
    """
    sql = load_sql(name, _dialect(conn))
    _check_binds(name, sql, params)
    if isinstance(conn, SparkEngine | SparkConnection):
        whole = run_query(conn, name, **params)
        for start in range(0, len(whole), chunk_rows):
            yield whole.iloc[start : start + chunk_rows]
        return
    if isinstance(conn, Engine):
        with conn.connect() as c:
            yield from stream_query(c, name, chunk_rows, **params)
        return
    if conn.dialect.name == "duckdb":
        result = conn.execute(text(sql), dict(params))
        vectors = max(1, chunk_rows // 2048)  # DuckDB hands rows over 2,048 at a time
        while len(chunk := result.cursor.fetch_df_chunk(vectors)):
            yield chunk
        return
    result = conn.execute(
        text(sql).execution_options(stream_results=True, max_row_buffer=chunk_rows), dict(params)
    )
    columns = list(result.keys())
    try:
        while rows := result.cursor.fetchmany(chunk_rows):
            yield pd.DataFrame.from_records(rows, columns=columns)
    finally:
        result.close()


def _fetch(conn: Connection, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
    result = conn.execute(text(sql), dict(params))
    if conn.dialect.name == "duckdb":
        return duckdb.fetch_frame(result)
    return postgresql.fetch_frame(result)


def execute_sql_file(conn: Connection, name: str, **params: Any) -> None:
    """Execute every statement of a DDL/DML file (statements separated by ``;``)."""
    sql = load_sql(name, _dialect(conn))
    for statement in _statements(sql):
        _check_binds(name, statement, params)
        used = {k: v for k, v in params.items() if f":{k}" in statement}
        if isinstance(conn, SparkConnection):
            conn.execute_statement(statement, used)
        else:
            conn.execute(text(statement), used)


def tune_report_session(conn: Connection) -> None:
    """Session settings for a report's queries (memory for sorts, no JIT; PostgreSQL)."""
    execute_sql_file(conn, "warehouse/report_session")


def bulk_insert(conn: Connection, table: str, data: pa.Table) -> int:
    """Append an Arrow table to ``table`` by the bulk path, inside ``conn``'s transaction.

    PostgreSQL gets ``COPY ... FROM STDIN`` (CSV); DuckDB scans the Arrow table
    directly; Spark gets Parquet files written by pyarrow, staged until the transaction
    commits (``data`` must then carry ``batch_id``). Column names of ``data`` must exist
    in ``table``.
    """
    if data.num_rows == 0:
        return 0
    if isinstance(conn, SparkConnection):  # one Parquet batch directory per batch_id
        return conn.append(table, data, int(data.column("batch_id")[0].as_py()))
    if _dialect(conn) == "duckdb":
        return duckdb.insert_arrow(conn, table, data)
    return postgresql.copy_insert(conn, table, data)


def data_fingerprint(conn: Connection | Engine) -> str:
    """A short hash of the fact table's content summary (rows, sums, date range)."""
    row = run_query(conn, "warehouse/fingerprint").iloc[0]
    summary = "|".join(str(v) for v in row.tolist())
    return hashlib.sha256(summary.encode()).hexdigest()[:16]


def data_range(conn: Connection | Engine) -> tuple[Any, Any, int]:
    """Return (first invoice_date, last invoice_date, row count) of the fact table."""
    row = run_query(conn, "warehouse/data_range").iloc[0]
    return row["first_at"], row["last_at"], int(row["count_lines"])
