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

from ..environment import describe_version_changes
from ..exceptions import PeriodError
from ..formatting import format_count, format_datetime, format_money, format_pct, plural
from ..periods import Period, parse_period
from .delivery_log import read_deliveries, read_pending
from .publish import exclusive_lock

__all__ = ["write_index", "render_index", "collect_index_entries", "version_reason"]

_VERSION = re.compile(r"^v(\d{3,})$")

_KINDS = (("year", "Years"), ("quarter", "Quarters"), ("month", "Months"))
_INDEX_CSS = """
main.index { max-width: 1100px; margin: 0 auto; padding: 18px 24px 40px; }
h2 { margin-top: 28px; }
h3 { margin: 18px 0 4px; }
table.versions td, table.versions th { font-size: 9pt; }
tr.files td { border-bottom: 1px solid #d9e2ec; color: #52606d; font-size: 8pt; padding-top: 0; }
tr.version td { border-bottom: none; }
.badge { display: inline-block; font-size: 7.5pt; padding: 1px 5px; border-radius: 3px;
  margin-left: 4px; vertical-align: middle; }
.latest { background: #0b3954; color: #fff; }
.demo { background: #fff3cd; color: #5c4400; border: 1px solid #e0a800; }
.partial { background: #eef4fa; color: #243b53; border: 1px solid #9bbbd9; }
.sent { color: #1a7f37; }
.unsent { color: #7b8794; }
.pending { color: #b35900; font-weight: bold; }
.meta { color: #52606d; font-size: 9pt; }
"""


def _stylesheet() -> str:
    """The reports' own stylesheet (same fonts and colours) plus the index's additions."""
    from .render import TEMPLATE_DIR

    report_css = (TEMPLATE_DIR / "lgs_report" / "report.css").read_text(encoding="utf-8")
    screen = re.sub(r"@page\s*\{.*?\}\s*\}", "", report_css, count=1, flags=re.S)
    return screen + _INDEX_CSS  # without the @page rule: the index is a web page


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
        ``period`` (label), ``kind`` (year, quarter, month), ``versions``: list of dicts
        with ``version``, ``path`` (relative), ``created_at``, ``reason`` (why it exists),
        ``tables`` (CSV file names), ``metrics``, ``deliveries``, ``pending``,
        ``is_latest``, ``has_html``, ``has_pdf``.
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
        manifests = [_read_json(v / "manifest.json") for v in versions]
        for i, version_dir in enumerate(versions):
            manifest = manifests[i]
            older = manifests[i + 1] if i + 1 < len(manifests) else None
            tables = sorted(p.name for p in (version_dir / "tables").glob("*.csv"))
            rows.append(
                {
                    "version": version_dir.name,
                    "path": f"{period_dir.name}/{version_dir.name}",
                    "created_at": manifest.get("created_at"),
                    "reason": version_reason(manifest, older),
                    "tables": tables,
                    "metrics": _read_json(version_dir / "metrics.json"),
                    "deliveries": read_deliveries(version_dir),
                    "pending": pending if pending.get("version") == version_dir.name else None,
                    "is_latest": latest is not None and version_dir.resolve() == latest,
                    "has_html": (version_dir / "report.html").exists(),
                    "has_pdf": (version_dir / "report.pdf").exists(),
                }
            )
        entries.append({"period": period.label, "kind": period.kind, "versions": rows})
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
    return format_datetime(moment)


def version_reason(manifest: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """Why a version exists, from its manifest and the one before: new data, code, ..."""
    if manifest.get("reason"):
        return str(manifest["reason"])
    if not previous:
        return "first version"
    changes = [
        label
        for key, label in (
            ("data_fingerprint", "new data"),
            ("code_version", "new code"),
            ("template_hash", "new template"),
            ("parameters", "new parameters"),
        )
        if manifest.get(key) != previous.get(key)
    ]
    if manifest.get("environment") != previous.get("environment"):
        versions = describe_version_changes(
            previous.get("environment"), manifest.get("environment") or {}
        )
        changes.append(f"new package versions ({versions})")
    return ", ".join(changes) if changes else "forced (nothing changed)"


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
    if m.get("period_complete") is False:
        badges += '<span class="badge partial">partial</span>'
    links = []
    if row["has_html"]:
        links.append(f'<a href="{e(row["path"])}/report.html">HTML</a>')
    if row["has_pdf"]:
        links.append(f'<a href="{e(row["path"])}/report.pdf">PDF</a>')
    growth = m.get("sales_growth_pct")
    cells = [
        f'<td class="text">{e(row["version"])}{badges}</td>',
        f'<td class="text">{e(_when(row["created_at"]))}</td>',
        f'<td class="text">{e(row["reason"])}</td>',
        f'<td class="num">{e(format_money(m.get("net_sales")))}</td>',
        f'<td class="num">{e(format_pct(growth) if growth is not None else "n/a")}</td>',
        f'<td class="num">{e(format_count(m.get("active_customers")))}</td>',
        f'<td class="num">{e(format_count(m.get("rfm_customers")))}</td>',
        f'<td class="text">{" · ".join(links) or "n/a"}</td>',
        f'<td class="text">{_delivery_cell(row["deliveries"], row.get("pending"))}</td>',
    ]
    files = " · ".join(
        f'<a href="{e(row["path"])}/tables/{e(name)}">{e(name.removesuffix(".csv"))}</a>'
        for name in row["tables"]
    )
    files_row = (
        f'<tr class="files"><td></td><td class="text" colspan="8">tables: {files}</td></tr>'
        if files
        else ""
    )
    return '<tr class="version">' + "".join(cells) + "</tr>" + files_row


_HEADER = (
    '<thead><tr><th class="text">version</th><th class="text">created</th>'
    '<th class="text">why</th><th class="num">net sales</th>'
    '<th class="num">vs previous</th><th class="num">active customers</th>'
    '<th class="num">customers scored</th><th class="text">report</th>'
    '<th class="text">emailed</th></tr></thead>'
)


def render_index(entries: list[dict[str, Any]], generated_at: datetime | None = None) -> str:
    """The index page for :func:`collect_index_entries` output, as a self-contained HTML string.

    Periods are grouped by kind (years, quarters, months), newest first; each version says
    why it exists and links its report and CSV tables.
    """
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC)
    count = sum(len(p["versions"]) for p in entries)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>LGS Reports: index</title><style>{_stylesheet()}</style></head><body>",
        '<main class="index"><h1>London Gift Shop: RFM reports</h1>',
        f'<p class="meta">{plural(len(entries), "period")}, {plural(count, "version")}. '
        f"Updated {html.escape(format_datetime(generated))}.</p>",
    ]
    if not entries:
        parts.append("<p>No report has been published yet: run <code>make report</code>.</p>")
    for kind, title in _KINDS:
        group = [p for p in entries if p["kind"] == kind]
        if not group:
            continue
        parts.append(f"<h2>{title}</h2>")
        for period in group:
            label = html.escape(period["period"])
            parts.append(f'<h3 id="p-{label}">{label}</h3>')
            parts.append(
                '<table class="versions">'
                + _HEADER
                + "<tbody>"
                + "".join(_row(r) for r in period["versions"])
                + "</tbody></table>"
            )
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def write_index(reports_dir: Path) -> Path:
    """Write ``<reports_dir>/index.html`` atomically and return its path.

    Writers take turns (a lock on ``reports_dir``), so the last one to finish lists every
    version published before it.
    """
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "index.html"
    with exclusive_lock(reports_dir):
        tmp = reports_dir / f".index-{uuid.uuid4().hex[:8]}.html.tmp"
        tmp.write_text(render_index(collect_index_entries(reports_dir)), encoding="utf-8")
        os.replace(tmp, target)
    return target
