"""Eight identical forms, each with its own token, posted at the same moment by eight
connections (PostgreSQL only): one person registered, the others told about the possible
duplicate (the registration lock, ``app.services.people.registration_lock``); one hand-off
sent, the others told it already waits for an answer (the unique index on pending
hand-offs)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.extensions import db
from app.models import Beneficiary, Handoff
from tests.web.helpers import login, page_tokens
from tests.web.test_concurrent_submissions import Committed, committed  # noqa: F401 - fixture

pytestmark = pytest.mark.postgres_only

ROUNDS = 8


def _all_at_once(app: Flask, email: str, path: str, form: dict[str, str]) -> list[tuple[int, str]]:
    """``ROUNDS`` signed-in clients post ``form`` (each with its own tokens) at once."""
    clients = [app.test_client() for _ in range(ROUNDS)]
    forms = []
    for client in clients:
        login(client, email)
        forms.append({**form, **page_tokens(client, path)})
    start = threading.Barrier(ROUNDS)
    answers: list[tuple[int, str]] = []

    def post(client: FlaskClient, data: dict[str, str]) -> None:
        start.wait()
        response = client.post(path, data=data)
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == ROUNDS
    return answers


def _count(statement: object) -> int:
    with Session(db.engine) as session:
        return session.scalar(statement) or 0  # type: ignore[call-overload]


def test_identical_registrations_at_once_register_one_person(
    app: Flask,
    committed: Committed,  # noqa: F811 - the fixture imported above
) -> None:
    form = {
        "last_name": "Zorvaquet",
        "first_name": "Ysolde",
        "birth_date": "2001-02-03",
        "cohorts": "young_graduate",
    }
    answers = _all_at_once(app, committed.emails["caseworker"], "/people/new", form)
    statuses = sorted(status for status, _page in answers)
    assert statuses == [200] * (ROUNDS - 1) + [302]
    for status, page in answers:
        if status == 200:
            assert 'id="duplicates"' in page  # the usual "possible duplicate" step
            assert re.search(r'href="/people/P-[0-9A-Z-]+"', page)
    created = (
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.created_by_structure_id == committed.structures[0])
    )
    assert _count(created) == 2  # the person of the fixture, and one registered now


def test_identical_handoffs_at_once_send_one(
    app: Flask,
    committed: Committed,  # noqa: F811 - the fixture imported above
) -> None:
    path = f"/handoffs/new/{committed.person}"
    form = {
        "to_structure": str(committed.structures[1]),
        "purpose": "stage:training",
        "consent_confirmed": "y",
    }
    answers = _all_at_once(app, committed.emails["caseworker"], path, form)
    statuses = sorted(status for status, _page in answers)
    assert statuses == [200] * (ROUNDS - 1) + [302]
    for status, page in answers:
        if status == 200:  # told that the same hand-off waits (warning or error on the form)
            assert 'id="same-purpose"' in page or 'aria-invalid="true"' in page
    pending = (
        select(func.count())
        .select_from(Handoff)
        .where(
            Handoff.from_structure_id == committed.structures[0],
            Handoff.status == HandoffStatus.SENT,
        )
    )
    assert _count(pending) == 1


def test_imports_and_registrations_of_one_person_at_once_register_them_once(
    app: Flask,
    committed: Committed,  # noqa: F811 - the fixture imported above
) -> None:
    """An import takes the registrations' key exclusively: whichever comes first, the others
    find the person (the import holds its file back on the possible duplicate)."""
    email = committed.emails["caseworker"]
    sheet = "Nom;Prénom;Date de naissance;Public\r\nZorvaquet;Ysolde;03/02/2001;young_graduate\r\n"
    register = {
        "last_name": "Zorvaquet",
        "first_name": "Ysolde",
        "birth_date": "2001-02-03",
        "cohorts": "young_graduate",
    }
    clients = [app.test_client() for _ in range(ROUNDS)]
    sends: list[Callable[[], int]] = []
    for n, client in enumerate(clients):
        login(client, email)
        if n % 2:
            tokens = page_tokens(client, "/import/")

            def send_import(client: FlaskClient = client, tokens: dict[str, str] = tokens) -> int:
                data = {**tokens, "file": (io.BytesIO(sheet.encode()), "people.csv")}
                return client.post(
                    "/import/", data=data, content_type="multipart/form-data"
                ).status_code

            sends.append(send_import)
        else:
            form = {**register, **page_tokens(client, "/people/new")}

            def send_form(client: FlaskClient = client, form: dict[str, str] = form) -> int:
                return client.post("/people/new", data=form).status_code

            sends.append(send_form)
    start = threading.Barrier(ROUNDS)
    statuses: list[int] = []

    def run(send: Callable[[], int]) -> None:
        start.wait()
        statuses.append(send())

    threads = [threading.Thread(target=run, args=(send,)) for send in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == ROUNDS
    assert all(status < 500 for status in statuses)
    created = (
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.created_by_structure_id == committed.structures[0])
    )
    assert _count(created) == 2  # the person of the fixture, and one registered or imported
