"""The Makefile passes values, never shell: hostile PERIOD, PARAMS, SOURCE and flags run nothing.

Each case runs the real ``make`` in a subprocess, as a wrapper would, with a value that
would create a marker file if make or the shell ever expanded it. The value reaches
``lgs`` as plain text and is refused there (exit code 2 from make).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _attacks(marker: Path) -> list[tuple[str, ...]]:
    m = str(marker)
    return [
        ("report", f"PERIOD=`touch {m}`"),
        ("report", f"PERIOD=$$(touch {m})"),
        ("report", f"PERIOD=$(touch {m})"),
        ("report", f"PERIOD=$(shell touch {m})"),
        ("report", f"PERIOD=2011; touch {m}"),
        ("report", f"PERIOD=2011' && touch {m} && echo '"),
        ("report", f'PERIOD=2011" && touch {m} && echo "'),
        ("report", f"PERIOD=2011\ntouch {m}"),
        ("report", "PERIOD=2011", f"PARAMS=top_customers=5;touch$${{IFS}}{m}"),
        ("report", "PERIOD=2011", f"PARAMS=top_customers=`touch {m}`"),
        ("report", "PERIOD=2011", f"PARAMS=top_customers=$(shell touch {m})"),
        ("report", "PERIOD=2011", f"FORCE=$(shell touch {m})"),
        ("report", "PERIOD=2011", f"FORCE=1; touch {m}"),
        ("load", f"SOURCE=`touch {m}`"),
        ("load", f"SOURCE=x.csv; touch {m}"),
        ("load", f"SOURCE=$(shell touch {m})"),
        ("monthly", f"PERIOD=`touch {m}`"),
        ("monthly", f"DRY_RUN=$(shell touch {m})"),
        ("monthly", f"RESEND=1; touch {m}"),
        ("reports", f"PERIODS=`touch {m}`"),
        ("reports", f"PERIODS=2011-01 $(shell touch {m})"),
        ("reports", f"PERIODS=2011-*; touch {m}"),
        ("reports", "PERIODS=2011", f"JOBS=$(shell touch {m})"),
        ("campaign", f"PERIOD=`touch {m}`"),
        ("campaign", "PERIOD=2011-09", f"SEGMENTS=$(shell touch {m})"),
        ("campaign", "PERIOD=2011-09", f"SEGMENTS=At Risk,Can't Lose; touch {m}"),
        ("campaign", "PERIOD=2011-09", f"ON=`touch {m}`"),
        ("campaign", "PERIOD=2011-09", f"REPLACE=1; touch {m}"),
    ]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("make")
    env = {
        **os.environ,
        "LGS_DATABASE_URL": f"duckdb:///{root / 'warehouse.duckdb'}",
        "LGS_REPORTS_DIR": str(root / "reports"),
    }
    return env


@pytest.mark.parametrize("index", range(28))
def test_make_never_runs_a_value(sandbox, tmp_path, index):
    marker = tmp_path / "pwned"
    args = _attacks(marker)[index]
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT), *args],
        env=sandbox,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not marker.exists(), f"make {args!r} ran a command: {done.stderr}"
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_make_value_reaches_lgs_as_text(sandbox):
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT), "report", "PERIOD=$(echo 2011)"],
        env=sandbox,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "invalid period '$(echo 2011)'" in done.stderr


def test_make_help_names_every_variable():
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT), "help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in (
        "PERIOD",
        "FORCE",
        "PARAMS",
        "SOURCE",
        "DRY_RUN",
        "RESEND",
        "NEW_SOURCE",
        "SEGMENTS",
        "ON",
        "REPLACE",
    ):
        assert name in done.stdout
