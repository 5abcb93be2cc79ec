"""Checks on a rendered PDF's layout, read back with pdfplumber (what a reader sees).

- Nothing leaves the page: every character and image lies inside the printable box
  (the A4 page less the margins of ``report.css``); only the page number sits below it.
- Headings stay with their content: when a section goes on over a page break, its heading
  is followed on the first page by a chart or more than a paragraph of text.
"""

from __future__ import annotations

from pathlib import Path

MM = 72 / 25.4
MARGIN = {"top": 14 * MM, "right": 12 * MM, "bottom": 16 * MM, "left": 12 * MM}
TOLERANCE = 0.5  # points
HEADING_SIZE = 11.4  # h3 is 11.5pt, h2 14pt, h1 20pt; body text 10pt, tables 8pt


def _lines(words: list[dict]) -> list[dict]:
    """Words grouped into lines by their top (within 2 points)."""
    lines: list[dict] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1]["top"] - word["top"]) < 2:
            lines[-1]["words"].append(word)
            lines[-1]["bottom"] = max(lines[-1]["bottom"], word["bottom"])
        else:
            lines.append({"top": word["top"], "bottom": word["bottom"], "words": [word]})
    return lines


def _is_heading(line: dict) -> bool:
    return all(w["size"] >= HEADING_SIZE and "Bold" in w["fontname"] for w in line["words"])


def _page_lines(page) -> list[dict]:
    bottom = page.height - MARGIN["bottom"] + TOLERANCE
    words = page.extract_words(extra_attrs=["size", "fontname"])
    return _lines([w for w in words if w["top"] < bottom])


def check_pdf_layout(path: Path) -> list[str]:
    """Every layout fault of the PDF at ``path``, as readable lines (empty when none)."""
    import pdfplumber

    faults = []
    with pdfplumber.open(path) as pdf:
        pages = [(_page_lines(page), page) for page in pdf.pages]
        for number, page in enumerate(pdf.pages, start=1):
            left, right = MARGIN["left"] - TOLERANCE, page.width - MARGIN["right"] + TOLERANCE
            top, bottom = MARGIN["top"] - TOLERANCE, page.height - MARGIN["bottom"] + TOLERANCE
            words = page.extract_words(extra_attrs=["size", "fontname"])
            body = [w for w in words if not w["text"].startswith("page") and w["top"] < bottom]
            footer = [w for w in words if w["top"] >= bottom]
            if any(w["text"] not in {"page", "of"} and not w["text"].isdigit() for w in footer):
                faults.append(f"page {number}: text in the bottom margin: {footer}")
            for word in body:
                if word["x0"] < left or word["x1"] > right or word["top"] < top:
                    faults.append(
                        f"page {number}: {word['text']!r} at x {word['x0']:.0f}-{word['x1']:.0f},"
                        f" y {word['top']:.0f} leaves the printable box"
                    )
            for image in page.images:
                if image["x0"] < left or image["x1"] > right or image["bottom"] > bottom:
                    faults.append(f"page {number}: an image leaves the printable box")
            lines = pages[number - 1][0]
            headings = [line for line in lines if _is_heading(line)]
            if not headings or number == len(pdf.pages):
                continue
            last = headings[-1]
            after = [line for line in lines if line["top"] > last["bottom"]]
            images_after = [i for i in page.images if i["top"] >= last["bottom"]]
            next_lines = pages[number][0]
            next_starts_section = bool(next_lines) and _is_heading(next_lines[0])
            if not images_after and len(after) < 6 and not next_starts_section:
                text = " ".join(w["text"] for w in last["words"])
                faults.append(
                    f"page {number}: heading {text!r} ends the page with only "
                    f"{len(after)} line(s) after it"
                )
    return faults
