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
from ..exceptions import DataValidationError
from ..warehouse import RETAIL_COLUMNS

__all__ = [
    "date_bounds",
    "RETAIL_SCHEMA",
    "QUARANTINE_COLUMNS",
    "validate_rows",
    "canonical_columns",
    "parse_dates",
    "DateOrder",
    "DecimalMark",
    "DAY_FIRST",
    "MONTH_FIRST",
    "SHOP_TIMEZONE",
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


MONTH_FIRST, DAY_FIRST = "month-first", "day-first"
# the shop's local time: a date written with a timezone (2011-11-05T10:00:00Z, +05:00) is
# converted to it; a date without one is already in it
SHOP_TIMEZONE = "Europe/London"
_ZONED = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_SLASHED = r"^\s*(\d{1,2})/(\d{1,2})/\d{2,4}\b"
_SLASH_FORMATS = {
    MONTH_FIRST: ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"),
    DAY_FIRST: ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y"),
}


def parse_dates(values: pd.Series, order: str = MONTH_FIRST) -> pd.Series:
    """Dates as the shop's wall-clock time (``datetime64[us]``); NaT where unreadable.

    ISO dates (``2011-11-05 10:00``) are read as they are; one written with a timezone
    (``Z``, ``+05:00``) is converted to :data:`SHOP_TIMEZONE` (Europe/London, summer
    time included). Dates with slashes are read in ``order`` (:data:`MONTH_FIRST`, as
    the UCI file writes ``12/1/2010 8:26``, or :data:`DAY_FIRST`), decided once per
    file (:class:`DateOrder`), never per value.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dtype, "tz", None) is not None:
            values = values.dt.tz_convert(SHOP_TIMEZONE).dt.tz_localize(None)
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    zoned = text.str.contains(_ZONED, regex=True).fillna(False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if (~zoned).any():
        plain = pd.to_datetime(text[~zoned], format="ISO8601", errors="coerce")
        parsed[~zoned] = plain.astype("datetime64[us]")
    if zoned.any():
        moved = pd.to_datetime(text[zoned], format="ISO8601", errors="coerce", utc=True)
        parsed[zoned] = moved.dt.tz_convert(SHOP_TIMEZONE).dt.tz_localize(None)
    for form in _SLASH_FORMATS[order]:
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], format=form, errors="coerce")
    return parsed.astype("datetime64[us]")


class DateOrder:
    """Decides, for a whole file, whether its slashed dates are day-first or month-first.

    A date such as ``13/11/2011`` can only be day-first, ``11/13/2011`` only month-first;
    ``05/11/2011`` could be either. :meth:`see` every date of the file, then
    :meth:`decide`: the order the unambiguous dates show, never a mix.
    """

    def __init__(self) -> None:
        self.day_first: tuple[int, str] | None = None  # (count, first example)
        self.month_first: tuple[int, str] | None = None
        self.ambiguous: str | None = None

    def see(self, values: pd.Series) -> None:
        """Take the evidence of some dates (text)."""
        parts = values.astype("string").str.extract(_SLASHED).dropna()
        if parts.empty:
            return
        first, second = parts[0].astype(int), parts[1].astype(int)
        text = values.loc[parts.index].astype("string")
        for name, mask in (
            ("day_first", (first > 12) & (second <= 12)),
            ("month_first", (second > 12) & (first <= 12)),
        ):
            if mask.any():
                count, example = getattr(self, name) or (0, str(text[mask].iloc[0]))
                setattr(self, name, (count + int(mask.sum()), example))
        either = (first <= 12) & (second <= 12) & (first != second)
        if self.ambiguous is None and either.any():
            self.ambiguous = str(text[either].iloc[0])

    def decide(self, where: str) -> str:
        """:data:`DAY_FIRST` or :data:`MONTH_FIRST` (month-first when no date needs one).

        Raises
        ------
        DataValidationError
            If the file writes dates both ways, or only in ways that could be either.
        """
        if self.day_first and self.month_first:
            raise DataValidationError(
                f"{where}: dates are written both day-first ({self.day_first[0]:,}, such "
                f"as {self.day_first[1]!r}) and month-first ({self.month_first[0]:,}, such "
                f"as {self.month_first[1]!r}): the file mixes two orders, so no slashed "
                "date can be trusted. Nothing was loaded"
            )
        if self.day_first:
            return DAY_FIRST
        if self.month_first or self.ambiguous is None:
            return MONTH_FIRST
        raise DataValidationError(
            f"{where}: cannot tell whether dates such as {self.ambiguous!r} are day-first "
            "or month-first: no date in the file has a day above 12. Nothing was loaded; "
            "write the dates as YYYY-MM-DD"
        )


_COMMA_DECIMAL = r"^\s*[-+]?\d+,\d+\s*$"
_DOT_DECIMAL = r"^\s*[-+]?\d+\.\d+\s*$"


class DecimalMark:
    """Decides, for a whole file, whether its prices are written with a decimal comma
    (``2,55``, as a semicolon-separated European export writes them) or a point."""

    def __init__(self) -> None:
        self.comma: str | None = None
        self.point: str | None = None

    def see(self, values: pd.Series) -> None:
        """Take the evidence of some prices (text)."""
        text = values.astype("string").dropna()
        if self.comma is None and (found := text[text.str.match(_COMMA_DECIMAL)]).size:
            self.comma = str(found.iloc[0])
        if self.point is None and (found := text[text.str.match(_DOT_DECIMAL)]).size:
            self.point = str(found.iloc[0])

    def decide(self, where: str, delimiter: str) -> bool:
        """True when the prices use a decimal comma.

        Raises
        ------
        DataValidationError
            If the file writes prices both ways (``2,55`` and ``2.55``).
        """
        if self.comma is None:
            return False
        if self.point is not None:
            kind = _DELIMITERS.get(delimiter, "delimited")
            raise DataValidationError(
                f"{where}: prices are written both with a decimal comma ({self.comma!r}) and "
                f"a decimal point ({self.point!r}) in this {kind} file: the dialect cannot "
                "be decided. Nothing was loaded"
            )
        return True


_DELIMITERS = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated"}


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


def _holds(frame: pd.DataFrame, columns: list[str], text: str) -> pd.Series:
    found = pd.Series(False, index=frame.index)
    for column in columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            found |= values.astype("string").str.contains(text, regex=False).fillna(False)
    return found


def _has_nul(frame: pd.DataFrame) -> pd.Series:
    return _holds(frame, _TEXT_COLUMNS, "\x00")


def validate_rows(
    frame: pd.DataFrame,
    line_numbers: np.ndarray | pd.Series,
    bounds: tuple[datetime, datetime] | None = None,
    date_order: str = MONTH_FIRST,
    decimal_comma: bool = False,
    replaced: bool = False,
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
    date_order : str (default: month-first)
        How the file writes slashed dates (:class:`DateOrder`).
    decimal_comma : bool (default: False)
        The file writes prices as ``2,55`` (:class:`DecimalMark`).
    replaced : bool (default: False)
        The file is UTF-8 but for some lines, whose invalid bytes were replaced by
        U+FFFD: rows holding one are quarantined ("not valid UTF-8").

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
    dates = parse_dates(frame["invoice_date"], date_order)
    price_text = frame["unit_price"]
    if decimal_comma:
        price_text = price_text.astype("string").str.replace(",", ".", regex=False)
    price = _numbers(price_text)
    customer_raw = frame["customer_id"]
    customer = _numbers(customer_raw)

    reason = pd.Series(pd.NA, index=frame.index, dtype="string")

    def flag(mask: pd.Series, text: str) -> None:
        reason[mask & reason.isna()] = text

    if replaced:
        flag(
            _holds(frame, RETAIL_COLUMNS, "\ufffd"),
            "not valid UTF-8: the line holds bytes that are not UTF-8 (shown as U+FFFD) in a "
            "file that is UTF-8 elsewhere",
        )
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
