"""Many periods in one command: ``make reports PERIODS="2011-01..2011-12"``.

``build_reports`` expands the list, gives the warehouse its schema once (the only
write), then builds the periods in worker processes, ``jobs`` at a time (one per core
by default). Each worker runs :func:`build_report` as ``make report`` would, so a period
that is up to date is skipped, and on DuckDB every worker opens the file read-only,
side by side. A failed period does not stop the others; the index is written once, at
the end, and the failures are named together. Workers die with the batch process, however
it ends (even ``kill -9``): none goes on building or publishing on its own.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import get_settings
from ..escape import terminal_text
from ..exceptions import BatchError, LgsError
from ..log import logger
from ..periods import Period, expand_periods
from ..progress import Progress
from .build import build_report, prepare_warehouse

__all__ = ["PeriodOutcome", "BatchResult", "build_reports", "cap_jobs", "default_jobs"]


@dataclass(frozen=True)
class PeriodOutcome:
    """What one period of a batch did: ``published``, ``up to date`` or ``failed``."""

    period: str
    state: str
    version_dir: Path | None = None
    seconds: float = 0.0
    message: str = ""
    exit_code: int = 0

    def line(self) -> str:
        """One line for the terminal."""
        if self.state == "failed":
            return f"  {self.period}: FAILED (exit {self.exit_code}): {terminal_text(self.message)}"
        where = self.version_dir.name if self.version_dir else ""
        if self.state == "up to date":
            return f"  {self.period}: up to date ({where})"
        return f"  {self.period}: published {where} in {self.seconds:.1f} s"


@dataclass(frozen=True)
class BatchResult:
    """The outcomes of a batch, in the order the periods were given."""

    outcomes: list[PeriodOutcome]
    seconds: float
    jobs: int
    index: Path | None

    @property
    def failed(self) -> list[PeriodOutcome]:
        return [o for o in self.outcomes if o.state == "failed"]

    def summary(self) -> str:
        """Counts, then one line per period."""
        counts = {
            state: sum(o.state == state for o in self.outcomes)
            for state in ("published", "up to date", "failed")
        }
        head = (
            f"reports: {len(self.outcomes)} periods in {self.seconds:.1f} s with "
            f"{self.jobs} worker{'s' if self.jobs != 1 else ''}: {counts['published']} "
            f"published, {counts['up to date']} up to date, {counts['failed']} failed"
        )
        lines = [head, *(o.line() for o in self.outcomes)]
        if self.index is not None:
            lines.append(f"  index: {self.index}")
        return "\n".join(lines)


# what one worker may hold: the worker and its report kernel on the real data's year
# (measured about 0.5 GB together), with room for a larger shop's per-customer tables
WORKER_BYTES = 1024**3


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cap_jobs(requested: int | None, periods: int, memory_limit: int) -> tuple[int, str]:
    """The workers a batch starts, and why fewer than ``requested`` (``""`` if not).

    Never more than the cores, than ``LGS_MEMORY_LIMIT`` holds at :data:`WORKER_BYTES`
    each (at least one), or than the periods. ``requested`` None means one per core.
    """
    cores = default_jobs()
    by_memory = max(1, memory_limit // WORKER_BYTES)
    wanted = requested or cores
    jobs = max(1, min(wanted, cores, by_memory, periods))
    if jobs >= min(wanted, periods):
        return jobs, ""
    reasons = []
    if wanted > cores:
        reasons.append(f"{cores} core{'s' if cores != 1 else ''}")
    if wanted > by_memory:
        reasons.append(
            f"LGS_MEMORY_LIMIT={memory_limit / 1024**3:.1f} GB holds {by_memory} "
            f"worker{'s' if by_memory != 1 else ''} of {WORKER_BYTES / 1024**3:.0f} GB"
        )
    asked = f"JOBS={requested}" if requested else f"one worker per core ({cores})"
    return jobs, f"{asked} capped to {jobs} worker{'s' if jobs != 1 else ''}: {', '.join(reasons)}"


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_S = 1.0


def _watch_parent(parent_pid: int) -> None:
    """Exit this process once its parent is gone (where the kernel cannot signal it)."""
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the process that started it ends.

    On Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``),
    even after ``kill -9``; elsewhere a daemon thread polls the parent. A worker whose
    parent died before this ran exits at once. A killed worker's staging folder is
    removed by the next run of its period; its report kernel notices its parent is
    gone and ends itself (ipykernel's parent poller).
    """
    armed = False
    if os.uname().sysname == "Linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def _build_one(
    label: str, overrides: dict[str, Any] | None, force: bool, template: str
) -> PeriodOutcome:
    """Build one period in a worker; every failure comes back as an outcome."""
    started = time.perf_counter()
    try:
        result = build_report(
            label, overrides=overrides, force=force, template=template, update_index=False
        )
    except LgsError as exc:
        return PeriodOutcome(label, "failed", message=str(exc), exit_code=exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug in one period must not sink the others
        return PeriodOutcome(label, "failed", message=f"{type(exc).__name__}: {exc}", exit_code=1)
    state = "published" if result.created else "up to date"
    return PeriodOutcome(label, state, result.version_dir, time.perf_counter() - started)


def build_reports(
    periods: str | list[Period],
    overrides: dict[str, Any] | None = None,
    force: bool = False,
    template: str = "rfm_report",
    jobs: int | None = None,
    progress: bool = True,
) -> BatchResult:
    """Build the report of every period, ``jobs`` at a time.

    Parameters
    ----------
    periods : str or list of Period
        As :func:`lgs_analysis.periods.expand_periods` takes them:
        ``"2011-01..2011-12"``, ``"2011-Q1 2011-Q2"``, ``"2011-*"``.
    overrides, force, template
        As for :func:`build_report`, for every period.
    jobs : int, optional
        Worker processes (default: one per core); never more than the cores, the
        periods or ``LGS_MEMORY_LIMIT`` holds (:func:`cap_jobs`, which a warning names).
    progress : bool (default: True)
        Show reports done out of total with the time left.

    Returns
    -------
    BatchResult
        One outcome per period, in the order given.

    Raises
    ------
    PeriodError
        Before any work, for a bad list.
    BatchError
        After every period ran, if any failed; it names each failure.
    """
    from .index import write_index

    chosen = expand_periods(periods) if isinstance(periods, str) else list(periods)
    labels = [p.label for p in chosen]
    settings = get_settings()
    jobs, capped = cap_jobs(jobs, len(labels), settings.memory_limit)
    if capped:
        logger.warning("%s", capped)
    started = time.perf_counter()
    prepare_warehouse(settings.database_url)  # the batch's only write, before the workers
    outcomes: dict[str, PeriodOutcome] = {}
    with Progress("reports", total=len(labels), unit="reports", enabled=progress) as shown:
        if jobs == 1:
            for label in labels:
                outcomes[label] = _build_one(label, overrides, force, template)
                shown.update(1)
        else:
            # spawn: a clean interpreter per worker (no forked threads or open files)
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=context,
                initializer=die_with_parent,  # none outlives the batch, even after kill -9
                initargs=(os.getpid(),),
            ) as pool:
                pending: dict[Future, str] = {
                    pool.submit(_build_one, label, overrides, force, template): label
                    for label in labels
                }
                try:
                    while pending:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            label = pending.pop(future)
                            try:
                                outcomes[label] = future.result()
                            except Exception as exc:  # noqa: BLE001 - a worker died
                                outcomes[label] = PeriodOutcome(
                                    label,
                                    "failed",
                                    message=f"the worker died: {type(exc).__name__}: {exc}",
                                    exit_code=1,
                                )
                            shown.update(1)
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    ordered = [outcomes[label] for label in labels]
    index = None
    if (
        any(o.state == "published" for o in ordered)
        or not (settings.reports_dir / "index.html").exists()
    ):
        index = write_index(settings.reports_dir)
    result = BatchResult(ordered, time.perf_counter() - started, jobs, index)
    if result.failed:
        codes = {o.exit_code for o in result.failed}
        raise BatchError(
            f"{len(result.failed)} of {len(ordered)} periods failed "
            f"({', '.join(o.period for o in result.failed)}):\n{result.summary()}",
            exit_code=codes.pop() if len(codes) == 1 else 1,
        )
    return result
