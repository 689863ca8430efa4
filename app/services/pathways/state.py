"""Each person's pathway state, kept on their row by every write of an event, in its transaction.

``Beneficiary.last_event_on`` is the day of the person's latest event - exactly the events
the people lost from view count (``app.services.statistics.lost``): a step's start, a barrier
identified or closed, a hand-off transition done by a structure (not an expiry, nor the
person's side withdrawing it), a follow-up's start; ``NO_EVENT`` while they have none -,
``last_event_structure_id`` the structure behind that event (on a day with several, the
smallest structure id; none when no event of the day names one: the definition's tie-break),
and ``current_stage_id`` the stage of their latest step (by start day, then recording time,
then id), with ``current_stage_position`` its position in the stage list. The lists order and
filter by them through indexes, whatever the number of events in the database, and the people
lost from view *today* are read from them (``app.services.statistics.lost.lost_query``).

An event may be dated after today (a job signed through a hand-off starts on its first day
of work, up to six months ahead): the kept state counts it, so a person whose kept day is
after today is one whose state as of today must be computed from the events.

``refresh_state`` recomputes them from the events, in one UPDATE, for a set of people. It runs:

- at each flush that adds, changes or deletes a step, a barrier, a hand-off transition, a
  hand-off or a follow-up through the ORM (the session hook below: every service writes that
  way);
- explicitly after the writes that bypass the ORM (the synthetic generator's bulk inserts;
  the import writes the state of its new people in their rows: a follow-up started that day).

``note_event`` counts one event added by a Core write - a hand-off's transition row
(``app.services.handoffs.history``), the follow-up an answer opens - into the kept state
without reading any event: an event added can only move the latest day forward, or change
the structure of that same day.

``stale_people`` compares the kept state with the state computed from the events: the tests
assert it is empty after each kind of write, and ``flask pathways check-state`` runs it (and
``--repair`` refreshes what it finds) after a manual restore.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    event,
    func,
    inspect,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, UOWTransaction

from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    ReferenceItem,
    User,
)
from app.models.beneficiary import NO_EVENT, NO_STAGE

People = Sequence[uuid.UUID] | Select[Any]
_KEPT = ["last_event_on", "last_event_structure_id", "current_stage_id", "current_stage_position"]
CHUNK = 5000  # people per UPDATE when refreshing everyone
_INFO_KEY = "relais.pathway_state_refreshing"

# The columns of each event table whose change changes the state.
_WATCHED: dict[type, tuple[str, ...]] = {
    PathwayStep: ("beneficiary_id", "started_on", "created_at", "stage_id", "structure_id"),
    Barrier: (
        "beneficiary_id",
        "identified_on",
        "closed_on",
        "recorded_by_id",
        "acting_structure_id",
        "closed_by_structure_id",
    ),
    HandoffTransition: ("handoff_id", "effective_on", "actor_structure_id"),
    Handoff: ("beneficiary_id",),
    FollowUp: ("beneficiary_id", "started_on", "structure_id"),
}


def event_selects(where: Callable[[Any, Any], ColumnElement[bool]]) -> list[Any]:
    """(person, day, structure) of every event of a pathway, one ``SELECT`` a kind, each kept
    to the rows ``where(its person column, its day column)`` accepts: the one definition of
    an event that the kept state and the people lost from view
    (``app.services.statistics.lost``) share. A step's start, a barrier identified or closed
    (by its recorder's or its acting structure, its closer's), a hand-off transition done by a
    structure, a follow-up's start."""
    return [
        select(
            PathwayStep.beneficiary_id.label("person"),
            PathwayStep.started_on.label("day"),
            PathwayStep.structure_id.label("structure"),
        ).where(where(PathwayStep.beneficiary_id, PathwayStep.started_on)),
        # The recorder's structure by an outer join (one hash join over the accounts), not a
        # correlated lookup per barrier.
        select(
            Barrier.beneficiary_id,
            Barrier.identified_on,
            func.coalesce(User.structure_id, Barrier.acting_structure_id),
        )
        .outerjoin(User, User.id == Barrier.recorded_by_id)
        .where(where(Barrier.beneficiary_id, Barrier.identified_on)),
        select(
            Barrier.beneficiary_id,
            Barrier.closed_on,
            func.coalesce(Barrier.closed_by_structure_id, Barrier.acting_structure_id),
        ).where(Barrier.closed_on.is_not(None), where(Barrier.beneficiary_id, Barrier.closed_on)),
        select(
            Handoff.beneficiary_id,
            HandoffTransition.effective_on,
            HandoffTransition.actor_structure_id,
        )
        .join(HandoffTransition, HandoffTransition.handoff_id == Handoff.id)
        .where(
            HandoffTransition.actor_structure_id.is_not(None),  # done by a partner
            where(Handoff.beneficiary_id, HandoffTransition.effective_on),
        ),
        select(FollowUp.beneficiary_id, FollowUp.started_on, FollowUp.structure_id).where(
            where(FollowUp.beneficiary_id, FollowUp.started_on)
        ),
    ]


def _events_of() -> Any:
    """(person, day, structure) of every event of the enclosing statement's person
    (``beneficiaries``): five index lookups, whatever the number of events in the database."""
    mine = event_selects(lambda person, _day: person == Beneficiary.id)
    return union_all(*(branch.correlate(Beneficiary) for branch in mine)).subquery()


def _days_of() -> Select[Any]:
    """The day of the latest event of the enclosing statement's person (``NO_EVENT``
    without one)."""
    days = _events_of()
    return select(func.coalesce(func.max(days.c.day), NO_EVENT))


def _structure_of() -> Select[Any]:
    """The structure behind the latest event of the enclosing statement's person: on the
    latest day, the smallest structure id, none only when no event of that day names one
    (the tie-break of ``app.services.statistics.lost``)."""
    events = _events_of()
    return (
        select(events.c.structure)
        .order_by(
            events.c.day.desc(),
            case((events.c.structure.is_(None), 1), else_=0),
            events.c.structure,
        )
        .limit(1)
    )


def _stage_of() -> Select[Any]:
    """The stage of the latest step of the enclosing statement's person: one lookup on
    ``ix_pathway_steps_latest``."""
    person = Beneficiary.id
    return (
        select(PathwayStep.stage_id)
        .where(PathwayStep.beneficiary_id == person)
        .order_by(
            PathwayStep.started_on.desc(), PathwayStep.created_at.desc(), PathwayStep.id.desc()
        )
        .limit(1)
        .correlate(Beneficiary)
    )


def _position_of() -> Any:
    """The position of the current stage of the enclosing statement's person (``NO_STAGE``
    without a step)."""
    position = (
        select(ReferenceItem.position)
        .where(ReferenceItem.id == _stage_of().scalar_subquery())
        .correlate(Beneficiary)
        .scalar_subquery()
    )
    return func.coalesce(position, NO_STAGE)


def computed_state(people: People | None = None) -> Select[Any]:
    """(id, day of the latest event, its structure, current stage, its position) of
    ``people`` (everyone when None), computed from the events: what ``refresh_state``
    writes."""
    query: Select[Any] = select(
        Beneficiary.id,
        _days_of().correlate(Beneficiary).scalar_subquery().label("day"),
        _structure_of().correlate(Beneficiary).scalar_subquery().label("structure_id"),
        _stage_of().correlate(Beneficiary).scalar_subquery().label("stage_id"),
        _position_of().label("position"),
    )
    return query if people is None else query.where(Beneficiary.id.in_(people))


def _refresh(people: Any) -> Any:
    return _refresh_where(Beneficiary.id.in_(people))


def _refresh_where(which: ColumnElement[bool]) -> Any:
    return (
        update(Beneficiary)
        .where(which)
        .values(
            last_event_on=_days_of().scalar_subquery(),
            last_event_structure_id=_structure_of().scalar_subquery(),
            current_stage_id=_stage_of().scalar_subquery(),
            current_stage_position=_position_of(),
        )
        .returning(Beneficiary.id)
        .execution_options(synchronize_session=False)
    )


# The UPDATE for one person and for a list of ids, built once: every answer to a hand-off
# runs the first, and building its subqueries cost more CPU than running it.
_REFRESH_ONE = _refresh_where(Beneficiary.id == bindparam("person", type_=Beneficiary.id.type))
_REFRESH_IDS = _refresh(bindparam("people", expanding=True))


def refresh_state(session: Session, people: People) -> list[uuid.UUID]:
    """Recompute the pathway state of ``people`` from their events, in one UPDATE; the ids
    of the people updated (a person loaded in the session sees the new values)."""
    if isinstance(people, Sequence):
        if not people:
            return []
        if len(people) == 1:
            found = session.connection().execute(_REFRESH_ONE, {"person": people[0]})
        else:
            found = session.connection().execute(_REFRESH_IDS, {"people": list(people)})
    else:
        found = session.connection().execute(_refresh(people))
    updated = list(found.scalars())
    _expire_loaded(session, updated)
    return updated


def _note_event() -> Any:
    """The kept state moved by one event added to a person's pathway: the latest day is the
    later of the two; on the same day the structure is the definition's tie-break (the
    smallest id, none only when no event of the day names one). Both right-hand sides read the
    row as it was before the UPDATE (on both databases), under the row's lock."""
    day = bindparam("day", type_=Beneficiary.last_event_on.type)
    structure = bindparam("structure", type_=Beneficiary.last_event_structure_id.type)
    kept_day, kept = Beneficiary.last_event_on, Beneficiary.last_event_structure_id
    same_day = case(
        (structure.is_(None), kept),
        (kept.is_(None), structure),
        (structure < kept, structure),
        else_=kept,
    )
    return (
        update(Beneficiary)
        .where(Beneficiary.id == bindparam("person", type_=Beneficiary.id.type))
        .values(
            last_event_on=case((kept_day < day, day), else_=kept_day),
            last_event_structure_id=case(
                (kept_day < day, structure), (kept_day == day, same_day), else_=kept
            ),
        )
        .execution_options(synchronize_session=False)
    )


_NOTE_EVENT = _note_event()


def note_event(session: Session, person: uuid.UUID, day: date, structure: int | None) -> None:
    """Count in ``person``'s kept state one event just added to their pathway by a write that
    bypasses the ORM (``day``, done by ``structure``): one UPDATE of their row, which reads no
    event. Only for an event added - a change or a removal needs ``refresh_state`` - and that
    the definition counts (``event_selects``: a transition only when a structure did it)."""
    session.connection().execute(
        _NOTE_EVENT, {"person": person, "day": day, "structure": structure}
    )
    _expire_loaded(session, [person])


def refresh_everyone(session: Session, *, chunk: int = CHUNK) -> int:
    """Recompute the state of every person, ``chunk`` people per UPDATE; how many."""
    done, after = 0, None
    while True:
        query = select(Beneficiary.id).order_by(Beneficiary.id).limit(chunk)
        if after is not None:
            query = query.where(Beneficiary.id > after)
        ids = list(session.scalars(query))
        if not ids:
            return done
        refresh_state(session, ids)
        done, after = done + len(ids), ids[-1]


def stale_people(session: Session, people: People | None = None) -> list[uuid.UUID]:
    """The people (of ``people``, everyone when None) whose kept state differs from the state
    their events give: empty when every writer kept it."""
    found = computed_state(people).subquery()
    differs = or_(
        Beneficiary.last_event_on != found.c.day,
        _differ(Beneficiary.last_event_structure_id, found.c.structure_id),
        _differ(Beneficiary.current_stage_id, found.c.stage_id),
        Beneficiary.current_stage_position != found.c.position,
    )
    query = select(Beneficiary.id).join(found, found.c.id == Beneficiary.id).where(differs)
    return list(session.scalars(query.order_by(Beneficiary.id)))


def _differ(kept: Any, computed: Any) -> ColumnElement[bool]:
    return or_(
        and_(kept.is_(None), computed.is_not(None)),
        and_(kept.is_not(None), computed.is_(None)),
        kept != computed,
    )


def _expire_loaded(session: Session, ids: Iterable[uuid.UUID]) -> None:
    for pid in ids:
        person = session.identity_map.get(
            inspect(Beneficiary).identity_key_from_primary_key((pid,))
        )
        if person is not None:
            session.expire(person, _KEPT)


def _touched(session: Session) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The people, and the hand-offs, whose events a flush adds, changes or deletes."""
    people: set[uuid.UUID] = set()
    handoffs: set[uuid.UUID] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        watched = _WATCHED.get(type(obj))
        if watched is None:
            continue
        state = inspect(obj)
        if obj in session.dirty and not any(state.attrs[n].history.has_changes() for n in watched):
            continue
        if isinstance(obj, Handoff) and obj not in session.deleted:
            continue  # its transitions say what changed
        owner = "handoff_id" if isinstance(obj, HandoffTransition) else "beneficiary_id"
        history = state.attrs[owner].history
        found = {*history.added, *history.unchanged, *history.deleted, getattr(obj, owner)}
        (handoffs if owner == "handoff_id" else people).update(v for v in found if v is not None)
    return people, handoffs


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, _context: UOWTransaction) -> None:
    # After the flush the new rows are in the database (and the objects still say what the
    # flush wrote): one UPDATE for the people they belong to.
    if session.info.get(_INFO_KEY):
        return
    people, handoffs = _touched(session)
    if not people and not handoffs:
        return
    # A transition's hand-off is in the session (it was loaded to be changed): its person
    # is known without a query; otherwise it is looked up in the UPDATE.
    unknown: list[uuid.UUID] = []
    for handoff_id in handoffs:
        key = inspect(Handoff).identity_key_from_primary_key((handoff_id,))
        handoff = session.identity_map.get(key)
        if isinstance(handoff, Handoff) and handoff.beneficiary_id is not None:
            people.add(handoff.beneficiary_id)
        else:
            unknown.append(handoff_id)
    target: People = sorted(people)
    if unknown:
        owners = select(Handoff.beneficiary_id).where(Handoff.id.in_(sorted(unknown)))
        target = select(Beneficiary.id).where(
            or_(Beneficiary.id.in_(sorted(people)), Beneficiary.id.in_(owners))
        )
    session.info[_INFO_KEY] = True
    try:
        refresh_state(session, target)
    finally:
        session.info.pop(_INFO_KEY, None)
