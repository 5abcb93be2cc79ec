"""Independent reads of one report, started early and run beside its other work, all on
the report's snapshot.

On PostgreSQL each read gets its own session that imports the report transaction's
exported snapshot (``pg_export_snapshot``, ``SET TRANSACTION SNAPSHOT``), so it sees
exactly the same data while the server works on it beside the report's other queries: a
row store runs each query on one core. DuckDB already spreads each query over every
core and Spark over its executors: there the reads run one after the other on the
report's own connection, when their results are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from .queries import execute_sql_file, run_query, tune_report_session

__all__ = ["SideReads"]

T = TypeVar("T")


class SideReads(Generic[T]):
    """Start independent reads on ``conn``'s snapshot; :meth:`results` waits for them.

    ``conn`` must be in a REPEATABLE READ transaction on PostgreSQL (a report's is) that
    has read once (its snapshot is then fixed), and stay open until :meth:`results`
    returns. Use it as a context manager, so that the sessions end on every path::

        with SideReads(conn, [read_a, read_b]) as reads:
            ...  # other work on conn
            a, b = reads.results()
    """

    def __init__(self, conn: Connection, reads: Sequence[Callable[[Connection], T]]) -> None:
        self._conn = conn
        self._reads = list(reads)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[T]] = []
        dialect = getattr(getattr(conn, "dialect", None), "name", "")
        if dialect == "postgresql" and self._reads:
            found = run_query(conn, "warehouse/snapshot_export")
            snapshot_id = str(found["snapshot_id"].iloc[0])
            self._pool = ThreadPoolExecutor(max_workers=len(self._reads))
            self._futures = [
                self._pool.submit(self._on_snapshot, snapshot_id, read) for read in self._reads
            ]

    def _on_snapshot(self, snapshot_id: str, read: Callable[[Connection], T]) -> T:
        with self._conn.engine.connect() as side:
            side = side.execution_options(isolation_level="REPEATABLE READ")
            execute_sql_file(side, "warehouse/snapshot_import", snapshot_id=snapshot_id)
            tune_report_session(side)
            return read(side)

    def results(self) -> list[T]:
        """The reads' results, in the order given (raises the first read's error)."""
        if self._pool is None:
            return [read(self._conn) for read in self._reads]
        return [future.result() for future in self._futures]

    def __enter__(self) -> SideReads[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
