"""Orientation decisions: the pathway type a structure decided for a person, and the
criteria (barrier levels on that day) it was decided on."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.orientation import DecisionReason
from app.domain.pathway import BarrierLevel
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.reference import ReferenceItem
from app.models.structure import Structure


class OrientationDecision(Base):
    """A decision of a person's pathway type by a structure, on ``decided_on`` (an effective
    date). Never changed: a change of pathway type is a new decision, the latest is current."""

    __tablename__ = "orientation_decisions"
    # The statistics select the decisions of a period.
    __table_args__ = (
        Index("ix_orientation_decisions_period", "decided_on", "pathway_type_id", "beneficiary_id"),
    )

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    pathway_type_id: Mapped[int] = mapped_column(ForeignKey("reference_items.id"))
    decided_on: Mapped[date]
    reason: Mapped[DecisionReason | None] = mapped_column(enum_column(DecisionReason, 24))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    pathway_type: Mapped[ReferenceItem] = relationship(lazy="joined")
    structure: Mapped[Structure] = relationship(lazy="joined")
    criteria: Mapped[list[OrientationCriterion]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="OrientationCriterion.category_id",
    )


class OrientationCriterion(Base):
    """One criterion of a decision: a barrier category and its level on the decision's day."""

    __tablename__ = "orientation_criteria"

    decision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orientation_decisions.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("reference_items.id"), primary_key=True)
    level: Mapped[BarrierLevel] = mapped_column(enum_column(BarrierLevel, 16))

    category: Mapped[ReferenceItem] = relationship(lazy="joined")
