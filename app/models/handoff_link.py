"""Links that let a partner structure without an account answer a hand-off from a mail.

A link is a 256-bit random token given once, in a mail to the receiving structure's contact
address; only its SHA-256 is stored here, bound to one hand-off and one structure. An
``answer`` link accepts, declines or redirects the hand-off once, until the hand-off's own
deadline; a ``follow_through`` link (given after an acceptance by link) reports the first
contact, then the outcome. Rows are deleted with their hand-off (and so with the person).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, int_pk
from app.models.handoff import Handoff
from app.models.structure import Structure


class LinkScope(StrEnum):
    """What a hand-off link may do."""

    ANSWER = "answer"  # accept, decline or redirect, once
    FOLLOW_THROUGH = "follow_through"  # first contact, then the outcome (each once)


class HandoffLink(Base):
    """One link mailed to a structure about one hand-off (the token's SHA-256 only)."""

    __tablename__ = "handoff_links"

    id: Mapped[int_pk]
    handoff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    scope: Mapped[LinkScope] = mapped_column(enum_column(LinkScope, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    handoff: Mapped[Handoff] = relationship()
    structure: Mapped[Structure] = relationship()
