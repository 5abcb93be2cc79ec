"""Named SQL files, transpiled with sqlglot for the engine in use.

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

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from ..config import PROJECT_ROOT
from ..exceptions import MissingParameterError, WarehouseError

__all__ = [
    "SQL_DIR",
    "CANONICAL_DIALECT",
    "load_sql",
    "transpile_sql",
    "resolve_sql_name",
]

SQL_DIR = PROJECT_ROOT / "sql"
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
CANONICAL_DIALECT = "duckdb"
# engine (SQLAlchemy dialect name, or "spark") -> sqlglot dialect
_SQLGLOT_DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "spark": "spark"}
_DIALECT_LINE = re.compile(r"\A\s*--\s*dialect:\s*(\w+)")


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


def _statements(sql: str) -> list[str]:
    body = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in body.split(";") if s.strip()]
