"""Forms that create something, sent twice (a double click, a resend, a restored tab): one
record, and the second answer shows it. Hand-offs for a purpose already open warn first."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    Consent,
    Handoff,
    NetworkEvent,
    PathwayStep,
    Structure,
    SubmissionToken,
)
from app.services.pathways import add_barrier
from tests import factories
from tests.directory_data import paris_today
from tests.web.helpers import action_tokens, login, page_tokens

ALREADY = "Ce formulaire avait déjà été envoyé"
IDENTITY = {
    "last_name": "Benhamou-Riva",
    "first_name": "Yanis",
    "birth_date": "2002-09-30",
    "phone": "07 61 20 30 40",
}


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def partners(db_session: Session) -> dict[str, Structure]:
    found = {code: factories.structure(db_session, code) for code in ("IDA", "IDB", "IDC", "IDD")}
    for code, structure in found.items():
        factories.user(db_session, structure_=structure, email=f"{code.lower()}@relais.example")
    db_session.commit()
    return found


def _twice(client: FlaskClient, path: str, data: dict[str, object]) -> tuple[str, str]:
    """Post ``data`` twice; both answers redirect: to the record, then to it again."""
    first = client.post(path, data=data)
    assert first.status_code == 302, first.get_data(as_text=True)
    second = client.post(path, data=data)
    assert second.status_code == 302, second.get_data(as_text=True)
    return first.headers["Location"], second.headers["Location"]


def _register(client: FlaskClient) -> str:
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    data |= {"consent_method": "oral", "consent_on": "2026-11-01"}
    response = client.post("/people/new", data=data)
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


def _send_data(client: FlaskClient, pseudonym: str, to: Structure, purpose: str) -> dict:  # type: ignore[type-arg]
    return {
        **page_tokens(client, f"/handoffs/new/{pseudonym}"),
        "to_structure": str(to.id),
        "purpose": purpose,
        "consent_confirmed": "y",
    }


def test_registration_sent_twice_registers_one_person(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    first, second = _twice(client, "/people/new", data)
    assert first == second  # the person's page, not the possible-duplicate step
    assert _count(db_session, Beneficiary) == 1
    page = client.get(second).get_data(as_text=True)
    assert ALREADY in page
    assert "Benhamou-Riva" in page
    row = db_session.scalars(select(SubmissionToken)).one()
    assert (row.form, row.target, row.token) == ("register", first, data["submission"])


def test_handoff_sent_twice_sends_one(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    pseudonym = _register(client)
    data = _send_data(client, pseudonym, partners["IDB"], "stage:training")
    first, second = _twice(client, f"/handoffs/new/{pseudonym}", data)
    assert first == second
    assert _count(db_session, Handoff) == 1
    assert ALREADY in client.get(second).get_data(as_text=True)


def test_network_event_sent_twice_records_one(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR, email="idcoord@relais.example")
    db_session.commit()
    login(client, coordinator.email)
    data = {
        **page_tokens(client, "/network-events/new"),
        "theme": "Petit-déjeuner des partenaires",
        "held_on": paris_today().isoformat(),
        "participants": "12",
        "structures": [str(partners["IDA"].id), str(partners["IDB"].id)],
    }
    first, second = _twice(client, "/network-events/new", data)
    assert first == second
    assert _count(db_session, NetworkEvent) == 1
    # A new form (another tab opened afterwards) has another token: the same event typed in
    # it a moment later shows the first one (app/services/repeats.py), another one is recorded.
    again = {**data, **page_tokens(client, "/network-events/new")}
    assert again["submission"] != data["submission"]
    assert client.post("/network-events/new", data=again).headers["Location"] == first
    assert _count(db_session, NetworkEvent) == 1
    other = {**again, **page_tokens(client, "/network-events/new"), "theme": "Forum emploi"}
    assert client.post("/network-events/new", data=other).status_code == 302
    assert _count(db_session, NetworkEvent) == 2


def test_person_page_forms_sent_twice_record_once(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    pseudonym = client.post("/people/new", data=data).headers["Location"].rsplit("/", 1)[-1]
    tokens = action_tokens(client, pseudonym)
    csrf = tokens["csrf_token"]
    forms = {
        "steps": (PathwayStep, "step", {"stage": "orientation", "started_on": "2026-11-02"}),
        "barriers": (Barrier, "barrier", {"category": "housing", "identified_on": "2026-11-03"}),
        "consent": (Consent, "consent", {"method": "signed", "given_on": "2026-11-04"}),
    }
    for path, (model, prefix, fields) in forms.items():
        before = _count(db_session, model)
        data = {
            f"{prefix}-csrf_token": csrf,
            f"{prefix}-submission": tokens[f"{prefix}-submission"],
        }
        data |= {f"{prefix}-{name}": value for name, value in fields.items()}
        first, second = _twice(client, f"/people/{pseudonym}/{path}", data)
        assert first == second, path
        assert _count(db_session, model) == before + 1, path
    assert ALREADY in client.get(f"/people/{pseudonym}").get_data(as_text=True)


def test_consent_sent_from_two_tabs_is_recorded_once(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    pseudonym = client.post("/people/new", data=data).headers["Location"].rsplit("/", 1)[-1]
    tabs = [action_tokens(client, pseudonym) for _ in range(2)]
    answers = [
        client.post(
            f"/people/{pseudonym}/consent",
            data={
                "consent-csrf_token": tab["csrf_token"],
                "consent-submission": tab["consent-submission"],
                "consent-method": "oral",
                "consent-given_on": "2026-11-04",
            },
        )
        for tab in tabs
    ]
    assert _count(db_session, Consent) == 1
    # The second tab gets the person's page again (not a redirect), saying why.
    assert answers[1].status_code == 200
    assert "Le consentement est déjà enregistré." in answers[1].get_data(as_text=True)


def test_a_refused_form_keeps_its_token_for_the_corrected_one(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    refused = client.post("/people/new", data={**data, "phone": "12"})  # refused by the service
    assert refused.status_code == 200
    assert f'value="{data["submission"]}"' in refused.get_data(as_text=True)
    empty = client.post("/people/new", data={**data, "cohorts": ""})  # refused by the form
    assert f'value="{data["submission"]}"' in empty.get_data(as_text=True)
    assert _count(db_session, SubmissionToken) == 0
    assert client.post("/people/new", data=data).status_code == 302
    assert _count(db_session, Beneficiary) == 1


def test_a_form_without_a_token_relais_made_is_refused(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    data = {**page_tokens(client, "/people/new"), **IDENTITY, "cohorts": "young_graduate"}
    for token in (None, "", "<script>"):
        sent = {k: v for k, v in data.items() if k != "submission"}
        if token is not None:
            sent["submission"] = token
        response = client.post("/people/new", data=sent)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "plus à jour : vérifiez-le" in text
        fresh = re.search(r'name="submission"[^>]*value="([^"]+)"', text)
        assert fresh is not None
        assert fresh.group(1) != data["submission"]
    pseudonym = _register(client)
    tokens = action_tokens(client, pseudonym)
    response = client.post(
        f"/people/{pseudonym}/steps",
        data={
            "step-csrf_token": tokens["csrf_token"],
            "step-stage": "orientation",
            "step-started_on": "2026-11-02",
        },
    )
    # The step's page again, its form with what was typed and a fresh token.
    assert response.status_code == 200
    assert _count(db_session, PathwayStep) == 0
    text = response.get_data(as_text=True)
    assert "plus à jour : vérifiez-le" in text
    assert 'id="step"' in text
    assert re.search(r'name="step-submission"[^>]*value="[^"]+"', text)


def test_a_second_handoff_for_an_open_purpose_asks_first(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    pseudonym = _register(client)
    path = f"/handoffs/new/{pseudonym}"
    _twice(client, path, _send_data(client, pseudonym, partners["IDB"], "stage:training"))
    # Another partner, the same purpose: a warning, nothing sent, the token kept.
    data = _send_data(client, pseudonym, partners["IDC"], "stage:training")
    warned = client.post(path, data=data)
    assert warned.status_code == 200
    text = warned.get_data(as_text=True)
    assert 'id="same-purpose"' in text
    assert f'value="{data["submission"]}"' in text
    assert 'name="send_anyway"' in text
    assert _count(db_session, Handoff) == 1
    # Another purpose needs no confirmation.
    other = _send_data(client, pseudonym, partners["IDC"], "stage:employment")
    assert client.post(path, data=other).status_code == 302
    assert _count(db_session, Handoff) == 2
    # Confirmed: sent, once.
    first, second = _twice(client, path, {**data, "send_anyway": "y"})
    assert first == second
    assert _count(db_session, Handoff) == 3
    # The receivers see each other's hand-off for the same purpose on the hand-off page.
    login(client, "idc@relais.example")
    training = db_session.scalars(
        select(Handoff)
        .where(Handoff.to_structure_id == partners["IDC"].id)
        .order_by(Handoff.sent_at)
    ).all()
    page = client.get(f"/handoffs/{training[-1].id.hex}").get_data(as_text=True)
    notice = page.split('id="same-purpose"')[1].split("</div>")[0]
    assert "IDB" in notice or "Structure" in notice
    assert f"/handoffs/{training[0].id.hex}" not in notice  # IDC is no party to A → B


def test_a_redirected_handoff_still_counts_for_its_purpose(
    client: FlaskClient, partners: dict[str, Structure], db_session: Session
) -> None:
    login(client, "ida@relais.example")
    pseudonym = _register(client)
    person = db_session.scalars(select(Beneficiary)).one()
    sender = factories.user(db_session, structure_=partners["IDA"])
    barrier = add_barrier(
        db_session, sender, person, category_code="mobility", identified_on=paris_today()
    )
    db_session.commit()
    path = f"/handoffs/new/{pseudonym}"
    purpose = f"barrier:{barrier.id.hex}"
    first = client.post(path, data=_send_data(client, pseudonym, partners["IDB"], purpose))
    handoff = first.headers["Location"].rsplit("/", 1)[-1]
    # B redirects it to C.
    login(client, "idb@relais.example")
    page = client.get(f"/handoffs/{handoff}").get_data(as_text=True)
    token = re.search(r'name="redirect-csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    client.post(
        f"/handoffs/{handoff}/redirect",
        data={
            "redirect-csrf_token": token.group(1),
            "redirect-redirect_to": str(partners["IDC"].id),
        },
    )
    # A sends for the same barrier to D: warned about the hand-off now with C.
    login(client, "ida@relais.example")
    warned = client.post(path, data=_send_data(client, pseudonym, partners["IDD"], purpose))
    assert warned.status_code == 200
    notice = warned.get_data(as_text=True).split('id="same-purpose"')[1].split("</div>")[0]
    assert partners["IDC"].name in notice
    assert _count(db_session, Handoff) == 2
