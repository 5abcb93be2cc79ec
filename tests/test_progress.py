"""Progress: a tqdm bar on a terminal, plain one-line updates without one (cron, logs)."""

from __future__ import annotations

import io
import os

from lgs_analysis.progress import Progress


def test_progress_without_a_terminal_writes_plain_lines():
    stream = io.StringIO()
    with Progress("loading x.csv", total=3, unit="reports", stream=stream, every_seconds=0) as p:
        p.update()
        p.update(2)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("loading x.csv: 1 of 3 reports so far (")
    assert "s left" in lines[0]
    assert lines[-1].startswith("loading x.csv: 3 of 3 reports done (")


def test_progress_rows_show_a_rate_and_stay_quiet_between_updates():
    stream = io.StringIO()
    with Progress("etl run 7", stream=stream, every_seconds=3600) as p:
        for _ in range(100):
            p.update(1_000)
    assert stream.getvalue().count("\n") == 1  # only the last line
    assert "100,000 rows done" in stream.getvalue() and "rows/s" in stream.getvalue()


def test_progress_disabled_shows_nothing():
    stream = io.StringIO()
    with Progress("x", stream=stream, enabled=False, every_seconds=0) as p:
        p.update(5)
    assert stream.getvalue() == "" and p.done == 5


def test_progress_on_a_terminal_draws_a_bar():
    main, secondary = os.openpty()
    with os.fdopen(secondary, "w") as tty:
        with Progress("batch", total=4, unit="reports", stream=tty) as p:
            p.update(4)
    output = os.read(main, 65536).decode()
    os.close(main)
    assert "batch" in output and "4/4" in output and "100%" in output
