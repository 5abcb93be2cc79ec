"""ETL runs: what each run did (table ``etl_runs``), and ``make etl-status``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ...escape import terminal_text
from ...log import logger
from ...warehouse import (
    execute_sql_file,
    get_engine,
    run_query,
)

__all__ = [
    "STATUS_COLUMNS",
    "EtlResult",
    "save_run",
    "record_failure",
    "etl_status",
    "format_etl_status",
    "show_time",
]

STATUS_COLUMNS = [
    "run_id",
    "source_name",
    "status",
    "started_at",
    "finished_at",
    "window_start",
    "watermark_before",
    "watermark_after",
    "count_read",
    "count_inserted",
    "count_replaced",
    "count_quarantined",
    "source_fingerprint",
    "message",
]


@dataclass(frozen=True)
class EtlResult:
    """What one ETL run did (also recorded in the warehouse table ``etl_runs``)."""

    run_id: int
    source_name: str
    target: str
    started_at: datetime
    finished_at: datetime
    overlap_days: int
    window_start: datetime | None
    watermark_before: datetime | None
    watermark_after: datetime | None
    count_read: int
    count_inserted: int
    count_replaced: int
    count_quarantined: int
    source_fingerprint: str
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    count_demo_removed: int = 0

    @property
    def seconds(self) -> float:
        """Wall time of the run."""
        return (self.finished_at - self.started_at).total_seconds()

    def summary(self) -> str:
        """A short data-quality summary for the terminal (several lines)."""
        if self.window_start is None:
            window = "the whole source (first run)"
        else:
            window = (
                f"invoice_date >= {show_time(self.window_start)} (watermark "
                f"{show_time(self.watermark_before)} minus {self.overlap_days} days)"
            )
        rate = self.count_read / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"etl run {self.run_id} succeeded: {terminal_text(self.source_name)} -> "
            f"{self.target} "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s)",
            f"  window       {window}",
            f"  read         {self.count_read:,} source lines",
            f"  inserted     {self.count_inserted:,}",
            f"  replaced     {self.count_replaced:,} lines of earlier runs in the window",
            f"  quarantined  {self.count_quarantined:,}",
        ]
        for reason, count in sorted(self.quarantine_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {count:>10,}  {reason}")
        before, after = show_time(self.watermark_before), show_time(self.watermark_after)
        lines.append(f"  watermark    {before} -> {after}")
        lines.append(f"  fingerprint  {self.source_fingerprint}")
        if self.count_demo_removed:
            lines.append(
                f"  demo data    removed ({self.count_demo_removed:,} generated lines): "
                "reports now show only real data"
            )
        return "\n".join(lines)


def show_time(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def save_run(conn: Connection, result: EtlResult, status: str, message: str | None) -> None:
    execute_sql_file(
        conn,
        "ingest/etl/save_run",
        run_id=result.run_id,
        source_name=result.source_name,
        status=status,
        started_at=result.started_at,
        finished_at=result.finished_at,
        overlap_days=result.overlap_days,
        window_start=result.window_start,
        watermark_before=result.watermark_before,
        watermark_after=result.watermark_after,
        count_read=result.count_read,
        count_inserted=result.count_inserted,
        count_replaced=result.count_replaced,
        count_quarantined=result.count_quarantined,
        source_fingerprint=result.source_fingerprint or None,
        message=message,
    )


def record_failure(
    engine: Engine,
    run_id: int,
    source_name: str,
    started_at: datetime,
    overlap_days: int,
    state: dict[str, Any],
    count_read: int,
    exc: BaseException,
) -> None:
    """After the rollback, record the failed run in its own short transaction (best effort)."""
    failed = EtlResult(
        run_id=run_id,
        source_name=source_name,
        target="",
        started_at=started_at,
        finished_at=datetime.now(),
        overlap_days=overlap_days,
        window_start=state["window_start"],
        watermark_before=state["watermark_before"],
        watermark_after=state["watermark_before"],
        count_read=count_read,
        count_inserted=0,
        count_replaced=0,
        count_quarantined=0,
        source_fingerprint="",
    )
    message = f"{type(exc).__name__}: {str(exc).strip()}"[:2000]
    try:
        with engine.begin() as conn:
            save_run(conn, failed, "failed", message)
    except SQLAlchemyError as record_exc:
        logger.warning("could not record the failed ETL run %s: %s", run_id, record_exc)


def etl_status(database_url: str | None = None, limit: int = 10) -> pd.DataFrame:
    """The latest ETL runs recorded in the warehouse, newest first.

    Parameters
    ----------
    database_url : str, optional
        The warehouse (default: ``LGS_DATABASE_URL``).
    limit : int (default: 10)
        How many runs.

    Returns
    -------
    DataFrame
        Columns :data:`STATUS_COLUMNS`: ``run_id, source_name, status, started_at,
        finished_at, window_start, watermark_before, watermark_after, count_read,
        count_inserted, count_replaced, count_quarantined, source_fingerprint,
        message``; empty (same columns) when no run was recorded.
    """
    engine = get_engine(database_url)
    try:
        with engine.connect() as conn:
            # a Spark warehouse always has every table (empty views before the first run)
            if conn.dialect.name != "spark" and not inspect(conn).has_table("etl_runs"):
                return pd.DataFrame(columns=STATUS_COLUMNS)
            frame = run_query(conn, "ingest/etl/runs_recent", limit=int(limit))
    finally:
        engine.dispose()
    return frame[STATUS_COLUMNS].reset_index(drop=True)


def format_etl_status(runs: pd.DataFrame) -> str:
    """Render :func:`etl_status` as a readable table (failed runs' errors below it)."""
    if runs.empty:
        return "no ETL run recorded yet (run `make etl`)"
    seconds = (
        pd.to_datetime(runs["finished_at"]) - pd.to_datetime(runs["started_at"])
    ).dt.total_seconds()
    table = pd.DataFrame(
        {
            "run": runs["run_id"].astype(int),
            "status": runs["status"],
            "started": runs["started_at"].map(show_time),
            "secs": seconds.map(lambda s: f"{s:.1f}"),
            "window from": runs["window_start"].map(show_time),
            "read": runs["count_read"].map(lambda n: f"{int(n):,}"),
            "inserted": runs["count_inserted"].map(lambda n: f"{int(n):,}"),
            "replaced": runs["count_replaced"].map(lambda n: f"{int(n):,}"),
            "quarantined": runs["count_quarantined"].map(lambda n: f"{int(n):,}"),
            "watermark after": runs["watermark_after"].map(show_time),
            "source": runs["source_name"].map(terminal_text),
        }
    )
    lines = [table.to_string(index=False)]
    for _, run in runs[runs["status"] != "succeeded"].iterrows():
        message = terminal_text(run["message"])  # one line, whatever the error held
        lines.append(f"run {int(run['run_id'])} {run['status']}: {message}")
    return "\n".join(lines)
