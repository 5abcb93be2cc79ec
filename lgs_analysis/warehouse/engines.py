"""Opening a warehouse: :func:`get_engine` picks the engine a URL names (DuckDB,
PostgreSQL or Spark) and checks that it answers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from ..config import get_settings, normalise_url, redact_url
from ..exceptions import WarehouseError
from . import duckdb, postgresql
from .schema import VIEW_FILES, ensure_schema
from .spark import SparkEngine
from .sql import load_sql
from .urls import checked_url, describe_target, is_spark_url

__all__ = ["get_engine"]


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
        engine = duckdb.make_engine(url, read_only, get_settings().memory_limit)
    else:
        engine = postgresql.make_engine(url, read_only, get_settings().memory_limit)
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


def _spark_engine(url: str, check: bool) -> SparkEngine:
    """A Spark warehouse: Parquet tables under ``LGS_SPARK_WAREHOUSE`` (see .spark)."""
    engine = SparkEngine(
        url,
        get_settings().spark_warehouse,
        schema_sql=load_sql("schema/tables") + ";\n" + load_sql("schema/etl_tables"),
        view_sql=[load_sql(name, "spark") for name in VIEW_FILES],
    )
    if check:
        engine.check()
    return engine
