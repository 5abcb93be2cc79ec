"""Benchmark: demo data generation (default size and 10 million lines) and its load."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..conftest import PG_SERVER_URL, create_pg_database, drop_pg_database


def _time_generation(n_rows: int) -> str:
    from lgs_analysis.ingest.demo import generate_demo

    started = time.perf_counter()
    count = chunks = 0
    for chunk in generate_demo(n_rows):
        count += chunk.num_rows
        chunks += 1
    seconds = time.perf_counter() - started
    return f"generate {count:,} lines in {chunks} chunks: {seconds:.2f} s"


def _time_load(url: str, target: str) -> str:
    from lgs_analysis.ingest.demo import DEFAULT_ROWS, load_demo
    from lgs_analysis.warehouse import ensure_schema, get_engine

    engine = get_engine(url)
    ensure_schema(engine)
    started = time.perf_counter()
    result = load_demo(engine)
    seconds = time.perf_counter() - started
    engine.dispose()
    return f"generate + load {DEFAULT_ROWS:,} demo lines into {target}: {seconds:.2f} s" + (
        "" if result.count_loaded == DEFAULT_ROWS else f" (loaded {result.count_loaded:,}!)"
    )


def run() -> list[str]:
    """Generation at the default size and at 10 million lines; load into DuckDB and PostgreSQL."""
    from lgs_analysis.ingest.demo import DEFAULT_ROWS

    lines = [_time_generation(DEFAULT_ROWS), _time_generation(10_000_000)]
    with tempfile.TemporaryDirectory() as tmp:
        lines.append(_time_load(f"duckdb:///{Path(tmp) / 'bench.duckdb'}", "DuckDB"))
    try:
        url = create_pg_database(PG_SERVER_URL, prefix="lgs_b_demo")
    except Exception as exc:  # noqa: BLE001 - report and go on
        lines.append(f"PostgreSQL: skipped, server not reachable ({exc.__class__.__name__})")
        return lines
    try:
        lines.append(_time_load(url, "PostgreSQL"))
    finally:
        drop_pg_database(url)
    return lines
