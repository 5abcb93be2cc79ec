"""Delivery records of published versions, beside the immutable versions.

``reports/<period>/deliveries/vNNN.json`` lists each accepted send of version ``vNNN``
(recipients, Message-ID, time); ``deliveries/pending.json`` names a send under way. The
delivery stage writes them, the report index reads them: both go through this module,
so neither imports the other.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..exceptions import DeliveryError

__all__ = [
    "deliveries_path",
    "pending_path",
    "write_json_atomic",
    "read_deliveries",
    "period_deliveries",
    "record_delivery",
    "read_pending",
    "period_lock",
]


def deliveries_path(version_dir: Path) -> Path:
    """Where the deliveries of ``reports/<period>/vNNN`` are recorded."""
    version_dir = Path(version_dir)
    return version_dir.parent / "deliveries" / f"{version_dir.name}.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def pending_path(period_dir: Path) -> Path:
    """The marker of a send under way for ``reports/<period>``."""
    return Path(period_dir) / "deliveries" / "pending.json"


def read_deliveries(version_dir: Path) -> list[dict[str, Any]]:
    """Accepted sends of a version, oldest first (empty when never sent).

    Each entry has ``sent_at`` (ISO 8601, UTC), ``message_id``, ``recipients``,
    ``sender``, ``subject`` and ``smtp_host``.
    """
    path = deliveries_path(version_dir)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{path}: delivery record is not valid JSON: {exc}") from exc
    return list(data.get("deliveries", []))


def period_deliveries(period_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every accepted send of a period as (version name, entry), oldest first."""
    folder = Path(period_dir) / "deliveries"
    found: list[tuple[str, dict[str, Any]]] = []
    if folder.is_dir():
        for path in sorted(folder.glob("v*.json")):
            found += [(path.stem, d) for d in read_deliveries(Path(period_dir) / path.stem)]
    return sorted(found, key=lambda item: item[1].get("sent_at", ""))


def record_delivery(version_dir: Path, entry: dict[str, Any]) -> Path:
    """Append an accepted send to the version's delivery record (atomic rewrite)."""
    version_dir = Path(version_dir)
    path = deliveries_path(version_dir)
    entries = read_deliveries(version_dir) + [entry]
    write_json_atomic(
        path,
        {"period": version_dir.parent.name, "version": version_dir.name, "deliveries": entries},
    )
    return path


def read_pending(period_dir: Path) -> dict[str, Any] | None:
    """The marker of a send that started but neither finished nor failed (a killed run)."""
    path = pending_path(period_dir)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {"version": "?", "message_id": "?", "started_at": "?"}


@contextmanager
def period_lock(period_dir: Path) -> Iterator[None]:
    """Serialise deliveries of one period, so two runs cannot both send."""
    folder = Path(period_dir) / "deliveries"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
