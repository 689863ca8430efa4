"""Unmet needs are recorded with the events that make them, once each, and no other event
makes one; "no solution found" is checked and audited; an erasure detaches them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierStatus
from app.domain.rights import ErasureCause
from app.domain.roles import Role
from app.domain.unmet_needs import UNMET_DECLINE_REASONS, UnmetNeedSource
from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    ReferenceItem,
    ReferenceKind,
    Structure,
    UnmetNeed,
    User,
)
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs.deadlines import expire_handoffs
from app.services.pathways import add_barrier, set_barrier_status, timeline
from app.services.rights.erasure import erase_person
from app.services.security.vault import Vault
from app.services.unmet_needs import record_no_solution
from tests import factories
from tests.rights_helpers import register_in

SENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = factories.TODAY


class Net:
    def __init__(self, session: Session, vault: Vault) -> None:
        self.session = session
        self.a, self.b = factories.structure(session), factories.structure(session)
        self.sender = factories.user(session, structure_=self.a)
        self.receiver = factories.user(session, structure_=self.b)
        self.qpv = ReferenceItem(
            kind=ReferenceKind.QPV, code="QN09001M", label_fr="Les Résidences", label_en="Res"
        )
        session.add(self.qpv)
        self.person = factories.person(session, vault, self.sender, cohorts=("rsa", "deld"))
        session.flush()
        self.person.qpv_id = self.qpv.id
        self.barrier = add_barrier(
            session, self.sender, self.person, category_code="mobility", identified_on=TODAY
        )
        session.flush()

    def send(self, vault: Vault, *, barrier: bool = True, at: datetime = SENT) -> object:
        return send_handoff(
            self.session,
            vault,
            self.sender,
            self.person,
            to_structure=self.b,
            now=at,
            purpose_barrier=self.barrier if barrier else None,
            purpose_stage_code=None if barrier else "training",
            consent_confirmed=True,
        )

    def needs(self) -> list[UnmetNeed]:
        self.session.flush()
        return list(self.session.scalars(select(UnmetNeed)))


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Net:
    return Net(db_session, vault)


DECLINE_CODES = [
    "unreachable", "did_not_come", "not_eligible", "no_capacity", "not_interested",
    "followed_elsewhere", "barrier_prevents", "duplicate", "no_such_service", "other",
]  # fmt: skip


@pytest.mark.parametrize("code", DECLINE_CODES)
def test_a_decline_makes_an_unmet_need_for_capacity_eligibility_or_no_such_service_only(
    db_session: Session, vault: Vault, net: Net, code: str
) -> None:
    handoff = net.send(vault)
    apply_event(
        db_session,
        vault,
        net.receiver,
        handoff,  # type: ignore[arg-type]
        HandoffEvent.DECLINE,
        now=SENT + timedelta(days=2),
        reason_code=code,
        message="Public hors de notre champ",  # "other" needs one
    )
    needs = net.needs()
    if code not in UNMET_DECLINE_REASONS:
        assert needs == []
        return
    (need,) = needs
    assert need.source is UNMET_DECLINE_REASONS[code]
    assert need.handoff_id == handoff.id  # type: ignore[attr-defined]
    assert need.beneficiary_id == net.person.id
    assert need.barrier_id == net.barrier.id
    assert need.category is not None
    assert need.category.code == "mobility"
    assert need.stage_id is None
    assert need.qpv_id == net.qpv.id
    assert sorted(c.code for c in need.cohorts) == ["deld", "rsa"]
    assert (need.structure_id, need.referred_by_structure_id) == (net.b.id, net.a.id)
    assert need.occurred_on == date(2026, 11, 22)
    assert need.recorded_by_id == net.receiver.id


def test_an_expiry_makes_one_unmet_need_and_running_the_job_again_none(
    db_session: Session, vault: Vault, net: Net
) -> None:
    net.send(vault, barrier=False, at=SENT - timedelta(days=40))
    now = SENT + timedelta(days=1)
    assert expire_handoffs(db_session, vault, now=now, expiry_days=30).expired == 1
    assert expire_handoffs(db_session, vault, now=now, expiry_days=30).expired == 0
    (need,) = net.needs()
    assert need.source is UnmetNeedSource.EXPIRED
    assert need.category_id is None
    assert need.stage is not None
    assert need.stage.code == "training"
    assert need.recorded_by_id is None
    assert need.occurred_on == now.date()


def test_other_answers_make_no_unmet_need(db_session: Session, vault: Vault, net: Net) -> None:
    handoff = net.send(vault)
    apply_event(
        db_session,
        vault,
        net.receiver,
        handoff,
        HandoffEvent.ACCEPT,
        now=SENT,  # type: ignore[arg-type]
    )
    other = net.send(vault, barrier=False)
    apply_event(
        db_session,
        vault,
        net.sender,
        other,  # type: ignore[arg-type]
        HandoffEvent.WITHDRAW,
        now=SENT,
        message="Plus nécessaire",
    )
    assert net.needs() == []


def test_no_solution_found_for_a_barrier_is_recorded_and_audited(
    db_session: Session, vault: Vault, net: Net
) -> None:
    need = record_no_solution(
        db_session,
        net.sender,
        net.person,
        barrier_id=net.barrier.id.hex,
        category_code=None,
        precision_code="partners_full",
        today=TODAY,
    )
    assert need.source is UnmetNeedSource.NO_SOLUTION
    assert (need.barrier_id, need.category_id) == (net.barrier.id, net.barrier.category_id)
    assert need.precision is not None
    assert need.precision.code == "partners_full"
    assert (need.structure_id, need.referred_by_structure_id) == (net.a.id, None)
    assert need.qpv_id == net.qpv.id
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.UNMET_NEED_RECORD)
    )
    assert event is not None
    assert event.beneficiary_id == net.person.id
    entries = [e for e in timeline(db_session, net.person).entries() if e.kind == "no_solution"]
    assert [e.item for e in entries] == [need]


def test_no_solution_found_for_a_category(db_session: Session, vault: Vault, net: Net) -> None:
    need = record_no_solution(
        db_session,
        net.sender,
        net.person,
        barrier_id=None,
        category_code="housing",
        precision_code=None,
        today=TODAY,
    )
    assert need.category is not None
    assert need.category.code == "housing"
    assert need.barrier_id is None
    assert need.precision_id is None


def _other_persons_barrier(session: Session, vault: Vault, net: Net) -> Barrier:
    other = factories.person(session, vault, net.sender, last_name="Autre")
    return add_barrier(session, net.sender, other, category_code="housing", identified_on=TODAY)


@pytest.mark.parametrize(
    "case",
    ["neither", "both", "another_person", "closed", "malformed", "unknown_category", "precision"],
)
def test_no_solution_found_refuses_bad_input(
    db_session: Session, vault: Vault, net: Net, case: str
) -> None:
    barrier_id: str | None = net.barrier.id.hex
    category: str | None = None
    precision: str | None = None
    if case == "neither":
        barrier_id = None
    elif case == "both":
        category = "housing"
    elif case == "another_person":
        barrier_id = _other_persons_barrier(db_session, vault, net).id.hex
    elif case == "closed":
        set_barrier_status(db_session, net.sender, net.barrier, BarrierStatus.LIFTED, on=TODAY)
    elif case == "malformed":
        barrier_id = "not-a-uuid"
    elif case == "unknown_category":
        barrier_id, category = None, "teleportation"
    else:
        precision = "whatever"
    with pytest.raises(InvalidInput):
        record_no_solution(
            db_session,
            net.sender,
            net.person,
            barrier_id=barrier_id,
            category_code=category,
            precision_code=precision,
            today=TODAY,
        )
    assert net.needs() == []


@pytest.mark.parametrize("who", ["other_structure", "coordinator"])
def test_only_a_structure_following_the_person_records_no_solution(
    db_session: Session, net: Net, who: str
) -> None:
    actor: User = (
        net.receiver if who == "other_structure" else factories.user(db_session, Role.COORDINATOR)
    )
    with pytest.raises(Forbidden):
        record_no_solution(
            db_session,
            actor,
            net.person,
            barrier_id=None,
            category_code="housing",
            precision_code=None,
            today=TODAY,
        )


def test_an_erasure_detaches_the_unmet_needs_which_stay_counted(
    db_session: Session, vault: Vault, net: Net, tmp_path: Path
) -> None:
    handoff = net.send(vault)
    apply_event(
        db_session,
        vault,
        net.receiver,
        handoff,  # type: ignore[arg-type]
        HandoffEvent.DECLINE,
        now=SENT,
        reason_code="no_capacity",
    )
    record_no_solution(
        db_session,
        net.sender,
        net.person,
        barrier_id=net.barrier.id.hex,
        category_code=None,
        precision_code=None,
        today=TODAY,
    )
    erase_person(
        db_session,
        vault,
        net.sender,
        net.person,
        cause=ErasureCause.REQUEST,
        register=register_in(tmp_path),
        today=TODAY,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
    )
    db_session.expire_all()
    needs = net.needs()
    assert len(needs) == 2
    for need in needs:
        assert (need.beneficiary_id, need.barrier_id, need.handoff_id) == (None, None, None)
        assert need.category_id == net.barrier.category_id
        assert need.qpv_id == net.qpv.id
    # Nothing new is recorded about the erased person.
    erased = db_session.get_one(Beneficiary, net.person.id)
    with pytest.raises((InvalidInput, Forbidden)):
        record_no_solution(
            db_session,
            net.sender,
            erased,
            barrier_id=None,
            category_code="housing",
            precision_code=None,
            today=TODAY,
        )
    count = db_session.scalar(select(func.count()).select_from(UnmetNeed))
    assert count == 2
    assert db_session.get(Structure, net.b.id) is not None
