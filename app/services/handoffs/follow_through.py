"""Following a hand-off through, without changing its status: its sender reminds the receiving
structure of a pending hand-off, or sends the person elsewhere once it was declined, expired or
redirected ("reorient": what the new hand-off starts from); once a hand-off for a barrier
completes, the receiving structure says whether its follow-up of the person ends (so that it
does not keep seeing the identity for ever) or goes on.

Each is recorded in the hand-off's history (a transition row from and to the same status, see
``app.domain.handoffs.FOLLOW_THROUGH``) and audited like a transition; a reminder queues a
mail to the receiving structure. The hand-off's version is bumped, so a reminder racing an
answer loses (``Conflict``) rather than being recorded on an answered hand-off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app.domain.audit import AuditAction
from app.domain.deadlines import next_reminder_at
from app.domain.handoffs import (
    REORIENTABLE,
    HandoffEvent,
    HandoffStatus,
    Party,
    may_follow_through,
)
from app.models import Beneficiary, FollowUp, Handoff, HandoffTransition, User
from app.services.errors import N_, Conflict, InvalidInput, NotFound
from app.services.handoffs.history import record_transition
from app.services.handoffs.link_offers import offer_answer_link
from app.services.handoffs.lists import handoff_for_party
from app.services.handoffs.parties import parties
from app.services.handoffs.repeats import answered_alike
from app.services.mail.queue import notify_handoff
from app.services.pathways import end_follow_up
from app.services.people.access import open_follow_up
from app.services.repeats import REPEAT_WINDOW, AlreadyRecorded
from app.services.security import audit
from app.services.security.vault import Vault

# Why the follow-up ends when the receiving structure answers "end our follow-up".
FOLLOW_UP_END_REASON = "goal_reached"
# Hand-offs that keep the receiving structure working with the person.
_STILL_OPEN = (HandoffStatus.SENT, HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS)


class ReminderTooSoon(InvalidInput):
    """A reminder asked for before ``due``: the interval since the last one has not passed."""

    def __init__(self, due: datetime, days: int) -> None:
        super().__init__(
            N_("One reminder every %(days)d days at most: the next one is possible later."),
            days=days,
        )
        self.due = due


def next_reminder(session: Session, handoff: Handoff, days: int) -> datetime:
    """When the sender may next remind the receiver of ``handoff``."""
    last = session.scalar(
        select(func.max(HandoffTransition.at)).where(
            HandoffTransition.handoff_id == handoff.id,
            HandoffTransition.event == HandoffEvent.REMIND,
        )
    )
    return next_reminder_at(handoff.sent_at, [last] if last is not None else [], days)


def _reminded_a_moment_ago(session: Session, handoff: Handoff, actor: User, now: datetime) -> bool:
    """Whether ``actor``'s structure reminded the receiver less than ``REPEAT_WINDOW`` ago."""
    recent = exists().where(
        HandoffTransition.handoff_id == handoff.id,
        HandoffTransition.event == HandoffEvent.REMIND,
        HandoffTransition.actor_structure_id == actor.structure_id,
        HandoffTransition.at >= now - REPEAT_WINDOW,
    )
    return bool(session.scalar(select(recent)))


def may_remind(actor: User, handoff: Handoff) -> bool:
    """Whether the page offers "Remind" to ``actor`` (the interval aside)."""
    return handoff.beneficiary.erased_at is None and may_follow_through(
        HandoffEvent.REMIND, handoff.status, parties(actor, handoff)
    )


def remind(
    session: Session,
    vault: Vault,
    actor: User,
    handoff: Handoff,
    *,
    now: datetime,
    days: int,
    message: str | None = None,
) -> None:
    """Remind the receiving structure of ``handoff``, still waiting for its answer.

    ``InvalidInput`` unless the actor's structure sent it and it is still pending;
    ``ReminderTooSoon`` within ``days`` days of the sending or of the last reminder, but
    ``AlreadyRecorded`` when that reminder is the structure's own of a moment ago (sent twice).
    """
    if not may_remind(actor, handoff):
        raise InvalidInput(N_("Only the sender of a hand-off still waiting can remind."))
    due = next_reminder(session, handoff, days)
    if now < due:
        if _reminded_a_moment_ago(session, handoff, actor, now):  # the same reminder again
            raise AlreadyRecorded(handoff)
        raise ReminderTooSoon(due, days)
    _record(session, vault, actor, handoff, HandoffEvent.REMIND, now, message)
    notify_handoff(session, handoff, HandoffEvent.REMIND)
    offer_answer_link(session, handoff, now=now)


def asks_about_follow_up(session: Session, actor: User, handoff: Handoff) -> bool:
    """Whether the hand-off page asks ``actor`` if its structure's follow-up ends.

    Asked of the receiving structure once a hand-off for a barrier has completed, while it
    still follows the person, has not answered yet, and has no other hand-off of the person
    still open (sent to it, accepted or in progress).
    """
    if (
        handoff.purpose_barrier_id is None
        or handoff.beneficiary.erased_at is not None
        or not may_follow_through(
            HandoffEvent.FOLLOW_UP_KEPT, handoff.status, parties(actor, handoff)
        )
        or open_follow_up(session, handoff.beneficiary_id, handoff.to_structure_id) is None
    ):
        return False
    answered = exists().where(
        HandoffTransition.handoff_id == handoff.id,
        HandoffTransition.event.in_(_ANSWERS),
    )
    others = exists().where(
        Handoff.beneficiary_id == handoff.beneficiary_id,
        Handoff.to_structure_id == handoff.to_structure_id,
        Handoff.id != handoff.id,
        Handoff.status.in_(_STILL_OPEN),
    )
    return not session.scalar(select(answered | others))


_ANSWERS = (HandoffEvent.FOLLOW_UP_ENDED, HandoffEvent.FOLLOW_UP_KEPT)


def answer_follow_up(
    session: Session,
    vault: Vault,
    actor: User,
    handoff: Handoff,
    *,
    end: bool,
    now: datetime,
    today: date,
) -> FollowUp | None:
    """Record the receiving structure's answer: ``end`` its follow-up of the person (the
    follow-up end use case, reason "goal reached", today), or keep following.

    Returns the ended follow-up, or ``None`` when it goes on. ``InvalidInput`` when the
    question is not (or no longer) asked; ``AlreadyRecorded`` when the structure gave this
    same answer already (sent twice).
    """
    event = HandoffEvent.FOLLOW_UP_ENDED if end else HandoffEvent.FOLLOW_UP_KEPT
    if not asks_about_follow_up(session, actor, handoff):
        if answered_alike(actor, handoff, event, None):  # the same answer sent twice
            raise AlreadyRecorded(handoff)
        raise InvalidInput(N_("This question has already been answered, or is not asked here."))
    ended = None
    if end:
        ended = end_follow_up(
            session,
            actor,
            handoff.beneficiary,
            reason_code=FOLLOW_UP_END_REASON,
            on=today,
        )
    _record(session, vault, actor, handoff, event, now, None)
    return ended


def _record(
    session: Session,
    vault: Vault,
    actor: User,
    handoff: Handoff,
    event: HandoffEvent,
    now: datetime,
    message: str | None,
) -> None:
    status = handoff.status
    flag_modified(handoff, "status")  # bump the version: an answer at the same moment wins
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(N_("Someone else answered this hand-off first.")) from exc
    record_transition(session, vault, actor, handoff, event, status, now, None, message)
    audit.record(
        session,
        actor,
        AuditAction.HANDOFF_TRANSITION,
        handoff,
        beneficiary_id=handoff.beneficiary_id,
        event=event.value,
        status=status.value,
    )


@dataclass(frozen=True)
class Reorientation:
    """What a new hand-off of the person starts from, after ``source`` came to nothing."""

    source: Handoff
    purpose: str | None  # "stage:<code>" or "barrier:<id>", as the send form writes it
    note: str | None
    excluded: int  # the partner that declined it, let it expire or redirected it


def may_reorient(session: Session, actor: User, handoff: Handoff) -> bool:
    """Whether ``actor``'s structure, which sent ``handoff``, may send the person elsewhere: it
    was declined, expired or redirected, and the structure still follows the person."""
    return (
        handoff.status in REORIENTABLE
        and Party.SENDER in parties(actor, handoff)
        and handoff.beneficiary.erased_at is None
        and open_follow_up(session, handoff.beneficiary_id, handoff.from_structure_id) is not None
    )


def reorientation(
    session: Session, vault: Vault, actor: User, person: Beneficiary, handoff_id: str
) -> Reorientation | None:
    """The hand-off ``handoff_id`` of ``person`` to reorient, with its purpose (a barrier only
    while still open) and its note, or ``None`` if there is none the actor may reorient."""
    try:
        source = handoff_for_party(session, actor, handoff_id)
    except NotFound:
        return None
    if source.beneficiary_id != person.id or not may_reorient(session, actor, source):
        return None
    purpose = None
    if source.purpose_stage is not None:
        purpose = f"stage:{source.purpose_stage.code}"
    elif source.purpose_barrier is not None and not source.purpose_barrier.status.is_closed:
        purpose = f"barrier:{source.purpose_barrier.id.hex}"
    note = None
    if source.note is not None:
        sealed: list[tuple[str, str, uuid.UUID, bytes | None]] = [
            ("handoffs", "note", source.id, source.note)
        ]
        note = vault.open_many(session, person.id, sealed).get(source.id)
    return Reorientation(source, purpose, note, source.to_structure_id)
