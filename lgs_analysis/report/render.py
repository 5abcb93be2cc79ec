"""Render an executed notebook to self-contained HTML (nbconvert) and to PDF (WeasyPrint).

The PDF renderer fetches nothing: its URL fetcher serves only the report's own inline
chart images (``data:image/png``) and refuses every other URL (files, HTTP, other data
URLs), so text that slipped into the HTML can neither read the host nor call out.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

__all__ = ["render_html", "render_pdf", "TEMPLATE_DIR"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_SCRAP_MIME = "application/scrapbook.scrap"


def _presentable(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what a reader must not see: stderr, glued scraps and the injected parameters."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            data = output.get("data", {})
            if any(key.startswith(_SCRAP_MIME) for key in data):
                continue
            kept.append(output)
        cell["outputs"] = kept
    return nb


def render_html(nb: nbformat.NotebookNode, title: str) -> str:
    """HTML with code hidden, images inline and nothing loaded from the network."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lgs_report",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    css = (TEMPLATE_DIR / "lgs_report" / "report.css").read_text(encoding="utf-8")
    html, _ = exporter.from_notebook_node(
        _presentable(nb), resources={"report_css": css, "report_title": title}
    )
    return html


_INLINE_IMAGE = "data:image/png;base64,"


def _inline_only_fetcher():
    from weasyprint.urls import URLFetcher

    class InlineOnlyFetcher(URLFetcher):
        """Serves the report's inline PNG charts; refuses every other URL."""

        def fetch(self, url: str, headers: dict | None = None):  # noqa: D102
            if not url.startswith(_INLINE_IMAGE):
                raise ValueError(f"refused {url[:40]!r}: a report renders from inline data only")
            return super().fetch(url, headers)

    return InlineOnlyFetcher(allowed_protocols=("data",), allow_redirects=False)


def render_pdf(html: str, target: Path) -> Path:
    """Print ``html`` to a PDF file at ``target`` (A4, page numbers), fetching nothing."""
    from weasyprint import HTML

    HTML(string=html, base_url=None, url_fetcher=_inline_only_fetcher()).write_pdf(target)
    return target
