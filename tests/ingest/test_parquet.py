"""Parquet loads (a file, or a folder of files as one batch): validated and quarantined like
CSV, atomic and idempotent (real DuckDB and PostgreSQL). Expected figures come from the
sample read with plain pandas."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lgs_analysis.exceptions import DataValidationError
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import get_engine

from .test_loaders import SPELLINGS, count_rows, expected_figures, figures, quarantine


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    from .test_loaders import SAMPLE_CSV

    return pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)


def _typed(frame: pd.DataFrame, spelling: str) -> pa.Table:
    """The sample as a shop's export types it: numbers, timestamps, nullable ids."""
    customer = pd.to_numeric(frame["CustomerID"].replace("", None)).astype("Int64")
    table = pa.table(
        {
            "InvoiceNo": frame["InvoiceNo"],
            "StockCode": frame["StockCode"],
            "Description": frame["Description"].replace("", None),
            "Quantity": frame["Quantity"].astype("int32"),
            "InvoiceDate": pd.to_datetime(frame["InvoiceDate"], format="mixed"),
            "UnitPrice": frame["UnitPrice"].astype(float),
            "CustomerID": pa.array(customer, pa.int64(), from_pandas=True),
            "Country": frame["Country"],
        }
    )
    return table.rename_columns(SPELLINGS[spelling])


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request) -> str:
    return request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "pg_url")


def test_load_file_parquet_typed_columns(sample, tmp_path, warehouse_url):
    path = tmp_path / "retail.parquet"
    pq.write_table(_typed(sample, "ii"), path)
    result = load_file(path, get_engine(warehouse_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (12, 12, 0)
    assert figures(warehouse_url) == expected_figures(sample)


def test_load_file_parquet_folder_is_one_idempotent_batch(sample, tmp_path, duckdb_url):
    folder = tmp_path / "export"
    folder.mkdir()
    text_table = pa.Table.from_pandas(sample, preserve_index=False)
    text_table = text_table.rename_columns(SPELLINGS["oltp"])  # text columns, OLTP names
    pq.write_table(text_table.slice(0, 5), folder / "part-0.parquet")
    pq.write_table(text_table.slice(5), folder / "part-1.parquet")
    (folder / "README.txt").write_text("not data")  # only .parquet files are read
    engine = get_engine(duckdb_url)
    first = load_file(folder, engine, progress=False)
    assert (first.count_loaded, first.count_quarantined) == (12, 0)
    assert figures(duckdb_url) == expected_figures(sample)
    again = load_file(folder, engine, progress=False)
    assert again.skipped and again.batch_id == first.batch_id
    assert count_rows(duckdb_url) == (12, 0, 1)


def test_load_file_parquet_quarantines_rows_naming_file_and_row(sample, tmp_path, duckdb_url):
    folder = tmp_path / "export"
    folder.mkdir()
    good = _typed(sample, "uci")
    pq.write_table(good, folder / "a.parquet")
    bad = sample.copy()
    bad.loc[1, "Quantity"] = "2.5"  # row 2 of the file
    bad.loc[3, "InvoiceNo"] = ""  # row 4
    bad.loc[4, "InvoiceDate"] = "yesterday"  # row 5
    text_table = pa.Table.from_pandas(bad, preserve_index=False)
    pq.write_table(text_table, folder / "b.parquet")
    result = load_file(folder, get_engine(duckdb_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (24, 21, 3)
    assert quarantine(duckdb_url) == [
        (2, "quantity is not a whole number (file 'b.parquet')"),
        (4, "missing invoice_no (file 'b.parquet')"),
        (5, "invoice_date is not a date (file 'b.parquet')"),
    ]


def test_load_file_parquet_refuses_bad_files_and_loads_nothing(sample, tmp_path, duckdb_url):
    folder = tmp_path / "export"
    folder.mkdir()
    engine = get_engine(duckdb_url)
    with pytest.raises(DataValidationError, match="holds none"):
        load_file(folder, engine, progress=False)
    pq.write_table(_typed(sample, "uci"), folder / "a.parquet")
    pq.write_table(_typed(sample, "uci").drop(["UnitPrice"]), folder / "b.parquet")
    with pytest.raises(DataValidationError, match=r"b\.parquet: not retail data: .*unit_price"):
        load_file(folder, engine, progress=False)
    (folder / "b.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataValidationError, match=r"b\.parquet: cannot read as Parquet"):
        load_file(folder, engine, progress=False)
    assert count_rows(duckdb_url) == (0, 0, 0)
