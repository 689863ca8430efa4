"""Mail notifications about hand-offs: queued with the change, delivered after the commit.

*Queueing.* ``notify_handoff`` is called by ``app.services.handoffs`` at the end of each
change. It writes one ``MailMessage`` per recipient in the caller's transaction (a
transactional outbox): a hand-off sent reaches every active caseworker of the receiving
structure; an answer (accept, decline, redirect), an expiry or a closure (completed or not)
reaches the caseworker who sent it, or, when that account is closed or has moved, the active
caseworkers of the sending structure.

*Rendering.* A mail says only which person (by pseudonym), which structures, what happened
and where to look: a link to ``/handoffs/<id>`` on ``PUBLIC_BASE_URL``. ``render`` receives
nothing else (``MailFacts``), so no name, contact detail or note can reach a mail. The texts
are English msgids marked with ``N_``, translated with the application's catalog into the
recipient's language (French unless they chose English), with the standard ``gettext``
module: services do not import Flask.

*Delivery.* ``deliver_pending`` renders the unsent messages, hands them to a ``MailSender``
and marks them sent; the caller commits. ``OutboxLogSender`` (development and tests) keeps
them in the database and logs one line per message (its id and the recipient's domain, never
the text); ``SmtpSender`` sends them through the server of the environment. On PostgreSQL the
rows being delivered are locked (``SKIP LOCKED``), so two deliveries at once do not send a
mail twice. A failed message is retried by later runs, ``MAX_ATTEMPTS`` times at most; its
``last_error`` is a short code, never the server's reply (which may quote an address).
"""

from __future__ import annotations

import gettext
import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import Beneficiary, Handoff, MailKind, MailMessage, Structure, User
from app.services.errors import N_

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
DEFAULT_LOCALE = "fr"
LOCALES = frozenset({"fr", "en"})
# After this many failed attempts a message is no longer retried (it stays in the outbox).
MAX_ATTEMPTS = 5
SUBJECT_LENGTH = 300

KIND_OF_EVENT: dict[HandoffEvent, MailKind] = {
    HandoffEvent.SEND: MailKind.HANDOFF_RECEIVED,
    HandoffEvent.ACCEPT: MailKind.HANDOFF_ACCEPTED,
    HandoffEvent.DECLINE: MailKind.HANDOFF_DECLINED,
    HandoffEvent.REDIRECT: MailKind.HANDOFF_REDIRECTED,
    HandoffEvent.EXPIRE: MailKind.HANDOFF_EXPIRED,
    HandoffEvent.COMPLETE: MailKind.HANDOFF_COMPLETED,
    HandoffEvent.NOT_COMPLETE: MailKind.HANDOFF_NOT_COMPLETED,
}

# -- the texts -------------------------------------------------------------------------------
# Placeholders: %(pseudonym)s, %(sender)s and %(receiver)s (structure names), %(other)s (the
# structure a hand-off was redirected to), %(structure)s (the recipient's), %(link)s.

SUBJECTS: dict[MailKind, str] = {
    MailKind.HANDOFF_RECEIVED: N_("[Relais] New hand-off from %(sender)s: %(pseudonym)s"),
    MailKind.HANDOFF_ACCEPTED: N_("[Relais] Hand-off accepted by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_DECLINED: N_("[Relais] Hand-off declined by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_REDIRECTED: N_("[Relais] Hand-off redirected by %(receiver)s: %(pseudonym)s"),
    MailKind.HANDOFF_EXPIRED: N_("[Relais] Hand-off expired without answer: %(pseudonym)s"),
    MailKind.HANDOFF_COMPLETED: N_("[Relais] Hand-off completed: %(pseudonym)s"),
    MailKind.HANDOFF_NOT_COMPLETED: N_(
        "[Relais] Hand-off closed without completion: %(pseudonym)s"
    ),
}

EVENT_LINES: dict[MailKind, str] = {
    MailKind.HANDOFF_RECEIVED: N_(
        "%(sender)s has handed off the person %(pseudonym)s to %(receiver)s."
    ),
    MailKind.HANDOFF_ACCEPTED: N_("%(receiver)s has accepted the hand-off of %(pseudonym)s."),
    MailKind.HANDOFF_DECLINED: N_("%(receiver)s has declined the hand-off of %(pseudonym)s."),
    MailKind.HANDOFF_REDIRECTED: N_(
        "%(receiver)s has redirected the hand-off of %(pseudonym)s to %(other)s."
    ),
    MailKind.HANDOFF_EXPIRED: N_(
        "The hand-off of %(pseudonym)s to %(receiver)s has expired without an answer."
    ),
    MailKind.HANDOFF_COMPLETED: N_(
        "%(receiver)s has closed the hand-off of %(pseudonym)s: it was completed."
    ),
    MailKind.HANDOFF_NOT_COMPLETED: N_(
        "%(receiver)s has closed the hand-off of %(pseudonym)s without completion."
    ),
}
REDIRECTED_ELSEWHERE = N_(
    "%(receiver)s has redirected the hand-off of %(pseudonym)s to another partner."
)
GREETING = N_("Hello,")
LINK_LINE = N_("See the hand-off in Relais: %(link)s")
PRIVACY_LINE = N_(
    "To protect the people followed, this message holds no personal data: sign in to "
    "Relais to read more."
)
WHY_LINE = N_(
    "You receive this message as a caseworker of %(structure)s. It is sent automatically: "
    "please do not reply."
)


# -- queueing --------------------------------------------------------------------------------


def notify_handoff(session: Session, handoff: Handoff, event: HandoffEvent) -> list[MailMessage]:
    """Queue the mails announcing ``event`` on ``handoff`` (none for events without mail)."""
    kind = KIND_OF_EVENT.get(event)
    if kind is None:
        return []
    if kind is MailKind.HANDOFF_RECEIVED:
        recipients = active_caseworkers(session, handoff.to_structure_id)
    else:
        recipients = sender_contacts(session, handoff)
    messages = [
        MailMessage(
            id=uuid.uuid4(),
            kind=kind,
            handoff_id=handoff.id,
            to_address=user.email,
            locale=user.locale if user.locale in LOCALES else DEFAULT_LOCALE,
            attempts=0,
        )
        for user in recipients
    ]
    session.add_all(messages)
    return messages


def active_caseworkers(session: Session, structure_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(
                User.structure_id == structure_id,
                User.role == Role.CASEWORKER,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def sender_contacts(session: Session, handoff: Handoff) -> list[User]:
    """The caseworker who sent ``handoff`` if still active there, else their colleagues."""
    sender = session.get(User, handoff.from_user_id) if handoff.from_user_id else None
    if (
        sender is not None
        and sender.active
        and sender.role is Role.CASEWORKER
        and sender.structure_id == handoff.from_structure_id
    ):
        return [sender]
    return active_caseworkers(session, handoff.from_structure_id)


# -- rendering -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailFacts:
    """Everything a hand-off mail may say. Nothing else is given to ``render``."""

    pseudonym: str
    sender: str  # the sending structure's name
    receiver: str  # the receiving structure's name
    link: str
    redirected_to: str | None = None  # the structure a redirect sent the person on to


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    body_text: str


@lru_cache(maxsize=8)
def _translations(locale: str) -> gettext.NullTranslations:
    """The application's catalog for ``locale`` (English msgids: no catalog needed)."""
    return gettext.translation(
        "messages", localedir=str(TRANSLATIONS), languages=[locale], fallback=True
    )


def handoff_link(base_url: str, handoff_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/handoffs/{handoff_id}"


def render(kind: MailKind, facts: MailFacts, locale: str) -> RenderedMail:
    """The subject and plain-text body of a ``kind`` mail, in ``locale``."""
    t = _translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext
    # The recipients of a received hand-off work for the receiver; all others for the sender.
    own = facts.receiver if kind is MailKind.HANDOFF_RECEIVED else facts.sender
    values = {
        "pseudonym": facts.pseudonym,
        "sender": facts.sender,
        "receiver": facts.receiver,
        "other": facts.redirected_to or "",
        "structure": own,
        "link": facts.link,
    }
    event_line = EVENT_LINES[kind]
    if kind is MailKind.HANDOFF_REDIRECTED and not facts.redirected_to:
        event_line = REDIRECTED_ELSEWHERE
    subject = " ".join((t(SUBJECTS[kind]) % values).split())[:SUBJECT_LENGTH]
    paragraphs = (
        t(GREETING),
        t(event_line) % values,
        t(LINK_LINE) % values,
        f"{t(PRIVACY_LINE)}\n{t(WHY_LINE) % values}",
    )
    return RenderedMail(subject=subject, body_text="\n\n".join(paragraphs) + "\n")


def handoff_facts(session: Session, handoff_id: uuid.UUID, *, base_url: str) -> MailFacts | None:
    """What a mail about this hand-off may say now (``None`` when it no longer exists)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    pseudonym = session.scalar(
        select(Beneficiary.pseudonym).where(Beneficiary.id == handoff.beneficiary_id)
    )
    redirected_to = session.scalar(
        select(Structure.name)
        .join(Handoff, Handoff.to_structure_id == Structure.id)
        .where(Handoff.parent_id == handoff.id)
        .order_by(Handoff.sent_at)
        .limit(1)
    )
    return MailFacts(
        pseudonym=pseudonym or "",
        sender=handoff.from_structure.name,
        receiver=handoff.to_structure.name,
        link=handoff_link(base_url, handoff.id),
        redirected_to=redirected_to,
    )


def render_message(session: Session, message: MailMessage, *, base_url: str) -> RenderedMail:
    """The stored text of ``message``, or its text rendered now if it was never sent."""
    if message.subject is not None and message.body_text is not None:
        return RenderedMail(message.subject, message.body_text)
    facts = (
        handoff_facts(session, message.handoff_id, base_url=base_url)
        if message.handoff_id is not None
        else None
    )
    if facts is None:
        raise MailError("handoff-missing", permanent=True)
    return render(message.kind, facts, message.locale)


# -- senders ---------------------------------------------------------------------------------


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


# -- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    # The code of the last failure, and whether the transport failed (the rest waits).
    last_error: str | None = None
    stopped: bool = False
    failed_ids: tuple[uuid.UUID, ...] = ()

    @property
    def handled(self) -> int:
        return self.sent + self.failed


def pending_messages(
    session: Session, *, limit: int, retry_failed: bool, skip: Collection[uuid.UUID] = ()
) -> Sequence[MailMessage]:
    """Unsent messages, oldest first, locked against a concurrent delivery (PostgreSQL)."""
    query = select(MailMessage).where(
        MailMessage.sent_at.is_(None), MailMessage.attempts < MAX_ATTEMPTS
    )
    if not retry_failed:
        query = query.where(MailMessage.attempts == 0)
    if skip:
        query = query.where(MailMessage.id.not_in(skip))
    query = (
        query.order_by(MailMessage.created_at, MailMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()


def deliver_pending(
    session: Session,
    sender: MailSender,
    *,
    base_url: str,
    now: datetime,
    limit: int = 50,
    retry_failed: bool = True,
    skip: Collection[uuid.UUID] = (),
) -> DeliveryReport:
    """Send up to ``limit`` unsent messages; mark each one sent or failed. Never commits.

    ``retry_failed=False`` leaves alone the messages that failed before (what a request does
    after its commit; the scheduled ``flask handoffs send-mail`` retries them). ``skip``:
    messages not to try again in this run (those that failed in an earlier batch).
    """
    sent = 0
    failed: list[uuid.UUID] = []
    last_error: str | None = None
    stopped = False
    pending = pending_messages(session, limit=limit, retry_failed=retry_failed, skip=skip)
    try:
        for message in pending:
            message.attempts += 1
            try:
                rendered = render_message(session, message, base_url=base_url)
                message.subject, message.body_text = rendered.subject, rendered.body_text
                sender.send(
                    OutgoingMail(
                        message.id, message.to_address, rendered.subject, rendered.body_text
                    )
                )
            except MailError as exc:
                failed.append(message.id)
                last_error = message.last_error = exc.code
                if exc.permanent:
                    message.attempts = MAX_ATTEMPTS
                if exc.stops_batch:
                    stopped = True
                    break
                continue
            message.sent_at = now
            message.last_error = None
            sent += 1
    finally:
        sender.close()
    session.flush()
    return DeliveryReport(
        sent=sent,
        failed=len(failed),
        last_error=last_error,
        stopped=stopped,
        failed_ids=tuple(failed),
    )


def given_up_count(session: Session) -> int:
    """Messages no longer retried: they failed ``MAX_ATTEMPTS`` times."""
    count = session.scalar(
        select(func.count())
        .select_from(MailMessage)
        .where(MailMessage.sent_at.is_(None), MailMessage.attempts >= MAX_ATTEMPTS)
    )
    return count or 0


def recent_messages(session: Session, *, limit: int = 100) -> Sequence[MailMessage]:
    """The latest messages, newest first (the development outbox page)."""
    return session.scalars(
        select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id).limit(limit)
    ).all()
