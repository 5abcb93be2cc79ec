"""Versioned, atomic publishing under ``reports/<period>/vNNN/``.

A version is built in a hidden staging directory beside its final place and
renamed into place in one step, so a reader never sees half a report. Versions
are immutable; ``latest`` is a symlink swapped atomically. Runs of the same period
at once take their numbers in turn, under an exclusive lock on the
``<period>`` directory, so each gets its own number and ``latest`` ends on the
highest.

Files on disk are state anyone with access to the folder may have changed, so nothing
here trusts them: versions are found from the version folders themselves (real folders
named ``vNNN``, never through ``latest`` or any other link), a version whose files are
missing, links or unreadable is *damaged* (:func:`version_problem`) and is rebuilt,
and every folder written to is a real folder inside the reports folder
(:func:`own_dir`), so that no link can lead a read or a write outside it.
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
    "REQUIRED_FILES",
    "read_json_object",
    "own_file",
    "own_dir",
    "version_problem",
    "newest_version",
    "point_latest",
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


# what a reader of a version opens: the index, make monthly, the email
REQUIRED_FILES = ("manifest.json", "metrics.json", "report.html", "report.pdf")


def read_json_object(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(data, None)`` for a file holding one JSON object, else ``(None, what is wrong)``.

    Never raises: a missing, unreadable, truncated or wrong-shaped file is described.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{Path(path).name} is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{Path(path).name} cannot be read ({exc})"
    except json.JSONDecodeError as exc:
        return None, f"{Path(path).name} is not valid JSON ({exc.msg}, line {exc.lineno})"
    except RecursionError:
        return None, f"{Path(path).name} is nested too deeply"
    if not isinstance(data, dict):
        return None, f"{Path(path).name} holds a {type(data).__name__}, not an object"
    return data, None


def own_file(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a regular file inside ``folder``, reached without any link."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return path.resolve(strict=True).is_relative_to(Path(folder).resolve(strict=True))
    except (OSError, RuntimeError):  # a loop of links, a vanished file
        return False


def own_dir(path: Path, root: Path) -> Path:
    """Make ``path`` (inside ``root``) a real folder, created if missing, and return it.

    A link on the way (``reports/<period>`` or its ``deliveries`` pointing elsewhere) is
    removed with a warning, never followed: only the link goes, its target is left
    alone, and the folder is made afresh inside ``root``.

    Raises
    ------
    ReportsDirError
        If ``path`` is not inside ``root``, a part of it is a file, or it cannot be made.
    """
    path, root = Path(path), Path(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise ReportsDirError(f"{path} is not inside the reports folder {root}") from None
    current = root
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in parts:
            current = current / part
            if current.is_symlink():
                target = os.readlink(current)
                current.unlink()
                logger.warning(
                    "%s was a link to %s: removed the link (reports are only kept inside %s)",
                    current,
                    target,
                    root,
                )
            current.mkdir(exist_ok=True)
    except FileExistsError:
        raise ReportsDirError(
            f"cannot write under {current}: it is a file, not a folder; move it away"
        ) from None
    except OSError as exc:
        raise reports_dir_error(exc, current) or exc from None
    return path


def list_versions(period_dir: Path) -> list[Path]:
    """Published version folders of a period, oldest first: real folders named ``vNNN``
    (a link named like a version is not one)."""
    if Path(period_dir).is_symlink() or not Path(period_dir).is_dir():
        return []
    found = [
        p
        for p in period_dir.iterdir()
        if _VERSION.match(p.name) and not p.is_symlink() and p.is_dir()
    ]
    return sorted(found, key=lambda p: int(_VERSION.match(p.name).group(1)))


def version_problem(version_dir: Path) -> str | None:
    """Why a published version cannot be used as it is, or None when it is whole.

    A version is damaged when one of :data:`REQUIRED_FILES` is missing, empty, a link or
    not a regular file, or when its manifest or metrics are not a JSON object.
    """
    version_dir = Path(version_dir)
    if version_dir.is_symlink() or not version_dir.is_dir():
        return f"{version_dir.name} is not a folder of this period"
    for name in REQUIRED_FILES:
        path = version_dir / name
        if not path.exists() and not path.is_symlink():
            return f"{name} is missing"
        if not own_file(path, version_dir):
            return f"{name} is not a regular file of the version (a link or a folder)"
        if path.stat().st_size == 0:
            return f"{name} is empty"
        if name.endswith(".json"):
            _, problem = read_json_object(path)
            if problem:
                return problem
    return None


def newest_version(period_dir: Path) -> tuple[Path | None, dict[str, Any] | None, str | None]:
    """The newest version folder of a period with its manifest, or what damaged it.

    Returns
    -------
    (version folder or None, manifest or None, problem or None)
        ``(None, None, None)`` when the period has no version yet.
    """
    versions = list_versions(Path(period_dir))
    if not versions:
        return None, None, None
    newest = versions[-1]
    problem = version_problem(newest)
    if problem:
        return newest, None, problem
    manifest, _ = read_json_object(newest / "manifest.json")
    return newest, manifest, None


def latest_manifest(period_dir: Path) -> dict[str, Any] | None:
    """The manifest of the newest published version, or None (none, or damaged)."""
    return newest_version(period_dir)[1]


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
    try:
        tmp.symlink_to(target_name)
        os.replace(tmp, link)
    finally:
        if tmp.is_symlink():  # the swap failed: leave nothing behind
            tmp.unlink()


def _point_latest_locked(period_dir: Path, version_name: str) -> None:
    link = period_dir / "latest"
    if link.is_symlink():
        target = os.readlink(link)
        if target == version_name:
            return
        if _VERSION.match(target) is None:
            logger.warning("%s pointed at %s, not a version of the period", link, target)
        elif not (period_dir / target).is_dir():
            logger.warning("%s pointed at %s, which is missing", link, target)
    elif link.exists():  # a real folder or file, e.g. after cp -rL: not ours to follow
        aside = (
            period_dir / f".latest-replaced-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        )
        os.rename(link, aside)
        logger.warning(
            "%s was a real %s, not a link; moved it to %s",
            link,
            "folder" if aside.is_dir() else "file",
            aside.name,
        )
    _swap_symlink(link, version_name)


def point_latest(period_dir: Path, version_dir: Path) -> None:
    """Point ``<period>/latest`` at ``version_dir`` (a version folder of that period).

    ``latest`` is a convenience for people and links: the code never reads through it. A
    dangling, forged or replaced ``latest`` is repaired with a warning; a failure to do so
    is a warning too, never a failed run.
    """
    try:
        with exclusive_lock(period_dir):
            _point_latest_locked(Path(period_dir), Path(version_dir).name)
    except OSError as exc:
        logger.warning("could not point %s/latest at %s: %s", period_dir, version_dir.name, exc)


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
    # every name that looks like a version is taken, a link or a file planted there too
    taken = [int(m.group(1)) for p in period_dir.iterdir() if (m := _VERSION.match(p.name))]
    number = max(taken, default=0) + 1
    while True:
        target = period_dir / f"v{number:03d}"
        try:
            os.rename(staging, target)  # fails if target exists and is not empty
        except OSError:
            if target.exists() or target.is_symlink():
                number += 1
                continue
            raise
        try:
            _point_latest_locked(period_dir, target.name)
        except OSError as exc:  # the version is published; latest is only a pointer
            logger.warning("published %s but could not point latest at it: %s", target, exc)
        return target


def keep_failed(executed: Path, reports_dir: Path, period_label: str) -> Path:
    """Move a failed executed notebook to ``reports/_failed/`` and return its new path."""
    failed_dir = reports_dir / "_failed"
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    target = failed_dir / f"{period_label}-{stamp}.ipynb"
    try:
        own_dir(failed_dir, reports_dir)
        shutil.move(str(executed), target)
    except (OSError, ReportsDirError) as exc:  # a full disk must not hide the template's error
        logger.warning("could not keep the failed notebook in %s: %s", failed_dir, exc)
        return executed
    return target
