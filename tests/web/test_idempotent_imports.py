"""The import form sent twice (a double click, a resend of "import anyway"): the file is
imported once, and the second answer shows the first import's result."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Beneficiary, SubmissionToken, User
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login, logout, page_tokens
from tests.web.test_imports import HEADER, LINES, checked_file, csv_file, send, worker

__all__ = ["worker"]  # the fixture, shared with the import page's tests

ALREADY = "Ce fichier a déjà été importé avec ce formulaire"
SUBMISSION = re.compile(r'name="submission"[^>]*value="([^"]+)"')


def _people(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def _imports(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "beneficiary:import")
        )
        or 0
    )


def test_a_file_sent_twice_with_one_form_is_imported_once(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    token = page_tokens(client, "/import/")["submission"]
    first = send(client, csv_file(HEADER, *LINES), submission=token)
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/import/done")
    second = send(client, csv_file(HEADER, *LINES), submission=token)
    assert second.status_code == 302
    assert _people(db_session) == 2
    assert _imports(db_session) == 1
    row = db_session.scalars(select(SubmissionToken)).one()
    assert row.form == "import"
    assert second.headers["Location"] == row.target
    assert row.target is not None
    assert row.target.startswith("/import/done/")
    page = client.get(second.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ALREADY in text
    assert '<progress id="import-progress" max="2" value="2">' in text


def test_the_confirmation_step_keeps_the_token_and_a_resend_imports_nothing(
    client: FlaskClient, worker: User, db_session: Session, vault: Vault
) -> None:
    factories.person(db_session, vault, worker)  # Aurélie Zephyrin: a possible duplicate
    db_session.commit()
    login(client, "w@relais.example")
    data = csv_file(HEADER, LINES[1], LINES[0])
    token = page_tokens(client, "/import/")["submission"]
    asked = send(client, data, submission=token)
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert 'id="duplicates"' in text
    assert SUBMISSION.findall(text) == [token]  # the confirmation carries the same token
    assert _people(db_session) == 1

    checked = checked_file(asked)
    confirmed = send(client, data, allow_duplicates=True, submission=token, checked=checked)
    assert confirmed.status_code == 303
    assert _people(db_session) == 3
    # "Import anyway" sent again (the browser's resend): nothing more, the result shown.
    again = send(client, data, allow_duplicates=True, submission=token, checked=checked)
    assert again.status_code == 302
    assert _people(db_session) == 3
    assert _imports(db_session) == 1
    text = client.get(again.headers["Location"]).get_data(as_text=True)
    assert ALREADY in text
    assert '<progress id="import-progress" max="2" value="2">' in text
    assert "1 ligne a été importée malgré un doublon possible." in text
    # The first step sent again does not run the duplicate lookup a second time either.
    lookups = select(func.count()).select_from(AuditEvent)
    lookups = lookups.where(AuditEvent.action == "beneficiary:duplicate_check")
    before = db_session.scalar(lookups)
    assert send(client, data, submission=token).status_code == 302
    assert db_session.scalar(lookups) == before


def test_a_form_without_its_token_imports_nothing(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    response = send(client, csv_file(HEADER, *LINES), submission="not a token")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "plus à jour : vérifiez-le et envoyez-le de nouveau" in text
    assert len(SUBMISSION.findall(text)) == 1  # a fresh token, to send the form again
    assert _people(db_session) == 0


def test_the_result_of_an_import_is_shown_to_its_structure_only(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    other = factories.user(
        db_session, structure_=factories.structure(db_session, "IMPX"), email="x@relais.example"
    )
    db_session.commit()
    login(client, "w@relais.example")
    token = page_tokens(client, "/import/")["submission"]
    send(client, csv_file(HEADER, *LINES), submission=token)
    target = db_session.scalars(select(SubmissionToken.target)).one()
    assert target is not None
    assert client.get(target).status_code == 200
    logout(client)
    login(client, other.email)
    assert client.get(target).headers["Location"].endswith("/import/")
    assert client.get("/import/done/not-an-id").headers["Location"].endswith("/import/")
