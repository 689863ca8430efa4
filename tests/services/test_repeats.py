"""Two tabs, one record (``app/services/repeats.py``): the same step, barrier or network event
recorded again a moment later by the same structure is not recorded; real repeats are. The
same change (a barrier's status, an answer to a hand-off) sent twice says it is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import Barrier, Beneficiary, Handoff, NetworkEvent, PathwayStep, Structure, User
from app.services.directory.network_events import EventInput, record_event
from app.services.errors import InvalidInput
from app.services.handoffs import apply_event
from app.services.handoffs.follow_through import ReminderTooSoon, remind
from app.services.handoffs.repeats import answered_alike
from app.services.pathways import (
    add_barrier,
    add_step,
    end_follow_up,
    set_barrier_status,
    start_follow_up,
)
from app.services.repeats import REPEAT_WINDOW, AlreadyRecorded, ended_a_moment_ago
from app.services.security.vault import Vault
from tests import factories

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def two(db_session: Session, vault: Vault) -> tuple[User, User, Beneficiary]:
    """Two caseworkers of two structures that both follow one person."""
    a, b = factories.structure(db_session), factories.structure(db_session)
    first, second = (
        factories.user(db_session, structure_=a),
        factories.user(db_session, structure_=b),
    )
    person = factories.person(db_session, vault, first)
    start_follow_up(db_session, None, person.id, b.id, on=DAY)
    return first, second, person


def _age(session: Session, model: type[PathwayStep] | type[Barrier] | type[NetworkEvent]) -> None:
    """Make every record of ``model`` older than the window."""
    before = datetime.now(UTC) - REPEAT_WINDOW - timedelta(minutes=1)
    session.execute(update(model).values(created_at=before))
    session.expire_all()


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _step(
    session: Session, vault: Vault, actor: User, person: Beneficiary, **kw: object
) -> PathwayStep:
    options: dict[str, object] = {"stage_code": "training", "started_on": DAY, **kw}
    return add_step(session, vault, actor, person, **options)  # type: ignore[arg-type]


def test_the_same_step_typed_in_two_tabs_is_recorded_once(
    db_session: Session, vault: Vault, two: tuple[User, User, Beneficiary]
) -> None:
    first, second, person = two
    step = _step(db_session, vault, first, person, action="Atelier CV")
    with pytest.raises(AlreadyRecorded) as caught:
        _step(db_session, vault, first, person, action="Atelier CV (bis)")
    assert caught.value.record is step
    assert _count(db_session, PathwayStep) == 1
    # Not the same: another stage the same day, the same stage another day, another structure.
    _step(db_session, vault, first, person, stage_code="orientation")
    _step(db_session, vault, first, person, started_on=DAY - timedelta(days=1))
    _step(db_session, vault, second, person)
    assert _count(db_session, PathwayStep) == 4
    # Past the window, the same step is a real repeat.
    _age(db_session, PathwayStep)
    _step(db_session, vault, first, person)
    assert _count(db_session, PathwayStep) == 5


def test_the_same_open_barrier_is_recorded_once_but_may_come_back_once_lifted(
    db_session: Session, vault: Vault, two: tuple[User, User, Beneficiary]
) -> None:
    first, second, person = two
    barrier = add_barrier(db_session, first, person, category_code="housing", identified_on=DAY)
    with pytest.raises(AlreadyRecorded) as caught:
        add_barrier(db_session, first, person, category_code="housing", identified_on=DAY)
    assert caught.value.record is barrier
    # A colleague of the same structure, in their own tab: the same.
    colleague = factories.user(db_session, structure_=first.structure)
    with pytest.raises(AlreadyRecorded):
        add_barrier(db_session, colleague, person, category_code="housing", identified_on=DAY)
    assert _count(db_session, Barrier) == 1
    # Another category: a new barrier. Another structure, or another day: the barrier of that
    # category is open, to be updated where it is, not typed again (any structure following
    # the person may move it).
    add_barrier(db_session, first, person, category_code="mobility", identified_on=DAY)
    for who, day in ((second, DAY), (first, DAY - timedelta(days=3))):
        with pytest.raises(InvalidInput, match="already open") as refused:
            add_barrier(db_session, who, person, category_code="housing", identified_on=day)
        assert refused.value.field == "category"
    assert _count(db_session, Barrier) == 2
    # Lifted, the barrier of that category may be recorded again at once.
    set_barrier_status(db_session, first, barrier, BarrierStatus.LIFTED, on=DAY)
    again = add_barrier(db_session, second, person, category_code="housing", identified_on=DAY)
    assert again.id != barrier.id
    assert _count(db_session, Barrier) == 3


def test_an_open_barrier_recorded_long_ago_is_updated_not_typed_again(
    db_session: Session, two: tuple[User, User, Beneficiary]
) -> None:
    """Past the moment of a form sent twice, the same barrier is not "already recorded" (that
    said it came from another tab): the category's open barrier is named, with its day."""
    first, _second, person = two
    add_barrier(db_session, first, person, category_code="housing", identified_on=DAY)
    _age(db_session, Barrier)
    with pytest.raises(InvalidInput, match="already open"):
        add_barrier(db_session, first, person, category_code="housing", identified_on=DAY)
    assert _count(db_session, Barrier) == 1


def test_the_same_network_event_is_recorded_once(db_session: Session) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    other = factories.user(db_session, Role.ADMIN)
    s: Structure = factories.structure(db_session)
    data = EventInput("Petit-déjeuner des partenaires", DAY, 12, [s.id])
    event = record_event(db_session, coordinator, data, today=DAY)
    same = EventInput("  petit-déjeuner   des PARTENAIRES ", DAY, 14, [s.id])
    with pytest.raises(AlreadyRecorded) as caught:
        record_event(db_session, coordinator, same, today=DAY)
    assert caught.value.record is event
    # Another day, another theme, another account: other events.
    record_event(
        db_session,
        coordinator,
        EventInput(data.theme, DAY - timedelta(days=7), 9, [s.id]),
        today=DAY,
    )
    record_event(db_session, coordinator, EventInput("Forum emploi", DAY, 30, [s.id]), today=DAY)
    record_event(db_session, other, data, today=DAY)
    assert _count(db_session, NetworkEvent) == 4
    _age(db_session, NetworkEvent)
    record_event(db_session, coordinator, data, today=DAY)
    assert _count(db_session, NetworkEvent) == 5


def test_a_barrier_status_sent_twice_is_already_recorded(
    db_session: Session, two: tuple[User, User, Beneficiary]
) -> None:
    first, _second, person = two
    barrier = add_barrier(db_session, first, person, category_code="housing", identified_on=DAY)
    set_barrier_status(db_session, first, barrier, BarrierStatus.IN_PROGRESS, on=DAY)
    with pytest.raises(AlreadyRecorded) as caught:
        set_barrier_status(db_session, first, barrier, BarrierStatus.IN_PROGRESS, on=DAY)
    assert caught.value.record is barrier
    # A move the rules forbid is still refused as such.
    set_barrier_status(db_session, first, barrier, BarrierStatus.LIFTED, on=DAY)
    with pytest.raises(InvalidInput):
        set_barrier_status(db_session, first, barrier, BarrierStatus.PERSISTING, on=DAY)


@pytest.fixture
def pending(
    db_session: Session, vault: Vault, two: tuple[User, User, Beneficiary]
) -> tuple[User, User, Handoff]:
    first, _second, person = two
    to = factories.structure(db_session)
    receiver = factories.user(db_session, structure_=to)
    return first, receiver, factories.handoff(db_session, vault, first, person, to)


def test_an_answer_sent_twice_is_already_recorded_and_a_different_one_conflicts(
    db_session: Session, vault: Vault, pending: tuple[User, User, Handoff]
) -> None:
    sender, receiver, handoff = pending
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
    with pytest.raises(AlreadyRecorded) as caught:
        apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
    assert caught.value.record is handoff
    assert len(handoff.events) == 2  # sent, accepted: nothing more
    # Accept then decline: not the same answer, the conflict is reported as before.
    with pytest.raises(InvalidInput) as refused:
        apply_event(
            db_session,
            vault,
            receiver,
            handoff,
            HandoffEvent.DECLINE,
            now=NOW,
            reason_code="no_capacity",
        )
    assert not isinstance(refused.value, AlreadyRecorded)
    # The first contact, then the accept sent again (a tab left open): already recorded.
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.FIRST_CONTACT, now=NOW)
    with pytest.raises(AlreadyRecorded):
        apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
    # Another structure's answer is never "the same": the sender cannot accept.
    assert not answered_alike(sender, handoff, HandoffEvent.ACCEPT, None)
    assert handoff.status is HandoffStatus.IN_PROGRESS


def test_a_decline_sent_twice_is_recorded_once_unless_its_reason_differs(
    db_session: Session, vault: Vault, pending: tuple[User, User, Handoff]
) -> None:
    _sender, receiver, handoff = pending
    decline = {"now": NOW, "reason_code": "no_capacity"}
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.DECLINE, **decline)  # type: ignore[arg-type]
    with pytest.raises(AlreadyRecorded):
        apply_event(db_session, vault, receiver, handoff, HandoffEvent.DECLINE, **decline)  # type: ignore[arg-type]
    other = {"now": NOW, "reason_code": "not_eligible"}
    with pytest.raises(InvalidInput) as refused:
        apply_event(db_session, vault, receiver, handoff, HandoffEvent.DECLINE, **other)  # type: ignore[arg-type]
    assert not isinstance(refused.value, AlreadyRecorded)
    assert len(handoff.events) == 2


def test_an_end_of_follow_up_is_recognised_a_moment_after(
    db_session: Session, two: tuple[User, User, Beneficiary]
) -> None:
    first, second, person = two
    assert not ended_a_moment_ago(db_session, first, person.pseudonym)  # still followed
    end_follow_up(db_session, first, person, reason_code="moved", on=factories.TODAY)
    assert ended_a_moment_ago(db_session, first, person.pseudonym)
    colleague = factories.user(db_session, structure_=first.structure)
    assert ended_a_moment_ago(db_session, colleague, person.pseudonym)
    # Not for another structure, another pseudonym, nor once the window has passed.
    assert not ended_a_moment_ago(db_session, second, person.pseudonym)
    assert not ended_a_moment_ago(db_session, first, "P-0000-0000")
    later = datetime.now(UTC) + REPEAT_WINDOW + timedelta(minutes=1)
    assert not ended_a_moment_ago(db_session, first, person.pseudonym, now=later)


def test_a_reminder_sent_twice_is_recorded_once_and_later_ones_wait(
    db_session: Session, vault: Vault, pending: tuple[User, User, Handoff]
) -> None:
    sender, _receiver, handoff = pending
    first = NOW + timedelta(days=4)
    remind(db_session, vault, sender, handoff, now=first, days=3)
    with pytest.raises(AlreadyRecorded):
        remind(db_session, vault, sender, handoff, now=first + timedelta(minutes=1), days=3)
    with pytest.raises(ReminderTooSoon):
        remind(db_session, vault, sender, handoff, now=first + timedelta(hours=1), days=3)
    assert [e.event for e in handoff.events].count(HandoffEvent.REMIND) == 1


def test_an_answer_is_recognised_even_when_the_transitions_were_loaded_before(
    db_session: Session, vault: Vault, pending: tuple[User, User, Handoff]
) -> None:
    _sender, receiver, handoff = pending
    assert [e.event for e in handoff.events] == [HandoffEvent.SEND]  # loaded now, then stale
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
    with pytest.raises(AlreadyRecorded):
        apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
