"""The mail outbox: notifications written with the change they announce, sent after commit.

A row is queued by a service in the same transaction as the hand-off change, so a mail goes
out if and only if the change was committed. Its subject and body are rendered when it is
first delivered (they hold the pseudonym, structure names, the event and a link, never
personal values) and kept, so the outbox shows what was sent. Rows about a hand-off are
deleted with it (and so with the person).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, enum_column, uuid_pk


class MailKind(StrEnum):
    """What a mail announces: one kind per text."""

    HANDOFF_RECEIVED = "handoff_received"
    HANDOFF_ACCEPTED = "handoff_accepted"
    HANDOFF_DECLINED = "handoff_declined"
    HANDOFF_REDIRECTED = "handoff_redirected"
    HANDOFF_EXPIRED = "handoff_expired"
    HANDOFF_COMPLETED = "handoff_completed"
    HANDOFF_NOT_COMPLETED = "handoff_not_completed"
    HANDOFF_REMINDER = "handoff_reminder"
    # A password-reset link (its text is written when queued: the link is never stored apart).
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a mail kind
    # An invitation to create an account (written when queued, like a password reset).
    INVITATION = "invitation"
    # A hand-off mailed to a structure's contact address with a link to answer it without an
    # account, and the link to report what followed an acceptance by link (text written when
    # queued, like the password reset: the link is never stored apart).
    HANDOFF_ANSWER_LINK = "handoff_answer_link"
    HANDOFF_FOLLOW_THROUGH_LINK = "handoff_follow_through_link"


class MailMessage(Base):
    """One mail to one address, pending until ``sent_at`` is set."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        # What the delivery job reads: unsent messages, oldest first.
        Index(
            "ix_mail_outbox_pending",
            "created_at",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[uuid_pk]
    created_at: Mapped[created_at]
    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind))
    handoff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    # The recipient's language when the mail was queued ("fr" unless they chose another).
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A short code ("smtp-550", "ConnectionRefusedError"), never a server reply or an address.
    last_error: Mapped[str | None] = mapped_column(String(100))
