"""Versioned, atomic publishing under ``reports/<period>/vNNN/``.

A version is built in a hidden staging directory beside its final place and
renamed into place in one step, so a reader never sees half a report. Versions
are immutable; ``latest`` is a symlink swapped atomically. Runs of the same period
at once take their numbers in turn, under an exclusive lock on the
``<period>`` directory, so each gets its own number and ``latest`` ends on the
highest.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..exceptions import ReportsDirError
from ..log import logger

__all__ = [
    "staging_dir",
    "remove_stale_staging",
    "reports_dir_error",
    "discard_staging",
    "latest_manifest",
    "publish_version",
    "keep_failed",
    "list_versions",
    "exclusive_lock",
]

_VERSION = re.compile(r"^v(\d{3,})$")
_STAGING = re.compile(r"^\.staging-(?:(\d+)-)?[0-9a-f]+$")
_LEGACY_STAGING_AGE_S = 6 * 3600  # a staging folder without an owner PID, this old, is stale
_WRITE_ERRNOS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ENOTDIR: "a path component is a file, not a folder",
}


def reports_dir_error(exc: OSError, path: Path) -> ReportsDirError | None:
    """A clear error for a reports folder that cannot be written, or None for other errors."""
    what = _WRITE_ERRNOS.get(exc.errno or 0)
    if what is None:
        return None
    return ReportsDirError(
        f"cannot write the report under {path}: {what} ({exc.strerror}). Nothing was "
        "published; free space or fix the folder's permissions, or set LGS_REPORTS_DIR to a "
        "writable folder, then run again"
    )


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
    """A fresh hidden directory on the same filesystem as the final version, named after
    this process (so a later run can tell it was left by a killed one).

    Raises
    ------
    ReportsDirError
        If the folder cannot be created (read-only, full, permissions).
    """
    path = period_dir / f".staging-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir(parents=True)
        (path / ".probe").write_bytes(b"lgs")  # a full disk often still allows mkdir
        (path / ".probe").unlink()
    except OSError as exc:
        discard_staging(path, period_dir)
        raise reports_dir_error(exc, path.parent) or exc from None
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_staging(period_dir: Path) -> list[Path]:
    """Remove the staging folders that killed runs left in ``period_dir``; return them.

    A folder is stale when the process named in it is gone (or, for a folder without a
    PID, when it is more than six hours old). Live runs' folders are left alone.
    """
    removed = []
    if not period_dir.is_dir():
        return removed
    for path in period_dir.iterdir():
        match = _STAGING.match(path.name)
        if not match or not path.is_dir():
            continue
        pid = match.group(1)
        stale = (
            not _alive(int(pid))
            if pid
            else time.time() - path.stat().st_mtime > _LEGACY_STAGING_AGE_S
        )
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        logger.info(
            "removed %d staging folder(s) left by killed runs in %s", len(removed), period_dir
        )
    return removed


def discard_staging(staging: Path, period_dir: Path) -> None:
    """Remove a failed run's staging folder, and the period folder if that leaves it empty."""
    shutil.rmtree(staging, ignore_errors=True)
    try:
        period_dir.rmdir()  # only succeeds when empty
    except OSError:
        pass


def _swap_symlink(link: Path, target_name: str) -> None:
    tmp = link.with_name(f".{link.name}-{uuid.uuid4().hex[:8]}")
    tmp.symlink_to(target_name)
    os.replace(tmp, link)


@contextmanager
def exclusive_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory`` itself (created if missing) for the block.

    Waits while another process holds it; the kernel releases it if the holder dies. Locking
    the directory, not a file in it, leaves nothing behind.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish_version(staging: Path, period_dir: Path) -> Path:
    """Rename ``staging`` to the next ``vNNN`` and point ``latest`` at it.

    The rename is atomic. Concurrent publishers of a period take turns under a lock on
    ``period_dir``; should another writer still have taken the number first (an
    older version of this code), the next one is used.
    """
    with exclusive_lock(period_dir):
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
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    target = failed_dir / f"{period_label}-{stamp}.ipynb"
    try:
        failed_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(executed), target)
    except OSError as exc:  # a full disk must not hide the template's own error
        logger.warning("could not keep the failed notebook in %s: %s", failed_dir, exc)
        return executed
    return target
