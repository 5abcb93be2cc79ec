"""The report email: plain text + HTML summary (inline pie chart), PDF and CSV attachments.

The message is built from a published version directory only (``metrics.json``,
``report.pdf``, ``charts/segment_pie.png``, ``tables/customers.csv``), so what is
mailed is exactly what was published. The HTML uses inline CSS, no scripts and no
external resources, so it renders the same in common mail clients.
"""

from __future__ import annotations

import html
import json
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import pandas as pd

from ..escape import csv_bytes, safe_filename
from ..exceptions import ConfigError, DeliveryError
from ..formatting import format_count, format_money, format_pct, is_missing

__all__ = [
    "build_message",
    "read_metrics",
    "format_subject",
    "campaign_csvs",
]

FOCUS_SEGMENTS = ("Champions", "Can't Lose", "Hibernating")


def read_metrics(version_dir: Path) -> dict[str, Any]:
    """Read ``metrics.json`` of a published version.

    Raises
    ------
    DeliveryError
        If the file is missing or not valid JSON.
    """
    path = Path(version_dir) / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DeliveryError(f"{path} is missing: not a published report version") from exc
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{path} is not valid JSON: {exc}") from exc


def _subject_fields(metrics: dict[str, Any], version: str) -> dict[str, str]:
    fields = {k: str(v) for k, v in metrics.items() if not isinstance(v, list | dict)}
    fields.update(
        period=str(metrics.get("period", "")),
        version=version,
        net_sales=format_money(metrics.get("net_sales")),
        gross_sales=format_money(metrics.get("gross_sales")),
        sales_growth=format_pct(metrics.get("sales_growth_pct")),
        sales_growth_pct=format_pct(metrics.get("sales_growth_pct")),
        invoices=format_count(metrics.get("invoices")),
        placed_orders=format_count(metrics.get("placed_orders")),
        active_customers=format_count(metrics.get("active_customers")),
        new_customers=format_count(metrics.get("new_customers")),
        rfm_customers=format_count(metrics.get("rfm_customers")),
    )
    return fields


def format_subject(template: str, metrics: dict[str, Any], version: str = "") -> str:
    """Fill the subject template; add "(demo data)" when the figures are demo figures.

    Fields: ``{period}``, ``{version}``, ``{net_sales}``, ``{gross_sales}``,
    ``{sales_growth}``, ``{invoices}``, ``{placed_orders}``, ``{active_customers}``,
    ``{new_customers}``, ``{rfm_customers}`` and any other scalar of metrics.json.

    Raises
    ------
    ConfigError
        If the template names an unknown field or is malformed.
    """
    fields = _subject_fields(metrics, version)
    try:
        subject = template.format_map(fields)
    except KeyError as exc:
        known = ", ".join(sorted(fields))
        raise ConfigError(
            f"params/delivery.yaml: subject field {{{exc.args[0]}}} is unknown; known: {known}"
        ) from exc
    except (ValueError, IndexError) as exc:
        raise ConfigError(
            f"params/delivery.yaml: subject {template!r} is malformed: {exc}"
        ) from exc
    if metrics.get("is_demo") and "demo data" not in subject.lower():
        subject += " (demo data)"
    return " ".join(subject.split())  # no newlines in a header


def campaign_csvs(
    version_dir: Path, segments: tuple[str, ...] = FOCUS_SEGMENTS
) -> dict[str, bytes]:
    """Campaign lists: one CSV per focus segment from ``tables/customers.csv``.

    Returns
    -------
    dict
        ``campaign_<segment>.csv`` -> bytes with the columns of customers.csv, biggest
        spenders first. Segments with no customers are left out.
    """
    path = Path(version_dir) / "tables" / "customers.csv"
    if not path.exists():
        return {}
    customers = pd.read_csv(path, dtype={"segment": str}, keep_default_na=False, na_values=[""])
    files: dict[str, bytes] = {}
    for segment in segments:
        members = customers[customers["segment"] == segment]
        if members.empty:
            continue
        members = members.sort_values("monetary", ascending=False, kind="stable")
        slug = safe_filename(segment.lower(), "segment")
        files[f"campaign_{slug}.csv"] = csv_bytes(members)
    return files


# ---------------------------------------------------------------- body


def _key_figures(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    previous = metrics.get("previous_period")
    growth = format_pct(metrics.get("sales_growth_pct"))
    return [
        ("Net sales", format_money(metrics.get("net_sales"))),
        (f"Change vs {previous}" if previous else "Change vs previous period", growth),
        ("Gross sales", format_money(metrics.get("gross_sales"))),
        ("Invoices", format_count(metrics.get("invoices"))),
        ("Placed orders", format_count(metrics.get("placed_orders"))),
        ("Cancelled invoices", format_count(metrics.get("cancelled_invoices"))),
        ("Active customers", format_count(metrics.get("active_customers"))),
        ("New customers", format_count(metrics.get("new_customers"))),
        ("Customers scored (RFM)", format_count(metrics.get("rfm_customers"))),
    ]


def _segment_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for seg in metrics.get("segments") or []:
        rows.append(
            (
                str(seg.get("segment", "")),
                format_count(seg.get("customers")),
                format_pct(_share(seg.get("customer_share")), signed=False),
                format_money(seg.get("revenue")),
                format_pct(_share(seg.get("revenue_share")), signed=False),
            )
        )
    return rows


def _share(value: Any) -> float | None:
    """Shares are fractions in metrics.json; show them as percentages."""
    return None if is_missing(value) else float(value) * 100


def _action_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (
            str(a.get("segment", "")),
            str(a.get("action", "")),
            format_count(a.get("customers")),
            format_money(a.get("revenue")),
        )
        for a in metrics.get("actions") or []
    ]


def _rfm_basis(metrics: dict[str, Any]) -> str:
    start, end = metrics.get("rfm_window_start"), metrics.get("rfm_window_end")
    if not (start and end):
        return ""
    return f"Customers scored on their purchases from {start} to {end} (end excluded)."


def _window(metrics: dict[str, Any]) -> str:
    start, end = metrics.get("period_start"), metrics.get("period_end")
    return f"{start} to {end} (end excluded)" if start and end else ""


DEMO_NOTE = "DEMO DATA: these figures come from generated demo data, not from LGS's sales."


def _text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return out


def _plain_body(metrics: dict[str, Any], version: str, note: str, attachments: list[str]) -> str:
    period = metrics.get("period", "")
    lines = [f"London Gift Shop: RFM report {period} ({version})", ""]
    if metrics.get("is_demo"):
        lines += [DEMO_NOTE, ""]
    if note:
        lines += [note, ""]
    if _window(metrics):
        lines += [f"Period: {_window(metrics)}", ""]
    lines += ["Key figures", ""]
    width = max(len(label) for label, _ in _key_figures(metrics))
    lines += [f"  {label.ljust(width)}  {value}" for label, value in _key_figures(metrics)]
    segments = _segment_rows(metrics)
    if segments:
        lines += ["", "Customer segments", ""]
        if _rfm_basis(metrics):
            lines += [_rfm_basis(metrics), ""]
        header = ("segment", "customers", "share", "revenue", "revenue share")
        lines += ["  " + row for row in _text_table(header, segments)]
    actions = _action_rows(metrics)
    if actions:
        lines += ["", "Recommended actions", ""]
        for segment, action, customers, revenue in actions:
            lines.append(f"  * {segment} ({customers} customers, {revenue}): {action}")
    lines += ["", "Attached: " + ", ".join(attachments) + "."]
    return "\n".join(lines) + "\n"


_TD = 'style="padding:4px 10px;border-bottom:1px solid #e3e3e3;{extra}"'
_TH = (
    'style="padding:4px 10px;border-bottom:2px solid #1f4e79;text-align:{align};'
    'color:#1f4e79;font-weight:bold;"'
)


def _html_table(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric: set[int]) -> str:
    head = "".join(
        f"<th {_TH.format(align='right' if i in numeric else 'left')}>{html.escape(h)}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td {_TD.format(extra='text-align:right;' if i in numeric else '')}>"
            f"{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        '<table role="presentation" cellspacing="0" cellpadding="0" '
        'style="border-collapse:collapse;font-size:14px;margin:8px 0 16px 0;">'
        f"<tr>{head}</tr>{''.join(body)}</table>"
    )


def _html_body(
    metrics: dict[str, Any], version: str, note: str, pie_cid: str | None, attachments: list[str]
) -> str:
    period = html.escape(str(metrics.get("period", "")))
    h2 = 'style="font-size:17px;color:#1f4e79;margin:20px 0 6px 0;"'
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>LGS RFM report {period}</title></head>"
        '<body style="margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;'
        'color:#222;background:#ffffff;">'
        '<div style="max-width:720px;">'
        f'<h1 style="font-size:22px;color:#1f4e79;margin:0 0 4px 0;">'
        f"London Gift Shop: RFM report {period}</h1>"
        f'<p style="margin:0 0 12px 0;color:#666;font-size:13px;">'
        f"Version {html.escape(version)}. {html.escape(_window(metrics))}</p>"
    ]
    if metrics.get("is_demo"):
        parts.append(
            '<p style="padding:8px 12px;background:#fff3cd;border:1px solid #e0b400;'
            f'font-weight:bold;">{html.escape(DEMO_NOTE)}</p>'
        )
    if note:
        parts.append(
            '<p style="padding:8px 12px;background:#eef4fa;border:1px solid #9bbbd9;">'
            f"{html.escape(note)}</p>"
        )
    figures = _key_figures(metrics)
    parts.append(f"<h2 {h2}>Key figures</h2>")
    parts.append(_html_table(("figure", "value"), figures, numeric={1}))
    segments = _segment_rows(metrics)
    if segments:
        parts.append(f"<h2 {h2}>Customer segments</h2>")
        if _rfm_basis(metrics):
            parts.append(
                f'<p style="margin:0 0 6px 0;font-size:13px;color:#666;">'
                f"{html.escape(_rfm_basis(metrics))}</p>"
            )
        if pie_cid:
            parts.append(
                f'<img src="cid:{pie_cid}" alt="Customers by segment" width="480" '
                'style="display:block;max-width:100%;height:auto;border:0;margin:4px 0;">'
            )
        header = ("segment", "customers", "share", "revenue", "revenue share")
        parts.append(_html_table(header, segments, numeric={1, 2, 3, 4}))
    actions = _action_rows(metrics)
    if actions:
        parts.append(f"<h2 {h2}>Recommended actions</h2>")
        header = ("segment", "action", "customers", "revenue")
        parts.append(_html_table(header, actions, numeric={2, 3}))
    parts.append(
        '<p style="color:#666;font-size:13px;">Attached: '
        f"{html.escape(', '.join(attachments))}.</p></div></body></html>"
    )
    return "".join(parts)


def build_message(
    version_dir: Path,
    sender: str,
    recipients: list[str],
    subject_template: str,
    attach_csvs: bool = False,
    note: str = "",
    domain: str | None = None,
) -> EmailMessage:
    """Build the report email for a published version.

    Parameters
    ----------
    version_dir : Path
        A published ``reports/<period>/vNNN`` directory.
    sender, recipients : str, list of str
        ``From`` and ``To`` addresses.
    subject_template : str
        See :func:`format_subject`.
    attach_csvs : bool
        Also attach one campaign CSV per focus segment (default: False).
    note : str
        An extra paragraph at the top (for example "this replaces v001").
    domain : str, optional
        Domain of the Message-ID (default: the sender's domain).

    Returns
    -------
    EmailMessage
        multipart/mixed: multipart/alternative (text/plain, multipart/related
        (text/html, image/png)), report PDF, optional CSVs. Has a Message-ID.

    Raises
    ------
    DeliveryError
        If the version lacks metrics.json or report.pdf.
    """
    version_dir = Path(version_dir)
    version = version_dir.name
    metrics = read_metrics(version_dir)
    pdf_path = version_dir / "report.pdf"
    if not pdf_path.exists():
        raise DeliveryError(f"{pdf_path} is missing: not a published report version")
    period = str(metrics.get("period") or version_dir.parent.name)
    metrics.setdefault("period", period)
    pdf_name = f"lgs-rfm-report-{period}-{version}.pdf"
    csvs = campaign_csvs(version_dir) if attach_csvs else {}
    attachments = [pdf_name, *csvs]

    msg = EmailMessage()
    msg["Subject"] = format_subject(subject_template, metrics, version)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    if domain is None:
        domain = sender.rpartition("@")[2].strip(" >") or "lgs-reports.invalid"
    msg["Message-ID"] = f"<lgs-{period}-{version}.{uuid.uuid4().hex[:16]}@{domain}>"
    msg["X-LGS-Report"] = f"{period}/{version}"

    pie = version_dir / "charts" / "segment_pie.png"
    pie_cid = make_msgid(idstring="segment-pie", domain=domain) if pie.exists() else None
    msg.set_content(_plain_body(metrics, version, note, attachments))
    html_body = _html_body(metrics, version, note, pie_cid[1:-1] if pie_cid else None, attachments)
    msg.add_alternative(html_body, subtype="html")
    if pie_cid:
        html_part = msg.get_payload()[1]
        html_part.add_related(
            pie.read_bytes(),
            maintype="image",
            subtype="png",
            cid=pie_cid,
            filename="segment_pie.png",
            disposition="inline",
        )
    msg.add_attachment(
        pdf_path.read_bytes(), maintype="application", subtype="pdf", filename=pdf_name
    )
    for name, data in csvs.items():
        msg.add_attachment(data, maintype="text", subtype="csv", filename=name)
    return msg
