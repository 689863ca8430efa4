"""Network events through the pages: coordinators record, caseworkers read, others do not."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import NetworkEvent, Structure
from tests import factories
from tests.directory_data import paris_today
from tests.web.helpers import csrf_token, login, page_tokens


def _structures(db_session: Session) -> list[Structure]:
    return [factories.structure(db_session) for _ in range(3)]


def test_a_coordinator_records_an_event_a_caseworker_reads_it(
    client: FlaskClient, db_session: Session
) -> None:
    a, b, c = _structures(db_session)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    caseworker = factories.user(db_session, Role.CASEWORKER, a)
    db_session.commit()

    login(client, coordinator.email)
    form = {
        **page_tokens(client, "/network-events/new"),
        "theme": "Temps d'interconnaissance jeunes",
        "held_on": paris_today().isoformat(),
        "participants": "80",
        "structures": [str(a.id), str(b.id)],
        "follow_ups": "Groupe de travail mensuel",
    }
    missing = client.post("/network-events/new", data={**form, "structures": []})
    assert missing.status_code == 200
    assert 'id="structures-error"' in missing.get_data(as_text=True)
    saved = client.post("/network-events/new", data=form)
    assert saved.status_code == 302
    event = db_session.scalar(select(NetworkEvent))
    assert event is not None
    assert {s.id for s in event.structures} == {a.id, b.id}
    detail = client.get(f"/network-events/{event.id}").get_data(as_text=True)
    assert 'id="cooperation-title"' in detail  # hand-offs before and after, for coordinators
    edit = client.post(
        f"/network-events/{event.id}/edit",
        data={**form, "participants": "0", "structures": [str(c.id)]},
    )
    assert edit.status_code == 302
    db_session.expire_all()
    assert db_session.get(NetworkEvent, event.id).participants == 0  # type: ignore[union-attr]

    reader = client.application.test_client()
    login(reader, caseworker.email)
    listing = reader.get("/network-events/").get_data(as_text=True)
    assert "Temps d&#39;interconnaissance jeunes" in listing
    assert "/network-events/new" not in listing
    page = reader.get(f"/network-events/{event.id}").get_data(as_text=True)
    assert "Groupe de travail mensuel" in page
    assert 'id="cooperation-title"' not in page
    assert reader.get("/network-events/new").status_code == 404
    token = csrf_token(reader, "/network-events/")
    assert reader.post("/network-events/new", data={**form, "csrf_token": token}).status_code == 404
    assert reader.get(f"/network-events/{event.id}/edit").status_code == 404
    assert reader.get("/network-events/99999").status_code == 404


def test_a_number_of_participants_not_in_plain_digits_is_a_form_error(
    client: FlaskClient, db_session: Session
) -> None:
    """Found by tests/web/test_fuzz.py: a 400-digit number reached ``NumberRange``, which
    turned it into a float (OverflowError, a 500); ``"１２"`` was read as 12."""
    a, _b, _c = _structures(db_session)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    login(client, coordinator.email)
    form = {
        **page_tokens(client, "/network-events/new"),
        "theme": "Forum",
        "held_on": paris_today().isoformat(),
        "structures": [str(a.id)],
    }
    for participants in ["9" * 400, "²", "１２", "1_000", "2147483648"]:
        answer = client.post("/network-events/new", data={**form, "participants": participants})
        assert answer.status_code == 200, participants
        assert 'id="participants-error"' in answer.get_data(as_text=True)
    assert db_session.scalar(select(NetworkEvent)) is None


def test_field_workers_do_not_see_events(client: FlaskClient, db_session: Session) -> None:
    field_worker = factories.user(db_session, Role.FIELD_WORKER)
    db_session.commit()
    login(client, field_worker.email)
    assert client.get("/network-events/").status_code == 404
    assert client.get("/network-events/new").status_code == 404
