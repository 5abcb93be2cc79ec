"""reports/index.html: every period and version, key figures, links, delivery status."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from lgs_analysis.report.delivery_log import record_delivery
from lgs_analysis.report.index import collect_index_entries, write_index
from tests.delivery.test_delivery import METRICS, make_version_dir


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value)
            if name == "src":
                self.srcs.append(value)


def _section(page: str, period: str) -> str:
    return page.split(f'<h3 id="p-{period}">', 1)[1].split("</table>")[0]


def _reports(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    make_version_dir(reports, "2011", "v001", created_at="2011-12-10T08:00:00+00:00")
    make_version_dir(reports, "2011-10", "v001", created_at="2011-11-02T06:00:00+00:00")
    make_version_dir(reports, "2011-11", "v001", created_at="2011-12-02T06:00:00+00:00")
    make_version_dir(
        reports,
        "2011-11",
        "v002",
        metrics={**METRICS, "net_sales": 7654321.5, "is_demo": True},
        created_at="2011-12-03T06:00:00+00:00",
    )
    (reports / "_failed").mkdir()
    (reports / "_outbox").mkdir()
    (reports / "notes").mkdir()  # not a period: ignored
    (reports / "2011-11" / ".staging-abc").mkdir()  # an unfinished build: ignored
    return reports


def test_write_index_lists_periods_and_versions_newest_first(tmp_path: Path) -> None:
    reports = _reports(tmp_path)
    path = write_index(reports)
    assert path == reports / "index.html"
    page = path.read_text(encoding="utf-8")

    assert re.findall(r"<h2[^>]*>([^<]+)</h2>", page) == ["Years", "Months"]  # by kind
    headings = re.findall(r"<h3[^>]*>([^<]+)</h3>", page)
    assert headings == ["2011", "2011-11", "2011-10"]  # newest first within a kind
    assert "3 periods, 4 versions" in page
    section = _section(page, "2011-11")
    assert section.index("v002") < section.index("v001")
    assert "latest" in section.split("v001")[0]  # the badge sits on v002
    assert "demo data" in section.split("v001")[0]
    assert "£7,654,322" in section and "£123,457" in section
    assert "3 Dec 2011, 06:00 UTC" in section
    assert "-4.2%" in section and "812" in section and "3,921" in section


def test_write_index_links_are_relative_and_exist(tmp_path: Path) -> None:
    reports = _reports(tmp_path)
    page = write_index(reports).read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(page)
    reports_links = [h for h in parser.hrefs if h.endswith(("report.html", "report.pdf"))]
    assert len(reports_links) == 8  # HTML and PDF for 4 versions
    assert any(h.endswith("/tables/customers.csv") for h in parser.hrefs)  # the CSVs too
    for href in parser.hrefs:
        assert not href.startswith(("/", "http:", "https:", "file:"))
        assert (reports / href).is_file(), href
    assert "2011-11/v002/report.pdf" in parser.hrefs
    # self-contained: no script, no stylesheet or image from anywhere
    assert parser.srcs == []
    assert not parser.tags & {"script", "link", "img", "iframe"}
    assert "http://" not in page and "https://" not in page


def test_write_index_says_why_each_version_exists(tmp_path: Path) -> None:
    import json

    reports = _reports(tmp_path)
    older = reports / "2011-11" / "v001" / "manifest.json"
    newer = reports / "2011-11" / "v002" / "manifest.json"
    base = {"data_fingerprint": "a", "code_version": "1", "template_hash": "t", "parameters": {}}
    older.write_text(json.dumps({**base, "created_at": "2011-12-02T06:00:00+00:00"}))
    newer.write_text(json.dumps({**base, "data_fingerprint": "b", "parameters": {"x": 1}}))
    section = _section(write_index(reports).read_text(encoding="utf-8"), "2011-11")
    assert "new data, new parameters" in section and "first version" in section
    newer.write_text(json.dumps({**base, "reason": "forced (nothing changed)"}))
    assert "forced (nothing changed)" in write_index(reports).read_text(encoding="utf-8")


def test_write_index_shows_deliveries(tmp_path: Path) -> None:
    reports = _reports(tmp_path)
    record_delivery(
        reports / "2011-11" / "v002",
        {
            "sent_at": "2011-12-03T07:15:00+00:00",
            "message_id": "<1@lgs.test>",
            "recipients": ["marketing@lgs.test", "crm@lgs.test"],
        },
    )
    page = write_index(reports).read_text(encoding="utf-8")
    section = _section(page, "2011-11")
    v002, v001 = section.split('<td class="text">v001')
    assert "sent 3 Dec 2011, 07:15 UTC" in v002
    assert "marketing@lgs.test, crm@lgs.test" in v002
    assert "not sent" in v001
    assert page.count("not sent") == 3


def test_write_index_tolerates_missing_files(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    version = make_version_dir(reports, "2011-Q4", "v001")
    (version / "metrics.json").unlink()
    (version / "manifest.json").unlink()
    (version / "report.html").unlink()
    entries = collect_index_entries(reports)
    assert [e["period"] for e in entries] == ["2011-Q4"]
    row = entries[0]["versions"][0]
    assert row["metrics"] == {} and row["created_at"] is None and not row["has_html"]
    page = write_index(reports).read_text(encoding="utf-8")
    assert "2011-Q4/v001/report.pdf" in page and "report.html" not in page


def test_write_index_empty_and_atomic(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    page = write_index(reports).read_text(encoding="utf-8")
    assert "No report has been published yet" in page
    write_index(reports)
    left = sorted(p.name for p in reports.iterdir() if p.name != ".index.lock")  # the flock
    assert left == ["index.html"]  # no temp file left
