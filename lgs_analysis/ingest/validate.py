"""Row validation shared by file loads, demo data and the ETL.

Source rows arrive as text in the canonical column names. Good rows come out
typed for the ``retail`` table; bad rows come out with their line and reason, to
be kept in the quarantine. Nothing is dropped silently.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import get_settings
from ..warehouse import RETAIL_COLUMNS

__all__ = [
    "date_bounds",
    "RETAIL_SCHEMA",
    "QUARANTINE_COLUMNS",
    "validate_rows",
    "canonical_columns",
    "parse_dates",
]

RETAIL_SCHEMA = pa.schema(
    [
        ("invoice_no", pa.string()),
        ("stock_code", pa.string()),
        ("description", pa.string()),
        ("quantity", pa.int64()),
        ("invoice_date", pa.timestamp("us")),
        ("unit_price", pa.float64()),
        ("customer_id", pa.int64()),
        ("country", pa.string()),
    ]
)
QUARANTINE_COLUMNS = ["line_no", "reason", "raw_row"]

# The warehouse columns' ranges (sql/schema/tables.sql): integer and decimal(12, 3).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PRICE_LIMIT = 1e9  # decimal(12, 3) holds |price| < 10^9
PRICE_DECIMALS = 3
_TEXT_COLUMNS = ("invoice_no", "stock_code", "description", "country")

# The three spellings of the retail columns: UCI Online Retail, Online Retail II, OLTP.
_SPELLINGS = {
    "invoice_no": ("invoiceno", "invoice", "invoice_no"),
    "stock_code": ("stockcode", "stock_code"),
    "description": ("description",),
    "quantity": ("quantity",),
    "invoice_date": ("invoicedate", "invoice_date"),
    "unit_price": ("unitprice", "price", "unit_price"),
    "customer_id": ("customerid", "customer id", "customer_id"),
    "country": ("country",),
}


def canonical_columns(names: list[str]) -> dict[str, str]:
    """Map a source's column names to the canonical ones.

    Returns
    -------
    dict
        ``{source_name: canonical_name}`` for every recognised column; the caller
        decides what a missing canonical column means.
    """
    lookup = {alias: canon for canon, aliases in _SPELLINGS.items() for alias in aliases}
    mapping = {}
    for name in names:
        key = str(name).strip().lower()
        if key in lookup and lookup[key] not in mapping.values():
            mapping[name] = lookup[key]
    return mapping


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


def parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    missing = parsed.isna() & text.notna()
    if missing.any():  # the original UCI file writes 12/1/2010 8:26
        parsed[missing] = pd.to_datetime(text[missing], format="%m/%d/%Y %H:%M", errors="coerce")
    return parsed.astype("datetime64[us]")


def _numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype("float64")


def date_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The plausible dates of a line: from ``LGS_EARLIEST_DATE`` (1990-01-01) to the load's
    own clock plus ``LGS_FUTURE_DAYS`` (1) days."""
    settings = get_settings()
    now = now or datetime.now()
    earliest = datetime.combine(settings.earliest_date, datetime.min.time())
    return earliest, now + timedelta(days=settings.future_days)


def _in_int_range(values: pd.Series) -> pd.Series:
    return values.isna() | ((values >= INT_MIN) & (values <= INT_MAX))


def _loses_precision(price: pd.Series) -> pd.Series:
    """True where a price has more decimals than the warehouse keeps (0.0001 -> 0.000)."""
    scaled = price.to_numpy(dtype="float64", na_value=np.nan) * 10**PRICE_DECIMALS
    with np.errstate(invalid="ignore"):
        off = np.abs(scaled - np.round(scaled)) > 4 * np.spacing(np.abs(scaled)) + 1e-9
    return pd.Series(off & np.isfinite(scaled), index=price.index)


def _has_nul(frame: pd.DataFrame) -> pd.Series:
    found = pd.Series(False, index=frame.index)
    for column in _TEXT_COLUMNS:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            found |= values.astype("string").str.contains("\x00", regex=False).fillna(False)
    return found


def validate_rows(
    frame: pd.DataFrame,
    line_numbers: np.ndarray | pd.Series,
    bounds: tuple[datetime, datetime] | None = None,
) -> tuple[pa.Table, pd.DataFrame]:
    """Split source rows into loadable rows and quarantined rows.

    Parameters
    ----------
    frame : DataFrame
        Rows with the canonical columns (text or already typed, as from XLSX).
    line_numbers : array
        The source line (or row) number of each row, for the quarantine.
    bounds : (datetime, datetime), optional
        Plausible dates (default: :func:`date_bounds`).

    Returns
    -------
    good : pyarrow.Table
        Rows typed as :data:`RETAIL_SCHEMA`.
    rejected : DataFrame
        Columns ``line_no``, ``reason`` and ``raw_row`` (the source values as JSON).

    Rules, first failure wins: a NUL byte in a text field; a missing invoice number or
    stock code; a quantity that is not a whole number or beyond the warehouse's integer
    column; a date that cannot be read, before ``LGS_EARLIEST_DATE`` ("implausible date")
    or after the load's clock plus ``LGS_FUTURE_DAYS`` ("future date"); a price that is not
    a number, beyond decimal(12, 3) or with more than 3 decimals ("precision lost": a value
    is never changed silently); a customer id that is not a whole number or beyond the
    integer column; a negative price on a line whose invoice is not an ``A`` adjustment.
    """
    earliest, latest = bounds or date_bounds()
    frame = frame.reset_index(drop=True)
    lines = pd.Series(np.asarray(line_numbers), dtype="int64")
    invoice = frame["invoice_no"].astype("string").str.strip()
    stock = frame["stock_code"].astype("string").str.strip()
    quantity = _numbers(frame["quantity"])
    dates = parse_dates(frame["invoice_date"])
    price = _numbers(frame["unit_price"])
    customer_raw = frame["customer_id"]
    customer = _numbers(customer_raw)

    reason = pd.Series(pd.NA, index=frame.index, dtype="string")

    def flag(mask: pd.Series, text: str) -> None:
        reason[mask & reason.isna()] = text

    flag(_has_nul(frame), "text contains a NUL byte")
    flag(_blank(invoice), "missing invoice_no")
    flag(_blank(stock), "missing stock_code")
    flag(
        quantity.isna() | ~np.isfinite(quantity) | (quantity != np.floor(quantity)),
        "quantity is not a whole number",
    )
    flag(~_in_int_range(quantity), f"quantity out of range ({INT_MIN:,} to {INT_MAX:,})")
    flag(dates.isna(), "invoice_date is not a date")
    flag(dates < earliest, f"implausible date (before {earliest:%Y-%m-%d}, LGS_EARLIEST_DATE)")
    flag(dates > latest, f"future date (after {latest:%Y-%m-%d %H:%M}, LGS_FUTURE_DAYS)")
    flag(price.isna() | ~np.isfinite(price), "unit_price is not a number")
    flag(price.abs() >= PRICE_LIMIT, "unit_price out of range (up to 999,999,999.999)")
    flag(_loses_precision(price), "unit_price has more than 3 decimals (precision lost)")
    flag(
        ~_blank(customer_raw)
        & (customer.isna() | ~np.isfinite(customer) | (customer != np.floor(customer))),
        "customer_id is not a whole number",
    )
    flag(~_in_int_range(customer), f"customer_id out of range (up to {INT_MAX:,})")
    flag(
        (price < 0) & ~invoice.fillna("").str.startswith("A"),
        "negative unit_price on a line that is not an adjustment",
    )

    bad = reason.notna().to_numpy()
    rejected = pd.DataFrame(
        {
            "line_no": lines[bad].to_numpy(),
            "reason": reason[bad].astype(str).to_numpy(),
            "raw_row": [
                json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in row.items()})
                for row in frame[RETAIL_COLUMNS][bad].to_dict("records")
            ],
        },
        columns=QUARANTINE_COLUMNS,
    )
    ok = ~bad
    description = frame["description"].astype("string").str.strip().to_numpy()[ok]
    country = frame["country"].astype("string").str.strip().to_numpy()[ok]
    good = pa.table(
        {
            "invoice_no": pa.array(invoice[ok].to_numpy(), pa.string()),
            "stock_code": pa.array(stock[ok].to_numpy(), pa.string()),
            "description": pa.array(description, pa.string(), from_pandas=True),
            "quantity": pa.array(quantity[ok].astype("int64").to_numpy(), pa.int64()),
            "invoice_date": pa.array(dates[ok].to_numpy(), pa.timestamp("us")),
            "unit_price": pa.array(price[ok].to_numpy(), pa.float64()),
            "customer_id": pa.array(customer[ok].astype("Int64"), pa.int64(), from_pandas=True),
            "country": pa.array(country, pa.string(), from_pandas=True),
        },
        schema=RETAIL_SCHEMA,
    )
    return good, rejected
