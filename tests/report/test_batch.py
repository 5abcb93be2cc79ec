"""Many periods in one command: real `make reports` / `lgs reports` runs, workers in parallel.

Each period's figures are checked against the raw lines read here with pandas; a period
without data fails alone, named, and the index is written once, after every version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lgs_analysis.ingest.demo import load_demo
from lgs_analysis.warehouse import get_engine

from ..conftest import create_pg_database, drop_pg_database

PROJECT = Path(__file__).resolve().parents[2]
LGS = str(Path(sys.executable).parent / "lgs")
DEMO_ROWS = 60_000


def _env(url: str, reports: Path) -> dict[str, str]:
    # not LGS_* (the test's own), nor MAKE* (under `make test`, make would say make[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGS_", "MAKE"))}
    return {**env, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(reports)}


def _make(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT), "reports", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _expected(lines: pd.DataFrame, start: str, end: str) -> dict[str, float]:
    """Invoices, customers and net sales of [start, end), from the raw lines."""
    rows = lines[(lines["invoice_date"] >= start) & (lines["invoice_date"] < end)]
    return {
        "invoices": rows["invoice_no"].nunique(),
        "active_customers": rows["customer_id"].dropna().nunique(),
        "net_sales": round(float((rows["quantity"] * rows["unit_price"].astype(float)).sum()), 2),
    }


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> tuple[str, pd.DataFrame]:
    path = tmp_path_factory.mktemp("batch") / "warehouse.duckdb"
    engine = get_engine(f"duckdb:///{path}")
    load_demo(engine, n_rows=DEMO_ROWS)
    engine.dispose()
    with duckdb.connect(str(path), read_only=True) as conn:
        lines = conn.execute(
            "select invoice_no, quantity, unit_price, customer_id, invoice_date from retail"
        ).fetch_df()
    return f"duckdb:///{path}", lines


def test_make_reports_builds_each_period_and_names_the_failure(demo_warehouse, tmp_path):
    url, lines = demo_warehouse
    reports = tmp_path / "reports"
    env = _env(url, reports)
    done = _make(env, "PERIODS=2011-01..2011-02 2011-Q1 1995-01", "JOBS=2")
    assert done.returncode != 0
    assert "*** [Makefile" in done.stderr and "Error 3" in done.stderr  # NoDataError
    assert "1 of 4 periods failed (1995-01)" in done.stderr
    assert "1995-01: FAILED (exit 3): no data for period 1995-01" in done.stderr
    assert "Traceback" not in done.stderr
    assert "reports: 4 of 4 reports done" in done.stderr  # plain progress without a terminal
    assert not (reports / "1995-01").exists()

    windows = {
        "2011-01": ("2011-01-01", "2011-02-01"),
        "2011-02": ("2011-02-01", "2011-03-01"),
        "2011-Q1": ("2011-01-01", "2011-04-01"),
    }
    index = reports / "index.html"
    for period, (start, end) in windows.items():
        version = reports / period / "v001"
        assert (version / "report.pdf").is_file(), period
        metrics = json.loads((version / "metrics.json").read_text())
        assert {k: metrics[k] for k in ("invoices", "active_customers", "net_sales")} == (
            _expected(lines, start, end)
        ), period
        assert f"{period}/v001/report.html" in index.read_text()
        # written once, at the end: after every version was published
        assert index.stat().st_mtime >= (version / "manifest.json").stat().st_mtime

    again = _make(env, "PERIODS=2011-01..2011-02")
    assert again.returncode == 0, again.stderr
    assert "2 periods" in again.stdout and "0 published, 2 up to date, 0 failed" in again.stdout
    assert not list(reports.glob("*/v002"))


def test_reports_month_wildcard_with_one_worker(demo_warehouse, tmp_path):
    url, _ = demo_warehouse
    # 144 workers asked for, but a 1 GB memory limit holds one: the batch says so
    env = {
        **_env(url, tmp_path / "reports"),
        "LGS_PERIODS": "2010-Q*",
        "LGS_JOBS": "144",
        "LGS_MEMORY_LIMIT": "1GB",
    }
    done = subprocess.run([LGS, "reports"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "4 periods in" in done.stdout and "with 1 worker: 4 published" in done.stdout
    assert "JOBS=144 capped to 1 worker: " in done.stderr
    assert "LGS_MEMORY_LIMIT=1.0 GB holds 1 worker of 1 GB" in done.stderr
    for quarter in ("2010-Q1", "2010-Q2", "2010-Q3", "2010-Q4"):
        assert (tmp_path / "reports" / quarter / "v001" / "report.html").is_file()


@pytest.mark.parametrize(
    ("requested", "periods", "cores", "memory_gb", "jobs", "said"),
    [
        (144, 12, 2, 4, 2, "JOBS=144 capped to 2 workers: 2 cores"),
        (144, 12, 64, 4, 4, "LGS_MEMORY_LIMIT=4.0 GB holds 4 workers of 1 GB"),
        (3, 12, 2, 0.5, 1, "2 cores, LGS_MEMORY_LIMIT=0.5 GB holds 1 worker"),
        (None, 12, 8, 2, 2, "one worker per core (8) capped to 2 workers"),
        (2, 12, 2, 4, 2, ""),
        (144, 1, 2, 4, 1, ""),  # fewer periods than workers: nothing to say
        (None, 3, 2, 4, 2, ""),
    ],
)
def test_cap_jobs_by_cores_memory_and_periods(
    monkeypatch, requested, periods, cores, memory_gb, jobs, said
):
    from lgs_analysis.report import batch

    monkeypatch.setattr(batch, "default_jobs", lambda: cores)
    got, message = batch.cap_jobs(requested, periods, int(memory_gb * 1024**3))
    assert got == jobs
    assert (said in message) if said else message == ""


def test_reports_bad_list_exits_before_work(demo_warehouse, tmp_path):
    url, _ = demo_warehouse
    done = _make(_env(url, tmp_path / "reports"), "PERIODS=2011-03..2011-01")
    assert done.returncode != 0
    assert "runs backwards: write 2011-01..2011-03" in done.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.postgres
def test_reports_on_postgres(pg_server, tmp_path):
    url = create_pg_database(pg_server, "lgs_t_batch")
    try:
        engine = get_engine(url)
        load_demo(engine, n_rows=DEMO_ROWS)
        engine.dispose()
        env = _env(url, tmp_path / "reports")
        done = subprocess.run(
            [LGS, "reports", "--periods", "2011-04 2011-05", "--jobs", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        drop_pg_database(url)
    assert done.returncode == 0, done.stderr
    assert "2 published, 0 up to date, 0 failed" in done.stdout
    for period in ("2011-04", "2011-05"):
        assert (tmp_path / "reports" / period / "v001" / "report.pdf").is_file()


def test_killed_batch_leaves_no_worker_kernel_or_tracker_behind(demo_warehouse, tmp_path):
    """Issue 22: a kill -9 of `lgs reports` left its spawn workers and the resource tracker
    running (about 300 MB each), and the workers went on building and publishing."""
    import time

    import psutil

    url, _ = demo_warehouse
    reports = tmp_path / "reports"
    batch = subprocess.Popen(
        [LGS, "reports", "--periods", "2011-01..2011-06", "--jobs", "2"],
        env=_env(url, reports),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT,
    )
    parent = psutil.Process(batch.pid)
    started = time.monotonic()
    descendants: list[psutil.Process] = []
    try:  # wait until a report kernel runs under a worker: the deepest tree there is
        while time.monotonic() - started < 120:
            descendants = parent.children(recursive=True)
            if any("ipykernel" in " ".join(p.cmdline()) for p in descendants):
                break
            time.sleep(0.2)
        else:
            pytest.fail("no report kernel started within 120 s")
        kinds = {"spawn_main", "resource_tracker", "ipykernel"}
        assert {k for k in kinds for p in descendants if k in " ".join(p.cmdline())} == kinds
    finally:
        batch.kill()
        batch.wait()
    gone, alive = psutil.wait_procs(descendants, timeout=15)
    assert alive == [], [p.cmdline()[:4] for p in alive]
    time.sleep(1)
    published = [p for p in reports.glob("*/v[0-9]*")]
    assert published == []  # no worker finished a report on its own
