"""Follow-ups, pathway steps and barriers: what happens to a person, and who does it."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, LargeBinary, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.employment import ContractType
from app.domain.pathway import BarrierLevel, BarrierStatus
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.reference import ReferenceItem
from app.models.structure import Structure


class FollowUp(Base):
    """That a structure accompanies a person, from when until when, and why it ended."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        # At most one open follow-up per person and structure.
        Index(
            "uq_follow_ups_open",
            "beneficiary_id",
            "structure_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        # A referent's open follow-ups: whose lost-from-view list the work queue computes (the
        # "work queue indexes" revision).
        Index(
            "ix_follow_ups_referent_open",
            "referent_id",
            "structure_id",
            "beneficiary_id",
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        # A structure's open follow-ups by start day: the work queue's people without consent,
        # the longest followed first, read in that order (the "lost from view state" revision).
        Index(
            "ix_follow_ups_structure_open",
            "structure_id",
            "started_on",
            "beneficiary_id",
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
        # Whether a structure follows a person (``access.follows``), looked up per row of a list;
        # also every lookup of a person's follow-ups (its leading column: no index of its own on
        # ``beneficiary_id``, one fewer to write per follow-up, the "follow-ups without their
        # single-column person index" revision).
        Index("ix_follow_ups_person_structure", "beneficiary_id", "structure_id", "ended_on"),
    )

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE")
    )
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    end_reason_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    created_at: Mapped[created_at]

    structure: Mapped[Structure] = relationship(lazy="joined")
    end_reason: Mapped[ReferenceItem | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class PathwayStep(Base):
    """A dated stage on the person's timeline, recorded by a structure.

    ``action`` is free text that may identify the person, so it is encrypted. An employment
    step may say which contract (``contract_type``, in clear for the statistics) and with whom
    (``employer``, encrypted: a small employer can identify the person); its ``started_on`` is
    the first day of work.
    """

    __tablename__ = "pathway_steps"
    # The statistics select the steps of a period (see the "statistics indexes" revision); the
    # lists and the people lost from view find each person's latest step up to a day, one index
    # lookup per person (the "list keyset indexes" revision; app.services.statistics.lost).
    __table_args__ = (
        Index("ix_pathway_steps_period", "started_on", "stage_id", "beneficiary_id"),
        Index("ix_pathway_steps_latest", "beneficiary_id", "started_on", "created_at"),
    )

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("reference_items.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    action: Mapped[bytes | None] = mapped_column(LargeBinary)
    contract_type: Mapped[ContractType | None] = mapped_column(enum_column(ContractType, 24))
    employer: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    stage: Mapped[ReferenceItem] = relationship(lazy="joined")
    structure: Mapped[Structure] = relationship(lazy="joined")


class Barrier(Base):
    """A barrier to employment (frein périphérique), its status and the structure acting on it.

    ``level`` is its weight on the job search (national scale, ``None``: not assessed);
    ``detail`` is free text ("no driving licence") that may identify: encrypted. When the
    barrier is closed, ``closed_by_structure_id`` is the structure that closed it (the partner
    whose hand-off lifted it, or the caseworker's structure), with ``closed_on``.
    """

    __tablename__ = "barriers"
    __table_args__ = (
        Index(
            "ix_barriers_period",
            "identified_on",
            "category_id",
            "acting_structure_id",
            "status",
            "beneficiary_id",
        ),
    )

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("reference_items.id"), index=True)
    status: Mapped[BarrierStatus] = mapped_column(enum_column(BarrierStatus, 16), index=True)
    acting_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    level: Mapped[BarrierLevel | None] = mapped_column(enum_column(BarrierLevel, 16))
    detail: Mapped[bytes | None] = mapped_column(LargeBinary)
    identified_on: Mapped[date]
    closed_on: Mapped[date | None]
    # The day the current status took effect (a change may not be dated before it).
    status_on: Mapped[date | None]
    closed_by_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    category: Mapped[ReferenceItem] = relationship(lazy="joined")
    acting_structure: Mapped[Structure | None] = relationship(
        foreign_keys=[acting_structure_id], lazy="joined"
    )
    closed_by_structure: Mapped[Structure | None] = relationship(
        foreign_keys=[closed_by_structure_id], lazy="joined"
    )
