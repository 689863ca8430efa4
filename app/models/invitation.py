"""Invitations to create an account, sent by mail (issue 13, item 2).

A structure manager (or an administrator) invites a colleague by e-mail: the mail holds a
single-use link whose token is stored as its SHA-256 only. The person opens the link, gives
their name and a password, and the account is created with the invitation's role and
structure. A newer invitation to the same address revokes the pending one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.roles import Role
from app.models.base import Base, UTCDateTime, enum_column, int_pk
from app.models.structure import Structure


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "(role = 'caseworker') = (structure_id IS NOT NULL)",
            name="structure_iff_caseworker",
        ),
        CheckConstraint(
            "role = 'caseworker' OR NOT manages_structure", name="manager_is_caseworker"
        ),
    )

    id: Mapped[int_pk]
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, 16))
    structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("structures.id", ondelete="CASCADE"), index=True
    )
    # The account is created with the structure manager role.
    manages_structure: Mapped[bool] = mapped_column(Boolean, default=False)
    # A hint for the name field of the page (the person types their own name).
    name_hint: Mapped[str | None] = mapped_column(String(200))
    # Who invited: NULL for the command line or a hand-off link answered without an account
    # (the audit event names the channel).
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The account the invitation created.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    structure: Mapped[Structure | None] = relationship(lazy="joined")

    def pending(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
