"""The ledger of campaigns that went out: ``make campaign`` and ``make campaigns-status``.

Recording a campaign writes the published version's lists of a segment, its targets and
its held-out customers both, into the warehouse tables ``campaigns`` and
``campaign_members``, in one transaction (on Spark: Parquet committed like a load). Later
reports read them out (:mod:`lgs_analysis.analyses.readout`).

A campaign is one segment's list of one period: its id is ``<period>/<segment>``.
Recording the same version on the same day again changes nothing; another version (or
another day) of a recorded campaign is refused unless ``replace``. Campaign writes take
turns (DuckDB's file, Spark's write lock, a PostgreSQL advisory lock), and the ledger is
read inside the writing transaction, so two runs at once record once.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..analyses.readout import fetch_campaign_ledger
from ..config import get_settings
from ..exceptions import CampaignError
from ..formatting import format_date
from ..log import logger
from ..periods import Period, parse_period
from ..warehouse import (
    SparkConnection,
    bulk_insert,
    data_range,
    ensure_schema,
    execute_sql_file,
    get_engine,
    run_query,
)
from .publish import newest_version, own_file

__all__ = [
    "RecordResult",
    "record_campaigns",
    "campaign_status",
    "format_campaign_status",
    "parse_segments",
    "latest_version",
    "sent_on",
]

# a test holds a run inside its transaction this long, to kill it there
_TEST_DELAY_ENV = "LGS_CAMPAIGN_TEST_DELAY_SECONDS"


@dataclass(frozen=True)
class RecordResult:
    """What :func:`record_campaigns` did, one line per segment."""

    period: Period
    version: str
    issued_on: date
    lines: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the command line."""
        return "\n".join(self.lines)


def latest_version(period: Period, reports_dir: Path | None = None) -> Path:
    """The newest published version of ``period``.

    Raises
    ------
    CampaignError
        When the period has no published report.
    """
    period_dir = (reports_dir or get_settings().reports_dir) / period.label
    newest, _, problem = newest_version(period_dir)
    if newest is None:
        raise CampaignError(
            f"no published report for {period.label} in {period_dir.parent}: build it first "
            f"with make report PERIOD={period.label}; nothing was recorded"
        )
    if problem:  # its lists cannot be trusted to be the ones that went out
        raise CampaignError(
            f"the newest report of {period.label} ({newest.name}) is damaged: {problem}. "
            f"Rebuild it with make report PERIOD={period.label}; nothing was recorded"
        )
    return newest


def parse_segments(text: str | None) -> list[str] | None:
    """``"At Risk,Can't Lose"`` -> ``["At Risk", "Can't Lose"]``; None or blank -> None."""
    if text is None or not text.strip():
        return None
    names = [name.strip() for name in text.split(",")]
    return [name for name in dict.fromkeys(names) if name]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CampaignError(f"{path} cannot be read ({exc}): not a published version") from None


def _issue_date(on: str | date | None, period: Period, last_day: date | None) -> date:
    if on is None or (isinstance(on, str) and not on.strip()):
        issued = period.end
    elif isinstance(on, date):
        issued = on
    else:
        try:
            issued = date.fromisoformat(on.strip())
        except ValueError:
            raise CampaignError(
                f"issue date {on!r} is not a date: write it as YYYY-MM-DD, e.g. ON=2011-10-03"
            ) from None
    if issued < period.end:
        raise CampaignError(
            f"issue date {issued} is before the end of {period.label} ({period.end}): a "
            "period's lists exist only once it has ended"
        )
    if last_day is not None and issued > last_day + timedelta(days=365):
        raise CampaignError(
            f"issue date {issued} is more than a year after the data's end "
            f"({format_date(last_day)}): no report could ever read it out"
        )
    return issued


def _members(version_dir: Path, action: dict[str, Any]) -> pd.DataFrame:
    """The customers of one segment's published lists: targets, then held out."""
    frames = []
    for key, group in (("list_file", "target"), ("holdout_file", "holdout")):
        listed = str(action.get(key) or "")
        path = version_dir / "tables" / Path(listed).name
        # metrics.json may have been edited: only a list file of the version's own tables
        if listed != f"tables/{path.name}" or not own_file(path, version_dir / "tables"):
            raise CampaignError(f"{path}: the list of {action['segment']!r} is missing")
        ids = pd.read_csv(path, usecols=["customer_id"], dtype={"customer_id": "int64"})
        frames.append(ids.assign(member_group=group))
    members = pd.concat(frames, ignore_index=True)
    if members["customer_id"].duplicated().any():
        raise CampaignError(f"{version_dir}: a customer of {action['segment']!r} is listed twice")
    return members.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _new_batch_id(conn: Any) -> int:
    if isinstance(conn, SparkConnection):
        return conn.next_batch_id()
    return int(run_query(conn, "report/next_batch_id")["batch_id"].iloc[0])


def _remove(conn: Any, campaign_id: str, batch_id: int) -> None:
    if isinstance(conn, SparkConnection):
        conn.drop_dirs("campaigns", {batch_id})
        conn.drop_dirs("campaign_members", {batch_id})
    else:
        execute_sql_file(conn, "report/campaign_delete", campaign_id=campaign_id)


def _insert(conn: Any, row: dict[str, Any], members: pd.DataFrame) -> None:
    batch_id = row["batch_id"]
    bulk_insert(
        conn,
        "campaigns",
        pa.table(
            {
                "campaign_id": pa.array([row["campaign_id"]], pa.string()),
                "period": pa.array([row["period"]], pa.string()),
                "segment": pa.array([row["segment"]], pa.string()),
                "report_version": pa.array([row["report_version"]], pa.string()),
                "issued_on": pa.array([row["issued_on"]], pa.date32()),
                "window_days": pa.array([row["window_days"]], pa.int32()),
                "window_end": pa.array([row["window_end"]], pa.date32()),
                "holdout_share": pa.array([row["holdout_share"]], pa.float64()),
                "salt": pa.array([row["salt"]], pa.string()),
                "recorded_at": pa.array([row["recorded_at"]], pa.timestamp("us")),
                "batch_id": pa.array([batch_id], pa.int32()),
            }
        ),
    )
    n = len(members)
    bulk_insert(
        conn,
        "campaign_members",
        pa.table(
            {
                "campaign_id": pa.array([row["campaign_id"]] * n, pa.string()),
                "customer_id": pa.array(members["customer_id"].to_numpy(), pa.int32()),
                "member_group": pa.array(members["member_group"].to_numpy(), pa.string()),
                "batch_id": pa.array([batch_id] * n, pa.int32()),
            }
        ),
    )


def record_campaigns(
    period: str | Period,
    segments: list[str] | None = None,
    on: str | date | None = None,
    replace: bool = False,
    version_dir: Path | None = None,
    database_url: str | None = None,
) -> RecordResult:
    """Record a published version's lists as campaigns that went out.

    Parameters
    ----------
    period : str or Period
        The report period whose lists went out (``2011-09``).
    segments : list of str, optional
        Default: the segments marked ``email_list`` in the version's actions.
    on : str or date, optional
        The issue date, ``YYYY-MM-DD`` (default: the day after the period ends). Not
        before that day, nor more than a year after the data's last day.
    replace : bool (default: False)
        Replace a campaign recorded from another version (or on another day).
    version_dir : Path, optional
        The version whose lists went out (default: the period's latest).
    database_url : str, optional
        Default: ``LGS_DATABASE_URL``.

    Raises
    ------
    CampaignError
        For a period without a published report, an unknown segment, a date out of
        range, or a campaign recorded from another version; nothing is recorded.
    """
    period = parse_period(period)
    version_dir = Path(version_dir) if version_dir else latest_version(period)
    metrics = _read_json(version_dir / "metrics.json")
    manifest = _read_json(version_dir / "manifest.json")
    params = manifest.get("parameters") or {}
    if "holdout" not in metrics or "holdout_salt" not in params:
        raise CampaignError(
            f"{period.label}/{version_dir.name} was published before lists kept a holdout: "
            f"build a new version with make report PERIOD={period.label} FORCE=1"
        )
    actions = {a["segment"]: a for a in metrics.get("actions") or []}
    wanted = segments or [name for name, a in actions.items() if a.get("email_list")]
    unknown = [name for name in wanted if name not in actions]
    if unknown:
        raise CampaignError(
            f"unknown segment {unknown[0]!r} in {period.label}/{version_dir.name}; its "
            f"segments: {', '.join(actions)}"
        )
    empty = [name for name in wanted if not actions[name].get("customers")]
    if empty:
        raise CampaignError(f"segment {empty[0]!r} has no customers in {period.label}")
    lists = {name: _members(version_dir, actions[name]) for name in wanted}

    url = database_url or get_settings().database_url
    engine = get_engine(url)
    try:
        ensure_schema(engine)
        with engine.connect() as conn:
            first_at, last_at, count = data_range(conn)
        last_day = pd.Timestamp(last_at).date() if count else None
        issued = _issue_date(on, period, last_day)
        window_days = int(params.get("response_window_days", 30))
        result = RecordResult(period, version_dir.name, issued)
        with engine.begin() as conn:
            execute_sql_file(conn, "report/campaign_lock")  # PostgreSQL: an advisory lock
            ledger = fetch_campaign_ledger(conn).set_index("campaign_id")
            for segment in wanted:
                campaign_id = f"{period.label}/{segment}"
                members = lists[segment]
                counts = members["member_group"].value_counts()
                what = (
                    f"{campaign_id} ({version_dir.name}, issued {format_date(issued)}, "
                    f"{window_days}-day window): {int(counts.get('target', 0)):,} targeted, "
                    f"{int(counts.get('holdout', 0)):,} held out"
                )
                if campaign_id in ledger.index:
                    old = ledger.loc[campaign_id]
                    if old["report_version"] == version_dir.name and old["issued_on"] == issued:
                        result.lines.append(f"already recorded: {what}; nothing changed")
                        continue
                    if not replace:
                        raise CampaignError(
                            f"{campaign_id} is already recorded from {old['report_version']}, "
                            f"issued {format_date(old['issued_on'])}; recording "
                            f"{version_dir.name} issued {format_date(issued)} instead needs "
                            "REPLACE=1. Nothing was recorded"
                        )
                    _remove(conn, campaign_id, int(old["batch_id"]))
                    what += f" (replaces {old['report_version']})"
                row = {
                    "campaign_id": campaign_id,
                    "period": period.label,
                    "segment": segment,
                    "report_version": version_dir.name,
                    "issued_on": issued,
                    "window_days": window_days,
                    "window_end": issued + timedelta(days=window_days),
                    "holdout_share": float(params["holdout_share"]),
                    "salt": str(params["holdout_salt"]),
                    "recorded_at": datetime.now(UTC).replace(tzinfo=None),
                    "batch_id": _new_batch_id(conn),
                }
                _insert(conn, row, members)
                result.lines.append(f"recorded {what}")
                result.recorded.append(campaign_id)
            if result.recorded and os.environ.get(_TEST_DELAY_ENV):
                logger.warning("campaign rows written; committing after a test delay")
                time.sleep(float(os.environ[_TEST_DELAY_ENV]))
    finally:
        engine.dispose()
    return result


def sent_on(period: str | Period, database_url: str | None = None) -> date | None:
    """The issue date of lists emailed today: today (UTC), unless that is before the
    period's end or more than a year after the data's end (replaying old data), when it is
    None (the default: the day after the period ends)."""
    period = parse_period(period)
    today = datetime.now(UTC).date()
    engine = get_engine(database_url or get_settings().database_url, read_only=True)
    try:
        with engine.connect() as conn:
            _, last_at, count = data_range(conn)
    finally:
        engine.dispose()
    if not count or today < period.end:
        return None
    return today if today <= pd.Timestamp(last_at).date() + timedelta(days=365) else None


def campaign_status(database_url: str | None = None) -> tuple[pd.DataFrame, date | None]:
    """Every recorded campaign with its status against the warehouse's data.

    Returns
    -------
    (DataFrame, date or None)
        The ledger (:data:`~lgs_analysis.analyses.readout.LEDGER_COLUMNS`) plus ``status``
        ("measurable", "in progress, N days left" or "not started in the data"), and the
        data's last day.
    """
    engine = get_engine(database_url or get_settings().database_url, read_only=True)
    try:
        with engine.connect() as conn:
            ledger = fetch_campaign_ledger(conn)
            _, last_at, count = data_range(conn)
    finally:
        engine.dispose()
    last_day = pd.Timestamp(last_at).date() if count else None
    cutoff = last_day + timedelta(days=1) if last_day else None
    statuses = []
    for row in ledger.itertuples():
        if cutoff is None or row.issued_on >= cutoff:
            statuses.append("not started in the data")
        elif row.window_end <= cutoff:
            statuses.append("measurable")
        else:
            statuses.append(f"in progress, {(row.window_end - cutoff).days} days left")
    return ledger.assign(status=statuses), last_day


def format_campaign_status(ledger: pd.DataFrame, last_day: date | None) -> str:
    """The ledger as lines for the terminal."""
    if ledger.empty:
        return (
            "no campaign recorded yet: make campaign PERIOD=YYYY-MM records a published "
            "report's lists as sent"
        )
    through = f"data through {format_date(last_day)}" if last_day else "no data"
    lines = [f"{len(ledger):,} campaigns ({through}):"]
    for row in ledger.itertuples():
        last = row.window_end - timedelta(days=1)
        lines.append(
            f"  {row.campaign_id}  {row.report_version}  issued {format_date(row.issued_on)}, "
            f"window to {format_date(last)} ({row.window_days} days), {row.targeted:,} "
            f"targeted, {row.held_out:,} held out ({row.holdout_share:.0%}, salt "
            f"{row.salt}): {row.status}"
        )
    return "\n".join(lines)
