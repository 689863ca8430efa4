"""The caseworker's home page: the work queue, its badges, names only where the structure
follows the person, and an audit record for each name shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import AuditEvent
from app.services.handoffs import apply_event
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import people_shown
from tests.web.helpers import login


def test_caseworkers_land_on_their_work_queue(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    waiting = factories.person(db_session, vault, worker_a, last_name="Attente", first_name="Léa")
    other = factories.person(db_session, vault, worker_a, last_name="Autre", first_name="Max")
    declined = factories.person(db_session, vault, worker_b, last_name="Dunoyer", first_name="Tom")
    unsure = factories.person(db_session, vault, worker_b, last_name="Sansaccord", consent=False)
    now = datetime.now(UTC)
    factories.handoff(db_session, vault, worker_a, waiting, b, now=now - timedelta(days=12))
    factories.handoff(db_session, vault, worker_a, other, b, now=now - timedelta(days=1))
    refused = factories.handoff(db_session, vault, worker_b, declined, a, now=now)
    apply_event(
        db_session, vault, worker_a, refused, HandoffEvent.DECLINE, now=now,
        reason_code="no_capacity",
    )  # fmt: skip
    db_session.commit()

    login(client, "b@relais.example")
    assert client.get("/").headers["Location"].endswith("/work/")
    page = client.get("/work/").get_data(as_text=True)
    assert "<title>À faire" in page
    assert "2 en attente" in page
    assert page.count("En retard") == 1  # sent 12 days ago, overdue after 10
    assert "ATTENTE" not in page
    assert waiting.pseudonym in page
    assert "Refusée" in page
    assert "Réorienter" in page
    assert "Tom DUNOYER" in page
    assert "1 sans consentement" in page
    assert "SANSACCORD" in page
    shown = people_shown(
        db_session.scalars(select(AuditEvent).where(AuditEvent.purpose == "work_queue"))
    )
    assert set(shown) == {declined.id, unsure.id}
    assert len(shown) == 2


def test_an_empty_queue_says_so(client: FlaskClient, db_session: Session) -> None:
    factories.user(
        db_session, structure_=factories.structure(db_session, "AAA"), email="a@relais.example"
    )
    db_session.commit()
    login(client, "a@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert "Rien n'attend votre structure." in page


def test_other_roles_have_no_work_queue(client: FlaskClient, db_session: Session) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    login(client, "coord@relais.example")
    assert client.get("/work/").status_code == 404
