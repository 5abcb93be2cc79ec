"""Benchmark: the same report at scale on DuckDB, PostgreSQL and Spark local[2].

Generates demo lines once (10 million; 100 million too with ``LGS_BENCH_100M=1``) into
Parquet, then, for each engine in a fresh process: the bulk load of those lines (the
project's own load path, ``load_batch``), the report's warehouse work
(``collect_report_data`` for 2011: every query of the report, only aggregates come back)
and the peak memory of that process and its children (Spark's JVM included; PostgreSQL's
server is a separate service and is not counted). PostgreSQL runs at 10M only.

    .venv/bin/python -m tests.bench.scale            # as in make bench
    .venv/bin/python -m tests.bench.scale 2000000    # other sizes, for a quick look
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..conftest import PG_SERVER_URL, create_pg_database, drop_pg_database

PERIOD = "2011"
SPARK_URL = "spark://local[2]"


def _generate(n_rows: int, folder: Path) -> float:
    import pyarrow.parquet as pq

    from lgs_analysis.ingest.demo import generate_demo

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(generate_demo(n_rows)):
        pq.write_table(chunk, folder / f"part-{i:05d}.parquet")
    return time.perf_counter() - started


class _PeakMemory:
    """Peak resident memory of this process and its children, sampled every 0.2 s."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in [self.process, *self.process.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _one_engine(url: str, parquet_dir: str, n_rows: int) -> dict[str, float]:
    """In a fresh process: load the Parquet lines into ``url``, then the report's queries."""
    import pandas as pd
    import pyarrow.parquet as pq

    from lgs_analysis.ingest.batches import load_batch
    from lgs_analysis.ingest.demo import GENERATOR_VERSION
    from lgs_analysis.ingest.validate import QUARANTINE_COLUMNS
    from lgs_analysis.report.data import collect_report_data
    from lgs_analysis.report.params import load_params
    from lgs_analysis.warehouse import ensure_schema, get_engine

    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    files = sorted(Path(parquet_dir).glob("*.parquet"))
    figures: dict[str, float] = {}
    with _PeakMemory() as memory:
        started = time.perf_counter()
        engine = get_engine(url)
        ensure_schema(engine)
        figures["start_s"] = time.perf_counter() - started
        started = time.perf_counter()
        result = load_batch(
            engine,
            source_kind="demo",
            source_name="demo",
            fingerprint=f"demo:{n_rows}:42:v{GENERATOR_VERSION}",
            chunks=((pq.read_table(f), empty) for f in files),
        )
        figures["load_s"] = time.perf_counter() - started
        figures["loaded"] = result.count_loaded
        started = time.perf_counter()
        data = collect_report_data(PERIOD, load_params(PERIOD), engine)
        figures["report_s"] = time.perf_counter() - started
        figures["customers"] = len(data.customers)
        engine.dispose()
    figures["peak_mb"] = memory.peak / 2**20
    return figures


def _run_engine(name: str, url: str, parquet_dir: Path, n_rows: int, env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.scale", "--engine", url, str(parquet_dir), str(n_rows)],
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{n_rows:,} lines on {name}: FAILED ({tail})"
    f = json.loads(lines[-1])
    return (
        f"{n_rows:,} lines on {name}: start {f['start_s']:.1f} s, load {f['load_s']:.1f} s "
        f"({n_rows / f['load_s'] / 1e6:.2f} M lines/s), report {PERIOD} "
        f"(collect_report_data) {f['report_s']:.1f} s, peak memory {f['peak_mb']:,.0f} MB"
        + ("" if int(f["loaded"]) == n_rows else f" (loaded {int(f['loaded']):,}!)")
    )


def _sizes() -> list[int]:
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        return [int(a) for a in sys.argv[1:]]
    sizes = [10_000_000]
    if os.environ.get("LGS_BENCH_100M") == "1":
        sizes.append(100_000_000)
    return sizes


def run() -> list[str]:
    """Load and report at scale on DuckDB, Spark local[2] and (10M only) PostgreSQL."""
    lines = [f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"]
    for n_rows in _sizes():
        with tempfile.TemporaryDirectory(prefix="lgs-scale-") as tmp:
            root = Path(tmp)
            seconds = _generate(n_rows, root / "lines")
            lines.append(f"generate {n_rows:,} demo lines to Parquet: {seconds:.1f} s")
            env = {**os.environ, "LGS_SPARK_WAREHOUSE": str(root / "spark-warehouse")}
            engines = [("DuckDB", f"duckdb:///{root / 'scale.duckdb'}")]
            engines.append(("Spark local[2]", SPARK_URL))
            pg_url = None
            if n_rows <= 10_000_000:
                try:
                    pg_url = create_pg_database(PG_SERVER_URL, prefix="lgs_b_scale")
                    engines.append(("PostgreSQL", pg_url))
                except Exception as exc:  # noqa: BLE001 - report and go on
                    lines.append(f"PostgreSQL: skipped, not reachable ({type(exc).__name__})")
            try:
                for name, url in engines:
                    lines.append(_run_engine(name, url, root / "lines", n_rows, env))
                    print(f"  {lines[-1]}", file=sys.stderr, flush=True)
            finally:
                if pg_url:
                    drop_pg_database(pg_url)
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--engine":
        print(json.dumps(_one_engine(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        for line in run():
            print(line)
