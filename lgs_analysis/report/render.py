"""Render an executed notebook to self-contained HTML (nbconvert) and to PDF (WeasyPrint)."""

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


def render_pdf(html: str, target: Path) -> Path:
    """Print ``html`` to a PDF file at ``target`` (A4, page numbers)."""
    from weasyprint import HTML

    HTML(string=html, base_url=str(target.parent)).write_pdf(target)
    return target
