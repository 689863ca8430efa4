"""Keys that do not open the database stop every request of the process: the bare 503 page
for people, a problem document for the API, ``keys: mismatch`` for the health check, one
log record per key; the check runs once per process, and a database down at that moment is
tried again at the next request."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, scoped_session

from app.crypto import KeyRing
from app.models import PersonKey
from app.services.security.vault import Vault
from app.web.key_guard import EXTENSION, KeyGuard
from tests import factories
from tests.sql_count import count_queries
from tests.web.api_helpers import auth, token_for
from tests.web.helpers import login
from tests.web.test_outage import database_down  # noqa: F401 - a fixture

REFUSED = "Relais ne peut pas ouvrir ses données avec les clés de cette installation"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> KeyGuard:
    """A guard switched on (the suite's application runs without it), on the test's clock."""
    found = KeyGuard(enabled=True, clock=clock)
    monkeypatch.setitem(app.extensions, EXTENSION, found)
    return found


def _person(session: Session, vault: Vault) -> None:
    worker = factories.user(session)
    factories.person(
        session,
        vault,
        worker,
        last_name="Quintavalle",
        first_name="Noé",
        birth_date=date(2001, 2, 3),
    )


def _foreign(app: Flask, keyring: KeyRing) -> Vault:
    """Keys under the same id as the application's, but not its own: a restored database."""
    return Vault(
        replace(keyring, keks={"k1": secrets.token_bytes(32)}), app.config["BLIND_INDEX_BITS"]
    )


def test_matching_keys_are_checked_once_and_let_everything_through(
    client: FlaskClient, db_session: scoped_session[Session], vault: Vault, guard: KeyGuard
) -> None:
    _person(db_session, vault)
    user = factories.user(db_session)
    db_session.commit()
    with count_queries() as first:
        assert client.get("/login").status_code == 200
    with count_queries() as second:
        assert client.get("/login").status_code == 200
    assert len(first.statements) > len(second.statements)  # the check, on the first only
    assert login(client, user.email).status_code == 302
    assert client.get("/people/").status_code == 200
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json is not None
    assert health.json["checks"]["keys"] == "ok"


def test_keys_that_do_not_open_the_data_stop_every_request(
    app: Flask,
    client: FlaskClient,
    db_session: scoped_session[Session],
    keyring: KeyRing,
    guard: KeyGuard,
    caplog: pytest.LogCaptureFixture,
) -> None:
    structure = factories.structure(db_session)
    _person(db_session, _foreign(app, keyring))
    token = token_for(db_session, structure)
    db_session.commit()

    with caplog.at_level(logging.CRITICAL, logger="app.services.security.key_check"):
        for path in ("/login", "/people/", "/handoffs/", "/no-such-page"):
            answer = client.get(path)
            assert answer.status_code == 503, path
            assert answer.headers["Retry-After"] == "30"
            page = answer.get_data(as_text=True)
            assert REFUSED in page, path
            assert "Service momentanément indisponible" in page
    # One record for the key that does not match, whatever the number of requests.
    records = [
        r.getMessage() for r in caplog.records if r.name == "app.services.security.key_check"
    ]
    assert len(records) == 1
    assert "RELAIS_KEKS[k1]" in records[0]

    answer = client.get("/api/v1/people", headers=auth(token))
    assert answer.status_code == 503
    assert answer.json is not None
    assert "keys" in answer.json["detail"]
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json == {
        "status": "unavailable",
        "checks": {"database": "ok", "keys": "mismatch", "rate_limits": "ok"},
    }
    with client.get("/static/relais.css") as style:
        assert style.status_code == 200


def test_the_refusal_is_in_english_for_english_readers(
    app: Flask,
    client: FlaskClient,
    db_session: scoped_session[Session],
    keyring: KeyRing,
    guard: KeyGuard,
) -> None:
    _person(db_session, _foreign(app, keyring))
    db_session.commit()
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/login").get_data(as_text=True)
    assert "Relais cannot open its data with the keys of this installation" in page


@pytest.mark.usefixtures("database_down")
def test_a_database_down_at_the_check_is_tried_again(
    client: FlaskClient, guard: KeyGuard, vault: Vault
) -> None:
    # The sign-in page needs no database: it is served, the keys not tried yet.
    assert client.get("/login").status_code == 200
    assert not guard.checked  # tried again at the next request
    answer = client.get("/people/")
    assert answer.status_code in (302, 503)  # to the sign-in page, or the outage's page
    assert REFUSED not in answer.get_data(as_text=True)
    assert not guard.checked


def test_a_mismatch_is_tried_again_every_minute(
    app: Flask,
    client: FlaskClient,
    db_session: scoped_session[Session],
    keyring: KeyRing,
    guard: KeyGuard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _person(db_session, _foreign(app, keyring))
    db_session.commit()
    assert client.get("/login").status_code == 503
    # Mended on the database's side: the data key the keys do not open is gone.
    db_session.execute(delete(PersonKey))
    db_session.commit()
    clock.now += KeyGuard.RECHECK_SECONDS - 1
    assert client.get("/login").status_code == 503
    clock.now += 1
    with caplog.at_level(logging.WARNING, logger="app.services.security.key_check"):
        assert client.get("/login").status_code == 200
    assert "match this database now" in caplog.text
    # Matching keys are not tried again.
    clock.now += 10 * KeyGuard.RECHECK_SECONDS
    with count_queries() as queries:
        assert client.get("/login").status_code == 200
    assert not [q for q in queries.statements if "person_keys" in q]
