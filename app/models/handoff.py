"""Hand-offs between structures and their immutable transition events."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.domain.effective_dates import field_day
from app.domain.handoffs import FINAL_STATUSES, HandoffEvent, HandoffStatus, WithdrawCause
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.beneficiary import Beneficiary
from app.models.pathway import Barrier
from app.models.reference import ReferenceItem
from app.models.structure import Structure
from app.models.user import User

# The rows the pending-hand-off unique indexes cover, by purpose column.
PENDING_WITH = {
    "stage": "status = 'sent' AND purpose_stage_id IS NOT NULL",
    "barrier": "status = 'sent' AND purpose_barrier_id IS NOT NULL",
}

_FINAL = ", ".join(f"'{status.value}'" for status in sorted(FINAL_STATUSES))


class Handoff(Base):
    """A referral of a person from one structure to another, for a stage or a barrier.

    ``note`` is free text, encrypted under the person's key. ``parent_id`` links a hand-off
    created by a redirect to the one it replaced, so a chain of redirects stays visible.
    ``version`` is bumped by every transition so that two concurrent answers cannot both win.

    The ``*_at`` moments are when Relais recorded the answer, the first contact and the
    closing; the ``*_on`` days are when they happened (effective dates, possibly back-dated:
    ``app.domain.effective_dates``), which the timeline and the statistics read. Deadlines
    count from ``sent_at``.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint("from_structure_id <> to_structure_id", name="different_structures"),
        CheckConstraint(
            "purpose_stage_id IS NOT NULL OR purpose_barrier_id IS NOT NULL", name="has_purpose"
        ),
        CheckConstraint(
            "status <> 'declined' OR decline_reason_id IS NOT NULL", name="declined_has_reason"
        ),
        CheckConstraint(
            "status NOT IN ('completed', 'not_completed') OR outcome_id IS NOT NULL",
            name="closed_has_outcome",
        ),
        CheckConstraint(
            "status NOT IN ('in_progress', 'completed') OR first_contact_at IS NOT NULL",
            name="contact_before_progress",
        ),
        # Closed (the moment and the day) exactly when final: the lists of recent closings
        # read ``closed_at`` alone, the pathway's state and exports ``closed_on`` (the
        # "closed when final" revision).
        CheckConstraint(
            f"status NOT IN ({_FINAL}) OR (closed_at IS NOT NULL AND closed_on IS NOT NULL)",
            name="closed_when_final",
        ),
        CheckConstraint(
            f"status IN ({_FINAL}) OR (closed_at IS NULL AND closed_on IS NULL)",
            name="open_until_final",
        ),
        # One hand-off waiting for an answer per person, sender, receiver and purpose (a stage
        # or a barrier): two identical sendings at the same moment record one.
        *(
            Index(
                f"uq_handoffs_pending_{purpose}",
                "beneficiary_id",
                "from_structure_id",
                "to_structure_id",
                f"purpose_{purpose}_id",
                unique=True,
                sqlite_where=text(PENDING_WITH[purpose]),
                postgresql_where=text(PENDING_WITH[purpose]),
            )
            for purpose in PENDING_WITH
        ),
        # A structure's boxes, newest first, read by keyset (the "list keyset indexes" revision).
        Index("ix_handoffs_inbox", "to_structure_id", "sent_at", "id"),
        Index("ix_handoffs_outbox", "from_structure_id", "sent_at", "id"),
        # Their waiting hand-offs (a box lists them first): the "follow-ups by person" revision.
        Index("ix_handoffs_inbox_status", "to_structure_id", "status", "sent_at", "id"),
        Index("ix_handoffs_outbox_status", "from_structure_id", "status", "sent_at", "id"),
        # Its recently closed ones (the work queue's hand-offs to re-orient): every final
        # transition sets ``closed_at`` (the "recent closings" revision back-filled the rest).
        Index("ix_handoffs_outbox_closed", "from_structure_id", "status", "closed_at"),
    )

    id: Mapped[uuid_pk]
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    from_structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    purpose_stage_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    purpose_barrier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("barriers.id"))
    note: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_confirmed: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[HandoffStatus] = mapped_column(enum_column(HandoffStatus, 16), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("handoffs.id"), index=True)
    decline_reason_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    sent_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    first_contact_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    answered_on: Mapped[date | None]
    first_contact_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    beneficiary: Mapped[Beneficiary] = relationship()
    from_structure: Mapped[Structure] = relationship(
        foreign_keys=[from_structure_id], lazy="joined"
    )
    to_structure: Mapped[Structure] = relationship(foreign_keys=[to_structure_id], lazy="joined")
    # The sending account, read with an answer for the mail that tells it (read-only).
    sender: Mapped[User | None] = relationship(foreign_keys=[from_user_id], viewonly=True)
    purpose_stage: Mapped[ReferenceItem | None] = relationship(foreign_keys=[purpose_stage_id])
    purpose_barrier: Mapped[Barrier | None] = relationship()
    decline_reason: Mapped[ReferenceItem | None] = relationship(foreign_keys=[decline_reason_id])
    outcome: Mapped[ReferenceItem | None] = relationship(foreign_keys=[outcome_id])
    events: Mapped[list[HandoffTransition]] = relationship(
        back_populates="handoff",
        order_by="[HandoffTransition.effective_on, HandoffTransition.at]",
    )

    # Read with an answer only (``handoffs.lists.handoff_for_party``), in the same statement:
    # whether a link of the hand-off is still usable (else no revocation to run) and whether
    # an active webhook endpoint of either structure may hear it (else no endpoint to look
    # up). ``None`` when not read: the answer then runs both.
    has_open_links: Mapped[bool | None] = query_expression()
    heard_by_webhooks: Mapped[bool | None] = query_expression()

    __mapper_args__ = {"version_id_col": version}

    @property
    def first_contact_recorded_later(self) -> bool:
        """Whether the first contact was recorded on a later day than it happened."""
        if self.first_contact_at is None or self.first_contact_on is None:
            return False
        return field_day(self.first_contact_at) != self.first_contact_on


class HandoffTransition(Base):
    """One transition of a hand-off: never updated, never deleted (an erasure of the person
    only clears ``message``, a ciphertext nobody can read any more).

    ``at`` is when it was recorded; ``effective_on`` the day it happened (the same day, except
    for the events a caseworker may back-date: ``app.domain.handoffs.BACKDATED_EVENTS``).
    """

    __tablename__ = "handoff_transitions"

    id: Mapped[uuid_pk]
    handoff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[HandoffEvent] = mapped_column(enum_column(HandoffEvent, 16))
    from_status: Mapped[HandoffStatus | None] = mapped_column(enum_column(HandoffStatus, 16))
    to_status: Mapped[HandoffStatus] = mapped_column(enum_column(HandoffStatus, 16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    # A message to the other party (e.g. why a hand-off is declined); may identify: encrypted.
    message: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Why the person's side withdrew it (``Party.PERSON``): consent withdrawn, or erasure.
    cause: Mapped[WithdrawCause | None] = mapped_column(enum_column(WithdrawCause, 32))
    at: Mapped[created_at]
    effective_on: Mapped[date]

    handoff: Mapped[Handoff] = relationship(back_populates="events")
    reason: Mapped[ReferenceItem | None] = relationship()

    @property
    def recorded_later(self) -> bool:
        """Whether it was recorded on a later day than it happened (back-dated)."""
        return field_day(self.at) != self.effective_on
