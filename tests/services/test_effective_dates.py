"""Effective dates through the services: each back-dated event, each bound, what is recorded.

A caseworker records on Friday what happened on Tuesday: the day it happened is the effective
date (``*_on``, ``HandoffTransition.effective_on``); the moment of recording stays in ``at``
and the ``*_at`` columns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.effective_dates import Bound
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    User,
)
from app.services.effective_dates import BOUND_MESSAGES
from app.services.errors import InvalidInput
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, set_barrier_status, timeline
from app.services.pathways.orientation import decide_pathway
from app.services.security.vault import Vault
from tests import factories

# Sent on Monday 2 March 2026 at 10:00 in Belfort; the receiver catches up on Friday 6 March.
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in range(2, 7))


@pytest.fixture
def net(db_session: Session, vault: Vault) -> dict[str, object]:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    receiver = factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, sender)
    return {"a": a, "b": b, "sender": sender, "receiver": receiver, "person": person}


def _send(db_session: Session, vault: Vault, net: dict[str, object], **kw: object) -> Handoff:
    return send_handoff(
        db_session,
        vault,
        net["sender"],  # type: ignore[arg-type]
        net["person"],  # type: ignore[arg-type]
        to_structure=net["b"],  # type: ignore[arg-type]
        now=SENT,
        consent_confirmed=True,
        **({"purpose_stage_code": "training"} | kw),  # type: ignore[arg-type]
    )


def _act(
    db_session: Session,
    vault: Vault,
    receiver: object,
    handoff: Handoff,
    event: HandoffEvent,
    on: date | None,
    *,
    now: datetime = FRIDAY,
    reason: str | None = None,
) -> Handoff:
    assert isinstance(receiver, User)
    return apply_event(
        db_session, vault, receiver, handoff, event, now=now, on=on, reason_code=reason
    )


def _transition(db_session: Session, handoff: Handoff, event: HandoffEvent) -> HandoffTransition:
    return db_session.scalars(
        select(HandoffTransition).where(
            HandoffTransition.handoff_id == handoff.id, HandoffTransition.event == event
        )
    ).one()


def test_each_event_keeps_its_day_and_its_recording_moment(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    receiver = net["receiver"]
    _act(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, MON)
    _act(db_session, vault, receiver, handoff, HandoffEvent.FIRST_CONTACT, TUE)
    _act(
        db_session, vault, receiver, handoff, HandoffEvent.COMPLETE, THU, reason="training_entered"
    )
    assert (handoff.answered_on, handoff.first_contact_on, handoff.closed_on) == (MON, TUE, THU)
    assert handoff.answered_at == handoff.first_contact_at == handoff.closed_at == FRIDAY
    days = {
        e: (
            _transition(db_session, handoff, e).effective_on,
            _transition(db_session, handoff, e).at,
        )
        for e in (HandoffEvent.SEND, HandoffEvent.ACCEPT, HandoffEvent.FIRST_CONTACT)
    }
    assert days == {
        HandoffEvent.SEND: (MON, SENT),
        HandoffEvent.ACCEPT: (MON, FRIDAY),
        HandoffEvent.FIRST_CONTACT: (TUE, FRIDAY),
    }
    assert _transition(db_session, handoff, HandoffEvent.COMPLETE).recorded_later
    assert not _transition(db_session, handoff, HandoffEvent.SEND).recorded_later
    assert handoff.first_contact_recorded_later
    # The side effects take the effective days: the follow-up from the acceptance, the
    # training step from the outcome.
    follow_up = db_session.scalars(
        select(FollowUp).where(FollowUp.structure_id == net["b"].id)  # type: ignore[attr-defined]
    ).one()
    assert follow_up.started_on == MON
    step = db_session.scalars(
        select(PathwayStep).where(PathwayStep.structure_id == net["b"].id)  # type: ignore[attr-defined]
    ).one()
    assert step.started_on == THU


def test_without_a_day_the_event_happened_the_day_it_is_recorded(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    _act(db_session, vault, net["receiver"], handoff, HandoffEvent.ACCEPT, None)
    assert handoff.answered_on == FRI
    # 23:30 UTC on Friday is already Saturday in Belfort.
    late = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    _act(db_session, vault, net["receiver"], handoff, HandoffEvent.FIRST_CONTACT, None, now=late)
    assert handoff.first_contact_on == date(2026, 3, 7)


@pytest.mark.parametrize(
    ("steps", "event", "too_early", "bound", "bound_day"),
    [
        ([], HandoffEvent.ACCEPT, date(2026, 3, 1), Bound.SENT, MON),
        ([(HandoffEvent.ACCEPT, WED)], HandoffEvent.FIRST_CONTACT, TUE, Bound.ACCEPTED, WED),
        (
            [(HandoffEvent.ACCEPT, MON), (HandoffEvent.FIRST_CONTACT, WED)],
            HandoffEvent.COMPLETE,
            TUE,
            Bound.FIRST_CONTACT,
            WED,
        ),
        (
            [(HandoffEvent.ACCEPT, MON), (HandoffEvent.FIRST_CONTACT, WED)],
            HandoffEvent.NOT_COMPLETE,
            TUE,
            Bound.FIRST_CONTACT,
            WED,
        ),
        # Closed without a first contact (the person never came): not before the acceptance.
        ([(HandoffEvent.ACCEPT, WED)], HandoffEvent.NOT_COMPLETE, TUE, Bound.ACCEPTED, WED),
    ],
)
def test_an_event_is_not_dated_before_what_it_follows_nor_after_today(
    db_session: Session,
    vault: Vault,
    net: dict[str, object],
    steps: list[tuple[HandoffEvent, date]],
    event: HandoffEvent,
    too_early: date,
    bound: Bound,
    bound_day: date,
) -> None:
    handoff = _send(db_session, vault, net)
    receiver = net["receiver"]
    for done, day in steps:
        _act(db_session, vault, receiver, handoff, done, day)
    status, version = handoff.status, handoff.version
    reason = {HandoffEvent.COMPLETE: "training_entered", HandoffEvent.NOT_COMPLETE: "other"}
    with pytest.raises(InvalidInput) as refused:
        _act(db_session, vault, receiver, handoff, event, too_early, reason=reason.get(event))
    assert (refused.value.field, refused.value.message) == ("on", BOUND_MESSAGES[bound])
    assert refused.value.params == {"date": bound_day}
    with pytest.raises(InvalidInput, match="Not after today") as future:
        _act(
            db_session,
            vault,
            receiver,
            handoff,
            event,
            FRI + timedelta(days=1),
            reason=reason.get(event),
        )
    assert future.value.field == "on"
    assert future.value.params == {"date": FRI}
    # Nothing was written by the refused answers.
    assert (handoff.status, handoff.version) == (status, version)
    # The bound day itself is fine.
    _act(db_session, vault, receiver, handoff, event, bound_day, reason=reason.get(event))
    assert _transition(db_session, handoff, event).effective_on == bound_day


def test_events_that_happen_in_relais_are_not_back_dated(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    _act(
        db_session, vault, net["receiver"], handoff, HandoffEvent.DECLINE, TUE, reason="no_capacity"
    )
    assert handoff.answered_on == handoff.closed_on == FRI
    assert _transition(db_session, handoff, HandoffEvent.DECLINE).effective_on == FRI


def test_an_outcome_lifting_a_barrier_lifts_it_that_day_not_before_its_last_change(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    sender = net["sender"]
    assert isinstance(sender, User)
    person = net["person"]
    barrier = add_barrier(
        db_session, sender, person, category_code="mobility", identified_on=date(2026, 2, 20)
    )  # type: ignore[arg-type]
    assert barrier.status_on == date(2026, 2, 20)
    handoff = _send(db_session, vault, net, purpose_stage_code=None, purpose_barrier=barrier)
    receiver = net["receiver"]
    _act(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, MON)
    _act(db_session, vault, receiver, handoff, HandoffEvent.FIRST_CONTACT, TUE)
    # The sender marked the barrier as being lifted on Thursday...
    set_barrier_status(db_session, sender, barrier, BarrierStatus.IN_PROGRESS, on=THU, today=FRI)
    # ... so the partner's outcome cannot lift it on Wednesday.
    with pytest.raises(InvalidInput) as refused:
        _act(
            db_session,
            vault,
            receiver,
            handoff,
            HandoffEvent.COMPLETE,
            WED,
            reason="barrier_lifted",
        )
    assert refused.value.message == BOUND_MESSAGES[Bound.LAST_CHANGE]
    assert refused.value.params == {"date": THU}
    _act(db_session, vault, receiver, handoff, HandoffEvent.COMPLETE, THU, reason="barrier_lifted")
    db_session.flush()
    db_session.expire(barrier)
    assert (barrier.status, barrier.closed_on, barrier.status_on) == (
        BarrierStatus.LIFTED,
        THU,
        THU,
    )


def test_barrier_changes_stay_between_what_they_follow_and_today(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    sender = net["sender"]
    assert isinstance(sender, User)
    person = net["person"]
    with pytest.raises(InvalidInput, match="Not after today") as future:
        add_barrier(
            db_session, sender, person, category_code="mobility", identified_on=THU, today=WED
        )  # type: ignore[arg-type]
    assert future.value.field == "identified_on"
    barrier = add_barrier(
        db_session, sender, person, category_code="mobility", identified_on=TUE, today=FRI
    )  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as early:
        set_barrier_status(db_session, sender, barrier, BarrierStatus.LIFTED, on=MON, today=FRI)
    assert (early.value.field, early.value.message) == ("on", BOUND_MESSAGES[Bound.IDENTIFIED])
    assert early.value.params == {"date": TUE}
    with pytest.raises(InvalidInput, match="Not after today"):
        set_barrier_status(db_session, sender, barrier, BarrierStatus.LIFTED, on=FRI, today=THU)
    set_barrier_status(db_session, sender, barrier, BarrierStatus.IN_PROGRESS, on=WED, today=FRI)
    with pytest.raises(InvalidInput) as before_last:
        set_barrier_status(db_session, sender, barrier, BarrierStatus.LIFTED, on=TUE, today=FRI)
    assert before_last.value.message == BOUND_MESSAGES[Bound.LAST_CHANGE]
    assert before_last.value.params == {"date": WED}
    set_barrier_status(db_session, sender, barrier, BarrierStatus.LIFTED, on=WED, today=FRI)
    stored = db_session.get(Barrier, barrier.id)
    assert stored is not None
    assert (stored.status, stored.closed_on, stored.status_on) == (BarrierStatus.LIFTED, WED, WED)
    # Re-opened, not before it was lifted.
    with pytest.raises(InvalidInput, match="last change"):
        set_barrier_status(
            db_session, sender, barrier, BarrierStatus.IN_PROGRESS, on=TUE, today=FRI
        )


def test_a_step_is_not_dated_in_the_future(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    sender = net["sender"]
    assert isinstance(sender, User)
    person = net["person"]
    for started, ended, field in ((THU, None, "started_on"), (MON, THU, "ended_on")):
        with pytest.raises(InvalidInput, match="Not after today") as refused:
            add_step(
                db_session,
                vault,
                sender,
                person,  # type: ignore[arg-type]
                stage_code="training",
                started_on=started,
                ended_on=ended,
                today=WED,
            )
        assert refused.value.field == field
    # A structure may record a step from before it followed the person (registered later).
    step = add_step(
        db_session,
        vault,
        sender,
        person,  # type: ignore[arg-type]
        stage_code="training",
        started_on=date(2025, 9, 1),
        ended_on=WED,
        today=WED,
    )
    assert (step.started_on, step.ended_on) == (date(2025, 9, 1), WED)


def test_a_pathway_fact_is_not_dated_before_the_person_was_born(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    """A step dated 2000 for someone born in 2004 (factories: 14 March 2004) is a typing error:
    refused on its field, as a barrier and a decision are; the year of birth is allowed."""
    sender, person = net["sender"], net["person"]
    assert isinstance(sender, User)
    assert isinstance(person, Beneficiary)
    early = date(2003, 12, 31)
    attempts = (
        ("started_on", lambda: add_step(db_session, vault, sender, person, stage_code="training", started_on=early, today=WED)),
        ("ended_on", lambda: add_step(db_session, vault, sender, person, stage_code="training", started_on=MON, ended_on=early, today=WED)),
        ("identified_on", lambda: add_barrier(db_session, sender, person, category_code="mobility", identified_on=early, today=WED)),
        ("decided_on", lambda: decide_pathway(db_session, sender, person, pathway_type_code="social", decided_on=early, today=WED)),
    )  # fmt: skip
    for field, attempt in attempts:
        with pytest.raises(InvalidInput, match="Not before the person was born") as refused:
            attempt()
        assert refused.value.field == field
    step = add_step(
        db_session, vault, sender, person, stage_code="training",
        started_on=date(2004, 1, 1), today=WED,
    )  # fmt: skip
    assert step.started_on == date(2004, 1, 1)


def test_the_timeline_orders_by_the_day_things_happened(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    """A first contact made on Tuesday and recorded on Friday comes before a step of
    Wednesday recorded on Wednesday; the hand-off's history reads in the order it happened."""
    handoff = _send(db_session, vault, net)
    receiver = net["receiver"]
    sender = net["sender"]
    assert isinstance(sender, User)
    _act(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, MON, now=SENT)
    add_step(
        db_session,
        vault,
        sender,
        net["person"],  # type: ignore[arg-type]
        stage_code="barriers",
        started_on=WED,
        today=WED,
    )
    _act(db_session, vault, receiver, handoff, HandoffEvent.FIRST_CONTACT, TUE)
    db_session.expire_all()
    tl = timeline(db_session, net["person"])  # type: ignore[arg-type]
    kinds = [
        (e.on, e.item.event.value if e.kind == "handoff_event" else e.kind)  # type: ignore[attr-defined]
        for e in tl.entries()
        if e.kind in ("handoff_event", "step") and e.on >= MON
    ]
    assert kinds == [
        (MON, "send"),
        (MON, "accept"),
        (TUE, "first_contact"),
        (WED, "step"),
    ]
    stored = db_session.get(Handoff, handoff.id)
    assert stored is not None
    assert [e.event for e in stored.events] == [
        HandoffEvent.SEND,
        HandoffEvent.ACCEPT,
        HandoffEvent.FIRST_CONTACT,
    ]
    assert handoff.status is HandoffStatus.IN_PROGRESS
