"""The caseworker's work queue: each list holds what it says, oldest first, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.lost_from_view import LostReason
from app.domain.roles import Role
from app.models import Beneficiary, Consent, FollowUp, Structure, User
from app.services import work_queue as work_queue_module
from app.services.errors import Forbidden
from app.services.handoffs import apply_event
from app.services.pathways import add_step
from app.services.people.overview import Filters, Situation, caseload
from app.services.security.vault import Vault
from app.services.work_queue import SHOWN, WorkQueue, work_queue
from tests import factories

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


def queue_of(session: Session, actor: User, *, idle_weeks: int = 8) -> WorkQueue:
    return work_queue(session, actor, today=TODAY, now=NOW, overdue_days=10, idle_weeks=idle_weeks)


@pytest.fixture
def two(db_session: Session) -> tuple[User, User, Structure]:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    return worker_a, worker_b, b


def test_hand_offs_waiting_for_an_answer_oldest_first_overdue_marked(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    people = [factories.person(db_session, vault, worker_a) for _ in range(3)]
    sent = [NOW - timedelta(days=days) for days in (2, 15, 5)]
    for person, when in zip(people, sent, strict=True):
        factories.handoff(db_session, vault, worker_a, person, b, now=when)
    queue = queue_of(db_session, worker_b)
    assert queue.to_answer.total == 3
    assert [item.since for item in queue.to_answer.items] == sorted(sent)
    assert [item.overdue for item in queue.to_answer.items] == [True, False, False]
    # The receiver does not follow these people yet: no name for it.
    assert queue.followed == set()
    assert queue_of(db_session, worker_a).to_answer.total == 0


def test_accepted_without_first_contact_then_gone_once_contacted(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    person = factories.person(db_session, vault, worker_a)
    handoff = factories.handoff(db_session, vault, worker_a, person, b, now=NOW - timedelta(days=3))
    apply_event(db_session, vault, worker_b, handoff, HandoffEvent.ACCEPT, now=NOW)
    queue = queue_of(db_session, worker_b)
    assert [i.handoff.id for i in queue.without_first_contact.items] == [handoff.id]
    assert queue.followed == {person.id}  # accepting opened a follow-up: the name may show
    apply_event(db_session, vault, worker_b, handoff, HandoffEvent.FIRST_CONTACT, now=NOW)
    assert queue_of(db_session, worker_b).without_first_contact.total == 0


def test_declined_hand_offs_ask_to_be_reoriented_until_replaced(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    c = factories.structure(db_session, "CCC")
    person = factories.person(db_session, vault, worker_a)
    handoff = factories.handoff(db_session, vault, worker_a, person, b, now=NOW - timedelta(days=4))
    apply_event(
        db_session, vault, worker_b, handoff, HandoffEvent.DECLINE, now=NOW - timedelta(days=2),
        reason_code="no_capacity",
    )  # fmt: skip
    queue = queue_of(db_session, worker_a)
    assert [i.handoff.id for i in queue.to_reorient.items] == [handoff.id]
    assert queue.followed == {person.id}
    factories.handoff(db_session, vault, worker_a, person, c, now=NOW - timedelta(days=1))
    assert queue_of(db_session, worker_a).to_reorient.total == 0


def test_old_declines_leave_the_queue(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    person = factories.person(db_session, vault, worker_a)
    long_ago = NOW - timedelta(days=60)
    handoff = factories.handoff(db_session, vault, worker_a, person, b, now=long_ago)
    apply_event(
        db_session, vault, worker_b, handoff, HandoffEvent.DECLINE, now=long_ago,
        reason_code="no_capacity",
    )  # fmt: skip
    assert queue_of(db_session, worker_a).to_reorient.total == 0


def test_the_list_is_about_the_closing_not_the_sending(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    """A hand-off sent long ago and declined (or expired) in the last 30 days asks to be
    re-oriented; one declined 31 days ago no longer does."""
    worker_a, worker_b, b = two
    late_decline, expiry, old_decline = (
        factories.person(db_session, vault, worker_a) for _ in range(3)
    )
    declined = factories.handoff(
        db_session, vault, worker_a, late_decline, b, now=NOW - timedelta(days=50)
    )
    apply_event(
        db_session, vault, worker_b, declined, HandoffEvent.DECLINE, now=NOW - timedelta(days=5),
        reason_code="no_capacity",
    )  # fmt: skip
    expired = factories.handoff(
        db_session, vault, worker_a, expiry, b, now=NOW - timedelta(days=40)
    )
    apply_event(db_session, vault, None, expired, HandoffEvent.EXPIRE, now=NOW - timedelta(days=10))
    gone = factories.handoff(
        db_session, vault, worker_a, old_decline, b, now=NOW - timedelta(days=32)
    )
    apply_event(
        db_session, vault, worker_b, gone, HandoffEvent.DECLINE, now=NOW - timedelta(days=31),
        reason_code="no_capacity",
    )  # fmt: skip
    section = queue_of(db_session, worker_a).to_reorient
    assert [item.handoff.id for item in section.items] == [declined.id, expired.id]  # sent first
    assert [item.since for item in section.items] == [
        NOW - timedelta(days=5),
        NOW - timedelta(days=10),
    ]
    assert section.total == 2


def test_only_the_people_the_structure_still_follows_are_to_reorient(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    kept, left = (factories.person(db_session, vault, worker_a) for _ in range(2))
    declined = []
    for person in (kept, left):
        handoff = factories.handoff(
            db_session, vault, worker_a, person, b, now=NOW - timedelta(days=3)
        )
        apply_event(
            db_session, vault, worker_b, handoff, HandoffEvent.DECLINE, now=NOW - timedelta(days=2),
            reason_code="no_capacity",
        )  # fmt: skip
        declined.append(handoff)
    for follow_up in db_session.scalars(select(FollowUp).where(FollowUp.beneficiary_id == left.id)):
        follow_up.ended_on = TODAY
    db_session.flush()
    section = queue_of(db_session, worker_a).to_reorient
    assert ([item.handoff.id for item in section.items], section.total) == ([declined[0].id], 1)


def test_people_without_news_longest_silence_first(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, _, _ = two
    quiet = factories.person(db_session, vault, worker_a)
    recent = factories.person(db_session, vault, worker_a)
    quieter = factories.person(db_session, vault, worker_a)
    for person, day in (
        (quiet, date(2026, 8, 1)),
        (recent, date(2026, 11, 1)),
        (quieter, date(2026, 6, 1)),
    ):
        add_step(db_session, vault, worker_a, person, stage_code="orientation", started_on=day)
    # Registered on factories.TODAY (the follow-up's start): only the steps are older. With
    # the follow-up started long ago, the step dates decide.
    for follow_up in db_session.scalars(select(FollowUp)):
        follow_up.started_on = date(2026, 1, 1)
    queue = queue_of(db_session, worker_a)
    assert [row.person.id for row in queue.idle.items] == [quieter.id, quiet.id]
    assert [row.since for row in queue.idle.items] == [date(2026, 6, 1), date(2026, 8, 1)]
    assert queue_of(db_session, worker_a, idle_weeks=30).idle.total == 0


def test_people_without_consent(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, _, _ = two
    factories.person(db_session, vault, worker_a)
    without = factories.person(db_session, vault, worker_a, consent=False)
    queue = queue_of(db_session, worker_a)
    assert [row.person.id for row in queue.without_consent.items] == [without.id]


def test_lists_are_cut_with_their_full_count(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, _, _ = two
    for _ in range(SHOWN + 3):
        factories.person(db_session, vault, worker_a, consent=False)
    section = queue_of(db_session, worker_a).without_consent
    assert (len(section.items), section.total, section.more) == (SHOWN, SHOWN + 3, 3)


def test_only_caseworkers_have_a_work_queue(db_session: Session) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR, email="c@relais.example")
    with pytest.raises(Forbidden):
        queue_of(db_session, coordinator)


def test_a_hand_off_list_is_cut_in_order_with_its_full_count(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    sent = [NOW - timedelta(hours=hours) for hours in range(SHOWN + 2)]
    for when in sent:
        person = factories.person(db_session, vault, worker_a)
        factories.handoff(db_session, vault, worker_a, person, b, now=when)
    section = queue_of(db_session, worker_b).to_answer
    assert (len(section.items), section.total) == (SHOWN, SHOWN + 2)
    assert [item.since for item in section.items] == sorted(sent)[:SHOWN]


def _quiet(db_session: Session, vault: Vault, worker: User, count: int) -> list[Beneficiary]:
    """People followed by ``worker``'s structure since January (``worker`` their referent),
    without consent and without any event since: idle, lost from view, without consent."""
    people = [factories.person(db_session, vault, worker, consent=False) for _ in range(count)]
    for follow_up in db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id.in_([p.id for p in people]))
    ):
        follow_up.started_on = date(2026, 1, 1)
    db_session.flush()
    return people


def test_the_people_lists_are_cut_with_their_full_count(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, _, _ = two
    quiet = _quiet(db_session, vault, worker_a, SHOWN + 2)
    queue = queue_of(db_session, worker_a)
    for section in (queue.idle, queue.lost, queue.without_consent):
        assert (len(section.items), section.total, section.more) == (SHOWN, SHOWN + 2, 2)
    assert {row.person.id for row in queue.lost.items} <= {p.id for p in quiet}
    assert {row.reason for row in queue.lost.items} == {LostReason.NO_NEWS}
    # What is cut is listed whole by the caseload filtered to it, where "and 2 more" leads.
    for situation in (Situation.LOST, Situation.NO_CONSENT):
        wanted = Filters(situation=situation, mine=situation is Situation.LOST)
        whole = caseload(db_session, worker_a, today=TODAY, filters=wanted, per_page=50)
        assert {row.person.id for row in whole.items} == {p.id for p in quiet}
        assert whole.total == SHOWN + 2


def test_the_people_lists_count_up_to_their_bound(
    db_session: Session,
    vault: Vault,
    two: tuple[User, User, Structure],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``COUNT_LIMIT`` people, a list says "more than" instead of counting on: what it
    reads stays bounded, whatever the size of the caseload."""
    worker_a, _, _ = two
    quiet = _quiet(db_session, vault, worker_a, SHOWN + 2)
    monkeypatch.setattr(work_queue_module, "COUNT_LIMIT", SHOWN + 1)
    queue = queue_of(db_session, worker_a)
    for section in (queue.idle, queue.lost, queue.without_consent):
        assert (len(section.items), section.total, section.exact) == (SHOWN, SHOWN + 1, False)
    # The shown rows are the first ones all the same: the earliest registered first.
    first = [p.id for p in sorted(quiet, key=lambda p: (p.created_at, p.id))][:SHOWN]
    assert [row.person.id for row in queue.idle.items] == first
    monkeypatch.setattr(work_queue_module, "COUNT_LIMIT", SHOWN + 2)
    queue = queue_of(db_session, worker_a)
    for section in (queue.idle, queue.lost, queue.without_consent):
        assert (section.total, section.exact) == (SHOWN + 2, True)


def test_the_lost_list_is_the_referents_own_followed_people(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    """A colleague's people, a person whose follow-up ended and an erased person are not in
    the referent's list, nor counted; news from any partner takes a person out of it."""
    worker_a, worker_b, _ = two
    colleague = factories.user(db_session, structure_=worker_a.structure, email="a2@relais.example")
    mine = _quiet(db_session, vault, worker_a, 4)
    _quiet(db_session, vault, colleague, 3)
    ended, erased, heard_of = mine[1], mine[2], mine[3]
    for follow_up in db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == ended.id)
    ):
        follow_up.ended_on = date(2026, 11, 1)
    erased.erased_at = NOW
    # Followed by another structure, which records a step today: news.
    assert worker_b.structure_id is not None
    db_session.add(
        FollowUp(beneficiary_id=heard_of.id, structure_id=worker_b.structure_id, started_on=TODAY)
    )
    add_step(db_session, vault, worker_b, heard_of, stage_code="orientation", started_on=TODAY)
    db_session.flush()
    lost = queue_of(db_session, worker_a).lost
    assert ([row.person.id for row in lost.items], lost.total) == ([mine[0].id], 1)
    assert lost.items[0].last_event_on == date(2026, 1, 1)
    assert queue_of(db_session, colleague).lost.total == 3


def test_a_withdrawn_consent_is_no_consent_and_the_erased_are_left_out(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, _, _ = two
    withdrawn = factories.person(db_session, vault, worker_a)
    kept = factories.person(db_session, vault, worker_a)
    erased = factories.person(db_session, vault, worker_a, consent=False)
    for consent in db_session.scalars(
        select(Consent).where(Consent.beneficiary_id == withdrawn.id)
    ):
        consent.withdrawn_on = TODAY
    erased.erased_at = NOW
    db_session.flush()
    section = queue_of(db_session, worker_a).without_consent
    assert ([row.person.id for row in section.items], section.total) == ([withdrawn.id], 1)
    assert kept.id not in {row.person.id for row in section.items}
    wanted = Filters(situation=Situation.NO_CONSENT)
    page = caseload(db_session, worker_a, today=TODAY, filters=wanted)
    assert ([row.person.id for row in page.items], page.total) == ([withdrawn.id], 1)


def test_over_capacity_counts_the_hand_offs_waiting_for_an_answer(
    db_session: Session, vault: Vault, two: tuple[User, User, Structure]
) -> None:
    worker_a, worker_b, b = two
    b.capacity = 2
    for hours in range(3):
        person = factories.person(db_session, vault, worker_a)
        factories.handoff(db_session, vault, worker_a, person, b, now=NOW - timedelta(hours=hours))
    answered = factories.person(db_session, vault, worker_a)
    handoff = factories.handoff(db_session, vault, worker_a, answered, b, now=NOW)
    apply_event(db_session, vault, worker_b, handoff, HandoffEvent.ACCEPT, now=NOW)
    queue = queue_of(db_session, worker_b)
    assert queue.over_capacity is not None
    assert (queue.over_capacity.pending, queue.over_capacity.places) == (3, 2)
    b.capacity = 3
    assert queue_of(db_session, worker_b).over_capacity is None
    b.capacity = None
    assert queue_of(db_session, worker_b).over_capacity is None
