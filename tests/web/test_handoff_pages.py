"""The hand-off journey through the pages: register, send, answer, follow up, close."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import AuditEvent, Barrier, Beneficiary, Handoff, Structure
from tests import factories
from tests.web.helpers import TOKEN, action_tokens, csrf_token, login, page_tokens

IDENTITY = {
    "last_name": "Vasseur-Klein",
    "first_name": "Mélissa",
    "birth_date": "2003-05-17",
    "phone": "07 81 22 33 44",
    "email": "melissa.vk@exemple.fr",
}


@pytest.fixture
def partners(db_session: Session) -> dict[str, Structure]:
    found = {code: factories.structure(db_session, code) for code in ("AAA", "BBB", "CCC")}
    for code, structure in found.items():
        factories.user(db_session, structure_=structure, email=f"{code.lower()}@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    return found


def _register(client: FlaskClient, consent: str = "oral", **extra: str) -> str:
    data = {
        **page_tokens(client, "/people/new"),
        **IDENTITY,
        "cohorts": "young_graduate",
        "consent_method": consent,
        "consent_on": "2026-11-01",
        **extra,
    }
    response = client.post("/people/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _send(
    client: FlaskClient, pseudonym: str, to: Structure, purpose: str = "stage:training"
) -> str:
    response = client.post(
        f"/handoffs/new/{pseudonym}",
        data={
            **page_tokens(client, f"/handoffs/new/{pseudonym}"),
            "to_structure": str(to.id),
            "purpose": purpose,
            "note": "Motivée pour une formation d'aide-soignante",
            "consent_confirmed": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _act(client: FlaskClient, handoff: str, event: str, **fields: str) -> str:
    response = _post_action(client, handoff, event, **fields)
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


def _post_action(client: FlaskClient, handoff: str, event: str, **fields: str) -> TestResponse:
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    token = re.search(rf'name="{event}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, f"{event} is not offered"
    data = {f"{event}-csrf_token": token.group(1), **{f"{event}-{k}": v for k, v in fields.items()}}
    return client.post(f"/handoffs/{handoff}/{event}", data=data)


def test_the_whole_journey(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    pseudonym = _register(client)
    handoff = _send(client, pseudonym, partners["BBB"])
    # B sees the pending hand-off, with the note but without the identity.
    login(client, "bbb@relais.example")
    assert ">1<" in client.get("/handoffs/").get_data(as_text=True).replace(" ", "")  # the badge
    inbox = client.get("/handoffs/").get_data(as_text=True)
    assert pseudonym in inbox
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    assert "aide-soignante" in page
    assert "Vasseur" not in page
    assert "Mélissa" not in page
    assert client.get(f"/people/{pseudonym}").status_code == 404
    _act(client, handoff, "accept")
    person_page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert "Vasseur-Klein" in person_page  # the identity is now visible to B
    # A first contact before the acceptance is refused, on the page, the date typed kept and
    # the error linked from the summary; today is fine.
    refused = _post_action(client, handoff, "first_contact", on="2026-01-02")
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert '<a href="#first_contact-on">' in text
    assert 'value="2026-01-02"' in text
    assert "<title>Erreur : Orientation" in text
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.ACCEPTED
    _act(
        client,
        handoff,
        "first_contact",
        on=datetime.now(ZoneInfo("Europe/Paris")).date().isoformat(),
    )
    _act(client, handoff, "complete", outcome="training_entered", message="Entrée en formation")
    # A sees the outcome.
    login(client, "aaa@relais.example")
    outbox = client.get("/handoffs/?box=out").get_data(as_text=True)
    assert "Aboutie" in outbox
    detail = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert "Entrée en formation" in detail
    # The coordinator sees the pathway with the hand-off, without identity.
    login(client, "coord@relais.example")
    pathway = client.get(f"/pathways/{pseudonym}").get_data(as_text=True)
    assert "Aboutie" in pathway
    assert "Vasseur" not in pathway
    assert "aide-soignante" not in pathway
    row = db_session.scalars(select(Handoff)).one()
    assert row.status is HandoffStatus.COMPLETED
    assert row.first_contact_at is not None


def test_decline_with_a_reason(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    handoff = _send(client, _register(client), partners["BBB"])
    login(client, "bbb@relais.example")
    page = client.get(f"/handoffs/{handoff}")
    assert "decline-reason" in page.get_data(as_text=True)
    response = client.post(
        f"/handoffs/{handoff}/decline",
        data={
            "decline-csrf_token": TOKEN.search(page.get_data(as_text=True)).group(1),
            "decline-message": "Complet jusqu'en avril",
        },
    )
    # No reason: refused on the page itself, the message typed kept, nothing changed.
    assert response.status_code == 200
    refused = response.get_data(as_text=True)
    assert '<a href="#decline-reason">' in refused
    assert "Complet jusqu&#39;en avril</textarea>" in refused
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.SENT
    _act(client, handoff, "decline", reason="no_capacity", message="Complet jusqu'en mars")
    login(client, "aaa@relais.example")
    text = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    assert "Refusée" in text
    assert "Complet jusqu&#39;en mars" in text


def test_redirect_keeps_the_chain(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    first = _send(client, _register(client), partners["BBB"])
    login(client, "bbb@relais.example")
    second = _act(
        client, first, "redirect", redirect_to=str(partners["CCC"].id), message="Plutôt la CCC"
    )
    assert second != first
    login(client, "ccc@relais.example")
    page = client.get(f"/handoffs/{second}").get_data(as_text=True)
    assert "AAA" in page or "Structure" in page
    assert page.count("→") >= 2  # the chain is shown
    _act(client, second, "accept")
    statuses = sorted(h.status.value for h in db_session.scalars(select(Handoff)))
    assert statuses == ["accepted", "redirected"]


def test_a_redirect_to_a_partner_that_is_not_an_id_is_a_form_error(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    """Found by tests/web/test_fuzz.py: "²" reached ``int()`` (a 500), a 400-digit id the
    database."""
    login(client, "aaa@relais.example")
    handoff = _send(client, _register(client), partners["BBB"])
    login(client, "bbb@relais.example")
    for target in ["²", " ", "9" * 400, "2147483648", "-1"]:
        answer = _post_action(client, handoff, "redirect", redirect_to=target, message="Ailleurs")
        assert answer.status_code == 200, target
        assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.SENT


def test_withdraw_by_the_sender(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    handoff = _send(client, _register(client), partners["BBB"])
    _act(client, handoff, "withdraw", message="Entrée en emploi")
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.WITHDRAWN


def test_only_allowed_actions_are_offered_and_accepted(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    handoff = _send(client, _register(client), partners["BBB"])
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    assert 'name="withdraw-csrf_token"' in page
    assert 'name="accept-csrf_token"' not in page
    # The sender forging an "accept" gets a message and nothing changes.
    token = re.search(r'name="withdraw-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(f"/handoffs/{handoff}/accept", data={"accept-csrf_token": token})
    assert db_session.scalars(select(Handoff)).one().status is HandoffStatus.SENT
    # A structure that is no party to it does not see it at all.
    login(client, "ccc@relais.example")
    assert client.get(f"/handoffs/{handoff}").status_code == 404
    assert client.get("/handoffs/not-a-uuid").status_code == 404


def test_without_consent_the_page_says_why(
    client: FlaskClient, partners: dict[str, Structure]
) -> None:
    login(client, "aaa@relais.example")
    pseudonym = _register(client, consent="")
    detail = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert "ne peut pas encore être orientée" in detail or "cannot be handed off" in detail
    page = client.get(f"/handoffs/new/{pseudonym}").get_data(as_text=True)
    assert 'name="to_structure"' not in page


def test_registration_errors_are_shown_on_the_fields(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    response = client.post(
        "/people/new",
        data={
            **page_tokens(client, "/people/new"),
            **IDENTITY,
            "phone": "12",
            "birth_date": "2030-01-01",
            "cohorts": "young_graduate",
        },
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db_session.scalar(select(Beneficiary.id)) is None


def test_possible_duplicate_is_reported_without_saying_where(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    _register(client)
    login(client, "bbb@relais.example")
    tokens = page_tokens(client, "/people/new")
    data = {**tokens, **IDENTITY, "first_name": "Melissa", "cohorts": "young_graduate"}
    response = client.post("/people/new", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="duplicates"' in text
    assert "AAA" not in text
    assert "Structure" not in text.split('id="duplicates"')[1].split("</div>")[0]
    assert len(db_session.scalars(select(Beneficiary)).all()) == 1
    checks = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:duplicate_check")
    ).all()
    assert checks
    data["register_anyway"] = "y"
    data["csrf_token"] = csrf_token(client, "/people/new")
    assert client.post("/people/new", data=data).status_code == 302
    assert len(db_session.scalars(select(Beneficiary)).all()) == 2


def test_steps_barriers_and_end_of_follow_up(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    pseudonym = _register(client)
    tokens = action_tokens(client, pseudonym)
    token = tokens["csrf_token"]
    client.post(
        f"/people/{pseudonym}/steps",
        data={
            "step-csrf_token": token,
            "step-submission": tokens["step-submission"],
            "step-stage": "orientation",
            "step-started_on": "2026-11-02",
            "step-action": "Diagnostic",
        },
    )
    client.post(
        f"/people/{pseudonym}/barriers",
        data={
            "barrier-csrf_token": token,
            "barrier-submission": tokens["barrier-submission"],
            "barrier-category": "childcare",
            "barrier-identified_on": "2026-11-03",
            "barrier-acting_structure": "",
        },
    )
    barrier = db_session.scalars(select(Barrier)).one()
    prefix = f"b{barrier.id.hex[:8]}"
    client.post(
        f"/people/{pseudonym}/barriers/{barrier.id.hex}",
        data={
            f"{prefix}-csrf_token": token,
            f"{prefix}-status": "in_progress",
            f"{prefix}-on": "2026-11-04",
        },
    )
    db_session.expire_all()
    assert db_session.get(Barrier, barrier.id).status is BarrierStatus.IN_PROGRESS
    page = client.get(f"/people/{pseudonym}").get_data(as_text=True)
    assert "Diagnostic" in page
    client.post(
        f"/people/{pseudonym}/end",
        data={"end-csrf_token": token, "end-reason": "moved", "end-ended_on": "2026-11-20"},
    )
    assert client.get(f"/people/{pseudonym}").status_code == 200  # within the grace period
    assert pseudonym in client.get("/people/").get_data(as_text=True)


def test_edit_identity_is_audited(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "aaa@relais.example")
    pseudonym = _register(client)
    page = client.get(f"/people/{pseudonym}/edit").get_data(as_text=True)
    assert 'value="Vasseur-Klein"' in page
    token = csrf_token(client, f"/people/{pseudonym}/edit")
    bad = client.post(
        f"/people/{pseudonym}/edit", data={"csrf_token": token, **IDENTITY, "phone": "123"}
    )
    assert bad.status_code == 200
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    response = client.post(
        f"/people/{pseudonym}/edit",
        data={"csrf_token": token, **IDENTITY, "phone": "06 11 22 33 44"},
    )
    assert response.status_code == 302
    assert "06 11 22 33 44" in client.get(f"/people/{pseudonym}").get_data(as_text=True)
    update = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:update")
    ).one()
    assert update.data == {"fields": "phone"}
    login(client, "bbb@relais.example")
    assert client.get(f"/people/{pseudonym}/edit").status_code == 404
