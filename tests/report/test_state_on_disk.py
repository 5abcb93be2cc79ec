"""Files on disk are state (issue 22, section 4): never trusted, never bricking a period.

Anyone with access to the reports folder may have changed it: a ``latest`` that points
outside, a version deleted or copied, a truncated manifest, a damaged delivery record, a
link planted where a folder should be. Versions are found from the real ``vNNN`` folders
only; a damaged one is listed as such and rebuilt with the reason; nothing is read or
written outside the reports folder. The fast tests below work on hand-made versions; the
end-to-end one builds real reports (papermill, PDF) over a degenerate warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lgs_analysis.report.delivery_log import (
    damaged_delivery_records,
    period_deliveries,
    read_delivery_record,
    read_pending,
)
from lgs_analysis.report.index import collect_index_entries, write_index
from lgs_analysis.report.publish import (
    list_versions,
    newest_version,
    own_dir,
    point_latest,
    publish_version,
    version_problem,
)
from tests.delivery.test_delivery import make_version_dir


def _tree(folder: Path) -> list[str]:
    """Every path under ``folder`` with its size, to prove nothing there changed."""
    return sorted(
        f"{p.relative_to(folder)}:{p.lstat().st_size}" for p in folder.rglob("*") if p.exists()
    )


@pytest.fixture
def attacker(tmp_path: Path) -> Path:
    """A folder outside the reports folder, dressed as a version, with a secret beside it."""
    outside = tmp_path / "outside"
    forged = make_version_dir(outside, period="2011-11", version="v999")
    (forged / "metrics.json").write_text(json.dumps({"period": "2011-11", "net_sales": 1e9}))
    (outside / "secret.txt").write_text("LGS-SECRET")
    return outside


# ---------------------------------------------------------------- what a damaged version is


def _damage(version_dir: Path, how: str, secret: Path) -> None:
    if how == "truncated manifest":
        text = (version_dir / "manifest.json").read_text()
        (version_dir / "manifest.json").write_text(text[: len(text) // 2])
    elif how == "manifest is a list":
        (version_dir / "manifest.json").write_text("[1, 2, 3]")
    elif how == "metrics is a string":
        (version_dir / "metrics.json").write_text('"not an object"')
    elif how == "pdf deleted":
        (version_dir / "report.pdf").unlink()
    elif how == "pdf empty":
        (version_dir / "report.pdf").write_bytes(b"")
    elif how == "pdf a link outside":
        (version_dir / "report.pdf").unlink()
        (version_dir / "report.pdf").symlink_to(secret)
    elif how == "html a folder":
        (version_dir / "report.html").unlink()
        (version_dir / "report.html").mkdir()
    elif how == "metrics not utf-8":
        (version_dir / "metrics.json").write_bytes(b"{\xff\xfe}")


DAMAGES = [
    ("truncated manifest", "manifest.json is not valid JSON"),
    ("manifest is a list", "manifest.json holds a list, not an object"),
    ("metrics is a string", "metrics.json holds a str, not an object"),
    ("pdf deleted", "report.pdf is missing"),
    ("pdf empty", "report.pdf is empty"),
    ("pdf a link outside", "report.pdf is not a regular file"),
    ("html a folder", "report.html is not a regular file"),
    ("metrics not utf-8", "metrics.json cannot be read"),
]


@pytest.mark.parametrize(("how", "problem"), DAMAGES, ids=[d[0] for d in DAMAGES])
def test_damaged_newest_version_is_named_never_used(tmp_path, attacker, how, problem):
    reports = tmp_path / "reports"
    make_version_dir(reports, version="v001")
    newest = make_version_dir(reports, version="v002")
    _damage(newest, how, attacker / "secret.txt")
    assert problem in version_problem(newest)
    found, manifest, damage = newest_version(reports / "2011-11")
    assert (found, manifest) == (newest, None) and problem in damage
    # the index lists it as damaged, never crashes, and marks the whole v001 latest
    entries = collect_index_entries(reports)
    rows = {r["version"]: r for r in entries[0]["versions"]}
    assert problem in rows["v002"]["damaged"] and rows["v001"]["damaged"] is None
    assert rows["v001"]["is_latest"] and not rows["v002"]["is_latest"]
    page = write_index(reports).read_text()
    assert "damaged: " in page and "LGS-SECRET" not in page


def test_versions_come_from_real_folders_never_links(tmp_path, attacker):
    reports = tmp_path / "reports"
    period = reports / "2011-11"
    real = make_version_dir(reports, version="v001")
    (period / "v002").symlink_to(attacker / "2011-11" / "v999", target_is_directory=True)
    (period / "v003").write_text("not a folder")
    (period / "latest").unlink()
    (period / "latest").symlink_to(attacker / "2011-11" / "v999")
    assert list_versions(period) == [real]
    assert newest_version(period)[0] == real
    entries = collect_index_entries(reports)
    assert [r["version"] for r in entries[0]["versions"]] == ["v001"]
    assert entries[0]["versions"][0]["is_latest"]
    # a new version takes a number no planted name holds, and latest points at it
    staging = period / ".staging-1-abc"
    shutil.copytree(real, staging)
    published = publish_version(staging, period)
    assert published.name == "v004" and os.readlink(period / "latest") == "v004"
    assert not list(period.glob(".latest-*"))


@pytest.mark.parametrize("planted", ["real folder (cp -rL)", "file", "dangling link", "outside"])
def test_latest_is_repaired_whatever_stands_in_its_place(tmp_path, attacker, planted, caplog):
    reports = tmp_path / "reports"
    version = make_version_dir(reports, version="v001")
    period = version.parent
    latest = period / "latest"
    latest.unlink()
    if planted == "real folder (cp -rL)":
        shutil.copytree(version, latest)
    elif planted == "file":
        latest.write_text("v001")
    elif planted == "dangling link":
        latest.symlink_to("v002")
    else:
        latest.symlink_to(attacker / "2011-11" / "v999")
    before = _tree(attacker)
    point_latest(period, version)
    assert latest.is_symlink() and os.readlink(latest) == "v001"
    assert not [p for p in period.iterdir() if p.name.startswith(".latest-") and p.is_symlink()]
    kept = list(period.glob(".latest-replaced-*"))
    assert len(kept) == (1 if planted in ("real folder (cp -rL)", "file") else 0)
    assert "latest" in caplog.text
    assert _tree(attacker) == before


def test_links_on_the_way_are_replaced_never_followed(tmp_path, attacker):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "2011-11").symlink_to(attacker / "2011-11", target_is_directory=True)
    before = _tree(attacker)
    made = own_dir(reports / "2011-11" / "deliveries", reports)
    assert made.is_dir() and not (reports / "2011-11").is_symlink()
    assert _tree(attacker) == before
    with pytest.raises(Exception, match="not inside the reports folder"):
        own_dir(tmp_path / "elsewhere", reports)


# ---------------------------------------------------------------- damaged delivery records


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ('{"period": "2011-11", "deliveries": [{"sent_at": "2011-12-0', "not valid JSON"),
        ("[]", "holds a list, not an object"),
        ('{"deliveries": "sent"}', "has no list of deliveries"),
        ('{"deliveries": [1, "x", {"sent_at": 5, "recipients": "a@b"}]}', "2 entries that"),
        ("", "not valid JSON"),
    ],
    ids=["truncated", "a list", "wrong shape", "entries not sends", "empty"],
)
def test_damaged_delivery_record_reads_as_damaged_never_crashes(tmp_path, payload, problem):
    reports = tmp_path / "reports"
    version = make_version_dir(reports, version="v001")
    (version.parent / "deliveries").mkdir()
    (version.parent / "deliveries" / "v001.json").write_text(payload)
    entries, found = read_delivery_record(version)
    assert problem in found
    assert all(isinstance(e["recipients"], list) for e in entries)
    assert [name for name, _ in damaged_delivery_records(version.parent)] == ["v001.json"]
    period_deliveries(version.parent)  # sorts whatever the entries hold
    page = write_index(reports).read_text()
    assert "delivery record damaged" in page and "not sent" not in page


def test_damaged_pending_marker_still_means_unknown(tmp_path):
    period = make_version_dir(tmp_path / "reports").parent
    (period / "deliveries").mkdir()
    (period / "deliveries" / "pending.json").write_text('{"version": "v0')
    assert read_pending(period)["status"] == "damaged"
    (period / "deliveries" / "pending.json").write_text("[1]")
    assert read_pending(period)["status"] == "damaged"
    assert "may have been delivered" in write_index(tmp_path / "reports").read_text()


def test_index_survives_wrong_typed_figures(tmp_path):
    reports = tmp_path / "reports"
    version = make_version_dir(reports, version="v001")
    (version / "metrics.json").write_text(
        json.dumps({"net_sales": "lots", "sales_growth_pct": [1], "active_customers": {}})
    )
    (version / "manifest.json").write_text(json.dumps({"created_at": 12345, "environment": "x"}))
    make_version_dir(reports, version="v002")
    page = write_index(reports).read_text()
    assert "v001" in page and "v002" in page and "n/a" in page


# ---------------------------------------------------------------- end to end: real reports

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _degenerate_csv(path: Path) -> Path:
    """2011-03: only cancellations, by identified customers. 2011-11: only lines without a
    customer number (sales and a few cancellations). Nobody can be scored in either."""
    lines = [HEADER]
    for i in range(30):
        day = 1 + i % 28
        lines.append(
            f"C5400{i:02d},22960,JAM MAKING SET,-6,3/{day}/2011 10:00,4.25,{13000 + i},UK\n"
        )
    for i in range(40):
        day = 1 + i % 28
        lines.append(f"5790{i:02d},85123A,WHITE HANGING HEART,6,11/{day}/2011 9:00,2.55,,UK\n")
    for i in range(5):
        lines.append(f"C5791{i:02d},85123A,WHITE HANGING HEART,-2,11/{1 + i}/2011 12:00,2.55,,FR\n")
    path.write_text("".join(lines))
    return path


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory):
    """Two degenerate periods built by `lgs reports` over a reports folder someone tampered
    with: 2011-11 has a v001 with a truncated manifest and a real folder as `latest` (cp -rL);
    2011-03 has `latest`, a `v001` and `deliveries` that are links to a folder outside."""
    import subprocess
    import sys

    from lgs_analysis.config import PROJECT_ROOT
    from lgs_analysis.ingest.loaders import load_file
    from lgs_analysis.warehouse import get_engine

    root = tmp_path_factory.mktemp("state")
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    load_file(_degenerate_csv(root / "degenerate.csv"), get_engine(url), progress=False)
    params = root / "params"
    shutil.copytree(PROJECT_ROOT / "params", params)
    (params / "delivery.yaml").write_text(
        "sender: reports@lgs.test\nrecipients: [marketing@lgs.test]\nmax_attempts: 1\n"
    )
    reports = root / "reports"
    outside = root / "outside"
    forged = make_version_dir(outside, period="2011-03", version="v999")
    (outside / "deliveries").mkdir()
    damaged = make_version_dir(reports, period="2011-11", version="v001")
    (damaged / "manifest.json").write_text('{"period": "2011-11", "run_k')
    (damaged.parent / "latest").unlink()
    shutil.copytree(damaged, damaged.parent / "latest")
    march = reports / "2011-03"
    march.mkdir()
    (march / "latest").symlink_to(forged, target_is_directory=True)
    (march / "v001").symlink_to(forged, target_is_directory=True)
    (march / "deliveries").symlink_to(outside / "deliveries", target_is_directory=True)
    before = _tree(outside)
    env = {
        **os.environ,
        "LGS_DATABASE_URL": url,
        "LGS_REPORTS_DIR": str(reports),
        "LGS_PARAMS_DIR": str(params),
    }
    done = subprocess.run(
        [sys.executable, "-m", "lgs_analysis.cli", "reports", "--periods", "2011-03 2011-11"],
        env={**env, "LGS_JOBS": "2"},
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    return {"root": root, "env": env, "done": done, "outside": outside, "before": before}


def test_degenerate_periods_publish_a_report_that_says_no_one_is_scored(degenerate):
    """Issue 22: a period of only cancellations, or with no identified customer, failed at
    the pie chart (exit 6; the second also failed at the invoice histogram)."""
    done = degenerate["done"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 published" in done.stdout and "Traceback" not in done.stderr
    reports = degenerate["root"] / "reports"
    for period in ("2011-03", "2011-11"):
        version = newest_version(reports / period)[0]
        metrics = json.loads((version / "metrics.json").read_text())
        assert metrics["rfm_customers"] == 0
        assert all(segment["customers"] == 0 for segment in metrics["segments"])
        page = (version / "report.html").read_text()
        assert "There is no one to score" in page and "Recommended actions" not in page
        lists = set((version / "tables").glob("campaign_*.csv"))
        readout = {version / "tables" / f"campaign_readout{x}.csv" for x in ("", "_pooled")}
        assert lists == readout  # no campaign list; the readout of earlier campaigns only
    net = json.loads((newest_version(reports / "2011-11")[0] / "metrics.json").read_text())
    assert round(net["net_sales"], 2) == round(40 * 6 * 2.55 - 5 * 2 * 2.55, 2)


def test_tampered_reports_folder_is_rebuilt_never_followed(degenerate):
    reports = degenerate["root"] / "reports"
    november, march = reports / "2011-11", reports / "2011-03"
    # the damaged v001 stays, named; v002 is built with the reason; latest is a link again
    assert [v.name for v in list_versions(november)] == ["v001", "v002"]
    manifest = json.loads((november / "v002" / "manifest.json").read_text())
    assert manifest["reason"].startswith("rebuilt: v001 was damaged (manifest.json is not valid")
    assert os.readlink(november / "latest") == "v002"
    assert len(list(november.glob(".latest-replaced-*"))) == 1  # the copy, kept aside
    assert not [p for p in november.iterdir() if p.is_symlink() and p.name != "latest"]
    # March: the planted links are never versions; its report is v002 (v001 is taken)
    assert [v.name for v in list_versions(march)] == ["v002"]
    assert os.readlink(march / "latest") == "v002"
    assert _tree(degenerate["outside"]) == degenerate["before"]
    page = (reports / "index.html").read_text()
    assert "rebuilt: v001 was damaged" in page and "damaged: manifest.json" in page


def test_monthly_never_sends_what_a_forged_latest_points_at(degenerate, monkeypatch):
    """Issue 22: a `latest` pointing outside the period made make monthly email the
    attacker's PDF, send a month already sent again and write beside the attacker's folder."""
    from lgs_analysis.delivery.monthly import run_monthly
    from tests.delivery.test_delivery import Inbox, smtp_server

    for name, value in degenerate["env"].items():
        if name.startswith("LGS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("LGS_SMTP_HOST", "127.0.0.1")
    march = degenerate["root"] / "reports" / "2011-03"
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("LGS_SMTP_PORT", str(port))
        first = run_monthly(period="2011-03")
        (march / "latest").unlink()
        forged = degenerate["outside"] / "2011-03" / "v999"
        (march / "latest").symlink_to(forged, target_is_directory=True)
        second = run_monthly(period="2011-03")
    assert first.created is False and first.version_dir == march / "v002"
    assert first.delivery.status == "sent" and second.delivery.status == "skipped"
    assert len(inbox.messages) == 1
    assert inbox.parsed()["X-LGS-Report"] == "2011-03/v002"
    assert os.readlink(march / "latest") == "v002"
    assert not (march / "deliveries").is_symlink() and (march / "deliveries" / "v002.json").exists()
    assert _tree(degenerate["outside"]) == degenerate["before"]
    # the email of a period with no one to score says so, and carries no pie
    message = inbox.parsed()
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "There is no one to score" in text
    assert "image/png" not in [p.get_content_type() for p in message.walk()]
