"""A page view that displays several people is one audit event listing them, and each of them
finds it in their access history."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Beneficiary
from app.services.rights.subject_access import access_log
from app.services.security import audit, audit_check, audit_people
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login


@pytest.fixture
def caseload(db_session: Session, vault: Vault) -> list[Beneficiary]:
    a = factories.structure(db_session, "AAA")
    worker = factories.user(db_session, structure_=a, email="a@relais.example")
    people = [
        factories.person(
            db_session, vault, worker, last_name=f"Nom{chr(97 + n)}", phone=None, email=None
        )
        for n in range(30)  # more than a page
    ]
    factories.person(db_session, vault, factories.user(db_session), last_name="Ailleurs")
    db_session.commit()
    return people


def _reveals_after(session: Session, seq: int) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > seq, AuditEvent.action == "beneficiary:reveal")
            .order_by(AuditEvent.seq)
        )
    )


def test_a_caseload_page_view_is_one_event_listing_its_people(
    client: FlaskClient, db_session: Session, caseload: list[Beneficiary]
) -> None:
    login(client, "a@relais.example")
    start = int(db_session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())) or 0)
    page = client.get("/people/").get_data(as_text=True)
    (event,) = _reveals_after(db_session, start)
    shown = [p.pseudonym for p in caseload if p.pseudonym in page]
    by_pseudonym = {p.pseudonym: p for p in caseload}
    listed = audit_people.listed(event.data)
    assert len(listed) == len(shown) > 1
    # The people in the order of the page, and nobody else.
    order = sorted(shown, key=page.index)
    assert listed == [by_pseudonym[pseudonym].id for pseudonym in order]
    assert (event.purpose, event.subject_id, event.beneficiary_id) == (
        "caseload",
        audit.LISTED,
        None,
    )
    for person in caseload:
        history = [line.purpose for line in access_log(db_session, person.id)]
        assert ("caseload" in history) == (person.id in listed)
    assert audit_check.verify_chain(db_session).intact


def test_each_view_is_its_own_event(
    client: FlaskClient, db_session: Session, caseload: list[Beneficiary]
) -> None:
    login(client, "a@relais.example")
    start = int(db_session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())) or 0)
    first = client.get("/people/").get_data(as_text=True)
    second = client.get("/people/?page=2").get_data(as_text=True)
    events = _reveals_after(db_session, start)
    assert len(events) == 2
    one, two = (set(audit_people.listed(e.data)) for e in events)
    assert one.isdisjoint(two)
    assert len(one | two) == len(caseload)
    assert re.search(r"P-[0-9A-Z]", first)
    assert re.search(r"P-[0-9A-Z]", second)
