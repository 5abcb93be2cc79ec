"""File loading into real DuckDB and PostgreSQL warehouses.

Expected figures come from the fixture files read with plain pandas (or typed
out by hand for the broken files), never from the loader's own output.
"""

from __future__ import annotations

import gzip
import io
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from lgs_analysis.exceptions import DataValidationError
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import ensure_schema, get_engine

from ..conftest import assert_derived_current

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLE_CSV = FIXTURES / "retail_sample.csv"
UCI = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice"]
SPELLINGS = {
    "uci": [*UCI, "CustomerID", "Country"],
    "ii": ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price"]
    + ["Customer ID", "Country"],
    "oltp": ["invoice_no", "stock_code", "description", "quantity", "invoice_date"]
    + ["unit_price", "customer_id", "country"],
}
FORMATS = ["csv", "csv.gz", "xlsx", "sql", "sql.gz"]
SHEETS = ["Year 2009-2010", "Year 2010-2011"]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request) -> str:
    """A fresh DuckDB file, then a fresh PostgreSQL database."""
    return request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "pg_url")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """The sample rows as text, read with plain pandas."""
    return pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False)


def figures(url: str) -> dict:
    """What the warehouse holds, by plain SQL."""
    with get_engine(url).connect() as conn:
        row = conn.execute(
            text(
                "select count(*), count(distinct invoice_no), count(distinct customer_id),"
                " count(*) - count(customer_id), round(sum(quantity * unit_price), 2),"
                " min(invoice_date), max(invoice_date) from retail"
            )
        ).one()
    keys = ["rows", "invoices", "customers", "null_customers", "amount", "first", "last"]
    return dict(zip(keys, row, strict=True))


def expected_figures(frame: pd.DataFrame) -> dict:
    """The same figures from the raw text with pandas."""
    customers = frame["CustomerID"].replace("", None)
    dates = pd.to_datetime(frame["InvoiceDate"], format="mixed")
    amount = (frame["Quantity"].astype(int) * frame["UnitPrice"].astype(float)).sum()
    return {
        "rows": len(frame),
        "invoices": frame["InvoiceNo"].nunique(),
        "customers": customers.nunique(),
        "null_customers": int(customers.isna().sum()),
        "amount": Decimal(str(round(amount, 2))),
        "first": dates.min().to_pydatetime(),
        "last": dates.max().to_pydatetime(),
    }


def quarantine(url: str) -> list[tuple[int, str]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(text("select line_no, reason from quarantine order by line_no"))
        return [(int(n), r) for n, r in rows]


def count_rows(url: str) -> tuple[int, int, int]:
    """Rows in retail, quarantine and load_batches (after creating the schema)."""
    engine = get_engine(url)
    ensure_schema(engine)
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(f"select count(*) from {t}")).scalar_one()
            for t in ("retail", "quarantine", "load_batches")
        )


def _copy_escape(value: str | None) -> str:
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _typed(value: str, column: str):
    """A cell as Excel stores it: numbers as numbers, dates as dates, blanks empty."""
    if value == "":
        return None
    if column == "InvoiceDate":
        return pd.to_datetime(value, format="mixed").to_pydatetime()
    if column in ("Quantity",) or (column == "InvoiceNo" and value.isdigit()):
        return int(value)
    if column in ("UnitPrice", "CustomerID"):
        return float(value)
    return value


def write_source(frame: pd.DataFrame, fmt: str, spelling: str, folder: Path) -> Path:
    """Write the sample in a format and column spelling, independently of the loader."""
    names = SPELLINGS[spelling]
    path = folder / f"retail_{spelling}.{fmt}"
    if fmt in ("csv", "csv.gz"):
        renamed = frame.set_axis(names, axis=1)
        encoding = "utf-8-sig" if spelling == "ii" else "utf-8"  # Excel writes a BOM
        renamed.to_csv(path, index=False, encoding=encoding, compression="infer")
    elif fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.active.title = SHEETS[0]
        workbook.create_sheet(SHEETS[1])
        workbook.create_sheet("Notes").append(["Exported from the shop"])
        half = len(frame) // 2
        for sheet, part in zip(SHEETS, (frame[:half], frame[half:]), strict=True):
            workbook[sheet].append(names)
            for record in part.to_dict("records"):
                workbook[sheet].append([_typed(v, c) for c, v in record.items()])
        workbook.save(path)
    else:
        quoted = ", ".join(f'"{n}"' if not n.islower() else n for n in names)
        lines = [
            "\\restrict xyz",
            "SET client_encoding = 'UTF8';",
            f"CREATE TABLE public.retail ({', '.join(f'{n} text' for n in names)});",
            f"COPY public.retail ({quoted}) FROM stdin;",
            *(
                "\t".join(_copy_escape(v if v != "" else None) for v in record)
                for record in frame.itertuples(index=False)
            ),
            "\\.",
            "\\unrestrict xyz",
        ]
        body = ("\n".join(lines) + "\n").encode()
        path.write_bytes(gzip.compress(body) if fmt.endswith(".gz") else body)
    return path


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_load_file_formats_and_spellings(sample, tmp_path, duckdb_url, fmt, spelling):
    source = write_source(sample, fmt, spelling, tmp_path)
    result = load_file(source, get_engine(duckdb_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (12, 12, 0)
    assert figures(duckdb_url) == expected_figures(sample)
    assert result.source_name == str(source.resolve())


@pytest.mark.postgres
@pytest.mark.parametrize(
    "fmt, spelling", [("csv", "uci"), ("csv.gz", "ii"), ("xlsx", "ii"), ("sql.gz", "oltp")]
)
def test_load_file_formats_postgres(sample, tmp_path, pg_url, fmt, spelling):
    source = write_source(sample, fmt, spelling, tmp_path)
    result = load_file(source, get_engine(pg_url), progress=False)
    assert result.count_loaded == 12
    assert figures(pg_url) == expected_figures(sample)


def test_load_file_keeps_exact_duplicates_and_text(sample, duckdb_url):
    load_file(SAMPLE_CSV, get_engine(duckdb_url), progress=False)
    with get_engine(duckdb_url).connect() as conn:
        lanterns = conn.execute(
            text("select count(*) from retail where invoice_no = '536365' and stock_code = '71053'")
        ).scalar_one()
        descriptions = set(conn.execute(text("select description from retail")).scalars())
    assert lanterns == 2
    assert {"HAND WARMER, UNION JACK", "CAFÉ BAKING SET £9 PIECE", None} <= descriptions


def test_load_file_sql_dump_unescapes_copy_text(warehouse_url):
    result = load_file(FIXTURES / "retail_sample.sql", get_engine(warehouse_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (7, 7, 0)
    with get_engine(warehouse_url).connect() as conn:
        rows = conn.execute(
            text(
                "select stock_code, description, customer_id, unit_price from retail"
                " where stock_code in ('22633', '22139') order by stock_code"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("22139", None, None, Decimal("0.000")),
        ("22633", "TAB\tAND BACKSLASH\\ HERE", 17850, Decimal("1.850")),
    ]


def test_load_file_broken_csv_quarantines_rows(warehouse_url):
    source = FIXTURES / "retail_broken.csv"
    result = load_file(source, get_engine(warehouse_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (9, 3, 6)
    assert quarantine(warehouse_url) == [
        (3, "invoice_date is not a date"),
        (4, "quantity is not a whole number"),
        (5, "cannot parse line: expected 8 fields, found 7"),
        (6, "missing invoice_no"),
        (9, "cannot parse line: expected 8 fields, found 9"),
        (12, "customer_id is not a whole number"),
    ]
    with get_engine(warehouse_url).connect() as conn:
        loaded = conn.execute(text("select description from retail order by stock_code")).all()
        sources = set(conn.execute(text("select source_name from quarantine")).scalars())
        raw = conn.execute(text("select raw_row from quarantine where line_no = 5")).scalar_one()
    assert [r[0] for r in loaded] == [
        "BATH BUILDING BLOCK WORD",
        "JAM MAKING SET\nWITH JARS",
        "WHITE HANGING HEART T-LIGHT HOLDER",
    ]
    assert sources == {str(source.resolve())}
    assert "ASSORTED COLOUR BIRD ORNAMENT" in raw


def test_load_file_broken_sql_dump_quarantines_rows(duckdb_url):
    result = load_file(FIXTURES / "retail_broken.sql", get_engine(duckdb_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (6, 4, 2)
    assert quarantine(duckdb_url) == [  # physical lines of the dump file
        (55, "cannot parse line: expected 8 fields, found 7"),
        (56, "invoice_date is not a date"),
    ]


def test_load_file_xlsx_quarantine_names_sheet(tmp_path, duckdb_url):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = SHEETS[0]
    workbook.create_sheet(SHEETS[1])
    workbook[SHEETS[1]].append(["LGS export"])  # a title and a blank row above the header
    workbook[SHEETS[1]].append([])
    for sheet in SHEETS:
        workbook[sheet].append(SPELLINGS["ii"])
        workbook[sheet].append([1, "A", "x", 1, datetime(2010, 1, 1), 1.5, 12345.0, "UK"])
    workbook[SHEETS[1]].append([2, "B", "y", "lots", datetime(2011, 1, 1), 1.5, None, "UK"])
    path = tmp_path / "online_retail_II.xlsx"
    workbook.save(path)
    result = load_file(path, get_engine(duckdb_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (3, 2, 1)
    assert quarantine(duckdb_url) == [
        (5, "quantity is not a whole number (sheet 'Year 2010-2011')")  # the Excel row
    ]


def test_load_file_missing_file_names_path(tmp_path, duckdb_url):
    missing = tmp_path / "nowhere" / "retail.csv"
    with pytest.raises(DataValidationError, match=r"not found: .*nowhere/retail\.csv"):
        load_file(missing, get_engine(duckdb_url), progress=False)
    assert count_rows(duckdb_url) == (0, 0, 0)


def test_load_file_unknown_format(tmp_path, duckdb_url):
    path = tmp_path / "retail.json"
    path.write_text("[]")
    with pytest.raises(DataValidationError, match=r"retail\.json: unknown file format.*\.xlsx"):
        load_file(path, get_engine(duckdb_url), progress=False)


def test_load_file_without_retail_columns_loads_nothing(warehouse_url):
    with pytest.raises(DataValidationError) as info:
        load_file(FIXTURES / "not_retail.csv", get_engine(warehouse_url), progress=False)
    message = str(info.value)
    assert "not_retail.csv" in message
    assert "missing column(s) invoice_no, stock_code, description, quantity" in message
    assert "'order_id', 'sku', 'qty', 'ordered_at', 'price'" in message
    assert count_rows(warehouse_url) == (0, 0, 0)


def test_load_file_partial_columns_lists_missing(tmp_path, duckdb_url):
    path = tmp_path / "partial.csv.gz"
    path.write_bytes(gzip.compress(b"Invoice,StockCode,Quantity,InvoiceDate,Price,Country\n"))
    with pytest.raises(DataValidationError, match=r"missing column\(s\) description, customer_id;"):
        load_file(path, get_engine(duckdb_url), progress=False)


def test_load_file_xlsx_sheet_without_all_columns(tmp_path, duckdb_url):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Invoice", "StockCode", "Quantity"])
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    with pytest.raises(DataValidationError, match=r"sheet 'Sheet': not retail data: missing"):
        load_file(path, get_engine(duckdb_url), progress=False)


def test_load_file_sql_dump_without_retail_copy(tmp_path, duckdb_url):
    text_ = (FIXTURES / "retail_sample.sql").read_text(encoding="utf-8")
    path = tmp_path / "other.sql"
    path.write_text(text_.replace("COPY public.retail", "COPY public.orders"), encoding="utf-8")
    with pytest.raises(
        DataValidationError, match=r"no 'COPY retail.*public\.customers, public\.orders"
    ):
        load_file(path, get_engine(duckdb_url), progress=False)
    assert count_rows(duckdb_url) == (0, 0, 0)


def test_load_file_truncated_sql_dump_loads_nothing(tmp_path, warehouse_url):
    text_ = (FIXTURES / "retail_sample.sql").read_text(encoding="utf-8")
    path = tmp_path / "truncated.sql.gz"
    path.write_bytes(gzip.compress(text_[: text_.index("\\.\n\n\n")].encode()))
    with pytest.raises(DataValidationError, match=r"truncated"):
        load_file(path, get_engine(warehouse_url), progress=False)
    assert count_rows(warehouse_url) == (0, 0, 0)


def test_load_file_twice_is_idempotent(sample, tmp_path, warehouse_url):
    source = tmp_path / "retail.csv"
    shutil.copy(SAMPLE_CSV, source)
    engine = get_engine(warehouse_url)
    first = load_file(source, engine, progress=False)
    second = load_file(source, engine, progress=False)
    assert second.skipped and second.batch_id == first.batch_id
    assert "already loaded" in second.summary()
    assert count_rows(warehouse_url) == (12, 0, 1)
    # a changed file at the same path replaces its earlier batch
    source.write_text(SAMPLE_CSV.read_text(encoding="utf-8").rsplit("\n", 2)[0] + "\n")
    third = load_file(source, engine, progress=False)
    assert third.count_loaded == 11 and not third.skipped
    assert count_rows(warehouse_url) == (11, 0, 1)
    assert figures(warehouse_url) == expected_figures(sample[:11])
    assert_derived_current(warehouse_url)  # the replaced batch's invoices are gone


def test_changed_schema_rebuilds_the_derived_invoice_table(tmp_path, pg_url):
    source = tmp_path / "retail.csv"
    shutil.copy(SAMPLE_CSV, source)
    engine = get_engine(pg_url)
    load_file(source, engine, progress=False)
    with engine.begin() as conn:  # a warehouse left by code with another definition
        conn.execute(text("drop table retail_invoices"))
        conn.execute(text("create table retail_invoices as select invoice_no from retail"))
        conn.execute(text("update lgs_schema set schema_hash = 'older'"))
    ensure_schema(engine)
    engine.dispose()
    assert_derived_current(pg_url)


def test_load_file_reads_windows_1252(tmp_path, duckdb_url):
    path = tmp_path / "excel.csv"
    path.write_bytes(SAMPLE_CSV.read_text(encoding="utf-8").encode("cp1252"))
    result = load_file(path, get_engine(duckdb_url), progress=False)
    assert result.count_loaded == 12
    with get_engine(duckdb_url).connect() as conn:
        text_ = conn.execute(text("select description from retail where invoice_no = '581587'"))
        assert text_.scalar_one() == "CAFÉ BAKING SET £9 PIECE"


def test_load_file_summary_counts(duckdb_url):
    result = load_file(FIXTURES / "retail_broken.csv", get_engine(duckdb_url), progress=False)
    assert result.summary().endswith(
        f"read 9 rows, loaded 3, quarantined 6 (batch {result.batch_id})"
    )


# --- the real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_expected(real_csv) -> dict:
    """The known figures of the real file, recomputed with pandas from the raw CSV."""
    raw = pd.read_csv(real_csv, dtype={"InvoiceNo": str, "StockCode": str})
    expected = {
        "rows": len(raw),
        "invoices": raw["InvoiceNo"].nunique(),
        "customers": raw["CustomerID"].nunique(),
        "null_customers": int(raw["CustomerID"].isna().sum()),
        "amount": Decimal(str(round((raw["Quantity"] * raw["UnitPrice"]).sum(), 2))),
    }
    assert expected == {  # the documented facts (DESIGN.md, shared/data/README.md)
        "rows": 541_909,
        "invoices": 25_900,
        "customers": 4_372,
        "null_customers": 135_080,
        "amount": Decimal("9747747.93"),
    }
    return expected


def _core(found: dict) -> dict:
    return {k: v for k, v in found.items() if k not in ("first", "last")}


@pytest.mark.realdata
def test_load_file_real_csv_duckdb(real_csv, real_expected, duckdb_url):
    result = load_file(real_csv, get_engine(duckdb_url), progress=False)
    assert (result.count_read, result.count_loaded, result.count_quarantined) == (541_909,) * 2 + (
        0,
    )
    assert _core(figures(duckdb_url)) == real_expected


@pytest.mark.realdata
@pytest.mark.postgres
def test_load_file_real_sql_dump_postgres(real_sql_dump, real_expected, pg_url):
    result = load_file(real_sql_dump, get_engine(pg_url), progress=False)
    assert result.count_loaded == 541_909 and result.count_quarantined == 0
    assert _core(figures(pg_url)) == real_expected


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_copy_data_stops_at_terminator_across_reads(size):
    from lgs_analysis.ingest.loaders import _CopyData

    data = b"a\t\\.x\n\\.b\tc\nd\\\\.\te\n"
    stream = _CopyData(io.BytesIO(data + b"\\.\nCOPY other (x) FROM stdin;\n1\n\\.\n"))
    parts = iter(lambda: stream.read(size), b"")
    assert b"".join(parts) == data and stream.finished


def test_copy_data_empty_and_unterminated():
    from lgs_analysis.ingest.loaders import _CopyData

    empty = _CopyData(io.BytesIO(b"\\.\n"))
    assert empty.read(10) == b"" and empty.finished
    cut = _CopyData(io.BytesIO(b"a\tb\n"))
    assert cut.read(100) == b"a\tb\n" and cut.read(100) == b"" and not cut.finished
