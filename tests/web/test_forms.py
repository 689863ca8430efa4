"""Forms that respect the user's work: every error at once, listed at the top of the page with
links to the fields and "Erreur :" in the title, the values typed kept (after a refusal by the
service, and after an expired form sent from Relais), required fields marked, nothing
destructive chosen in advance."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.roles import Role
from app.models import Beneficiary, FollowUp, PathwayStep
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import action_tokens, login, page_tokens

SAME_ORIGIN = {"Origin": "http://localhost"}
SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


@pytest.fixture
def person(db_session: Session, vault: Vault) -> str:
    structure = factories.structure(db_session, "FRM")
    worker = factories.user(db_session, structure_=structure, email="frm@relais.example")
    followed = factories.person(db_session, vault, worker)
    db_session.commit()
    return followed.pseudonym


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _summary_links(response: TestResponse) -> list[str]:
    """The fields the error summary links to; each must exist on the page."""
    text = response.get_data(as_text=True)
    summary = SUMMARY.search(text)
    assert summary, "no error summary"
    anchors = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    for anchor in anchors:
        assert f'id="{anchor}"' in text, f"the summary links to #{anchor}, absent from the page"
    return anchors


def _title(response: TestResponse) -> str:
    found = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S)
    assert found
    return found.group(1)


def test_registration_shows_every_error_at_once_and_keeps_what_was_typed(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    before = _count(db_session, Beneficiary)
    data = {
        **page_tokens(client, "/people/new"),
        "last_name": "",  # refused by the form
        "first_name": "",
        "birth_date": "2090-01-01",  # refused by the service's rules
        "phone": "12",
        "email": "pas-une-adresse",
        "address": "3 rue des Glycines",
    }
    response = client.post("/people/new", data=data)
    assert response.status_code == 200
    assert _title(response).startswith("Erreur : Enregistrer une personne")
    links = _summary_links(response)
    assert links == ["last_name", "first_name", "birth_date", "phone", "email", "cohorts-0"]
    text = response.get_data(as_text=True)
    assert "6 erreurs à corriger" in text
    for kept in ('value="3 rue des Glycines"', 'value="12"', 'value="pas-une-adresse"'):
        assert kept in text
    assert 'aria-invalid="true"' in text
    assert _count(db_session, Beneficiary) == before


def test_a_form_without_errors_has_no_summary_nor_error_title(
    client: FlaskClient, person: str
) -> None:
    login(client, "frm@relais.example")
    for path in ("/people/new", f"/people/{person}", f"/people/{person}/edit"):
        page = client.get(path)
        assert 'class="error-summary"' not in page.get_data(as_text=True)
        assert not _title(page).startswith("Erreur")


def test_required_fields_are_marked(client: FlaskClient, person: str) -> None:
    login(client, "frm@relais.example")
    page = client.get("/people/new").get_data(as_text=True)
    marked = re.compile(r'<label for="(\w+)">[^<]*<span class="required-mark"')
    assert {"last_name", "first_name"} <= set(marked.findall(page))
    assert "phone" not in marked.findall(page)
    assert re.search(r'<input [^>]*id="last_name"[^>]*required', page)
    assert not re.search(r'<input [^>]*id="phone"[^>]*required', page)
    # A group of checkboxes says it in its legend, read with it.
    assert re.search(r"<legend>Publics <span class=\"required-mark\">\(obligatoire\)", page)


REQUIRED = re.compile(r"<(?:input|select|textarea)\b[^>]*\srequired[^>]*>")


def _unmarked_required(html: str) -> list[str]:
    """The required fields whose label (or, for a group, legend) does not say so in words."""
    unmarked = []
    for found in REQUIRED.finditer(html):
        field_id = re.search(r'\sid="([^"]+)"', found.group(0))
        assert field_id, found.group(0)
        label = re.search(rf'<label for="{field_id.group(1)}">(.*?)</label>', html, re.S)
        legend = re.findall(r"<legend>(.*?)</legend>", html[: found.start()], re.S)
        group = html.rfind("<fieldset", 0, found.start()) > html.rfind(
            "</fieldset>", 0, found.start()
        )
        marked = (label and "required-mark" in label.group(1)) or (
            group and legend and "required-mark" in legend[-1]
        )
        if not marked:
            unmarked.append(field_id.group(1))
    return unmarked


def test_every_required_field_says_so_in_its_label(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    for path in ("/people/new", f"/people/{person}/edit", f"/handoffs/new/{person}", "/import/"):
        page = client.get(path).get_data(as_text=True)
        assert REQUIRED.search(page), path
        assert _unmarked_required(page) == [], path
    # The hand-off's consent box, refused, says it is invalid as the other fields do.
    data = {**page_tokens(client, f"/handoffs/new/{person}"), "purpose": "stage:orientation"}
    refused = client.post(f"/handoffs/new/{person}", data=data).get_data(as_text=True)
    box = re.search(r'<input [^>]*id="consent_confirmed"[^>]*>', refused)
    assert box
    assert 'aria-invalid="true"' in box.group(0)


def test_nothing_destructive_is_chosen_in_advance(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    path = f"/people/{person}"
    tokens = action_tokens(client, person)
    client.post(
        f"{path}/barriers",
        data={
            "barrier-csrf_token": tokens["csrf_token"],
            "barrier-submission": tokens["barrier-submission"],
            "barrier-category": "mobility",
            "barrier-identified_on": "2026-11-02",
        },
    )
    person_page = client.get(path).get_data(as_text=True)
    barrier = re.search(rf'href="{path}/barriers/([0-9a-f]{{32}})"', person_page)
    assert barrier, "no link to the barrier's page"
    for action, select_id in (
        ("end", "end-reason"),
        (f"barriers/{barrier[1]}", r"b[0-9a-f]{8}-status"),
    ):
        page = client.get(f"{path}/{action}").get_data(as_text=True)
        found = re.search(rf'<select [^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
        assert found, select_id
        options = re.findall(r"<option[^>]*>", found.group(1))
        assert options[0] == '<option value="">', options[0]
        assert not any("selected" in option for option in options), select_id
    # Sent as it comes, the end of the follow-up is refused: nothing ends.
    response = client.post(
        f"{path}/end", data={"end-csrf_token": tokens["csrf_token"], "end-ended_on": "2026-11-20"}
    )
    assert response.status_code == 200
    assert _summary_links(response) == ["end-reason"]
    assert _count(db_session, FollowUp) == 1
    assert db_session.scalars(select(FollowUp.ended_on)).one() is None


def test_a_refused_step_comes_back_open_with_what_was_typed(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    path = f"/people/{person}"
    tokens = action_tokens(client, person)
    response = client.post(
        f"{path}/steps",
        data={
            "step-csrf_token": tokens["csrf_token"],
            "step-submission": tokens["step-submission"],
            "step-stage": "",
            "step-started_on": "2026-11-03",
            "step-action": "Inscription au CACES R489",
        },
    )
    assert response.status_code == 200
    assert _title(response).startswith("Erreur : ")  # the step's own page, its form open
    assert _summary_links(response) == ["step-stage"]
    text = response.get_data(as_text=True)
    assert 'id="step"' in text
    assert 'value="Inscription au CACES R489"' in text
    assert 'value="2026-11-03"' in text
    assert _count(db_session, PathwayStep) == 0


def test_an_expired_form_from_relais_comes_back_with_what_was_typed(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    before = _count(db_session, Beneficiary)
    data = {
        **page_tokens(client, "/people/new"),
        "csrf_token": "expired-or-from-another-session",
        "last_name": "Okonkwo",
        "first_name": "Adaeze",
        "cohorts": "young_dropout",
    }
    response = client.post("/people/new", data=data, headers=SAME_ORIGIN)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Le formulaire avait expiré" in text
    assert 'value="Okonkwo"' in text
    assert _summary_links(response) == ["last_name"]
    fresh = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    assert fresh
    assert fresh.group(1) != data["csrf_token"]
    assert _count(db_session, Beneficiary) == before
    # Sent again with the fresh token, it is recorded.
    again = client.post("/people/new", data={**data, "csrf_token": fresh.group(1)})
    assert again.status_code == 302
    assert _count(db_session, Beneficiary) == before + 1


def test_an_expired_form_on_the_person_page_keeps_the_step_typed(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    login(client, "frm@relais.example")
    tokens = action_tokens(client, person)
    response = client.post(
        f"/people/{person}/steps",
        data={
            "step-csrf_token": "expired",
            "step-submission": tokens["step-submission"],
            "step-stage": "orientation",
            "step-started_on": "2026-11-03",
            "step-action": "Atelier CV du mardi",
        },
        headers={"Referer": f"http://localhost/people/{person}"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Le formulaire avait expiré" in text
    assert 'value="Atelier CV du mardi"' in text
    assert _count(db_session, PathwayStep) == 0


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://elsewhere.example"}])
def test_a_form_from_elsewhere_is_refused_without_echoing_it(
    client: FlaskClient, person: str, db_session: Session, headers: dict[str, str]
) -> None:
    login(client, "frm@relais.example")
    data = {
        **page_tokens(client, "/people/new"),
        "csrf_token": "forged",
        "last_name": "Planted",
        "first_name": "Plantedfirst",
        "cohorts": "young_dropout",
    }
    response = client.post("/people/new", data=data, headers=headers)
    assert response.status_code == 400
    assert "Planted" not in response.get_data(as_text=True)
    assert _count(db_session, Beneficiary) == 1


def test_an_expired_network_event_and_withdrawal_keep_what_was_typed(
    client: FlaskClient, person: str, db_session: Session
) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord-frm@relais.example")
    db_session.commit()
    login(client, "coord-frm@relais.example")
    tokens = page_tokens(client, "/network-events/new")
    event = client.post(
        "/network-events/new",
        data={
            **tokens,
            "csrf_token": "expired",
            "theme": "Petit-déjeuner des partenaires",
            "held_on": "2026-11-05",
        },
        headers=SAME_ORIGIN,
    )
    assert event.status_code == 200
    assert 'value="Petit-déjeuner des partenaires"' in event.get_data(as_text=True)
    assert "Le formulaire avait expiré" in event.get_data(as_text=True)
    login(client, "frm@relais.example")
    path = f"/people/{person}/consent/withdraw"
    withdrawal = client.post(
        path,
        data={"csrf_token": "expired", "withdrawn_on": "2026-11-04", "source": "oral"},
        headers={"Referer": f"http://localhost{path}"},
    )
    assert withdrawal.status_code == 200
    assert 'value="2026-11-04"' in withdrawal.get_data(as_text=True)
    assert _title(withdrawal).startswith("Erreur : ")
