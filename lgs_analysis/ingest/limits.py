"""Checks a source file passes before it is parsed: its encoding, decided once for the
whole file, and the caps that keep memory bounded on hostile files (a physical line
longer than ``LGS_MAX_LINE_BYTES``, an XLSX that expands past ``LGS_MAX_XLSX_RATIO``
times its size or ``LGS_MAX_XLSX_BYTES``).

Each check streams the file in 1 MB blocks, so it needs a few MB whatever the input.
"""

from __future__ import annotations

import codecs
import gzip
import os
import zipfile
from pathlib import Path
from typing import IO

from ..exceptions import DataValidationError

__all__ = ["max_line_bytes", "scan_text", "check_xlsx_expansion", "UTF8_WITH_ERRORS"]

_BLOCK = 1 << 20
_DEFAULT_MAX_LINE = 1 << 20  # 1 MB: a retail line is about 100 bytes
_DEFAULT_XLSX_RATIO = 50
_DEFAULT_XLSX_BYTES = 2 << 30  # 2 GiB of XML
# the most each may be set to: a line is held whole in memory, XLSX XML is streamed
_MOST_LINE = 256 << 20
_MOST_XLSX_RATIO = 1_000
_MOST_XLSX_BYTES = 64 << 30


def _setting(name: str, default: int, most: int) -> int:
    from ..config import bounded_number

    return int(bounded_number(name, os.environ.get(name), default, (1, most)))


def max_line_bytes() -> int:
    """The longest physical line a text source may have (``LGS_MAX_LINE_BYTES``, 1 MB)."""
    return _setting("LGS_MAX_LINE_BYTES", _DEFAULT_MAX_LINE, _MOST_LINE)


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


UTF8_WITH_ERRORS = "utf-8 with errors"  # UTF-8 but for some lines: those are quarantined


def scan_text(path: Path) -> str:
    """Read a text source once: refuse an over-long line and decide its encoding.

    Returns
    -------
    str
        ``"utf-8"`` when every byte of the file is UTF-8; :data:`UTF8_WITH_ERRORS` when
        its valid multi-byte UTF-8 characters outnumber its invalid byte sequences (a
        UTF-8 file with a few damaged lines: they are quarantined, the rest stays UTF-8);
        else ``"cp1252"`` (Windows-1252, what Excel on Windows writes), or ``"latin-1"``
        when the file holds bytes that Windows-1252 leaves undefined. Decided for the
        whole file, never per chunk.

    Raises
    ------
    DataValidationError
        If a line is longer than :func:`max_line_bytes` (names the line and the setting),
        or the file cannot be read (a corrupt gzip stream, for example).
    """
    cap = max_line_bytes()
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    cp1252_ok = True
    invalid = multibyte = 0  # invalid UTF-8 sequences, valid non-ASCII characters
    line, run = 1, 0  # current physical line and its bytes so far
    try:
        with _open(path) as fh:
            while block := fh.read(_BLOCK):
                text = utf8.decode(block)
                if not text.isascii():
                    bad = text.count("\ufffd") - block.count(b"\xef\xbf\xbd")  # not U+FFFD itself
                    invalid += bad
                    multibyte += len(text) - len(text.encode("ascii", "ignore")) - bad
                if cp1252_ok:
                    cp1252_ok = not any(b in block for b in (b"\x81", b"\x8d", b"\x8f", b"\x90"))
                    cp1252_ok = cp1252_ok and b"\x9d" not in block
                start = 0
                while (end := block.find(b"\n", start)) != -1:
                    if run + end - start > cap:
                        break
                    line, run, start = line + 1, 0, end + 1
                else:
                    run += len(block) - start
                    if run <= cap:
                        continue
                raise DataValidationError(
                    f"{path}: line {line:,} is longer than {cap:,} bytes (LGS_MAX_LINE_BYTES); "
                    "a retail line is about 100 bytes, so this is not a retail file or it is "
                    "corrupt; nothing was loaded"
                )
            invalid += utf8.decode(b"", final=True).count("\ufffd")  # a cut-off character
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataValidationError(f"{path}: cannot read the file: {exc}") from exc
    if not invalid:
        return "utf-8"
    if multibyte > invalid:
        return UTF8_WITH_ERRORS
    return "cp1252" if cp1252_ok else "latin-1"


def check_xlsx_expansion(path: Path) -> None:
    """Refuse an XLSX whose parts expand past the caps (a zip bomb), before it is parsed.

    The parts are really decompressed (in 1 MB blocks, stopping at the cap), so a zip
    whose headers lie about its sizes is caught too.

    Raises
    ------
    DataValidationError
        Past ``LGS_MAX_XLSX_RATIO`` (50) times the file's size or ``LGS_MAX_XLSX_BYTES``
        (2 GiB), whichever is smaller, or if the file is not a readable zip.
    """
    ratio = _setting("LGS_MAX_XLSX_RATIO", _DEFAULT_XLSX_RATIO, _MOST_XLSX_RATIO)
    cap = min(
        ratio * max(path.stat().st_size, 1),
        _setting("LGS_MAX_XLSX_BYTES", _DEFAULT_XLSX_BYTES, _MOST_XLSX_BYTES),
    )
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared > cap:
                total = declared
            else:
                for info in archive.infolist():
                    with archive.open(info) as part:
                        while block := part.read(_BLOCK):
                            total += len(block)
                            if total > cap:
                                break
                    if total > cap:
                        break
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise DataValidationError(f"{path}: cannot read as XLSX: {exc}") from exc
    if total > cap:
        raise DataValidationError(
            f"{path}: the XLSX expands to more than {cap:,} bytes (more than {ratio}x its "
            f"{path.stat().st_size:,} bytes, or LGS_MAX_XLSX_BYTES): refused as a possible "
            "zip bomb; nothing was loaded. Export it as CSV, or raise LGS_MAX_XLSX_RATIO"
        )
