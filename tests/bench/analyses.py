"""Benchmark: the time the marketing analyses add to a report (baskets, movement, cohorts, CLV)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from lgs_analysis.analyses import marketing, rfm
from lgs_analysis.analyses.coverage import data_span
from lgs_analysis.periods import parse_period
from lgs_analysis.report.params import load_params
from lgs_analysis.warehouse import data_range, get_engine

from ..conftest import REAL_CSV


def time_marketing(url: str, period_label: str, runs: int = 2) -> tuple[float, dict]:
    """Best wall time of collect_marketing for a period (the RFM basis it needs excluded)."""
    period = parse_period(period_label)
    params = load_params(period_label)
    engine = get_engine(url)
    best, extras = float("inf"), {}
    with engine.connect() as conn:
        basis, snapshot = rfm.fetch_rfm_basis(
            conn, period.lookback_start(int(params["rfm_lookback_months"])), period.end
        )
        scored = rfm.score_rfm(basis)
        first, last, _ = data_range(conn)
        span = data_span(first, last)
        for _ in range(runs):
            started = time.perf_counter()
            extras = marketing.collect_marketing(conn, period, params, scored, snapshot, span)
            best = min(best, time.perf_counter() - started)
    return best, extras


def run() -> list[str]:
    """Time the analyses on the real data and, when lgs_analysis.ingest.demo exists, on 10M rows."""
    lines = []
    if REAL_CSV.exists():
        from lgs_analysis.ingest.loaders import load_file

        with tempfile.TemporaryDirectory() as tmp:
            url = f"duckdb:///{Path(tmp) / 'w.duckdb'}"
            load_file(REAL_CSV, get_engine(url), progress=False)
            for label in ("2011", "2011-11"):
                seconds, x = time_marketing(url, label)
                lines.append(
                    f"marketing analyses, real data, {label}: {seconds:.2f}s "
                    f"({x['count_baskets']:,} baskets, {len(x['rules'])} rules)"
                )
    else:
        lines.append(f"real data: skipped, {REAL_CSV} not found")
    try:
        from lgs_analysis.ingest import demo
    except ImportError:
        lines.append("10M generated rows: skipped, lgs_analysis.ingest.demo is not there yet")
        return lines
    with tempfile.TemporaryDirectory() as tmp:
        url = f"duckdb:///{Path(tmp) / 'demo.duckdb'}"
        demo.load_demo(get_engine(url), n_rows=10_000_000)
        seconds, x = time_marketing(url, "2011", runs=1)
        lines.append(
            f"marketing analyses, 10M generated rows, 2011: {seconds:.2f}s "
            f"({x['count_baskets']:,} baskets, {len(x['rules'])} rules)"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
