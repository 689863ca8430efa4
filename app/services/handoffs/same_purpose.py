"""Hand-offs of one person open for the same purpose: the sender is warned before sending a
second one, and the parties of each see the others.

A purpose is a stage, or a barrier category (two barriers of the same category are one
purpose). A hand-off is open while it waits for an answer or is being worked on (sent,
accepted, first contact made). A redirect closes the hand-off it replaces and sends a new one
for the same purpose, so the open link of a redirect chain is found wherever the chain went.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.models import Barrier, Handoff, ReferenceItem

OPEN_STATUSES = (HandoffStatus.SENT, HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS)


def open_for_purpose(
    session: Session,
    person_id: uuid.UUID,
    *,
    stage: ReferenceItem | None = None,
    barrier: Barrier | None = None,
    exclude: uuid.UUID | None = None,
) -> list[Handoff]:
    """The person's open hand-offs for ``stage`` or for ``barrier``'s category, oldest first."""
    query = select(Handoff).where(
        Handoff.beneficiary_id == person_id, Handoff.status.in_(OPEN_STATUSES)
    )
    if stage is not None:
        query = query.where(Handoff.purpose_stage_id == stage.id)
    elif barrier is not None:
        query = query.join(Barrier, Handoff.purpose_barrier_id == Barrier.id).where(
            Barrier.category_id == barrier.category_id
        )
    else:
        return []
    if exclude is not None:
        query = query.where(Handoff.id != exclude)
    return list(session.scalars(query.order_by(Handoff.sent_at, Handoff.id)))


def others_for_same_purpose(session: Session, handoff: Handoff) -> list[Handoff]:
    """The other open hand-offs of the same person for the purpose of ``handoff``."""
    return open_for_purpose(
        session,
        handoff.beneficiary_id,
        stage=handoff.purpose_stage,
        barrier=handoff.purpose_barrier,
        exclude=handoff.id,
    )
