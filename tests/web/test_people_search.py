"""The caseload's search box and sort: the name typed stays out of URLs, the audit log records
only the people shown."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import people_shown
from tests.web.helpers import csrf_token, login

NAMES = (("Dupont", "Marie"), ("Lefèvre", "Éloïse"), ("Martin", "Jean"), ("Zola", "Émile"))


@pytest.fixture
def caseload(db_session: Session, vault: Vault) -> dict[str, Beneficiary]:
    a = factories.structure(db_session, "AAA")
    worker = factories.user(db_session, structure_=a, email="a@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    people = {
        last: factories.person(
            db_session, vault, worker, last_name=last, first_name=first,
            birth_date=date(2004, 1, 1 + n), phone=None, email=None,
        )
        for n, (last, first) in enumerate(NAMES)
    }  # fmt: skip
    for n in range(30):  # more than a page
        factories.person(
            db_session, vault, worker, last_name=f"Autre{chr(97 + n % 26)}", first_name="Personne",
            phone=None, email=None,
        )  # fmt: skip
    db_session.commit()
    return people


def search(client: FlaskClient, text: str, path: str = "/people/") -> str:
    token = csrf_token(client, "/account/password")  # a page that reveals nobody
    response = client.post(path, data={"q": text, "csrf_token": token})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "search=1" in location
    assert text.split()[0].lower() not in location.lower()
    return client.get(location).get_data(as_text=True)


def reveals(db_session: Session) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "beneficiary:reveal", AuditEvent.purpose == "caseload"
            )
        )
    )


def test_a_search_shows_the_person_and_audits_only_them(
    client: FlaskClient, db_session: Session, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    before = len(reveals(db_session))
    page = search(client, "lefevre eloise")
    assert "Éloïse LEFÈVRE" in page
    assert "1 personne correspond à votre recherche." in page
    assert "Marie DUPONT" not in page
    assert 'value="lefevre eloise"' in page  # what was typed stays in the box
    # The results page says it is one in its title (never what was typed: it goes to history).
    assert "<title>Personnes suivies : résultats de la recherche · Relais</title>" in page
    shown = reveals(db_session)[before:]
    assert [event.beneficiary_id for event in shown] == [caseload["Lefèvre"].id]


def test_the_results_page_survives_reload_and_clearing_ends_it(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    search(client, "dupont")
    again = client.get("/people/?search=1").get_data(as_text=True)
    assert "Marie DUPONT" in again
    assert "Émile ZOLA" not in again
    plain = client.get("/people/").get_data(as_text=True)  # the navigation: the whole list
    assert "Émile ZOLA" in plain or "Page 1" in plain
    token = csrf_token(client, "/people/?search=1")
    cleared = client.post("/people/?search=1", data={"q": "", "csrf_token": token})
    assert cleared.status_code == 303
    assert "search" not in cleared.headers["Location"]


def test_a_search_that_cannot_run_says_why(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    page = search(client, "31/02/2004")
    assert "31/02/2004 n&#39;est pas une date." in page
    assert 'aria-invalid="true"' in page
    assert "<title>Erreur : Personnes suivies : résultats de la recherche · Relais</title>" in page


def test_a_search_with_nothing_found_says_so(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    page = search(client, "durand")
    assert "Aucune personne suivie par votre structure ne correspond à cette recherche." in page


def test_a_forged_search_cookie_is_ignored(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    with client.session_transaction() as session:
        session["people_search"] = "not-a-sealed-value"
    page = client.get("/people/?search=1")
    assert page.status_code == 200
    assert "Clear the search" not in page.get_data(as_text=True)


def test_the_search_is_sealed_in_the_session(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    search(client, "zola")
    with client.session_transaction() as session:
        kept = session["people_search"]
    assert "zola" not in kept.lower()


def test_the_list_sorts_by_name_and_pages(
    client: FlaskClient, db_session: Session, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "a@relais.example")
    before = len(reveals(db_session))
    first = client.get("/people/?sort=name").get_data(as_text=True)
    assert first.index("Personne AUTREA") < first.index("Personne AUTREB")
    assert "Marie DUPONT" not in first  # after the 30 "Autre..."
    assert 'aria-sort="ascending"' in first
    last = client.get("/people/?sort=name&page=2").get_data(as_text=True)
    assert last.index("Marie DUPONT") < last.index("Éloïse LEFÈVRE") < last.index("Jean MARTIN")
    assert last.index("Jean MARTIN") < last.index("Émile ZOLA")
    shown = people_shown(reveals(db_session)[before:])
    assert len(shown) == len(set(shown)) == 34  # 25 + 9 shown, never the 34 twice


@pytest.mark.parametrize("sort", ["last_event", "stage", "recent", "nonsense"])
def test_the_list_sorts_by_each_column(
    client: FlaskClient, caseload: dict[str, Beneficiary], sort: str
) -> None:
    login(client, "a@relais.example")
    page = client.get(f"/people/?sort={sort}")
    assert page.status_code == 200
    assert "34 personnes" in page.get_data(as_text=True)


def test_coordinators_have_no_caseload_search(
    client: FlaskClient, caseload: dict[str, Beneficiary]
) -> None:
    login(client, "coord@relais.example")
    token = csrf_token(client, "/account/password")
    refused = client.post("/people/", data={"q": "dupont", "csrf_token": token})
    assert refused.status_code in (403, 404)
