"""`make bench`: run every tests/bench/<section>.py module's run() and print its figures.

``python -m tests.bench ratios`` runs only the sections named.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

# "ratios" times the whole report (DuckDB, PostgreSQL, batch, 10M lines); the older
# "report" section's figures are a subset of it, so it no longer runs by default
SECTIONS = ["loading", "demo", "ratios", "analyses", "clv", "campaigns", "etl", "hostile", "scale"]


def main() -> int:
    failures = 0
    for name in sys.argv[1:] or SECTIONS:
        if not (Path(__file__).parent / f"{name}.py").exists():
            continue
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"tests.bench.{name}")
            for line in module.run():
                print(f"  {line}", flush=True)
        except Exception as exc:  # report and go on with the other sections
            failures += 1
            print(f"  FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"  ({time.perf_counter() - started:.1f}s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
