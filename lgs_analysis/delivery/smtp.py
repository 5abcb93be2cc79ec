"""Send one message over SMTP: TLS, login, all recipients accepted or none, retries.

Transient failures (connection refused or dropped, 4xx) are retried with backoff;
permanent ones (authentication, a rejected recipient, an untrusted certificate) raise
:class:`~lgs_analysis.exceptions.DeliveryError` at once. Every failure before the whole
message was transmitted is a :class:`DeliveryError` (surely not delivered); only silence
after it is :class:`OutcomeUnknown`. An address with a non-ASCII name before the ``@``
goes out with SMTPUTF8 where the server offers it, and is refused, naming it, before
anything is sent where it does not.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses

from ..config import Settings, get_settings
from ..exceptions import ConfigError, DeliveryError
from ..log import logger

__all__ = ["send_message", "server_name", "message_bytes", "international", "OutcomeUnknown"]


class OutcomeUnknown(DeliveryError):
    """The whole message reached the server but its reply never came (timeout, dropped
    connection): it may have been delivered. Never retried automatically."""


def server_name(settings: Settings) -> str:
    """``host:port`` of the SMTP server, for messages and records."""
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


class _NeedsSmtpUtf8(smtplib.SMTPException):
    """The server does not offer SMTPUTF8, which these addresses need."""

    def __init__(self, addresses: list[str]) -> None:
        super().__init__(", ".join(addresses))
        self.addresses = addresses


def international(addresses: list[str]) -> list[str]:
    """The addresses that need SMTPUTF8 (a non-ASCII character anywhere in them)."""
    return [a for a in addresses if not a.isascii()]


def _deliver_once(
    message: bytes, sender: str, recipients: list[str], settings: Settings
) -> tuple[int, str]:
    """One connection: every RCPT must be accepted before DATA, else RSET and nobody gets it."""
    smtp = _connect(settings)
    try:
        options: list[str] = []
        needs_utf8 = international([sender, *recipients])
        if needs_utf8:
            if not smtp.has_extn("smtputf8"):
                raise _NeedsSmtpUtf8(needs_utf8)
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        code, response = smtp.mail(sender, options)
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
        code, response = _data(smtp, message, settings)
        if code != 250:  # the server did not accept the message
            raise smtplib.SMTPDataError(code, response)
        return code, _text(response)
    except OutcomeUnknown:
        smtp.close()  # the server stopped answering: QUIT would only wait again
        raise
    finally:
        if smtp.sock is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


_DOT = re.compile(rb"(?m)^\.")


def _data(smtp: smtplib.SMTP, message: bytes, settings: Settings) -> tuple[int, bytes]:
    """DATA, as ``smtplib.SMTP.data`` does it, but telling apart a failure before the
    message was transmitted (safe to retry) from one after (:class:`OutcomeUnknown`)."""
    smtp.putcmd("data")
    code, response = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, response)
    body = _DOT.sub(b"..", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body + b".\r\n")
    try:
        return smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise OutcomeUnknown(
            f"{server_name(settings)} received the whole message but did not confirm it "
            f"within {settings.smtp_timeout:g} s (LGS_SMTP_TIMEOUT): {exc}. It may have "
            "been delivered, so it is not sent again automatically"
        ) from exc


def _classify(exc: BaseException, settings: Settings) -> tuple[bool, str]:
    """(transient?, message) for an SMTP or socket failure."""
    where = server_name(settings)
    if isinstance(exc, _NeedsSmtpUtf8):
        return False, (
            f"{', '.join(exc.addresses)} needs SMTPUTF8 (a character that is not ASCII), "
            f"which {where} does not offer; nobody was sent it. Use the address's ASCII form "
            "in params/delivery.yaml, remove it, or use a server that offers SMTPUTF8"
        )
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
    # anything else before the message was transmitted (a value smtplib cannot encode):
    # surely not delivered, and not worth retrying
    return False, f"{where}: {type(exc).__name__}: {exc}"


def message_bytes(message: EmailMessage, addresses: list[str]) -> bytes:
    """The message as sent: 7-bit headers, or UTF-8 headers where an address needs it."""
    policy = SMTP_POLICY.clone(utf8=True) if international(addresses) else SMTP_POLICY
    return message.as_bytes(policy=policy)


@dataclass(frozen=True)
class _Accepted:
    attempts: int
    response: str


def send_message(
    message: EmailMessage,
    settings: Settings | None = None,
    max_attempts: int = 4,
    retry_backoff_seconds: float = 2.0,
    recipients: list[str] | None = None,
) -> _Accepted:
    """Send ``message`` to ``recipients`` (default: its To/Cc addresses); retry transient
    failures with backoff.

    All recipients are accepted before the message is transmitted, or nobody gets it.
    The Message-ID is kept across retries. ``recipients`` given here go in the envelope
    only (Bcc): the headers need not name them.

    Returns
    -------
    _Accepted
        ``attempts`` used and the server's final ``response``.

    Raises
    ------
    OutcomeUnknown
        When the server got the whole message but its reply did not come: not retried.
    DeliveryError
        On a permanent failure (authentication, a rejected recipient, TLS trust), or
        when the last attempt fails; the message names the server and the reason.
    """
    settings = settings or get_settings()
    sender = getaddresses([message["From"]])[0][1]
    if recipients is None:
        headers = message.get_all("To", []) + message.get_all("Cc", [])
        recipients = [a for _, a in getaddresses(headers) if a]
    else:
        recipients = [a for _, a in getaddresses(recipients) if a]
    data = message_bytes(message, [sender, *recipients])
    for attempt in range(1, max_attempts + 1):
        try:
            code, response = _deliver_once(data, sender, recipients, settings)
        except OutcomeUnknown:
            raise
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
