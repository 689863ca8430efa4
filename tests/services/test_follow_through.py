"""Following hand-offs through: reminders (rate-limited, mailed, in the history, audited), the
receiving structure's answer about its follow-up after a barrier hand-off, and reorienting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    FollowUp,
    Handoff,
    HandoffTransition,
    MailKind,
    MailMessage,
    ReferenceItem,
    Structure,
    User,
)
from app.services.errors import InvalidInput
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs.follow_through import (
    FOLLOW_UP_END_REASON,
    ReminderTooSoon,
    answer_follow_up,
    asks_about_follow_up,
    may_reorient,
    next_reminder,
    remind,
    reorientation,
)
from app.services.mail.composing import MailFacts, render
from app.services.pathways import add_barrier, set_barrier_status
from app.services.people.access import open_follow_up
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DAYS = 3


@dataclass
class Pair:
    a: Structure
    b: Structure
    sender: User
    receivers: list[User]
    person: Beneficiary


@pytest.fixture
def pair(db_session: Session, vault: Vault) -> Pair:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    receivers = [factories.user(db_session, structure_=b) for _ in range(2)]
    person = factories.person(db_session, vault, sender)
    return Pair(a, b, sender, receivers, person)


def _send(
    session: Session, vault: Vault, pair: Pair, barrier: Barrier | None = None, **kw: object
) -> Handoff:
    return send_handoff(
        session,
        vault,
        pair.sender,
        pair.person,
        to_structure=kw.pop("to", pair.b),  # type: ignore[arg-type]
        now=NOW,
        purpose_stage_code=None if barrier else "training",
        purpose_barrier=barrier,
        consent_confirmed=True,
        note="Mobilité : pas de permis, horaires décalés",
    )


def _history(session: Session, handoff: Handoff) -> list[tuple[HandoffEvent, HandoffStatus]]:
    session.flush()
    return [
        (t.event, t.to_status)
        for t in session.scalars(
            select(HandoffTransition)
            .where(HandoffTransition.handoff_id == handoff.id)
            .order_by(HandoffTransition.at, HandoffTransition.event)
        )
    ]


def _audited(session: Session, handoff: Handoff) -> list[str]:
    session.flush()
    return [
        data.get("event", "")
        for data in session.scalars(
            select(AuditEvent.data)
            .where(
                AuditEvent.action == AuditAction.HANDOFF_TRANSITION,
                AuditEvent.subject_id == str(handoff.id),
            )
            .order_by(AuditEvent.seq)
        )
        if isinstance(data, dict)
    ]


# -- reminders ------------------------------------------------------------------------------


def test_a_reminder_is_mailed_to_the_receiver_recorded_and_audited(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _send(db_session, vault, pair)
    version = handoff.version
    at = NOW + timedelta(days=DAYS)
    remind(db_session, vault, pair.sender, handoff, now=at, days=DAYS, message="Pouvez-vous ?")
    assert handoff.status is HandoffStatus.SENT
    assert handoff.version == version + 1  # a concurrent answer and a reminder cannot both win
    assert _history(db_session, handoff)[-1] == (HandoffEvent.REMIND, HandoffStatus.SENT)
    assert "remind" in _audited(db_session, handoff)
    reminders = db_session.scalars(
        select(MailMessage.to_address).where(
            MailMessage.handoff_id == handoff.id, MailMessage.kind == MailKind.HANDOFF_REMINDER
        )
    ).all()
    assert sorted(reminders) == sorted(u.email for u in pair.receivers)
    assert next_reminder(db_session, handoff, DAYS) == at + timedelta(days=DAYS)


def test_reminders_are_rate_limited(db_session: Session, vault: Vault, pair: Pair) -> None:
    handoff = _send(db_session, vault, pair)
    with pytest.raises(ReminderTooSoon) as early:
        remind(db_session, vault, pair.sender, handoff, now=NOW + timedelta(days=1), days=DAYS)
    assert early.value.due == NOW + timedelta(days=DAYS)
    first = NOW + timedelta(days=4)
    remind(db_session, vault, pair.sender, handoff, now=first, days=DAYS)
    with pytest.raises(ReminderTooSoon) as again:
        remind(db_session, vault, pair.sender, handoff, now=first + timedelta(days=2), days=DAYS)
    assert again.value.due == first + timedelta(days=DAYS)
    remind(db_session, vault, pair.sender, handoff, now=first + timedelta(days=DAYS), days=DAYS)
    events = [e for e, _ in _history(db_session, handoff)]
    assert events.count(HandoffEvent.REMIND) == 2
    mails = db_session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.HANDOFF_REMINDER)
    ).all()
    assert len(mails) == 2 * len(pair.receivers)


def test_only_the_sender_reminds_and_only_while_it_waits(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _send(db_session, vault, pair)
    later = NOW + timedelta(days=10)
    with pytest.raises(InvalidInput):
        remind(db_session, vault, pair.receivers[0], handoff, now=later, days=DAYS)
    apply_event(db_session, vault, pair.receivers[0], handoff, HandoffEvent.ACCEPT, now=NOW)
    with pytest.raises(InvalidInput):
        remind(db_session, vault, pair.sender, handoff, now=later, days=DAYS)


def test_the_reminder_mail_says_who_waits_for_whom() -> None:
    facts = MailFacts(
        pseudonym="P-ABCD-EFGH",
        sender="Mission Locale Nord",
        receiver="Auto-école solidaire",
        link="https://relais.example/handoffs/42",
    )
    mail = render(MailKind.HANDOFF_REMINDER, facts, "fr")
    assert mail.subject.startswith("[Relais] Relance")
    assert "P-ABCD-EFGH" in mail.subject
    assert "Mission Locale Nord" in mail.body_text
    # Written to the receiving structure's caseworkers.
    assert "conseiller·ère de l'Auto-école solidaire" in mail.body_text  # its article, derived


# -- the end-of-follow-up question ------------------------------------------------------------


def _complete(session: Session, vault: Vault, receiver: User, handoff: Handoff) -> None:
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, "barrier_lifted"),
    ):
        apply_event(session, vault, receiver, handoff, event, now=NOW, reason_code=reason)


def _barrier_handoff(session: Session, vault: Vault, pair: Pair) -> Handoff:
    barrier = add_barrier(
        session, pair.sender, pair.person, category_code="mobility", identified_on=NOW.date()
    )
    return _send(session, vault, pair, barrier)


def test_after_a_barrier_is_lifted_the_receiver_may_end_its_follow_up(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _barrier_handoff(db_session, vault, pair)
    receiver = pair.receivers[0]
    assert not asks_about_follow_up(db_session, receiver, handoff)  # still pending
    _complete(db_session, vault, receiver, handoff)
    assert asks_about_follow_up(db_session, receiver, handoff)
    assert not asks_about_follow_up(db_session, pair.sender, handoff)  # the sender is not asked
    today = NOW.date() + timedelta(days=1)
    later = NOW + timedelta(days=1)
    ended = answer_follow_up(db_session, vault, receiver, handoff, end=True, now=later, today=today)
    assert ended is not None
    assert ended.ended_on == today
    reason = db_session.get(ReferenceItem, ended.end_reason_id)
    assert reason is not None
    assert reason.code == FOLLOW_UP_END_REASON
    assert open_follow_up(db_session, pair.person.id, pair.b.id) is None
    assert _history(db_session, handoff)[-1] == (
        HandoffEvent.FOLLOW_UP_ENDED,
        HandoffStatus.COMPLETED,
    )
    assert "follow_up_ended" in _audited(db_session, handoff)
    ended_events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.FOLLOW_UP_END)
    ).all()
    assert len(ended_events) == 1
    assert not asks_about_follow_up(db_session, receiver, handoff)
    with pytest.raises(InvalidInput):
        answer_follow_up(db_session, vault, receiver, handoff, end=False, now=NOW, today=today)


def test_keeping_the_follow_up_is_recorded_and_not_asked_again(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _barrier_handoff(db_session, vault, pair)
    receiver = pair.receivers[1]
    _complete(db_session, vault, receiver, handoff)
    later = NOW + timedelta(days=1)
    kept = answer_follow_up(
        db_session, vault, receiver, handoff, end=False, now=later, today=later.date()
    )
    assert kept is None
    assert open_follow_up(db_session, pair.person.id, pair.b.id) is not None
    assert _history(db_session, handoff)[-1][0] is HandoffEvent.FOLLOW_UP_KEPT
    assert not asks_about_follow_up(db_session, pair.receivers[0], handoff)


def test_the_question_waits_for_the_receiver_s_other_open_hand_offs(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _barrier_handoff(db_session, vault, pair)
    other = _send(db_session, vault, pair)  # a training, also with B
    receiver = pair.receivers[0]
    _complete(db_session, vault, receiver, handoff)
    assert not asks_about_follow_up(db_session, receiver, handoff)
    apply_event(
        db_session,
        vault,
        receiver,
        other,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="not_interested",
    )
    assert asks_about_follow_up(db_session, receiver, handoff)


def test_a_stage_hand_off_does_not_ask(db_session: Session, vault: Vault, pair: Pair) -> None:
    handoff = _send(db_session, vault, pair)
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, "training_entered"),
    ):
        apply_event(
            db_session, vault, pair.receivers[0], handoff, event, now=NOW, reason_code=reason
        )
    assert not asks_about_follow_up(db_session, pair.receivers[0], handoff)


# -- reorienting ------------------------------------------------------------------------------


def test_a_declined_hand_off_is_reoriented_with_its_purpose_and_note(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    handoff = _barrier_handoff(db_session, vault, pair)
    assert reorientation(db_session, vault, pair.sender, pair.person, handoff.id.hex) is None
    apply_event(
        db_session,
        vault,
        pair.receivers[0],
        handoff,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="no_capacity",
    )
    found = reorientation(db_session, vault, pair.sender, pair.person, handoff.id.hex)
    assert found is not None
    assert found.purpose == f"barrier:{handoff.purpose_barrier_id.hex}"  # type: ignore[union-attr]
    assert found.note == "Mobilité : pas de permis, horaires décalés"
    assert found.excluded == pair.b.id
    # Only its sender, for this person, with a hand-off id that exists.
    assert not may_reorient(db_session, pair.receivers[0], handoff)
    assert reorientation(db_session, vault, pair.receivers[0], pair.person, handoff.id.hex) is None
    other = factories.person(db_session, vault, pair.sender, last_name="Autre")
    assert reorientation(db_session, vault, pair.sender, other, handoff.id.hex) is None
    assert reorientation(db_session, vault, pair.sender, pair.person, "not-an-id") is None


def test_expired_and_redirected_hand_offs_are_reoriented_too(
    db_session: Session, vault: Vault, pair: Pair
) -> None:
    expired = _send(db_session, vault, pair)
    apply_event(db_session, vault, None, expired, HandoffEvent.EXPIRE, now=NOW + timedelta(31))
    assert may_reorient(db_session, pair.sender, expired)
    found = reorientation(db_session, vault, pair.sender, pair.person, expired.id.hex)
    assert found is not None
    assert found.purpose == "stage:training"
    redirected = _send(db_session, vault, pair)
    third = factories.structure(db_session)
    apply_event(
        db_session,
        vault,
        pair.receivers[0],
        redirected,
        HandoffEvent.REDIRECT,
        now=NOW,
        redirect_to=third,
    )
    assert may_reorient(db_session, pair.sender, redirected)
    # Once the sender's structure no longer follows the person, it cannot send them on.
    follow_up = db_session.scalars(
        select(FollowUp).where(
            FollowUp.beneficiary_id == pair.person.id, FollowUp.structure_id == pair.a.id
        )
    ).one()
    follow_up.ended_on = NOW.date()
    assert not may_reorient(db_session, pair.sender, redirected)


def test_a_closed_barrier_is_not_copied(db_session: Session, vault: Vault, pair: Pair) -> None:
    handoff = _barrier_handoff(db_session, vault, pair)
    apply_event(
        db_session,
        vault,
        pair.receivers[0],
        handoff,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="not_interested",
    )
    barrier = db_session.get(Barrier, handoff.purpose_barrier_id)
    assert barrier is not None
    set_barrier_status(db_session, pair.sender, barrier, BarrierStatus.LIFTED, on=NOW.date())
    found = reorientation(db_session, vault, pair.sender, pair.person, handoff.id.hex)
    assert found is not None
    assert found.purpose is None
    assert found.note is not None
