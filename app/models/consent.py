"""Consents given by people to share their pathway with the network's partners."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.pathway import ConsentMethod, ConsentScope
from app.domain.rights import WithdrawalSource
from app.models.base import Base, created_at, enum_column, uuid_pk


class Consent(Base):
    __tablename__ = "consents"

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[ConsentScope] = mapped_column(enum_column(ConsentScope))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, 16))
    given_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    withdrawn_on: Mapped[date | None]
    # How the withdrawal reached the structure (a code, stored in a VARCHAR(100)).
    withdrawal_source: Mapped[WithdrawalSource | None] = mapped_column(
        enum_column(WithdrawalSource, 100)
    )
    created_at: Mapped[created_at]
    withdrawn_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None
