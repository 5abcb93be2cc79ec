"""Each query's wall time in one report's `collect_report_data`, on any engine (for ratios).

Spark's cost per query is mostly fixed (planning, scheduling its jobs), so it shows per
query rather than in the total alone; the engine is opened first, so a JVM's start is not
counted.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from lgs_analysis.report.data import collect_report_data
from lgs_analysis.report.params import load_params
from lgs_analysis.warehouse import get_engine, queries


def query_times(url: str, period: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``collect_report_data(period)`` and of each named query in it.

    Every module that imported ``run_query`` gets a timed one for the run, then the
    original back.
    """
    import sys

    original = queries.run_query
    spent: dict[str, float] = defaultdict(float)

    def timed(conn: Any, name: str, **params: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(conn, name, **params)
        finally:
            spent[name] += time.perf_counter() - started

    patched: list[tuple[Any, Callable[..., Any]]] = [
        (module, original)
        for module in list(sys.modules.values())
        if module is not None
        and getattr(module, "__name__", "").startswith("lgs_analysis")
        and getattr(module, "run_query", None) is original
    ]
    engine = get_engine(url, read_only=True)
    try:
        for module, _ in patched:
            module.run_query = timed
        started = time.perf_counter()
        collect_report_data(period, load_params(period), engine)
        total = time.perf_counter() - started
    finally:
        for module, function in patched:
            module.run_query = function
        engine.dispose()
    return total, dict(spent)
