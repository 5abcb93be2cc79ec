"""The report email: plain text + HTML summary (inline pie chart), PDF and CSV attachments.

The message is built from a published version directory only (``metrics.json``,
``report.pdf``, ``charts/segment_pie.png``, ``tables/customers.csv``), so what is
mailed is exactly what was published. The HTML uses inline CSS, no scripts and no
external resources, so it renders the same in common mail clients.
"""

from __future__ import annotations

import json
import string
import uuid
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import pandas as pd

from ..escape import csv_bytes, html_text, segment_file_stem, visible_text
from ..exceptions import ConfigError, DeliveryError
from ..formatting import (
    format_count,
    format_date,
    format_money,
    format_pct,
    format_share,
    format_window,
    is_missing,
)
from ..report.publish import own_file

__all__ = [
    "build_message",
    "read_metrics",
    "format_subject",
    "check_subject_template",
    "campaign_csvs",
    "attached_segments",
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


def check_subject_template(template: str) -> None:
    """Allow only plain ``{name}`` fields: no attribute or index access, no format spec.

    ``{period.__class__}`` would reach into Python objects and ``{net_sales:>999999999}``
    would build a string of any size; the file holding the template is untrusted.

    Raises
    ------
    ConfigError
        Naming the field that is not plain.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(
            f"params/delivery.yaml: subject {template!r} is malformed: {exc}"
        ) from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ConfigError(
                f"params/delivery.yaml: subject field {{{field}}} must be a plain name such as "
                "{period} or {net_sales}, without dots, brackets, ! or :"
            )


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
    check_subject_template(template)
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
    return " ".join(visible_text(subject).split())  # no newlines in a header


def attached_segments(version_dir: Path) -> list[str]:
    """The segments whose campaign list (targets only) :func:`campaign_csvs` attaches."""
    metrics = read_metrics(Path(version_dir))
    actions = metrics.get("actions") or []
    wanted = [a["segment"] for a in actions if a.get("email_list")] or list(FOCUS_SEGMENTS)
    by_segment = {a.get("segment"): a.get("list_file") for a in actions}
    found = []
    for segment in wanted:  # the same test as campaign_csvs: the version's own list files
        listed = by_segment.get(segment)
        path = Path(version_dir) / "tables" / Path(str(listed or "")).name
        if listed and listed == f"tables/{path.name}" and own_file(path, path.parent):
            found.append(segment)
    return found


def campaign_csvs(version_dir: Path, segments: tuple[str, ...] | None = None) -> dict[str, bytes]:
    """Campaign lists to attach: the version's ``tables/campaign_<segment>.csv`` files.

    The segments are those marked ``email_list`` in the version's actions (from
    ``params/actions.yaml``), or ``segments`` when given. A version published before the
    lists existed gets them cut from ``tables/customers.csv``.

    Returns
    -------
    dict
        File name -> bytes (formula cells already neutralised), in segment order.
    """
    version_dir = Path(version_dir)
    metrics = read_metrics(version_dir)
    actions = metrics.get("actions") or []
    wanted = (
        list(segments)
        if segments is not None
        else [a["segment"] for a in actions if a.get("email_list")] or list(FOCUS_SEGMENTS)
    )
    files: dict[str, bytes] = {}
    by_segment = {a.get("segment"): a.get("list_file") for a in actions}
    for segment in wanted:
        listed = by_segment.get(segment)
        # metrics.json may have been edited: only a list file of the version's own tables
        path = version_dir / "tables" / Path(str(listed or "")).name
        if listed and listed == f"tables/{path.name}" and own_file(path, version_dir / "tables"):
            files[path.name] = path.read_bytes()
    if files or any(by_segment.values()):
        return files
    path = version_dir / "tables" / "customers.csv"  # a version from before the lists
    if not own_file(path, version_dir):
        return {}
    customers = pd.read_csv(path, dtype={"segment": str}, keep_default_na=False, na_values=[""])
    if "group" in customers:  # held-out customers are never mailed
        customers = customers[customers["group"] != "holdout"]
    for segment in wanted:
        members = customers[customers["segment"] == segment]
        if members.empty:
            continue
        members = members.sort_values("monetary", ascending=False, kind="stable")
        files[f"campaign_{segment_file_stem(segment)}.csv"] = csv_bytes(members)
    return files


# ---------------------------------------------------------------- body


def _growth_line(metrics: dict[str, Any], key: str, comparison: str) -> str:
    value = metrics.get(key)
    basis = metrics.get(comparison) or {}
    if value is None:
        return "no comparable baseline"
    base = basis.get("baseline_label", "")
    if basis.get("like_for_like"):
        base = f"the same days of {base}"
    return f"{format_pct(value)} vs {base}"


def _key_figures(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Net sales", format_money(metrics.get("net_sales"))),
        ("Change", _growth_line(metrics, "sales_growth_pct", "comparison")),
    ]
    if "comparison_yoy" in metrics:
        rows.append(
            ("Year on year", _growth_line(metrics, "sales_growth_yoy_pct", "comparison_yoy"))
        )
    rows += [
        ("Gross sales", format_money(metrics.get("gross_sales"))),
        ("Invoices", format_count(metrics.get("invoices"))),
        ("Placed orders", format_count(metrics.get("placed_orders"))),
        ("Cancelled invoices", format_count(metrics.get("cancelled_invoices"))),
        ("Active customers", format_count(metrics.get("active_customers"))),
        ("New customers", format_count(metrics.get("new_customers"))),
        ("Customers scored (RFM)", format_count(metrics.get("rfm_customers"))),
    ]
    return rows


def _segment_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    if not metrics.get("rfm_customers"):  # no one scored: the summary says so
        return []
    return [
        (
            str(seg.get("segment", "")),
            f"{format_count(seg.get('customers'))} ({format_share(seg.get('customer_share'))})",
            f"{format_money(seg.get('revenue'))} ({format_share(seg.get('revenue_share'))})",
        )
        for seg in metrics.get("segments") or []
    ]


def _action_lines(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(segment, what is at stake, action) for every segment with customers."""
    out = []
    for a in metrics.get("actions") or []:
        if not a.get("customers"):
            continue
        stake = (
            f"{format_count(a.get('customers'))} customers, {format_money(a.get('revenue'))} spent"
        )
        if a.get("held_out"):
            stake += f", {format_count(a.get('held_out'))} held out"
        if not is_missing(a.get("predicted_clv_12m")):
            stake += f", predicted {format_money(a.get('predicted_clv_12m'))}"
            if not is_missing(a.get("predicted_clv_12m_low")):
                stake += (
                    f" (80% interval {format_money(a.get('predicted_clv_12m_low'))} to "
                    f"{format_money(a.get('predicted_clv_12m_high'))})"
                )
            stake += " over 12 months"
        out.append((str(a.get("segment", "")), stake, str(a.get("action", ""))))
    return out


def _readout(metrics: dict[str, Any]) -> dict[str, Any]:
    return metrics.get("campaign_readout") or {}


def _summary(metrics: dict[str, Any]) -> list[str]:
    """The narrative's paragraphs but the actions and the campaigns (sections of their own)."""
    skip = _readout(metrics).get("narrative")
    caveat = metrics.get("clv_caveat")  # shown with the actions instead
    return [
        p
        for p in metrics.get("narrative") or []
        if not p.startswith("Recommended")
        and (not skip or p != skip)
        and not (caveat and p.startswith("Caution:"))
    ]


def _readout_row(c: dict[str, Any], name: str) -> tuple[str, str, str, str]:
    from ..analyses.readout import format_points, format_points_interval

    return (
        name,
        f"{format_share(c.get('response_rate_targeted'))} vs "
        f"{format_share(c.get('response_rate_held_out'))}",
        f"{format_points(c.get('uplift_pp'))} "
        f"({format_points_interval(c.get('uplift_low_pp'), c.get('uplift_high_pp'))})",
        str(c.get("verdict", "")),
    )


def _readout_blocks(metrics: dict[str, Any]) -> list[tuple[str, list[tuple[str, ...]]]]:
    """The short readout as (lead, rows) blocks: the campaigns issued last among those
    measured, each segment pooled when it has several, those in progress, and why some
    customers were held out. Rows: (segment, bought: targeted vs held out, uplift, verdict)."""
    readout = _readout(metrics)
    holdout = metrics.get("holdout") or {}
    blocks: list[tuple[str, list[tuple[str, ...]]]] = []
    measured = readout.get("campaigns") or []
    if measured:
        last = max(c["issued_on"] for c in measured)
        latest = [c for c in measured if c["issued_on"] == last]
        end = date.fromisoformat(last) + timedelta(days=int(latest[0]["window_days"]) - 1)
        blocks.append(
            (
                f"The {latest[0]['period']} lists, issued on {format_date(last)}: purchases "
                f"to {format_date(end)}, targeted against held-out customers (uplift in "
                "points, 95% interval).",
                [_readout_row(c, str(c["segment"])) for c in latest],
            )
        )
    pooled = [p for p in readout.get("pooled") or [] if int(p.get("campaigns") or 0) > 1]
    if pooled:
        blocks.append(
            (
                "Each segment over all its measured campaigns (pooled):",
                [_readout_row(p, f"{p['segment']} ({p['campaigns']})") for p in pooled],
            )
        )
    for c in readout.get("in_progress") or []:
        blocks.append(
            (
                f"{c['segment']} {c['period']} (issued {format_date(c['issued_on'])}): in "
                f"progress, {c['days_left']} days left.",
                [],
            )
        )
    if not blocks and readout:
        blocks.append(("No campaign has been measured yet.", []))
    if holdout:
        blocks.append(
            (
                f"Each list keeps a random {float(holdout.get('share', 0)):.0%} of its segment "
                "held out: they are not in the attached lists and must not be mailed, so that "
                "later reports can measure what the campaign changed.",
                [],
            )
        )
    blocks += [(note, []) for note in readout.get("salt_notes") or []]
    return blocks


def _rfm_basis(metrics: dict[str, Any]) -> str:
    start, end = metrics.get("rfm_window_start"), metrics.get("rfm_window_end")
    if not (start and end):
        return ""
    window = format_window(date.fromisoformat(start), date.fromisoformat(end))
    rule = metrics.get("rfm_monetary", "net")
    return f"Customers scored on their purchases from {window}; spend is {rule} spend."


def _window(metrics: dict[str, Any]) -> str:
    start, end = metrics.get("period_start"), metrics.get("period_end")
    if not (start and end):
        return ""
    text = format_window(date.fromisoformat(start), date.fromisoformat(end))
    if metrics.get("period_complete") is False and metrics.get("partial_note"):
        text += f" (partial: {metrics['partial_note']})"
    elif metrics.get("period_complete") is False and metrics.get("data_through"):
        text += f" (partial: data through {format_date(metrics['data_through'])})"
    return text


DEMO_NOTE = "DEMO DATA: these figures come from generated demo data, not from LGS's sales."


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
    summary = _summary(metrics)
    if summary:
        lines += ["", "Summary", ""]
        for paragraph in summary:
            lines += [paragraph, ""]
    segments = _segment_rows(metrics)
    if segments:
        lines += ["", "Customer segments", ""]
        if _rfm_basis(metrics):
            lines += [_rfm_basis(metrics), ""]
        for name, customers, spend in segments:
            lines.append(f"  {name}: {customers} customers, {spend} of spend")
    actions = _action_lines(metrics)
    if actions:
        lines += ["", "What to do, segment by segment", ""]
        for segment, stake, action in actions:
            lines.append(f"  * {segment} ({stake}): {action}")
        if metrics.get("clv_caveat"):
            lines += ["", str(metrics["clv_caveat"])]
    readout = _readout_blocks(metrics)
    if readout:
        lines += ["", "Did the campaigns work?", ""]
        for lead, rows in readout:
            lines += [lead, ""]
            lines += [
                f"  {name}: bought {rates}, {uplift}: {verdict}"
                for name, rates, uplift, verdict in rows
            ]
            lines += [""] if rows else []
    lines += ["", "Attached: " + ", ".join(attachments) + "."]
    return visible_text("\n".join(lines)) + "\n"  # bidi and zero-width characters shown


_FONT = "font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;"
_NAVY = "#0b3954"
_H2 = (
    f'style="font-size:17px;color:{_NAVY};margin:22px 0 6px 0;'
    f'border-bottom:2px solid {_NAVY};padding-bottom:3px;"'
)
_MUTED = 'style="margin:0 0 8px 0;font-size:13px;color:#52606d;"'
_CELL = "padding:5px 6px;border-bottom:1px solid #d9e2ec;vertical-align:top;"


def _html_rows(rows: list[tuple[str, ...]], numeric: set[int], header: tuple[str, ...] = ()) -> str:
    """A full-width table whose cells wrap, so it reflows on a phone."""
    head = ""
    if header:
        head = (
            "<tr>"
            + "".join(
                f'<th style="{_CELL}background:#f0f4f8;color:#243b53;font-size:12px;'
                f'text-align:{"right" if i in numeric else "left"};">{html_text(h)}</th>'
                for i, h in enumerate(header)
            )
            + "</tr>"
        )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL}text-align:{"right" if i in numeric else "left"};">'
            f"{html_text(str(c))}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        '<table role="presentation" cellspacing="0" cellpadding="0" width="100%" '
        'style="border-collapse:collapse;width:100%;font-size:14px;margin:6px 0 12px 0;">'
        f"{head}{body}</table>"
    )


def _html_body(
    metrics: dict[str, Any], version: str, note: str, pie_cid: str | None, attachments: list[str]
) -> str:
    period = html_text(str(metrics.get("period", "")))
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>LGS RFM report {period}</title></head>"
        f'<body style="margin:0;padding:0;{_FONT}color:#1f2933;background:#ffffff;">'
        '<div style="max-width:600px;margin:0 auto;padding:12px;">'
        f'<h1 style="font-size:21px;line-height:1.25;color:{_NAVY};margin:0 0 4px 0;">'
        f"London Gift Shop: RFM report {period}</h1>"
        f"<p {_MUTED}>Version {html_text(version)}. {html_text(_window(metrics))}</p>"
    ]
    if metrics.get("is_demo"):
        parts.append(
            '<p style="padding:8px 12px;background:#fff3cd;border:1px solid #e0a800;'
            f'font-weight:bold;">{html_text(DEMO_NOTE)}</p>'
        )
    if note:
        parts.append(
            '<p style="padding:8px 12px;background:#eef4fa;border:1px solid #9bbbd9;">'
            f"{html_text(note)}</p>"
        )
    parts.append(f"<h2 {_H2}>Key figures</h2>")
    parts.append(_html_rows(_key_figures(metrics), numeric={1}))
    summary = _summary(metrics)
    if summary:
        parts.append(f"<h2 {_H2}>Summary</h2>")
        parts += [
            f'<p style="margin:0 0 10px 0;font-size:14px;line-height:1.45;">{html_text(p)}</p>'
            for p in summary
        ]
    segments = _segment_rows(metrics)
    if segments:
        parts.append(f"<h2 {_H2}>Customer segments</h2>")
        if _rfm_basis(metrics):
            parts.append(f"<p {_MUTED}>{html_text(_rfm_basis(metrics))}</p>")
        if pie_cid:
            parts.append(
                f'<img src="cid:{pie_cid}" alt="Customers by segment" width="560" '
                'style="display:block;width:100%;max-width:560px;height:auto;border:0;'
                'margin:4px 0;">'
            )
        parts.append(_html_rows(segments, numeric={1, 2}, header=("segment", "customers", "spend")))
    actions = _action_lines(metrics)
    if actions:
        parts.append(f"<h2 {_H2}>What to do, segment by segment</h2>")
        for segment, stake, action in actions:
            parts.append(
                f'<p style="margin:0 0 10px 0;font-size:14px;line-height:1.4;">'
                f'<b style="color:{_NAVY};">{html_text(segment)}</b> '
                f'<span style="color:#52606d;font-size:13px;">({html_text(stake)})</span><br>'
                f"{html_text(action)}</p>"
            )
        if metrics.get("clv_caveat"):
            parts.append(f"<p {_MUTED}><b>{html_text(metrics['clv_caveat'])}</b></p>")
    readout = _readout_blocks(metrics)
    if readout:
        parts.append(f"<h2 {_H2}>Did the campaigns work?</h2>")
        for lead, rows in readout:
            parts.append(
                f'<p style="margin:0 0 6px 0;font-size:14px;line-height:1.45;">'
                f"{html_text(lead)}</p>"
            )
            if rows:
                parts.append(
                    _html_rows(
                        rows,
                        numeric={1, 2},
                        header=("segment", "bought: targeted vs held out", "uplift", "verdict"),
                    )
                )
    parts.append(
        f"<p {_MUTED}>Attached: {html_text(', '.join(attachments))}.</p></div></body></html>"
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
    bcc: bool = False,
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
    bcc : bool
        Leave the recipients out of the headers (``To: undisclosed-recipients:;``); the
        sender passes them to the server in the envelope only (default: False).

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
    if not own_file(pdf_path, version_dir):
        raise DeliveryError(f"{pdf_path} is missing: not a published report version")
    period = str(metrics.get("period") or version_dir.parent.name)
    metrics.setdefault("period", period)
    pdf_name = f"lgs-rfm-report-{period}-{version}.pdf"
    csvs = campaign_csvs(version_dir) if attach_csvs else {}
    attachments = [pdf_name, *csvs]

    msg = EmailMessage()
    msg["Subject"] = format_subject(subject_template, metrics, version)
    msg["From"] = sender
    msg["To"] = "undisclosed-recipients:;" if bcc else ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    if domain is None:
        domain = sender.rpartition("@")[2].strip(" >") or "lgs-reports.invalid"
    msg["Message-ID"] = f"<lgs-{period}-{version}.{uuid.uuid4().hex[:16]}@{domain}>"
    msg["X-LGS-Report"] = f"{period}/{version}"

    pie = version_dir / "charts" / "segment_pie_email.png"
    if not own_file(pie, version_dir):  # a version from before the email's own chart
        pie = version_dir / "charts" / "segment_pie.png"
    shown = own_file(pie, version_dir)
    pie_cid = make_msgid(idstring="segment-pie", domain=domain) if shown else None
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
