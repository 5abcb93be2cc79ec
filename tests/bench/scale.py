"""Benchmark: a realistic shop at scale, and the same report on DuckDB, PostgreSQL and Spark.

``run()`` (``make bench``, section ``scale``): demo lines of a bigger shop's shape
(``generate_demo(linear_customers=True)``: customers linear in lines, about 120 lines per
customer active in 2011, as the real data) at 10 million lines (100 million too with
``LGS_BENCH_100M=1``), written to a folder of Parquet files and to a CSV.gz file. Then, as
a user runs them, with the default ``LGS_MEMORY_LIMIT``: ``lgs load`` of the Parquet
folder, the whole ``make report PERIOD=2011`` (template, HTML, PDF, publish), and ``lgs
load`` of the CSV.gz into a fresh warehouse; each with its time and the peak resident
memory of its whole process tree (sampled every 0.2 s).

``run_engines()`` (``python -m tests.bench.scale engines``): the older engine comparison,
the same demo lines loaded by ``load_batch`` into DuckDB, Spark local[2] and (10M only)
PostgreSQL, then ``collect_report_data`` for 2011 in each.

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


def run_engines() -> list[str]:
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


PROJECT = Path(__file__).resolve().parents[2]


def _generate_shop(n_rows: int, parquet_dir: Path, csv_gz: Path | None) -> float:
    """A bigger shop's lines as Parquet files (and one CSV.gz); seconds taken."""
    import gzip

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from lgs_analysis.ingest.demo import generate_demo

    started = time.perf_counter()
    parquet_dir.mkdir(parents=True, exist_ok=True)
    chunks = generate_demo(n_rows, chunk_rows=1_000_000, linear_customers=True)
    with gzip.open(csv_gz, "wb", compresslevel=1) if csv_gz else _NoFile() as fh:
        for i, chunk in enumerate(chunks):
            pq.write_table(chunk, parquet_dir / f"part-{i:05d}.parquet")
            if csv_gz:
                options = pacsv.WriteOptions(include_header=i == 0, quoting_style="needed")
                pacsv.write_csv(chunk, fh, options)
    return time.perf_counter() - started


class _NoFile:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _measured(argv: list[str], env: dict[str, str], what: str, n_rows: int) -> str:
    from .peak import measure_command

    m = measure_command(argv, env, cwd=str(PROJECT))
    if m.returncode != 0:
        tail = (m.output.strip().splitlines() or ["no output"])[-1]
        return f"{what}: FAILED (exit {m.returncode}: {tail}) after {m.seconds:.1f} s"
    return (
        f"{what}: {m.seconds:.1f} s ({n_rows / m.seconds / 1e3:,.0f}k lines/s), "
        f"peak memory {m.peak_gb:.2f} GB"
    )


def _report_counts(reports: Path) -> str:
    """Rows of customers.csv and of the campaign lists the report published."""
    import csv

    versions = sorted((reports / PERIOD).glob("v*"))
    if not versions:
        return "no published version"
    tables = versions[-1] / "tables"

    def rows(path: Path) -> int:
        with path.open(newline="", encoding="utf-8") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1

    customers = rows(tables / "customers.csv")
    lists = sum(rows(p) for p in tables.glob("campaign_*.csv"))
    return f"customers.csv {customers:,} rows, campaign lists {lists:,} rows"


def run() -> list[str]:
    """A realistic shop: Parquet and CSV.gz loads, the whole make report PERIOD=2011."""
    lines = [
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"LGS_MEMORY_LIMIT {os.environ.get('LGS_MEMORY_LIMIT') or 'default (4GB)'}"
    ]
    for n_rows in _sizes():
        with tempfile.TemporaryDirectory(prefix="lgs-shop-") as tmp:
            root = Path(tmp)
            csv_gz = root / "lines.csv.gz"
            seconds = _generate_shop(n_rows, root / "lines", csv_gz)
            lines.append(f"generate {n_rows:,} lines (Parquet and CSV.gz): {seconds:.1f} s")
            url = f"duckdb:///{root / 'shop.duckdb'}"
            env = {
                **os.environ,
                "LGS_DATABASE_URL": url,
                "LGS_REPORTS_DIR": str(root / "reports"),
                "LGS_PROGRESS_SECONDS": "60",
                "LGS_SOURCE": str(root / "lines"),
            }
            lgs = str(PROJECT / ".venv" / "bin" / "lgs")
            steps = [
                ("load Parquet folder", [lgs, "load"], env),
                ("make report PERIOD=2011", ["make", "report", "PERIOD=2011"], env),
                (
                    "load CSV.gz (fresh warehouse)",
                    [lgs, "load"],
                    {
                        **env,
                        "LGS_SOURCE": str(csv_gz),
                        "LGS_DATABASE_URL": f"duckdb:///{root / 'csv.duckdb'}",
                    },
                ),
            ]
            for what, argv, step_env in steps:
                lines.append(_measured(argv, step_env, f"{n_rows:,} lines, {what}", n_rows))
                print(f"  {lines[-1]}", file=sys.stderr, flush=True)
                if what.startswith("make report"):
                    lines.append(f"  {_report_counts(root / 'reports')}")
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--engine":
        print(json.dumps(_one_engine(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif sys.argv[1:2] == ["engines"]:
        del sys.argv[1]
        for line in run_engines():
            print(line)
    else:
        for line in run():
            print(line)
