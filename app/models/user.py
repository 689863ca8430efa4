"""Staff accounts. Beneficiaries never have accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.roles import Role
from app.models.base import Base, created_at, enum_column, int_pk
from app.models.structure import Structure


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
    )

    id: Mapped[int_pk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, 16))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    # A professional phone shown to partners with the name and the login, in E.164.
    work_phone: Mapped[str | None] = mapped_column(String(32))
    # Granted by an administrator: may edit the directory card of the user's own structure.
    can_edit_card: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]

    structure: Mapped[Structure | None] = relationship(lazy="joined")

    # The session-user protocol of Flask-Login, by duck typing (models never import Flask).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What the session cookie holds: the id and the session version."""
        return f"{self.id}:{self.session_version}"
