"""What sign-in keeps on the server: failure counters for the back-off, the sessions, and
for ProConnect (OpenID Connect) the pending authorisation requests and the linked identities.

All live in the database so that every gunicorn worker sees the same state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at, int_pk, uuid_pk


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
    # How the session was opened: "password" or "proconnect"; for ProConnect, the provider's
    # ACR and AMR (space separated) and the ID token, kept here (never in the cookie) as the
    # ``id_token_hint`` of the provider's logout.
    method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")
    acr: Mapped[str | None] = mapped_column(String(200))
    amr: Mapped[str | None] = mapped_column(String(200))
    id_token: Mapped[str | None] = mapped_column(Text)

    @property
    def public_id(self) -> str:
        return self.id.hex


class UserIdentity(Base):
    """An account's identity at an OpenID provider: the provider's ``iss`` and ``sub``.

    Written at the first sign-in with the provider (found by the account's e-mail), then the
    account is found by (issuer, subject) first, even when the e-mail changed at the provider.
    A subject is linked to one account only, and an account to one subject per provider.
    """

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("user_id", "issuer"),
    )

    id: Mapped[int_pk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None]


class OidcSignIn(Base):
    """One sign-in started with an OpenID provider: what the callback must check.

    The ``state`` is kept as its SHA-256 (the state itself travels in the browser's signed
    cookie and in the provider's redirect); the ``nonce`` and the PKCE ``code_verifier`` are
    kept as they are, for the ten minutes the attempt lives. ``used_at`` makes the callback
    single use. After a right answer from the provider, ``user_id``, ``acr``, ``amr`` and
    ``id_token`` wait here for the second step (the TOTP code), when one is asked.
    """

    __tablename__ = "oidc_sign_ins"

    id: Mapped[uuid_pk]
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    acr: Mapped[str | None] = mapped_column(String(200))
    amr: Mapped[str | None] = mapped_column(String(200))
    id_token: Mapped[str | None] = mapped_column(Text)
