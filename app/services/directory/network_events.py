"""Network events (*temps d'interconnaissance*): record them, list them, place them in time.

Coordinators and administrators record the meetings of the network; caseworkers read them.
An event names structures and a head count, never a person. ``events_by_quarter`` gives the
events of a period quarter by quarter, for the cooperation-network chart of the coordinator
dashboard, and ``cooperation_around`` counts the hand-offs between the structures present
before and after an event (small counts hidden, see ``app.domain.disclosure``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.disclosure import protect_value
from app.domain.periods import Quarter, quarters_between
from app.domain.roles import Role
from app.models import Handoff, NetworkEvent, Structure, User
from app.services import repeats
from app.services.errors import N_, Forbidden, InvalidInput, NotFound
from app.services.security import audit

RECORDERS = (Role.COORDINATOR, Role.ADMIN)
READERS = (Role.COORDINATOR, Role.ADMIN, Role.CASEWORKER)


@dataclass(frozen=True)
class EventInput:
    theme: str
    held_on: date | None
    participants: int | None
    structure_ids: Sequence[int]
    follow_ups: str = ""


@dataclass(frozen=True)
class EventMark:
    """An event as a chart draws it: when, what, who took part (structure ids and codes)."""

    id: int
    held_on: date
    theme: str
    participants: int
    structure_ids: tuple[int, ...]
    structure_codes: tuple[str, ...]


@dataclass(frozen=True)
class QuarterEvents:
    quarter: Quarter  # str() gives "2026-Q1"; .starts_on and .ends_on give its dates
    events: tuple[EventMark, ...]


@dataclass(frozen=True)
class Cooperation:
    """Hand-offs sent between the structures of an event, in the days before and after it.

    ``None`` is a count hidden because it is below the small-count threshold.
    """

    days: int
    before: int | None
    after: int | None


def can_record_events(actor: User) -> bool:
    return actor.role in RECORDERS


def _require(actor: User, roles: Sequence[Role]) -> None:
    if actor.role not in roles:
        raise Forbidden(N_("You may not do this."))


def _clean(
    session: Session, data: EventInput, today: date
) -> tuple[str, date, int, list[Structure]]:
    theme = data.theme.strip()
    if not theme or len(theme) > 200:
        raise InvalidInput(
            N_("Give the theme of the event (200 characters at most)."), field="theme"
        )
    if data.held_on is None or data.held_on > today:
        raise InvalidInput(
            N_("Give the date the event took place (not in the future)."), field="held_on"
        )
    if data.participants is None or not 0 <= data.participants <= 100_000:
        raise InvalidInput(N_("Give the number of participants."), field="participants")
    if len(data.follow_ups) > 4000:
        raise InvalidInput(
            N_("This text is too long (%(limit)d characters at most)."),
            field="follow_ups",
            limit=4000,
        )
    ids = sorted(set(data.structure_ids))
    structures = list(session.scalars(select(Structure).where(Structure.id.in_(ids))))
    if len(structures) != len(ids) or not structures:
        raise InvalidInput(N_("Choose the structures that took part."), field="structures")
    return theme, data.held_on, data.participants, structures


def record_event(session: Session, actor: User, data: EventInput, *, today: date) -> NetworkEvent:
    """Record a past event of the network (coordinators and administrators); the same event
    recorded a moment ago by the same account is not recorded again (``AlreadyRecorded``)."""
    _require(actor, RECORDERS)
    theme, held_on, participants, structures = _clean(session, data, today)
    repeats.refuse_same_network_event(session, actor, theme, held_on)
    event = NetworkEvent(
        theme=theme,
        held_on=held_on,
        participants=participants,
        follow_ups=data.follow_ups.strip(),
        recorded_by_id=actor.id,
        structures=structures,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, AuditAction.NETWORK_EVENT_RECORD, event)
    return event


def update_event(
    session: Session,
    actor: User,
    event: NetworkEvent,
    data: EventInput,
    *,
    today: date,
    now: datetime,
) -> None:
    _require(actor, RECORDERS)
    event.theme, event.held_on, event.participants, event.structures = _clean(session, data, today)
    event.follow_ups = data.follow_ups.strip()
    event.updated_at = now
    audit.record(session, actor, AuditAction.NETWORK_EVENT_UPDATE, event)


def get_event(session: Session, actor: User, event_id: int) -> NetworkEvent:
    _require(actor, READERS)
    event = session.get(NetworkEvent, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


def list_events(session: Session, actor: User) -> list[NetworkEvent]:
    """Every event, latest first."""
    _require(actor, READERS)
    query = select(NetworkEvent).order_by(NetworkEvent.held_on.desc(), NetworkEvent.id.desc())
    return list(session.scalars(query))


def events_by_quarter(session: Session, *, start: date, end: date) -> list[QuarterEvents]:
    """The events held from ``start`` to ``end`` (inclusive), grouped by calendar quarter.

    Every quarter of the period is listed, in order, even without an event, so that a chart
    can put them on the same axis as the hand-offs. Events are in date order.
    """
    query = (
        select(NetworkEvent)
        .where(NetworkEvent.held_on >= start, NetworkEvent.held_on <= end)
        .order_by(NetworkEvent.held_on, NetworkEvent.id)
    )
    marks: dict[Quarter, list[EventMark]] = {q: [] for q in quarters_between(start, end)}
    for event in session.scalars(query):
        marks[Quarter.of(event.held_on)].append(
            EventMark(
                id=event.id,
                held_on=event.held_on,
                theme=event.theme,
                participants=event.participants,
                structure_ids=tuple(s.id for s in event.structures),
                structure_codes=tuple(s.code for s in event.structures),
            )
        )
    return [QuarterEvents(quarter, tuple(events)) for quarter, events in marks.items()]


def cooperation_around(
    session: Session, event: NetworkEvent, *, days: int = 90, threshold: int
) -> Cooperation:
    """Hand-offs sent between two structures of the event in the ``days`` before it and in
    the ``days`` from it on; counts below ``threshold`` are hidden."""
    ids = [s.id for s in event.structures]
    held = datetime.combine(event.held_on, time(0), UTC)

    def count(since: datetime, until: datetime) -> int:
        query = (
            select(func.count())
            .select_from(Handoff)
            .where(
                Handoff.from_structure_id.in_(ids),
                Handoff.to_structure_id.in_(ids),
                Handoff.sent_at >= since,
                Handoff.sent_at < until,
            )
        )
        return session.scalar(query) or 0

    span = timedelta(days=days)
    return Cooperation(
        days=days,
        before=protect_value(count(held - span, held), threshold),
        after=protect_value(count(held, held + span), threshold),
    )


def cooperation_shown_to(
    session: Session, actor: User, event: NetworkEvent, *, threshold: int
) -> Cooperation | None:
    """The hand-offs around an event as its page shows them: to coordinators only, who read
    the network's figures (None for the other readers)."""
    if actor.role is not Role.COORDINATOR:
        return None
    return cooperation_around(session, event, threshold=threshold)
