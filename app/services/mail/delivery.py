"""One delivery run over the outbox: render each unsent message, hand it to a sender, mark it
sent or failed. The caller commits (the worker, once per batch)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import MailKind
from app.services.mail.composing import render_message
from app.services.mail.queue import MAX_ATTEMPTS, pending_messages
from app.services.mail.transport import MailError, MailSender, OutgoingMail

_RESET_LINK = re.compile(r"/password/reset/[A-Za-z0-9_-]+")
_INVITATION_LINK = re.compile(r"/invitation/[A-Za-z0-9_-]+")


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
            if message.kind is MailKind.PASSWORD_RESET and not getattr(sender, "keeps_mail", False):
                # The link's token is kept nowhere once sent (the table holds its hash only).
                message.body_text = _RESET_LINK.sub("/password/reset/[sent]", rendered.body_text)
            if message.kind is MailKind.INVITATION and not getattr(sender, "keeps_mail", False):
                message.body_text = _INVITATION_LINK.sub("/invitation/[sent]", rendered.body_text)
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
