"""Benchmark: loading the real file into DuckDB and PostgreSQL (target: PostgreSQL under 10 s)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..conftest import PG_SERVER_URL, REAL_CSV, REAL_SQL, create_pg_database, drop_pg_database


def _time_load(source: Path, url: str) -> str:
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import describe_target, get_engine

    engine = get_engine(url)
    started = time.perf_counter()
    result = load_file(source, engine, progress=False)
    seconds = time.perf_counter() - started
    engine.dispose()
    rate = result.count_loaded / seconds if seconds else 0.0
    target = describe_target(url).split(" ")[0]
    return (
        f"{source.name} -> {target}: {seconds:.2f} s, {result.count_loaded:,} rows loaded, "
        f"{result.count_quarantined:,} quarantined, {rate:,.0f} rows/s"
    )


def _time_postgres(source: Path) -> str:
    try:
        url = create_pg_database(PG_SERVER_URL, prefix="lgs_b_loading")
    except Exception as exc:  # noqa: BLE001 - report and go on with the other figures
        return (
            f"{source.name} -> postgresql: skipped, server not reachable ({exc.__class__.__name__})"
        )
    try:
        return _time_load(source, url)
    finally:
        drop_pg_database(url)


def run() -> list[str]:
    """Load time and rows/s of the real CSV and SQL dump, each into a fresh warehouse."""
    lines: list[str] = []
    for source in (REAL_CSV, REAL_SQL):
        if not source.exists():
            lines.append(f"{source.name}: skipped, not found at {source}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            lines.append(_time_load(source, f"duckdb:///{Path(tmp) / 'warehouse.duckdb'}"))
        lines.append(_time_postgres(source))
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
