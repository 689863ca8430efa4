"""The subject-access export: the whole file, and every consultation with date, structure and
purpose; the export itself is audited."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.rights import ErasureCause, WithdrawalSource
from app.domain.roles import Role
from app.models import AuditEvent
from app.services.errors import Forbidden, NotFound
from app.services.handoffs import send_handoff
from app.services.people.identity import reveal_identity
from app.services.people.overview import record_pathway_view
from app.services.rights.consents import withdraw_consent
from app.services.rights.erasure import erase_person
from app.services.rights.subject_access import report_as_json, subject_access_report
from app.services.security.vault import Vault
from tests import factories
from tests.rights_helpers import NOW, TODAY, network, register_in


def test_the_report_holds_the_whole_file(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    # A note between two other partners: A cannot read it on the person's page, the person
    # has a right to it all the same.
    send_handoff(
        db_session,
        vault,
        net.worker_b,
        net.person,
        to_structure=net.c,
        now=NOW,
        purpose_stage_code="employment",
        note="between partners",
        consent_confirmed=True,
    )
    report = subject_access_report(
        db_session, vault, net.worker_a, net.person, output="page", today=TODAY, now=NOW
    )
    assert report.identity.last_name == "Zephyrin"
    assert report.identity.address == "12 rue des Tilleuls, 90000 Belfort"
    assert report.generated_by is net.a
    assert sorted(report.texts.values()) == [
        "between partners",
        "secret action text",
        "secret answer",
        "secret note",
    ]
    assert {f.structure_id for f in report.timeline.follow_ups} == {net.a.id, net.b.id}
    assert [b.category.code for b in report.timeline.barriers] == ["mobility"]
    assert len(report.timeline.handoffs) == 3
    assert [c.method.value for c in report.consents] == ["oral"]


def test_every_consultation_is_listed_with_date_structure_and_purpose(
    db_session: Session, vault: Vault
) -> None:
    net = network(db_session, vault)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    reveal_identity(vault, db_session, net.worker_b, net.person, "person_page")
    reveal_identity(vault, db_session, net.worker_a, net.person, "caseload")
    record_pathway_view(db_session, coordinator, net.person)
    db_session.flush()
    expected = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.beneficiary_id == net.person.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()

    report = subject_access_report(
        db_session, vault, net.worker_a, net.person, output="json", today=TODAY, now=NOW
    )

    log = report.access_log
    assert len(log) == len(expected) + 1  # and the export itself, last
    consultations = [(c.action, c.structure, c.actor_role, c.purpose) for c in report.consultations]
    assert consultations == [
        ("beneficiary:reveal", net.b, Role.CASEWORKER, "person_page"),
        ("beneficiary:reveal", net.a, Role.CASEWORKER, "caseload"),
        ("pathway:view", None, Role.COORDINATOR, None),
        ("beneficiary:subject_access", net.a, Role.CASEWORKER, "subject_access"),
    ]
    assert all(line.at is not None for line in log)
    changes = {line.action for line in log if not line.is_consultation}
    assert {"beneficiary:create", "consent:record", "step:add", "handoff:send"} <= changes
    export = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
    ).one()
    assert (export.actor_structure_id, export.purpose, export.data) == (
        net.a.id,
        "subject_access",
        {"output": "json"},
    )


def test_the_json_copy_uses_codes(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    withdraw_consent(
        db_session,
        vault,
        net.worker_a,
        net.person,
        on=TODAY,
        source=WithdrawalSource.EMAIL,
        today=TODAY,
        now=NOW,
    )
    report = subject_access_report(
        db_session, vault, net.worker_a, net.person, output="json", today=TODAY, now=NOW
    )
    data = json.loads(json.dumps(report_as_json(report)))  # plain JSON values only
    assert data["format"] == "relais-subject-access"
    assert data["generated_by_structure"] == net.a.code
    person = data["person"]
    assert person["pseudonym"] == net.person.pseudonym
    assert person["identity"]["birth_date"] == "2004-03-14"
    assert person["identity"]["phone"] == "+33612345678"
    assert person["statistics"] == {
        "birth_year": 2004,
        "sex": None,
        "qpv": None,
        "cohorts": ["young_dropout"],
        "education_level": None,
        "registered_month": "2026-11",
    }
    assert [s["stage"] for s in data["steps"]] == ["orientation"]
    assert data["steps"][0]["action"] == "secret action text"
    assert data["barriers"][0] == {
        "category": "mobility",
        "status": "identified",
        "level": None,
        "detail": None,
        "acting_structure": None,
        "identified_on": "2026-11-03",
        "closed_on": None,
        "closed_by_structure": None,
    }
    handoffs = {(h["from_structure"], h["to_structure"]): h for h in data["handoffs"]}
    accepted = handoffs[(net.a.code, net.b.code)]
    assert accepted["note"] == "secret note"
    assert [t["event"] for t in accepted["transitions"]] == ["send", "accept", "first_contact"]
    assert accepted["transitions"][-1]["message"] == "secret answer"
    pending = handoffs[(net.a.code, net.c.code)]
    assert pending["status"] == "withdrawn"
    assert pending["transitions"][-1]["cause"] == "consent_withdrawn"
    assert data["consents"] == [
        {
            "scope": "network_sharing",
            "method": "oral",
            "given_on": "2026-11-25",
            "withdrawn_on": "2026-11-27",
            "withdrawal_source": "email",
        }
    ]
    export = data["access_log"][-1]
    assert export.pop("at")  # an ISO time
    assert export == {
        "action": "beneficiary:subject_access",
        "consultation": True,
        "structure": net.a.code,
        "actor_role": "caseworker",
        "purpose": "subject_access",
    }
    assert str(net.person.id) not in json.dumps(data)  # no internal id


def test_only_a_following_structure_exports(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    for outsider in (net.worker_c, coordinator):
        with pytest.raises(NotFound):
            subject_access_report(
                db_session, vault, outsider, net.person, output="page", today=TODAY, now=NOW
            )
    assert (
        db_session.scalar(
            select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
        )
        is None
    )


def test_an_erased_person_has_no_file_left(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    erase_person(
        db_session,
        vault,
        net.worker_a,
        net.person,
        cause=ErasureCause.REQUEST,
        register=register_in(tmp_path),
        today=TODAY,
        now=NOW,
    )
    with pytest.raises(Forbidden):
        subject_access_report(
            db_session,
            vault,
            net.worker_a,
            net.person,
            output="page",
            today=date(2026, 11, 28),
            now=NOW,
        )


def test_the_report_holds_the_orientation_decisions_and_no_solution_records(
    db_session: Session, vault: Vault
) -> None:
    from app.domain.orientation import DecisionReason
    from app.domain.pathway import BarrierLevel
    from app.services.pathways import add_barrier
    from app.services.pathways.orientation import decide_pathway
    from app.services.unmet_needs.recording import record_no_solution

    net = network(db_session, vault)
    add_barrier(
        db_session,
        net.worker_a,
        net.person,
        category_code="housing",
        identified_on=date(2026, 11, 4),
        level=BarrierLevel.STRONG,
    )
    decide_pathway(
        db_session,
        net.worker_a,
        net.person,
        pathway_type_code="socio_professional",
        decided_on=date(2026, 11, 5),
        today=TODAY,
    )
    decide_pathway(
        db_session,
        net.worker_a,
        net.person,
        pathway_type_code="social",
        decided_on=date(2026, 11, 10),
        reason=DecisionReason.NEW_BARRIER,
        today=TODAY,
    )
    record_no_solution(
        db_session,
        net.worker_a,
        net.person,
        barrier_id=None,
        category_code="housing",
        precision_code=None,
        today=TODAY,
    )
    # Someone else's decision is not in the person's report.
    decide_pathway(
        db_session,
        net.worker_a,
        net.bystander,
        pathway_type_code="professional",
        decided_on=date(2026, 11, 5),
        today=TODAY,
    )
    report = subject_access_report(
        db_session, vault, net.worker_a, net.person, output="json", today=TODAY, now=NOW
    )
    data = json.loads(json.dumps(report_as_json(report)))
    decisions = data["orientation_decisions"]
    assert [d["pathway_type"] for d in decisions] == ["socio_professional", "social"]
    assert decisions[1]["reason"] == "new_barrier"
    assert decisions[1]["structure"] == net.a.code
    assert {"category": "housing", "level": "strong"} in decisions[1]["criteria"]
    (need,) = data["no_solution_found"]
    assert need["category"] == "housing"
    assert need["structure"] == net.a.code
    assert need["occurred_on"] == TODAY.isoformat()
