"""Email delivery of a published report, exactly once per period.

Deliveries are recorded beside the immutable versions, never inside them:
``reports/<period>/deliveries/vNNN.json`` lists each accepted send (recipients,
Message-ID, time). A send is recorded only after the SMTP server accepted the
message. Transient SMTP failures (connection refused or dropped, 4xx) are retried
with backoff; permanent ones (authentication, a rejected recipient) raise
:class:`~lgs_analysis.exceptions.DeliveryError` at once. All recipients are accepted
before the message is transmitted, or nobody gets it.

Before anything goes out, the intent is recorded in ``deliveries/pending.json``
(``"status": "sending"``) and resolved after: removed once the send is recorded, removed
when the send surely failed (any error before the whole message was transmitted), kept
as ``"unknown"`` when the server got the whole message but its reply never came (never
retried), and kept as ``"accepted"`` when the server accepted it but the record could
not be written (a full disk), so that the next run records it. An intent left behind
(a killed run, a damaged marker) or a damaged ``vNNN.json`` reads as "may have been
delivered", never as "not sent": the next run refuses to send until it is told
``resend``. A per-period lock stops two runs sending at once. Recipients listed twice get
one copy; ``bcc: true`` keeps them out of the headers.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from ..config import Settings, get_settings
from ..exceptions import DeliveryError, LgsError, ReportsDirError
from ..log import logger
from ..report.delivery_log import (
    damaged_delivery_records,
    pending_path,
    period_deliveries,
    period_lock,
    read_pending,
    record_delivery,
    write_json_atomic,
)
from ..report.publish import own_dir, reports_dir_error, version_problem
from .config import DeliveryConfig, load_delivery_config
from .smtp import OutcomeUnknown, message_bytes, send_message, server_name

__all__ = ["DeliveryResult", "send_report", "write_eml"]

_VERSION_NAME = re.compile(r"^v\d{3,}$")


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


def write_eml(
    message: EmailMessage, outbox: Path, stem: str, recipients: list[str] | None = None
) -> Path:
    """Write ``message`` as ``<outbox>/<stem>-<UTC time>.eml`` and return the path.

    ``outbox`` is made a real folder inside the reports folder (a link is replaced).

    Raises
    ------
    ReportsDirError
        If it cannot be written (a full disk, permissions); nothing is left behind.
    """
    own_dir(outbox, outbox.parent)
    path = outbox / f"{stem}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:4]}.eml"
    tmp = path.with_name(f".{path.name}.tmp")
    addresses = [message["From"] or "", *(recipients or [])]
    try:
        tmp.write_bytes(message_bytes(message, [a for _, a in getaddresses(addresses)]))
        os.replace(tmp, path)
    except OSError as exc:
        raise reports_dir_error(exc, outbox) or exc from None
    finally:
        tmp.unlink(missing_ok=True)
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
    version_dir = _checked_version(Path(version_dir))
    period_dir, reports_dir = version_dir.parent, version_dir.parent.parent
    with period_lock(period_dir):
        _resolve_accepted(period_dir)
        earlier = period_deliveries(period_dir)
        if not resend and not dry_run:
            _refuse_if_pending(period_dir)
        if earlier and not resend and not dry_run:
            logger.info("%s", _already(earlier))
            return DeliveryResult(version_dir, "skipped", earlier=earlier)
        if not resend and not dry_run:
            _refuse_if_damaged_records(period_dir)
        problem = version_problem(version_dir)
        if problem:
            raise DeliveryError(
                f"{version_dir} is damaged ({problem}): not emailing it; make report "
                f"PERIOD={period_dir.name} builds it again"
            )
        message = build_message(
            version_dir,
            sender=config.sender,
            recipients=config.recipients,
            subject_template=config.subject,
            attach_csvs=config.attach_campaign_csvs,
            note=_revision_note(version_dir.name, earlier),
            bcc=config.bcc,
        )
        common = {
            "recipients": list(config.recipients),
            "message_id": message["Message-ID"],
            "subject": message["Subject"],
            "earlier": earlier,
        }
        if dry_run:
            stem = f"{period_dir.name}-{version_dir.name}"
            path = write_eml(message, reports_dir / "_outbox", stem, config.recipients)
            return DeliveryResult(version_dir, "dry-run", eml_path=path, **common)
        logger.info(
            "emailing %s to %s via %s",
            version_dir.name,
            f"{len(config.recipients)} recipients (Bcc)" if config.bcc else config.recipients,
            server_name(settings),
        )
        intent = {
            "version": version_dir.name,
            "message_id": message["Message-ID"],
            "recipients": list(config.recipients),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "sending",
        }
        pending_marker = pending_path(period_dir)
        try:  # the intent, before anything goes out: a run killed later leaves it behind
            write_json_atomic(pending_marker, intent)
        except OSError as exc:
            raise reports_dir_error(exc, pending_marker.parent) or exc from None
        try:
            accepted = send_message(
                message,
                settings,
                config.max_attempts,
                config.retry_backoff_seconds,
                recipients=config.recipients,
            )
        except OutcomeUnknown as exc:
            _mark_pending(pending_marker, {**intent, "status": "unknown", "reason": str(exc)})
            raise DeliveryError(
                f"email of {period_dir.name}/{version_dir.name} (Message-ID "
                f"{message['Message-ID']}): outcome unknown: {exc}. Recorded in "
                f"{pending_marker}; check the recipients' mailboxes, then run again with "
                "RESEND=1 only if it did not arrive"
            ) from exc
        except Exception as exc:
            # every failure but OutcomeUnknown came before the whole message went out:
            # surely not delivered, so the intent goes (an interrupt keeps it: unknown)
            pending_marker.unlink(missing_ok=True)
            if isinstance(exc, LgsError):
                raise
            raise DeliveryError(f"email not sent: {type(exc).__name__}: {exc}") from exc
        entry = {
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "message_id": message["Message-ID"],
            "recipients": list(config.recipients),
            "bcc": config.bcc,
            "sender": config.sender,
            "subject": message["Subject"],
            "smtp_server": server_name(settings),
            "server_response": accepted.response,
            "attempts": accepted.attempts,
            "resend": bool(earlier),
        }
        try:
            record = record_delivery(version_dir, entry)
        except (OSError, ReportsDirError) as exc:  # e.g. the disk filled up while sending
            kept = _mark_pending(pending_marker, {**intent, "status": "accepted", **entry})
            raise ReportsDirError(
                f"the email of {period_dir.name}/{version_dir.name} WAS sent (the server "
                f"accepted it: {accepted.response}; Message-ID {message['Message-ID']}), but "
                f"it could not be recorded under {_record_dir(period_dir)}: {exc}. "
                + (
                    "The marker says it was accepted; the next run records it"
                    if kept
                    else f"{pending_marker} still holds the intent, so no run sends it again "
                    "until RESEND=1"
                )
                + ". Free space, then run again"
            ) from None
        pending_marker.unlink(missing_ok=True)
    _refresh_index(reports_dir)
    return DeliveryResult(
        version_dir, "sent", record_path=record, attempts=accepted.attempts, **common
    )


def _record_dir(period_dir: Path) -> Path:
    """Where a period's delivery records live."""
    return Path(period_dir) / "deliveries"


def _checked_version(version_dir: Path) -> Path:
    """``reports/<period>/vNNN`` as a real folder (never through a link such as latest)."""
    version_dir = version_dir.absolute()
    if version_dir.is_symlink() or version_dir.parent.is_symlink() or not version_dir.is_dir():
        raise DeliveryError(
            f"{version_dir} is not a version folder of the reports (a link, or missing): "
            "nothing is read or written through it"
        )
    return version_dir


def _mark_pending(marker: Path, data: dict[str, Any]) -> bool:
    """Rewrite the intent (best effort: on a full disk the earlier intent stays)."""
    try:
        write_json_atomic(marker, data)
    except OSError as exc:
        logger.error("could not update %s: %s", marker, exc)
        return False
    return True


def _resolve_accepted(period_dir: Path) -> None:
    """Record a send the server accepted but an earlier run could not record (a full disk)."""
    pending = read_pending(period_dir)
    if not pending or pending.get("status") != "accepted":
        return
    name = str(pending.get("version"))
    version_dir = period_dir / name
    if not _VERSION_NAME.match(name) or version_dir.is_symlink() or not version_dir.is_dir():
        return  # not a version of this period: the marker stays and reads as unknown
    entry = {k: v for k, v in pending.items() if k not in ("version", "status", "started_at")}
    try:
        record_delivery(version_dir, entry)
    except OSError as exc:
        raise reports_dir_error(exc, _record_dir(period_dir)) or exc from None
    pending_path(period_dir).unlink(missing_ok=True)
    logger.info("recorded the send of %s that an earlier run could not record", version_dir.name)


def _refuse_if_pending(period_dir: Path) -> None:
    """Refuse to send while an earlier send may have gone out (never read as "not sent")."""
    pending = read_pending(period_dir)
    if pending:
        what = {
            "unknown": "the SMTP server got the whole message but never confirmed it",
            "damaged": f"an earlier run's send marker is damaged ({pending.get('reason')})",
        }.get(str(pending.get("status")), "an earlier run stopped while emailing it")
        raise DeliveryError(
            f"not sending {period_dir.name} again: {what} ({pending.get('version')}, "
            f"Message-ID {pending.get('message_id')}, started {pending.get('started_at')}), "
            "so it may have been delivered. Check the recipients' mailboxes, then run "
            "again with RESEND=1 if it did not arrive"
        )


def _refuse_if_damaged_records(period_dir: Path) -> None:
    """A damaged delivery record may hide a send: refuse, never read it as "not sent"."""
    damaged = damaged_delivery_records(period_dir)
    if damaged:
        names = "; ".join(f"{name}: {problem}" for name, problem in damaged)
        raise DeliveryError(
            f"not sending {period_dir.name}: its delivery record is damaged ({names}), so it "
            "may have been emailed already. Check the recipients' mailboxes, then run again "
            "with RESEND=1 if it did not arrive (the damaged record is kept aside)"
        )


def _refresh_index(reports_dir: Path) -> None:
    from ..report.index import write_index

    try:
        write_index(reports_dir)
    except OSError as exc:  # the email went out; a stale index must not hide that
        logger.warning("could not update %s/index.html: %s", reports_dir, exc)
