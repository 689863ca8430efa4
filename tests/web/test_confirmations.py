"""Confirmations flashed before a redirect name the person when they are shown, from the
reveal of the page they are shown on; anywhere else (and to a structure that may not see the
name) the pseudonym; the name never rides in the session cookie."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import get_flashed_messages
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent, Beneficiary, Structure
from app.web.confirmations import PERSON, flash_naming, flash_text
from tests import factories
from tests.web.helpers import login, page_tokens

NAME = "Ondine PRZYBYLSKA"


@pytest.fixture
def partners(db_session: Session) -> dict[str, Structure]:
    found = {code: factories.structure(db_session, code) for code in ("KAE", "KBE")}
    for code, structure in found.items():
        factories.user(db_session, structure_=structure, email=f"{code.lower()}@relais.example")
    db_session.commit()
    return found


def _register(client: FlaskClient) -> str:
    """Register Ondine Przybylska (as the signed-in caseworker): where it redirects to."""
    registered = client.post(
        "/people/new",
        data={
            **page_tokens(client, "/people/new"),
            "last_name": "Przybylska",
            "first_name": "Ondine",
            "birth_date": "2002-02-11",
            "cohorts": "young_graduate",
            "consent_method": "oral",
            "consent_on": "2026-11-01",
        },
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)
    return str(registered.headers["Location"])


def _sent(client: FlaskClient, to: Structure) -> tuple[str, str]:
    """Register Ondine Przybylska as KAE and hand her off to ``to``: (pseudonym, hand-off)."""
    login(client, "kae@relais.example")
    pseudonym = _register(client).rsplit("/", 1)[-1]
    sent = client.post(
        f"/handoffs/new/{pseudonym}",
        data={
            **page_tokens(client, f"/handoffs/new/{pseudonym}"),
            "to_structure": str(to.id),
            "purpose": "stage:training",
            "consent_confirmed": "y",
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    client.get(sent.headers["Location"])  # its confirmation shown
    return pseudonym, sent.headers["Location"].rsplit("/", 1)[-1]


def _answer(client: FlaskClient, handoff: str, event: str, **fields: str) -> str:
    """Answer ``handoff`` as KBE (``event``): where the answer redirects to."""
    login(client, "kbe@relais.example")
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    token = re.search(rf'name="{event}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, f"{event} is not offered"
    data = {f"{event}-csrf_token": token.group(1), **{f"{event}-{k}": v for k, v in fields.items()}}
    answered = client.post(f"/handoffs/{handoff}/{event}", data=data)
    assert answered.status_code == 302
    return answered.headers["Location"]


def _reveals(db_session: Session, pseudonym: str) -> list[str | None]:
    """The purposes of the reveals of the person's identity, in order."""
    person = db_session.scalars(select(Beneficiary).where(Beneficiary.pseudonym == pseudonym)).one()
    query = (
        select(AuditEvent.purpose)
        .where(
            AuditEvent.action == AuditAction.BENEFICIARY_REVEAL,
            AuditEvent.beneficiary_id == person.id,
        )
        .order_by(AuditEvent.seq)
    )
    return list(db_session.scalars(query))


def _session_cookie(client: FlaskClient) -> str:
    app = client.application
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return str(serializer.loads(cookie.value))


def test_an_answer_names_the_person_from_the_page_it_is_shown_on(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    pseudonym, handoff = _sent(client, partners["KBE"])
    before = _reveals(db_session, pseudonym)
    target = _answer(client, handoff, "accept")
    # The confirmation waits in the cookie with the person's pseudonym, not her name.
    waiting = _session_cookie(client)
    assert pseudonym in waiting
    assert "Przybylska" not in waiting.title()
    assert _reveals(db_session, pseudonym) == before  # nothing revealed by the answer
    page = client.get(target).get_data(as_text=True)
    assert f"orientation acceptée ({NAME})." in page
    # One reveal for the page and its confirmation: the page's own.
    assert _reveals(db_session, pseudonym) == [*before, "handoff_page"]
    # Shown once.
    assert "acceptée (" not in client.get(target).get_data(as_text=True)


def test_a_confirmation_shown_elsewhere_gives_the_pseudonym(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    """On a page that does not reveal the person (the redirect not followed) or on an error
    page (whose audit events would be rolled back with its request), the pseudonym: no
    name without the page's own audited reveal."""
    pseudonym, handoff = _sent(client, partners["KBE"])
    before = _reveals(db_session, pseudonym)
    _answer(client, handoff, "accept")
    page = client.get("/account/contact").get_data(as_text=True)
    assert f"orientation acceptée ({pseudonym})." in page
    _answer(client, handoff, "first_contact")
    missing = client.get("/people/P-ZZZZ-ZZZZ")
    assert missing.status_code == 404
    assert f"premier contact établi ({pseudonym})." in missing.get_data(as_text=True)
    # The only reveal since: the hand-off's page, opened to answer it.
    assert _reveals(db_session, pseudonym) == [*before, "handoff_page"]


def test_a_structure_that_may_not_see_the_name_is_given_the_pseudonym(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    pseudonym, handoff = _sent(client, partners["KBE"])
    before = _reveals(db_session, pseudonym)
    target = _answer(client, handoff, "decline", reason="no_capacity")
    page = client.get(target).get_data(as_text=True)
    assert f"orientation refusée ({pseudonym})." in page
    assert "Przybylska" not in page.title()
    assert _reveals(db_session, pseudonym) == before


def test_the_sender_and_the_registration_confirmations_use_the_page_they_lead_to(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "kae@relais.example")
    registered = _register(client)
    pseudonym = registered.rsplit("/", 1)[-1]
    person_page = client.get(registered).get_data(as_text=True)
    assert f"Inscription de {NAME} enregistrée ({pseudonym})." in person_page
    assert _reveals(db_session, pseudonym) == ["person_page"]
    tokens = page_tokens(client, f"/handoffs/new/{pseudonym}")
    revealed = _reveals(db_session, pseudonym)  # the sending page names her too
    sent = client.post(
        f"/handoffs/new/{pseudonym}",
        data={
            **tokens,
            "to_structure": str(partners["KBE"].id),
            "purpose": "stage:training",
            "consent_confirmed": "y",
        },
    )
    handoff_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"Orientation de {NAME} envoyée" in handoff_page
    assert _reveals(db_session, pseudonym) == [*revealed, "handoff_page"]


def test_a_confirmation_shown_to_nobody_signed_in_gives_the_pseudonym(client: FlaskClient) -> None:
    """A session that expired with a confirmation waiting: the page is a visitor's."""
    app = client.application
    with app.test_request_context("/login"):
        flash_naming(
            Beneficiary(id=uuid.UUID(int=7), pseudonym="P-7Q4K-2M9X"),
            f"Inscription de {PERSON} enregistrée.",
        )
        (waiting,) = get_flashed_messages()
        assert flash_text(waiting) == "Inscription de P-7Q4K-2M9X enregistrée."
        assert flash_text("Mot de passe modifié.") == "Mot de passe modifié."
