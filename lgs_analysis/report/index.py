"""``reports/index.html``: every period and version, key figures, links, delivery status.

The page is self-contained (inline CSS, no scripts, nothing from the network) and uses
relative links, so it opens from the file system or any static web server. It is
rewritten atomically after each publish and each delivery.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..environment import describe_version_changes
from ..escape import html_text
from ..exceptions import PeriodError
from ..formatting import format_count, format_datetime, format_money, format_pct, plural
from ..periods import Period, parse_period
from .delivery_log import read_delivery_record, read_pending
from .publish import exclusive_lock, list_versions, own_file, read_json_object, version_problem

__all__ = ["write_index", "render_index", "collect_index_entries", "version_reason"]


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
.damaged { background: #fde8e8; color: #8a1c1c; border: 1px solid #d64545; }
.meta { color: #52606d; font-size: 9pt; }
"""


def _stylesheet() -> str:
    """The reports' own stylesheet (same fonts and colours) plus the index's additions."""
    from .render import TEMPLATE_DIR

    report_css = (TEMPLATE_DIR / "lgs_report" / "report.css").read_text(encoding="utf-8")
    screen = re.sub(r"@page\s*\{.*?\}\s*\}", "", report_css, count=1, flags=re.S)
    return screen + _INDEX_CSS  # without the @page rule: the index is a web page


def _read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path)[0] or {}


def _period_key(period: Period) -> tuple:
    return (period.end, period.start)


def _periods(reports_dir: Path) -> list[tuple[Period, Path]]:
    found = []
    if not reports_dir.is_dir():
        return found
    for child in reports_dir.iterdir():
        if child.is_symlink() or not child.is_dir() or child.name.startswith(("_", ".")):
            continue  # a linked period folder is not ours: make report replaces it
        try:
            period = parse_period(child.name)
        except PeriodError:
            continue
        found.append((period, child))
    return sorted(found, key=lambda item: _period_key(item[0]), reverse=True)


def _tables(version_dir: Path) -> list[str]:
    folder = version_dir / "tables"
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*.csv") if own_file(p, version_dir))


def collect_index_entries(reports_dir: Path) -> list[dict[str, Any]]:
    """One entry per period, newest first, each with its versions newest first.

    Versions are the period's real ``vNNN`` folders (never what ``latest`` points at);
    the newest whole one is marked latest. A damaged version (a file missing, a link,
    a manifest that is not JSON) is listed with what is wrong and without links.

    Returns
    -------
    list of dict
        ``period`` (label), ``kind`` (year, quarter, month), ``versions``: list of dicts
        with ``version``, ``path`` (relative), ``created_at``, ``reason`` (why it exists),
        ``damaged`` (what is wrong, or None), ``tables`` (CSV file names), ``metrics``,
        ``deliveries``, ``delivery_problem``, ``pending``, ``is_latest``, ``has_html``,
        ``has_pdf``.
    """
    reports_dir = Path(reports_dir)
    entries = []
    for period, period_dir in _periods(reports_dir):
        versions = list(reversed(list_versions(period_dir)))
        if not versions:
            continue
        pending = read_pending(period_dir) or {}
        rows = []
        manifests = [_read_json(v / "manifest.json") for v in versions]
        problems = [version_problem(v) for v in versions]
        latest = next((v for v, p in zip(versions, problems, strict=True) if p is None), None)
        # a marker naming no version of the period (damaged) shows on the newest one
        names = [v.name for v in versions]
        pending_on = pending.get("version") if pending.get("version") in names else names[0]
        for i, version_dir in enumerate(versions):
            manifest = manifests[i]
            older = manifests[i + 1] if i + 1 < len(manifests) else None
            deliveries, delivery_problem = read_delivery_record(version_dir)
            rows.append(
                {
                    "version": version_dir.name,
                    "path": f"{period_dir.name}/{version_dir.name}",
                    "created_at": manifest.get("created_at"),
                    "reason": version_reason(manifest, older),
                    "damaged": problems[i],
                    "tables": _tables(version_dir),
                    "metrics": _read_json(version_dir / "metrics.json"),
                    "deliveries": deliveries,
                    "delivery_problem": delivery_problem,
                    "pending": pending if pending and pending_on == version_dir.name else None,
                    "is_latest": version_dir == latest,
                    "has_html": own_file(version_dir / "report.html", version_dir),
                    "has_pdf": own_file(version_dir / "report.pdf", version_dir),
                }
            )
        entries.append({"period": period.label, "kind": period.kind, "versions": rows})
    return entries


def _when(value: Any) -> str:
    if not value or not isinstance(value, str):
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
        old, new = previous.get("environment"), manifest.get("environment")
        versions = describe_version_changes(  # a hand-edited manifest may hold anything
            old if isinstance(old, dict) or old is None else {},
            new if isinstance(new, dict) else {},
        )
        changes.append(f"new package versions ({versions})")
    return ", ".join(changes) if changes else "forced (nothing changed)"


def _delivery_cell(row: dict[str, Any]) -> str:
    deliveries, pending = row["deliveries"], row.get("pending")
    problem = row.get("delivery_problem")
    lines = []
    if pending:
        started = html_text(_when(pending.get("started_at")))
        what = "outcome unknown" if pending.get("status") == "unknown" else "send interrupted"
        lines.append(
            f'<span class="pending">{what} {started}</span> '
            "(may have been delivered; see make monthly)"
        )
    if problem:
        lines.append(
            f'<span class="pending">delivery record damaged</span> ({html_text(problem)}; '
            "it may have been sent; see make monthly)"
        )
    if not deliveries and not lines:
        return '<span class="unsent">not sent</span>'
    for d in deliveries:
        recipients = ", ".join(str(r) for r in d.get("recipients", []))
        lines.append(
            f'<span class="sent">sent {html_text(_when(d.get("sent_at")))}</span> '
            f"to {html_text(recipients)}"
        )
    return "<br>".join(lines)


def _number(metrics: dict[str, Any], key: str) -> float | None:
    """A figure of metrics.json, or None when missing or not a number (a hand-edited file)."""
    value = metrics.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _row(row: dict[str, Any]) -> str:
    m = row["metrics"]
    e = html_text
    badges = ""
    if row["is_latest"]:
        badges += '<span class="badge latest">latest</span>'
    if m.get("is_demo"):
        badges += '<span class="badge demo">demo data</span>'
    if m.get("period_complete") is False:
        badges += '<span class="badge partial">partial</span>'
    if row.get("damaged"):
        badges += '<span class="badge damaged">damaged</span>'
    links = []
    if row["has_html"]:
        links.append(f'<a href="{e(row["path"])}/report.html">HTML</a>')
    if row["has_pdf"]:
        links.append(f'<a href="{e(row["path"])}/report.pdf">PDF</a>')
    growth = _number(m, "sales_growth_pct")
    why = f"damaged: {row['damaged']}" if row.get("damaged") else row["reason"]
    cells = [
        f'<td class="text">{e(row["version"])}{badges}</td>',
        f'<td class="text">{e(_when(row["created_at"]))}</td>',
        f'<td class="text">{e(why)}</td>',
        f'<td class="num">{e(format_money(_number(m, "net_sales")))}</td>',
        f'<td class="num">{e(format_pct(growth) if growth is not None else "n/a")}</td>',
        f'<td class="num">{e(format_count(_number(m, "active_customers")))}</td>',
        f'<td class="num">{e(format_count(_number(m, "rfm_customers")))}</td>',
        f'<td class="text">{" · ".join(links) or "n/a"}</td>',
        f'<td class="text">{_delivery_cell(row)}</td>',
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
        f"Updated {html_text(format_datetime(generated))}.</p>",
    ]
    if not entries:
        parts.append("<p>No report has been published yet: run <code>make report</code>.</p>")
    for kind, title in _KINDS:
        group = [p for p in entries if p["kind"] == kind]
        if not group:
            continue
        parts.append(f"<h2>{title}</h2>")
        for period in group:
            label = html_text(period["period"])
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
