"""The directory's pages: who reads, who edits, the public directory, field workers, the
reminder on the landing page and the partners suggested in the hand-off form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.capacity import CapacityStatus
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.roles import Role
from app.models import Handoff, ReferenceItem, ReferenceKind, Structure, StructureCard, User
from app.services.directory.editors import set_card_editor
from app.services.pathways import add_barrier
from app.services.security.vault import Vault
from app.web.directory.labels import opening_hours_lines, vocabulary_label
from tests import factories
from tests.directory_data import build_demo_directory, paris_today
from tests.web.helpers import csrf_token, login, page_tokens


@pytest.fixture
def network(db_session: Session) -> dict[str, Structure]:
    structures = build_demo_directory(db_session)
    db_session.commit()
    return structures


def _account(db_session: Session, role: Role, structure: Structure | None = None) -> str:
    user = factories.user(db_session, role, structure)
    db_session.commit()
    return user.email


# -- field workers and visitors -----------------------------------------------------------------


def test_a_field_worker_sees_the_directory_and_nothing_else(
    app: Flask, client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    email = _account(db_session, Role.FIELD_WORKER)
    assert login(client, email).status_code == 302
    assert client.get("/").headers["Location"].endswith("/directory/")
    page = client.get("/directory/?barrier=childcare&qpv=QN09004X").get_data(as_text=True)
    assert "Les Petits Pas" in page
    assert "Mobilité 90" not in page
    card = client.get("/directory/GARDE90").get_data(as_text=True)
    assert "Places de crèche à vocation d&#39;insertion professionnelle" in card
    assert "/directory/GARDE90/edit" not in card
    nav = re.search(r'<nav class="main-nav".*?</nav>', card, re.S)
    assert nav is not None
    assert re.findall(r'href="([^"]+)"', nav.group(0)) == ["/directory/"]
    # Every other route refuses them: tests/web/test_access_matrix.py (the field worker and
    # visitor actors, on every route, with real object ids).


def test_the_public_directory_is_off_by_default(
    app: Flask, client: FlaskClient, network: dict[str, Structure]
) -> None:
    assert app.config["PUBLIC_DIRECTORY"] is False
    for url in ("/directory/", "/directory/GARDE90"):
        answer = client.get(url)
        assert answer.status_code == 302
        assert "/login" in answer.headers["Location"]


def test_a_visitor_reads_the_public_directory_and_nothing_else(
    app: Flask,
    client: FlaskClient,
    network: dict[str, Structure],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_DIRECTORY", True)
    index = client.get("/directory/?barrier=mobility")
    assert index.status_code == 200
    assert "Mobilité 90" in index.get_data(as_text=True)
    card = client.get("/directory/MOB90")
    assert card.status_code == 200
    text = card.get_data(as_text=True)
    assert "Location solidaire de scooters" in text
    assert 'id="history-title"' not in text  # who changed a card is for staff only
    assert client.get("/directory/NOPE").status_code == 404
    # Every other route asks them to sign in: tests/web/test_access_matrix.py.


# -- reading and editing ------------------------------------------------------------------------


def test_staff_read_cards_with_their_history(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    login(client, _account(db_session, Role.COORDINATOR))
    page = client.get("/directory/GARDE90").get_data(as_text=True)
    assert 'id="history-title"' in page
    assert "Lundi – vendredi : 7 h – 19 h" in page
    assert "4 places libres" in page
    assert "/directory/GARDE90/edit" not in page
    assert client.get("/directory/GARDE90/edit").status_code == 404
    stale = client.get("/directory/CAPE90").get_data(as_text=True)
    assert "pas été vérifiée depuis plus de 6 mois" in stale


def test_a_caseworker_edits_their_card_once_allowed(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    garde = network["GARDE90"]
    caseworker = factories.user(db_session, Role.CASEWORKER, garde)
    db_session.commit()
    login(client, caseworker.email)
    assert client.get("/directory/GARDE90/edit").status_code == 404
    assert client.post("/directory/GARDE90/capacity", data={"capacity": "2"}).status_code in (
        400,
        404,
    )

    set_card_editor(db_session, None, db_session.get(User, caseworker.id), True)
    db_session.commit()
    form = client.get("/directory/GARDE90/edit")
    assert form.status_code == 200
    assert 'name="name"' not in form.get_data(as_text=True)  # renaming is for administrators
    assert client.get("/directory/MOB90/edit").status_code == 404
    token = csrf_token(client, "/directory/GARDE90/edit")
    data = {
        "csrf_token": token,
        "missions": "Crèche d'insertion : places pour les parents en recherche d'emploi.",
        "services-0-name": "Places de crèche",
        "services-0-types": "accompagnement",
        "phone": "12",
    }
    refused = client.post("/directory/GARDE90/edit", data=data)
    assert refused.status_code == 200
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    data["phone"] = "03 53 01 01 50"
    saved = client.post("/directory/GARDE90/edit", data=data)
    assert saved.status_code == 302
    card = client.get("/directory/GARDE90").get_data(as_text=True)
    assert "Crèche d&#39;insertion : places" in card
    assert caseworker.display_name in card  # in the history

    token = csrf_token(client, "/directory/GARDE90")
    assert (
        client.post(
            "/directory/GARDE90/capacity", data={"csrf_token": token, "capacity": "1"}
        ).status_code
        == 302
    )
    assert "1 place libre" in client.get("/directory/GARDE90").get_data(as_text=True)
    assert (
        client.post(
            "/directory/GARDE90/capacity", data={"csrf_token": token, "capacity": "-4"}
        ).status_code
        == 302
    )
    db_session.expire_all()
    assert db_session.get(Structure, garde.id).capacity == 1  # type: ignore[union-attr]
    assert client.post("/directory/GARDE90/check", data={"csrf_token": token}).status_code == 302
    assert client.post("/directory/MOB90/check", data={"csrf_token": token}).status_code == 404


def test_an_administrator_grants_the_right_to_edit(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    caseworker = factories.user(db_session, Role.CASEWORKER, network["MOB90"])
    coordinator = factories.user(db_session, Role.COORDINATOR)
    admin_email = _account(db_session, Role.ADMIN)
    login(client, admin_email)
    users = client.get("/admin/users").get_data(as_text=True)
    assert f"/directory/editors/{caseworker.id}" in users
    assert f"/directory/editors/{coordinator.id}" not in users
    token = csrf_token(client, "/admin/users")
    answer = client.post(
        f"/directory/editors/{caseworker.id}", data={"csrf_token": token, "allowed": "y"}
    )
    assert answer.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, caseworker.id).can_edit_card  # type: ignore[union-attr]
    client.post(f"/directory/editors/{coordinator.id}", data={"csrf_token": token, "allowed": "y"})
    assert not db_session.get(User, coordinator.id).can_edit_card  # type: ignore[union-attr]
    client.post(f"/directory/editors/{caseworker.id}", data={"csrf_token": token})
    db_session.expire_all()
    assert not db_session.get(User, caseworker.id).can_edit_card  # type: ignore[union-attr]
    assert client.post("/directory/editors/999999", data={"csrf_token": token}).status_code == 404
    # Administrators edit every card, name and type included.
    page = client.get("/directory/MOB90/edit").get_data(as_text=True)
    assert 'name="name"' in page
    assert "/directory/MOB90" in client.get("/admin/structures").get_data(as_text=True)


def test_the_landing_page_reminds_a_structure_of_its_stale_card(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    login(client, _account(db_session, Role.CASEWORKER, network["CAPE90"]))
    landing = client.get("/work/").get_data(as_text=True)
    assert 'class="card warning reminder"' in landing
    assert "/directory/CAPE90" in landing
    assert 'class="card warning reminder"' not in client.get("/handoffs/").get_data(as_text=True)
    client.get("/logout")
    fresh = factories.user(db_session, Role.CASEWORKER, network["GARDE90"])
    db_session.commit()
    other = client.application.test_client()
    login(other, fresh.email)
    assert 'class="card warning reminder"' not in other.get("/work/").get_data(as_text=True)


# -- the hand-off form --------------------------------------------------------------------------


def test_the_handoff_form_suggests_matching_partners_first(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    caseworker = factories.user(db_session, Role.CASEWORKER, network["ML90"])
    person = factories.person(db_session, vault, caseworker, cohorts=("single_parent",))
    person.qpv = db_session.scalar(
        select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == "QN09004X"
        )
    )
    barrier = add_barrier(
        db_session, caseworker, person, category_code="childcare", identified_on=paris_today()
    )
    db_session.commit()
    login(client, caseworker.email)
    url = f"/handoffs/new/{person.pseudonym}"
    page = client.get(f"{url}?purpose=barrier:{barrier.id.hex}").get_data(as_text=True)
    select_html = re.search(r'<select id="to_structure".*?</select>', page, re.S)
    assert select_html is not None
    first_group = re.search(r"<optgroup [^>]*>(.*?)</optgroup>", select_html.group(0), re.S)
    assert first_group is not None
    options = re.findall(r"<option [^>]*>([^<]*)</option>", first_group.group(0))
    assert options[0].startswith("Les Petits Pas")
    assert "4 places libres" in options[0]
    assert options[1].startswith("Conseil départemental")
    assert len(options) == 2
    assert "Mission Locale" not in select_html.group(0)  # one's own structure is not offered
    assert 'id="suggestions-title"' in page

    # "Suggest partners" reads the purpose chosen in the form and sends nothing.
    data = {
        **page_tokens(client, url),
        "purpose": "stage:employment",
        "note": "Note privée",
        "suggest": "1",
    }
    again = client.post(url, data=data)
    assert again.status_code == 200
    body = again.get_data(as_text=True)
    first = re.search(r'<optgroup label="([^"]+)">(.*?)</optgroup>', body, re.S)
    assert first is not None
    assert "Logistique de la Savoureuse" in first.group(2)
    assert "Les Petits Pas" not in first.group(2)
    assert "Note privée" in body  # the note typed is kept
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 0

    del data["suggest"]
    data |= {"to_structure": str(network["GARDE90"].id), "consent_confirmed": "y",
             "purpose": f"barrier:{barrier.id.hex}"}  # fmt: skip
    assert client.post(url, data=data).status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 1

    # A partner whose card says it is full is said full, whatever places it declared: the
    # send to it is held on that status.
    card = db_session.scalars(
        select(StructureCard).where(StructureCard.structure_id == network["GARDE90"].id)
    ).one()
    card.capacity_status = CapacityStatus.FULL
    db_session.commit()
    page = client.get(f"{url}?purpose=barrier:{barrier.id.hex}").get_data(as_text=True)
    (first,) = re.findall(r"<option [^>]*>(Les Petits Pas[^<]*)</option>", page)
    assert first.endswith("— complet"), first


# -- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize("enum", [ReceptionMode, ReferralMode, Fee, ServiceType, ZoneType])
def test_every_vocabulary_value_has_a_french_label(app: Flask, enum: type[Any]) -> None:
    with app.test_request_context("/"):
        for member in enum:
            assert vocabulary_label(enum, member.value) != member.value, member


def test_opening_hours_read_in_plain_words(app: Flask) -> None:
    with app.test_request_context("/"):
        assert opening_hours_lines("Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00; PH off") == [
            "Lundi – vendredi : 9 h – 12 h, 13 h 30 – 17 h",
            "Samedi : 9 h – 12 h",
            "Jours fériés : fermé",
        ]
        assert opening_hours_lines("Mo,We 08:30-24:00") == ["Lundi, mercredi : 8 h 30 – 24 h"]
        assert opening_hours_lines("n'importe quoi") == ["n'importe quoi"]
