"""The warehouse's schema: tables and views created from ``sql/schema/``, the schema's
recorded hash, and the derived invoice table PostgreSQL keeps beside ``retail``."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from .queries import _dialect, execute_sql_file, run_query
from .spark import SparkConnection, SparkEngine
from .sql import SQL_DIR, _read_sql_file

__all__ = [
    "RETAIL_COLUMNS",
    "VIEW_FILES",
    "ensure_schema",
    "schema_hash",
    "schema_is_current",
    "refresh_derived",
    "derived_mismatch",
]

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

# the views over the tables, in order (on PostgreSQL retail_invoices is a derived table)
VIEW_FILES = ("schema/retail_lines", "schema/invoice_parts", "schema/retail_invoices")
_SCHEMA_FILES = ("schema/tables", "schema/indexes", *VIEW_FILES)


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
