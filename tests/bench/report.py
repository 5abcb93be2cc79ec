"""Benchmark: `make report PERIOD=2011` on the real data, against the papermill floor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from ..conftest import REAL_CSV

ROOT = Path(__file__).resolve().parents[2]


def papermill_floor(runs: int = 3) -> float:
    """Best wall time of papermill executing a one-cell notebook with the same kernel."""
    import papermill as pm

    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        src = Path(tmp) / "empty.ipynb"
        nbformat.write(nb, src)
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            pm.execute_notebook(
                str(src),
                str(Path(tmp) / "out.ipynb"),
                parameters={"x": 2},
                kernel_name="python3",
                progress_bar=False,
                request_save_on_cell_execute=False,
            )
            best = min(best, time.perf_counter() - t)
    return best


def run() -> list[str]:
    """Load the real file into DuckDB, then time `lgs report --period 2011` twice."""
    if not REAL_CSV.exists():
        return [f"report: skipped, {REAL_CSV} not found"]
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"duckdb:///{Path(tmp) / 'w.duckdb'}"
        load_file(REAL_CSV, get_engine(url), progress=False)
        env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_REPORTS_DIR": str(Path(tmp) / "r")}
        floor = papermill_floor()
        for attempt in (1, 2):
            t = time.perf_counter()
            subprocess.run(
                [str(ROOT / ".venv" / "bin" / "lgs"), "report", "--period", "2011", "--force"],
                env=env,
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - t
            manifest = json.loads(
                (Path(tmp) / "r" / "2011" / "latest" / "manifest.json").read_text()
            )
            tm = manifest["timings"]
            lines.append(
                f"report 2011 real data (run {attempt}): wall {wall:.2f}s = prepare "
                f"{tm['prepare_s']:.2f}s + execute {tm['execute_s']:.2f}s + HTML "
                f"{tm['html_s']:.2f}s + PDF {tm['pdf_s']:.2f}s (+ CLI start-up); "
                f"target wall < 15s"
            )
        lines.append(
            f"papermill floor (empty notebook, same kernel): {floor:.2f}s; execution = "
            f"{tm['execute_s'] / floor:.1f}x floor (target 2x)"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(run()), file=sys.stdout)
