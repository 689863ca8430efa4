"""Staff accounts. Beneficiaries never have accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.roles import Role
from app.models.base import Base, UTCDateTime, created_at, enum_column, int_pk
from app.models.structure import Structure

# The deferred group of the account's secrets (see ``User.password_hash``).
SECRETS = "secrets"


class User(Base):
    """A caseworker (of one structure), a coordinator, an administrator or a field worker.

    ``session_version`` is part of every session cookie: raising it (logout, password change,
    deactivation) ends every session of the account on the server side.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'caseworker') = (structure_id IS NOT NULL)", name="structure_iff_caseworker"
        ),
        # Only a caseworker can be allowed to edit their structure's directory card.
        CheckConstraint(
            "role = 'caseworker' OR NOT can_edit_card", name="card_editor_is_caseworker"
        ),
        # The structure manager role is held by a caseworker of the structure (issue 13).
        CheckConstraint(
            "role = 'caseworker' OR NOT manages_structure", name="manager_is_caseworker"
        ),
        CheckConstraint("role = 'caseworker' OR NOT api_client", name="api_client_is_caseworker"),
    )

    id: Mapped[int_pk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, 16))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    # The account's secrets (the password hash, the second factor's sealed seed, its key and
    # last step) are loaded only where they are used, together (``SECRETS``): the sign-in
    # reads them with the account (``find_user(..., secrets=True)``), no list or page does.
    password_hash: Mapped[str] = mapped_column(String(200), deferred=True, deferred_group=SECRETS)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    # A professional phone shown to partners with the name and the login, in E.164.
    work_phone: Mapped[str | None] = mapped_column(String(32))
    # Granted by an administrator: may edit the directory card of the user's own structure.
    can_edit_card: Mapped[bool] = mapped_column(Boolean, default=False)
    # The structure manager role (``app/services/security/managers.py``): a caseworker who also
    # manages the accounts, API tokens and webhooks of their own structure. In a three-person
    # association the manager follows people too, hence a right of a caseworker, not a role of
    # its own.
    manages_structure: Mapped[bool] = mapped_column(Boolean, default=False)
    # The service account of an API token (``app/services/api/tokens.py``): a caseworker of
    # the structure that acts through the API only. It cannot sign in on the web (no usable
    # password, refused by ``authenticate``), is never deactivated as idle, and is no
    # referent to choose; its name reads "API: <token name>" in the audit and the timelines.
    api_client: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]
    # When an administrator or a manager last opened the closed account again: its idle time
    # (``flask users deactivate-idle``) counts from then at the earliest.
    reactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The TOTP second factor (app/services/security/second_factor.py). The seed is sealed with
    # AES-GCM under a data key of the account's own, wrapped by the key ring's active KEK and
    # bound to the account's id; ``second_factor_since`` is set once a first code confirmed it
    # (NULL: enrolment started, not active). ``second_factor_step`` is the last TOTP time step
    # accepted: a code is single use, only a later step is ever accepted.
    second_factor_kek: Mapped[str | None] = mapped_column(
        String(32), deferred=True, deferred_group=SECRETS
    )
    second_factor_key: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group=SECRETS
    )
    second_factor_seed: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_group=SECRETS
    )
    second_factor_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_factor_step: Mapped[int | None] = mapped_column(
        BigInteger, deferred=True, deferred_group=SECRETS
    )

    structure: Mapped[Structure | None] = relationship(lazy="joined")

    # The session-user protocol of Flask-Login, by duck typing (models never import Flask).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def has_second_factor(self) -> bool:
        """Whether a confirmed TOTP second factor protects the sign-in."""
        return self.second_factor_since is not None

    @property
    def must_have_second_factor(self) -> bool:
        """Coordinators and administrators cannot work without a second factor."""
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    def get_id(self) -> str:
        """What the session cookie holds: the id and the session version."""
        return f"{self.id}:{self.session_version}"


class RecoveryCode(Base):
    """A single-use recovery code of an account's second factor, stored as a keyed hash only
    (SHA-256 of the account id and the code: the code itself is shown once, never stored)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int_pk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_at]


class PasswordResetToken(Base):
    """A password-reset link sent by mail: single use, short-lived, stored as its SHA-256 only
    (the token itself is in the mail and nowhere else). A newer request revokes the older
    ones (``revoked_at``)."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int_pk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
