"""Counts that grow with the territory are written with the language's thousands separator
(12 345 personnes, 12,345 people), like the steering pages' figures: a caseload's and a
territory's totals, the pathways list, the hand-off boxes."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.services.handoffs.lists import HandoffPage
from app.services.people.overview import Page
from app.services.security.staff import AccountRow
from app.services.security.vault import Vault
from app.web.handoffs import views as handoff_views
from app.web.manage import accounts as accounts_views
from app.web.pathways import views as pathway_views
from app.web.people import views as people_views
from tests import factories
from tests.web.helpers import csrf_token, login

BIG = 12345


@pytest.fixture
def accounts(db_session: Session) -> None:
    home = factories.structure(db_session, "TLC")
    factories.user(db_session, structure_=home, email="tlc@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord-tlc@relais.example")
    db_session.commit()


def _big_page(*_args: Any, **_kwargs: Any) -> Page[Any]:
    return Page(items=[], page=1, per_page=25, total=BIG)


def _spaced(html: str) -> str:
    """``html`` with its runs of ASCII white space as one space (the narrow no-break space
    between thousands kept: ``str.split`` would take it for a space)."""
    return re.sub(r"[ \t\n]+", " ", html)


def _english(client: FlaskClient, path: str) -> str:
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, path)})
    return client.get(path).get_data(as_text=True)


def test_a_caseload_of_thousands(
    client: FlaskClient, accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_views.overview, "caseload", _big_page)
    login(client, "tlc@relais.example")
    html = client.get("/people/?sort=recent").get_data(as_text=True)
    assert f'data-total="{BIG}" data-exact="yes">12\u202f345 personnes</p>' in html
    english = _english(client, "/people/?sort=recent")
    assert f'data-total="{BIG}" data-exact="yes">12,345 people</p>' in english


def test_a_territory_of_thousands_of_pathways(
    client: FlaskClient, accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pathway_views.overview, "all_pathways", _big_page)
    login(client, "coord-tlc@relais.example")
    assert "12\u202f345 parcours" in client.get("/pathways/").get_data(as_text=True)
    assert "12,345 pathways" in _english(client, "/pathways/")


def test_hand_off_boxes_of_thousands(
    client: FlaskClient, accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = {"all": BIG, "sent": 1200, "overdue": 1001}
    monkeypatch.setattr(handoff_views.handoff_lists, "box_counts", lambda *a, **k: counts)
    login(client, "tlc@relais.example")
    html = _spaced(client.get("/handoffs/").get_data(as_text=True))
    assert "12\u202f345 orientations en tout" in html
    assert "1\u202f200 en attente de réponse" in html
    assert "1\u202f001 en retard" in html
    english = _spaced(_english(client, "/handoffs/"))
    assert "12,345 hand-offs in all · 1,200 waiting for an answer" in english


def test_an_inbox_page_far_down_a_box_of_thousands(
    client: FlaskClient, db_session: Session, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line above the inbox's rows, exact count: "Orientations 1 001 à 1 001 sur 1 200"."""
    home = factories.structure(db_session, "TLD")
    sender_home = factories.structure(db_session, "TLE")
    factories.user(db_session, structure_=home, email="tld@relais.example")
    sender = factories.user(db_session, structure_=sender_home, email="tle@relais.example")
    person = factories.person(db_session, vault, sender, last_name="Oyelaran")
    factories.handoff(db_session, vault, sender, person, home)
    db_session.commit()
    real = handoff_views.handoff_lists.list_box

    def far_down(*args: Any, **kwargs: Any) -> HandoffPage:
        return replace(real(*args, **kwargs), page=41, total=1200, position=1000)

    monkeypatch.setattr(handoff_views.handoff_lists, "list_box", far_down)
    login(client, "tld@relais.example")
    html = _spaced(client.get("/handoffs/").get_data(as_text=True))
    assert "Orientations 1\u202f001 à 1\u202f001 sur 1\u202f200, celles en attente d'abord." in html
    english = _spaced(_english(client, "/handoffs/"))
    assert "Hand-offs 1,001 to 1,001 of 1,200, waiting ones first." in english


def test_an_account_referent_of_thousands(
    client: FlaskClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The structure's accounts page: the people each account is the referent of."""
    home = factories.structure(db_session, "TLF")
    manager = factories.user(db_session, structure_=home, email="tlf@relais.example")
    manager.manages_structure = True
    db_session.commit()
    real = accounts_views.staff.structure_accounts

    def referent_of_many(*args: Any, **kwargs: Any) -> list[AccountRow]:
        return [replace(row, referent_of=1897) for row in real(*args, **kwargs)]

    monkeypatch.setattr(accounts_views.staff, "structure_accounts", referent_of_many)
    login(client, "tlf@relais.example")
    html = client.get("/structures/TLF/accounts").get_data(as_text=True)
    assert "<td>1\u202f897 <a" not in html  # an active account: no hand-over link in the cell
    assert "<td>1\u202f897</td>" in html
    assert "<td>1,897</td>" in _english(client, "/structures/TLF/accounts")
