"""Registering people: validation, encryption at rest, blind indexes, audit, scoping."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.crypto import DecryptionError
from app.domain.pathway import ConsentMethod
from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, FollowUp, PersonKey
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.people import access
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.identity import Identity, open_identity
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.services.security.vault import IdentityErased, Vault
from tests import factories


def test_registration_encrypts_identity_and_keeps_statistics(
    db_session: Session, vault: Vault
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    assert person.pseudonym.startswith("P-")
    assert person.birth_year == 2004
    assert person.created_month == date(2026, 11, 1)
    assert [c.code for c in person.cohorts] == ["young_dropout"]
    assert isinstance(person.last_name, bytes)
    assert b"Zephyrin" not in person.last_name
    who = open_identity(vault, db_session, person)
    assert who.last_name == "Zephyrin"
    assert who.first_name == "Aurélie"
    assert who.birth_date == date(2004, 3, 14)
    assert who.phone == "+33612345678"  # normalised to E.164
    assert repr(who) == "Identity(<hidden>)"
    assert (
        db_session.scalar(
            select(FollowUp).where(
                FollowUp.beneficiary_id == person.id, FollowUp.ended_on.is_(None)
            )
        )
        is not None
    )
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.beneficiary_id == person.id)
    ).all()
    assert "beneficiary:create" in actions
    assert "consent:record" in actions


def test_raw_database_holds_no_identity_in_clear(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    factories.person(
        db_session,
        vault,
        worker,
        last_name="Quennevillard",
        first_name="Hortense",
        phone="+33 7 81 22 33 44",
        email="hortense.q@exemple.fr",
    )
    db_session.flush()
    dump = " ".join(
        repr(row)
        for table in ("beneficiaries", "audit_events", "person_keys", "consents", "follow_ups")
        for row in db_session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
    )
    for value in ("Quennevillard", "Hortense", "781223344", "hortense.q", "Tilleuls", "2004-03-14"):
        assert value not in dump


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_name": " "}, "last_name"),
        ({"first_name": ""}, "first_name"),
        ({"birth_date": date(2030, 1, 1)}, "birth_date"),
        ({"birth_date": date(1900, 1, 1)}, "birth_date"),
        ({"birth_date": date(2020, 1, 1)}, "birth_date"),
        ({"phone": "12"}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"email": "no-at-sign"}, "email"),
        ({"last_name": "x" * 101}, "last_name"),
    ],
)
def test_bad_identity_values_are_refused_with_the_field(
    db_session: Session, vault: Vault, change: dict[str, object], field: str
) -> None:
    worker = factories.user(db_session)
    values: dict[str, object] = {
        "last_name": "Martin",
        "first_name": "Jules",
        "birth_date": date(2000, 1, 1),
        **change,
    }
    with pytest.raises(InvalidInput) as caught:
        register_person(
            db_session,
            vault,
            worker,
            NewPerson(identity=Identity(**values), cohort_codes=["other"]),  # type: ignore[arg-type]
            today=factories.TODAY,
        )
    assert caught.value.field == field
    assert db_session.scalar(select(Beneficiary.id)) is None  # nothing half-written


def test_consent_is_not_dated_before_the_birth_date(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    identity = Identity(last_name="Martin", first_name="Jules", birth_date=date(2000, 1, 1))
    for given_on in (date(1999, 12, 31), date(1, 1, 1)):
        new = NewPerson(
            identity=identity,
            cohort_codes=["other"],
            consent=ConsentInput(method=ConsentMethod.ORAL, given_on=given_on),
        )
        with pytest.raises(InvalidInput, match="before the birth date") as caught:
            register_person(db_session, vault, worker, new, today=factories.TODAY)
        assert caught.value.field == "consent_on"
    assert db_session.scalar(select(Beneficiary.id)) is None


def test_international_phone_is_accepted(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker, phone="+41 44 668 18 00")
    assert open_identity(vault, db_session, person).phone == "+41446681800"


def test_unknown_cohort_or_qpv_is_refused(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    with pytest.raises(InvalidInput, match="cohort"):
        factories.person(db_session, vault, worker, cohorts=("astronauts",))
    with pytest.raises(InvalidInput):
        factories.person(db_session, vault, worker, cohorts=())


def test_only_caseworkers_register_people(db_session: Session, vault: Vault) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(Forbidden):
        factories.person(db_session, vault, coordinator)


def test_same_person_gets_the_same_blind_index(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    first = factories.person(
        db_session, vault, worker, last_name="Dupont-Moreau", first_name="Éloïse"
    )
    second = factories.person(
        db_session,
        vault,
        worker,
        last_name="dupont moreau",
        first_name="eloise",
        phone="+33 6 99 88 77 66",
        email="autre@exemple.fr",
    )
    assert first.name_birth_index == second.name_birth_index
    assert first.name_birth_index is not None
    assert 0 <= first.name_birth_index < 2**14


@pytest.mark.parametrize(
    ("typed", "again"),
    [
        (("N'Diaye-Lefèvre", "Éloïse-Maëlle"), ("NDIAYE LEFEVRE", "ELOISE MAELLE")),
        (("Le Gall", "Jean Pierre"), ("LEGALL", "Jean-Pierre")),
    ],
)
def test_a_name_typed_without_its_apostrophe_hyphen_or_spaces_is_a_possible_duplicate(
    db_session: Session, vault: Vault, typed: tuple[str, str], again: tuple[str, str]
) -> None:
    worker = factories.user(db_session)
    born = date(2004, 2, 29)
    known = factories.person(
        db_session, vault, worker, last_name=typed[0], first_name=typed[1], birth_date=born
    )
    found = find_possible_duplicates(
        db_session,
        vault,
        worker,
        Identity(last_name=again[0], first_name=again[1], birth_date=born),
        today=factories.TODAY,
    )
    assert [person.id for person in found.followed] == [known.id]


def test_a_ciphertext_moved_to_another_person_does_not_decrypt(
    db_session: Session, vault: Vault
) -> None:
    worker = factories.user(db_session)
    one = factories.person(db_session, vault, worker, last_name="Alpha")
    two = factories.person(db_session, vault, worker, last_name="Beta")
    two.last_name = one.last_name
    with pytest.raises(DecryptionError):
        open_identity(vault, db_session, two)
    one.first_name, one.last_name = one.last_name, one.first_name  # swapped columns
    with pytest.raises(DecryptionError):
        open_identity(vault, db_session, one)


def test_without_its_data_key_an_identity_cannot_be_read(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    db_session.delete(db_session.get(PersonKey, person.id))
    db_session.flush()
    with pytest.raises(IdentityErased):
        open_identity(vault, db_session, person)


def test_scoping_gives_not_found_across_structures(db_session: Session, vault: Vault) -> None:
    mine = factories.user(db_session)
    theirs = factories.user(db_session)
    person = factories.person(db_session, vault, mine)
    assert access.followed_person(db_session, mine, person.pseudonym, factories.TODAY) is person
    with pytest.raises(NotFound):
        access.followed_person(db_session, theirs, person.pseudonym, factories.TODAY)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(NotFound):
        access.followed_person(db_session, coordinator, person.pseudonym, factories.TODAY)


def test_sql_errors_never_show_parameters(
    db_session: Session, vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as caught, db_session.begin_nested():
        db_session.execute(
            text(
                "INSERT INTO beneficiaries (id, pseudonym, created_month, created_by_structure_id) "
                "VALUES (:id, :p, :m, :s)"
            ),
            {"id": person.id.hex, "p": "SECRET-PARAM-42", "m": date(2026, 1, 1), "s": 999_999},
        )
    assert "SECRET-PARAM-42" not in str(caught.value)
    assert "SECRET-PARAM-42" not in caplog.text
