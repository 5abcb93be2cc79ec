"""Progress a person can see: a bar on a terminal, plain one-line updates otherwise.

Long work (loads, ETL runs, report batches) reports through :class:`Progress`. On a
terminal it draws a tqdm bar with the rate and, when the total is known, the time left.
Without one (cron, CI, a log file) it writes a plain line at most every
``LGS_PROGRESS_SECONDS`` (5 by default), and a last line when done, so logs stay short.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from .config import bounded_number
from .escape import terminal_text

__all__ = ["Progress"]


class Progress:
    """Count ``unit`` done towards ``total`` (None when unknown) under a description.

    Use as a context manager; ``update(n)`` adds ``n`` done. ``enabled=False`` shows
    nothing at all (library use, tests).
    """

    def __init__(
        self,
        description: str,
        total: int | None = None,
        unit: str = "rows",
        enabled: bool = True,
        stream: TextIO | None = None,
        every_seconds: float | None = None,
    ) -> None:
        self.description = terminal_text(description)  # a file name may hold an ESC or newline
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.stream = stream or sys.stderr
        if every_seconds is None:  # LGS_PROGRESS_SECONDS: how often a plain line is written
            every_seconds = bounded_number(
                "LGS_PROGRESS_SECONDS",
                os.environ.get("LGS_PROGRESS_SECONDS"),
                5.0,
                (0.0, 86_400.0),
                whole=False,
            )
        self.every_seconds = every_seconds
        self.done = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar: Any = None
        if enabled and self.stream.isatty():
            import shutil

            from tqdm import tqdm

            # a terminal that reports no width (some ptys) still gets a full bar
            columns = shutil.get_terminal_size((100, 24)).columns or 100
            self._bar = tqdm(
                total=total,
                desc=description,
                unit=f" {unit}",
                unit_scale=unit == "rows",
                file=self.stream,
                leave=True,
                ncols=min(columns, 120),
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def update(self, count: int = 1) -> None:
        """Add ``count`` done."""
        self.done += count
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(count)
            return
        if self.total and self.done >= self.total:
            return  # close() writes the last line
        now = time.monotonic()
        if now - self._last_line >= self.every_seconds:
            self._last_line = now
            self._write(final=False)

    def close(self) -> None:
        """Finish the bar, or write the last plain line."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.done:
            self._write(final=True)
        self.enabled = False

    def _write(self, final: bool) -> None:
        elapsed = time.monotonic() - self.started
        of = f" of {self.total:,}" if self.total else ""
        rate = (
            f", {self.done / elapsed:,.0f} {self.unit}/s"
            if elapsed > 0 and self.unit == "rows"
            else ""
        )
        left = ""
        if not final and self.total and self.done:
            remaining = elapsed / self.done * (self.total - self.done)
            left = f", about {remaining:,.0f} s left"
        state = "done" if final else "so far"
        self.stream.write(
            f"{self.description}: {self.done:,}{of} {self.unit} {state} "
            f"({elapsed:,.1f} s{rate}{left})\n"
        )
        self.stream.flush()
