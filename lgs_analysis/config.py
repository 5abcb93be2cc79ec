"""Settings from the environment, with an optional ``.env`` file.

Secrets (database passwords, SMTP credentials) live only here; they are never
report parameters, so they never reach a notebook, HTML or PDF.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dotenv import dotenv_values

from .exceptions import ConfigError

__all__ = ["PROJECT_ROOT", "Settings", "get_settings", "redact_url"]

PROJECT_ROOT = Path(os.environ.get("LGS_HOME", Path(__file__).resolve().parents[1]))
SMTP_TLS_MODES = ("none", "starttls", "ssl")


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
    try:
        port = int(env.get("LGS_SMTP_PORT", default_port))
        timeout = float(env.get("LGS_SMTP_TIMEOUT", 30))
    except ValueError as exc:
        raise ConfigError(f"LGS_SMTP_PORT/LGS_SMTP_TIMEOUT must be numbers: {exc}") from exc
    try:
        earliest = date.fromisoformat(env.get("LGS_EARLIEST_DATE") or "1990-01-01")
        future_days = int(env.get("LGS_FUTURE_DAYS") or 1)
    except ValueError as exc:
        raise ConfigError(
            f"LGS_EARLIEST_DATE must be YYYY-MM-DD and LGS_FUTURE_DAYS a whole number: {exc}"
        ) from exc
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
    )


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: hide everything after the scheme
        return url.split("://", 1)[0] + "://***" if "://" in url else "***"
