"""Importing a caseload from CSV: the use case, from the file to the people written and audited."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.pathway import ConsentMethod
from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, Consent, FollowUp, PersonKey, User
from app.services import imports
from app.services.errors import Forbidden
from app.services.pathways import stale_people
from app.services.people.identity import open_identity
from app.services.rights.subject_access import access_log
from app.services.security import audit_check, audit_people
from app.services.security.vault import Vault
from tests import factories
from tests.services.imports.helpers import (
    GOOD,
    HEADER,
    OTHER,
    TODAY,
    cohort_codes,
    csv_file,
    people_count,
    run,
    where,
)


def test_a_valid_file_is_imported_as_registration_would(
    db_session: Session, vault: Vault, worker: User
) -> None:
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER))
    assert (result.total, result.imported, list(result.errors)) == (2, 2, [])
    people = {
        open_identity(vault, db_session, p).last_name: p
        for p in db_session.scalars(select(Beneficiary))
    }
    assert sorted(people) == ["Martin", "Zephyrin"]
    first = people["Zephyrin"]
    who = open_identity(vault, db_session, first)
    assert (who.first_name, who.birth_date) == ("Aurélie", date(2004, 3, 14))
    assert who.phone == "+33612345678"  # E.164, as clean_identity gives it
    assert who.email == "Aurelie.Z@exemple.fr"  # domain lower-cased by email_validator
    assert who.address == "12 rue des Tilleuls"
    assert first.pseudonym.startswith("P-")
    assert first.birth_year == 2004
    assert first.created_month == date(2026, 11, 1)
    assert first.created_by_structure_id == worker.structure_id
    assert first.qpv is not None
    assert first.qpv.code == "QN09001M"
    assert cohort_codes(db_session, first) == ["young_dropout"]
    assert cohort_codes(db_session, people["Martin"]) == ["single_parent"]
    assert first.name_birth_index is not None
    assert first.phone_index is not None
    assert first.email_index is not None
    follow_up = db_session.scalar(select(FollowUp).where(FollowUp.beneficiary_id == first.id))
    assert follow_up is not None
    assert (follow_up.structure_id, follow_up.referent_id) == (worker.structure_id, worker.id)
    assert follow_up.started_on == TODAY
    consents = {c.beneficiary_id: c for c in db_session.scalars(select(Consent)).all()}
    assert consents[first.id].method is ConsentMethod.ORAL
    assert consents[first.id].given_on == TODAY  # no date written: today
    assert consents[people["Martin"].id].method is ConsentMethod.SIGNED
    assert consents[people["Martin"].id].given_on == date(2025, 9, 12)
    assert consents[first.id].recorded_by_id == worker.id
    # The follow-up's start is their only event: the pathway state the bulk inserts write is
    # the events' state.
    assert (first.last_event_day, first.current_stage_id) == (TODAY, None)
    assert first.last_event_structure_id == worker.structure_id
    assert stale_people(db_session) == []


def test_import_is_audited(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One event per batch lists the people it registered (one per consent method, their
    consents), as a page lists the people it shows: each person finds the import's events in
    their access history, and the audit check finds the people index complete."""
    monkeypatch.setattr("app.services.imports.writing.BATCH_SIZE", 2)
    third = "Quintal;Bérénice;02/05/2001;07 98 76 54 32;;;QN09001M;young_dropout;oral"
    run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER, third))
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    mine = [e for e in events if e.actor_id == worker.id]
    actions = [e.action for e in mine]
    assert actions == [
        "beneficiary:duplicate_check",
        "beneficiary:create",  # the first batch: Zephyrin and Martin
        "consent:record",  # oral
        "consent:record",  # signed
        "beneficiary:create",  # the second batch: Quintal
        "consent:record",
        "beneficiary:import",
    ]
    check = next(e for e in mine if e.action == "beneficiary:duplicate_check")
    done = next(e for e in mine if e.action == "beneficiary:import")
    assert check.subject_id == done.subject_id  # one import id ties the events together
    assert done.data["people"] == 3
    assert all(e.actor_structure_id == worker.structure_id for e in mine)
    assert all(e.purpose == "import" for e in mine)
    creations = [e for e in mine if e.action == "beneficiary:create"]
    assert {e.data["import_id"] for e in creations} == {done.subject_id}
    assert all(e.subject_type == "beneficiaries" and e.subject_id == "*" for e in creations)
    people = db_session.scalars(select(Beneficiary).order_by(Beneficiary.created_at)).all()
    listed = [person for e in creations for person in e.data["people"]]
    assert sorted(listed) == sorted(str(p.id) for p in people)
    assert [len(e.data["people"]) for e in creations] == [2, 1]
    assert [e.beneficiary_id for e in creations] == [
        None,
        uuid.UUID(creations[1].data["people"][0]),
    ]
    for event in (e for e in mine if e.action == "consent:record"):
        consents = {
            str(c.id): str(c.beneficiary_id)
            for c in db_session.scalars(
                select(Consent).where(
                    Consent.id.in_([uuid.UUID(i) for i in event.data["subjects"]])
                )
            )
        }
        assert [consents[i] for i in event.data["subjects"]] == event.data["people"]
        assert event.subject_type == "consents"
    # Each person's access history: registered and consent recorded, by the import.
    for person in people:
        seen = [
            (line.action, line.purpose, line.structure.code if line.structure else None)
            for line in access_log(db_session, person.id)
        ]
        assert ("beneficiary:create", "import", "IMP") in seen
        assert ("consent:record", "import", "IMP") in seen
    assert audit_people.index_mismatch(db_session) is None
    assert audit_check.verify_chain(db_session).intact


def test_raw_database_holds_no_imported_value_in_clear(
    db_session: Session, vault: Vault, worker: User
) -> None:
    run(db_session, vault, worker, csv_file(HEADER, GOOD, OTHER))
    db_session.flush()
    dump = " ".join(
        repr(row)
        for table in (
            "beneficiaries",
            "audit_events",
            "person_keys",
            "consents",
            "follow_ups",
            "beneficiary_cohorts",
        )
        for row in db_session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
    )
    for value in (
        "Zephyrin",
        "Aurélie",
        "Aurelie",
        "612345678",
        "Exemple",
        "exemple.fr",
        "Tilleuls",
        "2004-03-14",
        "Martin",
        "Hélène",
        "2001-07-04",
    ):
        assert value not in dump


def test_batches_and_progress(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.services.imports.writing.BATCH_SIZE", 2)
    lines = [f"Nom{n};Léo;other" for n in range(5)]
    ticks: list[int] = []
    result = imports.import_caseload(
        db_session,
        vault,
        worker,
        csv_file("nom;prenom;public", *lines),
        today=TODAY,
        progress=ticks.append,
    )
    assert result.imported == 5
    assert sum(ticks) == 10  # every line checked, then every line written
    pseudonyms = db_session.scalars(select(Beneficiary.pseudonym)).all()
    assert len(set(pseudonyms)) == 5
    assert db_session.scalar(select(func.count()).select_from(PersonKey)) == 5


def test_one_bad_line_and_nothing_is_written(
    db_session: Session, vault: Vault, worker: User
) -> None:
    lines = [f"Nom{n};Léo;other" for n in range(30)]
    lines[17] = "Nom17;Léo;astronauts"
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", *lines))
    assert (result.total, result.imported) == (30, 0)
    assert where(result.errors) == [(19, "public")]
    assert people_count(db_session) == 0
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == worker.id)
        )
        == 0
    )


def test_only_caseworkers_import(db_session: Session, vault: Vault) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(Forbidden):
        run(db_session, vault, coordinator, csv_file(HEADER, GOOD))


def test_problems_never_carry_identity_values(
    db_session: Session, vault: Vault, worker: User
) -> None:
    data = csv_file(HEADER, "Quennevillard;Hortense;01/01/2030;12;hortense@@x;;;other;")
    result = run(db_session, vault, worker, data)
    shown = " ".join(str(p) for p in result.errors)
    for value in ("Quennevillard", "Hortense", "2030", "hortense"):
        assert value not in shown
