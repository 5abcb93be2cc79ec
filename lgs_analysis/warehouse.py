"""Warehouse access: engines, named SQL files, bulk inserts and fingerprints.

Every statement lives in a file under ``sql/``, in one folder per stage
(``schema/``, ``warehouse/``, ``ingest/``, ``analyses/``). A query is named by its path
under ``sql/`` without the extension (``"analyses/rfm_customers"``); a bare stem
(``"rfm_customers"``) also works when exactly one file has it.

Each query is written once, in the canonical dialect (DuckDB's), and :func:`load_sql`
transpiles it with sqlglot for the engine in use (PostgreSQL, Spark), once per process.
Bind parameters stay ``:name`` markers on every engine. A file whose first line is
``-- dialect: <name>`` is written in that dialect instead (the queries that run on the
OLTP PostgreSQL source). Where the engines really differ in meaning, not spelling,
``<name>.<dialect>.sql`` sits beside ``<name>.sql`` and wins for that dialect; the
variants and their reasons are listed in ``sql/README.md``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlglot
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import NullPool
from sqlglot import exp

from .config import PROJECT_ROOT, get_settings, normalise_url, redact_url
from .exceptions import ConfigError, LockedError, MissingParameterError, WarehouseError
from .warehouse_spark import SparkConnection, SparkEngine, is_spark_url

__all__ = [
    "SQL_DIR",
    "RETAIL_COLUMNS",
    "get_engine",
    "load_sql",
    "transpile_sql",
    "resolve_sql_name",
    "run_query",
    "execute_sql_file",
    "ensure_schema",
    "schema_hash",
    "schema_is_current",
    "refresh_derived",
    "derived_mismatch",
    "tune_report_session",
    "bulk_insert",
    "describe_target",
    "data_fingerprint",
    "data_range",
]

SQL_DIR = PROJECT_ROOT / "sql"
RETAIL_COLUMNS = [
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
]
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
CANONICAL_DIALECT = "duckdb"
# engine (SQLAlchemy dialect name, or "spark") -> sqlglot dialect
_SQLGLOT_DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "spark": "spark"}
_DIALECT_LINE = re.compile(r"\A\s*--\s*dialect:\s*(\w+)")


def describe_target(url: str) -> str:
    """Name a database for messages (driver, host, database) without any password."""
    if is_spark_url(url):
        return f"Spark warehouse {get_settings().spark_warehouse} on {url}"
    u = make_url(normalise_url(url))
    if u.get_backend_name() == "duckdb":
        return f"DuckDB file {u.database or ':memory:'}"
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    return f"{u.get_backend_name()} database {u.database!r} on {where}"


SUPPORTED_BACKENDS = ("duckdb", "postgresql")


def checked_url(url: str, setting: str, backends: tuple[str, ...] = SUPPORTED_BACKENDS) -> Any:
    """Parse a database URL, refusing text that is not a URL or names another backend.

    Raises
    ------
    ConfigError
        Naming the setting and what is wrong (exit code 2), never the password.
    """
    try:
        parsed = make_url(normalise_url(url))
        backend = parsed.get_backend_name()
        parsed.get_dialect()  # an unknown driver fails here
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            f"{setting}={redact_url(url)} is not a database URL this tool can use ({exc}); "
            "expected e.g. postgresql+psycopg2://user:password@host:5432/db or "
            "duckdb:///path/to/warehouse.duckdb"
        ) from None
    if backend not in backends:
        raise ConfigError(
            f"{setting}={redact_url(url)} names the {backend!r} backend; supported: "
            f"{', '.join(backends)}"
        )
    return parsed


def get_engine(url: str | None = None, check: bool = True, read_only: bool = False) -> Engine:
    """Create an engine for ``url`` (default: ``LGS_DATABASE_URL``) and check it answers.

    Parameters
    ----------
    url : str, optional
        The warehouse (default: ``LGS_DATABASE_URL``, else the embedded DuckDB file).
    check : bool (default: True)
        Open one connection now, so that an unreachable warehouse fails here.
    read_only : bool (default: False)
        For reports, which only read. On DuckDB, read-only connections of many
        processes share the file (a read-write one excludes every other process);
        a missing file is first created read-write with the schema. On PostgreSQL,
        every transaction of the session is read-only.

    On DuckDB, a connection that finds the file locked by another process waits for
    it up to ``LGS_LOCK_TIMEOUT`` seconds (default 60).

    Raises
    ------
    ConfigError
        If ``url`` is not a URL or names an unsupported backend (exit code 2).
    WarehouseError
        If the database cannot be reached; the message names host and database,
        never the password.
    LockedError
        If another process still holds the DuckDB file after the timeout (exit 75);
        the message names that process.
    """
    url = normalise_url(url or get_settings().database_url)  # a password holding @
    if is_spark_url(url):
        return _spark_engine(url, check)  # type: ignore[return-value]
    backend = checked_url(url, "LGS_DATABASE_URL").get_backend_name()
    if backend == "duckdb":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            if read_only and not Path(database).exists():
                writer = get_engine(url)
                try:
                    ensure_schema(writer)
                finally:
                    writer.dispose()
        # NullPool: the file is released as soon as a connection closes, so a
        # papermill kernel in another process can open it.
        connect_args = {"read_only": True} if read_only else {}
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        event.listen(engine, "do_connect", _wait_for_file_lock(url))
    else:
        connect_args = (
            {"options": "-c default_transaction_read_only=on"}
            if read_only and backend == "postgresql"
            else {}
        )
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if check:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("select 1")
        except (OperationalError, DBAPIError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            password = make_url(url).password
            if password:  # a driver may echo it (in a DSN it could not parse)
                reason = reason.replace(password, "***")
            raise WarehouseError(
                f"cannot reach the warehouse, {describe_target(url)}: {reason} "
                f"(LGS_DATABASE_URL={redact_url(url)})"
            ) from None
    return engine


LOCK_TIMEOUT_ENV = "LGS_LOCK_TIMEOUT"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def lock_timeout() -> float:
    """Seconds to wait for a warehouse held by another process (``LGS_LOCK_TIMEOUT``, 60)."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV) or "60"
    try:
        return max(0.0, float(raw))
    except ValueError:
        from .exceptions import ConfigError

        raise ConfigError(f"{LOCK_TIMEOUT_ENV}={raw!r} must be a number of seconds") from None


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


def _spark_engine(url: str, check: bool) -> SparkEngine:
    """A Spark warehouse: Parquet tables under ``LGS_SPARK_WAREHOUSE`` (see warehouse_spark)."""
    engine = SparkEngine(
        url,
        get_settings().spark_warehouse,
        schema_sql=load_sql("schema/tables") + ";\n" + load_sql("schema/etl_tables"),
        view_sql=[load_sql(name, "spark") for name in _VIEW_FILES],
    )
    if check:
        engine.check()
    return engine


@lru_cache(maxsize=256)
def _read_sql_file(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _sql_index() -> dict[str, list[str]]:
    """Bare stem -> the qualified names (paths under sql/) that end in it."""
    index: dict[str, list[str]] = {}
    for path in sorted(SQL_DIR.rglob("*.sql")):
        qualified = path.relative_to(SQL_DIR).with_suffix("").as_posix()
        if "." in path.stem:  # a dialect variant, found through its base file
            continue
        index.setdefault(path.stem, []).append(qualified)
    return index


def resolve_sql_name(name: str) -> str:
    """The qualified name (``"analyses/rfm_customers"``) of a query given by path or stem.

    Raises
    ------
    FileNotFoundError
        If no file has that name, or a bare stem matches more than one file.
    """
    if "/" in name or (SQL_DIR / f"{name}.sql").exists():
        return name
    matches = _sql_index().get(name, [])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise FileNotFoundError(f"SQL name {name!r} is ambiguous: use one of {', '.join(matches)}")
    raise FileNotFoundError(f"no SQL file named {name!r} under {SQL_DIR}")


@lru_cache(maxsize=512)
def load_sql(name: str, dialect: str | None = None) -> str:
    """Return the SQL of ``sql/<name>.sql`` for an engine, transpiled and cached.

    ``name`` is a path under ``sql/`` without the extension, or a unique bare stem;
    ``dialect`` is the engine's name (``"duckdb"``, ``"postgresql"``, ``"spark"``; None:
    the file as written). A ``<name>.<dialect>.sql`` variant is returned as written.

    Raises
    ------
    FileNotFoundError
        If no file has that name.
    WarehouseError
        If the query cannot be transpiled for ``dialect``.
    """
    qualified = resolve_sql_name(name)
    if dialect:
        variant = SQL_DIR / f"{qualified}.{dialect}.sql"
        if variant.exists():
            return _read_sql_file(variant)
    path = SQL_DIR / f"{qualified}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file named {name!r} under {SQL_DIR}")
    sql = _read_sql_file(path)
    declared = _DIALECT_LINE.match(sql)
    written_in = declared.group(1) if declared else CANONICAL_DIALECT
    if dialect is None or dialect == written_in:
        return sql
    return transpile_sql(sql, written_in, dialect, where=str(path.relative_to(SQL_DIR)))


def _keep_bind_marker(node: exp.Expression) -> exp.Expression:
    # sqlglot writes a placeholder as %(name)s for PostgreSQL; every engine here takes :name
    if isinstance(node, exp.Placeholder) and node.name:
        return exp.var(f":{node.name}")
    return node


def transpile_sql(sql: str, read: str, write: str, where: str = "query") -> str:
    """Translate SQL from engine ``read`` to engine ``write`` (statements joined by ``;``).

    Comments are dropped; ``:name`` bind markers are kept as they are.
    """
    read_as = _SQLGLOT_DIALECTS.get(read, read)
    write_as = _SQLGLOT_DIALECTS.get(write, write)
    try:
        trees = sqlglot.parse(sql, read=read_as)
        statements = [
            tree.transform(_keep_bind_marker).sql(dialect=write_as, pretty=True, comments=False)
            for tree in trees
            if tree is not None
        ]
    except sqlglot.errors.SqlglotError as exc:
        raise WarehouseError(f"cannot translate {where} from {read} to {write}: {exc}") from None
    return ";\n".join(statements)


def _dialect(conn: Connection | Engine) -> str:
    return conn.dialect.name


def _bind_names(sql: str) -> set[str]:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    without_strings = re.sub(r"'[^']*'", "''", without_comments)
    return set(_BIND.findall(without_strings))


def _check_binds(name: str, sql: str, params: Mapping[str, Any]) -> None:
    missing = sorted(_bind_names(sql) - set(params))
    if missing:
        raise MissingParameterError(
            f"query {name!r} needs bind parameter(s) {', '.join(missing)}; got {sorted(params)}"
        )


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


def _fetch(conn: Connection, sql: str, params: Mapping[str, Any]) -> pd.DataFrame:
    result = conn.execute(text(sql), dict(params))
    if conn.dialect.name == "duckdb":  # columnar fetch: ~7x faster than building rows
        return result.cursor.fetch_df()
    # the DBAPI cursor's plain tuples: pandas builds a frame from 250,000 of them in 0.13 s,
    # from as many SQLAlchemy Row objects in 0.95 s (text() queries carry no type processing,
    # so the values are the same objects)
    columns = list(result.keys())
    return pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns)


def _statements(sql: str) -> list[str]:
    body = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in body.split(";") if s.strip()]


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


# the views over the tables, in order (on PostgreSQL retail_invoices is a derived table)
_VIEW_FILES = ("schema/retail_lines", "schema/invoice_parts", "schema/retail_invoices")
_SCHEMA_FILES = ("schema/tables", "schema/indexes", *_VIEW_FILES)


def schema_hash() -> str:
    """A hash of the schema files' text: what :func:`ensure_schema` records in ``lgs_schema``."""
    digest = hashlib.sha256()
    for name in _SCHEMA_FILES:
        for dialect in ("", ".duckdb", ".postgresql"):
            path = SQL_DIR / f"{name}{dialect}.sql"
            if path.exists():
                digest.update(path.name.encode())
                digest.update(_read_sql_file(path).encode())
    return digest.hexdigest()[:16]


def ensure_schema(engine: Engine) -> None:
    """Create the warehouse tables and views if they do not exist (idempotent).

    On PostgreSQL a transaction-level advisory lock makes concurrent calls wait for each
    other (two ``create or replace view`` at once fail there). The schema's hash is
    recorded, so that readers can tell a current schema without writing
    (:func:`schema_is_current`); when it differs, the derived tables are dropped and
    rebuilt from their new definition. A Spark warehouse creates its own tables.
    """
    if isinstance(engine, SparkEngine):
        engine.ensure_schema()
        return
    current = schema_is_current(engine)  # outside the transaction: a failed read aborts one
    with engine.begin() as conn:
        execute_sql_file(conn, "warehouse/schema_lock")
        if not current:  # derived tables are rebuilt from a changed definition
            execute_sql_file(conn, "schema/drop_derived")
        for name in _SCHEMA_FILES:
            execute_sql_file(conn, name)
        execute_sql_file(conn, "schema/schema_version", schema_hash=schema_hash())


def schema_is_current(conn: Connection | Engine) -> bool:
    """Whether the warehouse has the schema of this code (read-only check; a Spark
    warehouse answers False, and its idempotent :func:`ensure_schema` runs)."""
    if isinstance(conn, SparkConnection | SparkEngine):
        return False
    try:
        found = run_query(conn, "warehouse/schema_version")
    except (OperationalError, DBAPIError):  # no lgs_schema table yet
        return False
    return not found.empty and found["schema_hash"].iloc[0] == schema_hash()


def refresh_derived(conn: Connection) -> None:
    """After a write to retail, in its transaction: refill the derived tables and the
    planner's statistics (PostgreSQL; DuckDB and Spark derive on read)."""
    execute_sql_file(conn, "warehouse/refresh")


def derived_mismatch(conn: Connection | Engine) -> str | None:
    """Why the derived invoice table no longer matches ``retail``, or None when it does.

    Only PostgreSQL keeps one (DuckDB and Spark derive on read). Loads, ETL runs and
    drop-demo refill it; a hand edit of ``retail`` does not.
    """
    if _dialect(conn) != "postgresql":
        return None
    row = run_query(conn, "warehouse/derived_current").iloc[0]
    lines, parts = int(row["count_lines"]), int(row["count_part_lines"])
    if lines == parts and bool(row["same_amount"]):
        return None
    return f"retail holds {lines:,} lines, its invoice parts {parts:,} (or another amount)"


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
    columns = ", ".join(data.column_names)
    if _dialect(conn) == "duckdb":
        raw = conn.connection.driver_connection
        view = f"_lgs_bulk_{id(data)}"
        raw.register(view, data)
        try:
            raw.execute(f"insert into {table} ({columns}) select {columns} from {view}")
        finally:
            raw.unregister(view)
        return data.num_rows
    buffer = io.BytesIO()
    pacsv.write_csv(data, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert(f"copy {table} ({columns}) from stdin with (format csv)", buffer)
    finally:
        cursor.close()
    return data.num_rows


def data_fingerprint(conn: Connection | Engine) -> str:
    """A short hash of the fact table's content summary (rows, sums, date range)."""
    row = run_query(conn, "warehouse/fingerprint").iloc[0]
    summary = "|".join(str(v) for v in row.tolist())
    return hashlib.sha256(summary.encode()).hexdigest()[:16]


def data_range(conn: Connection | Engine) -> tuple[Any, Any, int]:
    """Return (first invoice_date, last invoice_date, row count) of the fact table."""
    row = run_query(conn, "warehouse/data_range").iloc[0]
    return row["first_at"], row["last_at"], int(row["count_lines"])
