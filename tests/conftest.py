"""Shared fixtures: fresh DuckDB files, fresh PostgreSQL databases, the real data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

PG_SERVER_URL = os.environ.get(
    "LGS_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_CSV = DATA_DIR / "online_retail.csv.gz"
REAL_SQL = DATA_DIR / "retail.sql.gz"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    """Skip with the reason, except in CI, where a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: tests that need it must run)")
    pytest.skip(reason)


def _server_engine():
    return create_engine(PG_SERVER_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server URL, after checking it answers."""
    try:
        with _server_engine().connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        _unavailable(f"PostgreSQL not reachable at {PG_SERVER_URL}: {str(exc).splitlines()[0]}")
    return PG_SERVER_URL


def create_pg_database(server_url: str, prefix: str = "lgs_t") -> str:
    """Create a uniquely named database and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _server_engine().connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database`, closing its sessions first."""
    name = url.rsplit("/", 1)[1]
    with _server_engine().connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """URL of a fresh DuckDB file in the test's tmp dir."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(scope="session")
def real_csv() -> Path:
    """The real UCI Online Retail file beside the project."""
    if not REAL_CSV.exists():
        _unavailable(f"real data not found at {REAL_CSV}")
    return REAL_CSV


@pytest.fixture(scope="session")
def real_sql_dump() -> Path:
    """The real OLTP pg_dump beside the project."""
    if not REAL_SQL.exists():
        _unavailable(f"real data not found at {REAL_SQL}")
    return REAL_SQL


@pytest.fixture(scope="session")
def real_duckdb_url(real_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB warehouse holding the real data, loaded once per test session."""
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    url = f"duckdb:///{tmp_path_factory.mktemp('real') / 'warehouse.duckdb'}"
    load_file(real_csv, get_engine(url), progress=False)
    return url


@pytest.fixture(scope="session")
def real_frame(real_csv: Path):
    """The real file as read by pandas (all columns as strings), for independent checks."""
    import pandas as pd

    return pd.read_csv(real_csv, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def real_pg_url(pg_server: str, real_csv: Path) -> Iterator[str]:
    """A PostgreSQL warehouse holding the real data, loaded once per test session."""
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    url = create_pg_database(pg_server)
    try:
        engine = get_engine(url)
        load_file(real_csv, engine, progress=False)
        engine.dispose()
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def real_raw(real_csv: Path):
    """The real file with amount, month and invoice kinds (tests/report/reference.py)."""
    from tests.report.reference import read_raw

    return read_raw(real_csv)


SPARK_URL = os.environ.get("LGS_TEST_SPARK_URL", "spark://local[2]")


@pytest.fixture(scope="session")
def spark_server() -> str:
    """The Spark URL of the tests (embedded local[2] unless LGS_TEST_SPARK_URL says otherwise).

    pyspark is the optional [spark] extra; ``make test`` installs it.
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("pyspark is not installed (make venv SPARK=1, or make test)")
    return SPARK_URL


@pytest.fixture
def spark_url(spark_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Spark warehouse URL whose Parquet tables live in a fresh directory of the test."""
    monkeypatch.setenv("LGS_SPARK_WAREHOUSE", str(tmp_path / "spark-warehouse"))
    return spark_server


@pytest.fixture(scope="session")
def real_spark_warehouse(spark_server: str, real_csv: Path, tmp_path_factory) -> Path:
    """A Spark warehouse directory holding the real data, loaded once per test session.

    Use it with ``LGS_SPARK_WAREHOUSE`` set to this path and ``spark_server`` as the URL.
    """
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    folder = tmp_path_factory.mktemp("real-spark") / "spark-warehouse"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_SPARK_WAREHOUSE", str(folder))
        load_file(real_csv, get_engine(spark_server), progress=False)
    return folder


def assert_derived_current(url: str) -> None:
    """The warehouse's invoice parts (a table kept by loads on PostgreSQL, a view on
    DuckDB) hold exactly what the lines give now."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        kept = conn.execute(text("select count(*) from retail_invoices")).scalar()
        fresh = conn.execute(text("select count(*) from retail_invoice_parts")).scalar()
        differ = conn.execute(
            text(
                "select count(*) from (select * from retail_invoices"
                " except all select * from retail_invoice_parts) as d"
            )
        ).scalar()
    engine.dispose()
    assert (kept, differ) == (fresh, 0)
