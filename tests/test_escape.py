"""Escaping helpers: untrusted text stays text in HTML, Markdown, charts, CSV and file names."""

from __future__ import annotations

import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from lgs_analysis.escape import (
    chart_text,
    csv_bytes,
    file_name_collisions,
    html_text,
    markdown_text,
    safe_filename,
    segment_file_stem,
    spreadsheet_cell,
    terminal_text,
    visible_text,
    write_csv,
)

MARKDOWN_ATTACKS = [
    "<script>alert(1)</script>",
    "</style><img src=x onerror=alert(1)>",
    "[x](http://evil.example)",
    "![i](http://evil.example/i.png)",
    "http://evil.example www.evil.example",
    "`code` **b** _i_ ~~s~~",
    "line\n\n# heading\n- item",
]


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_markdown_text_renders_as_plain_text(attack):
    rendered = markdown2html_mistune(f"Customers buy **{markdown_text(attack)}** often.")
    body = rendered.replace("<p>", "").replace("</p>", "").replace("<strong>", "")
    body = body.replace("</strong>", "")
    assert "<" not in body.replace("&lt;", ""), rendered  # no element from the data
    assert "href" not in rendered and "src=" not in rendered.replace("src=x", "")


def test_markdown_text_keeps_ordinary_names_readable():
    assert markdown_text("Can't Lose") == "Can't Lose"
    assert markdown_text("PAPER CRAFT , LITTLE BIRDIE") == "PAPER CRAFT , LITTLE BIRDIE"


def test_html_text_and_chart_text():
    assert html_text('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert chart_text("$x^2$") == r"\$x^2\$"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx"])
def test_spreadsheet_cell_prefixes_formulas(cell):
    assert spreadsheet_cell(cell) == "'" + cell


@pytest.mark.parametrize("value", [-5, -2.5, 0, "plain", None, True])
def test_spreadsheet_cell_leaves_numbers_and_plain_text(value):
    assert spreadsheet_cell(value) == value


def test_write_csv_neutralises_text_keeps_numbers(tmp_path):
    frame = pd.DataFrame({"name": ["=HYPERLINK(1)", "ok"], "value": [-1.5, 2.0]})
    write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["name"].tolist() == ["'=HYPERLINK(1)", "ok"]
    assert back["value"].tolist() == [-1.5, 2.0]
    assert b"'=HYPERLINK" in csv_bytes(frame)


def test_safe_filename():
    assert safe_filename("Can't Lose") == "Can_t_Lose"
    assert safe_filename("../../etc/passwd\r\n") == "etc_passwd"
    assert safe_filename("///", "segment") == "segment_u002f_u002f_u002f"
    assert safe_filename("", "segment") == "segment"


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Can't Lose", "can_t_lose"),  # the file names of every earlier version stay
        ("Need Attention", "need_attention"),
        ("Χαμένοι Πελάτες", "χαμένοι_πελάτες"),  # readable in its own script
        ("Клиенты под угрозой", "клиенты_под_угрозой"),
        ("忠実な顧客", "忠実な顧客"),
        ("Cafe\u0301 Crème", "café_crème"),  # NFKC: one spelling for one name
        ("ＡＢＣ ２", "abc_2"),  # full-width forms read as ASCII
        ("★ VIP ★", "vip"),
        ("★★", "segment_u2605_u2605"),  # no letter: spelled by its code points
        ("GIFT\u202etxt.exe", "gift_txt_exe"),  # invisible characters never reach a name
        ("a\u200bb", "a_b"),
        ("../../x", "x"),
    ],
)
def test_segment_file_stem_is_readable_and_stable(name, stem):
    assert segment_file_stem(name) == stem
    assert "/" not in stem and "." not in stem and len(stem) <= 60


@pytest.mark.parametrize(
    ("names", "clash"),
    [
        (["Can't Lose", "Can t Lose"], ("Can't Lose", "Can t Lose", "can_t_lose")),
        (["Can't Lose", "CAN'T LOSE"], ("Can't Lose", "CAN'T LOSE", "can_t_lose")),
        (["Χαμένοι", "χαμένοι"], ("Χαμένοι", "χαμένοι", "χαμένοι")),
        (["Top-10", "Top 10"], ("Top-10", "Top 10", "top_10")),
        (["!!", "??"], None),  # spelled by code points: distinct
        (["Χαμένοι", "Κοιμώμενοι", "Πιστοί"], None),  # were all campaign_segment.csv
        (["Champions", "Champions"], None),  # one segment twice is no clash
    ],
)
def test_file_name_collisions(names, clash):
    assert file_name_collisions(names) == ([clash] if clash else [])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("FREE GIFT\u202etxt.exe", "FREE GIFT[U+202E]txt.exe"),  # right-to-left override
        ("\u2067evil\u2069", "[U+2067]evil[U+2069]"),  # isolates
        ("a\u200b\u200c\u200db", "a[U+200B][U+200C][U+200D]b"),  # zero-width
        ("\ufeffBOM", "[U+FEFF]BOM"),
        ("x\u2028y\u2029z", "x[U+2028]y[U+2029]z"),  # line / paragraph separators
        ("bell\x07esc\x1b[2J", "bell[U+0007]esc[U+001B][2J"),
        ("tag\U000e0041", "tag[U+E0041]"),  # invisible tag characters
        ("tab\tnew\nline", "tab\tnew\nline"),  # each format deals with these
        ("Zoë Ångström £5 – 10 €", "Zoë Ångström £5 – 10 €"),
    ],
)
def test_visible_text_shows_invisible_characters(text, shown):
    assert visible_text(text) == shown


@pytest.mark.parametrize("writer", [html_text, markdown_text, chart_text])
def test_every_writer_shows_bidi_and_zero_width(writer):
    out = writer("FREE GIFT\u202etxt.exe\u200b")
    assert "\u202e" not in out and "\u200b" not in out
    assert "202E" in out and "200B" in out


def test_csv_cells_show_bidi_and_keep_formula_guard(tmp_path):
    frame = pd.DataFrame({"d": ["\u202e=cmd", "=\u202e1", "ok\u200d"], "n": [1, 2, 3]})
    payload = csv_bytes(frame).decode()
    assert "\u202e" not in payload and "\u200d" not in payload
    assert "[U+202E]=cmd" in payload and "'=[U+202E]1" in payload
    write_csv(frame, tmp_path / "t.csv")
    assert "\u202e" not in (tmp_path / "t.csv").read_text()


def test_cli_shows_control_characters_escaped():
    from lgs_analysis.cli import printable

    assert printable("a\x1b[31mb\x07c\nd") == "a\\x1b[31mb\\x07c\nd"
    assert printable("x\u202ey\x9b") == "x\\u202ey\\x9b"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("evil\n12:00:00 ERROR forged", "evil\\x0a12:00:00 ERROR forged"),
        ("a\rb", "a\\x0db"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("rtl\u202efdp.exe", "rtl\\u202efdp.exe"),
        ("nbsp\xa0ok é", "nbsp\xa0ok é"),
    ],
)
def test_terminal_text_keeps_one_line(text, shown):
    assert terminal_text(text) == shown


def test_log_records_stay_one_line_each():
    import io
    import logging

    from lgs_analysis.cli import _PrintableFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_PrintableFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("lgs_analysis.test_one_line")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("loading %s", "a.csv\nERROR forged line\x1b[2J\u202e")
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == "WARNING loading a.csv\\x0aERROR forged line\\x1b[2J\\u202e\n"


@pytest.mark.parametrize(
    "template", ["x {period.__class__}", "{net_sales:>999999999}", "{period!r}", "{0}", "{a[0]}"]
)
def test_subject_templates_allow_plain_fields_only(template):
    from lgs_analysis.delivery.message import check_subject_template
    from lgs_analysis.exceptions import ConfigError

    with pytest.raises(ConfigError, match="plain name"):
        check_subject_template(template)
    check_subject_template("LGS {period}: {net_sales}")


def test_etl_summary_and_status_keep_a_source_name_on_its_line():
    from datetime import datetime

    from lgs_analysis.ingest.etl.runs import STATUS_COLUMNS, EtlResult, format_etl_status

    name = "postgresql:1/shop\n12:00:00 INFO forged\x1b[2J/public.retail"
    at = datetime(2011, 12, 9, 12, 0)
    result = EtlResult(1, name, "DuckDB file w", at, at, 3, None, None, at, 1, 1, 0, 0, "f")
    assert "\n12:00:00" not in result.summary() and "\x1b" not in result.summary()
    run = dict.fromkeys(STATUS_COLUMNS, 0) | {
        "source_name": name,
        "status": "failed",
        "started_at": at,
        "finished_at": at,
        "window_start": None,
        "watermark_after": None,
        "message": "boom\nforged line\x07",
    }
    shown = format_etl_status(pd.DataFrame([run]))
    assert "\x1b" not in shown and "\x07" not in shown and "\nforged line" not in shown
    assert len(shown.splitlines()) == 3  # header, the run, its error
