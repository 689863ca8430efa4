"""Sign-in under attack, through the web: the request-rate limit of the forms open to visitors
(Flask-Limiter) and the back-off of the sign-in (per login and per client address)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import limiter
from app.models import LoginThrottle, User
from app.services.security.throttling import attempt_keys, record_failure
from app.web.auth import views as auth_views
from tests import factories
from tests.web.helpers import csrf_token, login

CSRF_VALUE = re.compile(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]*')

STRANGER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def member(db_session: Session) -> User:
    user = factories.user(db_session, email="ursule@relais.example")
    db_session.commit()
    return user


@pytest.fixture
def rate_limited(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "ANONYMOUS_POST_LIMIT", "3 per minute")
    limiter.reset()
    yield
    limiter.reset()


def _shift(db_session: Session, delta: timedelta) -> None:
    """Move every failure counted so far by ``delta`` (negative: into the past)."""
    for key, last in db_session.execute(select(LoginThrottle.key, LoginThrottle.last_failure_at)):
        db_session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(last_failure_at=last + delta)
        )
    db_session.commit()


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _post_login(client: FlaskClient, email: str, password: str) -> int:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return response.status_code


def test_one_address_posting_too_often_gets_429_before_the_view(
    app: Flask, member: User, rate_limited: None
) -> None:
    flood, other = _from(app, STRANGER), _from(app, OWNER)
    statuses = [_post_login(flood, f"x{n}@relais.example", "some guess here") for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    token = csrf_token(flood)
    refused = flood.post(
        "/login", data={"email": "a@relais.example", "password": "p", "csrf_token": token}
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert flood.get("/login").status_code == 200  # reading the page is not limited
    assert _post_login(other, "ursule@relais.example", factories.PASSWORD) == 302


def test_the_language_switch_is_limited_too(app: Flask, rate_limited: None) -> None:
    client = _from(app, STRANGER)
    token = csrf_token(client)
    statuses = [
        client.post("/language", data={"csrf_token": token, "lang": "en"}).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


@pytest.fixture
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-in's clock stopped: on a loaded machine a second can pass between the fifth
    failure and the next try, and the wait said would then be 4 seconds, not 5."""
    stopped = datetime.now(UTC)

    class StoppedClock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> StoppedClock:
            return cls.fromtimestamp(stopped.timestamp(), tz)

    monkeypatch.setattr(auth_views, "datetime", StoppedClock)


def test_the_back_off_answers_429_with_when_to_try_again(
    app: Flask, member: User, stopped_clock: None
) -> None:
    client = _from(app, STRANGER)
    for _ in range(5):
        assert _post_login(client, "ursule@relais.example", "not the right password") == 200
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": "ursule@relais.example",
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"
    assert "Try again in 5 seconds" in response.get_data(as_text=True) or "dans 5" in (
        response.get_data(as_text=True)
    )
    assert client.get("/people/").status_code == 302  # not signed in


def test_the_back_off_does_not_tell_whether_the_account_exists(
    app: Flask, member: User, stopped_clock: None
) -> None:
    known, unknown = _from(app, STRANGER), _from(app, "203.0.113.67")
    answers = []
    for client, email in ((known, "ursule@relais.example"), (unknown, "nobody@relais.example")):
        for _ in range(5):
            _post_login(client, email, "not the right password")
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={"email": email, "password": "not the right password", "csrf_token": token},
        )
        # The page's CSRF tokens are signed with the second they were made in, which differs
        # between the two clients when a second ticks between them: left out, like the login.
        page = response.get_data(as_text=True)
        assert CSRF_VALUE.search(page)  # the form's token, and the language switch's
        body = CSRF_VALUE.sub(r"\1", page.replace(email, ""))
        answers.append((response.status_code, response.headers["Retry-After"], body))
    assert answers[0] == answers[1]


def test_the_owner_signs_in_from_elsewhere_after_a_short_wait(
    app: Flask, member: User, db_session: Session
) -> None:
    """A stranger guessing Ursule's password twelve times (the old lock: 15 minutes with 5
    guesses): from her own address Ursule waits at most a minute, the stranger much longer."""
    stranger, owner = _from(app, STRANGER), _from(app, OWNER)
    _post_login(stranger, "ursule@relais.example", "not the right password")
    # eleven more, counted directly (as if the stranger had waited past each delay)
    keys = attempt_keys(app.config["SECRET_KEY"], "ursule@relais.example", STRANGER)
    for _ in range(11):
        record_failure(db_session, keys, datetime.now(UTC))
    db_session.commit()
    failures = db_session.scalars(select(LoginThrottle.failures)).all()
    assert sorted(failures) == [12, 12]
    token = csrf_token(owner)
    early = owner.post(
        "/login",
        data={
            "email": "ursule@relais.example",
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
    )
    assert early.status_code == 429
    assert int(early.headers["Retry-After"]) <= 60
    _shift(db_session, -timedelta(seconds=61))
    assert _post_login(stranger, "ursule@relais.example", factories.PASSWORD) == 429
    assert _post_login(owner, "ursule@relais.example", factories.PASSWORD) == 302
    assert owner.get("/people/").status_code == 200


def test_a_successful_sign_in_is_not_slowed_by_old_login_helpers(
    client: FlaskClient, member: User
) -> None:
    """The helper every web test uses still signs in from the test client's address."""
    assert login(client, "ursule@relais.example").status_code == 302
