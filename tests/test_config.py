"""Settings read from the environment: sizes and their bounds."""

from __future__ import annotations

from datetime import date

import pytest

from lgs_analysis.config import DEFAULT_MEMORY_LIMIT, get_settings, parse_bytes
from lgs_analysis.exceptions import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4GB", 4 * 1024**3),
        ("4gib", 4 * 1024**3),
        ("512MB", 512 * 1024**2),
        ("1.5G", int(1.5 * 1024**3)),
        ("1073741824", 1024**3),
        ("4 GB", 4 * 1024**3),
    ],
)
def test_parse_bytes_accepts_sizes(text: str, expected: int) -> None:
    assert parse_bytes(text, "LGS_MEMORY_LIMIT") == expected


@pytest.mark.parametrize("text", ["", "b", "inf", "nan", "-1", "0", "abc", "1e400", "4XB"])
def test_parse_bytes_refuses_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ConfigError, match="LGS_MEMORY_LIMIT="):
        parse_bytes(text, "LGS_MEMORY_LIMIT")


def test_memory_limit_defaults_to_4gb_and_refuses_a_tiny_one(monkeypatch, tmp_path) -> None:
    env_file = tmp_path / ".env"
    monkeypatch.delenv("LGS_MEMORY_LIMIT", raising=False)
    assert get_settings(env_file).memory_limit == DEFAULT_MEMORY_LIMIT == 4 * 1024**3
    monkeypatch.setenv("LGS_MEMORY_LIMIT", "2G")
    assert get_settings(env_file).memory_limit == 2 * 1024**3
    monkeypatch.setenv("LGS_MEMORY_LIMIT", "10MB")
    with pytest.raises(ConfigError, match="below the smallest"):
        get_settings(env_file)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LGS_SMTP_TIMEOUT", "-1"),
        ("LGS_SMTP_TIMEOUT", "0"),
        ("LGS_SMTP_TIMEOUT", "nan"),
        ("LGS_SMTP_TIMEOUT", "inf"),
        ("LGS_SMTP_TIMEOUT", "1e9"),
        ("LGS_SMTP_TIMEOUT", "soon"),
        ("LGS_SMTP_PORT", "70000"),
        ("LGS_SMTP_PORT", "0"),
        ("LGS_SMTP_PORT", "-25"),
        ("LGS_SMTP_PORT", "25.5"),
        ("LGS_FUTURE_DAYS", "999999999"),
        ("LGS_FUTURE_DAYS", "-1"),
        ("LGS_FUTURE_DAYS", "1e3"),
        ("LGS_EARLIEST_DATE", "0001-01-01"),
        ("LGS_EARLIEST_DATE", "9999-12-31"),
        ("LGS_EARLIEST_DATE", "1 Jan 1990"),
    ],
)
def test_get_settings_refuses_values_out_of_bounds(monkeypatch, tmp_path, name, value) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name}=") as caught:
        get_settings(tmp_path / ".env")
    assert caught.value.exit_code == 2


def test_get_settings_keeps_values_at_the_bounds(monkeypatch, tmp_path) -> None:
    for name, value in [
        ("LGS_SMTP_PORT", "65535"),
        ("LGS_SMTP_TIMEOUT", "3600"),
        ("LGS_FUTURE_DAYS", "3660"),
        ("LGS_EARLIEST_DATE", "1900-01-01"),
    ]:
        monkeypatch.setenv(name, value)
    settings = get_settings(tmp_path / ".env")
    assert (settings.smtp_port, settings.smtp_timeout, settings.future_days) == (65535, 3600, 3660)
    from lgs_analysis.periods import accepted_years

    assert accepted_years()[1] <= date.today().year + 11  # no overflow past the bound


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("LGS_LOCK_TIMEOUT", "inf", "lock"),
        ("LGS_LOCK_TIMEOUT", "nan", "lock"),
        ("LGS_LOCK_TIMEOUT", "-5", "lock"),
        ("LGS_PROGRESS_SECONDS", "nan", "progress"),
        ("LGS_PROGRESS_SECONDS", "-1", "progress"),
        ("LGS_MAX_LINE_BYTES", "99999999999999999999", "line"),
        ("LGS_MAX_LINE_BYTES", "0", "line"),
        ("LGS_MAX_XLSX_RATIO", "1000000", "xlsx"),
        ("LGS_SPARK_PARTITIONS", "0", "spark"),
        ("LGS_SPARK_PARTITIONS", "1e9", "spark"),
    ],
)
def test_other_settings_refused_out_of_bounds(monkeypatch, tmp_path, name, value, read) -> None:
    from lgs_analysis.ingest import limits
    from lgs_analysis.progress import Progress
    from lgs_analysis.warehouse.duckdb import lock_timeout

    monkeypatch.setenv(name, value)
    source = tmp_path / "x.xlsx"
    source.write_bytes(b"")
    from lgs_analysis.warehouse.spark import shuffle_partitions

    calls = {
        "spark": shuffle_partitions,
        "lock": lock_timeout,
        "progress": lambda: Progress("x", enabled=False),
        "line": limits.max_line_bytes,
        "xlsx": lambda: limits.check_xlsx_expansion(source),
    }
    with pytest.raises(ConfigError, match=f"^{name}=.*(from|not)"):
        calls[read]()
