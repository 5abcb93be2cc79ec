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

__all__ = ["MonthlyResult", "find_last_complete_month", "run_monthly", "record_sent_lists"]


@dataclass(frozen=True)
class MonthlyResult:
    """What :func:`run_monthly` did: the period, the report version and the delivery."""

    period: Period
    version_dir: Path
    created: bool
    delivery: DeliveryResult
    campaigns: str = ""

    def summary(self) -> str:
        """Lines for the command line."""
        built = "published" if self.created else "up to date"
        text = f"report {self.period}: {built} {self.version_dir}\n{self.delivery.summary()}"
        return text + (f"\n{self.campaigns}" if self.campaigns else "")


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
    campaigns = ""
    if delivery.status == "sent" and config.attach_campaign_csvs:
        campaigns = record_sent_lists(built.version_dir, settings.database_url)
    return MonthlyResult(target, built.version_dir, built.created, delivery, campaigns)


def record_sent_lists(version_dir: Path, database_url: str | None = None) -> str:
    """Record the campaign lists an accepted email attached (``make monthly``); returns what
    happened, in words. A refusal (another version already recorded) does not undo the
    email: it is logged with what to do."""
    from ..exceptions import CampaignError
    from ..report.ledger import record_campaigns, sent_on
    from .message import attached_segments

    version_dir = Path(version_dir)
    period = version_dir.parent.name
    segments = attached_segments(version_dir)
    if not segments:
        return ""
    try:
        result = record_campaigns(
            period,
            segments=segments,
            on=sent_on(period, database_url),
            version_dir=version_dir,
            database_url=database_url,
        )
    except CampaignError as exc:
        logger.warning("the emailed lists were not recorded as campaigns: %s", exc)
        return (
            f"campaign lists not recorded: {exc} (record them with make campaign "
            f"PERIOD={period} REPLACE=1 if this version's lists are the ones that count)"
        )
    return result.summary()
