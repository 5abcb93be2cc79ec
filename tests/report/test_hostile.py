"""Hostile source data: a report over it can neither read the host, call out, nor run code.

One small warehouse whose every product description and country is an attack (script
tags, closing style tags, event handlers, Markdown links and images, backticks,
spreadsheet formulas, attachment links to a secret file, images on an HTTP server on
loopback, data: URLs). A real papermill report is built over it, then every output is
parsed: the HTML report, the index, the email's HTML, the PDF and every CSV.
"""

from __future__ import annotations

import base64
import csv
import http.server
import io
import threading
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

SECRET = "LGS-SECRET-7f3a91"


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"\x89PNG")

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def beacon():
    """An HTTP server on loopback that records every request it gets."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.requests.clear()
    yield server.server_address[1], _Recorder.requests
    server.shutdown()


def _attacks(secret_file: Path, port: int) -> list[str]:
    data_url = "data:text/plain;base64," + base64.b64encode(SECRET.encode()).decode()
    return [
        "<script>alert(1)</script>",
        "</style><h1>restyled</h1>",
        "<img src=x onerror=alert(1)>",
        "[click here](http://evil.example/x)",
        "![pixel](http://evil.example/p.png)",
        "`rm -rf /` **bold** _it_",
        '=HYPERLINK("http://evil.example","y")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2+3+cmd|' /C calc'!A0",
        f"<link rel=attachment href=file://{secret_file}>",
        f'<a rel=attachment href="file://{secret_file}">doc</a>',
        f"<img src=http://127.0.0.1:{port}/beacon.png>",
        f'<img src="{data_url}">',
        "http://evil.example/autolink www.evil.example",
        "FREE GIFT\u202etxt.exe",  # shows as "FREE GIFTexe.txt" where bidi is honoured
        "ZERO\u200bWIDTH\u200dJOIN\u2066ISOLATE\u2069\ufeff",
    ]


# characters that reorder or hide text: none may reach an output raw
INVISIBLE = ("\u202e", "\u200b", "\u200d", "\u2066", "\u2069", "\ufeff")
COUNTRY = "<script>alert(1)</script>\u202eKU"
# segment names without a Latin letter: each list must keep its own file (all were once
# campaign_segment.csv, one replacing the other)
GREEK_SEGMENTS = {"5[4-5]": "Πρωταθλητές", "[3-4][4-5]": "Πιστοί πελάτες", "41": "Υποσχόμενοι"}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, beacon):
    from lgs_analysis.delivery.message import build_message
    from lgs_analysis.ingest.demo import load_demo
    from lgs_analysis.report.build import build_report
    from lgs_analysis.warehouse import get_engine

    port, _ = beacon
    root = tmp_path_factory.mktemp("hostile")
    secret_file = root / ".env"
    secret_file.write_text(f"LGS_SMTP_PASSWORD={SECRET}\n")
    attacks = _attacks(secret_file, port)
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    engine = get_engine(url)
    load_demo(engine, n_rows=30_000, seed=3)
    with engine.begin() as conn:
        codes = [r[0] for r in conn.execute(text("select distinct stock_code from retail"))]
        mapping = pd.DataFrame(
            {
                "code": codes,
                "hostile": [f"{attacks[i % len(attacks)]} #{i}" for i in range(len(codes))],
            }
        )
        conn.connection.driver_connection.register("hostile_names", mapping)
        conn.execute(
            text(
                "update retail set description = h.hostile from hostile_names h "
                "where retail.stock_code = h.code"
            )
        )
        conn.execute(
            text("update retail set country = :c where country <> 'United Kingdom'"),
            {"c": COUNTRY},
        )
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LGS_DATABASE_URL", url)
        mp.setenv("LGS_REPORTS_DIR", str(root / "reports"))
        overrides = {
            "min_support": 0.01,
            "min_lift": 1.0,
            "min_confidence": 0.3,
            "segment_map": GREEK_SEGMENTS,
        }
        version = build_report("2011", overrides=overrides).version_dir
    message = build_message(
        version, "reports@lgs.example", ["marketing@lgs.example"], "LGS {period}", attach_csvs=True
    )
    return version, root, attacks, message


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(markup: str) -> _Elements:
    parser = _Elements()
    parser.feed(markup)
    return parser


def _assert_inert(markup: str, where: str, attacks: list[str]) -> None:
    for attack in attacks:
        if "<" in attack:
            assert attack not in markup, (where, attack)  # never written raw
    assert "<h1>restyled" not in markup, where
    parsed = _parse(markup)
    for tag, attrs in parsed.elements:
        assert tag not in {"script", "link", "iframe", "object", "embed"}, (where, tag)
        assert not any(name.startswith("on") for name in attrs), (where, tag, attrs)
        for name in ("href", "src"):
            value = attrs.get(name) or ""
            assert "evil.example" not in value and "file:" not in value, (where, tag, attrs)
            assert "127.0.0.1" not in value, (where, tag, attrs)
            if tag == "img" and name == "src":
                assert value.startswith(("data:image/png;base64,", "cid:")), (where, attrs)
    assert markup.count("<style") <= 1, where  # only the page's own stylesheet


def test_report_html_shows_hostile_text_as_text(hostile_report):
    version, _, attacks, _ = hostile_report
    markup = (version / "report.html").read_text()
    _assert_inert(markup, "report.html", attacks)
    text_content = "".join(_parse(markup).text)
    shown = [attack for attack in attacks if attack in text_content]  # shown, as text
    assert len(shown) >= 5, shown
    assert any(attack.startswith("<img src=http://127.0.0.1") for attack in shown)


def test_report_and_index_forbid_loading_anything(hostile_report):
    version, root, _, _ = hostile_report
    for page in (version / "report.html", root / "reports" / "index.html"):
        assert "Content-Security-Policy" in page.read_text() and "default-src 'none'" in (
            page.read_text()
        )


def test_index_and_email_html_are_inert(hostile_report):
    version, root, attacks, message = hostile_report
    _assert_inert((root / "reports" / "index.html").read_text(), "index.html", attacks)
    html_part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    _assert_inert(html_part.get_content(), "email", attacks)


def test_pdf_fetches_nothing_and_attaches_nothing(hostile_report, beacon):
    import pypdf

    version, _, _, _ = hostile_report
    _, requests = beacon
    reader = pypdf.PdfReader(version / "report.pdf")
    assert not dict(reader.attachments)
    assert requests == []
    content = "".join(page.extract_text() or "" for page in reader.pages)
    assert SECRET not in content
    assert SECRET.encode() not in (version / "report.pdf").read_bytes()


def test_pdf_renderer_refuses_urls_even_in_raw_html(tmp_path, beacon):
    """Defence in depth: were markup ever to slip through, the renderer still fetches nothing."""
    import pypdf

    from lgs_analysis.report.render import render_pdf

    port, requests = beacon
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    raw = "".join(_attacks(secret_file, port))
    render_pdf(f"<html><body><p>x</p>{raw}</body></html>", tmp_path / "raw.pdf")
    reader = pypdf.PdfReader(tmp_path / "raw.pdf")
    assert not dict(reader.attachments)
    assert requests == []
    assert SECRET.encode() not in (tmp_path / "raw.pdf").read_bytes()


def _formula_cells(payload: str) -> list[str]:
    rows = csv.reader(io.StringIO(payload))
    return [cell for row in rows for cell in row if cell.startswith(("=", "+", "@", "\t", "\r"))]


def test_every_csv_neutralises_formulas_and_keeps_numbers(hostile_report):
    version, _, _, message = hostile_report
    tables = sorted((version / "tables").glob("*.csv"))
    assert {p.name for p in tables} >= {"top_products.csv", "basket_rules.csv", "customers.csv"}
    for path in tables:
        assert _formula_cells(path.read_text()) == [], path.name
    top = pd.read_csv(version / "tables" / "top_products.csv")
    assert top["description"].str.startswith("'=HYPERLINK").any()
    assert top["description"].str.startswith("'-2+3").any()
    assert pd.api.types.is_numeric_dtype(top["net_revenue"])
    monthly = pd.read_csv(version / "tables" / "monthly.csv")
    assert pd.api.types.is_float_dtype(monthly["sales_growth_pct"])
    assert (monthly["sales_growth_pct"].dropna() < 0).any()  # negative numbers stay numbers
    attached = [p for p in message.walk() if (p.get_filename() or "").endswith(".csv")]
    assert attached
    for part in attached:
        assert _formula_cells(part.get_content()) == [], part.get_filename()


def _raw_invisible(payload: str) -> list[str]:
    return [f"U+{ord(ch):04X}" for ch in INVISIBLE if ch in payload]


def test_bidi_and_zero_width_characters_are_shown_in_every_output(hostile_report):
    """Issue 22: U+202E made "FREE GIFT<U+202E>txt.exe" read "FREE GIFTexe.txt" in the PDF,
    HTML, CSV and email. Every output now writes such characters as [U+202E]."""
    import pypdf

    version, root, _, message = hostile_report
    outputs = {
        "report.html": (version / "report.html").read_text(),
        "index.html": (root / "reports" / "index.html").read_text(),
        "metrics.json": (version / "metrics.json").read_text(encoding="utf-8"),
    }
    outputs |= {p.name: p.read_text(encoding="utf-8") for p in (version / "tables").glob("*.csv")}
    reader = pypdf.PdfReader(version / "report.pdf")
    outputs["report.pdf"] = "".join(page.extract_text() or "" for page in reader.pages)
    for part in message.walk():
        if part.get_content_maintype() == "text":
            outputs[f"email {part.get_content_type()} {part.get_filename() or ''}"] = (
                part.get_content()
            )
    outputs["email subject"] = str(message["Subject"])
    raw = {name: _raw_invisible(text) for name, text in outputs.items() if _raw_invisible(text)}
    assert raw == {}
    customers = outputs["customers.csv"]
    assert "KU" in customers and "[U+202E]KU" in customers  # the country, shown
    assert "FREE GIFT[U+202E]txt.exe" in customers  # a top product's description
    assert "ZERO[U+200B]WIDTH[U+200D]JOIN[U+2066]ISOLATE[U+2069][U+FEFF]" in customers
    shown_pdf = outputs["report.pdf"].replace("\n", "")
    assert "[U+202E]" in shown_pdf or "[U+200B]" in shown_pdf


def test_non_latin_segments_keep_one_readable_campaign_file_each(hostile_report):
    version, _, _, _ = hostile_report
    customers = pd.read_csv(version / "tables" / "customers.csv", dtype=str)
    expected = {
        "Πρωταθλητές": "campaign_πρωταθλητές.csv",
        "Πιστοί πελάτες": "campaign_πιστοί_πελάτες.csv",
        "Υποσχόμενοι": "campaign_υποσχόμενοι.csv",
    }
    for segment, name in expected.items():
        members = customers[customers["segment"] == segment]
        listed = pd.read_csv(version / "tables" / name, dtype=str)
        held = pd.read_csv(version / "tables" / name.replace("campaign_", "holdout_"), dtype=str)
        assert len(members) > 0
        targets = members[members["group"] == "target"]["customer_id"]
        assert sorted(listed["customer_id"]) == sorted(targets), name
        holdout = members[members["group"] == "holdout"]["customer_id"]
        assert sorted(held["customer_id"]) == sorted(holdout), name
    assert not (version / "tables" / "campaign_segment.csv").exists()
