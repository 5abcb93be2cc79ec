"""Untrusted text on its way out: into HTML, Markdown, chart labels, spreadsheets, file names.

Descriptions, countries, stock codes and segment names come from what customers, staff
and parameter files typed. Every place that writes such text into a format with syntax
goes through one of these functions, so that the text shows as text and never becomes
an element, a link, a formula or a path.
"""

from __future__ import annotations

import csv
import html
import io
import re
import string
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "html_text",
    "markdown_text",
    "markdown_plain",
    "chart_text",
    "spreadsheet_cell",
    "neutralise_frame",
    "write_csv",
    "csv_bytes",
    "safe_filename",
    "FORMULA_PREFIXES",
]

# OWASP CSV injection: a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HTML_SPECIAL = set("<>&")
# Every ASCII punctuation mark can start Markdown syntax somewhere, except these, which
# names often hold ("Can't Lose", "PAPER CRAFT , LITTLE BIRDIE").
_PUNCTUATION = set(string.punctuation) - set("'\",")


def html_text(value: Any) -> str:
    """``value`` as HTML text (``<`` ``>`` ``&`` and both quotes escaped)."""
    return html.escape(str(value), quote=True)


def markdown_text(value: Any) -> str:
    """``value`` as inert Markdown inline text.

    ``<``, ``>`` and ``&`` become entities (no tag or entity can start), every other
    ASCII punctuation mark but apostrophes, double quotes and commas is
    backslash-escaped (no emphasis, link, image, code span, heading, list or autolink
    can start), and line breaks become spaces (no new block can start).
    """
    out = []
    for ch in str(value):
        if ch in _HTML_SPECIAL:
            out.append(html.escape(ch, quote=False))
        elif ch in _PUNCTUATION:
            out.append("\\" + ch)
        elif ch in "\r\n\t\v\f":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def markdown_plain(markdown: str) -> str:
    """Our own Markdown (bold, escapes, entities) back to plain text, for JSON and email."""
    text = re.sub(r"(?<!\\)`", "", markdown.replace("**", ""))
    text = re.sub(r"\\(.)", r"\1", text)
    return html.unescape(text)


def chart_text(value: Any) -> str:
    """``value`` for a matplotlib label: dollar signs escaped, so no mathtext is parsed."""
    return str(value).replace("$", r"\$")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote.

    Numbers, booleans and missing values are returned as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (object or string columns) are spreadsheet-safe."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(spreadsheet_cell)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, decimals: int | None = 6) -> Path:
    """Write ``frame`` as CSV, formulas neutralised and floats rounded to ``decimals``.

    Every CSV the project writes for people (report tables, campaign lists) goes
    through here.
    """
    path = Path(path)
    shown = frame.round(decimals) if decimals is not None else frame
    neutralise_frame(shown).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes (UTF-8), formulas neutralised: for attachments."""
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9]+")


def safe_filename(value: Any, fallback: str = "file") -> str:
    """A file-name part made of letters, digits and single underscores (``Can_t_Lose``)."""
    name = _UNSAFE_NAME.sub("_", str(value)).strip("_")[:60]
    return name or fallback
