"""Reading hand-offs: a structure's inbox and outbox, counts, and one hand-off for a party.

The receiving structure sees a pending hand-off without the person's identity: pseudonym,
cohorts, age band, QPV, purpose, barriers and the sender's note. Only structures party to a
hand-off can open it; for anyone else it does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from app.domain.deadlines import deadline_cutoff
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import Barrier, Beneficiary, Handoff, User
from app.services.errors import N_, NotFound
from app.services.handoffs.deadlines import waiting_since
from app.services.security.vault import Vault


class Box(StrEnum):
    INBOX = "in"
    OUTBOX = "out"


@dataclass(frozen=True)
class HandoffFilters:
    status: HandoffStatus | None = None
    purpose: str | None = None  # "stage" or "barrier"
    overdue: bool = False


def _structure_id(actor: User) -> int:
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise NotFound(N_("No hand-off here."))
    return actor.structure_id


def _box(actor: User, box: Box) -> Select[Handoff]:
    column = Handoff.to_structure_id if box is Box.INBOX else Handoff.from_structure_id
    return select(Handoff).where(column == _structure_id(actor))


def overdue_since(now: datetime, overdue_days: int) -> datetime:
    """Hand-offs sent before this moment and still unanswered are overdue."""
    return deadline_cutoff(now, overdue_days)


# What a row of the lists shows, loaded with the hand-offs (each a many-to-one: one join):
# the person's pseudonym (not their cohorts), the purpose, the other party (joined always).
_ROW_LOADS = (
    joinedload(Handoff.beneficiary).lazyload(Beneficiary.cohorts),
    joinedload(Handoff.purpose_stage),
    joinedload(Handoff.purpose_barrier),
)


def list_box(
    session: Session,
    actor: User,
    box: Box,
    *,
    filters: HandoffFilters,
    now: datetime,
    overdue_days: int,
    limit: int = 200,
) -> list[Handoff]:
    """The structure's hand-offs in ``box``, pending first, then newest first."""
    query = _box(actor, box)
    if filters.status is not None:
        query = query.where(Handoff.status == filters.status)
    if filters.purpose == "stage":
        query = query.where(Handoff.purpose_stage_id.is_not(None))
    elif filters.purpose == "barrier":
        query = query.where(Handoff.purpose_barrier_id.is_not(None))
    if filters.overdue:
        query = query.where(waiting_since(now, overdue_days))
    pending_first = (Handoff.status != HandoffStatus.SENT).asc()  # False sorts first
    query = query.options(*_ROW_LOADS).order_by(pending_first, Handoff.sent_at.desc())
    return list(session.scalars(query.limit(limit)))


def box_counts(
    session: Session, actor: User, box: Box, *, now: datetime, overdue_days: int
) -> dict[str, int]:
    """Counts per status in ``box``, plus ``overdue`` and ``all`` (one query)."""
    inner = _box(actor, box).subquery()
    late = and_(
        inner.c.status == HandoffStatus.SENT.value,
        inner.c.sent_at < overdue_since(now, overdue_days),
    )
    counts: dict[str, int] = {}
    overdue = 0
    for status, count, late_count in session.execute(
        select(inner.c.status, func.count(), func.sum(case((late, 1), else_=0))).group_by(
            inner.c.status
        )
    ):
        counts[str(status)] = count
        overdue += int(late_count or 0)
    counts["all"] = sum(counts.values())
    counts["overdue"] = overdue
    return counts


def pending_inbox_count(session: Session, actor: User) -> int:
    """Hand-offs waiting for the actor's structure to answer (the navigation badge)."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        return 0
    return (
        session.scalar(
            select(func.count()).where(
                Handoff.to_structure_id == actor.structure_id, Handoff.status == HandoffStatus.SENT
            )
        )
        or 0
    )


def handoff_for_party(session: Session, actor: User, handoff_id: str) -> Handoff:
    """The hand-off if the actor's structure sent or received it, else ``NotFound``."""
    structure_id = _structure_id(actor)
    try:
        ident = uuid.UUID(handoff_id)
    except ValueError:
        raise NotFound(N_("No hand-off here.")) from None
    handoff = session.get(Handoff, ident)
    if handoff is None or structure_id not in (handoff.from_structure_id, handoff.to_structure_id):
        raise NotFound(N_("No hand-off here."))
    return handoff


def chain(session: Session, handoff: Handoff) -> list[Handoff]:
    """The redirect chain the hand-off belongs to, from the first hand-off to the last."""
    first = handoff
    while first.parent_id is not None:
        parent = session.get(Handoff, first.parent_id)
        if parent is None:
            break
        first = parent
    links = [first]
    while True:
        child = session.scalar(select(Handoff).where(Handoff.parent_id == links[-1].id))
        if child is None:
            return links
        links.append(child)


def person_barriers(session: Session, person_id: uuid.UUID) -> list[Barrier]:
    return list(
        session.scalars(
            select(Barrier)
            .where(Barrier.beneficiary_id == person_id)
            .order_by(Barrier.identified_on)
        )
    )


def handoff_texts(session: Session, vault: Vault, handoff: Handoff) -> dict[uuid.UUID, str]:
    """The note and transition messages of one hand-off, for its parties only."""
    sealed = [("handoffs", "note", handoff.id, handoff.note)]
    sealed += [("handoff_transitions", "message", e.id, e.message) for e in handoff.events]
    return vault.open_many(session, handoff.beneficiary_id, sealed)
