"""An answer to a hand-off sent twice: a double click, the browser's resend, a second tab.

An answer (accept, decline, first contact, complete...) has no one-time token: the hand-off's
status already says whether it can be given. When it cannot be given any more because the
actor's structure gave this very answer already (the same event, with the same reason or
outcome when it has one), the second sending is the first one again: ``AlreadyRecorded``, for
the page to show the hand-off as it is now. Any other answer that the status no longer allows
(accept then decline, or a decline for another reason) is a real conflict and keeps its error.

Two identical answers at the same moment are first kept apart by the hand-off's version (the
second flush fails with ``Conflict``); the caller then asks ``answered_alike`` once the failed
attempt is rolled back, to tell the same answer from a conflicting one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.domain.actors import StructureByLink
from app.domain.handoffs import EVENTS_NEEDING_REASON, HandoffEvent, Party, allowed_events
from app.models import Handoff, HandoffTransition, User
from app.services.repeats import AlreadyRecorded


def answered_alike(
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    reason_code: str | None,
) -> bool:
    """Whether the last ``event`` recorded on ``handoff`` by ``actor``'s structure carries the
    same reason (for the events that have one): the answer ``actor`` is giving again. Read from
    the database (the hand-off's loaded transitions may predate the last one)."""
    session = object_session(handoff)
    if actor is None or actor.structure_id is None or session is None:
        return False
    last = session.scalar(
        select(HandoffTransition)
        .where(
            HandoffTransition.handoff_id == handoff.id,
            HandoffTransition.event == event,
            HandoffTransition.actor_structure_id == actor.structure_id,
        )
        .order_by(HandoffTransition.at.desc())
        .limit(1)
    )
    if last is None:
        return False
    if event not in EVENTS_NEEDING_REASON:
        return True
    recorded = last.reason.code if last.reason is not None else None
    return recorded == (reason_code or None)


def refuse_repeat(
    actor: User | StructureByLink | None,
    handoff: Handoff,
    event: HandoffEvent,
    reason_code: str | None,
    acting: frozenset[Party],
) -> None:
    """``AlreadyRecorded`` when ``event`` is no longer possible for the ``acting`` parties
    because ``actor``'s structure already gave this same answer; nothing otherwise (the
    transition table decides)."""
    if event in allowed_events(handoff.status, acting):
        return
    if answered_alike(actor, handoff, event, reason_code):
        raise AlreadyRecorded(handoff)


def fresh(session: Session, handoff: Handoff) -> Handoff:
    """``handoff`` re-read from the database (after a failed attempt), its transitions too."""
    session.refresh(handoff)
    session.refresh(handoff, ["events"])
    return handoff
