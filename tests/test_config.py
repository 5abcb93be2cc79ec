"""Settings read from the environment: sizes and their bounds."""

from __future__ import annotations

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
