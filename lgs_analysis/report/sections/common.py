"""Building blocks of the report sections: text blocks, tables, figures, links.

A heading and its first paragraph (the *lead*) never end a page: the lead avoids a break
after it, so it moves to the next page with the chart or table that follows. Tables are
rendered here, not by pandas, so that number columns never wrap and text columns always
can: every table fits the A4 page. All data-derived text is escaped (``html_text``,
``markdown_text``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Markdown, display
from matplotlib.figure import Figure as MplFigure

from ...escape import html_text
from ...formatting import format_count, format_money, is_missing

__all__ = [
    "Figure",
    "figure_png",
    "markdown_html",
    "table_html",
    "show_block",
    "show_markdown",
    "show_table",
    "csv_link",
    "link_html",
    "RawHtml",
    "money",
    "count",
]

Formatter = Callable[[Any], str]


class RawHtml(str):
    """Cell text that is already HTML (our own markup around escaped data)."""


def link_html(path: str, text: str | None = None) -> RawHtml:
    """A link to a file of the published version, both parts escaped."""
    return RawHtml(f'<a href="{html_text(path)}">{html_text(text or path)}</a>')


class Figure:
    """A chart rendered once to PNG: shown inline and saved for the email."""

    def __init__(self, png: bytes, alt: str) -> None:
        self.png = png
        self.alt = alt

    def html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        alt = html_text(self.alt)
        return f'<img class="lgs-figure" src="data:image/png;base64,{data}" alt="{alt}">'


def figure_png(fig: MplFigure, output_dir: str | None, name: str, alt: str) -> Figure:
    """Render ``fig`` to PNG once and save it as ``charts/<name>.png``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    png = buffer.getvalue()
    if output_dir:
        target = Path(output_dir) / "charts"
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.png").write_bytes(png)
    return Figure(png, alt)


def markdown_html(text: str) -> str:
    """Our Markdown (data already escaped with ``markdown_text``) as HTML."""
    import mistune

    return str(mistune.create_markdown(escape=False)(text))


def money(value: Any) -> str:
    """Whole pounds for tables and text."""
    return format_money(value)


def count(value: Any) -> str:
    """A count with thousands separators."""
    return format_count(value)


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def table_html(
    frame: pd.DataFrame,
    formats: dict[str, Formatter] | None = None,
    labels: dict[str, str] | None = None,
    numeric: Iterable[str] | None = None,
    note: str = "",
) -> str:
    """An HTML table: number columns right-aligned and unbroken, text columns wrapping.

    Parameters
    ----------
    formats : dict, optional
        Column -> function giving the cell's text (default: counts for integers,
        ``str`` otherwise; missing values are ``n/a``).
    labels : dict, optional
        Column -> header text (default: the column name with spaces).
    numeric : iterable of str, optional
        Columns aligned as numbers (default: those of numeric dtype).
    note : str
        A footnote under the table (HTML, already escaped).
    """
    formats = formats or {}
    labels = labels or {}
    numeric = set(numeric) if numeric is not None else {c for c in frame if _is_number(frame[c])}
    head = "".join(
        f'<th class="{"num" if c in numeric else "text"}">'
        f"{html_text(labels.get(c, str(c).replace('_', ' ')))}</th>"
        for c in frame.columns
    )
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column in formats:
                shown = formats[column](value)
            elif is_missing(value):
                shown = "n/a"
            elif pd.api.types.is_integer(value) and not isinstance(value, bool):
                shown = format_count(value)
            else:
                shown = str(value)
            css = "num" if column in numeric else "text"
            inner = shown if isinstance(shown, RawHtml) else html_text(shown)
            cells.append(f'<td class="{css}">{inner}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    foot = f'<p class="lgs-note">{note}</p>' if note else ""
    return (
        f'<table class="lgs-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{foot}"
    )


def show_block(markdown: str = "", *parts: Figure | str) -> None:
    """Markdown text (the lead), then figures or table HTML; the lead stays with what follows."""
    body = f'<div class="lgs-lead">{markdown_html(markdown)}</div>' if markdown else ""
    for part in parts:
        body += part.html() if isinstance(part, Figure) else part
    display(HTML(f'<div class="lgs-block">{body}</div>'))


def show_markdown(text: str) -> None:
    """Markdown text on its own (it may break across pages)."""
    display(Markdown(text))


def show_table(frame: pd.DataFrame, **kwargs: Any) -> None:
    """A table on its own (long tables break between rows, repeating their header)."""
    display(HTML(table_html(frame, **kwargs)))


def csv_link(path: str) -> str:
    """A Markdown link to a CSV file of the published version (relative to report.html)."""
    return f"[`{path}`]({path})"
