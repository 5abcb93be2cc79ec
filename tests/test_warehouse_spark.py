"""One SQL source on every engine, and the Spark warehouse (real local Spark, no mocks).

The transpiled SQL keeps its bind parameters; loads into Spark are bulk, atomic and
idempotent; and the real data's report tables are byte-identical on DuckDB, PostgreSQL
and Spark.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from lgs_analysis.exceptions import WarehouseError
from lgs_analysis.warehouse import SQL_DIR, load_sql, run_query
from lgs_analysis.warehouse.sql import _bind_names

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_CSV = FIXTURES / "retail_sample.csv"


def _queries() -> list[str]:
    names = []
    for path in sorted(SQL_DIR.rglob("*.sql")):
        if path.stem.count(".") == 0:
            names.append(path.relative_to(SQL_DIR).with_suffix("").as_posix())
    return names


def _canonical(name: str) -> bool:
    return not load_sql(name).lstrip().startswith("-- dialect:")


@pytest.mark.parametrize("dialect", ["postgresql", "spark"])
def test_every_query_transpiles_and_keeps_its_binds(dialect):
    for name in filter(_canonical, _queries()):
        written = load_sql(name)
        got = load_sql(name, dialect)
        assert _bind_names(got) == _bind_names(written), name
        assert "%(" not in got and "?" not in got, name


def test_duckdb_runs_the_canonical_text_and_variants_win():
    assert load_sql("analyses/rfm_customers", "duckdb") == load_sql("analyses/rfm_customers")
    assert "analyze retail" in load_sql("warehouse/refresh", "postgresql")
    assert load_sql("warehouse/refresh", "spark") == ""  # DuckDB's comment-only file
    # a PostgreSQL-only file is used as written on PostgreSQL
    pg_only = load_sql("ingest/etl/source_window_text", "postgresql")
    assert pg_only == load_sql("ingest/etl/source_window_text")


def test_day_differences_are_days_on_every_engine():
    """clv's recency and age: integer days, not a DuckDB-only date subtraction."""
    assert "DATEDIFF(DAY" in load_sql("analyses/clv_customers", "spark")
    pg = load_sql("analyses/clv_customers", "postgresql")
    assert "CAST(calibration.last_day AS DATE) - CAST(calibration.first_day AS DATE)" in pg


# --- loads into Spark ----------------------------------------------------------------------


def _counts(engine) -> tuple[int, int]:
    lines = int(run_query(engine, "warehouse/data_range")["count_lines"].iloc[0])
    batches = len(
        run_query(engine, "ingest/batch_ids", kind=None, source_name=None, fingerprint=None)
    )
    return lines, batches


def test_spark_load_is_bulk_idempotent_and_replaces_demo(spark_url, tmp_path):
    from lgs_analysis.ingest.demo import load_demo
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    engine = get_engine(spark_url)
    demo = load_demo(engine, n_rows=2_000)
    assert _counts(engine) == (demo.count_loaded, 1)

    want = pd.read_csv(SAMPLE_CSV, dtype=str)
    result = load_file(SAMPLE_CSV, engine, progress=False)
    assert result.count_read == len(want) and result.count_demo_removed == demo.count_loaded
    lines = run_query(engine, "warehouse/data_range")
    assert int(lines["count_lines"].iloc[0]) == result.count_loaded
    first = pd.to_datetime(want["InvoiceDate"], format="mixed").min()
    assert pd.Timestamp(lines["first_at"].iloc[0]) == first
    snapshot = (Path(tmp_path) / "spark-warehouse" / "CURRENT.json").read_text()

    again = load_file(SAMPLE_CSV, engine, progress=False)
    assert again.skipped and again.batch_id == result.batch_id
    assert (Path(tmp_path) / "spark-warehouse" / "CURRENT.json").read_text() == snapshot

    # a changed file at the same path replaces its earlier batch
    changed = tmp_path / "retail_sample.csv"
    want.iloc[:5].to_csv(changed, index=False)
    first = load_file(changed, engine, progress=False)
    edited = want.iloc[:3]
    edited.to_csv(changed, index=False)
    second = load_file(changed, engine, progress=False)
    assert second.batch_id != first.batch_id
    assert _counts(engine) == (result.count_loaded + 3, 2)


def test_spark_failed_load_changes_nothing(spark_url, tmp_path):
    from lgs_analysis.ingest.batches import load_batch
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import RETAIL_COLUMNS, get_engine

    engine = get_engine(spark_url)
    load_file(SAMPLE_CSV, engine, progress=False)
    root = Path(tmp_path) / "spark-warehouse"
    snapshot = (root / "CURRENT.json").read_text()
    before = _counts(engine)
    good = pa.table(
        {
            "invoice_no": ["900001"],
            "stock_code": ["22423"],
            "description": ["CAKE STAND"],
            "quantity": pa.array([1], pa.int32()),
            "invoice_date": pa.array([pd.Timestamp("2011-01-01 10:00")], pa.timestamp("us")),
            "unit_price": pa.array([12.75], pa.float64()),
            "customer_id": pa.array([12345], pa.int32()),
            "country": ["France"],
        }
    ).select(RETAIL_COLUMNS)
    rejected = pd.DataFrame(columns=["line_no", "reason", "raw_row"])

    def chunks():
        yield good, rejected
        raise OSError("disk full (simulated mid-load)")

    with pytest.raises(OSError, match="disk full"):
        load_batch(
            engine, source_kind="file", source_name="x.csv", fingerprint="f1", chunks=chunks()
        )
    assert (root / "CURRENT.json").read_text() == snapshot
    assert _counts(engine) == before
    assert not any((root / "_staging").glob("*/*"))
    # the next load does the work, with the next batch id
    load_batch(
        engine,
        source_kind="file",
        source_name="x.csv",
        fingerprint="f1",
        chunks=[(good, rejected)],
    )
    assert _counts(engine) == (before[0] + 1, before[1] + 1)
    manifest = json.loads((root / "CURRENT.json").read_text())
    assert sorted(manifest["tables"]) == ["load_batches", "retail"]


def test_spark_sql_writes_are_refused_with_a_message(spark_url):
    from sqlalchemy import text

    from lgs_analysis.warehouse import get_engine

    with get_engine(spark_url).connect() as conn, pytest.raises(WarehouseError, match="Spark"):
        conn.execute(text("delete from retail"))


# --- the real data: the same tables on every engine ----------------------------------------


@pytest.mark.postgres
@pytest.mark.realdata
# one month of the real data; the year's tables are compared on PostgreSQL by test_build's
# demo report, and each Spark report costs a minute of CI
@pytest.mark.parametrize("period", ["2011-11"])
def test_real_report_tables_are_byte_identical_on_every_engine(
    period, real_duckdb_url, real_pg_url, real_spark_warehouse, spark_server, tmp_path
):
    from lgs_analysis.report.data import collect_report_data, export_tables
    from lgs_analysis.report.params import load_params
    from lgs_analysis.warehouse import get_engine

    folders = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_SPARK_WAREHOUSE", str(real_spark_warehouse))
        for name, url in [
            ("duckdb", real_duckdb_url),
            ("postgresql", real_pg_url),
            ("spark", spark_server),
        ]:
            engine = get_engine(url)
            data = collect_report_data(period, load_params(period), engine)
            engine.dispose()
            folders[name] = tmp_path / name
            export_tables(data, folders[name])
    files = sorted(p.name for p in (folders["duckdb"] / "tables").glob("*.csv"))
    assert "customers.csv" in files and "monthly.csv" in files
    # the CLV skill checks and intervals too: seeded draws on the same summaries
    assert {"clv.csv", "clv_holdout.csv", "clv_calibration.csv"} <= set(files)
    assert "clv_probability_calibration.csv" in files
    for name in ("postgresql", "spark"):
        assert sorted(p.name for p in (folders[name] / "tables").glob("*.csv")) == files, name
        for file in files:
            left, right = folders["duckdb"] / "tables" / file, folders[name] / "tables" / file
            assert filecmp.cmp(left, right, shallow=False), f"{name}: {file} differs"
