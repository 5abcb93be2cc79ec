"""Untrusted text on its way out: into HTML, Markdown, chart labels, spreadsheets, file names.

Descriptions, countries, stock codes and segment names come from what customers, staff
and parameter files typed. Every place that writes such text into a format with syntax
goes through one of these functions, so that the text shows as text and never becomes
an element, a link, a formula or a path. Every one of them first shows the characters
that are invisible but change how the text around them reads (:func:`visible_text`):
a right-to-left override turns ``FREE GIFT<U+202E>txt.exe`` into ``FREE GIFTexe.txt``.
"""

from __future__ import annotations

import csv
import html
import io
import re
import string
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "visible_text",
    "terminal_text",
    "html_text",
    "markdown_text",
    "markdown_plain",
    "chart_text",
    "spreadsheet_cell",
    "neutralise_frame",
    "write_csv",
    "csv_bytes",
    "safe_filename",
    "segment_file_stem",
    "file_name_collisions",
    "FORMULA_PREFIXES",
]

# OWASP CSV injection: a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HTML_SPECIAL = set("<>&")
# Every ASCII punctuation mark can start Markdown syntax somewhere, except these, which
# names often hold ("Can't Lose", "PAPER CRAFT , LITTLE BIRDIE").
_PUNCTUATION = set(string.punctuation) - set("'\",")


# Unicode categories of characters that show nothing themselves: controls (Cc), format
# characters (Cf: bidi embeddings, overrides and isolates, zero-width spaces and joiners,
# the BOM, tag characters), line and paragraph separators (Zl, Zp) and lone surrogates (Cs)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEPT_WHITESPACE = frozenset("\t\n\r")  # each output format handles these itself


def _is_invisible(ch: str) -> bool:
    return ch not in _KEPT_WHITESPACE and unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def visible_text(value: Any) -> str:
    """``value`` with every invisible control or format character shown as ``[U+XXXX]``.

    Bidi overrides and isolates (U+202A-202E, U+2066-2069), marks (U+200E, U+200F),
    zero-width characters (U+200B-200D, U+2060, U+FEFF), other format and control
    characters, and line/paragraph separators would reorder or hide text where it is
    shown; they are written out instead, so the reader sees that they are there. Tab,
    newline and carriage return are kept: each format deals with them.
    """
    text = str(value)
    if text.isprintable() or not any(_is_invisible(ch) for ch in text):
        return text
    return "".join(f"[U+{ord(ch):04X}]" if _is_invisible(ch) else ch for ch in text)


def terminal_text(value: Any, newlines: bool = False) -> str:
    """``value`` for a terminal or a log file: every control, format (bidi, zero-width) or
    separator character written as ``\\xNN`` or ``\\uNNNN``.

    ESC and BEL cannot move the cursor, recolour or retitle the terminal, U+202E cannot
    reverse what follows, and a newline in a file name cannot start a forged log line.
    ``newlines=True`` keeps ``\\n`` (for our own multi-line summaries); tab is kept.
    """
    text = str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if (
            ch == "\t"
            or (ch == "\n" and newlines)
            or (unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
        ):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def html_text(value: Any) -> str:
    """``value`` as HTML text (``<`` ``>`` ``&`` and both quotes escaped, invisible
    characters shown: :func:`visible_text`)."""
    return html.escape(visible_text(value), quote=True)


def markdown_text(value: Any) -> str:
    """``value`` as inert Markdown inline text.

    ``<``, ``>`` and ``&`` become entities (no tag or entity can start), every other
    ASCII punctuation mark but apostrophes, double quotes and commas is
    backslash-escaped (no emphasis, link, image, code span, heading, list or autolink
    can start), and line breaks become spaces (no new block can start).
    """
    out = []
    for ch in visible_text(value):
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
    """``value`` for a matplotlib label: dollar signs escaped, so no mathtext is parsed;
    invisible characters shown (:func:`visible_text`)."""
    return visible_text(value).replace("$", r"\$")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote;
    invisible characters shown (:func:`visible_text`).

    Numbers, booleans and missing values are returned as they are.
    """
    if not isinstance(value, str):
        return value
    value = visible_text(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


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


_MAX_NAME = 60  # characters of a file-name part


def _name_char(ch: str) -> bool:
    """Letters, digits and combining marks of any script (no ``/``, dot, space or control)."""
    return unicodedata.category(ch)[0] in "LNM"


def safe_filename(value: Any, fallback: str = "file") -> str:
    """A file-name part made of letters, digits and single underscores.

    Letters and digits of every script are kept (NFKC-normalised), so names stay
    readable and distinct: ``Can't Lose`` gives ``Can_t_Lose``, ``Χαμένοι`` gives
    ``Χαμένοι``; every other run of characters (spaces, punctuation, invisible characters)
    becomes one ``_``. A name without any letter or digit is spelled by its code points
    after ``fallback`` (``★★`` gives ``file_u2605_u2605``), so it never falls back to a
    name another value shares. At most 60 characters.
    """
    text = unicodedata.normalize("NFKC", str(value))
    parts, word = [], []
    for ch in text:
        if _name_char(ch):
            word.append(ch)
        elif word:
            parts.append("".join(word))
            word = []
    if word:
        parts.append("".join(word))
    name = "_".join(parts)
    if not name:
        spelled = [f"u{ord(ch):04x}" for ch in text if not ch.isspace()]
        name = "_".join([fallback, *spelled])
    return name[:_MAX_NAME].strip("_") or fallback


def segment_file_stem(segment: str) -> str:
    """The part of a segment's file names after the prefix: ``can_t_lose``, ``χαμένοι``."""
    return safe_filename(str(segment).lower(), "segment")


def file_name_collisions(names: Any) -> list[tuple[str, str, str]]:
    """Pairs of distinct ``names`` whose :func:`segment_file_stem` is the same.

    Returns
    -------
    list of (first name, second name, shared stem), in the order the names were given.
    """
    seen: dict[str, str] = {}
    found = []
    for name in names:
        stem = segment_file_stem(name)
        if stem in seen and seen[stem] != name:
            found.append((seen[stem], name, stem))
        seen.setdefault(stem, name)
    return found
