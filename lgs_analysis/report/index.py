"""``reports/index.html``: every period and version, key figures, links, delivery status.

The page is self-contained (inline CSS, no scripts, nothing from the network) and uses
relative links, so it opens from the file system or any static web server. It is
rewritten atomically after each publish and each delivery.
"""

from __future__ import annotations

import html
import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..exceptions import PeriodError
from ..formatting import format_count, format_money, format_pct
from ..periods import Period, parse_period
from .delivery_log import read_deliveries, read_pending

__all__ = ["write_index", "render_index", "collect_index_entries"]

_VERSION = re.compile(r"^v(\d{3,})$")

_CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#222;margin:24px;max-width:1200px}
h1{color:#1f4e79;font-size:24px;margin:0 0 4px 0}
h2{color:#1f4e79;font-size:18px;margin:28px 0 6px 0}
p.meta{color:#666;font-size:13px;margin:0 0 16px 0}
table{border-collapse:collapse;font-size:13px;width:100%}
th{border-bottom:2px solid #1f4e79;color:#1f4e79;text-align:left;padding:5px 8px}
td{border-bottom:1px solid #e3e3e3;padding:5px 8px;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:3px;margin-left:4px}
.latest{background:#1f4e79;color:#fff}
.demo{background:#fff3cd;color:#7a5b00;border:1px solid #e0b400}
.sent{color:#1a7f37}
.unsent{color:#888}
.pending{color:#b35900;font-weight:bold}
a{color:#1f4e79}
""".strip()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _period_key(period: Period) -> tuple:
    return (period.end, period.start)


def _periods(reports_dir: Path) -> list[tuple[Period, Path]]:
    found = []
    if not reports_dir.is_dir():
        return found
    for child in reports_dir.iterdir():
        if not child.is_dir() or child.name.startswith(("_", ".")):
            continue
        try:
            period = parse_period(child.name)
        except PeriodError:
            continue
        found.append((period, child))
    return sorted(found, key=lambda item: _period_key(item[0]), reverse=True)


def _versions(period_dir: Path) -> list[Path]:
    found = [p for p in period_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda p: int(_VERSION.match(p.name).group(1)), reverse=True)


def collect_index_entries(reports_dir: Path) -> list[dict[str, Any]]:
    """One entry per period, newest first, each with its versions newest first.

    Returns
    -------
    list of dict
        ``period`` (label), ``versions``: list of dicts with ``version``, ``path``
        (relative), ``created_at``, ``metrics``, ``deliveries``, ``pending``, ``is_latest``,
        ``has_html``, ``has_pdf``.
    """
    reports_dir = Path(reports_dir)
    entries = []
    for period, period_dir in _periods(reports_dir):
        versions = _versions(period_dir)
        if not versions:
            continue
        latest = (period_dir / "latest").resolve() if (period_dir / "latest").exists() else None
        pending = read_pending(period_dir) or {}
        rows = []
        for version_dir in versions:
            manifest = _read_json(version_dir / "manifest.json")
            rows.append(
                {
                    "version": version_dir.name,
                    "path": f"{period_dir.name}/{version_dir.name}",
                    "created_at": manifest.get("created_at"),
                    "metrics": _read_json(version_dir / "metrics.json"),
                    "deliveries": read_deliveries(version_dir),
                    "pending": pending if pending.get("version") == version_dir.name else None,
                    "is_latest": latest is not None and version_dir.resolve() == latest,
                    "has_html": (version_dir / "report.html").exists(),
                    "has_pdf": (version_dir / "report.pdf").exists(),
                }
            )
        entries.append({"period": period.label, "versions": rows})
    return entries


def _when(value: str | None) -> str:
    if not value:
        return "n/a"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M}"


def _delivery_cell(deliveries: list[dict[str, Any]], pending: dict[str, Any] | None) -> str:
    lines = []
    if pending:
        started = html.escape(_when(pending.get("started_at")))
        lines.append(
            f'<span class="pending">send interrupted {started}</span> '
            "(may have been delivered; see make monthly)"
        )
    if not deliveries and not pending:
        return '<span class="unsent">not sent</span>'

    for d in deliveries:
        recipients = ", ".join(d.get("recipients", []))
        lines.append(
            f'<span class="sent">sent {html.escape(_when(d.get("sent_at")))}</span> '
            f"to {html.escape(recipients)}"
        )
    return "<br>".join(lines)


def _row(row: dict[str, Any]) -> str:
    m = row["metrics"]
    e = html.escape
    badges = ""
    if row["is_latest"]:
        badges += '<span class="badge latest">latest</span>'
    if m.get("is_demo"):
        badges += '<span class="badge demo">demo data</span>'
    links = []
    if row["has_html"]:
        links.append(f'<a href="{e(row["path"])}/report.html">HTML</a>')
    if row["has_pdf"]:
        links.append(f'<a href="{e(row["path"])}/report.pdf">PDF</a>')
    cells = [
        f"<td>{e(row['version'])}{badges}</td>",
        f"<td>{e(_when(row['created_at']))}</td>",
        f'<td class="num">{e(format_money(m.get("net_sales")))}</td>',
        f'<td class="num">{e(format_pct(m.get("sales_growth_pct")))}</td>',
        f'<td class="num">{e(format_count(m.get("invoices")))}</td>',
        f'<td class="num">{e(format_count(m.get("placed_orders")))}</td>',
        f'<td class="num">{e(format_count(m.get("active_customers")))}</td>',
        f'<td class="num">{e(format_count(m.get("new_customers")))}</td>',
        f'<td class="num">{e(format_count(m.get("rfm_customers")))}</td>',
        f"<td>{' · '.join(links) or 'n/a'}</td>",
        f"<td>{_delivery_cell(row['deliveries'], row.get('pending'))}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


_HEADER = (
    "<tr><th>version</th><th>created</th><th class='num'>net sales</th>"
    "<th class='num'>vs previous</th><th class='num'>invoices</th>"
    "<th class='num'>placed orders</th><th class='num'>active customers</th>"
    "<th class='num'>new customers</th><th class='num'>RFM customers</th>"
    "<th>report</th><th>emailed</th></tr>"
)


def render_index(entries: list[dict[str, Any]], generated_at: datetime | None = None) -> str:
    """The index page for :func:`collect_index_entries` output, as a self-contained HTML string."""
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC)
    count = sum(len(p["versions"]) for p in entries)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>LGS Reports: index</title><style>{_CSS}</style></head><body>",
        "<h1>London Gift Shop: RFM reports</h1>",
        f'<p class="meta">{len(entries)} periods, {count} versions. '
        f"Updated {generated:%Y-%m-%d %H:%M} UTC.</p>",
    ]
    if not entries:
        parts.append("<p>No report has been published yet: run <code>make report</code>.</p>")
    for period in entries:
        label = html.escape(period["period"])
        parts.append(f'<h2 id="p-{label}">{label}</h2>')
        parts.append("<table>" + _HEADER + "".join(_row(r) for r in period["versions"]))
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_index(reports_dir: Path) -> Path:
    """Write ``<reports_dir>/index.html`` atomically and return its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "index.html"
    tmp = reports_dir / f".index-{uuid.uuid4().hex[:8]}.html.tmp"
    tmp.write_text(render_index(collect_index_entries(reports_dir)), encoding="utf-8")
    os.replace(tmp, target)
    return target
