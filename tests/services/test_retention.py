"""Retention: idle follow-ups end, people no longer followed get a notice, then are erased."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.rights import (
    ErasureCause,
    add_months,
    erasure_date,
    erasure_is_due,
    idle_cutoff,
    is_idle,
)
from app.models import AuditEvent, Beneficiary, ErasureRecord, FollowUp, PersonKey
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, start_follow_up
from app.services.rights.erasure import RegisterFile
from app.services.rights.retention import (
    RetentionReport,
    erasure_notices,
    plan_retention,
    run_retention,
)
from app.services.security.vault import Vault
from tests import factories
from tests.rights_helpers import register_in

# Registration happens on factories.TODAY (25 November 2026); the rule runs years later.
LATER = date(2029, 1, 10)  # 24 months before: 10 January 2027
NOTICE_END = date(2029, 2, 9)  # LATER + 30 days


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _run(
    session: Session, vault: Vault, register: RegisterFile, today: date, notice_days: int = 30
) -> RetentionReport:
    return run_retention(
        session,
        vault,
        register,
        today=today,
        now=_at(today),
        months=24,
        notice_days=notice_days,
    )


def _counts(report: RetentionReport) -> tuple[int, int, int, int]:
    return (
        report.follow_ups_ended,
        report.notices_given,
        report.notices_cancelled,
        report.erased,
    )


# -- the rule on dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2026, 1, 15), -24, date(2024, 1, 15)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_idle_and_due_after_whole_months() -> None:
    today = date(2029, 1, 10)
    assert idle_cutoff(today, 24) == date(2027, 1, 10)
    assert is_idle(date(2027, 1, 10), today, 24)
    assert not is_idle(date(2027, 1, 11), today, 24)
    assert erasure_is_due(date(2027, 1, 10), today, 24)
    assert not erasure_is_due(date(2027, 1, 11), today, 24)
    assert erasure_date(today, 30) == date(2029, 2, 9)
    with pytest.raises(ValueError, match="month"):
        idle_cutoff(today, 0)
    with pytest.raises(ValueError, match="negative"):
        erasure_date(today, -1)


# -- idle follow-ups -------------------------------------------------------------------------


def test_what_counts_as_activity(db_session: Session, vault: Vault, tmp_path: Path) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    worker_a = factories.user(db_session, structure_=a)
    worker_b = factories.user(db_session, structure_=b)
    idle = factories.person(db_session, vault, worker_a)
    stepped = factories.person(db_session, vault, worker_a, email="s@exemple.fr")
    add_step(
        db_session,
        vault,
        worker_a,
        stepped,
        stage_code="training",
        started_on=date(2027, 6, 1),
        today=date(2027, 6, 1),  # recorded that day, in the future of the others
    )
    barrier_closed = factories.person(db_session, vault, worker_a, email="b@exemple.fr")
    barrier = add_barrier(
        db_session,
        worker_a,
        barrier_closed,
        category_code="housing",
        identified_on=date(2026, 11, 25),
    )
    barrier.closed_on = date(2027, 3, 1)
    handed = factories.person(db_session, vault, worker_a, email="h@exemple.fr")
    handoff = send_handoff(
        db_session,
        vault,
        worker_a,
        handed,
        to_structure=b,
        now=_at(date(2026, 12, 1)),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    apply_event(
        db_session, vault, worker_b, handoff, HandoffEvent.ACCEPT, now=_at(date(2027, 2, 1))
    )
    db_session.flush()

    plan = plan_retention(db_session, today=LATER, months=24, notice_days=30)

    ended = {(i.beneficiary_id, i.last_activity) for i in plan.idle}
    # Only the follow-up started on 25 November 2026 with nothing since is idle; the step of
    # June 2027, the barrier closed in March 2027 and the hand-off answered in February 2027
    # (for A, its sender, and for B, which accepted it) keep the others open.
    assert ended == {(idle.id, date(2026, 11, 25))}
    assert plan.to_notice == [idle.id]
    assert plan.to_erase == []


def test_a_structure_still_active_keeps_the_person(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    worker_a = factories.user(db_session, structure_=a)
    worker_b = factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, worker_a)
    start_follow_up(db_session, worker_b, person.id, b.id, on=date(2026, 11, 25))
    add_barrier(
        db_session,
        worker_b,
        person,
        category_code="mobility",
        identified_on=date(2028, 5, 1),
        acting_structure_id=b.id,
        today=date(2028, 5, 1),
    )
    report = _run(db_session, vault, register_in(tmp_path), LATER)
    assert _counts(report) == (1, 0, 0, 0)  # A's follow-up ends; B's stays open
    follow_ups = {
        f.structure_id: f
        for f in db_session.scalars(select(FollowUp).where(FollowUp.beneficiary_id == person.id))
    }
    assert follow_ups[a.id].ended_on == date(2026, 11, 25)
    assert follow_ups[a.id].end_reason is not None
    assert follow_ups[a.id].end_reason.code == "lost_contact"
    assert follow_ups[b.id].ended_on is None
    assert person.erasure_due_on is None
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "follow_up:end", AuditEvent.beneficiary_id == person.id
        )
    )
    assert event is not None
    assert (event.actor_id, event.data) == (None, {"cause": "retention"})


# -- notice and erasure ----------------------------------------------------------------------


def test_notice_then_erasure(db_session: Session, vault: Vault, tmp_path: Path) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    worker_a = factories.user(db_session, structure_=a)
    worker_b = factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, worker_a)
    register = register_in(tmp_path)

    assert _counts(_run(db_session, vault, register, LATER)) == (1, 1, 0, 0)
    assert person.erasure_due_on == NOTICE_END
    assert [
        (n.pseudonym, n.last_follow_up_end, n.erasure_on)
        for n in erasure_notices(db_session, worker_a)
    ] == [(person.pseudonym, date(2026, 11, 25), NOTICE_END)]
    assert erasure_notices(db_session, worker_b) == []
    # The same day again, and during the notice: nothing more.
    assert _counts(_run(db_session, vault, register, LATER)) == (0, 0, 0, 0)
    assert _counts(_run(db_session, vault, register, date(2029, 2, 8))) == (0, 0, 0, 0)
    assert db_session.get(PersonKey, person.id) is not None

    assert _counts(_run(db_session, vault, register, NOTICE_END)) == (0, 0, 0, 1)
    assert person.erased_at == _at(NOTICE_END)
    assert db_session.get(PersonKey, person.id) is None
    record = db_session.get(ErasureRecord, person.id)
    assert record is not None
    assert record.cause is ErasureCause.RETENTION
    assert [(e.beneficiary_id, e.cause) for e in register.read()] == [
        (person.id, ErasureCause.RETENTION)
    ]
    assert erasure_notices(db_session, worker_a) == []
    assert _counts(_run(db_session, vault, register, NOTICE_END)) == (0, 0, 0, 0)


def test_a_notice_is_cancelled_when_the_person_is_followed_again(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    register = register_in(tmp_path)
    _run(db_session, vault, register, LATER)
    assert person.erasure_due_on == NOTICE_END
    assert worker.structure_id is not None
    start_follow_up(db_session, worker, person.id, worker.structure_id, on=date(2029, 1, 20))
    assert _counts(_run(db_session, vault, register, NOTICE_END)) == (0, 0, 1, 0)
    assert person.erasure_due_on is None
    assert person.erased_at is None
    assert db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:erasure_notice_cancelled")
    )


def test_without_notice_period_the_person_is_erased_at_once(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    assert _counts(_run(db_session, vault, register_in(tmp_path), LATER, notice_days=0)) == (
        1,
        1,
        0,
        1,
    )
    assert person.erased_at is not None


def test_the_dry_run_plan_matches_the_run(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    a = factories.structure(db_session)
    worker = factories.user(db_session, structure_=a)
    people = [
        factories.person(db_session, vault, worker, email=f"p{n}@exemple.fr") for n in range(3)
    ]
    add_step(
        db_session,
        vault,
        worker,
        people[0],
        stage_code="training",
        started_on=date(2028, 1, 5),
        today=date(2028, 1, 5),
    )
    # One person was noticed earlier and is due for erasure on LATER.
    people[1].erasure_due_on = LATER
    people[1].created_month = date(2026, 11, 1)
    db_session.flush()
    plan = plan_retention(db_session, today=LATER, months=24, notice_days=30)
    before = db_session.scalar(
        select(Beneficiary.erasure_due_on).where(Beneficiary.id == people[2].id)
    )
    assert before is None  # planning changed nothing
    report = _run(db_session, vault, register_in(tmp_path), LATER)
    assert (len(plan.idle), len(plan.to_notice), len(plan.to_cancel), len(plan.to_erase)) == (
        _counts(report)
    )
    assert _counts(report) == (2, 1, 0, 1)
    assert people[1].erased_at is not None
    assert people[2].erasure_due_on == NOTICE_END
