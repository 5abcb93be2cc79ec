"""``params/delivery.yaml``: who gets the report email, from whom, with which subject."""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import Any

import yaml

from ..config import get_settings
from ..exceptions import ConfigError
from ..log import logger

__all__ = ["DeliveryConfig", "load_delivery_config", "address_of"]


# bounds of the retry: at most 10 tries, each wait doubling from the backoff up to 60 s
MAX_ATTEMPTS = (1, 10)
RETRY_BACKOFF_SECONDS = (0.0, 60.0)
_CONFIG_KEYS = {
    "sender": str,
    "recipients": list,
    "subject": str,
    "attach_campaign_csvs": bool,
    "max_attempts": int,
    "retry_backoff_seconds": (int, float),
    "bcc": bool,
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
    # True: recipients go only in the envelope (Bcc), so no one sees the others' addresses
    bcc: bool = False


def _check_address(value: Any, where: str) -> str:
    """An address as written, with a non-ASCII domain in its ASCII (IDNA) form.

    A non-ASCII name before the ``@`` (``zoë@example.com``) is kept: it needs a server
    offering SMTPUTF8, which the send checks before anything goes out.
    """
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {value!r} is not an email address")
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1] or " " in parsed[0][1]:
        raise ConfigError(f"{where}: {value!r} is not an email address")
    name, address = parsed[0]
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(ord(c) < 32 or c in "\x7f<>" for c in address):
        raise ConfigError(f"{where}: {value!r} is not an email address")
    if domain.isascii():
        return value.strip()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ConfigError(f"{where}: {value!r} has a domain that is not valid: {exc}") from None
    return formataddr((name, f"{local}@{ascii_domain}")) if name else f"{local}@{ascii_domain}"


def address_of(value: str) -> str:
    """The bare address (``x@example.com``) of ``Name <x@example.com>``."""
    return getaddresses([value])[0][1]


def _unique(recipients: list[str], where: str) -> list[str]:
    """Recipients in order, each address once (compared without case)."""
    seen: set[str] = set()
    unique = []
    for recipient in recipients:
        key = address_of(recipient).casefold()
        if key in seen:
            logger.warning("%s: %s is listed more than once; it is sent one copy", where, recipient)
            continue
        seen.add(key)
        unique.append(recipient)
    return unique


def _checked_subject(template: str) -> str:
    from .message import check_subject_template

    check_subject_template(template)
    return template


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
    recipients = _unique(
        [_check_address(r, f"{path}: recipients") for r in data.get("recipients") or []],
        f"{path}: recipients",
    )
    if not recipients:
        raise ConfigError(f"{path}: 'recipients' must list at least one address")
    attempts = int(data.get("max_attempts", DeliveryConfig.max_attempts))
    backoff = float(data.get("retry_backoff_seconds", DeliveryConfig.retry_backoff_seconds))
    low, high = MAX_ATTEMPTS
    if not low <= attempts <= high:
        raise ConfigError(f"{path}: max_attempts={attempts!r} must be from {low} to {high}")
    low_s, high_s = RETRY_BACKOFF_SECONDS
    if not (math.isfinite(backoff) and low_s <= backoff <= high_s):
        raise ConfigError(
            f"{path}: retry_backoff_seconds={backoff!r} must be from {low_s:g} to {high_s:g}"
        )
    return DeliveryConfig(
        sender=_check_address(data["sender"], f"{path}: sender"),
        recipients=recipients,
        subject=_checked_subject(data.get("subject", DeliveryConfig.subject)),
        attach_campaign_csvs=bool(data.get("attach_campaign_csvs", False)),
        max_attempts=attempts,
        retry_backoff_seconds=backoff,
        bcc=bool(data.get("bcc", False)),
    )
