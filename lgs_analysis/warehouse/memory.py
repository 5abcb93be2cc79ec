"""What each engine may hold, derived from ``LGS_MEMORY_LIMIT`` (the whole process tree).

The limit bounds a load, an ETL run or a report, Python and engine together, so each
engine gets a share and spills to disk past it instead of growing:

- DuckDB: half the limit as its ``memory_limit``; past it, it writes to a
  ``temp_directory`` beside the warehouse file. The other half is Python's (Arrow chunks
  of a load, a report's per-customer frames) and DuckDB's own overhead outside its buffer
  pool.
- PostgreSQL: ``work_mem`` of a sixteenth of the limit (a query runs several sorts and
  hashes at once, each may take ``hash_mem_multiplier`` times it), ``maintenance_work_mem``
  of an eighth. The server is another process; this keeps its share of the machine
  proportional to the same setting.
- Spark: half the limit as the driver's JVM heap (``local`` mode runs every task in it);
  the rest is the JVM's own overhead and Python.

A run that still cannot fit stops with :class:`~lgs_analysis.exceptions.MemoryLimitError`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "MEMORY_SETTING",
    "duckdb_config",
    "postgresql_options",
    "spark_driver_memory",
    "memory_message",
]

MEMORY_SETTING = "LGS_MEMORY_LIMIT"
_MB = 1024**2
_PG_MIN_WORK_MEM = 4 * _MB
_PG_MAX_WORK_MEM = 2 * 1024**3 - 1  # PostgreSQL's ceiling for work_mem (in kB, int)


def duckdb_config(limit: int, database: str | None) -> dict[str, str]:
    """DuckDB's ``memory_limit`` and ``temp_directory`` for a process bound to ``limit``.

    The temporary folder is ``<warehouse>.tmp/<pid>`` beside the file: one per process, as
    reports of many processes read one file side by side and each spills its own blocks
    (DuckDB deletes them when the connection closes). An in-memory database spills under
    the system's temporary folder.
    """
    config = {"memory_limit": f"{max(limit // 2 // _MB, 64)}MiB"}
    if database and database != ":memory:":
        folder = Path(f"{database}.tmp") / str(os.getpid())
        config["temp_directory"] = str(folder)
    return config


def postgresql_options(limit: int) -> str:
    """``-c`` options of a PostgreSQL session bound to ``limit`` (work_mem, maintenance)."""
    work = min(max(limit // 16, _PG_MIN_WORK_MEM), _PG_MAX_WORK_MEM) // 1024
    maintenance = min(max(limit // 8, _PG_MIN_WORK_MEM), _PG_MAX_WORK_MEM) // 1024
    return f"-c work_mem={work}kB -c maintenance_work_mem={maintenance}kB"


def spark_driver_memory(limit: int) -> str:
    """The driver's heap (``spark.driver.memory``) for ``limit``: half of it, in MB."""
    return f"{max(limit // 2 // _MB, 512)}m"


def memory_message(limit: int, what: str) -> str:
    """The error a run past the limit prints: what failed, the limit, and what to do."""
    shown = f"{limit / 1024**3:.3g} GB" if limit >= 1024**3 else f"{limit // _MB} MB"
    return (
        f"{what} needs more memory than {MEMORY_SETTING}={shown} allows, even spilling to "
        f"disk; nothing was published or loaded. Raise {MEMORY_SETTING} (e.g. "
        f"{MEMORY_SETTING}=8GB) if the machine has it, or free disk space for the spill"
    )
