"""Hand-offs through the services: consent, parties, side effects, events, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import Barrier, FollowUp, Handoff, HandoffTransition, User
from app.services.errors import Conflict, Forbidden, InvalidInput
from app.services.handoffs import apply_event, available_events, send_handoff
from app.services.pathways import add_barrier, readable_texts, set_barrier_status, timeline
from app.services.people.access import open_follow_up
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import AuditMark, mark_audit_log, rewind_audit_log

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def setup(db_session: Session, vault: Vault) -> dict[str, object]:
    a, b, c = (factories.structure(db_session) for _ in range(3))
    users = {
        name: factories.user(db_session, structure_=s)
        for name, s in zip("abc", (a, b, c), strict=True)
    }
    person = factories.person(db_session, vault, users["a"])
    return {"a": a, "b": b, "c": c, "users": users, "person": person}


def _send(db_session: Session, vault: Vault, s: dict[str, object], **kw: object) -> Handoff:
    users = s["users"]
    assert isinstance(users, dict)
    options: dict[str, object] = {"to_structure": s["b"], "purpose_stage_code": "training", **kw}
    return send_handoff(
        db_session,
        vault,
        users["a"],
        s["person"],
        now=NOW,
        consent_confirmed=True,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def _complete(
    db_session: Session, vault: Vault, receiver: User, handoff: Handoff, outcome: str
) -> None:
    """Accept, record the first contact, and close with ``outcome``, as the receiver."""
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, outcome),
    ):
        apply_event(db_session, vault, receiver, handoff, event, now=NOW, reason_code=reason)


def test_sending_needs_recorded_consent_and_confirmation(db_session: Session, vault: Vault) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    worker = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, worker, consent=False)
    with pytest.raises(InvalidInput, match="consent"):
        send_handoff(
            db_session,
            vault,
            worker,
            person,
            to_structure=b,
            now=NOW,
            purpose_stage_code="training",
            consent_confirmed=True,
        )
    consenting = factories.person(db_session, vault, worker)
    with pytest.raises(InvalidInput, match="agrees"):
        send_handoff(
            db_session,
            vault,
            worker,
            consenting,
            to_structure=b,
            now=NOW,
            purpose_stage_code="training",
            consent_confirmed=False,
        )


def test_only_a_following_structure_can_send(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    with pytest.raises(Forbidden):
        send_handoff(
            db_session,
            vault,
            users["c"],
            setup["person"],
            to_structure=setup["b"],  # type: ignore[arg-type]
            now=NOW,
            purpose_stage_code="training",
            consent_confirmed=True,
        )


def test_purpose_and_target_are_checked(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput):
        _send(db_session, vault, setup, to_structure=setup["a"])
    with pytest.raises(InvalidInput):
        _send(db_session, vault, setup, purpose_stage_code=None)


def test_accept_opens_a_follow_up_then_contact_and_outcome(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup, note="Souhaite une formation CACES")
    receiver: User = users["b"]
    assert available_events(receiver, handoff) == [
        HandoffEvent.ACCEPT,
        HandoffEvent.DECLINE,
        HandoffEvent.REDIRECT,
    ]
    assert available_events(users["a"], handoff) == [HandoffEvent.WITHDRAW]
    assert available_events(users["c"], handoff) == []
    apply_event(
        db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW + timedelta(days=1)
    )
    assert open_follow_up(db_session, handoff.beneficiary_id, receiver.structure_id) is not None  # type: ignore[arg-type]
    apply_event(
        db_session,
        vault,
        receiver,
        handoff,
        HandoffEvent.FIRST_CONTACT,
        now=NOW + timedelta(days=3),
    )
    apply_event(
        db_session,
        vault,
        receiver,
        handoff,
        HandoffEvent.COMPLETE,
        now=NOW + timedelta(days=20),
        reason_code="training_entered",
    )
    assert handoff.status is HandoffStatus.COMPLETED
    assert handoff.first_contact_at == NOW + timedelta(days=3)
    events = db_session.scalars(
        select(HandoffTransition.event)
        .where(HandoffTransition.handoff_id == handoff.id)
        .order_by(HandoffTransition.at)
    ).all()
    assert events == [
        HandoffEvent.SEND,
        HandoffEvent.ACCEPT,
        HandoffEvent.FIRST_CONTACT,
        HandoffEvent.COMPLETE,
    ]
    tl = timeline(db_session, setup["person"])  # type: ignore[arg-type]
    assert [s.stage.code for s in tl.steps] == ["training"]  # the outcome reached the pathway
    assert (
        readable_texts(db_session, vault, tl, receiver.structure_id)[handoff.id]
        == "Souhaite une formation CACES"
    )  # type: ignore[arg-type]
    # A third structure that follows the person later does not read the notes between A and B.
    assert handoff.id not in readable_texts(db_session, vault, tl, users["c"].structure_id)


def test_completing_a_barrier_handoff_lifts_the_barrier(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    barrier = add_barrier(
        db_session,
        users["a"],
        setup["person"],
        category_code="childcare",  # type: ignore[arg-type]
        identified_on=NOW.date(),
    )
    handoff = _send(db_session, vault, setup, purpose_stage_code=None, purpose_barrier=barrier)
    _complete(db_session, vault, users["b"], handoff, "barrier_lifted")
    assert db_session.get(Barrier, barrier.id).status is BarrierStatus.LIFTED  # type: ignore[union-attr]


def test_decline_needs_a_coded_reason(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    with pytest.raises(InvalidInput, match="reason"):
        apply_event(db_session, vault, users["b"], handoff, HandoffEvent.DECLINE, now=NOW)
    apply_event(
        db_session,
        vault,
        users["b"],
        handoff,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="no_capacity",
        message="Session complète jusqu'en mars",
    )
    assert handoff.status is HandoffStatus.DECLINED
    assert handoff.decline_reason_id is not None


def test_declining_for_another_reason_says_why(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    """ "Other reason" alone tells the sender nothing to act on: its message is needed."""
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    for message in (None, "  "):
        with pytest.raises(InvalidInput, match="Say why") as caught:
            apply_event(
                db_session, vault, users["b"], handoff, HandoffEvent.DECLINE, now=NOW,
                reason_code="other", message=message,
            )  # fmt: skip
        assert caught.value.field == "message"
    apply_event(
        db_session, vault, users["b"], handoff, HandoffEvent.DECLINE, now=NOW,
        reason_code="other", message="Accompagnement réservé aux bénéficiaires du RSA",
    )  # fmt: skip
    assert handoff.status is HandoffStatus.DECLINED


def test_closing_without_an_outcome_asks_for_the_outcome(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    apply_event(db_session, vault, users["b"], handoff, HandoffEvent.ACCEPT, now=NOW)
    apply_event(db_session, vault, users["b"], handoff, HandoffEvent.FIRST_CONTACT, now=NOW)
    for event in (HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE):
        with pytest.raises(InvalidInput, match="Choose the outcome") as caught:
            apply_event(db_session, vault, users["b"], handoff, event, now=NOW)
        assert caught.value.field == "reason"


def test_sender_cannot_answer_and_receiver_cannot_withdraw(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    with pytest.raises(InvalidInput):
        apply_event(db_session, vault, users["a"], handoff, HandoffEvent.ACCEPT, now=NOW)
    with pytest.raises(InvalidInput):
        apply_event(db_session, vault, users["b"], handoff, HandoffEvent.WITHDRAW, now=NOW)
    with pytest.raises(Forbidden):
        apply_event(db_session, vault, users["c"], handoff, HandoffEvent.ACCEPT, now=NOW)
    with pytest.raises(InvalidInput, match="why"):
        apply_event(db_session, vault, users["a"], handoff, HandoffEvent.WITHDRAW, now=NOW)
    apply_event(
        db_session,
        vault,
        users["a"],
        handoff,
        HandoffEvent.WITHDRAW,
        now=NOW,
        message="Entrée en emploi entre-temps",
    )
    with pytest.raises(InvalidInput):
        apply_event(db_session, vault, users["b"], handoff, HandoffEvent.ACCEPT, now=NOW)


def test_redirect_creates_a_linked_handoff(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    with pytest.raises(InvalidInput, match="redirect"):
        apply_event(db_session, vault, users["b"], handoff, HandoffEvent.REDIRECT, now=NOW)
    child = apply_event(
        db_session,
        vault,
        users["b"],
        handoff,
        HandoffEvent.REDIRECT,
        now=NOW,
        redirect_to=setup["c"],
        message="Plutôt pour eux",
    )  # type: ignore[arg-type]
    assert handoff.status is HandoffStatus.REDIRECTED
    assert child.parent_id == handoff.id
    assert child.status is HandoffStatus.SENT
    assert child.from_structure_id == users["b"].structure_id
    assert available_events(users["c"], child) == [
        HandoffEvent.ACCEPT,
        HandoffEvent.DECLINE,
        HandoffEvent.REDIRECT,
    ]


def test_expiry_is_the_system_s_event(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    handoff = _send(db_session, vault, setup)
    apply_event(db_session, vault, None, handoff, HandoffEvent.EXPIRE, now=NOW + timedelta(days=31))
    assert handoff.status is HandoffStatus.EXPIRED
    assert handoff.closed_at is not None
    with pytest.raises(InvalidInput):
        apply_event(db_session, vault, users["b"], handoff, HandoffEvent.ACCEPT, now=NOW)


@pytest.mark.postgres_only
def test_two_concurrent_answers_exactly_one_wins(
    app: object, db_session: Session, vault: Vault
) -> None:
    """Two connections answer the same hand-off at the same time on PostgreSQL."""
    from app.extensions import db

    engine = db.engine
    ids: dict[str, object] = {}
    with engine.connect() as connection:
        ids["audit_mark"] = mark_audit_log(connection)
    with Session(engine) as setup_session:
        a, b = (factories.structure(setup_session) for _ in range(2))
        sender = factories.user(setup_session, structure_=a)
        receiver = factories.user(setup_session, structure_=b)
        person = factories.person(setup_session, vault, sender)
        handoff = send_handoff(
            setup_session,
            vault,
            sender,
            person,
            to_structure=b,
            now=NOW,
            purpose_stage_code="training",
            consent_confirmed=True,
        )
        setup_session.commit()
        ids.update(handoff=handoff.id, receiver=receiver.id, person=person.id)
    loaded = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(event: HandoffEvent, reason: str | None) -> None:
        with Session(engine) as session:
            h = session.get(Handoff, ids["handoff"])
            user = session.get(User, ids["receiver"])
            loaded.wait()
            try:
                apply_event(session, vault, user, h, event, now=NOW, reason_code=reason)  # type: ignore[arg-type]
                session.commit()
                outcomes.append(event.value)
            except Conflict:
                session.rollback()
                outcomes.append("conflict")

    threads = [
        threading.Thread(target=answer, args=(HandoffEvent.ACCEPT, None)),
        threading.Thread(target=answer, args=(HandoffEvent.DECLINE, "no_capacity")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        assert sorted(outcomes) in (["accept", "conflict"], ["conflict", "decline"])
        with Session(engine) as check:
            h = check.get(Handoff, ids["handoff"])
            assert h is not None
            assert h.status.value in {"accepted", "declined"}
            count = len(
                check.scalars(
                    select(HandoffTransition).where(HandoffTransition.handoff_id == h.id)
                ).all()
            )
            assert count == 2  # send + exactly one answer
    finally:
        _drop_committed(engine, ids)


def _drop_committed(engine: object, ids: dict[str, object]) -> None:
    """Remove what this test committed so that other tests see the database they expect."""
    from sqlalchemy import delete, text

    from app.models import Beneficiary, Consent, PersonKey, Structure, UnmetNeed

    with Session(engine) as session:  # type: ignore[call-overload]
        pid = ids["person"]
        hid = ids["handoff"]
        structures = session.scalars(
            select(Handoff.from_structure_id).where(Handoff.id == hid)
        ).all()
        structures += session.scalars(
            select(Handoff.to_structure_id).where(Handoff.id == hid)
        ).all()
        session.execute(delete(HandoffTransition).where(HandoffTransition.handoff_id == hid))
        # A decline for capacity (when it wins the race) records an unmet need.
        session.execute(delete(UnmetNeed).where(UnmetNeed.handoff_id == hid))
        session.execute(delete(Handoff).where(Handoff.id == hid))
        session.execute(delete(FollowUp).where(FollowUp.beneficiary_id == pid))
        session.execute(delete(Consent).where(Consent.beneficiary_id == pid))
        session.execute(delete(PersonKey).where(PersonKey.beneficiary_id == pid))
        session.execute(
            text("DELETE FROM beneficiary_cohorts WHERE beneficiary_id = :p"), {"p": pid}
        )
        session.execute(delete(Beneficiary).where(Beneficiary.id == pid))
        # The audit log refuses DELETE: rewound as the database owner does maintenance.
        rewind_audit_log(session, cast(AuditMark, ids["audit_mark"]))
        session.execute(delete(User).where(User.structure_id.in_(structures)))
        session.execute(delete(Structure).where(Structure.id.in_(structures)))
        session.commit()


def test_outcome_lifts_a_persisting_barrier_and_records_the_stage(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    barrier = add_barrier(
        db_session,
        users["a"],
        setup["person"],
        category_code="mobility",  # type: ignore[arg-type]
        identified_on=NOW.date(),
    )
    set_barrier_status(db_session, users["a"], barrier, BarrierStatus.IN_PROGRESS, on=NOW.date())
    set_barrier_status(db_session, users["a"], barrier, BarrierStatus.PERSISTING, on=NOW.date())
    handoff = _send(db_session, vault, setup, purpose_stage_code=None, purpose_barrier=barrier)
    apply_event(db_session, vault, users["b"], handoff, HandoffEvent.ACCEPT, now=NOW)
    apply_event(db_session, vault, users["b"], handoff, HandoffEvent.FIRST_CONTACT, now=NOW)
    apply_event(
        db_session,
        vault,
        users["b"],
        handoff,
        HandoffEvent.COMPLETE,
        now=NOW,
        reason_code="barrier_lifted",
    )
    assert barrier.status is BarrierStatus.LIFTED
    second = add_barrier(
        db_session,
        users["a"],
        setup["person"],
        category_code="digital",  # type: ignore[arg-type]
        identified_on=NOW.date(),
    )
    handoff = _send(db_session, vault, setup, purpose_stage_code=None, purpose_barrier=second)
    _complete(db_session, vault, users["b"], handoff, "job_signed")
    steps = timeline(db_session, setup["person"]).steps  # type: ignore[arg-type]
    assert [(s.stage.code, s.structure_id) for s in steps] == [
        ("employment", users["b"].structure_id)
    ]


def test_only_a_following_structure_changes_a_barrier(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    users = setup["users"]
    assert isinstance(users, dict)
    barrier = add_barrier(
        db_session,
        users["a"],
        setup["person"],
        category_code="housing",  # type: ignore[arg-type]
        identified_on=NOW.date(),
    )
    with pytest.raises(Forbidden):
        set_barrier_status(db_session, users["c"], barrier, BarrierStatus.LIFTED, on=NOW.date())
    with pytest.raises(InvalidInput):
        set_barrier_status(db_session, users["a"], barrier, BarrierStatus.PERSISTING, on=NOW.date())


def test_an_answer_undone_by_its_savepoint_leaves_the_hand_off_as_it_was(
    db_session: Session, vault: Vault, setup: dict[str, object]
) -> None:
    """The answer's rows are written by Core statements (``app.services.core_writes``): when
    the savepoint around the use case rolls back, the hand-off read in the session says what
    its row says again, and nothing of the answer is left."""
    handoff = _send(db_session, vault, setup)
    receiver = cast(dict[str, User], setup["users"])["b"]
    version = handoff.version
    seen: list[tuple[HandoffStatus, int]] = []

    def accept_then_fail() -> None:
        with db_session.begin_nested():
            apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
            seen.append((handoff.status, handoff.version))
            raise InvalidInput("a later step of the same use case failed")

    with pytest.raises(InvalidInput, match="later step"):
        accept_then_fail()
    assert seen == [(HandoffStatus.ACCEPTED, version + 1)]
    assert (handoff.status, handoff.version) == (HandoffStatus.SENT, version)
    assert open_follow_up(db_session, handoff.beneficiary_id, receiver.structure_id or 0) is None
    events = db_session.scalars(
        select(HandoffTransition.event).where(HandoffTransition.handoff_id == handoff.id)
    ).all()
    assert events == [HandoffEvent.SEND]
    apply_event(db_session, vault, receiver, handoff, HandoffEvent.ACCEPT, now=NOW)
    assert [e.event for e in handoff.events] == [HandoffEvent.SEND, HandoffEvent.ACCEPT]
