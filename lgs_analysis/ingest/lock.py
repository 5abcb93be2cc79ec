"""One ETL run at a time per warehouse.

Two locks, both held by the process and released by the kernel or the server
when it dies (so ``kill -9`` never leaves a stale lock behind):

- an exclusive ``flock`` on ``.lgs/etl-<hash of the warehouse>.lock`` in the
  project root (or ``$LGS_LOCK_DIR``), which covers every warehouse kind on
  this machine;
- on a PostgreSQL warehouse, also a session advisory lock in the warehouse
  itself, which covers runs started from other machines.

A second run that finds either lock taken raises :class:`LockedError`
(exit code 75) without touching anything.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

from ..config import PROJECT_ROOT, get_settings
from ..exceptions import LockedError
from ..warehouse import describe_target, is_spark_url, run_query

__all__ = ["LOCK_DIR_ENV", "warehouse_key", "lock_path", "hold_etl_lock", "hold_advisory_lock"]

LOCK_DIR_ENV = "LGS_LOCK_DIR"
# pg_try_advisory_lock key: the bytes of "LGSETL" (per warehouse database)
_ADVISORY_KEY = int.from_bytes(b"LGSETL", "big")


def warehouse_key(database_url: str) -> str:
    """Identify a warehouse without credentials: a DuckDB file path or host:port/database."""
    if is_spark_url(database_url):  # the Parquet tables' directory
        folder = Path(get_settings().spark_warehouse).expanduser().resolve()
        return f"spark:{folder}"
    url = make_url(database_url)
    if url.get_backend_name() == "duckdb":
        database = url.database or ":memory:"
        if database != ":memory:":
            database = str(Path(database).expanduser().resolve())
        return f"duckdb:{database}"
    return f"{url.get_backend_name()}://{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def lock_path(database_url: str) -> Path:
    """The lock file of a warehouse: ``<lock dir>/etl-<12 hex digits>.lock``."""
    base = Path(os.environ.get(LOCK_DIR_ENV) or PROJECT_ROOT / ".lgs")
    digest = hashlib.sha256(warehouse_key(database_url).encode()).hexdigest()[:12]
    return base / f"etl-{digest}.lock"


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode(errors="replace").strip()
    except OSError:
        pid = ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextmanager
def hold_etl_lock(database_url: str) -> Iterator[Path]:
    """Hold the machine-wide ETL lock of a warehouse for the duration of the block.

    Raises
    ------
    LockedError
        If another process holds it; the message names the warehouse, the
        holder's pid and the lock file.
    """
    path = lock_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise LockedError(
                f"another ETL run{_holder(fd)} is syncing into "
                f"{describe_target(database_url)}; this run did nothing. "
                f"Try again when it has finished (lock file {path})."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def hold_advisory_lock(engine: Engine) -> Iterator[None]:
    """On a PostgreSQL warehouse, hold the ETL advisory lock on a dedicated session.

    Does nothing on DuckDB (the file lock covers it).

    Raises
    ------
    LockedError
        If another session holds it.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        taken = run_query(conn, "ingest/lock_take", lock_key=_ADVISORY_KEY)
        if not bool(taken["is_taken"].iloc[0]):
            raise LockedError(
                f"another ETL run is syncing into "
                f"{describe_target(engine.url.render_as_string())} "
                "(advisory lock held by another session); this run did nothing. "
                "Try again when it has finished."
            )
        try:
            yield
        finally:
            run_query(conn, "ingest/lock_release", lock_key=_ADVISORY_KEY)
