"""Each person's pathway state (day and structure of the latest event, current stage) is kept
on their row by every write of an event, in its transaction, and equals what their events give
(the events the people lost from view count: ``app.services.statistics.lost``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierStatus
from app.models import (
    Beneficiary,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
)
from app.models.beneficiary import NO_EVENT, NO_STAGE
from app.services.handoffs import apply_event
from app.services.pathways import (
    add_barrier,
    add_step,
    end_follow_up,
    note_event,
    refresh_everyone,
    refresh_state,
    set_barrier_status,
    stale_people,
    start_follow_up,
)
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
# The day the fixture's people were registered (their follow-ups' start): before every event
# of the tests.
REGISTERED = date(2026, 1, 5)


@pytest.fixture
def people(db_session: Session, vault: Vault) -> dict[str, object]:
    a, b = factories.structure(db_session), factories.structure(db_session)
    ua, ub = factories.user(db_session, structure_=a), factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, ua)
    other = factories.person(db_session, vault, ua, last_name="Vautrinot", email="o@exemple.fr")
    for follow_up in db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id.in_([person.id, other.id]))
    ):
        follow_up.started_on = REGISTERED  # a change of a follow-up's start: kept too
    db_session.flush()
    return {"a": a, "b": b, "ua": ua, "ub": ub, "person": person, "other": other}


def _stage(db_session: Session, code: str) -> int:
    return db_session.scalars(
        select(ReferenceItem.id).where(
            ReferenceItem.kind == ReferenceKind.STAGE, ReferenceItem.code == code
        )
    ).one()


def _state(db_session: Session, person: Beneficiary) -> tuple[date | None, int | None]:
    db_session.flush()
    assert stale_people(db_session) == []
    return person.last_event_day, person.current_stage_id


def _structure(db_session: Session, person: Beneficiary) -> int | None:
    db_session.flush()
    assert stale_people(db_session) == []
    return person.last_event_structure_id


def test_a_new_person_has_their_registration_as_only_event(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua = people["person"], people["ua"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert person.current_stage_position == NO_STAGE
    assert _state(db_session, person) == (REGISTERED, None)
    assert _structure(db_session, person) == ua.structure_id
    newcomer = factories.person(
        db_session, vault, ua, last_name="Quillebeuf", email="quillebeuf@exemple.fr"
    )
    assert _state(db_session, newcomer) == (factories.TODAY, None)
    assert _structure(db_session, newcomer) == ua.structure_id


def test_steps_give_the_day_and_the_stage_of_the_latest_start(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua, other = people["person"], people["ua"], people["other"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(other, Beneficiary)
    day = TODAY - timedelta(days=10)
    add_step(db_session, vault, ua, person, stage_code="training", started_on=day, today=TODAY)
    assert _state(db_session, person) == (day, _stage(db_session, "training"))

    # An earlier step recorded later changes neither.
    earlier = day - timedelta(days=5)
    add_step(db_session, vault, ua, person, stage_code="orientation", started_on=earlier)
    assert _state(db_session, person) == (day, _stage(db_session, "training"))

    # The same start day: the step recorded last is the current one.
    add_step(db_session, vault, ua, person, stage_code="employment", started_on=day)
    assert _state(db_session, person) == (day, _stage(db_session, "employment"))
    employment = db_session.get(ReferenceItem, _stage(db_session, "employment"))
    assert employment is not None
    assert person.current_stage_position == employment.position
    # Nobody else's state moved.
    assert (other.last_event_day, other.current_stage_id) == (REGISTERED, None)


def test_barriers_identified_and_closed_are_events(
    db_session: Session, people: dict[str, object]
) -> None:
    person, ua = people["person"], people["ua"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    found = TODAY - timedelta(days=20)
    barrier = add_barrier(
        db_session, ua, person, category_code="mobility", identified_on=found, today=TODAY
    )
    assert _state(db_session, person) == (found, None)
    lifted = TODAY - timedelta(days=3)
    set_barrier_status(db_session, ua, barrier, BarrierStatus.LIFTED, on=lifted, today=TODAY)
    assert _state(db_session, person) == (lifted, None)


def test_each_handoff_transition_is_an_event_on_its_day(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua, ub, b = people["person"], people["ua"], people["ub"], people["b"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    sent = NOW - timedelta(days=9)
    handoff = factories.handoff(db_session, vault, ua, person, b, now=sent)  # type: ignore[arg-type]
    assert _state(db_session, person) == (sent.date(), None)

    apply_event(db_session, vault, ub, handoff, HandoffEvent.ACCEPT, now=sent + timedelta(days=1))
    assert _state(db_session, person) == (sent.date() + timedelta(days=1), None)

    # A first contact recorded today but made two days ago is two days old.
    contact = TODAY - timedelta(days=2)
    apply_event(db_session, vault, ub, handoff, HandoffEvent.FIRST_CONTACT, now=NOW, on=contact)
    assert _state(db_session, person) == (contact, None)

    # A training entered records a step: its day and its stage.
    apply_event(
        db_session, vault, ub, handoff, HandoffEvent.COMPLETE, now=NOW,
        reason_code="training_entered",
    )  # fmt: skip
    assert _state(db_session, person) == (TODAY, _stage(db_session, "training"))


def test_a_changed_or_deleted_event_is_recomputed(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua, b = people["person"], people["ua"], people["b"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    old, new = TODAY - timedelta(days=30), TODAY - timedelta(days=1)
    add_step(db_session, vault, ua, person, stage_code="orientation", started_on=old)
    step = add_step(db_session, vault, ua, person, stage_code="training", started_on=new)
    assert _state(db_session, person) == (new, _stage(db_session, "training"))

    step.started_on = old - timedelta(days=1)  # now before the orientation
    assert _state(db_session, person) == (old, _stage(db_session, "orientation"))

    db_session.delete(step)
    assert _state(db_session, person) == (old, _stage(db_session, "orientation"))

    sent = NOW - timedelta(days=2)
    handoff = factories.handoff(db_session, vault, ua, person, b, now=sent)  # type: ignore[arg-type]
    assert _state(db_session, person) == (sent.date(), _stage(db_session, "orientation"))
    # Bulk deletes (the hand-off's transitions go with it: a cascade in the database).
    db_session.execute(delete(Handoff).where(Handoff.id == handoff.id))
    db_session.execute(delete(PathwayStep).where(PathwayStep.beneficiary_id == person.id))
    db_session.execute(delete(FollowUp).where(FollowUp.beneficiary_id == person.id))
    db_session.expire_all()
    # A bulk delete bypasses the session's hook: the check finds it, a refresh repairs it.
    assert stale_people(db_session) == [person.id]
    assert refresh_state(db_session, [person.id]) == [person.id]
    assert _state(db_session, person) == (None, None)
    assert person.last_event_on == NO_EVENT
    assert _structure(db_session, person) is None


def test_a_write_bypassing_the_session_is_found_then_repaired(
    db_session: Session, people: dict[str, object]
) -> None:
    person, other, ua = people["person"], people["other"], people["ua"]
    assert isinstance(person, Beneficiary)
    assert isinstance(other, Beneficiary)
    assert isinstance(ua, User)
    assert ua.structure_id is not None
    day = TODAY - timedelta(days=4)
    db_session.execute(
        insert(PathwayStep),
        [
            {
                "id": uuid.uuid4(),
                "beneficiary_id": who.id,
                "structure_id": ua.structure_id,
                "stage_id": _stage(db_session, "barriers"),
                "started_on": day,
            }
            for who in (person, other)
        ],
    )
    assert stale_people(db_session, [person.id]) == [person.id]
    assert set(stale_people(db_session)) == {person.id, other.id}

    assert refresh_everyone(db_session, chunk=1) >= 2
    assert _state(db_session, person) == (day, _stage(db_session, "barriers"))
    assert (other.last_event_day, other.current_stage_id) == (day, _stage(db_session, "barriers"))


def test_refreshing_nobody_runs_nothing(db_session: Session) -> None:
    assert refresh_state(db_session, []) == []
    assert refresh_state(db_session, select(Beneficiary.id).where(Beneficiary.id.is_(None))) == []


def test_a_change_the_state_does_not_read_refreshes_nothing(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua = people["person"], people["ua"]
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    day = TODAY - timedelta(days=3)
    step = add_step(db_session, vault, ua, person, stage_code="training", started_on=day)
    db_session.flush()
    step.ended_on = TODAY  # the state reads starts only
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        db_session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [s.split(" SET")[0] for s in statements] == ["UPDATE pathway_steps"]
    assert _state(db_session, person) == (day, _stage(db_session, "training"))


def test_stage_positions_are_unique(db_session: Session) -> None:
    """The stage filter finds a stage's people by its position (the stage index)."""
    positions = list(
        db_session.scalars(
            select(ReferenceItem.position).where(ReferenceItem.kind == ReferenceKind.STAGE)
        )
    )
    assert len(positions) >= 5
    assert len(set(positions)) == len(positions)


def test_a_follow_up_started_ended_or_deleted_keeps_the_state(
    db_session: Session, people: dict[str, object]
) -> None:
    person, ua, ub, a, b = (people[k] for k in ("person", "ua", "ub", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(ub, User)
    assert isinstance(a, Structure)
    assert isinstance(b, Structure)
    started = TODAY - timedelta(days=3)
    follow_up = db_session.get(
        FollowUp, start_follow_up(db_session, ub, person.id, b.id, on=started)
    )
    assert follow_up is not None
    assert _state(db_session, person) == (started, None)
    assert _structure(db_session, person) == b.id

    # Its end is no event: the state stays.
    end_follow_up(db_session, ub, person, reason_code="moved", on=TODAY)
    assert _state(db_session, person) == (started, None)
    assert _structure(db_session, person) == b.id

    # Its start moved, then the follow-up deleted: back to the registration.
    follow_up.started_on = started - timedelta(days=1)
    assert _state(db_session, person) == (started - timedelta(days=1), None)
    db_session.delete(follow_up)
    assert _state(db_session, person) == (REGISTERED, None)
    assert _structure(db_session, person) == a.id


def test_only_a_structure_s_hand_off_events_count(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    """An expiry is done by nobody: it is no news of the person."""
    person, ua, a, b = (people[k] for k in ("person", "ua", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(a, Structure)
    sent = NOW - timedelta(days=40)
    handoff = factories.handoff(db_session, vault, ua, person, b, now=sent)  # type: ignore[arg-type]
    assert _state(db_session, person) == (sent.date(), None)
    apply_event(db_session, vault, None, handoff, HandoffEvent.EXPIRE, now=NOW)
    assert handoff.events[-1].effective_on == TODAY
    assert _state(db_session, person) == (sent.date(), None)
    assert _structure(db_session, person) == a.id


def test_on_the_latest_day_the_smallest_structure_is_kept(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    person, ua, ub, a, b = (people[k] for k in ("person", "ua", "ub", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(a, Structure)
    assert isinstance(b, Structure)
    day = TODAY - timedelta(days=6)
    start_follow_up(db_session, ub, person.id, b.id, on=day - timedelta(days=1))
    for actor in (ub, ua) if b.id > a.id else (ua, ub):  # the larger id first
        add_step(db_session, vault, actor, person, stage_code="training", started_on=day)
    assert _state(db_session, person) == (day, _stage(db_session, "training"))
    assert _structure(db_session, person) == min(a.id, b.id)


def test_a_barrier_s_recorder_and_closer_are_its_structures(
    db_session: Session, people: dict[str, object]
) -> None:
    person, ua, ub, a, b = (people[k] for k in ("person", "ua", "ub", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(b, Structure)
    assert isinstance(a, Structure)
    start_follow_up(db_session, ub, person.id, b.id, on=TODAY - timedelta(days=30))
    barrier = add_barrier(
        db_session, ua, person, category_code="mobility", identified_on=TODAY - timedelta(20)
    )
    assert _structure(db_session, person) == a.id
    set_barrier_status(db_session, ub, barrier, BarrierStatus.LIFTED, on=TODAY - timedelta(2))
    assert _state(db_session, person) == (TODAY - timedelta(2), None)
    assert _structure(db_session, person) == b.id
    # A change of who closed it, written outside the services' rules, is kept too.
    barrier.closed_by_structure_id = a.id
    assert _structure(db_session, person) == a.id
    db_session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == person.id)
        .values(last_event_structure_id=b.id)
        .execution_options(synchronize_session=False)
    )
    assert stale_people(db_session) == [person.id]
    refresh_state(db_session, [person.id])
    assert _structure(db_session, person) == a.id


def test_a_follow_up_opened_alone_or_by_an_accept_keeps_the_state(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    """A follow-up opened by Core (not seen by the session hook) is kept: refreshed when
    opened alone; by an accept, the transition's refresh counts the same day and structure."""
    person, other, ua, ub, b = (people[k] for k in ("person", "other", "ua", "ub", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(other, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(b, Structure)
    day = TODAY - timedelta(days=3)
    start_follow_up(db_session, ua, person.id, b.id, on=day)
    assert _state(db_session, person) == (day, None)
    assert _structure(db_session, person) == b.id

    sent = NOW - timedelta(days=8)
    handoff = factories.handoff(db_session, vault, ua, other, b, now=sent)  # type: ignore[arg-type]
    apply_event(db_session, vault, ub, handoff, HandoffEvent.ACCEPT, now=NOW)
    assert _state(db_session, other) == (TODAY, None)
    assert _structure(db_session, other) == b.id


@pytest.mark.parametrize(
    ("kept", "added", "expected"),
    [
        ((None, None), (0, "lo"), (0, "lo")),  # a first event
        ((0, "hi"), (1, None), (1, None)),  # a later day wins, with its structure or none
        ((0, "hi"), (0, "lo"), (0, "lo")),  # the same day: the smallest structure
        ((0, "lo"), (0, "hi"), (0, "lo")),
        ((0, None), (0, "hi"), (0, "hi")),  # none only when no event of the day names one
        ((0, "hi"), (0, None), (0, "hi")),
        ((0, "hi"), (-1, "lo"), (0, "hi")),  # an earlier day changes nothing
    ],
)
def test_an_event_added_moves_the_kept_state_as_the_definition_does(
    db_session: Session,
    people: dict[str, object],
    kept: tuple[int | None, str | None],
    added: tuple[int, str | None],
    expected: tuple[int, str | None],
) -> None:
    person, a, b = (people[k] for k in ("person", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(a, Structure)
    assert isinstance(b, Structure)
    ids = {"lo": min(a.id, b.id), "hi": max(a.id, b.id), None: None}
    day = TODAY - timedelta(days=10)

    def on(offset: int | None) -> date:
        return NO_EVENT if offset is None else day + timedelta(days=offset)

    db_session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == person.id)
        .values(last_event_on=on(kept[0]), last_event_structure_id=ids[kept[1]])
        .execution_options(synchronize_session=False)
    )
    note_event(db_session, person.id, on(added[0]), ids[added[1]])
    assert (person.last_event_on, person.last_event_structure_id) == (
        on(expected[0]),
        ids[expected[1]],
    )


def test_a_back_dated_accept_keeps_the_later_news(
    db_session: Session, vault: Vault, people: dict[str, object]
) -> None:
    """An acceptance dated before the person's latest event counts, and changes nothing."""
    person, ua, ub, a, b = (people[k] for k in ("person", "ua", "ub", "a", "b"))
    assert isinstance(person, Beneficiary)
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(a, Structure)
    handoff = factories.handoff(db_session, vault, ua, person, b, now=NOW - timedelta(days=9))  # type: ignore[arg-type]
    add_step(db_session, vault, ua, person, stage_code="training", started_on=TODAY)
    apply_event(
        db_session, vault, ub, handoff, HandoffEvent.ACCEPT, now=NOW, on=TODAY - timedelta(days=5)
    )
    assert _state(db_session, person) == (TODAY, _stage(db_session, "training"))
    assert _structure(db_session, person) == a.id
