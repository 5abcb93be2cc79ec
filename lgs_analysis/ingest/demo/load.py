"""Demo data in the warehouse: load it, tell whether it is there, fill an empty warehouse."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from ...exceptions import DataValidationError, MixedDataError
from ...log import logger
from ...warehouse import data_range, ensure_schema, get_engine, refresh_derived, run_query
from ..batches import LoadResult, demo_state, load_batch
from ..validate import QUARANTINE_COLUMNS
from .generate import DEFAULT_ROWS, GENERATOR_VERSION, generate_demo

__all__ = ["load_demo", "is_demo", "ensure_data", "check_not_mixed", "remove_demo"]


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
    return demo_state(conn).demo_lines > 0


def check_not_mixed(conn: Connection | Engine) -> None:
    """Refuse a warehouse that holds demo and real lines together.

    Every real load removes the demo data, so this only happens to a warehouse filled by
    an older version or by hand.

    Raises
    ------
    MixedDataError
        Naming both counts and the fix.
    """
    state = demo_state(conn)
    if state.mixed:
        raise MixedDataError(
            f"the warehouse holds {state.demo_lines:,} demo lines and {state.real_lines:,} "
            "real lines together, so every figure would mix them. Remove the demo data with "
            "`.venv/bin/lgs drop-demo` (or load your real data again), then rerun the report."
        )


def ensure_data(engine: Engine) -> bool:
    """Fill an empty warehouse with demo data.

    Returns
    -------
    bool
        True when the warehouse holds demo data (loaded now or before).

    Raises
    ------
    MixedDataError
        When the warehouse holds demo and real lines together.
    DataValidationError
        When it holds no line but a real source was loaded (one that loaded nothing).
    """
    ensure_schema(engine)
    with engine.connect() as conn:
        count_lines = data_range(conn)[2]
    if count_lines == 0:
        with engine.connect() as conn:
            real = int(run_query(conn, "ingest/real_batches")["count_batches"].iloc[0])
        if real:
            raise DataValidationError(
                f"the warehouse holds no line, but {real:,} load(s) of real data were made "
                "(a file or ETL run that loaded nothing): no demo data is filled in over a "
                "real source; load a file that holds lines (make load SOURCE=...)"
            )
        result = load_demo(engine)
        message = f"warehouse is empty: loaded {result.count_loaded:,} rows of demo data"
        logger.warning(message)
        return True
    with engine.connect() as conn:
        check_not_mixed(conn)
        return is_demo(conn)


def remove_demo(engine: Engine | None = None) -> int:
    """Remove the demo data from the warehouse (``lgs drop-demo``); return the lines removed."""
    from ..batches import drop_demo

    engine = engine or get_engine()
    ensure_schema(engine)
    with engine.begin() as conn:
        removed = drop_demo(conn)
        if removed:
            refresh_derived(conn)  # the derived tables lose the demo lines in the same commit
        return removed
