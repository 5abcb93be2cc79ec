"""Build a report: parameters -> papermill -> HTML + PDF -> published version.

``build_report`` is the one entry point behind ``make report``. It checks the
period and parameters before any work, re-uses an up-to-date version, and on
failure publishes nothing and keeps the failed notebook under ``reports/_failed``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import PROJECT_ROOT, get_settings
from ..environment import package_versions
from ..exceptions import (
    MemoryLimitError,
    ParameterError,
    ReportExecutionError,
    ReportsDirError,
)
from ..log import logger
from ..periods import Period, parse_period
from ..warehouse import (
    SQL_DIR,
    data_fingerprint,
    data_range,
    derived_mismatch,
    ensure_schema,
    get_engine,
    refresh_derived,
    run_query,
    schema_is_current,
)
from .kernel import ipc_kernel_manager
from .params import load_params
from .publish import (
    discard_staging,
    keep_failed,
    newest_version,
    own_dir,
    point_latest,
    publish_version,
    remove_stale_staging,
    reports_dir_error,
    staging_dir,
)

__all__ = ["BuildResult", "build_report", "code_version", "prepare_warehouse", "TEMPLATES_DIR"]

TEMPLATES_DIR = PROJECT_ROOT / "notebooks"
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a name, never a path
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the whole lgs_analysis package
# read-only file system, disk full, quota, permission denied
_WRITE_FAILURE = re.compile(r"\[Errno (?:13|28|30|122)\]")


@dataclass(frozen=True)
class BuildResult:
    """The outcome of :func:`build_report`; ``created`` is False when up to date."""

    period: Period
    version_dir: Path
    created: bool
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def html(self) -> Path:
        return self.version_dir / "report.html"

    @property
    def pdf(self) -> Path:
        return self.version_dir / "report.pdf"

    def summary(self) -> str:
        """What happened, where the files are and how long it took (for the terminal)."""
        if not self.created:
            head = f"report {self.period}: up to date ({self.version_dir.name}), nothing to do"
        else:
            seconds = self.timings.get("total_s", 0.0)
            head = f"report {self.period}: published {self.version_dir.name} in {seconds:.1f} s"
        return f"{head}\n  HTML: {self.html}\n  PDF:  {self.pdf}"


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_version() -> str:
    """Package version plus a hash of the package's Python, templates and SQL files."""
    files = [
        *PACKAGE_DIR.rglob("*.py"),
        *PACKAGE_DIR.rglob("*.j2"),
        *PACKAGE_DIR.rglob("*.css"),
        *SQL_DIR.rglob("*.sql"),
    ]
    return f"{__version__}+{_hash_files(files)}"


def _run_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _read_metrics(executed: Path) -> dict[str, Any]:
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook", {})
            if meta.get("name") == "metrics":
                return output["data"]["application/scrapbook.scrap.json+json"]["data"]
    raise ReportExecutionError(f"{executed}: the template glued no 'metrics' scrap")


def _execute(
    template: Path, executed: Path, parameters: dict[str, Any], reports_dir: Path, period: Period
) -> None:
    import papermill as pm

    try:
        pm.execute_notebook(
            str(template),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(PROJECT_ROOT),
            request_save_on_cell_execute=False,
            kernel_manager_class=ipc_kernel_manager(),  # no TCP port race between reports
            # CRITICAL: jupyter_client interrupts a kernel as it shuts it down, and an
            # idle kernel logs that SIGINT at ERROR ("KeyboardInterrupt caught in kernel"),
            # often under load (batches). A cell's error still fails the run.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as exc:
        if _WRITE_FAILURE.search(str(exc.evalue)):  # the kernel could not write its tables
            raise ReportsDirError(
                f"report {period.label}: cannot write under {executed.parent.parent}: "
                f"{exc.evalue}. Nothing was published; free space or fix the folder's "
                "permissions (or set LGS_REPORTS_DIR), then run again"
            ) from None
        if exc.ename == "ParameterError":  # e.g. a min_support past what the mining holds
            raise ParameterError(
                f"report {period.label}: {exc.evalue}. Nothing was published"
            ) from None
        kept = keep_failed(executed, reports_dir, period.label)
        if exc.ename == MemoryLimitError.__name__:  # the kernel's query did not fit
            raise MemoryLimitError(
                f"report {period.label}: {exc.evalue} (the executed notebook is kept at {kept})"
            ) from None
        first_line = exc.source.strip().splitlines()[0] if exc.source.strip() else ""
        raise ReportExecutionError(
            f"report {period.label} failed in cell {exc.cell_index} (`{first_line}`): "
            f"{exc.ename}: {exc.evalue}. Nothing was published; the executed notebook is "
            f"kept at {kept}"
        ) from None


def prepare_warehouse(database_url: str) -> None:
    """Give the warehouse this code's schema, demo data if it is empty, and derived
    tables that match its lines (PostgreSQL, after a hand edit of ``retail``).

    Writes only when needed (checked on a read-only connection), so that reports
    running side by side on a DuckDB file all open it read-only.

    Raises
    ------
    MixedDataError
        When the warehouse holds demo and real lines together.
    """
    from ..ingest.demo import ensure_data

    engine = get_engine(database_url, read_only=True)
    try:
        with engine.connect() as conn:
            ready = schema_is_current(conn)
        if ready:
            with engine.connect() as conn:
                ready = data_range(conn)[2] > 0 and derived_mismatch(conn) is None
    finally:
        engine.dispose()
    if ready:
        return
    engine = get_engine(database_url)
    try:
        ensure_schema(engine)
        ensure_data(engine)
        stale = derived_mismatch(engine)
        if stale:  # retail was edited by hand: the report would read the old parts
            logger.warning("refilling the invoice parts from the lines: %s", stale)
            with engine.begin() as conn:
                refresh_derived(conn)
    finally:
        engine.dispose()  # release the DuckDB file before the read-only opens


def build_report(
    period: str | Period,
    overrides: dict[str, Any] | None = None,
    force: bool = False,
    template: str = "rfm_report",
    update_index: bool = True,
) -> BuildResult:
    """Execute, render and publish the report for ``period``.

    Parameters
    ----------
    period : str
        ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``.
    overrides : dict, optional
        Parameter values from the command line; they win over params/*.yaml.
    force : bool
        Publish a new version even when the latest one is up to date.
    template : str
        Template name in ``notebooks/`` (default: rfm_report).
    update_index : bool (default: True)
        Rewrite ``reports/index.html`` after publishing (a batch writes it once, at
        its end).

    Raises
    ------
    PeriodError, ParameterError
        Before any work, for a bad period or parameter.
    NoDataError
        When the warehouse has no line in the period (names the range it holds).
    ReportExecutionError
        When the template fails; nothing is published.
    """
    from .data import check_period_has_data
    from .index import version_reason, write_index
    from .render import render_html, render_pdf

    settings = get_settings()
    period = parse_period(period)
    params = load_params(period.label, overrides, settings.params_dir)
    if not _TEMPLATE_NAME.match(template):
        raise ParameterError(
            f"template {template!r} must be the name of a notebook in {TEMPLATES_DIR} "
            "(letters, digits, - and _ only)"
        )
    template_path = TEMPLATES_DIR / f"{template}.ipynb"
    if not template_path.exists():
        raise ParameterError(f"no template {template!r} in {TEMPLATES_DIR}")

    timings: dict[str, float] = {}
    started = time.perf_counter()
    prepare_warehouse(settings.database_url)
    engine = get_engine(settings.database_url, read_only=True)  # reports only read
    try:
        with engine.connect() as conn:
            check_period_has_data(conn, period)
            fingerprint = data_fingerprint(conn)
            server = run_query(conn, "warehouse/server_version")["server_version"].iloc[0]
            warehouse = f"{conn.dialect.name} {server}"
    finally:
        engine.dispose()  # release the DuckDB file before the kernel opens it
    timings["prepare_s"] = time.perf_counter() - started

    identity = {
        "period": period.label,
        "template": template,
        "template_hash": _hash_files([template_path]),
        "actions_hash": _hash_files(
            [path for path in [settings.params_dir / "actions.yaml"] if path.exists()]
        ),
        "code_version": code_version(),
        "data_fingerprint": fingerprint,
        "parameters": params,
        # the versions that shape figures, fits and pages: a change makes a new version
        "environment": {**package_versions(), "warehouse": warehouse},
    }
    run_key = _run_key(identity)
    period_dir = own_dir(settings.reports_dir / period.label, settings.reports_dir)
    # the newest version folder itself, never what `latest` points at: a link can be forged
    newest, latest, damage = newest_version(period_dir)
    if latest and latest.get("run_key") == run_key and not force:
        logger.debug("report %s is up to date: %s", period.label, newest)
        point_latest(period_dir, newest)  # repairs a dangling, forged or copied `latest`
        return BuildResult(period, newest, created=False, timings=timings)

    if damage:
        logger.warning("report %s: %s is damaged (%s); building it again", period, newest, damage)
        reason = f"rebuilt: {newest.name} was damaged ({damage})"
    elif latest and latest.get("run_key") == run_key:
        reason = "forced (nothing changed)"
    else:
        reason = version_reason(identity, latest)
    remove_stale_staging(period_dir)
    staging = staging_dir(period_dir)
    try:
        executed = staging / "report.ipynb"
        t = time.perf_counter()
        logger.debug("executing %s for %s", template_path.name, period.label)
        _execute(
            template_path,
            executed,
            {**params, "period": period.label, "output_dir": str(staging)},
            settings.reports_dir,
            period,
        )
        timings["execute_s"] = time.perf_counter() - t
        metrics = _read_metrics(executed)
        read = metrics.get("data_fingerprint")
        if read and read != identity["data_fingerprint"]:
            # a load committed between the check above and the kernel's snapshot: the
            # manifest describes the data the report read, not the data checked before
            logger.info("report %s: the data changed before the report read it", period.label)
            identity["data_fingerprint"] = read
            run_key = _run_key(identity)
            reason = "new data (loaded while the report was starting)"
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))

        import nbformat

        t = time.perf_counter()
        title = f"LGS RFM report {period.label}"
        if metrics.get("is_demo"):
            title += " (demo data)"
        html = render_html(nbformat.read(executed, as_version=4), title)
        (staging / "report.html").write_text(html, encoding="utf-8")
        timings["html_s"] = time.perf_counter() - t
        t = time.perf_counter()
        logger.debug("rendering PDF")
        render_pdf(html, staging / "report.pdf")
        timings["pdf_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - started
        manifest = {
            **identity,
            "run_key": run_key,
            "reason": reason,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "is_demo": bool(metrics.get("is_demo")),
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        version_dir = publish_version(staging, period_dir)
    except OSError as exc:
        discard_staging(staging, period_dir)
        raise reports_dir_error(exc, period_dir) or exc from None
    except BaseException:
        discard_staging(staging, period_dir)
        raise
    if update_index:
        write_index(settings.reports_dir)
    logger.debug("published %s", version_dir)
    return BuildResult(period, version_dir, created=True, timings=timings)
