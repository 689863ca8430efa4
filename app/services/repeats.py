"""Two tabs, one record: the content check behind the one-time tokens of ``submissions``.

A form's token keeps a double click, a resend or a restored tab from creating a second record.
Two forms opened separately (two tabs) carry two tokens, so the use cases also look at what
is being recorded: the same record, recorded by the same structure (or, for an account without
one, the same account) less than ``REPEAT_WINDOW`` ago, is not recorded again, and the use
case raises ``AlreadyRecorded`` with the record already there, for the page to show it.

"The same record" is, for a step: the same person, structure, stage and start day; for a
barrier: the same person and category, still open; for a network event: the same day and theme
(any case, spaces folded). Anything else is a new record, as are these same records once the
window has passed (a second step of one stage the same day); a barrier of a category still
open for the person, recorded earlier or by another structure, is refused on its category
(to be updated where it is), while a barrier of a category again after the first one was
lifted is a new one: closed barriers are never "the same".

A change sent twice is recognised where it is made (a barrier's status, by
``pathways.set_barrier_status``; an answer to a hand-off, by ``handoffs.repeats``); the end
of a follow-up, after which the person is no longer followed, by ``ended_a_moment_ago``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.domain.audit import AuditAction
from app.domain.pathway import BarrierStatus
from app.models import AuditEvent, Barrier, Beneficiary, FollowUp, NetworkEvent, PathwayStep, User
from app.models.base import utcnow
from app.services.errors import N_, Conflict, InvalidInput

# How long an identical record counts as the same one typed twice (two tabs): long enough for a
# caseworker who opened the form twice and sent both, short enough not to stop a real repeat.
REPEAT_WINDOW = timedelta(minutes=10)

_OPEN = [status for status in BarrierStatus if not status.is_closed]


class AlreadyRecorded(Conflict):
    """What is being recorded is there already (the same record a moment ago, the same change):
    ``record`` is it, for the page to show."""

    code = "already_recorded"

    def __init__(self, record: Any) -> None:
        super().__init__(N_("This was already recorded: it is kept once."))
        self.record = record


def _since(now: datetime | None) -> datetime:
    return (now or utcnow()) - REPEAT_WINDOW


def _recorded_by_same(
    actor: User, column: InstrumentedAttribute[int | None]
) -> ColumnElement[bool]:
    """The record's author is ``actor``, or a colleague of ``actor``'s structure."""
    if actor.structure_id is None:
        return column == actor.id
    colleagues = select(User.id).where(User.structure_id == actor.structure_id)
    return column.in_(colleagues.scalar_subquery())


def refuse_same_step(
    session: Session,
    person_id: object,
    structure_id: int,
    stage_id: int,
    started_on: date,
    *,
    now: datetime | None = None,
) -> None:
    """``AlreadyRecorded`` if the structure recorded this stage from this day a moment ago."""
    found = session.scalar(
        select(PathwayStep)
        .where(
            PathwayStep.beneficiary_id == person_id,
            PathwayStep.structure_id == structure_id,
            PathwayStep.stage_id == stage_id,
            PathwayStep.started_on == started_on,
            PathwayStep.created_at >= _since(now),
        )
        .order_by(PathwayStep.created_at)
        .limit(1)
    )
    if found is not None:
        raise AlreadyRecorded(found)


def refuse_same_barrier(
    session: Session,
    actor: User,
    person_id: object,
    category_id: int,
    *,
    identified_on: date,
    now: datetime | None = None,
) -> None:
    """``AlreadyRecorded`` if the actor's structure recorded an open barrier of this category,
    identified the same day, for the person a moment ago (the form sent from two tabs);
    ``InvalidInput`` on ``category`` if any other barrier of this category is open for them:
    a barrier is a fact about the person, updated where it is, not typed again."""
    found = session.scalar(
        select(Barrier)
        .where(
            Barrier.beneficiary_id == person_id,
            Barrier.category_id == category_id,
            Barrier.status.in_(_OPEN),
        )
        .order_by(Barrier.created_at)
        .limit(1)
    )
    if found is None:
        return
    same_moment = session.scalar(
        select(Barrier.id).where(
            Barrier.id == found.id,
            Barrier.identified_on == identified_on,
            Barrier.created_at >= _since(now),
            _recorded_by_same(actor, Barrier.recorded_by_id),
        )
    )
    if same_moment is not None:
        raise AlreadyRecorded(found)
    raise InvalidInput(
        N_(
            "A barrier of this category is already open for this person, identified on "
            "%(date)s: update that one rather than adding another."
        ),
        field="category",
        date=found.identified_on,
    )


def _folded(theme: str) -> str:
    return " ".join(theme.split()).casefold()


def refuse_same_network_event(
    session: Session, actor: User, theme: str, held_on: date, *, now: datetime | None = None
) -> None:
    """``AlreadyRecorded`` if the actor (or their structure) recorded an event of this theme on
    this day a moment ago."""
    candidates = session.scalars(
        select(NetworkEvent).where(
            NetworkEvent.held_on == held_on,
            NetworkEvent.created_at >= _since(now),
            _recorded_by_same(actor, NetworkEvent.recorded_by_id),
        )
    )
    for event in candidates:
        if _folded(event.theme) == _folded(theme):
            raise AlreadyRecorded(event)


def ended_a_moment_ago(
    session: Session, actor: User, pseudonym: str, *, now: datetime | None = None
) -> bool:
    """Whether ``actor``'s structure ended its follow-up of the person ``pseudonym`` less than
    ``REPEAT_WINDOW`` ago: the end of a follow-up sent twice, which ``pathways.end_follow_up``
    refuses (``Forbidden``: the structure no longer follows the person)."""
    if actor.structure_id is None:
        return False
    ended = (
        select(FollowUp.id)
        .join(Beneficiary, Beneficiary.id == FollowUp.beneficiary_id)
        .where(
            Beneficiary.pseudonym == pseudonym,
            FollowUp.structure_id == actor.structure_id,
            FollowUp.ended_on.is_not(None),
        )
    )
    ids = [str(follow_up_id) for follow_up_id in session.scalars(ended)]
    if not ids:
        return False
    recent = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.action == AuditAction.FOLLOW_UP_END.value,
            AuditEvent.subject_id.in_(ids),
            AuditEvent.actor_structure_id == actor.structure_id,
            AuditEvent.at >= _since(now),
        )
        .limit(1)
    )
    return recent is not None
