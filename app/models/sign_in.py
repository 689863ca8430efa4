"""What sign-in keeps on the server: failure counters for the back-off, and the sessions.

Both live in the database so that every gunicorn worker sees the same state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, uuid_pk


class LoginThrottle(Base):
    """Recent sign-in failures of one login or one client address.

    ``key`` is ``"account:"`` or ``"client:"`` followed by an HMAC of the normalised login or
    of the client address (never the address itself): a login that has no account is
    counted like one that has, so the answers do not tell which logins exist. A row is
    forgotten a day after its last failure (``app.services.security.throttling``).
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class UserSession(Base):
    """A signed-in browser. The signed session cookie holds a random token; only its SHA-256
    is stored, with the account, when it started, when it was last seen (at most one write a
    minute) and when it ended (sign-out, idle or absolute timeout, ended from the sessions
    page, password change)."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid_pk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # "Firefox, Linux": a summary of the User-Agent at sign-in, never the raw header.
    device: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[created_at]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    @property
    def public_id(self) -> str:
        return self.id.hex
