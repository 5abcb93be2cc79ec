"""Delivery records of published versions, beside the immutable versions.

``reports/<period>/deliveries/vNNN.json`` lists each accepted send of version ``vNNN``
(recipients, Message-ID, time); ``deliveries/pending.json`` names a send under way. The
delivery stage writes them, the report index reads them: both go through this module,
so neither imports the other.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..log import logger
from .publish import own_dir, read_json_object

__all__ = [
    "deliveries_path",
    "pending_path",
    "write_json_atomic",
    "read_deliveries",
    "read_delivery_record",
    "period_deliveries",
    "damaged_delivery_records",
    "record_delivery",
    "read_pending",
    "period_lock",
]


def deliveries_path(version_dir: Path) -> Path:
    """Where the deliveries of ``reports/<period>/vNNN`` are recorded."""
    version_dir = Path(version_dir)
    return version_dir.parent / "deliveries" / f"{version_dir.name}.json"


def _deliveries_dir(period_dir: Path) -> Path:
    """``<period>/deliveries`` as a real folder inside the reports folder (never a link)."""
    period_dir = Path(period_dir)
    return own_dir(period_dir / "deliveries", period_dir.parent)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename.

    On failure (a full disk) the temporary file is removed and ``path`` is unchanged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def pending_path(period_dir: Path) -> Path:
    """The marker of a send under way for ``reports/<period>``."""
    return Path(period_dir) / "deliveries" / "pending.json"


def _entry(item: Any) -> dict[str, Any] | None:
    """One delivery entry with text fields as text, or None when it is not an entry."""
    if not isinstance(item, dict):
        return None
    entry = dict(item)
    recipients = entry.get("recipients")
    entry["recipients"] = (
        [str(r) for r in recipients] if isinstance(recipients, list) else [str(recipients)]
    )
    for key in ("sent_at", "message_id", "sender", "subject"):
        if key in entry and not isinstance(entry[key], str):
            entry[key] = str(entry[key])
    return entry


def read_delivery_record(version_dir: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Accepted sends of a version, oldest first, and what is wrong with the record.

    Never raises. A record that is truncated, not JSON or of the wrong shape gives the
    entries that can still be read and a description of the damage: such a version may
    have been sent, and the caller must not read the damage as "not sent".
    """
    path = deliveries_path(version_dir)
    if not path.exists() and not path.is_symlink():
        return [], None
    if path.is_symlink():
        return [], f"{path.name} is a link, not a record"
    data, problem = read_json_object(path)
    if problem:
        return [], problem
    items = data.get("deliveries")
    if not isinstance(items, list):
        return [], f"{path.name} has no list of deliveries"
    entries = [e for e in (_entry(item) for item in items) if e is not None]
    if len(entries) != len(items):
        return entries, f"{path.name} holds {len(items) - len(entries)} entries that are not sends"
    return entries, None


def read_deliveries(version_dir: Path) -> list[dict[str, Any]]:
    """Accepted sends of a version, oldest first (empty when never sent).

    Each entry has ``sent_at`` (ISO 8601, UTC), ``message_id``, ``recipients``,
    ``sender``, ``subject`` and ``smtp_host``. A damaged record gives what can be read
    (see :func:`read_delivery_record`).
    """
    return read_delivery_record(version_dir)[0]


def _record_files(period_dir: Path) -> list[Path]:
    folder = Path(period_dir) / "deliveries"
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(folder.glob("v*.json"))


def period_deliveries(period_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every accepted send of a period as (version name, entry), oldest first."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in _record_files(period_dir):
        found += [(path.stem, d) for d in read_deliveries(Path(period_dir) / path.stem)]
    return sorted(found, key=lambda item: item[1].get("sent_at", ""))


def damaged_delivery_records(period_dir: Path) -> list[tuple[str, str]]:
    """``(file name, what is wrong)`` for each delivery record of a period that is damaged."""
    damaged = []
    for path in _record_files(period_dir):
        problem = read_delivery_record(Path(period_dir) / path.stem)[1]
        if problem:
            damaged.append((path.name, problem))
    return damaged


def record_delivery(version_dir: Path, entry: dict[str, Any]) -> Path:
    """Append an accepted send to the version's delivery record (atomic rewrite).

    A damaged record is first moved aside (``.vNNN.json.damaged-<time>``), kept for
    whoever checks it, and the entries that could still be read are carried over.
    """
    version_dir = Path(version_dir)
    _deliveries_dir(version_dir.parent)
    path = deliveries_path(version_dir)
    entries, problem = read_delivery_record(version_dir)
    if problem:
        aside = path.with_name(f".{path.name}.damaged-{datetime.now():%Y%m%dT%H%M%S}")
        os.rename(path, aside)
        logger.warning("%s was damaged (%s); kept it as %s", path, problem, aside.name)
    write_json_atomic(
        path,
        {
            "period": version_dir.parent.name,
            "version": version_dir.name,
            "deliveries": [*entries, entry],
        },
    )
    return path


def read_pending(period_dir: Path) -> dict[str, Any] | None:
    """The marker of a send that started but neither finished nor failed (a killed run,
    an outcome the server never confirmed). A damaged marker still counts: its fields
    read ``?``, so the send stays "unknown", never "not sent"."""
    path = pending_path(period_dir)
    if not path.exists() and not path.is_symlink():
        return None
    data, problem = read_json_object(path)
    unread = {"version": "?", "message_id": "?", "started_at": "?"}
    if problem:
        return {**unread, "status": "damaged", "reason": f"the marker is damaged: {problem}"}
    return {**unread, **data}


def _open_lock(path: Path) -> int:
    """Open (create) a lock file without following a link planted in its place."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        path.unlink()  # a link: remove it, never write through it
        return os.open(path, flags, 0o644)


@contextmanager
def period_lock(period_dir: Path) -> Iterator[None]:
    """Serialise deliveries of one period, so two runs cannot both send."""
    folder = _deliveries_dir(period_dir)
    fd = _open_lock(folder / ".lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
