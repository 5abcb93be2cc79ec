"""Hostile files: peak memory of `lgs load` refusing them (issue 11: under 1 GB on any input).

A 2 GB file with no newline used 4.4 GB before it crashed; a 4 MB XLSX expanding to 4 GiB
peaked at 4.35 GB. Each case runs the real command in a child process and reports the
child's peak resident memory, its exit code and the time to refuse.

A killed batch (issue 22): `lgs reports` killed with SIGKILL while its workers build left
them and the resource tracker running at about 300 MB each, still publishing; the case
reports what is left running (and its memory) a few seconds after the kill.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lgs_analysis.config import PROJECT_ROOT

HEADER = b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
_MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def peak_of(args: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """(peak RSS in MB, exit code, seconds) of one command, measured in its own parent."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    seconds = time.perf_counter() - started
    kilobytes, code = done.stdout.split()[-2:]
    return int(kilobytes) / 1024, int(code), seconds


def _long_line(path: Path, size: int) -> Path:
    block = b"x" * (8 << 20)
    with path.open("wb") as fh:
        fh.write(HEADER)
        for _ in range(size // len(block)):
            fh.write(block)
    return path


def _zip_bomb(path: Path, expanded: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b"<c>0</c>" * (1 << 17)
            for _ in range(expanded // len(block)):
                part.write(block)
    return path


def run() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lgs_bench_hostile_") as tmp:
        tmp_path = Path(tmp)
        env = {"LGS_DATABASE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
        lgs = [sys.executable, "-m", "lgs_analysis.cli", "load"]
        cases = [
            ("2 GB CSV, no newline", lambda: _long_line(tmp_path / "line.csv", 2 << 30)),
            ("XLSX expanding to 4 GiB", lambda: _zip_bomb(tmp_path / "bomb.xlsx", 4 << 30)),
        ]
        for name, make in cases:
            path = make()
            mb, code, seconds = peak_of([*lgs, str(path)], env)
            size = path.stat().st_size / (1 << 20)
            yield (
                f"{name} ({size:,.1f} MB file): exit {code} in {seconds:.1f} s, "
                f"peak memory {mb:,.0f} MB (target < 1,024 MB)"
            )
            path.unlink()
        yield _killed_batch(tmp_path)


def _killed_batch(tmp_path: Path, periods: str = "2011-01..2011-06", jobs: int = 2) -> str:
    """Kill -9 `lgs reports` once a report kernel runs; what is still alive 5 s later."""
    import psutil

    from lgs_analysis.ingest.demo import ensure_data
    from lgs_analysis.warehouse import ensure_schema, get_engine

    url = f"duckdb:///{tmp_path / 'batch.duckdb'}"
    engine = get_engine(url)
    ensure_schema(engine)
    ensure_data(engine)
    engine.dispose()
    reports = tmp_path / "reports"
    env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(reports)}
    batch = subprocess.Popen(
        [sys.executable, "-m", "lgs_analysis.cli", "reports", "--periods", periods],
        env={**env, "LGS_JOBS": str(jobs)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
    )
    parent = psutil.Process(batch.pid)
    started = time.perf_counter()
    tree: list[psutil.Process] = []
    while time.perf_counter() - started < 300:
        tree = parent.children(recursive=True)
        if any("ipykernel" in " ".join(p.cmdline()) for p in tree):
            break
        time.sleep(0.2)
    rss = sum(p.memory_info().rss for p in tree if p.is_running()) / (1 << 20)
    batch.kill()
    batch.wait()
    time.sleep(5)
    alive = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    left = sum(p.memory_info().rss for p in alive) / (1 << 20)
    published = len(list(reports.glob("*/v[0-9]*")))
    for process in alive:  # never leave them to the machine
        process.kill()
    return (
        f"kill -9 of lgs reports ({jobs} workers, {len(tree)} processes under it, "
        f"{rss:,.0f} MB): {len(alive)} still running 5 s later ({left:,.0f} MB), "
        f"{published} versions published after the kill (target 0 and 0)"
    )
