"""Settings from the environment, with an optional ``.env`` file.

Secrets (database passwords, SMTP credentials) live only here; they are never
report parameters, so they never reach a notebook, HTML or PDF.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dotenv import dotenv_values

from .exceptions import ConfigError

__all__ = [
    "PROJECT_ROOT",
    "Settings",
    "get_settings",
    "parse_bytes",
    "bounded_number",
    "redact_url",
    "normalise_url",
]

PROJECT_ROOT = Path(os.environ.get("LGS_HOME", Path(__file__).resolve().parents[1]))
SMTP_TLS_MODES = ("none", "starttls", "ssl")
# LGS_MEMORY_LIMIT: what a load, an ETL run or a report may hold, its whole process tree
DEFAULT_MEMORY_LIMIT = 4 * 1024**3
MIN_MEMORY_LIMIT = 256 * 1024**2
_BYTE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# bounds of the numeric settings: a value outside is refused (exit 2), never clipped
SMTP_PORTS = (1, 65535)
SMTP_TIMEOUT_SECONDS = (0.1, 3600.0)  # 0 would make every socket non-blocking
FUTURE_DAYS = (0, 3660)  # at most ten years ahead: a date past 9999 overflows
EARLIEST_YEAR = 1900


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. ``database_url`` defaults to the embedded DuckDB file."""

    database_url: str
    source_url: str | None = None
    reports_dir: Path = PROJECT_ROOT / "reports"
    params_dir: Path = PROJECT_ROOT / "params"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_tls: str = "none"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout: float = 30.0
    smtp_ca_file: str | None = None  # PEM of a private CA that signed the server's certificate
    earliest_date: date = date(1990, 1, 1)  # lines dated before are implausible
    future_days: int = 1  # lines dated later than today plus this are in the future
    # Parquet tables of a Spark warehouse (LGS_DATABASE_URL=spark://...)
    spark_warehouse: Path = PROJECT_ROOT / "spark-warehouse"
    # bytes a load, ETL run or report may use, its whole process tree (LGS_MEMORY_LIMIT)
    memory_limit: int = DEFAULT_MEMORY_LIMIT


def _env(env_file: Path | None) -> dict[str, str]:
    values: dict[str, str] = {}
    path = env_file if env_file is not None else PROJECT_ROOT / ".env"
    if path.exists():
        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)  # the real environment wins over .env
    return values


def get_settings(env_file: Path | None = None) -> Settings:
    """Read settings from the environment and ``.env``.

    Raises
    ------
    ConfigError
        If a value is malformed (for example a non-numeric ``LGS_SMTP_PORT``).
    """
    env = _env(env_file)
    default_db = f"duckdb:///{PROJECT_ROOT / 'warehouse.duckdb'}"
    tls = env.get("LGS_SMTP_TLS", "none").strip().lower()
    if tls not in SMTP_TLS_MODES:
        raise ConfigError(f"LGS_SMTP_TLS={tls!r} is not one of {', '.join(SMTP_TLS_MODES)}")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
    port = int(bounded_number("LGS_SMTP_PORT", env.get("LGS_SMTP_PORT"), default_port, SMTP_PORTS))
    timeout = bounded_number(
        "LGS_SMTP_TIMEOUT", env.get("LGS_SMTP_TIMEOUT"), 30.0, SMTP_TIMEOUT_SECONDS, whole=False
    )
    future_days = int(bounded_number("LGS_FUTURE_DAYS", env.get("LGS_FUTURE_DAYS"), 1, FUTURE_DAYS))
    earliest = _earliest_date(env.get("LGS_EARLIEST_DATE") or "1990-01-01")
    memory_limit = parse_bytes(
        env.get("LGS_MEMORY_LIMIT") or str(DEFAULT_MEMORY_LIMIT), "LGS_MEMORY_LIMIT"
    )
    if memory_limit < MIN_MEMORY_LIMIT:
        raise ConfigError(
            f"LGS_MEMORY_LIMIT={env['LGS_MEMORY_LIMIT']!r} is below the smallest limit a run "
            f"can work in ({MIN_MEMORY_LIMIT // 1024**2} MB)"
        )
    return Settings(
        database_url=env.get("LGS_DATABASE_URL") or default_db,
        source_url=env.get("LGS_SOURCE_URL") or None,
        reports_dir=Path(env.get("LGS_REPORTS_DIR") or PROJECT_ROOT / "reports"),
        params_dir=Path(env.get("LGS_PARAMS_DIR") or PROJECT_ROOT / "params"),
        smtp_host=env.get("LGS_SMTP_HOST", "localhost"),
        smtp_port=port,
        smtp_tls=tls,
        smtp_user=env.get("LGS_SMTP_USER") or None,
        smtp_password=env.get("LGS_SMTP_PASSWORD") or None,
        smtp_timeout=timeout,
        smtp_ca_file=env.get("LGS_SMTP_CA_FILE") or None,
        earliest_date=earliest,
        future_days=future_days,
        spark_warehouse=Path(env.get("LGS_SPARK_WAREHOUSE") or PROJECT_ROOT / "spark-warehouse"),
        memory_limit=memory_limit,
    )


def bounded_number(
    name: str,
    raw: str | None,
    default: float,
    bounds: tuple[float, float],
    whole: bool = True,
) -> float:
    """The setting ``name`` read from ``raw`` (``default`` when unset or blank), within
    ``bounds`` (both included).

    Raises
    ------
    ConfigError
        If ``raw`` is not a (whole) number, is NaN or infinite, or lies outside
        ``bounds``; the message names the setting and its bounds.
    """
    low, high = bounds
    kind = "a whole number" if whole else "a number"
    span = f"{kind} from {low:g} to {high:g}"
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip()) if whole else float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not {kind}: it must be {span}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name}={raw!r} is out of bounds: it must be {span}")
    return value


def _earliest_date(raw: str) -> date:
    """``LGS_EARLIEST_DATE``: an ISO date from 1900 up to today."""
    try:
        earliest = date.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"LGS_EARLIEST_DATE={raw!r} must be a date written YYYY-MM-DD") from None
    if not date(EARLIEST_YEAR, 1, 1) <= earliest <= date.today():
        raise ConfigError(
            f"LGS_EARLIEST_DATE={raw!r} is out of bounds: it must lie from "
            f"{EARLIEST_YEAR}-01-01 to today"
        )
    return earliest


def parse_bytes(value: str, name: str) -> int:
    """Parse a size such as ``4GB``, ``512MB``, ``1.5G`` or ``1073741824`` into bytes.

    Units are binary (``1GB`` is 1024**3 bytes); ``iB`` spellings are accepted too.

    Raises
    ------
    ConfigError
        If ``value`` is not a positive, finite size; the message names ``name``.
    """
    text_value = value.strip().lower().replace(" ", "")
    for suffix in ("ib", "b"):
        if text_value.endswith(suffix) and text_value[: -len(suffix)][-1:].isalpha():
            text_value = text_value[: -len(suffix)]
            break
    unit = text_value[-1:] if text_value[-1:].isalpha() else ""
    number = text_value[: len(text_value) - len(unit)]
    try:
        amount = float(number) * _BYTE_UNITS[unit]
    except (KeyError, ValueError):
        raise ConfigError(
            f"{name}={value!r} is not a size: write it as 4GB, 512MB or a number of bytes"
        ) from None
    if not (amount == amount and 0 < amount < 2**63):  # not NaN, positive, finite
        raise ConfigError(f"{name}={value!r} must be a positive, finite size such as 4GB")
    return int(amount)


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """``(scheme, userinfo, rest)`` of ``scheme://userinfo@rest``, the userinfo ending at the
    last ``@`` (an unencoded password may hold ``@``, ``:`` or ``/``); None without one."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, host = rest.rpartition("@")
    return scheme, userinfo, host


def normalise_url(url: str) -> str:
    """``url`` with an unencoded ``@`` in its password percent-encoded.

    SQLAlchemy ends the password at the first ``@``, so ``postgres:Pa:ss@w0rd@host`` would
    connect to the host ``w0rd@host`` and print ``w0rd`` in every error. A URL holding more
    than one ``@`` is read as its user info up to the last ``@`` (as :func:`redact_url`
    reads it), and that user info is encoded; an ``@`` in a query must then be written
    ``%40``. Any other URL is returned as it is.
    """
    from urllib.parse import quote

    parts = _split_userinfo(url)
    if parts is None or "@" not in parts[1]:
        return url
    scheme, userinfo, rest = parts
    user, colon, password = userinfo.partition(":")
    encoded = quote(user, safe="") + (":" + quote(password, safe="") if colon else "")
    return f"{scheme}://{encoded}@{rest}"


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``.

    Everything between the user name and the last ``@`` is the password, so a password
    holding ``@`` or ``:`` (``postgres:Pa:ss@w0rd@host``) is hidden whole.
    """
    parts = _split_userinfo(url)
    if parts is not None:
        scheme, userinfo, rest = parts
        user, colon, _ = userinfo.partition(":")
        return f"{scheme}://{user}{':***' if colon else ''}@{rest}"
    if "://" in url:
        return url  # no userinfo, so no password
    return "***"  # not a URL: it may be a bare secret
