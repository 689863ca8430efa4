"""The reveals of a page: one audit event listing the people shown, findable per person."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent, Beneficiary, PersonKey, User
from app.services.people.identity import (
    SUMMARY_FIELDS,
    open_identity,
    reveal_identities,
    reveal_identity,
)
from app.services.security import audit, audit_check, audit_people
from app.services.security.vault import IdentityErased, Vault
from tests import factories
from tests.sql_count import count_queries

# What an audit event says, beside its place in the chain (seq, MAC, id and time).
FIELDS = (
    "actor_id",
    "actor_structure_id",
    "action",
    "subject_type",
    "subject_id",
    "beneficiary_id",
    "purpose",
    "data",
)


def _caseload(session: Session, vault: Vault, size: int) -> tuple[User, list[Beneficiary]]:
    worker = factories.user(session)
    people = [
        factories.person(session, vault, worker, last_name=f"Person{n}", email=f"p{n}@exemple.fr")
        for n in range(size)
    ]
    session.flush()
    return worker, people


def _events_after(session: Session, seq: int) -> list[dict[str, Any]]:
    session.flush()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
    )
    return [{name: getattr(event, name) for name in FIELDS} for event in events]


def _last_seq(session: Session) -> int:
    session.flush()
    return session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0


@pytest.mark.parametrize("fields", [SUMMARY_FIELDS, None])
def test_a_page_of_reveals_is_one_event_listing_the_people(
    db_session: Session, vault: Vault, fields: tuple[str, ...] | None
) -> None:
    worker, people = _caseload(db_session, vault, 4)
    start = _last_seq(db_session)
    identities = reveal_identities(vault, db_session, worker, people, "caseload", fields)
    assert identities == {p.id: open_identity(vault, db_session, p, fields) for p in people}
    assert list(identities) == [person.id for person in people]
    (event,) = _events_after(db_session, start)
    assert event == {
        "actor_id": worker.id,
        "actor_structure_id": worker.structure_id,
        "action": "beneficiary:reveal",
        "subject_type": "beneficiaries",
        "subject_id": audit.LISTED,
        "beneficiary_id": None,
        "purpose": "caseload",
        "data": {"people": [str(person.id) for person in people]},
    }
    (seq,) = db_session.scalars(select(AuditEvent.seq).where(AuditEvent.seq > start))
    for person in people:  # each listed person finds the page through the index
        about = db_session.scalars(audit_people.about_person(person.id)).all()
        assert [found for found in about if found > start] == [seq]  # after its creation
    assert audit_check.verify_chain(db_session).intact


def test_one_reveal_is_a_page_of_one(db_session: Session, vault: Vault) -> None:
    worker, (person,) = _caseload(db_session, vault, 1)
    start = _last_seq(db_session)
    who = reveal_identity(vault, db_session, worker, person, "person_page")
    assert who == open_identity(vault, db_session, person)
    assert who.full_name == "Aurélie PERSON0"
    (event,) = _events_after(db_session, start)
    assert event["action"] == "beneficiary:reveal"
    assert (event["subject_id"], event["purpose"]) == (str(person.id), "person_page")


def test_a_page_of_reveals_costs_the_same_for_any_number_of_people(
    db_session: Session, vault: Vault
) -> None:
    worker, people = _caseload(db_session, vault, 6)
    db_session.flush()
    with count_queries() as two:
        reveal_identities(vault, db_session, worker, people[:2], "caseload", SUMMARY_FIELDS)
    with count_queries() as six:
        reveal_identities(vault, db_session, worker, people, "caseload", SUMMARY_FIELDS)
    assert two.count == six.count, six.listing()


def test_an_erased_person_stops_the_page_before_any_reveal(
    db_session: Session, vault: Vault
) -> None:
    worker, people = _caseload(db_session, vault, 3)
    db_session.delete(db_session.get_one(PersonKey, people[1].id))
    start = _last_seq(db_session)
    with pytest.raises(IdentityErased):
        reveal_identities(vault, db_session, worker, people, "caseload")
    assert _events_after(db_session, start) == []


def test_an_empty_page_reveals_nothing(db_session: Session, vault: Vault) -> None:
    worker, _people = _caseload(db_session, vault, 1)
    start = _last_seq(db_session)
    assert reveal_identities(vault, db_session, worker, [], "caseload") == {}
    assert _events_after(db_session, start) == []


def test_record_many_lists_subjects_that_are_not_the_people(
    db_session: Session, vault: Vault
) -> None:
    worker, people = _caseload(db_session, vault, 3)
    start = _last_seq(db_session)
    event = audit.record_many(
        db_session,
        worker,
        AuditAction.PATHWAY_VIEW,
        [(worker, people[0].id), (worker, people[1].id)],
        n=1,
    )
    assert event is not None
    assert event.seq is None
    (written,) = _events_after(db_session, start)
    assert event.seq == start + 1
    assert written["data"] == {
        "n": 1,
        "people": [str(people[0].id), str(people[1].id)],
        "subjects": [str(worker.id)] * 2,
    }
    assert written["subject_type"] == "users"
    unlisted = db_session.scalars(audit_people.about_person(people[2].id)).all()
    assert event.seq not in unlisted
    assert unlisted
    assert audit_check.verify_chain(db_session).intact


def test_a_list_of_one_person_also_names_them(db_session: Session, vault: Vault) -> None:
    worker, (person,) = _caseload(db_session, vault, 1)
    start = _last_seq(db_session)
    audit.record_many(db_session, worker, AuditAction.PATHWAY_VIEW, [(person, person.id)])
    (single,) = _events_after(db_session, start)
    assert (single["subject_id"], single["beneficiary_id"]) == (audit.LISTED, person.id)
    assert single["data"] == {"people": [str(person.id)]}
    about = db_session.scalars(audit_people.about_person(person.id)).all()
    assert about.count(start + 1) == 1  # found once, by either lookup
    assert audit_check.verify_chain(db_session).intact


def test_the_subjects_of_one_event_are_rows_of_one_table(db_session: Session, vault: Vault) -> None:
    worker, (person,) = _caseload(db_session, vault, 1)
    with pytest.raises(ValueError, match="one table"):
        audit.record_many(
            db_session, worker, AuditAction.PATHWAY_VIEW, [(person, person.id), (worker, None)]
        )
