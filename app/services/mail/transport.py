"""Senders: ``OutboxLogSender`` keeps mails in the outbox (development and tests) and
``SmtpSender`` sends them. Errors are short codes, never a server's reply (which may quote an
address)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be sent. ``code`` is short and holds no address or reply text.

    ``stops_batch``: the transport itself failed (connection, authentication); the other
    messages wait for the next run. ``permanent``: retrying cannot help.
    """

    def __init__(self, code: str, *, stops_batch: bool = False, permanent: bool = False) -> None:
        super().__init__(code)
        self.code = code[:100]
        self.stops_batch = stops_batch
        self.permanent = permanent


class MailConfigError(Exception):
    """The mail settings are missing or wrong (the message names the setting, not a value)."""


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    id: uuid.UUID
    to_address: str
    subject: str
    body_text: str


class MailSender(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Send ``mail`` or raise ``MailError``."""

    def close(self) -> None:
        """Release the connection, if any (called after each delivery run)."""


def recipient_domain(address: str) -> str:
    return address.rpartition("@")[2] or "?"


class OutboxLogSender:
    """Development and tests: the mail stays in the outbox; one log line, without its text."""

    # The outbox is where this mail is read: a reset link stays in it (development only).
    keeps_mail = True

    def send(self, mail: OutgoingMail) -> None:
        log.info(
            "mail %s kept in the outbox (recipient at %s)",
            mail.id,
            recipient_domain(mail.to_address),
        )

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    timeout: int = 10
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def _error_code(exc: BaseException) -> str:
    """``smtp-<code>`` for a server reply, else the exception's type: never its text."""
    code = getattr(exc, "smtp_code", None)
    return f"smtp-{code}" if isinstance(code, int) else type(exc).__name__


def build_email(mail: OutgoingMail, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{mail.id}@{recipient_domain(from_address)}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    return message


class SmtpSender:
    """Sends through an SMTP server: STARTTLS when configured, login when a user is given.

    One connection per delivery run, opened at the first message and closed by ``close``.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        from_address: str,
        *,
        connect: Callable[..., smtplib.SMTP] = smtplib.SMTP,
    ) -> None:
        self.settings = settings
        self.from_address = from_address
        self._connect = connect
        self._connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"SmtpSender({self.settings.host}:{self.settings.port})"

    def _open(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self.settings
        connection = self._connect(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                connection.starttls(context=ssl.create_default_context())
            if s.username:
                connection.login(s.username, s.password or "")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def send(self, mail: OutgoingMail) -> None:
        try:
            connection = self._open()
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(_error_code(exc), stops_batch=True) from exc
        try:
            connection.send_message(build_email(mail, self.from_address))
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError("smtp-recipient-refused", permanent=True) from exc
        except smtplib.SMTPDataError as exc:
            # This message was refused (5xx: for good); the connection is still usable.
            raise MailError(_error_code(exc), permanent=500 <= exc.smtp_code < 600) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # A refused sender, a dropped connection...: every message would fail the same way.
            self._drop()
            raise MailError(_error_code(exc), stops_batch=True) from exc

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            self._connection.close()
        self._connection = None
