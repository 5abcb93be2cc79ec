"""Warehouse access: engines, named SQL files, bulk inserts and fingerprints.

One package, the shared part beside one module per engine:

- :mod:`.urls`: which engine a URL names, checked, and named without a password;
- :mod:`.sql`: named SQL files under ``sql/``, written once in DuckDB's dialect and
  transpiled with sqlglot for the engine in use;
- :mod:`.queries`: :func:`run_query`, statement files, bulk inserts, fingerprints;
- :mod:`.schema`: tables and views, the schema's hash, the derived invoice table;
- :mod:`.engines`: :func:`get_engine`, which opens the engine a URL names;
- :mod:`.duckdb`, :mod:`.postgresql`, :mod:`.spark`: what differs per engine;
- :mod:`.snapshot`: a report's independent reads side by side on its snapshot.

Callers import from the package (``from lgs_analysis.warehouse import run_query``).
"""

from __future__ import annotations

from .duckdb import LOCK_TIMEOUT_ENV, lock_timeout
from .engines import get_engine
from .queries import (
    bulk_insert,
    data_fingerprint,
    data_range,
    execute_sql_file,
    run_query,
    stream_query,
    tune_report_session,
)
from .schema import (
    RETAIL_COLUMNS,
    derived_mismatch,
    ensure_schema,
    refresh_derived,
    schema_hash,
    schema_is_current,
)
from .snapshot import SideReads
from .spark import SparkConnection, SparkEngine, table_schemas
from .sql import CANONICAL_DIALECT, SQL_DIR, load_sql, resolve_sql_name, transpile_sql
from .urls import SPARK_SCHEMES, SUPPORTED_BACKENDS, checked_url, describe_target, is_spark_url

__all__ = [
    "SQL_DIR",
    "RETAIL_COLUMNS",
    "CANONICAL_DIALECT",
    "SUPPORTED_BACKENDS",
    "SPARK_SCHEMES",
    "LOCK_TIMEOUT_ENV",
    "get_engine",
    "load_sql",
    "transpile_sql",
    "resolve_sql_name",
    "run_query",
    "stream_query",
    "execute_sql_file",
    "ensure_schema",
    "schema_hash",
    "schema_is_current",
    "refresh_derived",
    "derived_mismatch",
    "tune_report_session",
    "bulk_insert",
    "describe_target",
    "checked_url",
    "is_spark_url",
    "lock_timeout",
    "data_fingerprint",
    "data_range",
    "SideReads",
    "SparkEngine",
    "SparkConnection",
    "table_schemas",
]
