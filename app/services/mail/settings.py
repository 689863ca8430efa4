"""The mail settings of an application's configuration, read and checked once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.services.mail.transport import (
    MailConfigError,
    MailSender,
    OutboxLogSender,
    SmtpSender,
    SmtpSettings,
)


@dataclass(frozen=True, slots=True)
class MailSettings:
    backend: str
    from_address: str
    base_url: str
    smtp: SmtpSettings | None = None


BACKENDS = ("outbox", "smtp")


def mail_settings(config: Mapping[str, Any]) -> MailSettings:
    """Read and check the mail settings of an application's configuration."""
    backend = str(config.get("MAIL_BACKEND") or "smtp")
    if backend not in BACKENDS:
        raise MailConfigError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}")
    base_url = str(config.get("PUBLIC_BASE_URL") or "").strip()
    if not base_url.startswith(("https://", "http://")):
        raise MailConfigError(
            "RELAIS_PUBLIC_BASE_URL must be the address of Relais for the links in mails, "
            "such as https://relais.example.org"
        )
    from_address = str(config.get("MAIL_FROM") or "").strip()
    if backend == "outbox":
        return MailSettings(backend, from_address or "relais@localhost", base_url)
    if "@" not in from_address:
        raise MailConfigError("RELAIS_MAIL_FROM must be the address Relais sends mail from")
    host = str(config.get("SMTP_HOST") or "").strip()
    if not host:
        raise MailConfigError("RELAIS_SMTP_HOST must name the SMTP server")
    smtp = SmtpSettings(
        host=host,
        port=int(config.get("SMTP_PORT") or 587),
        starttls=bool(config.get("SMTP_STARTTLS", True)),
        timeout=int(config.get("SMTP_TIMEOUT") or 10),
        username=config.get("SMTP_USERNAME") or None,
        password=_smtp_password(config),
    )
    return MailSettings(backend, from_address, base_url, smtp)


def _smtp_password(config: Mapping[str, Any]) -> str | None:
    password = config.get("SMTP_PASSWORD")
    if password:
        return str(password)
    path = config.get("SMTP_PASSWORD_FILE")
    if not path:
        return None
    try:
        return Path(str(path)).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MailConfigError(
            f"RELAIS_SMTP_PASSWORD_FILE: cannot read the file ({exc.strerror})"
        ) from exc


def make_sender(settings: MailSettings) -> MailSender:
    if settings.smtp is None:
        return OutboxLogSender()
    return SmtpSender(settings.smtp, settings.from_address)


def starttls_problem(config: Mapping[str, Any]) -> str | None:
    """Why the SMTP credentials would cross the network in clear (``security-check``,
    "smtp-tls"): STARTTLS turned off while a user name or a password is set; else None."""
    if config.get("SMTP_STARTTLS", True):
        return None
    given = [
        variable
        for setting, variable in (
            ("SMTP_USERNAME", "RELAIS_SMTP_USERNAME"),
            ("SMTP_PASSWORD", "RELAIS_SMTP_PASSWORD"),
            ("SMTP_PASSWORD_FILE", "RELAIS_SMTP_PASSWORD_FILE"),
        )
        if config.get(setting)
    ]
    if not given:
        return None
    verb = "are" if len(given) > 1 else "is"
    return (
        f"RELAIS_SMTP_STARTTLS is off while {' and '.join(given)} {verb} set: the SMTP "
        "password would cross the network in clear"
    )
