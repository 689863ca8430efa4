"""Idempotent writes: a form that creates something carries a one-time token.

A form is rendered with a fresh random token (``new_token``, 128 bits). The view that creates
the record, inside the same savepoint as the use case, first ``claim``s the token, then creates
the record, then says where it is shown (``fulfil``). The token row and the record commit
together, or neither does: a submission refused by the rules leaves the token unused, and the
form shown again with the same token can be sent again.

A second submission of the same token by the same user (a double click, the browser's resend,
a restored tab) finds the row and gets ``AlreadySubmitted`` with the place of the record made
the first time. Two submissions at the same moment are kept apart by the primary key: on
PostgreSQL the second insert waits for the first transaction, then fails once it commits (or
goes on if it rolled back); on SQLite writers take turns. Either way one record is created.

Rows are only needed while a form carrying their token could still be accepted (the CSRF
token of the same form lasts ``WTF_CSRF_TIME_LIMIT``, 8 hours); ``purge`` deletes older ones.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import SubmissionToken, User
from app.services.errors import N_, Conflict, InvalidInput

TOKEN_BYTES = 16  # 128 bits
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{22,64}")
KEEP_AT_LEAST = timedelta(days=1)  # longer than a form stays valid (8 hours)


class AlreadySubmitted(Conflict):
    """The form was already sent and created a record: ``target`` is where it is shown."""

    code = "already_submitted"

    def __init__(self, target: str | None) -> None:
        super().__init__(N_("This form was already sent: what it recorded is kept once."))
        self.target = target


def new_token() -> str:
    """A fresh token for a form (URL-safe, 22 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: object) -> bool:
    return isinstance(token, str) and _WELL_FORMED.fullmatch(token) is not None


def _key(actor: User, token: str) -> tuple[int, str]:
    if not well_formed(token):
        raise InvalidInput(N_("This form is out of date: check it and send it again."))
    return actor.id, token


def ensure_unused(session: Session, actor: User, token: str) -> None:
    """Raise ``AlreadySubmitted`` if a committed (or this transaction's) submission used it.

    For views that show a confirmation step (a possible duplicate) before creating anything:
    a second submission is answered with the record, not with the confirmation.
    """
    used = session.get(SubmissionToken, _key(actor, token), populate_existing=True)
    if used is not None:
        raise AlreadySubmitted(used.target)


def claim(session: Session, actor: User, token: str, *, form: str) -> SubmissionToken:
    """Take the token for the record about to be created, in the caller's transaction.

    Raises ``AlreadySubmitted`` if a submission with this token created a record already,
    including one committed while this insert waited for it; ``InvalidInput`` for a token
    Relais did not make.
    """
    user_id, value = _key(actor, token)
    ensure_unused(session, actor, value)
    row = SubmissionToken(user_id=user_id, token=value, form=form[:32])
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # A concurrent submission of the same token committed first: show its record.
        used = session.scalar(
            select(SubmissionToken)
            .where(SubmissionToken.user_id == user_id, SubmissionToken.token == value)
            .execution_options(populate_existing=True)
        )
        raise AlreadySubmitted(used.target if used else None) from None
    return row


def fulfil(session: Session, claimed: SubmissionToken, target: str) -> None:
    """Say where the record created with ``claimed`` is shown (a path of the application)."""
    claimed.target = target[:300]
    session.flush()


def count_older_than(session: Session, moment: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SubmissionToken)
            .where(SubmissionToken.created_at < moment)
        )
        or 0
    )


def purge(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete the tokens used before ``now - keep`` (at least a day); returns how many."""
    if keep < KEEP_AT_LEAST:
        raise InvalidInput(N_("Keep the submission tokens for one day at least."), field="keep")
    result = session.execute(delete(SubmissionToken).where(SubmissionToken.created_at < now - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
