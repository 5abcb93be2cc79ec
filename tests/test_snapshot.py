"""Side reads share the report's snapshot (real PostgreSQL, real DuckDB)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lgs_analysis.warehouse import SideReads, data_range, ensure_schema, get_engine

INSERT = (
    "insert into retail (invoice_no, stock_code, description, quantity, invoice_date,"
    " unit_price, customer_id, country, batch_id)"
    " values ('536365', '85123A', 'HEART', 6, :at, 2.55, 17850, 'United Kingdom', 1)"
)


def _add_lines(url: str, count: int) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:
        for day in range(1, count + 1):
            conn.execute(text(INSERT), {"at": f"2011-01-{day:02d} 10:00:00"})
    engine.dispose()


@pytest.fixture(params=["postgresql", "duckdb"])
def url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "duckdb_url")
    engine = get_engine(url)
    ensure_schema(engine)
    engine.dispose()
    _add_lines(url, 3)
    return url


def test_side_reads_see_the_snapshot_taken_before_a_commit(url: str) -> None:
    reader = get_engine(url, read_only=True)
    with reader.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            assert data_range(conn)[2] == 3  # the snapshot is taken here
            with SideReads(conn, [lambda c: data_range(c)[2]] * 2) as early:
                _add_lines(url, 2)  # committed by another session while the report reads
                late = SideReads(conn, [lambda c: data_range(c)[2]] * 2)
                with late:
                    counts = early.results() + late.results() + [data_range(conn)[2]]
        else:
            with SideReads(conn, [lambda c: data_range(c)[2]] * 2) as reads:
                counts = reads.results()
    reader.dispose()
    assert set(counts) == {3}


def test_side_reads_run_in_their_own_sessions_on_postgresql(pg_url: str) -> None:
    engine = get_engine(pg_url, read_only=True)
    pid = "select pg_backend_pid() as pid"
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        mine = conn.execute(text(pid)).scalar_one()
        with SideReads(conn, [lambda c: c.execute(text(pid)).scalar_one()] * 3) as reads:
            pids = reads.results()
    engine.dispose()
    assert mine not in pids and len(set(pids)) == 3


def test_a_failed_side_read_raises_its_error(url: str) -> None:
    engine = get_engine(url, read_only=True)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.execute(text("select 1"))

        def broken(c):
            return c.execute(text("select * from no_such_table")).all()

        with SideReads(conn, [lambda c: data_range(c)[2], broken]) as reads:
            with pytest.raises(Exception, match="no_such_table"):
                reads.results()
    engine.dispose()
