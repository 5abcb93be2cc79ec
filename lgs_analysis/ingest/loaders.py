"""File loading: CSV, CSV.GZ, XLSX, Parquet and the OLTP SQL dump into the warehouse.

A file is read in chunks of about 100,000 rows, each chunk is validated
(:func:`lgs_analysis.ingest.validate.validate_rows`) and the good rows go to the
warehouse by the bulk path while bad rows go to the quarantine with their line
and reason (:func:`lgs_analysis.ingest.batches.load_batch`). The whole file is one
batch in one transaction: a failure loads nothing, and a file whose bytes were
already loaded is skipped. Exact duplicate lines are the source's data and are
kept.

Line numbers are physical lines of the file (the CSV header is line 1); for an
XLSX file they are the row numbers of the sheet, and the quarantine reason
names the sheet; for Parquet they are the row numbers of the file (from 1), and for a
folder of Parquet files the reason names the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import Engine

from ..escape import terminal_text
from ..exceptions import DataValidationError
from ..log import logger
from ..progress import Progress
from ..warehouse import RETAIL_COLUMNS, describe_target, get_engine, run_query
from .batches import LoadResult, load_batch
from .limits import UTF8_WITH_ERRORS, check_xlsx_expansion, scan_text
from .validate import (
    MONTH_FIRST,
    QUARANTINE_COLUMNS,
    RETAIL_SCHEMA,
    DateOrder,
    DecimalMark,
    canonical_columns,
    validate_rows,
)

__all__ = ["SUPPORTED_FORMATS", "detect_format", "load_file"]

SUPPORTED_FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".xlsx": "xlsx",
    ".sql": "sql",
    ".sql.gz": "sql",
    ".parquet": "parquet",
}
_BLOCK_BYTES = 8 << 20  # ~100k rows of retail CSV per chunk
_XLSX_CHUNK_ROWS = 100_000
_XLSX_HEADER_ROWS = 10  # title rows allowed above an XLSX header
_SPELLINGS_HINT = (
    "expected the retail columns in one of the spellings "
    "InvoiceNo/StockCode/Description/Quantity/InvoiceDate/UnitPrice/CustomerID/Country, "
    "Invoice/StockCode/Description/Quantity/InvoiceDate/Price/Customer ID/Country or "
    "invoice_no/stock_code/description/quantity/invoice_date/unit_price/customer_id/country"
)
_COPY = re.compile(
    r'^COPY\s+(?:"?(?P<schema>[^".\s]+)"?\.)?"?(?P<table>[^".\s(]+)"?\s*'
    r"\((?P<columns>[^)]*)\)\s+FROM\s+stdin\s*;?\s*$",
    re.IGNORECASE,
)
_COPY_END = re.compile(rb"\n\\\.\r?\n")
_COPY_END_AT_EOF = re.compile(rb"\n\\\.\r?\n?$")
_COPY_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_COPY_ESCAPES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def detect_format(path: str | Path) -> str:
    """Return ``'csv'``, ``'xlsx'``, ``'sql'`` or ``'parquet'`` from the file name (``.gz``
    allowed for CSV/SQL); a folder is ``'parquet'`` (a folder of Parquet files).

    Raises
    ------
    DataValidationError
        If the extension is not one of :data:`SUPPORTED_FORMATS`.
    """
    if Path(path).is_dir():
        return "parquet"
    name = Path(path).name.lower()
    for suffix in sorted(SUPPORTED_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return SUPPORTED_FORMATS[suffix]
    raise DataValidationError(
        f"{path}: unknown file format; supported: {', '.join(SUPPORTED_FORMATS)}"
    )


def load_file(path: str | Path, engine: Engine | None = None, progress: bool = True) -> LoadResult:
    """Load a retail file into the warehouse as one atomic, idempotent batch.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.csv.gz``, ``.xlsx`` (every sheet with the retail columns, as
        in Online Retail II), ``.parquet`` or ``.sql``/``.sql.gz`` (plain ``pg_dump``
        of table ``retail``) file, or a folder of ``.parquet`` files (one load), with
        the columns in any of the three spellings.
    engine : Engine, optional
        The warehouse (default: :func:`lgs_analysis.warehouse.get_engine`).
    progress : bool (default: True)
        Log the rows read after every chunk (at INFO; DEBUG when False).

    Returns
    -------
    LoadResult
        Rows read, loaded and quarantined, or ``skipped`` when the same bytes
        were loaded before. Reloading a changed file of the same path replaces
        its earlier batch.

    Raises
    ------
    DataValidationError
        If the file is missing, its format is unknown, it lacks retail columns,
        an SQL dump has no ``COPY`` for ``retail``, or it cannot be read. Nothing
        is loaded then.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataValidationError(f"source file not found: {path.resolve()}")
    kind = detect_format(path)
    source = _SOURCES[kind](path)  # checks the columns before anything is loaded
    fingerprint = _hash_folder(path) if path.is_dir() else _hash_file(path)
    engine = engine if engine is not None else get_engine()
    logger.info(
        "loading %s (%s) into %s", path, kind, describe_target(engine.url.render_as_string())
    )
    return _load(engine, source, fingerprint, progress)


def _load(engine: Engine, source: _Source, fingerprint: str, progress: bool) -> LoadResult:
    with Progress(f"loading {source.path.name}", enabled=progress) as shown:

        def chunks() -> Iterator[tuple[pa.Table, pd.DataFrame]]:
            for good, rejected in source.chunks():
                shown.update(good.num_rows + len(rejected))
                yield good, rejected

        result = load_batch(
            engine,
            source_kind="file",
            source_name=str(source.path.resolve()),
            fingerprint=fingerprint,
            chunks=chunks(),
        )
    if not result.skipped and result.count_loaded == 0:
        raise _nothing_loaded(engine, source.path, result)
    return result


def _nothing_loaded(engine: Engine, path: Path, result: LoadResult) -> DataValidationError:
    """The error of a real file that loaded no line: it names the commonest reasons.

    Its quarantined rows stay (batch recorded), and the warehouse, which now has a real
    batch, is never given demo data (:func:`lgs_analysis.ingest.demo.ensure_data`).
    """
    name = terminal_text(str(path))
    if result.count_read == 0:
        return DataValidationError(
            f"{name}: no data row after the header: nothing was loaded. A real file that "
            "loads nothing is an error, and the warehouse will not fall back to demo data"
        )
    reasons = run_query(engine, "ingest/quarantine_reasons", batch_id=result.batch_id)
    said = "; ".join(
        f"{int(r.count_rows):,} x {r.reason} (first at line {int(r.first_line_no):,})"
        for r in reasons.head(3).itertuples()
    )
    return DataValidationError(
        f"{name}: every one of its {result.count_read:,} rows was quarantined (batch "
        f"{result.batch_id}): {terminal_text(said)}. Nothing was loaded, and the warehouse "
        "will not fall back to demo data; fix the file and load it again"
    )


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash_folder(path: Path) -> str:
    """One hash of a folder's Parquet files: their names and contents, in name order."""
    digest = hashlib.sha256()
    for file in _parquet_files(path):
        digest.update(f"{file.name}\0{_hash_file(file)}\0".encode())
    return digest.hexdigest()


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _missing_columns_error(path: Path, where: str, names: list[str]) -> DataValidationError:
    found = set(canonical_columns(names).values())
    missing = [c for c in RETAIL_COLUMNS if c not in found]
    shown = ", ".join(repr(n) for n in names) if names else "none"
    return DataValidationError(
        f"{path}{where}: not retail data: missing column(s) {', '.join(missing)}; "
        f"found columns {shown}; {_SPELLINGS_HINT}"
    )


def _positions(names: list[str]) -> dict[str, int] | None:
    """Column position of each canonical column, or None if one is missing."""
    positions: dict[str, int] = {}
    for i, name in enumerate(names):
        canon = canonical_columns([name]).get(name)
        if canon is not None and canon not in positions:
            positions[canon] = i
    return positions if len(positions) == len(RETAIL_COLUMNS) else None


# --- delimited text (CSV and the COPY section of a SQL dump) -----------------------------


@dataclass
class _InvalidRows:
    """Collects the rows pyarrow cannot split into the expected number of fields."""

    rows: list[tuple[int, int, int, str]] = field(default_factory=list)

    def __call__(self, row: Any) -> str:
        self.rows.append((row.number, row.expected_columns, row.actual_columns, row.text or ""))
        return "skip"


class _LineCounter:
    """Turns pyarrow's record order back into physical line numbers.

    pyarrow numbers records (the header is record 1 when the file has one) and
    reports unparseable ones to :class:`_InvalidRows`; good records arrive in
    batches without numbers. A quoted value may span lines, which shifts the
    physical line of every later record.
    """

    def __init__(self, first_record: int, line_offset: int) -> None:
        self.cursor = first_record  # record number of the next good row
        self.line_offset = line_offset
        self.extra_lines = 0  # newlines inside values seen so far

    def assign(
        self, pending: list[tuple[int, int, int, str]], n_good: int, good_newlines: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int, int, str]], np.ndarray]:
        """Lines of ``n_good`` good rows and of the invalid rows before them.

        Returns the good rows' lines, the invalid rows placed (removed from
        ``pending``) and their lines.
        """
        pending.sort()
        bad_records = np.array([r[0] for r in pending], dtype=np.int64)
        gaps = bad_records - self.cursor - np.arange(len(bad_records))
        index = np.arange(n_good)
        records = self.cursor + index + np.searchsorted(gaps, index, side="right")
        if n_good:
            self.cursor = int(records[-1]) + 1
            n_placed = int(np.searchsorted(bad_records, records[-1], side="right"))
        else:
            n_placed = len(pending)
        placed = pending[:n_placed]
        del pending[:n_placed]
        all_records = np.concatenate([records, bad_records[:n_placed]])
        newlines = np.concatenate(
            [good_newlines, np.array([r[3].count("\n") for r in placed], dtype=np.int64)]
        )
        order = np.argsort(all_records, kind="stable")
        sorted_newlines = newlines[order]
        lines = np.empty(len(all_records), dtype=np.int64)
        lines[order] = (
            all_records[order]
            + self.extra_lines
            + np.cumsum(sorted_newlines)
            - sorted_newlines
            + self.line_offset
        )
        self.extra_lines += int(sorted_newlines.sum())
        return lines[:n_good], placed, lines[n_good:]


def _unparseable(placed: list[tuple[int, int, int, str]], lines: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_no": lines.astype(np.int64),
            "reason": [
                f"cannot parse line: expected {expected} fields, found {actual}"
                for _, expected, actual, _ in placed
            ],
            "raw_row": [json.dumps({"line": text}) for *_, text in placed],
        },
        columns=QUARANTINE_COLUMNS,
    )


def _blank_rows(batch: pa.RecordBatch) -> np.ndarray:
    blank = None
    for column in batch.columns:
        empty = pc.fill_null(pc.equal(column, ""), True)
        blank = empty if blank is None else pc.and_(blank, empty)
    return blank.to_numpy(zero_copy_only=False)


def _newlines(batch: pa.RecordBatch) -> np.ndarray:
    total = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        total += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy().astype(np.int64)
    return total


def _read_delimited(
    stream: Any,
    *,
    names: list[str],
    positions: dict[str, int],
    counter: _LineCounter,
    parse_options: dict[str, Any],
    null_values: list[str],
    encoding: str = "utf8",
    skip_rows: int = 0,
    decode: Callable[[pa.Array], pa.Array] | None = None,
    date_order: str = MONTH_FIRST,
    decimal_comma: bool = False,
    replaced: bool = False,
) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    """Stream delimited text as validated (good, rejected) chunks."""
    generated = [f"c{i}" for i in range(len(names))]
    wanted = {generated[i]: canon for canon, i in positions.items()}
    invalid = _InvalidRows()
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(
            use_threads=False,  # keeps pyarrow's record numbers for invalid rows
            block_size=_BLOCK_BYTES,
            column_names=generated,
            skip_rows=skip_rows,
            encoding=encoding,
        ),
        parse_options=pacsv.ParseOptions(
            invalid_row_handler=invalid, ignore_empty_lines=False, **parse_options
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in generated},
            include_columns=[generated[positions[c]] for c in RETAIL_COLUMNS],
            null_values=null_values,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    count_newlines = parse_options.get("newlines_in_values", False)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        batch = pa.RecordBatch.from_arrays(
            batch.columns, names=[wanted[n] for n in batch.schema.names]
        )
        newlines = _newlines(batch) if count_newlines else np.zeros(batch.num_rows, dtype=np.int64)
        lines, placed, placed_lines = counter.assign(invalid.rows, batch.num_rows, newlines)
        keep = ~_blank_rows(batch)
        if not keep.all():
            batch = batch.filter(pa.array(keep))
            lines = lines[keep]
        if decode is not None:
            batch = pa.RecordBatch.from_arrays(
                [decode(c) for c in batch.columns], names=batch.schema.names
            )
        good, rejected = validate_rows(
            batch.to_pandas(),
            lines,
            date_order=date_order,
            decimal_comma=decimal_comma,
            replaced=replaced,
        )
        if placed:
            rejected = _merge_rejected(rejected, _unparseable(placed, placed_lines))
        yield good, rejected
    lines, placed, placed_lines = counter.assign(invalid.rows, 0, np.zeros(0, dtype=np.int64))
    if placed:
        yield RETAIL_SCHEMA.empty_table(), _unparseable(placed, placed_lines)


def _merge_rejected(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    if a.empty:
        return b
    return pd.concat([a, b], ignore_index=True).sort_values("line_no", kind="stable")


class _Source:
    """A checked source file: ``chunks()`` yields validated (good, rejected) pairs."""

    path: Path

    def chunks(self) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
        raise NotImplementedError


class _CsvSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = encoding = scan_text(path)  # one encoding for the whole file
        self.replaced = encoding == UTF8_WITH_ERRORS
        if self.replaced:
            self.encoding = encoding = "utf-8"
            logger.warning(
                "%s is UTF-8 but for some lines: those are quarantined (not valid UTF-8)",
                terminal_text(path.name),
            )
        elif encoding != "utf-8":
            logger.info("%s is not UTF-8; reading it as %s", path.name, encoding)
        with _open_binary(path) as fh:
            try:
                first = fh.readline()
            except (OSError, EOFError) as exc:
                raise DataValidationError(f"{path}: cannot read the file: {exc}") from exc
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        header = codecs.decode(first, codec, errors="replace").rstrip("\r\n")
        self.delimiter = max(",;\t|", key=header.count)
        self.names = next(csv.reader([header], delimiter=self.delimiter), [])
        positions = _positions(self.names)
        if positions is None:
            raise _missing_columns_error(path, "", self.names)
        self.positions = positions
        self.date_order, self.decimal_comma = self._scan_dialect()

    def _scan_dialect(self) -> tuple[str, bool]:
        """The file's date order and whether its prices use a decimal comma, decided from
        the whole file in one streamed pass over those two columns."""
        order, comma = DateOrder(), DecimalMark()
        columns = [f"c{self.positions['invoice_date']}", f"c{self.positions['unit_price']}"]
        encoding = "utf8" if self.encoding == "utf-8" else self.encoding
        try:
            with self._open() as fh:
                reader = pacsv.open_csv(
                    fh,
                    read_options=pacsv.ReadOptions(
                        block_size=_BLOCK_BYTES,
                        column_names=[f"c{i}" for i in range(len(self.names))],
                        skip_rows=1,
                        encoding=encoding,
                    ),
                    parse_options=pacsv.ParseOptions(
                        delimiter=self.delimiter,
                        newlines_in_values=True,
                        invalid_row_handler=lambda _row: "skip",
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict.fromkeys(columns, pa.string()),
                        include_columns=columns,
                    ),
                )
                for batch in reader:
                    order.see(batch.column(0).to_pandas())
                    comma.see(batch.column(1).to_pandas())
        except (pa.ArrowInvalid, OSError, EOFError, UnicodeError) as exc:
            raise DataValidationError(f"{self.path}: cannot read as CSV: {exc}") from exc
        where = terminal_text(str(self.path))
        return order.decide(where), comma.decide(where, self.delimiter)

    @contextlib.contextmanager
    def _open(self) -> Iterator[IO[bytes]]:
        """The file's bytes; in a UTF-8 file with damaged lines, their invalid sequences
        become U+FFFD, so those rows parse and are quarantined."""
        with _open_binary(self.path) as raw:
            yield io.BufferedReader(_Utf8Replacing(raw)) if self.replaced else raw

    def chunks(self) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
        with self._open() as fh:
            try:
                yield from _read_delimited(
                    fh,
                    names=self.names,
                    positions=self.positions,
                    counter=_LineCounter(first_record=2, line_offset=0),
                    parse_options={"delimiter": self.delimiter, "newlines_in_values": True},
                    null_values=[""],
                    encoding="utf8" if self.encoding == "utf-8" else self.encoding,
                    skip_rows=1,
                    date_order=self.date_order,
                    decimal_comma=self.decimal_comma,
                    replaced=self.replaced,
                )
            except (pa.ArrowInvalid, OSError, EOFError, UnicodeError) as exc:
                raise DataValidationError(f"{self.path}: cannot read as CSV: {exc}") from exc


# --- the OLTP SQL dump -------------------------------------------------------------------


class _Utf8Replacing(io.RawIOBase):
    """A UTF-8 byte stream whose invalid sequences are replaced by U+FFFD, so the lines
    around them parse; validation quarantines the rows holding one."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending and not self.done:
            block = self.raw.read(_BLOCK_BYTES)
            self.done = not block
            self.pending = self.decoder.decode(block, final=self.done).encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


class _CopyData(io.RawIOBase):
    """The data lines of one ``COPY ... FROM stdin`` section, up to its ``\\.`` line."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._tail = b""
        self._line_start = True
        self.finished = False  # the \. terminator was seen
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        while not self._eof:
            chunk = self._raw.read(size if size and size > 0 else 1 << 20)
            data = self._tail + chunk
            prefix = b"\n" if self._line_start else b""
            pattern = _COPY_END if chunk else _COPY_END_AT_EOF
            match = pattern.search(prefix + data)
            if match is not None:
                self._eof = self.finished = True
                return data[: match.start() - len(prefix) + 1]
            if not chunk:
                self._eof = True
                return data
            out, self._tail = data[:-5], data[-5:]
            if out:
                self._line_start = out.endswith(b"\n")
                return out
        return b""


def _decode_copy_text(values: pa.Array) -> pa.Array:
    """Undo PostgreSQL COPY text escapes (``\\t``, ``\\\\``, octal ...) where present."""
    escaped = pc.fill_null(pc.match_substring(values, "\\"), False)
    if not pc.any(escaped).as_py():
        return values
    out = values.to_pylist()
    for i in np.flatnonzero(escaped.to_numpy(zero_copy_only=False)):
        out[i] = _COPY_ESCAPE.sub(_unescape, out[i].encode()).decode("utf-8", "replace")
    return pa.array(out, pa.string())


def _unescape(match: re.Match[bytes]) -> bytes:
    octal, hexa, char = match.groups()
    if octal is not None:
        return bytes([int(octal, 8) & 0xFF])
    if hexa is not None:
        return bytes([int(hexa, 16)])
    return _COPY_ESCAPES.get(char, char)


class _SqlSource(_Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = scan_text(path)
        if self.encoding == UTF8_WITH_ERRORS:  # pg_dump writes UTF-8: damage is refused
            raise DataValidationError(
                f"{terminal_text(str(path))}: the SQL dump is UTF-8 but for some bytes that "
                "are not: it is damaged; nothing was loaded. Dump it again"
            )
        found: list[str] = []
        with _open_binary(path) as fh:
            try:
                located = self._find_copy(fh, found)
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise DataValidationError(f"{path}: cannot read the SQL dump: {exc}") from exc
        if located is None:
            seen = f"COPY statements found for: {', '.join(found)}" if found else "no COPY found"
            raise DataValidationError(
                f"{path}: no 'COPY retail (...) FROM stdin' section for table retail ({seen}); "
                "expected a plain-text pg_dump of table retail (INSERT-style dumps are not read)"
            )
        self.copy_line, self.names = located
        positions = _positions(self.names)
        if positions is None:
            raise _missing_columns_error(path, f" (COPY at line {self.copy_line})", self.names)
        self.positions = positions

    @staticmethod
    def _find_copy(fh: IO[bytes], found: list[str]) -> tuple[int, list[str]] | None:
        """Advance ``fh`` past the ``COPY ... retail`` line; return its line and columns."""
        in_other_copy = False
        for line_no, raw in enumerate(fh, start=1):
            if in_other_copy:
                in_other_copy = raw.rstrip(b"\r\n") != b"\\."
                continue
            if not raw[:4].upper() == b"COPY":
                continue
            match = _COPY.match(raw.decode("utf-8").strip())
            if match is None:
                continue
            found.append(".".join(filter(None, match.group("schema", "table"))))
            if match.group("table").lower() == "retail":
                columns = [c.strip().strip('"') for c in match.group("columns").split(",")]
                return line_no, columns
            in_other_copy = True
        return None

    def chunks(self) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
        with _open_binary(self.path) as fh:
            self._find_copy(fh, [])
            data = _CopyData(fh)
            try:
                yield from _read_delimited(
                    data,
                    names=self.names,
                    positions=self.positions,
                    counter=_LineCounter(first_record=1, line_offset=self.copy_line),
                    parse_options={"delimiter": "\t", "quote_char": False, "escape_char": False},
                    null_values=["\\N"],
                    encoding="utf8" if self.encoding == "utf-8" else self.encoding,
                    decode=_decode_copy_text,
                )
            except (pa.ArrowInvalid, OSError, EOFError) as exc:
                raise DataValidationError(f"{self.path}: cannot read the COPY data: {exc}") from exc
            if not data.finished:
                raise DataValidationError(
                    f"{self.path}: the COPY data of retail (from line {self.copy_line}) has no "
                    "terminating '\\.' line: the dump is truncated; nothing was loaded"
                )


# --- XLSX ----------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


_XLSX_TEXT_COLUMNS = ("invoice_no", "stock_code", "description", "country")


def _xlsx_column(values: list[Any], canon: str) -> pa.Array:
    """One column of cells as Arrow: typed where Excel typed it, else text.

    Text columns (invoice number, stock code ...) come back as text even when
    Excel stored them as numbers (``489434.0`` becomes ``'489434'``).
    """
    cells = [None if v == "" else v for v in values]
    try:
        array = pa.array(cells)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in one column
        return pa.array([v if type(v) is str else _cell_text(v) for v in cells], pa.string())
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_null(kind):
        return array.cast(pa.string())
    if canon in _XLSX_TEXT_COLUMNS or not (
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_timestamp(kind)
    ):
        return pa.array([_cell_text(v) for v in cells], pa.string())
    return array


class _XlsxSource(_Source):
    def __init__(self, path: Path) -> None:
        from python_calamine import CalamineError, CalamineWorkbook

        self.path = path
        check_xlsx_expansion(path)  # a zip bomb is refused before calamine expands it
        try:
            workbook = CalamineWorkbook.from_path(str(path))
            # parsed once here (to check the header) and read from in chunks()
            sheets = [(name, workbook.get_sheet_by_name(name)) for name in workbook.sheet_names]
        except (CalamineError, OSError, ValueError) as exc:
            raise DataValidationError(f"{path}: cannot read as XLSX: {exc}") from exc
        self.sheets: list[tuple[str, dict[str, int], Any, int]] = []
        for name, sheet in sheets:
            header, offset = self._find_header(sheet)
            positions = _positions(header)
            if positions is not None:
                self.sheets.append((name, positions, sheet, offset))
            elif canonical_columns(header):
                raise _missing_columns_error(path, f" sheet {name!r}", header)
            else:
                logger.warning("%s: sheet %r has no retail columns; skipped", path.name, name)
        if not self.sheets:
            names = ", ".join(repr(name) for name, _ in sheets) or "none"
            raise DataValidationError(
                f"{path}: not retail data: no sheet has the retail columns (sheets: {names}); "
                f"{_SPELLINGS_HINT}"
            )

    @staticmethod
    def _find_header(sheet: Any) -> tuple[list[str], int]:
        """The header (the first of the top rows naming every retail column) and its index.

        Title rows above the header are allowed; without a full header, the
        first non-empty row is returned for the error message.
        """
        first: tuple[list[str], int] | None = None
        for index, row in zip(range(_XLSX_HEADER_ROWS), sheet.iter_rows(), strict=False):
            header = [str(c).strip() for c in row]
            if _positions(header) is not None:
                return header, index
            if first is None and any(header):
                first = (header, index)
        return first or ([], 0)

    def chunks(self) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
        while self.sheets:
            name, positions, sheet, offset = self.sheets.pop(0)  # frees each sheet once read
            rows = sheet.iter_rows()
            for _ in range(offset + 1):
                next(rows, None)
            # 1-based sheet row of the first data row: the range may start below row 1
            first_row = (sheet.start or (0, 0))[0] + offset + 2
            while True:
                block = [row for _, row in zip(range(_XLSX_CHUNK_ROWS), rows, strict=False)]
                if not block:
                    break
                yield self._validate(name, positions, block, first_row)
                first_row += len(block)

    @staticmethod
    def _validate(
        sheet: str, positions: dict[str, int], block: list[list[Any]], first_row: int
    ) -> tuple[pa.Table, pd.DataFrame]:
        width = max(positions.values()) + 1
        padded = [row if len(row) >= width else [*row, *[""] * (width - len(row))] for row in block]
        frame = pa.table(
            {
                canon: _xlsx_column([row[positions[canon]] for row in padded], canon)
                for canon in RETAIL_COLUMNS
            }
        ).to_pandas()
        lines = np.arange(first_row, first_row + len(block), dtype=np.int64)
        keep = ~frame.isna().all(axis=1).to_numpy()
        good, rejected = validate_rows(frame[keep], lines[keep])
        if len(rejected):
            rejected = rejected.assign(reason=rejected["reason"] + f" (sheet {sheet!r})")
        return good, rejected


# --- Parquet -------------------------------------------------------------------------------


def _parquet_files(path: Path) -> list[Path]:
    """The ``.parquet`` files of a folder (not its sub-folders), in name order."""
    files = sorted(p for p in path.glob("*.parquet") if p.is_file())
    if not files:
        raise DataValidationError(
            f"{path}: a folder to load must hold .parquet files; it holds none"
        )
    return files


def _parquet_column(values: pa.ChunkedArray | pa.Array, canon: str) -> pa.Array:
    """One Parquet column as validation takes it: text columns as text, dates without a
    time zone (UTC wall-clock time), other types as they are."""
    kind = values.type
    if canon in _XLSX_TEXT_COLUMNS and not pa.types.is_string(kind):
        if pa.types.is_large_string(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind):
            return pc.cast(values, pa.string())
        return pa.array([_cell_text(v) for v in values.to_pylist()], pa.string())
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pc.cast(values, pa.timestamp(kind.unit))
    if pa.types.is_dictionary(kind):
        return _parquet_column(values.dictionary_decode(), canon)
    return values


class _ParquetSource(_Source):
    """A Parquet file, or a folder of them loaded as one batch, read in row batches."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.files: list[tuple[Path, list[str]]] = []
        for file in _parquet_files(path) if path.is_dir() else [path]:
            try:
                names = pq.ParquetFile(file).schema_arrow.names
            except (pa.ArrowException, OSError) as exc:
                raise DataValidationError(f"{file}: cannot read as Parquet: {exc}") from exc
            positions = _positions(names)
            if positions is None:
                raise _missing_columns_error(file, "", names)
            self.files.append((file, [names[positions[c]] for c in RETAIL_COLUMNS]))

    def chunks(self) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
        import pyarrow.parquet as pq

        for file, columns in self.files:
            first_row = 1
            try:
                batches = pq.ParquetFile(file).iter_batches(
                    batch_size=_XLSX_CHUNK_ROWS, columns=columns
                )
                for batch in batches:
                    yield self._validate(file, batch, first_row)
                    first_row += batch.num_rows
            except (pa.ArrowException, OSError) as exc:
                raise DataValidationError(
                    f"{file}: cannot read as Parquet at row {first_row}: {exc}"
                ) from exc

    def _validate(
        self, file: Path, batch: pa.RecordBatch, first_row: int
    ) -> tuple[pa.Table, pd.DataFrame]:
        frame = pa.table(
            {
                canon: _parquet_column(batch.column(i), canon)
                for i, canon in enumerate(RETAIL_COLUMNS)
            }
        ).to_pandas()
        lines = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        good, rejected = validate_rows(frame, lines)
        if len(rejected) and self.path.is_dir():
            rejected = rejected.assign(reason=rejected["reason"] + f" (file {file.name!r})")
        return good, rejected


_SOURCES: dict[str, Callable[[Path], _Source]] = {
    "csv": _CsvSource,
    "sql": _SqlSource,
    "xlsx": _XlsxSource,
    "parquet": _ParquetSource,
}
