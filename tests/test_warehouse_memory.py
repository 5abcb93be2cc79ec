"""LGS_MEMORY_LIMIT reaches every engine (read back from the engine itself), and a query
past it stops with MemoryLimitError (real DuckDB, PostgreSQL and local Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lgs_analysis.config import get_settings, parse_bytes
from lgs_analysis.exceptions import MemoryLimitError
from lgs_analysis.warehouse import get_engine

GB = 1024**3


def _duckdb_settings(url: str, read_only: bool) -> dict[str, str]:
    engine = get_engine(url, read_only=read_only)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "select name, value from duckdb_settings()"
                    " where name in ('memory_limit', 'temp_directory')"
                )
            ).all()
    finally:
        engine.dispose()
    return dict(rows)


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_duckdb_gets_half_the_limit_and_spills_beside_the_warehouse(
    duckdb_url, monkeypatch, read_only
):
    monkeypatch.setenv("LGS_MEMORY_LIMIT", "1GB")
    got = _duckdb_settings(duckdb_url, read_only)
    assert parse_bytes(got["memory_limit"].replace(" ", ""), "memory_limit") == GB // 2
    database = Path(make_url(duckdb_url).database)
    temp = Path(got["temp_directory"])
    assert temp.parent == Path(f"{database}.tmp")  # one folder per process, beside the file


def test_postgresql_sessions_get_work_mem_from_the_limit(pg_url, monkeypatch):
    monkeypatch.setenv("LGS_MEMORY_LIMIT", "2GB")
    for read_only in (False, True):
        engine = get_engine(pg_url, read_only=read_only)
        try:
            with engine.connect() as conn:
                work = conn.execute(text("show work_mem")).scalar_one()
                maintenance = conn.execute(text("show maintenance_work_mem")).scalar_one()
        finally:
            engine.dispose()
        assert (work, maintenance) == ("128MB", "256MB")  # a sixteenth and an eighth


def test_spark_driver_heap_is_half_the_limit(spark_url):
    """The session starts once per process, so it carries the limit in force then."""
    engine = get_engine(spark_url)
    limit = get_settings().memory_limit
    conf = engine.spark.sparkContext.getConf().get("spark.driver.memory")
    assert conf == f"{limit // 2 // 1024**2}m"
    jvm = engine.spark.sparkContext._jvm
    heap = jvm.java.lang.Runtime.getRuntime().maxMemory()  # what the JVM really got
    assert 0.8 * limit / 2 <= heap <= limit / 2


def test_a_query_past_the_limit_raises_memory_limit_error(duckdb_url, monkeypatch):
    """A list aggregate cannot spill: 40M integers need more than DuckDB's 128 MB share."""
    monkeypatch.setenv("LGS_MEMORY_LIMIT", "256MB")
    engine = get_engine(duckdb_url)
    try:
        with (
            engine.connect() as conn,
            pytest.raises(MemoryLimitError, match="LGS_MEMORY_LIMIT=256 MB"),
        ):
            conn.execute(text("select len(list(i)) from range(40000000) t(i)")).all()
    finally:
        engine.dispose()
