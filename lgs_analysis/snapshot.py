"""Independent reads of one report side by side, all on the report's snapshot.

On PostgreSQL each read beyond the first gets its own session that imports the report
transaction's exported snapshot (``pg_export_snapshot``, ``SET TRANSACTION SNAPSHOT``),
so the reads see exactly the same data and the server works on them at once: a row
store runs each query on one core, and a report's basket queries are independent.
DuckDB already spreads each query over every core and Spark over its executors: there
the reads run one after the other on the report's own connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Connection

from .warehouse import execute_sql_file, run_query, tune_report_session

__all__ = ["read_side_by_side"]

T = TypeVar("T")


def read_side_by_side(conn: Connection, reads: Sequence[Callable[[Connection], T]]) -> list[T]:
    """Run independent reads on ``conn``'s snapshot; their results in the same order.

    ``conn`` must be in a REPEATABLE READ transaction on PostgreSQL (a report's is), so
    that its snapshot can be exported. The first read runs on ``conn`` itself.
    """
    dialect = getattr(getattr(conn, "dialect", None), "name", "")
    if dialect != "postgresql" or len(reads) < 2:
        return [read(conn) for read in reads]
    snapshot_id = str(run_query(conn, "warehouse/snapshot_export")["snapshot_id"].iloc[0])

    def on_snapshot(read: Callable[[Connection], T]) -> T:
        with conn.engine.connect() as side:
            side = side.execution_options(isolation_level="REPEATABLE READ")
            execute_sql_file(side, "warehouse/snapshot_import", snapshot_id=snapshot_id)
            tune_report_session(side)
            return read(side)

    with ThreadPoolExecutor(max_workers=len(reads) - 1) as pool:
        others = [pool.submit(on_snapshot, read) for read in reads[1:]]
        first = reads[0](conn)
        return [first, *(future.result() for future in others)]
