"""The same form posted twice at the same moment, by two connections (PostgreSQL only): the
token's primary key makes the second insert wait for the first transaction, then find its
record. One registration, one hand-off, one network event; both answers lead to the record."""

from __future__ import annotations

import io
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.extensions import db
from app.models import (
    Base,
    Beneficiary,
    Handoff,
    NetworkEvent,
    Structure,
    SubmissionToken,
    User,
    network_event_structures,
)
from app.services.security.vault import Vault
from tests import factories
from tests.audit_log import AuditMark, mark_audit_log, rewind_audit_log
from tests.directory_data import paris_today
from tests.web.helpers import login, page_tokens

pytestmark = pytest.mark.postgres_only


@dataclass
class Committed:
    """What the test committed, to remove afterwards."""

    mark: AuditMark
    structures: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    person: str = ""


@pytest.fixture
def committed(app: Flask, vault: Vault) -> Iterator[Committed]:
    engine = db.engine
    with engine.connect() as connection:
        found = Committed(mark_audit_log(connection))
    with Session(engine) as session:
        a, b = factories.structure(session), factories.structure(session)
        suffix = uuid.uuid4().hex[:8]
        caseworker = factories.user(session, structure_=a, email=f"cw-{suffix}@relais.example")
        factories.user(session, structure_=b)
        coordinator = factories.user(session, Role.COORDINATOR, email=f"co-{suffix}@relais.example")
        person = factories.person(session, vault, caseworker)
        session.commit()
        found.structures = [a.id, b.id]
        found.users = list(
            session.scalars(select(User.id).where(User.structure_id.in_([a.id, b.id])))
        )
        found.users.append(coordinator.id)
        found.emails = {"caseworker": caseworker.email, "coordinator": coordinator.email}
        found.person = person.pseudonym
    try:
        yield found
    finally:
        _drop(engine, found)


def _drop(engine: Engine, found: Committed) -> None:
    """Delete every row the test committed, children first; rewind the audit log."""
    with Session(engine) as session:
        rewind_audit_log(session, found.mark)
        people = list(
            session.scalars(
                select(Beneficiary.id).where(
                    Beneficiary.created_by_structure_id.in_(found.structures)
                )
            )
        )
        handoffs = list(
            session.scalars(select(Handoff.id).where(Handoff.beneficiary_id.in_(people)))
        )
        events = list(
            session.scalars(
                select(NetworkEvent.id).where(NetworkEvent.recorded_by_id.in_(found.users))
            )
        )
        session.execute(delete(SubmissionToken).where(SubmissionToken.user_id.in_(found.users)))
        session.execute(
            delete(network_event_structures).where(network_event_structures.c.event_id.in_(events))
        )
        session.execute(delete(NetworkEvent).where(NetworkEvent.id.in_(events)))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in ("handoffs", "beneficiaries", "audit_events"):
                continue
            if "handoff_id" in table.c:
                session.execute(delete(table).where(table.c.handoff_id.in_(handoffs)))
            if "beneficiary_id" in table.c:
                session.execute(delete(table).where(table.c.beneficiary_id.in_(people)))
        session.execute(delete(Handoff).where(Handoff.id.in_(handoffs)))
        session.execute(delete(Beneficiary).where(Beneficiary.id.in_(people)))
        # The accounts' own rows: sessions, recovery codes, submission tokens...
        for table in reversed(Base.metadata.sorted_tables):
            if "user_id" in table.c and table.name != "audit_events":
                session.execute(delete(table).where(table.c.user_id.in_(found.users)))
        session.execute(delete(User).where(User.id.in_(found.users)))
        session.execute(delete(Structure).where(Structure.id.in_(found.structures)))
        session.commit()


def _at_once(app: Flask, email: str, path: str, data: Callable[[FlaskClient], dict]) -> list:  # type: ignore[type-arg]
    """Two signed-in clients post the same form (one submission token) at the same moment."""
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, email)
    first = data(clients[0])
    forms = [first, {**first, **{"csrf_token": page_tokens(clients[1], path)["csrf_token"]}}]
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def post(client: FlaskClient, form: dict) -> None:  # type: ignore[type-arg]
        start.wait()
        response = client.post(path, data=form)
        answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    return answers


def _count(statement: object) -> int:
    with Session(db.engine) as session:
        return session.scalar(statement) or 0  # type: ignore[call-overload]


def test_a_registration_posted_twice_at_once_registers_one_person(
    app: Flask, committed: Committed
) -> None:
    def form(client: FlaskClient) -> dict:  # type: ignore[type-arg]
        return {
            **page_tokens(client, "/people/new"),
            "last_name": "Concurrent",
            "first_name": "Camille",
            "cohorts": "young_graduate",
        }

    answers = _at_once(app, committed.emails["caseworker"], "/people/new", form)
    statuses = {status for status, _location in answers}
    locations = {location for _status, location in answers}
    assert statuses == {302}
    assert len(locations) == 1
    assert re.search(r"/people/P-[0-9A-Z-]+$", locations.pop())
    created = (
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.created_by_structure_id == committed.structures[0])
    )
    assert _count(created) == 2  # the person of the fixture, and one registered now


def test_a_handoff_posted_twice_at_once_sends_one(app: Flask, committed: Committed) -> None:
    path = f"/handoffs/new/{committed.person}"

    def form(client: FlaskClient) -> dict:  # type: ignore[type-arg]
        return {
            **page_tokens(client, path),
            "to_structure": str(committed.structures[1]),
            "purpose": "stage:training",
            "consent_confirmed": "y",
        }

    answers = _at_once(app, committed.emails["caseworker"], path, form)
    assert {status for status, _location in answers} == {302}
    assert len({location for _status, location in answers}) == 1
    sent = (
        select(func.count())
        .select_from(Handoff)
        .where(Handoff.from_structure_id == committed.structures[0])
    )
    assert _count(sent) == 1


def test_a_network_event_posted_twice_at_once_records_one(app: Flask, committed: Committed) -> None:
    theme = f"Forum concurrent {uuid.uuid4().hex[:6]}"

    def form(client: FlaskClient) -> dict:  # type: ignore[type-arg]
        return {
            **page_tokens(client, "/network-events/new"),
            "theme": theme,
            "held_on": paris_today().isoformat(),
            "participants": "9",
            "structures": [str(s) for s in committed.structures],
        }

    answers = _at_once(app, committed.emails["coordinator"], "/network-events/new", form)
    assert {status for status, _location in answers} == {302}
    assert len({location for _status, location in answers}) == 1
    recorded = select(func.count()).select_from(NetworkEvent).where(NetworkEvent.theme == theme)
    assert _count(recorded) == 1
    assert _count(text("SELECT count(*) FROM submission_tokens WHERE form = 'network_event'")) == 1


def test_an_answer_posted_twice_at_once_is_recorded_once(
    app: Flask, committed: Committed, vault: Vault
) -> None:
    """Two identical "accept" at once: the hand-off's version lets one through; the other is
    told it is already recorded (not "someone else answered first")."""
    with Session(db.engine) as session:
        sender = session.scalars(select(User).where(User.email == committed.emails["caseworker"]))
        person = session.scalars(
            select(Beneficiary).where(Beneficiary.pseudonym == committed.person)
        ).one()
        to = session.get(Structure, committed.structures[1])
        assert to is not None
        handoff = factories.handoff(session, vault, sender.one(), person, to)
        receiver = session.scalars(select(User).where(User.structure_id == to.id)).one()
        email, path, handoff_id = receiver.email, f"/handoffs/{handoff.id.hex}", handoff.id
        session.commit()
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for client in clients:
        login(client, email)
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'name="accept-csrf_token"[^>]*value="([^"]+)"', page)
        assert found
        tokens.append(found.group(1))
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def post(client: FlaskClient, token: str) -> None:
        start.wait()
        response = client.post(f"{path}/accept", data={"accept-csrf_token": token})
        followed = client.get(response.headers.get("Location", path)).get_data(as_text=True)
        answers.append((response.status_code, followed))

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _page in answers] == [302, 302]
    already = [
        page for _status, page in answers if "déjà enregistré (depuis un autre onglet" in page
    ]
    assert len(already) == 1
    accepted = text(
        "SELECT count(*) FROM handoff_transitions WHERE handoff_id = :h AND event = 'accept'"
    )
    with Session(db.engine) as session:
        assert session.scalar(accepted, {"h": handoff_id}) == 1


def test_an_import_posted_twice_at_once_imports_once(app: Flask, committed: Committed) -> None:
    """The same "import" form (one token) sent twice at once: one import, both answers lead to
    its result."""
    suffix = uuid.uuid4().hex[:6].upper()
    csv = f"Nom;Prénom;Public\r\nConcurrent{suffix};Léa;young_graduate\r\n".encode()
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        login(client, committed.emails["caseworker"])
    tokens = [page_tokens(client, "/import/") for client in clients]
    submission = tokens[0]["submission"]
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def post(client: FlaskClient, csrf: str) -> None:
        form = {"csrf_token": csrf, "submission": submission, "file": (io.BytesIO(csv), "s.csv")}
        start.wait()
        response = client.post("/import/", data=form, content_type="multipart/form-data")
        answers.append((response.status_code, response.headers.get("Location", "")))

    pairs = zip(clients, [t["csrf_token"] for t in tokens], strict=True)
    threads = [threading.Thread(target=post, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _location in answers) == [302, 303]
    imported = (
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.created_by_structure_id == committed.structures[0])
    )
    assert _count(imported) == 2  # the person of the fixture, and the one imported once
    assert _count(text("SELECT count(*) FROM submission_tokens WHERE form = 'import'")) == 1
