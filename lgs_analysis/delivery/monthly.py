"""``make monthly``: build the last complete month's report and email it, once.

The period is the last complete calendar month in the warehouse's data unless one
is given. The report is built (an up-to-date version is reused) and emailed unless
a version of that period was already emailed; ``resend`` sends it again and
``dry_run`` writes the message to ``reports/_outbox/`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import get_settings
from ..exceptions import NoDataError
from ..log import logger
from ..periods import Period, last_complete_month, parse_period
from .config import load_delivery_config
from .send import DeliveryResult, send_report

__all__ = ["MonthlyResult", "find_last_complete_month", "run_monthly"]


@dataclass(frozen=True)
class MonthlyResult:
    """What :func:`run_monthly` did: the period, the report version and the delivery."""

    period: Period
    version_dir: Path
    created: bool
    delivery: DeliveryResult

    def summary(self) -> str:
        """Lines for the command line."""
        built = "published" if self.created else "up to date"
        return f"report {self.period}: {built} {self.version_dir}\n{self.delivery.summary()}"


def find_last_complete_month(database_url: str | None = None) -> Period:
    """The last complete calendar month of the warehouse's data.

    Fills an empty warehouse with demo data first, as ``make report`` does.

    Raises
    ------
    NoDataError
        If the warehouse holds no line at all.
    """
    from ..ingest.demo import ensure_data
    from ..warehouse import data_range, ensure_schema, get_engine

    engine = get_engine(database_url or get_settings().database_url)
    try:
        ensure_schema(engine)
        ensure_data(engine)
        with engine.connect() as conn:
            _, last_at, count = data_range(conn)
    finally:
        engine.dispose()  # release the DuckDB file before the report's kernel opens it
    if not count or last_at is None:
        raise NoDataError("the warehouse holds no data: load some with make load SOURCE=...")
    return last_complete_month(last_at)


def run_monthly(
    period: str | None = None, resend: bool = False, dry_run: bool = False
) -> MonthlyResult:
    """Build the month's report (reusing an up-to-date version) and email it once.

    Parameters
    ----------
    period : str, optional
        ``YYYY-MM`` (any accepted period form works); default: the last complete month.
    resend : bool
        Email it even if this period was already emailed (default: False).
    dry_run : bool
        Write the ``.eml`` under ``reports/_outbox/`` instead of sending (default: False).

    Raises
    ------
    ConfigError
        For a bad ``params/delivery.yaml`` or SMTP setting, before the report is built.
    DeliveryError
        If the email cannot be sent; nothing is recorded as sent.
    """
    from ..report.build import build_report

    settings = get_settings()
    config = load_delivery_config(settings.params_dir)  # fail before a long build
    target = parse_period(period) if period else find_last_complete_month(settings.database_url)
    logger.debug("monthly run for %s", target)
    built = build_report(target.label)
    delivery = send_report(
        built.version_dir, resend=resend, dry_run=dry_run, config=config, settings=settings
    )
    return MonthlyResult(target, built.version_dir, built.created, delivery)
