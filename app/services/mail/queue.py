"""The outbox: messages written in the transaction of the change they announce, read back by
delivery and by the development outbox page.

On PostgreSQL, a statement trigger on ``mail_outbox`` wakes the mail worker (a ``NOTIFY`` on
``MAIL_CHANNEL``, which the server delivers only if the inserting transaction commits: the
"wake-ups by trigger" revision); on SQLite the worker polls.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session, lazyload, load_only

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import Handoff, MailMessage, User
from app.models.base import utcnow
from app.services.mail.texts import DEFAULT_LOCALE, KIND_OF_EVENT, LOCALES, TO_RECEIVER

# After this many failed attempts a message is no longer retried (it stays in the outbox).
MAX_ATTEMPTS = 5
# The PostgreSQL channel the mail worker listens on (the outbox's trigger notifies it).
MAIL_CHANNEL = "relais_mail"


_OUTBOX = cast(Table, MailMessage.__table__)
# Built once: every answer to a hand-off that tells someone runs it (``app.services.core_writes``).
_INSERT = insert(_OUTBOX)


def notify_handoff(session: Session, handoff: Handoff, event: HandoffEvent) -> int:
    """Queue the mails announcing ``event`` on ``handoff`` (none for events without mail);
    how many. The rows are written at once (a Core statement: they are not in the session)."""
    kind = KIND_OF_EVENT.get(event)
    if kind is None:
        return 0
    if kind in TO_RECEIVER:
        recipients = active_caseworkers(session, handoff.to_structure_id)
    else:
        recipients = sender_contacts(session, handoff)
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": utcnow(),  # one each, in order: delivery follows it
            "kind": kind,
            "handoff_id": handoff.id,
            "to_address": user.email,
            "locale": user.locale if user.locale in LOCALES else DEFAULT_LOCALE,
            "subject": None,
            "body_text": None,
            "sent_at": None,
            "attempts": 0,
            "last_error": None,
        }
        for user in recipients
    ]
    if rows:
        session.flush()  # the hand-off's row first, when it is new (nothing to do otherwise)
        session.connection().execute(_INSERT, rows)
    return len(rows)


def active_caseworkers(session: Session, structure_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(
                User.structure_id == structure_id,
                User.role == Role.CASEWORKER,
                User.active.is_(True),
                User.api_client.is_(False),  # an API token's account has no mailbox
            )
            .order_by(User.id)
        )
    )


# What a mail needs of an account (its address, language, whether it still works there):
# neither its structure nor its secrets.
CONTACT_ONLY = (
    load_only(User.email, User.locale, User.active, User.role, User.structure_id),
    lazyload(User.structure),
)


def sender_contacts(session: Session, handoff: Handoff) -> list[User]:
    """The caseworker who sent ``handoff`` if still active there, else their colleagues."""
    # Found in the session when the hand-off was read for an answer (``handoff_for_party``).
    sender = (
        session.get(User, handoff.from_user_id, options=CONTACT_ONLY)
        if handoff.from_user_id
        else None
    )
    if (
        sender is not None
        and sender.active
        and sender.role is Role.CASEWORKER
        and sender.structure_id == handoff.from_structure_id
    ):
        return [sender]
    return active_caseworkers(session, handoff.from_structure_id)


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
