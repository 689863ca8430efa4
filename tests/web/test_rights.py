"""The rights' pages: subject access (page and JSON), withdrawal of consent, erasure, notices."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, Consent, FollowUp, Handoff, PersonKey, User
from app.services.rights.erasure import RegisterFile
from app.services.security.vault import Vault
from app.web.context import PARIS
from tests import factories
from tests.rights_helpers import Network, network
from tests.web.helpers import csrf_token, login


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Network:
    found = network(db_session, vault)
    db_session.commit()
    return found


@pytest.fixture
def register(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RegisterFile:
    path = tmp_path / "register.txt"
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(path))
    return RegisterFile(path)


def _english(client: FlaskClient) -> None:
    token = csrf_token(client, "/account/password")
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/"})


def _as(client: FlaskClient, user: User) -> None:
    login(client, user.email)
    _english(client)


def _token(client: FlaskClient, path: str) -> str:
    return csrf_token(client, path)


def test_the_person_page_offers_the_rights(client: FlaskClient, net: Network) -> None:
    _as(client, net.worker_a)
    page = client.get(f"/people/{net.person.pseudonym}").get_data(as_text=True)
    for path in ("access-report", "erase", "consent/withdraw"):
        assert f"/people/{net.person.pseudonym}/{path}" in page
    # The export and the erasure come last, after everything else the page offers.
    export = page.index(f'href="/people/{net.person.pseudonym}/access-report"')
    erase = page.index(f'href="/people/{net.person.pseudonym}/erase"')
    rights = page.index('id="rights-title"')
    assert page.index(f'href="/people/{net.person.pseudonym}/end"') < rights < export < erase
    assert page.count("/access-report") == 1
    assert page.count(f"/people/{net.person.pseudonym}/erase") == 1


def _exports(db_session: Session) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
        )
    )


def test_opening_the_subject_access_page_records_nothing(
    client: FlaskClient, db_session: Session, net: Network
) -> None:
    _as(client, net.worker_a)
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    path = f"/people/{net.person.pseudonym}/access-report"
    confirm = client.get(path)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Zephyrin" not in page  # pseudonym only: nothing revealed before the export
    assert f'<form method="post" action="{path}"' in page
    assert f'<form method="post" action="{path}.json"' in page
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert _exports(db_session) == []
    # The export itself needs the POST of the confirmation, with its token.
    assert client.get(f"{path}.json").status_code == 405
    assert client.post(path).status_code == 400
    assert _exports(db_session) == []


def test_subject_access_page_lists_the_consultations(
    client: FlaskClient, db_session: Session, net: Network
) -> None:
    _as(client, net.worker_b)
    assert client.get(f"/people/{net.person.pseudonym}").status_code == 200  # B reads it
    _as(client, net.worker_a)
    path = f"/people/{net.person.pseudonym}/access-report"
    response = client.post(path, data={"csrf_token": _token(client, path)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    for value in ("Zephyrin", "secret action text", "secret note", "secret answer"):
        assert value in page
    assert net.b.name in page  # the structure that consulted, by name
    assert "Identity consulted" in page
    assert "Reading the person&#39;s page" in page
    assert "Whole file exported (subject access)" in page
    assert "beneficiary:reveal" not in page  # labels, not codes, on the page
    export = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
    ).one()
    assert (export.actor_structure_id, export.data) == (net.a.id, {"output": "page"})


def test_subject_access_json(client: FlaskClient, db_session: Session, net: Network) -> None:
    _as(client, net.worker_a)
    assert client.get(f"/people/{net.person.pseudonym}").status_code == 200
    path = f"/people/{net.person.pseudonym}/access-report"
    response = client.post(f"{path}.json", data={"csrf_token": _token(client, path)})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="relais-{net.person.pseudonym}-'
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["format"] == "relais-subject-access"
    assert data["person"]["identity"]["last_name"] == "Zephyrin"
    actions = [line["action"] for line in data["access_log"]]
    assert actions[-1] == "beneficiary:subject_access"
    assert "beneficiary:reveal" in actions  # the reveals of A's person page, in codes
    assert {line["structure"] for line in data["access_log"]} >= {net.a.code}


def test_outsiders_get_404(client: FlaskClient, db_session: Session, net: Network) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    for user in (net.worker_c, coordinator):
        login(client, user.email)
        for path in ("access-report", "erase", "consent/withdraw"):
            assert client.get(f"/people/{net.person.pseudonym}/{path}").status_code == 404
        token = _token(client, "/account/password")
        for path in ("access-report", "access-report.json"):
            url = f"/people/{net.person.pseudonym}/{path}"
            assert client.post(url, data={"csrf_token": token}).status_code == 404
    login(client, net.worker_a.email)
    assert client.get("/people/P-NOPE-NOPE/access-report").status_code == 404
    assert (
        db_session.scalar(
            select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
        )
        is None
    )


def test_withdrawing_consent(client: FlaskClient, db_session: Session, net: Network) -> None:
    _as(client, net.worker_a)
    path = f"/people/{net.person.pseudonym}/consent/withdraw"
    page = client.get(path).get_data(as_text=True)
    assert net.c.name in page  # the pending hand-off that will be withdrawn
    assert (
        client.post(path, data={"withdrawn_on": "2026-11-26", "source": "oral"}).status_code == 400
    )
    token = _token(client, path)
    future = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    refused = client.post(
        path, data={"csrf_token": token, "withdrawn_on": future, "source": "oral"}
    )
    assert refused.status_code == 200
    assert "A withdrawal cannot be dated in the future." in refused.get_data(as_text=True)
    bad_source = client.post(
        path, data={"csrf_token": token, "withdrawn_on": "2026-11-26", "source": "erasure"}
    )
    assert bad_source.status_code == 200
    assert "Not a valid choice" in bad_source.get_data(as_text=True)
    assert db_session.scalars(select(Consent.withdrawn_on)).all() == [None, None]

    on = datetime.now(PARIS).date()  # the consent was given on factories.TODAY, before
    done = client.post(
        path, data={"csrf_token": token, "withdrawn_on": on.isoformat(), "source": "email"}
    )
    assert done.status_code == 302
    consent = db_session.scalars(
        select(Consent).where(Consent.beneficiary_id == net.person.id)
    ).one()
    assert consent.withdrawn_on == on
    pending = db_session.get(Handoff, net.pending.id)
    assert pending is not None
    assert pending.status is HandoffStatus.WITHDRAWN
    person_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Withdrawn on" in person_page
    assert "Hand-offs withdrawn because of it: 1." in person_page
    assert f"/handoffs/new/{net.person.pseudonym}" not in person_page
    # The pending hand-off's page tells its receiver why.
    _as(client, net.worker_c)
    handoff_page = client.get(f"/handoffs/{net.pending.id.hex}").get_data(as_text=True)
    assert "the person withdrew their consent" in handoff_page


def test_erasure_asks_for_the_pseudonym(
    client: FlaskClient, db_session: Session, net: Network, register: RegisterFile
) -> None:
    _as(client, net.worker_a)
    path = f"/people/{net.person.pseudonym}/erase"
    page = client.get(path).get_data(as_text=True)
    assert net.b.name in page  # B follows too and will lose access
    token = _token(client, path)
    assert client.post(path, data={"confirm": net.person.pseudonym}).status_code == 400
    wrong = client.post(path, data={"csrf_token": token, "confirm": "P-AAAA-BBBB"})
    assert wrong.status_code == 200
    assert "This is not the person&#39;s pseudonym." in wrong.get_data(as_text=True)
    assert db_session.get(PersonKey, net.person.id) is not None
    assert register.read() == []


def test_erasure_and_the_pages_afterwards(
    client: FlaskClient, db_session: Session, net: Network, register: RegisterFile
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    pid, old = net.person.id, net.person.pseudonym
    _as(client, net.worker_a)
    path = f"/people/{old}/erase"
    done = client.post(
        path, data={"csrf_token": _token(client, path), "confirm": f" {old.lower()} "}
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/people/")
    assert "The person&#39;s data is erased." in client.get("/people/").get_data(as_text=True)
    assert db_session.get(PersonKey, pid) is None
    assert [e.beneficiary_id for e in register.read()] == [pid]
    assert client.get(f"/people/{old}").status_code == 404
    person = db_session.get(Beneficiary, pid)
    assert person is not None
    new = person.pseudonym
    # The receiver of the accepted hand-off, and the one of the withdrawn hand-off.
    for user, handoff in ((net.worker_b, net.accepted), (net.worker_c, net.pending)):
        _as(client, user)
        assert client.get("/handoffs/").status_code == 200
        response = client.get(f"/handoffs/{handoff.id.hex}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Identity erased" in page
        assert "secret" not in page
        assert "What you can do" not in page  # nothing more is recorded
        assert client.get(f"/people/{new}").status_code == 404
    _as(client, coordinator)
    pathway = client.get(f"/pathways/{new}")
    assert pathway.status_code == 200
    assert "Identity erased" in pathway.get_data(as_text=True)


def test_an_unwritable_register_erases_nothing(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    net: Network,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "ERASURE_REGISTER_PATH", str(tmp_path / "no" / "r.txt"))
    pid = net.person.id
    _as(client, net.worker_a)
    path = f"/people/{net.person.pseudonym}/erase"
    response = client.post(
        path, data={"csrf_token": _token(client, path), "confirm": net.person.pseudonym}
    )
    assert response.status_code == 200
    assert "Nothing was erased" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(PersonKey, pid) is not None


def test_the_work_queue_lists_the_people_due_for_erasure(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    worker_a = factories.user(db_session, structure_=a)
    worker_b = factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, worker_a)
    follow_up = db_session.scalars(select(FollowUp)).one()
    follow_up.ended_on = date(2024, 5, 2)
    person.erasure_due_on = date(2026, 12, 20)
    db_session.commit()
    _as(client, worker_a)
    page = client.get("/work/").get_data(as_text=True)
    assert "People due for erasure" in page
    assert person.pseudonym in page
    assert "20 Dec 2026" in page  # English in British order: the day first
    assert "2 May 2024" in page
    _as(client, worker_b)
    assert "People due for erasure" not in client.get("/work/").get_data(as_text=True)


def test_subject_access_page_lists_decisions_and_no_solution_records(
    client: FlaskClient, db_session: Session, net: Network
) -> None:
    from app.services.pathways.orientation import decide_pathway
    from app.services.unmet_needs.recording import record_no_solution

    today = datetime.now(PARIS).date()
    decide_pathway(
        db_session,
        net.worker_a,
        net.person,
        pathway_type_code="social",
        decided_on=today,
        today=today,
    )
    record_no_solution(
        db_session,
        net.worker_a,
        net.person,
        barrier_id=None,
        category_code="housing",
        precision_code=None,
        today=today,
    )
    db_session.commit()
    _as(client, net.worker_a)
    path = f"/people/{net.person.pseudonym}/access-report"
    page = client.post(path, data={"csrf_token": _token(client, path)}).get_data(as_text=True)
    assert '<tr data-decision="social">' in page
    assert '<li data-no-solution="housing">' in page
