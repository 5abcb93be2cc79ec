"""Email delivery of a published report, exactly once per period.

Deliveries are recorded beside the immutable versions, never inside them:
``reports/<period>/deliveries/vNNN.json`` lists each accepted send (recipients,
Message-ID, time). A send is recorded only after the SMTP server accepted the
message. Transient SMTP failures (connection refused or dropped, 4xx) are retried
with backoff; permanent ones (authentication, a rejected recipient) raise
:class:`~lgs_analysis.exceptions.DeliveryError` at once. All recipients are accepted
before the message is transmitted, or nobody gets it.

While a send is under way, ``deliveries/pending.json`` names it; a run killed in that
window leaves it behind, and so does a send whose outcome is unknown (the server got
the whole message but its reply never came: ``"status": "unknown"``, never retried).
The next run refuses to send (the message may have gone out) until it is told
``resend``. A per-period lock stops two runs sending at once.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

from ..config import Settings, get_settings
from ..exceptions import ConfigError, DeliveryError
from ..log import logger
from ..report.delivery_log import (
    pending_path,
    period_deliveries,
    period_lock,
    read_pending,
    record_delivery,
    write_json_atomic,
)
from .config import DeliveryConfig, load_delivery_config
from .smtp import OutcomeUnknown, send_message, server_name

__all__ = ["DeliveryResult", "send_report", "write_eml"]


@dataclass(frozen=True)
class DeliveryResult:
    """What :func:`send_report` did: ``status`` is "sent", "skipped" or "dry-run"."""

    version_dir: Path
    status: str
    recipients: list[str] = field(default_factory=list)
    message_id: str | None = None
    subject: str | None = None
    eml_path: Path | None = None
    record_path: Path | None = None
    attempts: int = 0
    earlier: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def summary(self) -> str:
        """One or two lines for the command line."""
        if self.status == "sent":
            return (
                f"emailed {self.version_dir.parent.name}/{self.version_dir.name} to "
                f"{', '.join(self.recipients)} (Message-ID {self.message_id})"
            )
        if self.status == "dry-run":
            line = f"dry run: nothing sent; the message is in {self.eml_path}"
            if self.earlier:
                line += "\n" + _already(self.earlier)
            return line
        return _already(self.earlier) + "; nothing sent (RESEND=1 sends it again)"


def _already(earlier: list[tuple[str, dict[str, Any]]]) -> str:
    version, last = earlier[-1]
    return (
        f"{version} was already emailed on {last.get('sent_at')} to "
        f"{', '.join(last.get('recipients', []))}"
    )


def write_eml(message: EmailMessage, outbox: Path, stem: str) -> Path:
    """Write ``message`` as ``<outbox>/<stem>-<UTC time>.eml`` and return the path."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{stem}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:4]}.eml"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(message.as_bytes(policy=SMTP_POLICY))
    os.replace(tmp, path)
    return path


def _revision_note(version: str, earlier: list[tuple[str, dict[str, Any]]]) -> str:
    previous = [(v, e) for v, e in earlier if v != version]
    if not previous:
        return ""
    v, entry = previous[-1]
    return (
        f"This is version {version} of the report; it replaces {v}, "
        f"emailed on {str(entry.get('sent_at', ''))[:10]}."
    )


def send_report(
    version_dir: Path,
    resend: bool = False,
    dry_run: bool = False,
    config: DeliveryConfig | None = None,
    settings: Settings | None = None,
) -> DeliveryResult:
    """Email a published report version, at most once per period unless ``resend``.

    Parameters
    ----------
    version_dir : Path
        ``reports/<period>/vNNN``.
    resend : bool
        Send even if a version of this period was already emailed (default: False).
    dry_run : bool
        Write the message to ``reports/_outbox/*.eml`` instead of sending (default: False).
    config : DeliveryConfig, optional
        Default: :func:`load_delivery_config`.
    settings : Settings, optional
        SMTP settings; default: :func:`~lgs_analysis.config.get_settings`.

    Returns
    -------
    DeliveryResult

    Raises
    ------
    DeliveryError
        If sending fails; nothing is recorded then.
    ConfigError
        For a bad ``params/delivery.yaml`` or SMTP setting.
    """
    from .message import build_message

    settings = settings or get_settings()
    config = config or load_delivery_config(settings.params_dir)
    version_dir = Path(version_dir).resolve()
    period_dir, reports_dir = version_dir.parent, version_dir.parent.parent
    with period_lock(period_dir):
        earlier = period_deliveries(period_dir)
        pending = read_pending(period_dir)
        if pending and not resend and not dry_run:
            what = (
                "the SMTP server got the whole message but never confirmed it"
                if pending.get("status") == "unknown"
                else "an earlier run stopped while emailing it"
            )
            raise DeliveryError(
                f"not sending {period_dir.name} again: {what} ({pending.get('version')}, "
                f"Message-ID {pending.get('message_id')}, started {pending.get('started_at')}), "
                "so it may have been delivered. Check the recipients' mailboxes, then run "
                "again with RESEND=1 if it did not arrive"
            )
        if earlier and not resend and not dry_run:
            logger.info("%s", _already(earlier))
            return DeliveryResult(version_dir, "skipped", earlier=earlier)
        message = build_message(
            version_dir,
            sender=config.sender,
            recipients=config.recipients,
            subject_template=config.subject,
            attach_csvs=config.attach_campaign_csvs,
            note=_revision_note(version_dir.name, earlier),
        )
        common = {
            "recipients": list(config.recipients),
            "message_id": message["Message-ID"],
            "subject": message["Subject"],
            "earlier": earlier,
        }
        if dry_run:
            stem = f"{period_dir.name}-{version_dir.name}"
            path = write_eml(message, reports_dir / "_outbox", stem)
            return DeliveryResult(version_dir, "dry-run", eml_path=path, **common)
        logger.info(
            "emailing %s to %s via %s", version_dir.name, config.recipients, server_name(settings)
        )
        pending_marker = pending_path(period_dir)
        write_json_atomic(
            pending_marker,
            {
                "version": version_dir.name,
                "message_id": message["Message-ID"],
                "recipients": list(config.recipients),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        try:
            accepted = send_message(
                message, settings, config.max_attempts, config.retry_backoff_seconds
            )
        except OutcomeUnknown as exc:
            write_json_atomic(
                pending_marker,
                {**(read_pending(period_dir) or {}), "status": "unknown", "reason": str(exc)},
            )
            raise DeliveryError(
                f"email of {period_dir.name}/{version_dir.name} (Message-ID "
                f"{message['Message-ID']}): outcome unknown: {exc}. Recorded in "
                f"{pending_marker}; check the recipients' mailboxes, then run again with "
                "RESEND=1 only if it did not arrive"
            ) from exc
        except BaseException as exc:
            if isinstance(exc, DeliveryError | ConfigError):  # surely not delivered
                pending_marker.unlink(missing_ok=True)
            raise
        record = record_delivery(
            version_dir,
            {
                "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "message_id": message["Message-ID"],
                "recipients": list(config.recipients),
                "sender": config.sender,
                "subject": message["Subject"],
                "smtp_server": server_name(settings),
                "server_response": accepted.response,
                "attempts": accepted.attempts,
                "resend": bool(earlier),
            },
        )
        pending_marker.unlink(missing_ok=True)
    _refresh_index(reports_dir)
    return DeliveryResult(
        version_dir, "sent", record_path=record, attempts=accepted.attempts, **common
    )


def _refresh_index(reports_dir: Path) -> None:
    from ..report.index import write_index

    try:
        write_index(reports_dir)
    except OSError as exc:  # the email went out; a stale index must not hide that
        logger.warning("could not update %s/index.html: %s", reports_dir, exc)
