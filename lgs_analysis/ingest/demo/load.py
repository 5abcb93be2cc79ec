"""Demo data in the warehouse: load it, tell whether it is there, fill an empty warehouse."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ...log import logger
from ...warehouse import data_range, ensure_schema, get_engine, run_query
from ..batches import LoadResult, load_batch
from ..validate import QUARANTINE_COLUMNS
from .generate import DEFAULT_ROWS, GENERATOR_VERSION, generate_demo

__all__ = ["load_demo", "is_demo", "ensure_data"]


def load_demo(
    engine: Engine | None = None, n_rows: int = DEFAULT_ROWS, seed: int = 42
) -> LoadResult:
    """Load demo data into the warehouse as the batch named ``demo``.

    Loading the same ``n_rows`` and ``seed`` again is a no-op; another size or seed
    replaces the earlier demo batch.

    Parameters
    ----------
    engine : Engine, optional
        The warehouse (default: ``LGS_DATABASE_URL``).
    n_rows, seed : int
        As for :func:`generate_demo`.
    """
    engine = engine or get_engine()
    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return load_batch(
        engine,
        source_kind="demo",
        source_name="demo",
        fingerprint=f"demo:{n_rows}:{seed}:v{GENERATOR_VERSION}",
        chunks=((chunk, empty) for chunk in generate_demo(n_rows, seed)),
    )


def is_demo(conn: Connection | Engine) -> bool:
    """Whether any of the warehouse's retail lines come from a demo batch.

    The warehouse schema must exist (see :func:`lgs_analysis.warehouse.ensure_schema`).
    """
    return int(run_query(conn, "ingest/demo_batches")["count_demo_batches"].iloc[0]) > 0


def ensure_data(engine: Engine) -> bool:
    """Fill an empty warehouse with demo data.

    Returns
    -------
    bool
        True when the warehouse holds demo data (loaded now or before).
    """
    ensure_schema(engine)
    with engine.connect() as conn:
        count_lines = data_range(conn)[2]
    if count_lines == 0:
        result = load_demo(engine)
        message = f"warehouse is empty: loaded {result.count_loaded:,} rows of demo data"
        logger.warning(message)
        return True
    with engine.connect() as conn:
        return is_demo(conn)
