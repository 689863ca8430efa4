"""Hand-off lists and pages: names where the structure follows the person (audited, for the
people displayed only), pseudonyms elsewhere; lists paginated, never cut."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, FollowUp, Handoff, User
from app.services.handoffs import apply_event
from app.services.handoffs.lists import PER_PAGE
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import people_shown
from tests.web.helpers import login

SENDER = "sender@relais.example"
RECEIVER = "receiver@relais.example"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def pair(db_session: Session) -> tuple[User, User]:
    sender = factories.user(db_session, email=SENDER)
    receiver = factories.user(db_session, email=RECEIVER)
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    return sender, receiver


def _send_many(
    session: Session, vault: Vault, sender: User, receiver: User, count: int
) -> list[Handoff]:
    """``count`` people, each sent to the receiver a minute after the previous one."""
    assert receiver.structure is not None
    sent = []
    for n in range(count):
        person = factories.person(
            session, vault, sender, last_name=f"Nom{n:03d}", first_name="Inès", email=None
        )
        sent.append(
            factories.handoff(
                session, vault, sender, person, receiver.structure, now=NOW + timedelta(minutes=n)
            )
        )
    session.commit()
    return sent


def _reveals(session: Session, purpose: str) -> list[uuid.UUID | None]:
    """The people revealed for ``purpose``, in order (a page's event lists its people)."""
    return people_shown(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == AuditAction.BENEFICIARY_REVEAL,
                AuditEvent.purpose == purpose,
            )
            .order_by(AuditEvent.seq)
        )
    )


def _names(html: str) -> list[str]:
    return re.findall(r'<span class="person-name">([^<]+)</span>', html)


def test_the_sent_list_names_the_people_of_its_page_only(
    client: FlaskClient, db_session: Session, vault: Vault, pair: tuple[User, User]
) -> None:
    """205 hand-offs: five pages, nothing cut; each page reveals (and audits) its own rows."""
    sender, receiver = pair
    sent = _send_many(db_session, vault, sender, receiver, 4 * PER_PAGE + 5)
    login(client, SENDER)
    first = client.get("/handoffs/?box=out").get_data(as_text=True)
    assert "Orientations 1 à 50 sur 205" in first
    assert "Page 1 sur 5" in first
    # Newest first: the last one sent heads the list, by name and pseudonym.
    assert _names(first)[:2] == ["Inès NOM204", "Inès NOM203"]
    assert len(_names(first)) == PER_PAGE
    newest = {h.beneficiary_id for h in sent[-PER_PAGE:]}
    assert set(_reveals(db_session, "handoff_list")) == newest
    assert len(_reveals(db_session, "handoff_list")) == PER_PAGE

    last = client.get("/handoffs/?box=out&page=5").get_data(as_text=True)
    assert "Orientations 201 à 205 sur 205" in last
    assert _names(last) == [
        "Inès NOM004",
        "Inès NOM003",
        "Inès NOM002",
        "Inès NOM001",
        "Inès NOM000",
    ]
    assert 'rel="prev"' in last
    assert 'rel="next"' not in last
    assert _reveals(db_session, "handoff_list")[PER_PAGE:] == [
        h.beneficiary_id for h in reversed(sent[:5])
    ]
    # A page past the end shows the last page; a page that is not a number, the first.
    assert "Orientations 201 à 205 sur 205" in client.get("/handoffs/?box=out&page=99").get_data(
        as_text=True
    )
    assert "Orientations 1 à 50" in client.get("/handoffs/?box=out&page=x").get_data(as_text=True)


def test_the_receiver_sees_pseudonyms_until_it_follows_the_person(
    client: FlaskClient, db_session: Session, vault: Vault, pair: tuple[User, User]
) -> None:
    sender, receiver = pair
    first, second = _send_many(db_session, vault, sender, receiver, 2)
    pseudonyms = [h.beneficiary.pseudonym for h in (first, second)]
    login(client, RECEIVER)
    inbox = client.get("/handoffs/?box=in").get_data(as_text=True)
    assert _names(inbox) == []
    assert all(p in inbox for p in pseudonyms)
    assert "NOM00" not in inbox
    page = client.get(f"/handoffs/{first.id.hex}").get_data(as_text=True)
    assert "NOM000" not in page
    assert pseudonyms[0] in page
    assert _reveals(db_session, "handoff_list") == []
    assert _reveals(db_session, "handoff_page") == []

    handoff = db_session.get(Handoff, first.id)
    assert handoff is not None
    apply_event(
        db_session, vault, db_session.merge(receiver), handoff, HandoffEvent.ACCEPT, now=NOW
    )
    db_session.commit()
    inbox = client.get("/handoffs/?box=in").get_data(as_text=True)
    assert _names(inbox) == ["Inès NOM000"]  # the accepted one only
    assert pseudonyms[1] in inbox
    assert _reveals(db_session, "handoff_list") == [first.beneficiary_id]
    page = client.get(f"/handoffs/{first.id.hex}").get_data(as_text=True)
    assert _names(page) == ["Inès NOM000"]
    assert _reveals(db_session, "handoff_page") == [first.beneficiary_id]
    # The page's title stays free of identity.
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert "NOM000" not in title.group(1)


def test_a_person_on_two_rows_is_revealed_once(
    client: FlaskClient, db_session: Session, vault: Vault, pair: tuple[User, User]
) -> None:
    sender, receiver = pair
    (handoff,) = _send_many(db_session, vault, sender, receiver, 1)
    other = factories.structure(db_session)
    factories.handoff(db_session, vault, sender, handoff.beneficiary, other, now=NOW)
    db_session.commit()
    login(client, SENDER)
    outbox = client.get("/handoffs/?box=out").get_data(as_text=True)
    assert _names(outbox) == ["Inès NOM000", "Inès NOM000"]
    assert _reveals(db_session, "handoff_list") == [handoff.beneficiary_id]


def test_names_leave_with_the_follow_up_and_the_erasure(
    client: FlaskClient, db_session: Session, vault: Vault, pair: tuple[User, User]
) -> None:
    """After the grace time of an ended follow-up, or once the identity is erased, the lists
    and pages show the pseudonym only (and reveal nothing)."""
    sender, receiver = pair
    first, second = _send_many(db_session, vault, sender, receiver, 2)
    pseudonyms = [h.beneficiary.pseudonym for h in (first, second)]
    follow_up = db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == first.beneficiary_id)
    ).one()
    follow_up.started_on = follow_up.started_on - timedelta(days=400)
    follow_up.ended_on = follow_up.started_on + timedelta(days=10)
    person = db_session.get(Beneficiary, second.beneficiary_id)
    assert person is not None
    person.erased_at = NOW
    db_session.commit()
    login(client, SENDER)
    outbox = client.get("/handoffs/?box=out").get_data(as_text=True)
    assert _names(outbox) == []
    assert all(p in outbox for p in pseudonyms)
    page = client.get(f"/handoffs/{second.id.hex}").get_data(as_text=True)
    assert _names(page) == []
    assert _reveals(db_session, "handoff_list") == []
    assert _reveals(db_session, "handoff_page") == []


def test_the_send_form_names_the_person_to_their_structure(
    client: FlaskClient, db_session: Session, vault: Vault, pair: tuple[User, User]
) -> None:
    sender, _receiver = pair
    person = factories.person(db_session, vault, sender, last_name="Zarbi", first_name="Inès")
    db_session.commit()
    login(client, SENDER)
    page = client.get(f"/handoffs/new/{person.pseudonym}").get_data(as_text=True)
    assert "Orienter Inès ZARBI vers un partenaire" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert "ZARBI" not in title.group(1)
    assert _reveals(db_session, "confirmation") == [person.id]
