"""Deadlines through the services: overdue flags, and the idempotent expiry job."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
    HandoffTransition,
    MailKind,
    MailMessage,
    PathwayStep,
    PersonKey,
    Structure,
    UnmetNeed,
    User,
)
from app.services.handoffs import apply_event, deadlines, send_handoff
from app.services.handoffs.deadlines import (
    count_due_for_expiry,
    expire_handoffs,
    is_overdue,
    waiting_since,
)
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import AuditMark, mark_audit_log, rewind_audit_log

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
STAGES = ("orientation", "barriers", "training", "employment", "exit_other")


class Net:
    def __init__(self, session: Session, vault: Vault) -> None:
        self.a, self.b = factories.structure(session), factories.structure(session)
        self.sender = factories.user(session, structure_=self.a)
        self.receiver = factories.user(session, structure_=self.b)
        self.people = [factories.person(session, vault, self.sender) for _ in range(3)]
        self._stages = iter(STAGES * 3)
        self._people = iter(self.people * 5)

    def send(self, session: Session, vault: Vault, days_ago: float) -> Handoff:
        return send_handoff(
            session,
            vault,
            self.sender,
            next(self._people),
            to_structure=self.b,
            now=NOW - timedelta(days=days_ago),
            purpose_stage_code=next(self._stages),
            consent_confirmed=True,
        )


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Net:
    return Net(db_session, vault)


def _statuses(session: Session, handoffs: list[Handoff]) -> list[HandoffStatus]:
    session.expire_all()
    return [session.get_one(Handoff, h.id).status for h in handoffs]


def test_overdue_means_waiting_for_an_answer_too_long(
    db_session: Session, vault: Vault, net: Net
) -> None:
    fresh, late, answered = (net.send(db_session, vault, d) for d in (9, 11, 12))
    apply_event(db_session, vault, net.receiver, answered, HandoffEvent.ACCEPT, now=NOW)
    assert [is_overdue(h, NOW, 10) for h in (fresh, late, answered)] == [False, True, False]
    overdue = db_session.scalars(select(Handoff.id).where(waiting_since(NOW, 10))).all()
    assert overdue == [late.id]


def test_expiry_after_thirty_days_only_and_once(
    db_session: Session, vault: Vault, net: Net
) -> None:
    overdue = net.send(db_session, vault, 15)
    almost = net.send(db_session, vault, 29.9)
    old, older = net.send(db_session, vault, 30.1), net.send(db_session, vault, 45)
    answered = net.send(db_session, vault, 40)
    apply_event(db_session, vault, net.receiver, answered, HandoffEvent.ACCEPT, now=NOW)
    assert count_due_for_expiry(db_session, now=NOW, expiry_days=30) == 2

    report = expire_handoffs(db_session, vault, now=NOW, expiry_days=30)
    assert (report.expired, report.skipped) == (2, 0)
    assert _statuses(db_session, [overdue, almost, old, older, answered]) == [
        HandoffStatus.SENT,
        HandoffStatus.SENT,
        HandoffStatus.EXPIRED,
        HandoffStatus.EXPIRED,
        HandoffStatus.ACCEPTED,
    ]
    assert db_session.get_one(Handoff, old.id).closed_at == NOW

    again = expire_handoffs(db_session, vault, now=NOW, expiry_days=30)
    assert (again.expired, again.skipped) == (0, 0)
    assert count_due_for_expiry(db_session, now=NOW, expiry_days=30) == 0


def test_an_expiry_is_recorded_audited_and_announced_as_the_system(
    db_session: Session, vault: Vault, net: Net
) -> None:
    handoff = net.send(db_session, vault, 31)
    expire_handoffs(db_session, vault, now=NOW, expiry_days=30)
    transition = db_session.scalars(
        select(HandoffTransition).where(
            HandoffTransition.handoff_id == handoff.id,
            HandoffTransition.event == HandoffEvent.EXPIRE,
        )
    ).one()
    assert transition.actor_id is None
    assert transition.at == NOW
    audit = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_id == str(handoff.id), AuditEvent.action == "handoff:transition"
        )
    ).one()
    assert audit.actor_id is None
    assert audit.data["event"] == "expire"
    mails = db_session.scalars(
        select(MailMessage).where(
            MailMessage.handoff_id == handoff.id, MailMessage.kind == MailKind.HANDOFF_EXPIRED
        )
    ).all()
    assert [m.to_address for m in mails] == [net.sender.email]


def test_expiry_works_in_batches_and_within_a_limit(
    db_session: Session, vault: Vault, net: Net
) -> None:
    handoffs = [net.send(db_session, vault, 31 + i) for i in range(7)]
    first = expire_handoffs(db_session, vault, now=NOW, expiry_days=30, batch_size=2, limit=3)
    assert first.expired == 3
    # Oldest first.
    assert _statuses(db_session, handoffs[-3:]) == [HandoffStatus.EXPIRED] * 3
    rest = expire_handoffs(db_session, vault, now=NOW, expiry_days=30, batch_size=2)
    assert rest.expired == 4
    assert set(_statuses(db_session, handoffs)) == {HandoffStatus.EXPIRED}


def test_a_handoff_changed_since_it_was_read_is_skipped(
    db_session: Session, vault: Vault, net: Net
) -> None:
    """The version check turns a concurrent answer into Conflict: skip it, expire the rest."""
    changed, other = net.send(db_session, vault, 40), net.send(db_session, vault, 35)
    db_session.flush()
    # Someone else's transition, as the database sees it; this session still holds version 1.
    db_session.execute(
        update(Handoff)
        .where(Handoff.id == changed.id)
        .values(version=Handoff.version + 1)
        .execution_options(synchronize_session=False)
    )
    report = expire_handoffs(db_session, vault, now=NOW, expiry_days=30)
    assert (report.expired, report.skipped) == (1, 1)
    assert _statuses(db_session, [changed, other]) == [HandoffStatus.SENT, HandoffStatus.EXPIRED]
    events = db_session.scalars(
        select(HandoffTransition.event).where(HandoffTransition.handoff_id == changed.id)
    ).all()
    assert events == [HandoffEvent.SEND]  # the skipped expiry left nothing behind
    expired_mails = db_session.scalar(
        select(func.count())
        .select_from(MailMessage)
        .where(MailMessage.kind == MailKind.HANDOFF_EXPIRED)
    )
    assert expired_mails == 1


# -- PostgreSQL: an answer committed by another connection while the job runs --------------


@pytest.fixture
def committed(app: Flask, vault: Vault) -> Iterator[dict[str, Any]]:
    """Two old hand-offs committed for other connections to see, removed afterwards."""
    from app.extensions import db

    engine = db.engine
    with engine.connect() as connection:
        audit_mark = mark_audit_log(connection)
    with Session(engine) as session:
        net = Net(session, vault)
        first, second = net.send(session, vault, 40), net.send(session, vault, 35)
        session.commit()
        ids: dict[str, Any] = {
            "first": first.id,
            "second": second.id,
            "receiver": net.receiver.id,
            "people": [p.id for p in net.people],
            "structures": [net.a.id, net.b.id],
        }
    try:
        yield {"engine": engine, **ids}
    finally:
        _drop_committed(engine, ids, audit_mark)


def _drop_committed(engine: Engine, ids: dict[str, Any], audit_mark: AuditMark) -> None:
    people: list[uuid.UUID] = ids["people"]
    with Session(engine) as session:
        handoffs = select(Handoff.id).where(Handoff.beneficiary_id.in_(people))
        # An expiry records an unmet need (its cohorts go with it, ON DELETE CASCADE).
        session.execute(delete(UnmetNeed).where(UnmetNeed.handoff_id.in_(handoffs)))
        session.execute(delete(MailMessage).where(MailMessage.handoff_id.in_(handoffs)))
        session.execute(delete(HandoffTransition).where(HandoffTransition.handoff_id.in_(handoffs)))
        session.execute(delete(Handoff).where(Handoff.beneficiary_id.in_(people)))
        for model in (FollowUp, PathwayStep, Barrier, Consent, PersonKey):
            session.execute(delete(model).where(model.beneficiary_id.in_(people)))
        session.execute(
            text("DELETE FROM beneficiary_cohorts WHERE beneficiary_id = ANY(:p)"), {"p": people}
        )
        session.execute(delete(Beneficiary).where(Beneficiary.id.in_(people)))
        # The audit log refuses DELETE: rewound as the database owner does maintenance.
        rewind_audit_log(session, audit_mark)
        session.execute(delete(User).where(User.structure_id.in_(ids["structures"])))
        session.execute(delete(Structure).where(Structure.id.in_(ids["structures"])))
        session.commit()


@pytest.mark.postgres_only
def test_an_answer_committed_during_the_job_wins(
    committed: dict[str, Any], vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine: Engine = committed["engine"]
    real_apply_event = deadlines.apply_event

    def answer_first(
        session: Session, vault_: Vault, actor: Any, handoff: Handoff, *a: Any, **kw: Any
    ) -> Handoff:
        if handoff.id == committed["first"]:
            # The receiver accepts in another transaction, after the job read the hand-off.
            with Session(engine) as other:
                receiver = other.get_one(User, committed["receiver"])
                mine = other.get_one(Handoff, handoff.id)
                real_apply_event(other, vault_, receiver, mine, HandoffEvent.ACCEPT, now=NOW)
                other.commit()
        return real_apply_event(session, vault_, actor, handoff, *a, **kw)

    monkeypatch.setattr(deadlines, "apply_event", answer_first)
    with Session(engine) as session:
        report = expire_handoffs(session, vault, now=NOW, expiry_days=30)
        session.commit()
    assert (report.expired, report.skipped) == (1, 1)
    with Session(engine) as check:
        first = check.get_one(Handoff, committed["first"])
        second = check.get_one(Handoff, committed["second"])
        assert (first.status, second.status) == (HandoffStatus.ACCEPTED, HandoffStatus.EXPIRED)
        events = check.scalars(
            select(HandoffTransition.event)
            .where(HandoffTransition.handoff_id == first.id)
            .order_by(HandoffTransition.at)
        ).all()
        assert events == [HandoffEvent.SEND, HandoffEvent.ACCEPT]
