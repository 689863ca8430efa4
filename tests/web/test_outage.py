"""When the database cannot be reached, every answer is still a page: a 503 "service
momentarily unavailable" with Retry-After (a problem document for the API), never a bare
server error; the error pages render without the database; the health endpoint names the
dependency that is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session

from app import unit_of_work
from app.extensions import db
from tests import factories
from tests.web.api_helpers import auth, token_for
from tests.web.helpers import csrf_token, login

UNAVAILABLE = "Service momentanément indisponible"


@pytest.fixture
def database_down(db_session: scoped_session[Session]) -> Iterator[None]:
    """Bind the application's sessions to a server that refuses every connection."""
    bind = db._factory.kw["bind"]
    nowhere = create_engine(
        "postgresql+psycopg://relais@127.0.0.1:9/nowhere", connect_args={"connect_timeout": 2}
    )
    db.bind_to(nowhere)
    try:
        yield
    finally:
        db.bind_to(bind)
        nowhere.dispose()


def _is_unavailable_page(answer_text: str) -> bool:
    return UNAVAILABLE in answer_text and "Traceback" not in answer_text


def test_health_says_ok_when_the_database_answers(client: FlaskClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "checks": {"database": "ok", "rate_limits": "ok"}}


def test_a_signed_in_caseworker_gets_the_unavailable_page(
    client: FlaskClient, db_session: scoped_session[Session], request: pytest.FixtureRequest
) -> None:
    structure = factories.structure(db_session)
    user = factories.user(db_session, structure_=structure)
    db_session.commit()
    assert login(client, user.email).status_code == 302
    request.getfixturevalue("database_down")

    for path in ("/work/", "/people/", "/handoffs/"):
        answer = client.get(path)
        assert answer.status_code == 503, path
        assert answer.headers["Retry-After"] == "30"
        assert _is_unavailable_page(answer.get_data(as_text=True)), path
    # An address that does not exist is still a 404, drawn without the account's frame.
    answer = client.get("/no-such-page")
    assert answer.status_code == 404
    assert "Page introuvable" in answer.get_data(as_text=True)
    answer = client.post("/people/new", data={"first_name": "x"})
    assert answer.status_code == 503
    assert _is_unavailable_page(answer.get_data(as_text=True))


def test_the_unavailable_page_has_the_site_s_frame(
    client: FlaskClient, db_session: scoped_session[Session], request: pytest.FixtureRequest
) -> None:
    """The page drawn without the database keeps the margins of every other page (its
    classes once named no rule of the style sheet: on a phone the text touched the edges)."""
    user = factories.user(db_session, structure_=factories.structure(db_session))
    db_session.commit()
    assert login(client, user.email).status_code == 302
    framed = client.get("/people/").get_data(as_text=True)
    request.getfixturevalue("database_down")
    bare = client.get("/people/").get_data(as_text=True)
    assert _is_unavailable_page(bare)
    for frame in ('<div class="wrap header-row">', '<main id="main" class="wrap"', "skip-link"):
        assert frame in framed
        assert frame in bare


def test_health_names_the_database_when_it_is_down(
    client: FlaskClient, database_down: None
) -> None:
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json == {
        "status": "unavailable",
        "checks": {"database": "down", "rate_limits": "ok"},
    }


def test_pages_without_an_account_render_without_the_database(
    client: FlaskClient, database_down: None
) -> None:
    answer = client.get("/no-such-page")
    assert answer.status_code == 404
    assert "Page introuvable" in answer.get_data(as_text=True)


def test_the_api_answers_a_problem_document(
    client: FlaskClient, db_session: scoped_session[Session], request: pytest.FixtureRequest
) -> None:
    token = token_for(db_session, factories.structure(db_session))
    request.getfixturevalue("database_down")
    answer = client.get("/api/v1/people", headers=auth(token))
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0  # the API's rate limiter may set its own
    assert answer.json is not None
    assert answer.json["status"] == 503


def test_a_commit_that_loses_the_database_is_a_503(
    client: FlaskClient, db_session: scoped_session[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    structure = factories.structure(db_session)
    user = factories.user(db_session, structure_=structure)
    db_session.commit()
    assert login(client, user.email).status_code == 302

    def lost(_session: Session) -> None:
        raise OperationalError(
            "COMMIT", {}, Exception("server closed the connection"), connection_invalidated=True
        )

    monkeypatch.setattr(unit_of_work, "complete", lost)
    answer = client.post("/logout", data={})
    assert answer.status_code in (400, 503)  # no CSRF token: refused before any commit
    answer = client.get("/work/")
    assert answer.status_code == 503
    assert _is_unavailable_page(answer.get_data(as_text=True))


def test_an_answer_of_the_database_is_no_outage(
    client: FlaskClient, db_session: scoped_session[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A serialization failure or a lock comes from a database that is there: the request
    failed (500), the database is not said to be unreachable."""
    structure = factories.structure(db_session)
    user = factories.user(db_session, structure_=structure)
    db_session.commit()
    assert login(client, user.email).status_code == 302

    def refused(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("could not serialize access"))

    monkeypatch.setattr(unit_of_work, "complete", refused)
    answer = client.get("/work/")
    assert answer.status_code == 500
    assert UNAVAILABLE not in answer.get_data(as_text=True)


def test_an_error_page_whose_frame_fails_is_drawn_bare(
    app: Flask,
    client: FlaskClient,
    db_session: scoped_session[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    structure = factories.structure(db_session)
    user = factories.user(db_session, structure_=structure)
    db_session.commit()
    assert login(client, user.email).status_code == 302

    def broken(_user_id: str) -> None:
        raise RuntimeError("the account cannot be read")

    monkeypatch.setattr(app.login_manager, "_user_callback", broken)
    answer = client.get("/work/")
    assert answer.status_code == 500
    page = answer.get_data(as_text=True)
    assert "Une erreur est survenue" in page
    assert "the account cannot be read" not in page
    assert "Traceback" not in page


@pytest.fixture
def schema_behind(db_session: scoped_session[Session], tmp_path: Path) -> Iterator[None]:
    """Bind the application's sessions to a database without its tables: a release installed,
    its ``db upgrade`` not run yet."""
    bind = db._factory.kw["bind"]
    empty = create_engine(f"sqlite:///{tmp_path / 'not-upgraded.sqlite3'}")
    db.bind_to(empty)
    try:
        yield
    finally:
        db.bind_to(bind)
        empty.dispose()


def test_a_schema_behind_the_release_is_unavailable_and_says_why_in_the_log(
    client: FlaskClient, schema_behind: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Every page failed with a 500 and "unexpected OperationalError" in the log."""
    token = csrf_token(client, "/login")
    answer = client.post(
        "/login", data={"csrf_token": token, "email": "a@relais.example", "password": "x" * 12}
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert _is_unavailable_page(answer.get_data(as_text=True))
    assert "run flask --app app db upgrade" in caplog.text
    assert "unexpected" not in caplog.text
