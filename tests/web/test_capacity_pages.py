"""Capacity before sending (issue 15, item 5) and the people lost from view (item 4) through
the pages: the card's capacity form (its errors, the "still true" button), the suggestions'
statuses and protected figures, the confirmation before sending to a full partner, the
home-page warning, the coordinators' list and the referent's work-queue list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.capacity import CapacityStatus
from app.domain.roles import Role
from app.models import AuditEvent, FollowUp, Handoff, Structure, StructureCardChange, User
from app.services.directory.capacity import WHOLE, set_capacity_status
from app.services.directory.cards import card_for, update_card
from app.services.security.vault import Vault
from tests import factories
from tests.services.directory.test_cards import _input
from tests.web.helpers import csrf_token, login, logout, page_tokens

NOW = datetime.now(UTC)


@pytest.fixture
def network(db_session: Session) -> dict[str, Structure]:
    found = {code: factories.structure(db_session, code) for code in ("AAA", "BBB")}
    for code, structure in found.items():
        worker = factories.user(
            db_session, structure_=structure, email=f"{code.lower()}@relais.example"
        )
        worker.can_edit_card = True
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    update_card(db_session, None, found["BBB"], _input(stages=["training"]), now=NOW)
    db_session.commit()
    return found


def test_the_card_sets_and_confirms_a_status(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    login(client, "bbb@relais.example")
    tokens = page_tokens(client, "/directory/BBB")
    bad = client.post(
        "/directory/BBB/capacity-status",
        data={"csrf_token": tokens["csrf_token"], "service": WHOLE, "status": "overbooked"},
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    card = card_for(db_session, network["BBB"])
    assert card is not None
    assert card.capacity_status is None
    good = client.post(
        "/directory/BBB/capacity-status",
        data={"csrf_token": tokens["csrf_token"], "service": WHOLE, "status": "full"},
    )
    assert good.status_code == 302
    db_session.expire_all()
    card = card_for(db_session, network["BBB"])
    assert card is not None
    assert card.capacity_status is CapacityStatus.FULL
    page = client.get("/directory/BBB").get_data(as_text=True)
    assert f'data-service="{WHOLE}" data-status="full"' in page
    confirmed = client.post(
        "/directory/BBB/capacity-status/confirm",
        data={"csrf_token": csrf_token(client, "/directory/BBB"), "service": WHOLE},
    )
    assert confirmed.status_code == 302
    kinds = db_session.scalars(
        select(func.count()).where(
            StructureCardChange.structure_id == network["BBB"].id,
            StructureCardChange.kind == "capacity",
        )
    ).one()
    assert kinds == 2
    # A caseworker of another structure may not.
    logout(client)
    login(client, "aaa@relais.example")
    other = client.post(
        "/directory/BBB/capacity-status",
        data={"csrf_token": csrf_token(client, "/directory/AAA"), "service": WHOLE, "status": ""},
    )
    assert other.status_code == 404


def _register(client: FlaskClient) -> str:
    response = client.post(
        "/people/new",
        data={
            **page_tokens(client, "/people/new"),
            "last_name": "Vasseur-Klein",
            "first_name": "Mélissa",
            "birth_date": "2003-05-17",
            "cohorts": "young_graduate",
            "consent_method": "oral",
            "consent_on": "2026-11-01",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_sending_to_a_full_partner_asks_to_confirm(
    client: FlaskClient, db_session: Session, network: dict[str, Structure]
) -> None:
    set_capacity_status(
        db_session, None, network["BBB"], WHOLE, "full", now=NOW - timedelta(weeks=6)
    )
    db_session.commit()
    login(client, "aaa@relais.example")
    pseudonym = _register(client)
    form = client.get(f"/handoffs/new/{pseudonym}?purpose=stage:training").get_data(as_text=True)
    # The suggestion shows the status, stale, and hides the figures (no hand-off behind them).
    assert re.search(r'data-status="full" data-stale="1"', form)
    assert 'data-hidden="1"' in form
    data = {
        **page_tokens(client, f"/handoffs/new/{pseudonym}"),
        "to_structure": str(network["BBB"].id),
        "purpose": "stage:training",
        "consent_confirmed": "y",
    }
    first = client.post(f"/handoffs/new/{pseudonym}", data=data)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert 'id="full-partner"' in page
    assert 'name="send_to_full"' in page
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 0
    data |= {**page_tokens(client, f"/handoffs/new/{pseudonym}"), "send_to_full": "y"}
    second = client.post(f"/handoffs/new/{pseudonym}", data=data)
    assert second.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 1


def test_the_home_page_warns_of_pending_handoffs_beyond_the_places(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    network["BBB"].capacity = 1
    sender = db_session.scalars(select(User).where(User.email == "aaa@relais.example")).one()
    for n in range(2):
        person = factories.person(db_session, vault, sender, last_name=f"Nom{n}")
        factories.handoff(db_session, vault, sender, person, network["BBB"], now=NOW)
    db_session.commit()
    login(client, "bbb@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert 'id="over-capacity" data-pending="2" data-places="1"' in page
    assert "/directory/BBB" in page
    structure = db_session.get(Structure, network["BBB"].id)
    assert structure is not None
    structure.capacity = 2
    db_session.commit()
    assert 'id="over-capacity"' not in client.get("/work/").get_data(as_text=True)


def _lost_person(db_session: Session, vault: Vault, worker: User, name: str):  # type: ignore[no-untyped-def]
    person = factories.person(db_session, vault, worker, last_name=name)
    for follow_up in db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == person.id)
    ):
        follow_up.started_on = datetime.now(UTC).date() - timedelta(days=200)
    return person


def test_lost_from_view_pages(
    client: FlaskClient, db_session: Session, vault: Vault, network: dict[str, Structure]
) -> None:
    worker = db_session.scalars(select(User).where(User.email == "aaa@relais.example")).one()
    lost = _lost_person(db_session, vault, worker, "Perdu")
    db_session.commit()
    login(client, "aaa@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert f'data-pseudonym="{lost.pseudonym}" data-reason="no_news"' in page
    assert "PERDU" in page  # the name, as the work queue shows it to the referent
    reveals = db_session.scalars(
        select(AuditEvent.beneficiary_id).where(AuditEvent.purpose == "work_queue")
    ).all()
    assert lost.id in reveals
    logout(client)
    login(client, "coord@relais.example")
    listing = client.get("/steering/lost").get_data(as_text=True)
    assert 'data-total="1"' in listing
    assert f'href="/pathways/{lost.pseudonym}"' in listing
    assert "PERDU" not in listing
    assert "Perdu" not in listing
    assert 'data-total="0"' in client.get("/steering/lost?structure=BBB").get_data(as_text=True)
    assert client.get("/steering/lost?page=abc&cohort=nope").status_code == 200
