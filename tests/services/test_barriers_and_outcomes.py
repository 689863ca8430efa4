"""Barriers with a level and a detail, who lifted them; jobs with their contract; the
registration facts corrected later; the cohorts the field uses (issue 11, point 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.employment import ContractType, Employment
from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierLevel, BarrierStatus
from app.domain.people import EducationLevel, Sex
from app.domain.rights import ErasureCause
from app.models import AuditEvent, Barrier, Beneficiary, Handoff, PathwayStep, ReferenceKind, User
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import (
    add_barrier,
    add_step,
    assess_barrier,
    readable_employers,
    readable_texts,
    set_barrier_status,
    timeline,
)
from app.services.people.facts import Facts, facts_of, update_facts
from app.services.rights.erasure import RegisterFile, erase_person, is_readable
from app.services.rights.subject_access import report_as_json, subject_access_report
from app.services.security.vault import Vault
from app.services.structures import add_reference_item, reference_items
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def world(db_session: Session, vault: Vault) -> dict[str, object]:
    a, b = factories.structure(db_session), factories.structure(db_session)
    ua, ub = factories.user(db_session, structure_=a), factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, ua)
    return {"a": a, "b": b, "ua": ua, "ub": ub, "person": person}


def _events(db_session: Session, action: AuditAction) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def _close(db_session: Session, vault: Vault, receiver: User, handoff: Handoff, outcome: str,
           **extra: object) -> Handoff:  # fmt: skip
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
    ):
        apply_event(db_session, vault, receiver, handoff, event, now=NOW, reason_code=reason)
    return apply_event(
        db_session, vault, receiver, handoff, HandoffEvent.COMPLETE, now=NOW,
        reason_code=outcome, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


# -- barriers --------------------------------------------------------------------------------


def test_a_barrier_keeps_its_level_and_its_sealed_detail(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(
        db_session, ua, person, category_code="mobility", identified_on=TODAY,
        level=BarrierLevel.STRONG, detail="  Pas de permis de conduire  ", vault=vault,
    )  # fmt: skip
    assert barrier.level is BarrierLevel.STRONG
    assert barrier.detail is not None
    assert b"permis" not in barrier.detail
    texts = readable_texts(db_session, vault, timeline(db_session, person), ua.structure_id or 0)
    assert texts[barrier.id] == "Pas de permis de conduire"


def test_a_barrier_without_detail_stores_nothing(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(
        db_session, ua, person, category_code="digital", identified_on=TODAY, detail="   ",
        vault=vault,
    )  # fmt: skip
    assert barrier.detail is None
    assert barrier.level is None


def test_assessing_a_barrier_changes_level_and_detail_audited(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(db_session, ua, person, category_code="mobility", identified_on=TODAY)
    changed = assess_barrier(
        db_session, vault, ua, barrier, level=BarrierLevel.MODERATE, detail="Permis en cours"
    )
    assert changed == ["level", "detail"]
    assert barrier.level is BarrierLevel.MODERATE
    assert vault.open(
        vault.person_key(db_session, person.id), "barriers", "detail", barrier.id, person.id,
        barrier.detail,
    ) == "Permis en cours"  # fmt: skip
    (event,) = _events(db_session, AuditAction.BARRIER_ASSESS)
    assert event.data == {"fields": "level,detail", "level": "moderate"}  # never the detail
    assert event.beneficiary_id == person.id
    # The same values again change nothing and write no event; a blank detail removes it.
    assert assess_barrier(
        db_session, vault, ua, barrier, level=BarrierLevel.MODERATE, detail=" Permis en cours "
    ) == []  # fmt: skip
    assert assess_barrier(db_session, vault, ua, barrier, level=None, detail="") == [
        "level",
        "detail",
    ]
    assert barrier.level is None
    assert barrier.detail is None
    assert len(_events(db_session, AuditAction.BARRIER_ASSESS)) == 2


def test_only_a_structure_following_the_person_assesses_a_barrier(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, ub, person = world["ua"], world["ub"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(db_session, ua, person, category_code="mobility", identified_on=TODAY)
    with pytest.raises(Forbidden):
        assess_barrier(db_session, vault, ub, barrier, level=BarrierLevel.STRONG, detail="x")
    assert barrier.level is None
    assert barrier.detail is None


def test_the_partner_whose_handoff_lifted_a_barrier_is_kept(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, ub, person = world["ua"], world["ub"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(
        db_session, ua, person, category_code="childcare", identified_on=date(2026, 11, 2)
    )
    handoff = send_handoff(
        db_session, vault, ua, person, to_structure=world["b"], now=NOW,  # type: ignore[arg-type]
        purpose_barrier=barrier, consent_confirmed=True,
    )  # fmt: skip
    _close(db_session, vault, ub, handoff, "barrier_lifted")
    db_session.flush()
    db_session.expire_all()
    lifted = db_session.get(Barrier, barrier.id)
    assert lifted is not None
    assert lifted.status is BarrierStatus.LIFTED
    assert lifted.closed_by_structure_id == ub.structure_id
    assert lifted.closed_by_structure is not None
    assert lifted.closed_by_structure.name == ub.structure.name  # type: ignore[union-attr]
    assert lifted.closed_on == TODAY


def test_a_reopened_barrier_forgets_who_closed_it_and_a_caseworker_closing_it_is_kept(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    barrier = add_barrier(db_session, ua, person, category_code="housing", identified_on=TODAY)
    set_barrier_status(db_session, ua, barrier, BarrierStatus.LIFTED, on=TODAY)
    assert barrier.closed_by_structure_id == ua.structure_id
    set_barrier_status(db_session, ua, barrier, BarrierStatus.IN_PROGRESS, on=TODAY)
    assert barrier.closed_by_structure_id is None
    assert barrier.closed_on is None


# -- employment ------------------------------------------------------------------------------


def test_an_employment_step_has_its_contract_and_sealed_employer(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    step = add_step(
        db_session, vault, ua, person, stage_code="employment", started_on=TODAY,
        contract_type=ContractType.CDD_LONG, employer="Boulangerie Martin",
    )  # fmt: skip
    assert step.contract_type is ContractType.CDD_LONG
    assert step.employer is not None
    assert b"Martin" not in step.employer
    assert step.action is None
    employers = readable_employers(db_session, vault, timeline(db_session, person))
    assert employers == {step.id: "Boulangerie Martin"}


def test_only_an_employment_step_has_a_contract(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    for extra in ({"contract_type": ContractType.CDI}, {"employer": "Garage Dupont"}):
        with pytest.raises(InvalidInput) as caught:
            add_step(
                db_session, vault, ua, person, stage_code="training", started_on=TODAY,
                **extra,  # type: ignore[arg-type]
            )  # fmt: skip
        assert caught.value.field == "contract_type"
    assert (
        db_session.scalars(select(PathwayStep).where(PathwayStep.stage.has(code="training"))).all()
        == []
    )


def test_a_job_signed_through_a_handoff_records_the_contract_once(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, ub, person = world["ua"], world["ub"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(person, Beneficiary)
    handoff = send_handoff(
        db_session, vault, ua, person, to_structure=world["b"], now=NOW,  # type: ignore[arg-type]
        purpose_stage_code="employment", consent_confirmed=True,
    )  # fmt: skip
    job = Employment(ContractType.APPRENTICESHIP, date(2026, 12, 1), "Menuiserie Vauban")
    _close(db_session, vault, ub, handoff, "job_signed", employment=job)
    (step,) = timeline(db_session, person).steps[-1:]
    assert step.stage.code == "employment"
    assert step.structure_id == ub.structure_id
    assert step.started_on == date(2026, 12, 1)  # the first day of work
    assert step.contract_type is ContractType.APPRENTICESHIP
    assert readable_employers(db_session, vault, timeline(db_session, person)) == {
        step.id: "Menuiserie Vauban"
    }


@pytest.mark.parametrize(
    ("outcome", "started_on", "field"),
    [
        ("training_entered", date(2026, 11, 25), "outcome"),  # a contract needs "job signed"
        ("job_signed", date(2026, 11, 1), "job_started_on"),  # before the hand-off was sent
        ("job_signed", date(2027, 9, 1), "job_started_on"),  # far in the future
    ],
)
def test_a_contract_out_of_place_is_refused(
    db_session: Session,
    vault: Vault,
    world: dict[str, object],
    outcome: str,
    started_on: date,
    field: str,
) -> None:
    ua, ub, person = world["ua"], world["ub"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(ub, User)
    assert isinstance(person, Beneficiary)
    handoff = send_handoff(
        db_session, vault, ua, person, to_structure=world["b"], now=NOW,  # type: ignore[arg-type]
        purpose_stage_code="employment", consent_confirmed=True,
    )  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        _close(db_session, vault, ub, handoff, outcome,
               employment=Employment(ContractType.CDI, started_on))  # fmt: skip
    assert caught.value.field == field


# -- registration facts ----------------------------------------------------------------------


def test_registration_facts_are_corrected_and_audited(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    qpv = add_reference_item(
        db_session, None, kind=ReferenceKind.QPV, code="QN09001M", label_fr="Les Résidences",
        label_en="Les Résidences",
    )  # fmt: skip
    changed = update_facts(
        db_session,
        ua,
        person,
        Facts(["rsa", "young_dropout"], qpv.code, EducationLevel.LEVEL_3, Sex.FEMALE),
    )
    assert changed == ["cohorts", "qpv", "education_level", "sex"]
    assert facts_of(person) == Facts(
        ["young_dropout", "rsa"], qpv.code, EducationLevel.LEVEL_3, Sex.FEMALE
    )
    (event,) = _events(db_session, AuditAction.BENEFICIARY_FACTS)
    assert event.data == {
        "fields": "cohorts,qpv,education_level,sex",
        "cohorts": "young_dropout,rsa",
        "qpv": qpv.code,
        "education_level": "level_3",
        "sex": "female",
    }
    # Unchanged facts write nothing; clearing the optional ones is a change.
    assert update_facts(db_session, ua, person, facts_of(person)) == []
    assert update_facts(db_session, ua, person, Facts(["rsa"], None, None, None)) == [
        "cohorts", "qpv", "education_level", "sex",
    ]  # fmt: skip
    assert person.qpv_id is None
    assert person.sex is None
    assert len(_events(db_session, AuditAction.BENEFICIARY_FACTS)) == 2


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (Facts([], None, None, None), "cohorts"),
        (Facts(["nobody_knows"], None, None, None), "cohort"),
        (Facts(["rsa"], "QN00000X", None, None), "qpv"),
    ],
)
def test_wrong_facts_are_refused_and_change_nothing(
    db_session: Session, vault: Vault, world: dict[str, object], facts: Facts, field: str
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    before = facts_of(person)
    with pytest.raises(InvalidInput) as caught:
        update_facts(db_session, ua, person, facts)
    assert caught.value.field == field
    assert facts_of(person) == before
    assert _events(db_session, AuditAction.BENEFICIARY_FACTS) == []


def test_a_cohort_deactivated_since_stays_with_the_person(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    (dropout,) = [c for c in person.cohorts if c.code == "young_dropout"]
    dropout.active = False
    db_session.flush()
    assert update_facts(
        db_session, ua, person, Facts(["young_dropout", "cej"], None, None, None)
    ) == ["cohorts"]
    assert [c.code for c in person.cohorts] == ["young_dropout", "cej"]


def test_the_field_cohorts_are_seeded(db_session: Session) -> None:
    codes = [c.code for c in reference_items(db_session, ReferenceKind.COHORT)]
    assert codes == [
        "young_dropout", "young_graduate", "single_parent", "rsa", "deld", "rqth", "cej",
        "training_obligation", "other",
    ]  # fmt: skip


# -- the person's rights ---------------------------------------------------------------------


def _with_details(db_session: Session, vault: Vault, world: dict[str, object]) -> Beneficiary:
    ua, person = world["ua"], world["person"]
    assert isinstance(ua, User)
    assert isinstance(person, Beneficiary)
    add_barrier(
        db_session, ua, person, category_code="mobility", identified_on=TODAY,
        level=BarrierLevel.STRONG, detail="Pas de permis", vault=vault,
    )  # fmt: skip
    add_step(
        db_session, vault, ua, person, stage_code="employment", started_on=TODAY,
        contract_type=ContractType.INTERIM, employer="Intérim Savoureuse",
    )  # fmt: skip
    return person


def test_the_subject_access_copy_holds_the_detail_and_the_employer(
    db_session: Session, vault: Vault, world: dict[str, object]
) -> None:
    person = _with_details(db_session, vault, world)
    ua = world["ua"]
    assert isinstance(ua, User)
    report = subject_access_report(
        db_session, vault, ua, person, output="json", today=TODAY, now=NOW
    )
    data = report_as_json(report)
    (barrier,) = data["barriers"]
    assert (barrier["level"], barrier["detail"]) == ("strong", "Pas de permis")
    (job,) = [s for s in data["steps"] if s["stage"] == "employment"]
    assert (job["contract_type"], job["employer"]) == ("interim", "Intérim Savoureuse")


def test_an_erasure_clears_the_detail_and_the_employer(
    db_session: Session, vault: Vault, world: dict[str, object], tmp_path: Path
) -> None:
    person = _with_details(db_session, vault, world)
    ua = world["ua"]
    assert isinstance(ua, User)
    erase_person(
        db_session, vault, ua, person, cause=ErasureCause.REQUEST,
        register=RegisterFile(tmp_path / "register.txt"), today=TODAY, now=NOW,
    )  # fmt: skip
    db_session.flush()
    db_session.expire_all()
    assert db_session.scalars(select(Barrier.detail)).all() == [None]
    assert db_session.scalars(select(PathwayStep.employer)).all() == [None]
    # The level and the contract stay: statistical facts, like the pathway's dates.
    assert db_session.scalars(select(Barrier.level)).all() == [BarrierLevel.STRONG]
    assert ContractType.INTERIM in db_session.scalars(select(PathwayStep.contract_type)).all()
    assert not is_readable(db_session, db_session.get(Beneficiary, person.id))  # type: ignore[arg-type]
