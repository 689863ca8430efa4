"""Recording on Friday what happened on Tuesday, through the pages: the date fields of the
answers, their errors naming the bound, and both days shown where it matters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from flask_babel import format_date
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.effective_dates import field_day
from app.domain.handoffs import HandoffStatus
from app.models import Barrier, Beneficiary, Handoff
from app.services.handoffs import send_handoff
from app.services.pathways import add_barrier
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login

SENDER, RECEIVER = "dates-a@relais.example", "dates-b@relais.example"


@dataclass
class Net:
    person: Beneficiary
    handoff: Handoff
    barrier: Barrier
    sent_on: date
    today: date


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Net:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a, email=SENDER)
    factories.user(db_session, structure_=b, email=RECEIVER)
    person = factories.person(db_session, vault, sender)
    now = datetime.now(UTC)
    sent = now - timedelta(days=6)
    handoff = send_handoff(
        db_session,
        vault,
        sender,
        person,
        to_structure=b,
        now=sent,
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    barrier = add_barrier(
        db_session,
        sender,
        person,
        category_code="mobility",
        identified_on=field_day(sent),
    )
    db_session.commit()
    return Net(person, handoff, barrier, field_day(sent), field_day(now))


def _french(day: date) -> str:
    return str(format_date(day))


def _post(client: FlaskClient, net: Net, event: str, **fields: str) -> TestResponse:
    page = client.get(f"/handoffs/{net.handoff.id.hex}").get_data(as_text=True)
    token = re.search(rf'name="{event}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, f"{event} is not offered"
    data = {f"{event}-csrf_token": token.group(1), **{f"{event}-{k}": v for k, v in fields.items()}}
    return client.post(f"/handoffs/{net.handoff.id.hex}/{event}", data=data)


def test_the_answers_take_the_day_they_happened(
    client: FlaskClient, db_session: Session, net: Net
) -> None:
    login(client, RECEIVER)
    page = client.get(f"/handoffs/{net.handoff.id.hex}").get_data(as_text=True)
    with client.application.test_request_context():
        sent = _french(net.sent_on)
        today = _french(net.today)
    # The date of the acceptance, prefilled with today, at the earliest the day of sending.
    field = re.search(r'<input[^>]*id="accept-on"[^>]*>', page)
    assert field
    assert f'value="{net.today.isoformat()}"' in field.group(0)
    assert f'min="{net.sent_on.isoformat()}"' in field.group(0)
    assert "Date de l&#39;acceptation" in page or "Date de l'acceptation" in page
    assert f"Pas avant l&#39;envoi du {sent}." in page or f"Pas avant l'envoi du {sent}." in page

    # Before the sending: refused, the bound named, the day typed kept, nothing written.
    day_before = (net.sent_on - timedelta(days=1)).isoformat()
    refused = _post(client, net, "accept", on=day_before)
    assert refused.status_code == 200
    text = refused.get_data(as_text=True).replace("&#39;", "'")
    assert f"Pas avant l'envoi du {sent}." in text
    assert f'value="{day_before}"' in text
    db_session.expire_all()
    assert db_session.get(Handoff, net.handoff.id).status is HandoffStatus.SENT  # type: ignore[union-attr]

    accepted_on = net.sent_on + timedelta(days=1)
    assert _post(client, net, "accept", on=accepted_on.isoformat()).status_code == 302
    # A first contact in the future, then before the acceptance: each says its bound.
    future = _post(client, net, "first_contact", on=(net.today + timedelta(days=1)).isoformat())
    assert f"Pas après aujourd&#39;hui, {today}" in future.get_data(as_text=True)
    early = _post(client, net, "first_contact", on=net.sent_on.isoformat())
    with client.application.test_request_context():
        accepted = _french(accepted_on)
    assert f"Pas avant l&#39;acceptation du {accepted}." in early.get_data(as_text=True)

    contact_on = net.sent_on + timedelta(days=2)
    assert _post(client, net, "first_contact", on=contact_on.isoformat()).status_code == 302
    early_outcome = _post(
        client, net, "complete", outcome="training_entered", on=accepted_on.isoformat()
    )
    with client.application.test_request_context():
        contact = _french(contact_on)
    assert f"Pas avant le premier contact du {contact}." in early_outcome.get_data(as_text=True)

    db_session.expire_all()
    stored = db_session.get(Handoff, net.handoff.id)
    assert stored is not None
    assert (stored.answered_on, stored.first_contact_on) == (accepted_on, contact_on)
    # The history: the day it happened, and the day it was recorded.
    history = client.get(f"/handoffs/{net.handoff.id.hex}").get_data(as_text=True)
    assert f'<time datetime="{contact_on.isoformat()}">{contact}</time>' in history
    assert f"(enregistré le {today})" in history
    # The person's page: "premier contact le 3 mars, enregistré le 6 mars".
    person = client.get(f"/people/{net.person.pseudonym}").get_data(as_text=True)
    assert f"premier contact le {contact}, enregistré le {today}" in person


def test_a_barrier_is_not_changed_before_it_was_identified(
    client: FlaskClient, db_session: Session, net: Net
) -> None:
    login(client, SENDER)
    path = f"/people/{net.person.pseudonym}"
    prefix = f"b{net.barrier.id.hex[:8]}"
    page = client.get(f"{path}/barriers/{net.barrier.id.hex}").get_data(as_text=True)
    token = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    day_before = (net.sent_on - timedelta(days=3)).isoformat()
    refused = client.post(
        f"{path}/barriers/{net.barrier.id.hex}",
        data={
            f"{prefix}-csrf_token": token.group(1),
            f"{prefix}-status": "lifted",
            f"{prefix}-on": day_before,
        },
    )
    with client.application.test_request_context():
        identified = _french(net.sent_on)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200, text[:300]
    assert f"Pas avant le repérage du frein, le {identified}." in text
    db_session.expire_all()
    stored = db_session.get(Barrier, net.barrier.id)
    assert stored is not None
    assert stored.closed_on is None
