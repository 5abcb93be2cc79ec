"""Versioned, atomic publishing under ``reports/<period>/vNNN/``.

A version is built in a hidden staging directory beside its final place and
renamed into place in one step, so a reader never sees half a report. Versions
are immutable; ``latest`` is a symlink swapped atomically. Runs of the same period
at once take their numbers in turn, under an exclusive lock on
``<period>/.publish.lock``, so each gets its own number and ``latest`` ends on the
highest.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "staging_dir",
    "latest_manifest",
    "publish_version",
    "keep_failed",
    "list_versions",
    "exclusive_lock",
]

_VERSION = re.compile(r"^v(\d{3,})$")


def list_versions(period_dir: Path) -> list[Path]:
    """Published version directories of a period, oldest first."""
    if not period_dir.is_dir():
        return []
    found = [p for p in period_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda p: int(_VERSION.match(p.name).group(1)))


def latest_manifest(period_dir: Path) -> dict[str, Any] | None:
    """The manifest of the newest published version, or None."""
    versions = list_versions(period_dir)
    if not versions:
        return None
    path = versions[-1] / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def staging_dir(period_dir: Path) -> Path:
    """A fresh hidden directory on the same filesystem as the final version."""
    path = period_dir / f".staging-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    return path


def _swap_symlink(link: Path, target_name: str) -> None:
    tmp = link.with_name(f".{link.name}-{uuid.uuid4().hex[:8]}")
    tmp.symlink_to(target_name)
    os.replace(tmp, link)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block.

    Waits while another process holds it; the kernel releases it if the holder dies.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish_version(staging: Path, period_dir: Path) -> Path:
    """Rename ``staging`` to the next ``vNNN`` and point ``latest`` at it.

    The rename is atomic. Concurrent publishers of a period take turns under
    ``.publish.lock``; should another writer still have taken the number first (an
    older version of this code), the next one is used.
    """
    with exclusive_lock(period_dir / ".publish.lock"):
        return _publish_locked(staging, period_dir)


def _publish_locked(staging: Path, period_dir: Path) -> Path:
    while True:
        versions = list_versions(period_dir)
        number = int(_VERSION.match(versions[-1].name).group(1)) + 1 if versions else 1
        target = period_dir / f"v{number:03d}"
        try:
            os.rename(staging, target)  # fails if target exists and is not empty
        except OSError:
            if target.exists():
                continue
            raise
        _swap_symlink(period_dir / "latest", target.name)
        return target


def keep_failed(executed: Path, reports_dir: Path, period_label: str) -> Path:
    """Move a failed executed notebook to ``reports/_failed/`` and return its new path."""
    failed_dir = reports_dir / "_failed"
    failed_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    target = failed_dir / f"{period_label}-{stamp}.ipynb"
    shutil.move(str(executed), target)
    return target
