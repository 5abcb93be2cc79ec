"""Hostile files: peak memory of `lgs load` refusing them (issue 11: under 1 GB on any input).

A 2 GB file with no newline used 4.4 GB before it crashed; a 4 MB XLSX expanding to 4 GiB
peaked at 4.35 GB. Each case runs the real command in a child process and reports the
child's peak resident memory, its exit code and the time to refuse.

A killed batch (issue 22): `lgs reports` killed with SIGKILL while its workers build left
them and the resource tracker running at about 300 MB each, still publishing; the case
reports what is left running (and its memory) a few seconds after the kill.

Resources a parameter or setting can claim (issue 22, section 1): a report of the real
2011 at ``min_support=0.001`` (before: past 6 GB in 8 s; 0.0001 reached 20 GB) and a batch
asked for ``JOBS=144`` (before: 144 workers at once, 4.3 GB in 9 s).
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
        yield _many_jobs(tmp_path)
        yield from _tiny_min_support(tmp_path)


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


def _tree_peak(args: list[str], env: dict[str, str]) -> tuple[int, float, int, float]:
    """(most processes, most MB of the whole tree, exit code, seconds), sampled every 0.2 s."""
    import psutil

    started = time.perf_counter()
    command = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=PROJECT_ROOT
    )
    parent = psutil.Process(command.pid)
    most, peak = 0, 0.0
    while command.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in tree if p.is_running())
        except psutil.Error:
            continue
        most, peak = max(most, len(tree)), max(peak, rss / (1 << 20))
        time.sleep(0.2)
    return most, peak, command.returncode, time.perf_counter() - started


def _many_jobs(tmp_path: Path) -> str:
    """`lgs reports` asked for 144 workers: how many processes and how much memory."""
    url = f"duckdb:///{tmp_path / 'batch.duckdb'}"  # filled by _killed_batch
    env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(tmp_path / "jobs")}
    most, peak, code, seconds = _tree_peak(
        [sys.executable, "-m", "lgs_analysis.cli", "reports", "--periods", "2011-01..2011-12"],
        {**env, "LGS_JOBS": "144"},
    )
    from lgs_analysis.report.batch import default_jobs

    return (
        f"JOBS=144 over 12 months: exit {code} in {seconds:.1f} s, at most {most} processes "
        f"in the tree, peak {peak:,.0f} MB (target: {default_jobs()} workers, one per core)"
    )


def _tiny_min_support(tmp_path: Path) -> Iterator[str]:
    """A report of the real 2011 at min_support 0.001 and 0.0001, under LGS_MEMORY_LIMIT."""
    real = PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
    if not real.exists():
        yield f"min_support: skipped, no real data at {real}"
        return
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    url = f"duckdb:///{tmp_path / 'real.duckdb'}"
    engine = get_engine(url)
    load_file(real, engine, progress=False)
    engine.dispose()
    env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(tmp_path / "real")}
    for support in ("0.001", "0.0001"):
        most, peak, code, seconds = _tree_peak(
            [
                *(sys.executable, "-m", "lgs_analysis.cli", "report", "--period", "2011"),
                *("-p", f"min_support={support}"),
            ],
            env,
        )
        yield (
            f"report 2011 at min_support={support}: exit {code} in {seconds:.1f} s, "
            f"peak {peak:,.0f} MB for {most} processes (target: exit 2 naming the smallest "
            "min_support that fits, within LGS_MEMORY_LIMIT)"
        )
