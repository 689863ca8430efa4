"""Who sees which person: identities for the following structure only, never for coordinators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import KEEP_ALIVE_TOKEN, TOKEN, login

IDENTITY_VALUES = (
    "06 12 34 56 78",
    "Zephyrin",
    "ZEPHYRIN",
    "Aurélie",
    "+33612345678",
    "aurelie.z@exemple.fr",
    "Tilleuls",
    "2004",
)


@pytest.fixture
def network(db_session: Session, vault: Vault) -> dict[str, object]:
    """Two structures, a caseworker in each, a coordinator, an admin and one person of A's."""
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    person = factories.person(db_session, vault, worker_a)
    add_step(
        db_session,
        vault,
        worker_a,
        person,
        stage_code="orientation",
        started_on=factories.TODAY,
        action="Diagnostic mobilité",
    )
    barrier = add_barrier(
        db_session, worker_a, person, category_code="mobility", identified_on=factories.TODAY
    )
    handoff = send_handoff(
        db_session,
        vault,
        worker_a,
        person,
        to_structure=b,
        now=datetime.now(UTC),
        purpose_barrier=barrier,
        note="Aurélie cherche un permis",
        consent_confirmed=True,
    )
    db_session.commit()
    return {"person": person, "handoff": handoff, "worker_b": worker_b}


def test_caseworker_sees_identity_of_people_followed(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "a@relais.example")
    listing = client.get("/people/").get_data(as_text=True)
    assert "Aurélie ZEPHYRIN" in listing
    assert person.pseudonym in listing
    page = client.get(f"/people/{person.pseudonym}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "06 12 34 56 78" in text
    assert "aurelie.z@exemple.fr" in text
    assert "Diagnostic mobilité" in text  # the encrypted step action, readable here
    assert page.headers["Cache-Control"] == "no-store"
    reveals = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:reveal", AuditEvent.beneficiary_id == person.id
        )
    ).all()
    assert {r.purpose for r in reveals} == {"caseload", "person_page"}


def test_other_structure_gets_404_on_a_person_it_does_not_follow(
    client: FlaskClient, network: dict[str, object]
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "b@relais.example")  # B only has a pending hand-off, no follow-up
    response = client.get(f"/people/{person.pseudonym}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert all(value not in text for value in IDENTITY_VALUES)
    assert person.pseudonym not in client.get("/people/").get_data(as_text=True)


def test_unknown_pseudonym_and_known_one_look_the_same(
    client: FlaskClient, network: dict[str, object]
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "b@relais.example")
    known = client.get(f"/people/{person.pseudonym}")
    unknown = client.get("/people/P-ZZZZ-ZZZZ")
    assert known.status_code == unknown.status_code == 404

    # Apart from the CSRF tokens (the forms' and the keep-alive's, signed with the second they
    # were made in) and the requested path (echoed by the language switch), the two answers are
    # identical: nothing tells that the pseudonym exists elsewhere.
    def clean(text: str, pseudonym: str) -> str:
        text = KEEP_ALIVE_TOKEN.sub("", TOKEN.sub("", text))
        return text.replace(pseudonym, "P-XXXX-XXXX")

    assert clean(known.get_data(as_text=True), person.pseudonym) == clean(
        unknown.get_data(as_text=True), "P-ZZZZ-ZZZZ"
    )


def test_accepting_the_handoff_opens_the_identity(
    client: FlaskClient, network: dict[str, object], db_session: Session, vault: Vault
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    handoff, worker_b = network["handoff"], network["worker_b"]
    apply_event(db_session, vault, worker_b, handoff, HandoffEvent.ACCEPT, now=datetime.now(UTC))  # type: ignore[arg-type]
    db_session.commit()
    login(client, "b@relais.example")
    assert client.get(f"/people/{person.pseudonym}").status_code == 200


def test_coordinator_pages_contain_no_identity(
    client: FlaskClient, network: dict[str, object], db_session: Session
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "coord@relais.example")
    listing = client.get("/pathways/")
    detail = client.get(f"/pathways/{person.pseudonym}")
    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        text = page.get_data(as_text=True)
        assert person.pseudonym in text
        assert all(value not in text for value in IDENTITY_VALUES)
        assert "Diagnostic mobilité" not in text
        assert "permis" not in text
    detail_text = detail.get_data(as_text=True)
    assert "Structure" in detail_text  # the structures of the pathway are shown
    views = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "pathway:view")).all()
    assert [v.beneficiary_id for v in views] == [person.id]


def test_coordinator_filters(client: FlaskClient, network: dict[str, object]) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "coord@relais.example")
    assert person.pseudonym in client.get(
        "/pathways/?cohort=young_dropout&stage=orientation"
    ).get_data(as_text=True)
    assert person.pseudonym not in client.get("/pathways/?cohort=single_parent").get_data(
        as_text=True
    )
    assert person.pseudonym in client.get("/pathways/?structure=AAA").get_data(as_text=True)
    assert client.get("/pathways/?page=abc").status_code == 200


def test_coordinator_finds_a_pathway_by_pseudonym_however_it_is_typed(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, object]
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    other = factories.person(db_session, vault, factories.user(db_session))
    db_session.commit()
    login(client, "coord@relais.example")
    bare = person.pseudonym.replace("-", "")  # P7K3MQ9XA
    for typed in (
        person.pseudonym,
        person.pseudonym.lower(),
        bare,
        bare[1:],  # without the P
        f" {bare[1:5].lower()} {bare[5:]} ",
        bare[1:5].lower(),  # the first four characters
        f"p-{bare[1:7]}",  # the first six, with the prefix
    ):
        page = client.get("/pathways/", query_string={"q": typed}).get_data(as_text=True)
        assert person.pseudonym in page, typed
        assert other.pseudonym not in page or other.pseudonym.startswith(
            person.pseudonym[: len(typed)]
        ), typed
    # The search and the filters stay in the URL together; the pagination keeps them.
    page = client.get("/pathways/", query_string={"q": bare, "cohort": "single_parent"})
    assert person.pseudonym not in page.get_data(as_text=True)
    page = client.get("/pathways/", query_string={"q": bare, "structure": "AAA"})
    assert person.pseudonym in page.get_data(as_text=True)
    assert f'value="{bare}"' in page.get_data(as_text=True)
    # Not a pseudonym: a clear message on the field, an empty list, never a 500.
    for typed in ("abc", "P-0000-0000", "Dupont", "x" * 500):
        response = client.get("/pathways/", query_string={"q": typed})
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in text
        assert person.pseudonym not in text


def test_a_pseudonym_typed_in_the_address_goes_to_its_pathway(
    client: FlaskClient, network: dict[str, object]
) -> None:
    person = network["person"]
    assert isinstance(person, Beneficiary)
    login(client, "coord@relais.example")
    for typed in (person.pseudonym.lower(), person.pseudonym.replace("-", "")):
        response = client.get(f"/pathways/{typed}")
        assert response.status_code == 301
        assert response.headers["Location"].endswith(f"/pathways/{person.pseudonym}")
    assert client.get(f"/pathways/{person.pseudonym}").status_code == 200
    assert client.get("/pathways/P-2222-2222").status_code == 404
    assert client.get("/pathways/not-a-pseudonym").status_code == 404


def test_admin_sees_structures_and_accounts_but_no_people(
    client: FlaskClient, network: dict[str, object]
) -> None:
    login(client, "admin@relais.example")
    structures = client.get("/admin/structures").get_data(as_text=True)
    users = client.get("/admin/users").get_data(as_text=True)
    assert "AAA" in structures
    assert "BBB" in structures
    assert "a@relais.example" in users
    assert client.get("/admin/reference").status_code == 200
    assert client.get("/people/").status_code == 404
    assert client.get("/pathways/").status_code == 404


def test_lists_paginate(client: FlaskClient, db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session, email="busy@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord2@relais.example")
    for n in range(27):
        factories.person(db_session, vault, worker, last_name=f"Person{n}")
    db_session.commit()
    login(client, "busy@relais.example")
    first = client.get("/people/").get_data(as_text=True)
    second = client.get("/people/?page=2").get_data(as_text=True)
    assert "Page 1 sur 2" in first
    assert "Page 2 sur 2" in second
    assert first.count('class="pseudonym"') == 25
    assert second.count('class="pseudonym"') == 2
    login(client, "coord2@relais.example")
    assert "Page 2 sur 2" in client.get("/pathways/?page=2").get_data(as_text=True)
    assert "Page 2 sur 2" in client.get("/pathways/?page=99").get_data(as_text=True)
