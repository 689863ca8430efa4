"""Unmet needs: pseudonymous records of a need the network did not meet (statistics input).

See ``app.domain.unmet_needs`` for what makes one. A record holds no identity and no free
text: the person's id (cleared when the person is erased: ``detach_person``), the barrier
category (or the stage a hand-off was for), the QPV and cohorts of the person *as they were
that day*, the day, the source, and the structures.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Column, ForeignKey, Index, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.unmet_needs import UnmetNeedSource
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.reference import ReferenceItem
from app.models.structure import Structure

unmet_need_cohorts = Table(
    "unmet_need_cohorts",
    Base.metadata,
    Column("unmet_need_id", ForeignKey("unmet_needs.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("reference_items.id"), primary_key=True),
)


class UnmetNeed(Base):
    """One need that went unmet, on ``occurred_on``, at ``structure`` (the partner that
    declined or let the hand-off expire; the caseworker's own structure for "no solution
    found"), referred by ``referred_by_structure`` (the hand-off's sender; None otherwise).

    ``handoff_id`` is unique: a hand-off ends once, so it makes at most one record.
    ``category`` is the barrier's category (None: a hand-off for a stage, ``stage``).
    """

    __tablename__ = "unmet_needs"
    __table_args__ = (Index("ix_unmet_needs_period", "occurred_on", "category_id"),)

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[UnmetNeedSource] = mapped_column(enum_column(UnmetNeedSource, 24))
    handoff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("handoffs.id", ondelete="SET NULL"), unique=True
    )
    barrier_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("barriers.id", ondelete="SET NULL"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    precision_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    qpv_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    referred_by_structure_id: Mapped[int | None] = mapped_column(
        ForeignKey("structures.id"), index=True
    )
    occurred_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    category: Mapped[ReferenceItem | None] = relationship(foreign_keys=[category_id])
    stage: Mapped[ReferenceItem | None] = relationship(foreign_keys=[stage_id])
    precision: Mapped[ReferenceItem | None] = relationship(foreign_keys=[precision_id])
    structure: Mapped[Structure] = relationship(foreign_keys=[structure_id])
    cohorts: Mapped[list[ReferenceItem]] = relationship(secondary=unmet_need_cohorts)
