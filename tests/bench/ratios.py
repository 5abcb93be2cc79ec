"""Benchmark: the report's speed as ratios with their targets (issue 12), on the real data.

- the forced 2011 report on DuckDB against the papermill floor (an empty notebook run by
  papermill in this environment): target <= 4x. Two floors are printed: the `papermill`
  command (a new interpreter, papermill's imports and a kernel, which `lgs report` pays
  too), and papermill called inside this already-running process (the older bench's);
- the same report on PostgreSQL against DuckDB: target <= 1.3x;
- twelve monthly reports in one `make reports` batch against one monthly report:
  target <= 6x on 2 cores;
- the 2011 report on 10 million generated lines against 0.5 million: target <= 3x;
- Spark local[2] against DuckDB on the real data, each query of the 2011 report and their
  total (`collect_report_data`), then the whole report: target <= 3x (issue 21);
- with the peak memory of each run: the largest process, and the whole process tree
  (report, kernel, batch workers) summed, sampled every 50 ms with psutil.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..conftest import PG_SERVER_URL, REAL_CSV, create_pg_database, drop_pg_database
from .report import papermill_floor

ROOT = Path(__file__).resolve().parents[2]
LGS = str(ROOT / ".venv" / "bin" / "lgs")
MB = 1024 * 1024


@dataclass
class Run:
    """One measured command: wall time and peak memory."""

    wall: float
    peak_tree_mb: float
    peak_process_mb: float
    stdout: str

    def memory(self) -> str:
        return f"peak {self.peak_tree_mb:,.0f} MB (largest process {self.peak_process_mb:,.0f} MB)"


def _measure(command: list[str], env: dict[str, str]) -> Run:
    """Run ``command``; sample the RSS of it and all its descendants until it ends."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peaks = {"tree": 0, "process": 0}
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for member in members:
                try:
                    rss = member.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                peaks["process"] = max(peaks["process"], rss)
            peaks["tree"] = max(peaks["tree"], total)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {err[-1500:]}")
    return Run(wall, peaks["tree"] / MB, peaks["process"] / MB, out)


def papermill_command_floor(tmp: Path, runs: int = 3) -> Run:
    """Best of ``runs``: the `papermill` command of the project's venv on an empty notebook."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp / "empty.ipynb")
    command = [
        str(ROOT / ".venv" / "bin" / "papermill"),
        "--kernel",
        "python3",
        "--no-progress-bar",
        "--log-level",
        "ERROR",
        str(tmp / "empty.ipynb"),
        str(tmp / "empty_out.ipynb"),
    ]
    return min((_measure(command, dict(os.environ)) for _ in range(runs)), key=lambda r: r.wall)


def _env(url: str, reports: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGS_", "MAKE"))}
    return {**env, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(reports)}


def _report(env: dict[str, str], period: str, force: bool = True) -> Run:
    return _measure([LGS, "report", "--period", period, *(["--force"] if force else [])], env)


def _phases(reports: Path, period: str) -> str:
    manifest = json.loads((reports / period / "latest" / "manifest.json").read_text())
    tm = manifest["timings"]
    return (
        f"prepare {tm['prepare_s']:.2f} + execute {tm['execute_s']:.2f} + HTML "
        f"{tm['html_s']:.2f} + PDF {tm['pdf_s']:.2f} s"
    )


def _best(measure: Callable[[], Run], runs: int = 2) -> Run:
    """The fastest of ``runs`` measurements: other work on the machine only adds time."""
    return min((measure() for _ in range(runs)), key=lambda run: run.wall)


def _ratio(name: str, value: float, target: float) -> str:
    verdict = "met" if value <= target else "MISSED"
    load = os.getloadavg()[0]  # other work on the machine skews wall times: say how much
    return f"RATIO {name}: {value:.2f}x (target <= {target:g}x: {verdict}; load average {load:.1f})"


def _load(url: str, loader: Callable[[object], object]) -> float:
    from lgs_analysis.warehouse import get_engine

    engine = get_engine(url)
    started = time.perf_counter()
    loader(engine)
    engine.dispose()
    return time.perf_counter() - started


def _spark_against_duckdb(say: Callable[[str], None], duck_url: str, duck: Run, tmp: Path) -> None:
    """Spark's fixed cost per query (issue 21 section 3): target 2011 within 3x DuckDB."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        say("Spark: skipped, pyspark not installed (make venv SPARK=1)")
        return
    from lgs_analysis.ingest.loaders import load_file

    from .query_times import query_times

    spark_url = "spark://local[2]"
    os.environ["LGS_SPARK_WAREHOUSE"] = str(tmp / "spark-warehouse")
    try:
        seconds = _load(spark_url, lambda e: load_file(REAL_CSV, e, progress=False))
        say(f"load real CSV into Spark local[2] (JVM start included): {seconds:.1f} s")
        totals, per_query = {}, {}
        for name, url in (("DuckDB", duck_url), ("Spark", spark_url)):
            totals[name], per_query[name] = query_times(url, "2011")
        for query in sorted(per_query["Spark"], key=per_query["Spark"].get, reverse=True):
            say(
                f"query {query}: Spark {per_query['Spark'][query]:.2f} s, "
                f"DuckDB {per_query['DuckDB'].get(query, 0.0):.2f} s"
            )
        say(
            f"collect_report_data 2011 (every query of the report): Spark "
            f"{totals['Spark']:.2f} s, DuckDB {totals['DuckDB']:.2f} s"
        )
        say(
            _ratio(
                "2011 report data Spark local[2] / DuckDB", totals["Spark"] / totals["DuckDB"], 3
            )
        )
        spark_env = {
            **_env(spark_url, tmp / "r_spark"),
            "LGS_SPARK_WAREHOUSE": str(tmp / "spark-warehouse"),
        }
        whole = _report(spark_env, "2011", force=False)
        say(
            f"report 2011 Spark local[2], whole `lgs report` (JVM start included): "
            f"{whole.wall:.2f} s ({_phases(tmp / 'r_spark', '2011')}); {whole.memory()}"
        )
        say(_ratio("2011 whole report Spark local[2] / DuckDB", whole.wall / duck.wall, 3))
    finally:
        os.environ.pop("LGS_SPARK_WAREHOUSE", None)


def run() -> list[str]:
    """Every ratio of issue 12 item 6, printed as it is measured."""
    if not REAL_CSV.exists():
        return [f"ratios: skipped, {REAL_CSV} not found"]
    from lgs_analysis.ingest.demo import load_demo
    from lgs_analysis.ingest.loaders import load_file

    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(f"  {line}", flush=True)

    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        command_floor = papermill_command_floor(tmp_path)
        floor = papermill_floor()
        say(
            f"papermill floor, empty notebook in the project venv, best of 3: the papermill "
            f"command {command_floor.wall:.2f} s ({command_floor.memory()}); papermill "
            f"called in this process {floor:.2f} s; {cores} cores"
        )

        # 1. the forced 2011 report on DuckDB, against the floor
        duck_url = f"duckdb:///{tmp_path / 'real.duckdb'}"
        seconds = _load(duck_url, lambda e: load_file(REAL_CSV, e, progress=False))
        say(f"load real CSV into DuckDB: {seconds:.1f} s")
        duck_env = _env(duck_url, tmp_path / "r_duck")
        _report(duck_env, "2011", force=False)  # first build: warms the caches
        duck = _best(lambda: _report(duck_env, "2011"))
        say(
            f"report 2011 DuckDB forced, best of 2: {duck.wall:.2f} s "
            f"({_phases(tmp_path / 'r_duck', '2011')}); {duck.memory()}"
        )
        say(
            _ratio(
                "2011 report DuckDB / papermill command floor", duck.wall / command_floor.wall, 4
            )
        )
        say(_ratio("2011 report DuckDB / in-process papermill floor", duck.wall / floor, 4))

        # 3. twelve monthly reports in one batch, against one monthly report
        month = _report(duck_env, "2011-06")
        say(f"report 2011-06 DuckDB: {month.wall:.2f} s; {month.memory()}")
        batch = _measure(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT),
                "reports",
                "PERIODS=2011-01..2011-12",
                "FORCE=1",
            ],
            duck_env,
        )
        say(
            f"make reports PERIODS=2011-01..2011-12 FORCE=1 ({cores} workers): "
            f"{batch.wall:.2f} s; {batch.memory()}"
        )
        say(
            _ratio(
                f"12 months in one batch / one month ({cores} cores)", batch.wall / month.wall, 6
            )
        )

        # 2. the same report on PostgreSQL, against DuckDB
        try:
            pg_url = create_pg_database(PG_SERVER_URL, prefix="lgs_b_ratio")
        except Exception as exc:  # noqa: BLE001 - report and go on
            say(f"PostgreSQL: skipped, server not reachable ({type(exc).__name__})")
        else:
            try:
                seconds = _load(pg_url, lambda e: load_file(REAL_CSV, e, progress=False))
                say(f"load real CSV into PostgreSQL: {seconds:.1f} s")
                pg_env = _env(pg_url, tmp_path / "r_pg")
                first = _report(pg_env, "2011", force=False)
                say(f"report 2011 PostgreSQL, first run: {first.wall:.2f} s")
                pg = _best(lambda: _report(pg_env, "2011"))
                say(
                    f"report 2011 PostgreSQL forced, best of 2: {pg.wall:.2f} s "
                    f"({_phases(tmp_path / 'r_pg', '2011')}); {pg.memory()}"
                )
                say(_ratio("2011 report PostgreSQL / DuckDB", pg.wall / duck.wall, 1.3))
            finally:
                drop_pg_database(pg_url)

        # 5. Spark local[2] against DuckDB on the real data: each query, and the report
        _spark_against_duckdb(say, duck_url, duck, tmp_path)

        # 4. the 2011 report at 10 million generated lines against 0.5 million
        walls = {}
        for rows in (500_000, 10_000_000):
            url = f"duckdb:///{tmp_path / f'demo_{rows}.duckdb'}"
            seconds = _load(url, lambda e, n=rows: load_demo(e, n_rows=n))
            env = _env(url, tmp_path / f"r_demo_{rows}")
            _report(env, "2011", force=False)
            walls[rows] = _report(env, "2011")
            say(
                f"report 2011 on {rows:,} demo lines (loaded in {seconds:.1f} s), forced: "
                f"{walls[rows].wall:.2f} s ({_phases(tmp_path / f'r_demo_{rows}', '2011')}); "
                f"{walls[rows].memory()}"
            )
            Path(url.removeprefix("duckdb:///")).unlink()
        say(
            _ratio(
                "2011 report 10M lines / 0.5M lines",
                walls[10_000_000].wall / walls[500_000].wall,
                3,
            )
        )
    return []  # printed as measured
