"""Odd dates and bytes in a loaded file (issue 22, section 2): one odd value never sinks or
corrupts a file, and a real file that loads nothing never lets demo data in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from lgs_analysis.exceptions import DataValidationError
from lgs_analysis.ingest.demo import ensure_data
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import get_engine

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _line(invoice: str, when: str, price: str = "2.55", sep: str = ",") -> str:
    return sep.join([invoice, "85123A", "WHITE HEART", "6", when, price, "17850", "UK"]) + "\n"


def _rows(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("select invoice_no, invoice_date, unit_price from retail order by 1")
            )
        ]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("", "no data row after the header"),
        ("\n\n", "no data row after the header"),
        (_line("1", "not a date") + _line("2", "2011-13-45 10:00"), "invoice_date is not a date"),
        (_line("1", "2011-01-01 10:00", price="abc"), "unit_price is not a number"),
    ],
    ids=["header-only", "blank-lines", "every-date-bad", "every-price-bad"],
)
def test_a_real_file_loading_nothing_exits_5_and_never_lets_demo_in(
    tmp_path, duckdb_url, body, said
):
    source = tmp_path / "retail.csv"
    source.write_text(HEADER + body, encoding="utf-8")
    engine = get_engine(duckdb_url)
    with pytest.raises(DataValidationError, match=said) as caught:
        load_file(source, engine, progress=False)
    assert caught.value.exit_code == 5 and "demo data" in str(caught.value)
    with pytest.raises(DataValidationError, match="no demo data is filled in"):
        ensure_data(engine)
    assert _rows(duckdb_url) == []
