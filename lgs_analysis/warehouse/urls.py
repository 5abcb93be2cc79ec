"""Warehouse URLs: which engine a URL names, checked, and named for messages without any
password."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..config import get_settings, normalise_url, redact_url
from ..exceptions import ConfigError

__all__ = [
    "SPARK_SCHEMES",
    "SUPPORTED_BACKENDS",
    "is_spark_url",
    "checked_url",
    "describe_target",
]

SPARK_SCHEMES = ("spark://", "sc://")
SUPPORTED_BACKENDS = ("duckdb", "postgresql")


def is_spark_url(url: str) -> bool:
    """Whether ``url`` names a Spark warehouse."""
    return url.startswith(SPARK_SCHEMES)


def describe_target(url: str) -> str:
    """Name a database for messages (driver, host, database) without any password."""
    if is_spark_url(url):
        return f"Spark warehouse {get_settings().spark_warehouse} on {url}"
    u = make_url(normalise_url(url))
    if u.get_backend_name() == "duckdb":
        return f"DuckDB file {u.database or ':memory:'}"
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    return f"{u.get_backend_name()} database {u.database!r} on {where}"


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
