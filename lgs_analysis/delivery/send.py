"""Email delivery of a published report, exactly once per period.

Deliveries are recorded beside the immutable versions, never inside them:
``reports/<period>/deliveries/vNNN.json`` lists each accepted send (recipients,
Message-ID, time). A send is recorded only after the SMTP server accepted the
message. Transient SMTP failures (connection refused or dropped, 4xx) are retried
with backoff; permanent ones (authentication, a rejected recipient) raise
:class:`~lgs_analysis.exceptions.DeliveryError` at once. All recipients are accepted
before the message is transmitted, or nobody gets it.

While a send is under way, ``deliveries/pending.json`` names it; a run killed in that
window leaves it behind, and the next run refuses to send (the message may have gone
out) until it is told ``resend``. A per-period lock stops two runs sending at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import yaml

from ..config import Settings, get_settings
from ..exceptions import ConfigError, DeliveryError
from ..log import logger

__all__ = [
    "DeliveryConfig",
    "DeliveryResult",
    "load_delivery_config",
    "deliveries_path",
    "read_deliveries",
    "read_pending",
    "period_deliveries",
    "record_delivery",
    "send_message",
    "send_report",
    "write_eml",
]

# ---------------------------------------------------------------- records


def deliveries_path(version_dir: Path) -> Path:
    """Where the deliveries of ``reports/<period>/vNNN`` are recorded."""
    version_dir = Path(version_dir)
    return version_dir.parent / "deliveries" / f"{version_dir.name}.json"


def _atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_deliveries(version_dir: Path) -> list[dict[str, Any]]:
    """Accepted sends of a version, oldest first (empty when never sent).

    Each entry has ``sent_at`` (ISO 8601, UTC), ``message_id``, ``recipients``,
    ``sender``, ``subject`` and ``smtp_host``.
    """
    path = deliveries_path(version_dir)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DeliveryError(f"{path}: delivery record is not valid JSON: {exc}") from exc
    return list(data.get("deliveries", []))


def period_deliveries(period_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every accepted send of a period as (version name, entry), oldest first."""
    folder = Path(period_dir) / "deliveries"
    found: list[tuple[str, dict[str, Any]]] = []
    if folder.is_dir():
        for path in sorted(folder.glob("v*.json")):
            found += [(path.stem, d) for d in read_deliveries(Path(period_dir) / path.stem)]
    return sorted(found, key=lambda item: item[1].get("sent_at", ""))


def record_delivery(version_dir: Path, entry: dict[str, Any]) -> Path:
    """Append an accepted send to the version's delivery record (atomic rewrite)."""
    version_dir = Path(version_dir)
    path = deliveries_path(version_dir)
    entries = read_deliveries(version_dir) + [entry]
    _atomic_write_json(
        path,
        {"period": version_dir.parent.name, "version": version_dir.name, "deliveries": entries},
    )
    return path


def read_pending(period_dir: Path) -> dict[str, Any] | None:
    """The marker of a send that started but neither finished nor failed (a killed run)."""
    path = Path(period_dir) / "deliveries" / "pending.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {"version": "?", "message_id": "?", "started_at": "?"}


@contextmanager
def _period_lock(period_dir: Path) -> Iterator[None]:
    """Serialise deliveries of one period, so two runs cannot both send."""
    folder = Path(period_dir) / "deliveries"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- configuration

_CONFIG_KEYS = {
    "sender": str,
    "recipients": list,
    "subject": str,
    "attach_campaign_csvs": bool,
    "max_attempts": int,
    "retry_backoff_seconds": (int, float),
}


@dataclass(frozen=True)
class DeliveryConfig:
    """``params/delivery.yaml``: who gets the report and how the message looks.

    The SMTP server and its credentials are not here: they come from ``LGS_SMTP_*``.
    """

    sender: str
    recipients: list[str]
    subject: str = "LGS RFM report {period}: net sales {net_sales}"
    attach_campaign_csvs: bool = False
    max_attempts: int = 4
    retry_backoff_seconds: float = 2.0


def _check_address(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {value!r} is not an email address")
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1] or " " in parsed[0][1]:
        raise ConfigError(f"{where}: {value!r} is not an email address")
    return value.strip()


def load_delivery_config(params_dir: Path | None = None) -> DeliveryConfig:
    """Read and check ``<params_dir>/delivery.yaml``.

    Raises
    ------
    ConfigError
        If the file is missing, has an unknown key, a wrong type, no recipient or a
        malformed address; the message names the file and the key.
    """
    path = Path(params_dir or get_settings().params_dir) / "delivery.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} is missing: it names the report's recipients") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of setting: value")
    for key, value in data.items():
        if key not in _CONFIG_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; known: {', '.join(_CONFIG_KEYS)}")
        expected = _CONFIG_KEYS[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(f"{path}: {key} must be {expected}, got {value!r}")
    if "sender" not in data:
        raise ConfigError(f"{path}: 'sender' is required (the From address)")
    recipients = [_check_address(r, f"{path}: recipients") for r in data.get("recipients") or []]
    if not recipients:
        raise ConfigError(f"{path}: 'recipients' must list at least one address")
    attempts = int(data.get("max_attempts", DeliveryConfig.max_attempts))
    backoff = float(data.get("retry_backoff_seconds", DeliveryConfig.retry_backoff_seconds))
    if attempts < 1 or backoff < 0:
        raise ConfigError(f"{path}: max_attempts must be >= 1 and retry_backoff_seconds >= 0")
    return DeliveryConfig(
        sender=_check_address(data["sender"], f"{path}: sender"),
        recipients=recipients,
        subject=data.get("subject", DeliveryConfig.subject),
        attach_campaign_csvs=bool(data.get("attach_campaign_csvs", False)),
        max_attempts=attempts,
        retry_backoff_seconds=backoff,
    )


# ---------------------------------------------------------------- SMTP


def _server(settings: Settings) -> str:
    return f"{settings.smtp_host}:{settings.smtp_port}"


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()  # verifies the certificate and the host name
    if settings.smtp_ca_file:
        try:
            context.load_verify_locations(cafile=settings.smtp_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"LGS_SMTP_CA_FILE={settings.smtp_ca_file}: {exc}") from exc
    if settings.smtp_tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    try:
        smtp.ehlo()
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_user:
            _login(smtp, settings)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _login(smtp: smtplib.SMTP, settings: Settings) -> None:
    """AUTH once, with the best mechanism the server offers (a wrong password is tried once)."""
    if not smtp.has_extn("auth"):
        hint = " (set LGS_SMTP_TLS=starttls?)" if settings.smtp_tls == "none" else ""
        raise smtplib.SMTPNotSupportedError(
            f"LGS_SMTP_USER is set but the server offers no AUTH{hint}"
        )
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in ("CRAM-MD5", "PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError(f"no supported AUTH mechanism among {offered}")
    smtp.user, smtp.password = settings.smtp_user, settings.smtp_password or ""
    code, response = smtp.auth(
        mechanism, getattr(smtp, f"auth_{mechanism.lower().replace('-', '_')}")
    )
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, response)


def _text(response: bytes | str) -> str:
    return response.decode(errors="replace") if isinstance(response, bytes) else str(response)


def _deliver_once(
    message: bytes, sender: str, recipients: list[str], settings: Settings
) -> tuple[int, str]:
    """One connection: every RCPT must be accepted before DATA, else RSET and nobody gets it."""
    smtp = _connect(settings)
    try:
        code, response = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, response, sender)
        refused = {}
        for recipient in recipients:
            code, response = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, response)
        if refused:
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, response = smtp.data(message)  # raises only if DATA itself is refused
        if code != 250:  # the server did not accept the message
            raise smtplib.SMTPDataError(code, response)
        return code, _text(response)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _classify(exc: BaseException, settings: Settings) -> tuple[bool, str]:
    """(transient?, message) for an SMTP or socket failure."""
    where = _server(settings)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False, (
            f"SMTP authentication as {settings.smtp_user!r} failed at {where}: "
            f"{exc.smtp_code} {_text(exc.smtp_error)} (check LGS_SMTP_USER/LGS_SMTP_PASSWORD)"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
        transient = all(400 <= c < 500 for c in codes)
        return transient, f"{where} refused recipient(s) {detail}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False, f"{where}: {exc} (check LGS_SMTP_TLS and LGS_SMTP_USER)"
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return 400 <= code < 500, f"{where} answered {code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True, f"{where} closed the connection: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False, (
            f"TLS certificate of {where} not trusted: {exc.verify_message} (for a private CA, "
            "set LGS_SMTP_CA_FILE to its PEM file)"
        )
    if isinstance(exc, ssl.SSLError):
        return False, f"TLS with {where} failed: {exc} (check LGS_SMTP_TLS={settings.smtp_tls})"
    if isinstance(exc, smtplib.SMTPException):
        return False, f"SMTP error at {where}: {exc}"
    if isinstance(exc, socket.gaierror):
        return True, f"cannot resolve SMTP host {settings.smtp_host!r}: {exc}"
    if isinstance(exc, OSError):
        return True, f"cannot reach SMTP server {where}: {exc}"
    raise exc


@dataclass(frozen=True)
class _Accepted:
    attempts: int
    response: str


def send_message(
    message: EmailMessage,
    settings: Settings | None = None,
    max_attempts: int = 4,
    retry_backoff_seconds: float = 2.0,
) -> _Accepted:
    """Send ``message`` to its To/Cc addresses; retry transient failures with backoff.

    All recipients are accepted before the message is transmitted, or nobody gets it.
    The Message-ID is kept across retries.

    Returns
    -------
    _Accepted
        ``attempts`` used and the server's final ``response``.

    Raises
    ------
    DeliveryError
        On a permanent failure (authentication, a rejected recipient, TLS trust), or
        when the last attempt fails; the message names the server and the reason.
    """
    settings = settings or get_settings()
    sender = getaddresses([message["From"]])[0][1]
    recipients = [a for _, a in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    data = message.as_bytes(policy=SMTP_POLICY)
    for attempt in range(1, max_attempts + 1):
        try:
            code, response = _deliver_once(data, sender, recipients, settings)
        except Exception as exc:  # noqa: BLE001 - classified, then re-raised or retried
            transient, reason = _classify(exc, settings)
            if not transient:
                raise DeliveryError(f"email not sent: {reason}") from exc
            if attempt == max_attempts:
                raise DeliveryError(f"email not sent after {attempt} attempts: {reason}") from exc
            delay = min(retry_backoff_seconds * 2 ** (attempt - 1), 60.0)
            logger.warning("attempt %d failed (%s); retrying in %.1fs", attempt, reason, delay)
            time.sleep(delay)
            continue
        return _Accepted(attempts=attempt, response=f"{code} {response}")
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- the report


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
    with _period_lock(period_dir):
        earlier = period_deliveries(period_dir)
        pending = read_pending(period_dir)
        if pending and not resend and not dry_run:
            raise DeliveryError(
                f"an earlier run stopped while emailing {pending.get('version')} of "
                f"{period_dir.name} (Message-ID {pending.get('message_id')}, started "
                f"{pending.get('started_at')}); it may have been delivered. Check the "
                "recipients' mailboxes, then run again with RESEND=1"
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
            "emailing %s to %s via %s", version_dir.name, config.recipients, _server(settings)
        )
        pending_path = period_dir / "deliveries" / "pending.json"
        _atomic_write_json(
            pending_path,
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
        except BaseException as exc:
            if isinstance(exc, DeliveryError | ConfigError):  # surely not delivered
                pending_path.unlink(missing_ok=True)
            raise
        record = record_delivery(
            version_dir,
            {
                "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "message_id": message["Message-ID"],
                "recipients": list(config.recipients),
                "sender": config.sender,
                "subject": message["Subject"],
                "smtp_server": _server(settings),
                "server_response": accepted.response,
                "attempts": accepted.attempts,
                "resend": bool(earlier),
            },
        )
        pending_path.unlink(missing_ok=True)
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
