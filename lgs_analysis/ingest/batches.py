"""Atomic, idempotent loads of validated rows into the warehouse.

A load is a *batch*: every row it brings carries its ``batch_id``. Loading
content whose fingerprint is already in ``load_batches`` is a no-op; loading a
changed version of a source (same ``source_name``) replaces the earlier batch.
A load of real data removes the demo data, and demo data never joins real data.
Everything happens in one transaction, so a failed load changes nothing.

On a Spark warehouse the same steps run on its batch directories: the transaction is the
manifest swap of :mod:`lgs_analysis.warehouse.spark`, and a deleted batch is one the new
snapshot no longer lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ..escape import terminal_text
from ..exceptions import MixedDataError
from ..log import logger
from ..warehouse import (
    SparkConnection,
    bulk_insert,
    ensure_schema,
    execute_sql_file,
    refresh_derived,
    run_query,
)

__all__ = [
    "LoadResult",
    "DemoState",
    "load_batch",
    "quarantine_table",
    "demo_state",
    "drop_demo",
]


@dataclass(frozen=True)
class DemoState:
    """Lines of demo batches and of real batches (files, ETL) the warehouse holds."""

    demo_batches: int
    demo_lines: int
    real_lines: int

    @property
    def mixed(self) -> bool:
        """True when demo and real lines sit side by side."""
        return self.demo_lines > 0 and self.real_lines > 0


def demo_state(conn: Connection | Engine) -> DemoState:
    """How much demo and real data the warehouse holds (from ``load_batches``)."""
    row = run_query(conn, "ingest/demo_batches").iloc[0]
    return DemoState(
        int(row["count_demo_batches"]), int(row["count_demo_lines"]), int(row["count_real_lines"])
    )


def drop_demo(conn: Connection) -> int:
    """Remove every demo batch inside ``conn``'s transaction; return the demo lines removed."""
    state = demo_state(conn)
    if state.demo_batches:
        if isinstance(conn, SparkConnection):
            conn.drop_batches(_batch_ids(conn, kind="demo"))
        else:
            execute_sql_file(conn, "ingest/drop_demo")
    return state.demo_lines


def _batch_ids(conn: SparkConnection, **where: str) -> set[int]:
    """The batch ids whose ``load_batches`` row has these values (Spark warehouse)."""
    filters = {"kind": None, "source_name": None, "fingerprint": None, **where}
    frame = run_query(conn, "ingest/batch_ids", **filters)
    return {int(v) for v in frame["batch_id"]}


@dataclass(frozen=True)
class LoadResult:
    """What a load did. ``skipped`` is True when the same content was already loaded."""

    source_name: str
    batch_id: int | None
    count_read: int
    count_loaded: int
    count_quarantined: int
    skipped: bool = False
    count_demo_removed: int = 0

    def summary(self) -> str:
        """One line for the terminal (two when the load removed the demo data)."""
        name = terminal_text(self.source_name)  # a newline in a file name stays on its line
        if self.skipped:
            return f"{name}: already loaded (batch {self.batch_id}); nothing changed"
        line = (
            f"{name}: read {self.count_read:,} rows, loaded {self.count_loaded:,}, "
            f"quarantined {self.count_quarantined:,} (batch {self.batch_id})"
        )
        if self.count_demo_removed:
            line += (
                f"\nremoved the demo data ({self.count_demo_removed:,} generated lines): "
                "reports now show only real data"
            )
        return line


def quarantine_table(batch_id: int, source_name: str, rejected: pd.DataFrame) -> pa.Table:
    """Rows for the ``quarantine`` table from validate_rows' rejected frame."""
    n = len(rejected)
    return pa.table(
        {
            "batch_id": pa.array([batch_id] * n, pa.int32()),
            "source_name": pa.array([source_name] * n, pa.string()),
            "line_no": pa.array(rejected["line_no"].to_numpy(), pa.int64()),
            "reason": pa.array(rejected["reason"].astype(str).to_numpy(), pa.string()),
            "raw_row": pa.array(rejected["raw_row"].astype(str).to_numpy(), pa.string()),
            "quarantined_at": pa.array([datetime.now()] * n, pa.timestamp("us")),
        }
    )


def load_batch(
    engine: Engine,
    *,
    source_kind: str,
    source_name: str,
    fingerprint: str,
    chunks: Iterable[tuple[pa.Table, pd.DataFrame]],
) -> LoadResult:
    """Load validated chunks as one batch, in one transaction.

    Parameters
    ----------
    source_kind : {'file', 'demo', 'etl'}
    source_name : str
        Identifies the source; a new load of the same name replaces the old one.
    fingerprint : str
        Hash of the content; content already loaded is skipped.
    chunks : iterable of (good, rejected)
        As returned by :func:`lgs_analysis.ingest.validate.validate_rows`. Consumed lazily,
        so a large source never sits in memory whole.
    """
    ensure_schema(engine)
    with engine.begin() as conn:
        spark = isinstance(conn, SparkConnection)
        if spark:
            found = _batch_ids(conn, fingerprint=fingerprint)
            existing = (min(found),) if found else None
        else:
            existing = conn.execute(
                text("select batch_id from load_batches where source_fingerprint = :fp"),
                {"fp": fingerprint},
            ).first()
        if existing is not None:
            return LoadResult(source_name, int(existing[0]), 0, 0, 0, skipped=True)
        if spark:
            batch_id = conn.next_batch_id()
            old = sorted(_batch_ids(conn, source_name=source_name))
        else:
            batch_id = int(conn.execute(text("select nextval('lgs_batch_seq')")).scalar_one())
            old = [
                r[0]
                for r in conn.execute(
                    text("select batch_id from load_batches where source_name = :name"),
                    {"name": source_name},
                )
            ]
        for old_id in old:
            logger.info("replacing batch %s of %s", old_id, source_name)
            if spark:
                conn.drop_batches({old_id})
                continue
            for table in ("retail", "quarantine", "load_batches"):
                conn.execute(text(f"delete from {table} where batch_id = :b"), {"b": old_id})
        count_demo_removed = 0
        if source_kind == "demo":
            state = demo_state(conn)
            if state.real_lines:
                raise MixedDataError(
                    f"the warehouse holds {state.real_lines:,} lines of real data; demo data "
                    "is only ever loaded into a warehouse without real data"
                )
        else:
            count_demo_removed = drop_demo(conn)
            if count_demo_removed:
                logger.warning(
                    "removing the demo data (%s generated lines): real data arrives",
                    f"{count_demo_removed:,}",
                )
        count_read = count_loaded = count_quarantined = 0
        for good, rejected in chunks:
            count_read += good.num_rows + len(rejected)
            if good.num_rows:
                ids = pa.array([batch_id] * good.num_rows, pa.int32())
                count_loaded += bulk_insert(conn, "retail", good.append_column("batch_id", ids))
            if len(rejected):
                count_quarantined += bulk_insert(
                    conn, "quarantine", quarantine_table(batch_id, source_name, rejected)
                )
        row = {
            "batch_id": batch_id,
            "source_kind": source_kind,
            "source_name": source_name,
            "source_fingerprint": fingerprint,
            "count_read": count_read,
            "count_loaded": count_loaded,
            "count_quarantined": count_quarantined,
            "loaded_at": datetime.now(),
        }
        if spark:
            bulk_insert(conn, "load_batches", pa.Table.from_pylist([row]))
        else:
            conn.execute(
                text(
                    "insert into load_batches (batch_id, source_kind, source_name,"
                    " source_fingerprint, count_read, count_loaded, count_quarantined,"
                    " loaded_at) values (:batch_id, :source_kind, :source_name,"
                    " :source_fingerprint, :count_read, :count_loaded, :count_quarantined,"
                    " :loaded_at)"
                ),
                row,
            )
        refresh_derived(conn)
    return LoadResult(
        source_name,
        batch_id,
        count_read,
        count_loaded,
        count_quarantined,
        count_demo_removed=count_demo_removed,
    )
