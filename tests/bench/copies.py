"""k copies of the real data, each with its own customers and invoices.

Copy ``i`` (from 0) adds ``i * CUSTOMER_SHIFT`` to every customer id and ``i *
INVOICE_SHIFT`` to every invoice number (keeping a ``C``/``A`` prefix), and keeps every
other value, so each figure of the copies is exactly k times the real data's. The copies
are written as CSV.gz or as a folder of Parquet files (text columns, as an export gives
them), streaming one copy at a time.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["CUSTOMER_SHIFT", "INVOICE_SHIFT", "read_real", "shifted_copy", "write_copies"]

CUSTOMER_SHIFT = 100_000  # real ids are 12346..18287
INVOICE_SHIFT = 1_000_000  # real invoice numbers are 536365..581587


def read_real(path: Path) -> pa.Table:
    """The real CSV as text columns, exactly as written."""
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={
                name: pa.string()
                for name in (
                    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,"
                    "CustomerID,Country"
                ).split(",")
            },
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def shifted_copy(real: pa.Table, i: int) -> pa.Table:
    """Copy ``i`` of ``real``: customer ids and invoice numbers shifted (see the module)."""
    if i == 0:
        return real
    invoice = real.column("InvoiceNo")
    prefix = pc.utf8_slice_codeunits(invoice, 0, 1)
    lettered = pc.invert(pc.utf8_is_digit(prefix))
    digits = pc.if_else(lettered, pc.utf8_slice_codeunits(invoice, 1), invoice)
    shifted = pc.cast(pc.add(pc.cast(digits, pa.int64()), i * INVOICE_SHIFT), pa.string())
    invoice = pc.if_else(lettered, pc.binary_join_element_wise(prefix, shifted, ""), shifted)
    customer = pc.cast(
        pc.add(pc.cast(real.column("CustomerID"), pa.int64()), i * CUSTOMER_SHIFT), pa.string()
    )
    return real.set_column(0, "InvoiceNo", invoice).set_column(
        real.schema.get_field_index("CustomerID"), "CustomerID", customer
    )


def write_copies(real: pa.Table, k: int, dest: Path) -> Path:
    """Write k copies to ``dest``: a ``.csv.gz`` file, or else a folder of Parquet files."""
    if dest.name.endswith(".csv.gz"):
        with gzip.open(dest, "wb", compresslevel=1) as fh:
            for i in range(k):
                options = pacsv.WriteOptions(include_header=i == 0, quoting_style="needed")
                pacsv.write_csv(shifted_copy(real, i), fh, options)
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(k):
        pq.write_table(shifted_copy(real, i), dest / f"part-{i:05d}.parquet")
    return dest
