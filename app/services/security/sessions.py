"""Server-side sessions: one row per signed-in browser (``UserSession``).

The signed session cookie holds a random token; the database holds its SHA-256. A session ends
when its owner signs out or ends it from the sessions page, when it has not been seen for the
idle timeout, when it is older than the absolute lifetime, and with every other session of the
account when the password changes or the account is closed. ``last_seen_at`` is written at most
once every ``TOUCH_EVERY``, so that browsing does not write on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, defaultload, defer, lazyload

from app.domain.audit import AuditAction
from app.models import Structure, User, UserSession
from app.services.errors import N_, NotFound
from app.services.security import audit

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts: without activity (``idle``) and at most (``lifetime``)."""

    idle: timedelta
    lifetime: timedelta

    def expired(self, row: UserSession, now: datetime) -> bool:
        return now - row.last_seen_at > self.idle or now - row.created_at > self.lifetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Origin:
    """How a session was opened, when not by password: the provider's ACR and AMR (space
    separated) and the ID token (the ``id_token_hint`` of the provider's logout)."""

    method: str
    acr: str | None = None
    amr: str | None = None
    id_token: str | None = None


def start(
    session: Session, user: User, *, device: str, now: datetime, origin: Origin | None = None
) -> str:
    """Open a session for ``user`` and return its token, for the signed cookie only."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_digest(token),
            user_id=user.id,
            device=device[:80],
            created_at=now,
            last_seen_at=now,
            method=origin.method if origin else "password",
            acr=origin.acr if origin else None,
            amr=origin.amr if origin else None,
            id_token=origin.id_token if origin else None,
        )
    )
    session.flush()
    return token


# Every request of a signed-in account runs it: built once. It leaves out what only a few
# pages read (loaded there when read): the account's secrets (password hash, second factor's
# keys), its dates and work phone, how the session was opened, the structure's card and type.
_SIGNED_IN = (
    select(User, UserSession)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash", type_=UserSession.token_hash.type),
        User.id == bindparam("user_id", type_=User.id.type),
    )
    .options(
        defer(User.password_hash),
        defer(User.work_phone),
        defer(User.last_login_at),
        defer(User.created_at),
        defer(User.reactivated_at),
        defer(User.second_factor_kek),
        defer(User.second_factor_key),
        defer(User.second_factor_seed),
        defer(User.second_factor_step),
        defer(UserSession.device),
        defer(UserSession.method),
        defer(UserSession.acr),
        defer(UserSession.amr),
        defer(UserSession.id_token),
        defaultload(User.structure).options(
            lazyload(Structure.type),
            defer(Structure.missions),
            defer(Structure.contact),
            defer(Structure.city),
            defer(Structure.created_at),
            defer(Structure.updated_at),
        ),
    )
)


def signed_in(
    session: Session,
    user_id: int,
    version: int,
    token: str,
    *,
    limits: SessionLimits,
    now: datetime,
) -> tuple[User, UserSession] | None:
    """The account and the open session of a cookie, in one query, or ``None``: an unknown
    token, another account's, a closed account, a stale session version, an ended session, or
    one idle too long or too old (which is ended now). Seen now: ``last_seen_at`` is written
    when it is a minute old or more."""
    found = session.execute(
        _SIGNED_IN, {"token_hash": _digest(token), "user_id": user_id}
    ).one_or_none()
    if found is None:
        return None
    user, row = found
    if not user.active or user.session_version != version or row.ended_at is not None:
        return None
    if limits.expired(row, now):
        row.ended_at = now
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return user, row


def open_sessions(
    session: Session, user: User, *, limits: SessionLimits, now: datetime
) -> list[UserSession]:
    """The account's sessions still open, the most recently seen first."""
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
    )
    return [row for row in rows if not limits.expired(row, now)]


def end(session: Session, user: User, public_id: str, *, now: datetime) -> None:
    """End one of the account's own open sessions. Another account's session, an ended one or
    a malformed id are ``NotFound``, all alike."""
    try:
        session_id = uuid.UUID(hex=public_id)
    except ValueError as exc:
        raise NotFound(N_("This session does not exist or has already ended.")) from exc
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise NotFound(N_("This session does not exist or has already ended."))
    row.ended_at = now
    audit.record(session, user, AuditAction.SESSION_END, user)


def end_others(session: Session, user: User, keep: UserSession, *, now: datetime) -> int:
    """End every open session of the account but ``keep``; returns how many ended."""
    ended = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.id != keep.id,
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if ended:
        audit.record(session, user, AuditAction.SESSION_END, user, count=ended)
    return int(ended)


def end_all(session: Session, user: User, *, now: datetime) -> None:
    """End every open session of the account (password change, account closed)."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def sign_out(session: Session, user: User, token: str, *, now: datetime) -> UserSession | None:
    """End the session of this cookie (signing out ends this browser's session only); the
    session ended, if it was open (for the provider's logout of a ProConnect session)."""
    ended = session.scalar(
        select(UserSession).where(
            UserSession.token_hash == _digest(token),
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
    )
    session.execute(
        update(UserSession)
        .where(
            UserSession.token_hash == _digest(token),
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
        # The ID token was kept for the provider's logout only, which happens now.
        .values(ended_at=now, id_token=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, user, AuditAction.LOGOUT, user)
    return ended
