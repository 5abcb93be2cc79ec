"""Escaping helpers: untrusted text stays text in HTML, Markdown, charts, CSV and file names."""

from __future__ import annotations

import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from lgs_analysis.escape import (
    chart_text,
    csv_bytes,
    html_text,
    markdown_text,
    safe_filename,
    spreadsheet_cell,
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
    assert safe_filename("///", "segment") == "segment"


def test_cli_shows_control_characters_escaped():
    from lgs_analysis.cli import printable

    assert printable("a\x1b[31mb\x07c\nd") == "a\\x1b[31mb\\x07c\nd"


@pytest.mark.parametrize(
    "template", ["x {period.__class__}", "{net_sales:>999999999}", "{period!r}", "{0}", "{a[0]}"]
)
def test_subject_templates_allow_plain_fields_only(template):
    from lgs_analysis.delivery.message import check_subject_template
    from lgs_analysis.exceptions import ConfigError

    with pytest.raises(ConfigError, match="plain name"):
        check_subject_template(template)
    check_subject_template("LGS {period}: {net_sales}")
