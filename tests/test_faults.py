"""Faults and limits (issue 11), run as a tester would: hostile values, files and settings.

Every case ends one of two ways: its bad row is quarantined with a reason while the good
rows load, or the whole input is refused with a clear message and a named exit code. No
case may print a traceback, lose a good row or leave a half-published report. The last
test prints the tally: inputs tried, refused cleanly, quarantined, tracebacks, rows lost
and half-published outputs.
"""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lgs_analysis.config import PROJECT_ROOT
from lgs_analysis.ingest.loaders import load_file
from lgs_analysis.warehouse import ensure_schema, get_engine

TALLY: Counter[str] = Counter()
HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
GOOD_ROWS = [
    ["536365", "85123A", "WHITE HANGING HEART", "6", "12/1/2010 8:26", "2.55", "17850", "UK"],
    ["536366", "22633", "HAND WARMER UNION JACK", "6", "12/1/2010 8:28", "1.85", "17850", "UK"],
    ["536367", "84879", "ASSORTED BIRD ORNAMENT", "32", "12/13/2010 8:34", "1.69", "13047", "UK"],
]


def _row(**changes: str) -> list[str]:
    row = dict(
        zip(HEADER, ["536368", "22960", "JAM MAKING SET", "6", "12/13/2010 8:34"], strict=False)
    )
    row.update({"UnitPrice": "4.25", "CustomerID": "13047", "Country": "UK"})
    row.update(changes)
    return [row[h] for h in HEADER]


# one bad value per file, with the reason its row must be quarantined for
VALUE_CASES = {
    "quantity inf": (_row(Quantity="inf"), "quantity is not a whole number"),
    "quantity 1e309": (_row(Quantity="1e309"), "quantity is not a whole number"),
    "quantity 1e10": (_row(Quantity="1e10"), "quantity out of range"),
    "price 1e12": (_row(UnitPrice="1e12"), "unit_price out of range"),
    "price NaN": (_row(UnitPrice="NaN"), "unit_price is not a number"),
    "price 0.0001": (_row(UnitPrice="0.0001"), "precision lost"),
    "customer 99999999999": (_row(CustomerID="99999999999"), "customer_id out of range"),
    "customer 1.5": (_row(CustomerID="1.5"), "customer_id is not a whole number"),
    "NUL in description": (_row(Description="JAM\x00SET"), "NUL byte"),
    "NUL in country": (_row(Country="U\x00K"), "NUL byte"),
    "date 2999-12-31": (_row(InvoiceDate="2999-12-31 10:00"), "future date"),
    "date 1970-01-01": (_row(InvoiceDate="1970-01-01 10:00"), "implausible date"),
    "date 31/31/2011": (_row(InvoiceDate="31/31/2011 8:00"), "invoice_date is not a date"),
    "negative price": (_row(UnitPrice="-4.25"), "negative unit_price"),
    "no invoice": (_row(InvoiceNo=""), "missing invoice_no"),
    "too few fields": (["536369", "22961", "JAM"], "cannot parse line"),
}


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _lines(url: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        count = conn.execute(text("select count(*) from retail")).scalar()
    engine.dispose()
    return int(count)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGS_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "duckdb_url")


@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_one_bad_value_never_sinks_a_file(case: str, warehouse: str, tmp_path: Path) -> None:
    bad, reason = VALUE_CASES[case]
    path = _write_csv(tmp_path / "retail.csv", [GOOD_ROWS[0], bad, *GOOD_ROWS[1:]])
    engine = get_engine(warehouse)
    try:
        result = load_file(path, engine, progress=False)
        with engine.connect() as conn:
            rows = conn.execute(text("select line_no, reason from quarantine")).fetchall()
    finally:
        engine.dispose()
    TALLY["inputs tried"] += 1
    TALLY["rows lost"] += len(GOOD_ROWS) - result.count_loaded
    assert result.count_loaded == len(GOOD_ROWS) == _lines(warehouse)
    assert [(line, reason in why) for line, why in rows] == [(3, True)], rows
    TALLY["quarantined with a reason"] += 1


def test_price_keeps_the_source_precision(duckdb_url: str, tmp_path: Path) -> None:
    """0.001 fits decimal(12, 3) and is stored as is; 0.0001 would not (quarantined above)."""
    path = _write_csv(tmp_path / "retail.csv", [_row(UnitPrice="0.001"), _row(UnitPrice="38970")])
    load_file(path, get_engine(duckdb_url), progress=False)
    engine = create_engine(duckdb_url, poolclass=NullPool)
    with engine.connect() as conn:
        prices = sorted(float(p) for (p,) in conn.execute(text("select unit_price from retail")))
    assert prices == [0.001, 38970.0]


# --- whole files, through the command line --------------------------------------------------


def _lgs(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "lgs_analysis.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=PROJECT_ROOT,
        timeout=timeout,
    )
    TALLY["inputs tried"] += 1
    TALLY["tracebacks"] += "Traceback" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _refused(done: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    for word in words:
        assert word in done.stderr, done.stderr
    TALLY["refused cleanly"] += 1


def test_latin1_file_with_its_only_pound_sign_in_a_short_row_loads(
    duckdb_url: str, tmp_path: Path
) -> None:
    """The encoding is decided for the whole file, so the £ far from the first chunk and in
    a row pyarrow cannot split still reads as Windows-1252, not as a refused file."""
    rows = [GOOD_ROWS[i % 3] for i in range(200_000)]
    rows.append(["536370", "POST", "POSTAGE £"])  # short row: quarantined, file still loads
    rows.append(_row(Description="TEA SET £5"))
    path = _write_csv(tmp_path / "latin1.csv", rows, encoding="latin-1")
    done = _lgs("load", str(path), env={"LGS_DATABASE_URL": duckdb_url})
    assert done.returncode == 0, done.stderr
    assert "loaded 200,001, quarantined 1" in done.stdout
    engine = create_engine(duckdb_url, poolclass=NullPool)
    with engine.connect() as conn:
        description = conn.execute(
            text("select description from retail where invoice_no = '536368'")
        ).scalar()
    assert description == "TEA SET £5"


def test_line_without_newline_is_refused_with_bounded_memory(
    duckdb_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "one_line.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        fh.write(b"x" * (64 << 20))  # 64 MB, no newline
    done = _lgs("load", str(path), env={"LGS_DATABASE_URL": duckdb_url})
    _refused(done, 5, "line 2 is longer than 1,048,576 bytes", "nothing was loaded")


def _zip_bomb(path: Path, expanded: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b" " * (1 << 20)
            for _ in range(expanded >> 20):
                part.write(block)
    return path


def test_xlsx_zip_bomb_is_refused_before_parsing(duckdb_url: str, tmp_path: Path) -> None:
    path = _zip_bomb(tmp_path / "bomb.xlsx", 256 << 20)
    assert path.stat().st_size < 1 << 20
    done = _lgs("load", str(path), env={"LGS_DATABASE_URL": duckdb_url})
    _refused(done, 5, "zip bomb", "nothing was loaded")


@pytest.mark.parametrize(
    "url, words",
    [
        ("not a url", "is not a database URL"),
        ("mysql://user:pw@host/db", "names the 'mysql' backend"),
        ("postgresql+nosuchdriver://host/db", "is not a database URL"),
    ],
)
def test_bad_database_url_exits_2(url: str, words: str) -> None:
    done = _lgs("report", "--period", "2011", env={"LGS_DATABASE_URL": url})
    _refused(done, 2, "LGS_DATABASE_URL", words)
    assert "pw" not in done.stderr


def test_bad_source_url_exits_2(duckdb_url: str) -> None:
    done = _lgs("etl", env={"LGS_DATABASE_URL": duckdb_url, "LGS_SOURCE_URL": "sqlite:///x.db"})
    _refused(done, 2, "LGS_SOURCE_URL", "'sqlite' backend")


# --- secrets: a password holding @ or : is hidden whole ---------------------------------------

PASSWORDS = ["Pa:ss@w0rd", "Pa@ss:w0rd", "p@ss/w:rd?#x", "a@b@c@", "::@@::"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_redact_url_hides_everything_up_to_the_last_at(password: str) -> None:
    from sqlalchemy.engine import make_url

    from lgs_analysis.config import normalise_url, redact_url

    url = f"postgresql+psycopg2://postgres:{password}@db.example:5432/shop"
    assert redact_url(url) == "postgresql+psycopg2://postgres:***@db.example:5432/shop"
    parsed = make_url(normalise_url(url))  # and the driver gets it whole
    assert (parsed.username, parsed.password, parsed.host, parsed.port) == (
        "postgres",
        password,
        "db.example",
        5432,
    )


def _fragments(password: str) -> list[str]:
    """Every piece of the password between its @ and : signs, three characters or more."""
    import re

    return [piece for piece in re.split(r"[@:]", password) if len(piece) >= 3] + [password]


@pytest.mark.parametrize("password", PASSWORDS[:3])
def test_unreachable_warehouse_and_etl_source_never_print_the_password(password: str) -> None:
    """Issue 22: postgres:Pa:ss@w0rd@host printed "w0rd@host" as the host in warehouse and
    ETL errors. Port 1 on loopback refuses, so both fail at the connection."""
    from lgs_analysis.exceptions import SourceError, WarehouseError
    from lgs_analysis.ingest.etl.source import OltpSource

    url = f"postgresql+psycopg2://postgres:{password}@127.0.0.1:1/shop"
    for error, connect in ((WarehouseError, get_engine), (SourceError, OltpSource)):
        with pytest.raises(error) as caught:
            connect(url)
        message = str(caught.value)
        assert "127.0.0.1" in message and "postgres:***@127.0.0.1:1/shop" in message, message
        for piece in _fragments(password):
            assert piece not in message, (piece, message)
    TALLY["inputs tried"] += 2
    TALLY["refused cleanly"] += 2


def test_unreachable_source_exits_4_without_the_password(duckdb_url: str) -> None:
    url = "postgresql+psycopg2://lgs_etl:Pa:ss@w0rd@127.0.0.1:1/shop"
    done = _lgs("etl", env={"LGS_DATABASE_URL": duckdb_url, "LGS_SOURCE_URL": url})
    _refused(done, 4, "127.0.0.1", "lgs_etl:***@127.0.0.1:1/shop")
    assert "w0rd" not in done.stderr + done.stdout and "Pa:ss" not in done.stderr


def test_password_holding_at_connects_to_the_right_host(pg_url: str) -> None:
    """The same URL that used to name the host "w0rd@127.0.0.1" now reaches the server (trust
    authentication here, so any password is accepted) and the report's warehouse works."""
    base = pg_url.replace("postgresql+psycopg2://postgres@", "postgresql+psycopg2://")
    url = base.replace("://", "://postgres:Pa:ss@w0rd@", 1)
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()


# --- control characters in file names never reach the terminal or a log raw ------------------


def test_file_name_with_control_characters_cannot_forge_a_log_line(
    duckdb_url: str, tmp_path: Path
) -> None:
    """Issue 22: a newline in a file name started a forged log line; ESC and BEL reached
    the terminal raw. Every line the load prints is now one of its own."""
    import re

    name = "evil\n01:02:03 ERROR forged\x1b[2J\x07\u202etxt.csv"
    path = _write_csv(tmp_path / name, GOOD_ROWS)
    done = _lgs("--log-level", "INFO", "load", str(path), env={"LGS_DATABASE_URL": duckdb_url})
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in output, repr(raw)
    assert "\\x1b[2J\\x07\\u202etxt.csv" in done.stdout  # shown, escaped
    own = r"\d\d:\d\d:\d\d (INFO|WARNING) |loading evil\\x0a.*: \d+ rows"
    lines = done.stderr.splitlines()  # log records and plain progress lines
    assert lines and all(re.match(own, line) for line in lines), lines
    assert not any(line.startswith("01:02:03") for line in output.splitlines())
    assert len(done.stdout.splitlines()) == 1 and "ERROR forged" in done.stdout


# --- reports folder: read-only, full, leftovers of killed runs -------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 300 kB tmpfs: too small for a report (needs root, as on the CI machine)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def demo_warehouse(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    from lgs_analysis.ingest.demo import ensure_data

    engine = get_engine(url)
    ensure_schema(engine)
    ensure_data(engine)
    engine.dispose()
    return url


def _half_published(reports: Path) -> int:
    """Staging folders, empty period folders and versions without a manifest."""
    if not reports.exists():
        return 0
    bad = [p for p in reports.rglob(".staging-*")]
    bad += [p for p in reports.iterdir() if p.is_dir() and not any(p.iterdir())]
    bad += [p for p in reports.glob("*/v[0-9]*") if not (p / "manifest.json").exists()]
    return len(bad)


def test_full_reports_folder_exits_8_and_leaves_nothing(
    demo_warehouse: str, small_fs: Path
) -> None:
    reports = small_fs / "reports"
    env = {"LGS_DATABASE_URL": demo_warehouse, "LGS_REPORTS_DIR": str(reports)}
    done = _lgs("report", "--period", "2011-11", env=env)
    _refused(done, 8, str(reports), "disk is full")
    half = _half_published(reports)
    TALLY["half-published outputs"] += half
    assert half == 0 and not (reports / "2011-11").exists()


def test_read_only_reports_folder_exits_8(demo_warehouse: str, small_fs: Path) -> None:
    reports = small_fs / "reports"
    reports.mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    env = {"LGS_DATABASE_URL": demo_warehouse, "LGS_REPORTS_DIR": str(reports)}
    done = _lgs("report", "--period", "2011-11", env=env)
    _refused(done, 8, str(reports), "read-only")
    TALLY["half-published outputs"] += _half_published(reports)


def test_killed_runs_leftovers_are_removed_by_the_next_run(
    demo_warehouse: str, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    period_dir = reports / "2011-11"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = period_dir / f".staging-{dead.pid}-0123456789ab"
    (stale / "tables").mkdir(parents=True)
    (stale / "report.ipynb").write_text("{}")
    live = period_dir / f".staging-{os.getpid()}-ba9876543210"  # a run still going
    live.mkdir()
    env = {"LGS_DATABASE_URL": demo_warehouse, "LGS_REPORTS_DIR": str(reports)}
    done = _lgs("report", "--period", "2011-11", env=env)
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and live.exists()
    live.rmdir()
    TALLY["half-published outputs"] += _half_published(reports)


# --- the tally ------------------------------------------------------------------------------


def test_zz_fault_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the figures of this module's cases (run last, as pytest keeps file order)."""
    with capsys.disabled():
        print(
            "\nfault cases: "
            + ", ".join(
                f"{name} {TALLY[name]}"
                for name in (
                    "inputs tried",
                    "refused cleanly",
                    "quarantined with a reason",
                    "tracebacks",
                    "rows lost",
                    "half-published outputs",
                )
            )
        )
    assert TALLY["tracebacks"] == TALLY["rows lost"] == TALLY["half-published outputs"] == 0
