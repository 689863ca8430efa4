"""Server-side sessions: idle and absolute timeouts, the production cookie, and the page listing
one's sessions (end one, end the others; another account's session is a 404)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import User, UserSession
from app.settings import ProductionConfig, as_mapping
from tests import factories
from tests.web.helpers import csrf_token, login, logout

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


@pytest.fixture
def member(db_session: Session) -> User:
    user = factories.user(db_session, email="odette@relais.example")
    factories.user(db_session, email="gaspard@relais.example")
    db_session.commit()
    return user


def _browser(app: Flask, agent: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    return client


def _rows(db_session: Session, email: str) -> list[UserSession]:
    user = db_session.scalars(select(User).where(User.email == email)).one()
    return list(
        db_session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.created_at)
        )
    )


def _age(db_session: Session, row: UserSession, **delta: float) -> None:
    """Move a session's start and last request back in time."""
    db_session.execute(
        update(UserSession)
        .where(UserSession.id == row.id)
        .values(
            created_at=row.created_at - timedelta(**delta),
            last_seen_at=row.last_seen_at - timedelta(**delta),
        )
    )
    db_session.commit()


def test_a_session_idle_for_longer_than_the_setting_ends(
    app: Flask, client: FlaskClient, member: User, db_session: Session
) -> None:
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    login(client, "odette@relais.example")
    assert client.get("/people/").status_code == 200
    (row,) = _rows(db_session, "odette@relais.example")
    _age(db_session, row, minutes=29)
    assert client.get("/people/").status_code == 200  # 29 minutes idle: still open
    (row,) = _rows(db_session, "odette@relais.example")
    _age(db_session, row, minutes=31)
    response = client.get("/people/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    (row,) = _rows(db_session, "odette@relais.example")
    assert row.ended_at is not None
    assert client.get("/people/").status_code == 302  # and it stays ended


def test_a_session_ends_after_eight_hours_even_when_active(
    client: FlaskClient, member: User, db_session: Session
) -> None:
    login(client, "odette@relais.example")
    (row,) = _rows(db_session, "odette@relais.example")
    db_session.execute(
        update(UserSession)
        .where(UserSession.id == row.id)
        .values(created_at=row.created_at - timedelta(hours=8, minutes=1))
    )
    db_session.commit()
    assert client.get("/people/").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(
    client: FlaskClient, member: User, db_session: Session
) -> None:
    login(client, "odette@relais.example")
    (row,) = _rows(db_session, "odette@relais.example")
    first_seen = row.last_seen_at
    client.get("/people/")
    (row,) = _rows(db_session, "odette@relais.example")
    assert row.last_seen_at == first_seen  # not written again within the minute
    _age(db_session, row, minutes=2)
    client.get("/people/")
    (row,) = _rows(db_session, "odette@relais.example")
    assert row.last_seen_at > first_seen - timedelta(minutes=1)  # written now


def test_the_sessions_page_lists_ones_browsers(
    app: Flask, member: User, db_session: Session
) -> None:
    laptop, office = _browser(app, FIREFOX), _browser(app, CHROME_WIN)
    login(laptop, "odette@relais.example")
    login(office, "odette@relais.example")
    login(_browser(app, FIREFOX), "gaspard@relais.example")  # someone else's
    page = office.get("/account/sessions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Firefox, Linux" in text
    assert "Chrome, Windows" in text
    assert text.count('<tr id="session-') == 2
    _laptop_row, office_row = _rows(db_session, "odette@relais.example")
    listed = re.findall(r'<tr id="session-([0-9a-f]{32})"', text)
    assert listed[0] == office_row.id.hex  # this session first
    assert set(listed) == {row.id.hex for row in _rows(db_session, "odette@relais.example")}
    assert text.count("This session") + text.count("Cette session") == 1


def test_ending_one_session_signs_that_browser_out(
    app: Flask, member: User, db_session: Session
) -> None:
    laptop, office = _browser(app, FIREFOX), _browser(app, CHROME_WIN)
    login(laptop, "odette@relais.example")
    login(office, "odette@relais.example")
    first, _second = _rows(db_session, "odette@relais.example")
    token = csrf_token(office, "/account/sessions")
    response = office.post(f"/account/sessions/{first.id.hex}/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert laptop.get("/people/").status_code == 302  # the laptop is signed out
    assert office.get("/people/").status_code == 200  # this one is not
    again = office.post(f"/account/sessions/{first.id.hex}/end", data={"csrf_token": token})
    assert again.status_code == 404  # already ended


def test_ending_the_other_sessions_keeps_this_one(app: Flask, member: User) -> None:
    browsers = [_browser(app, FIREFOX) for _ in range(3)]
    for browser in browsers:
        login(browser, "odette@relais.example")
    token = csrf_token(browsers[0], "/account/sessions")
    response = browsers[0].post("/account/sessions/end-others", data={"csrf_token": token})
    assert response.status_code == 302
    assert [b.get("/people/").status_code for b in browsers] == [200, 302, 302]


def test_another_accounts_session_cannot_be_ended(
    app: Flask, member: User, db_session: Session
) -> None:
    odette, gaspard = _browser(app, FIREFOX), _browser(app, FIREFOX)
    login(odette, "odette@relais.example")
    login(gaspard, "gaspard@relais.example")
    (theirs,) = _rows(db_session, "gaspard@relais.example")
    token = csrf_token(odette, "/account/sessions")
    for target in (theirs.id.hex, "not-a-session", "0" * 32):
        response = odette.post(f"/account/sessions/{target}/end", data={"csrf_token": token})
        assert response.status_code == 404
    assert gaspard.get("/people/").status_code == 200
    assert odette.post(f"/account/sessions/{theirs.id.hex}/end").status_code == 400  # no token


def test_signing_out_ends_this_session_only(app: Flask, member: User) -> None:
    laptop, office = _browser(app, FIREFOX), _browser(app, FIREFOX)
    login(laptop, "odette@relais.example")
    login(office, "odette@relais.example")
    stolen = laptop.get_cookie("relais_session")
    assert stolen is not None
    logout(laptop)
    assert office.get("/people/").status_code == 200
    laptop.set_cookie("relais_session", stolen.value)  # replaying the cookie does not help
    assert laptop.get("/people/").status_code == 302


def test_signing_in_as_someone_else_ends_the_session_it_replaces(
    app: Flask, member: User, db_session: Session
) -> None:
    """Odette's browser, still signed in, is used to sign in as Gaspard (or to accept an
    invitation): her session's cookie is gone, and its row stayed open and listed on her
    sessions page until its idle limit."""
    shared = _browser(app, FIREFOX)
    login(shared, "odette@relais.example")
    login(shared, "gaspard@relais.example")
    assert shared.get("/people/").status_code == 200
    db_session.expire_all()
    (odette,) = _rows(db_session, "odette@relais.example")
    assert odette.ended_at is not None
    (gaspard,) = _rows(db_session, "gaspard@relais.example")
    assert gaspard.ended_at is None


def test_a_password_change_ends_every_session(
    app: Flask, member: User, db_session: Session
) -> None:
    laptop, office = _browser(app, FIREFOX), _browser(app, FIREFOX)
    login(laptop, "odette@relais.example")
    login(office, "odette@relais.example")
    token = csrf_token(office, "/account/password")
    office.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": factories.PASSWORD,
            "password": "une autre phrase de passe",
            "confirm": "une autre phrase de passe",
        },
    )
    assert laptop.get("/people/").status_code == 302
    assert all(row.ended_at is not None for row in _rows(db_session, "odette@relais.example"))


def test_production_names_the_cookie_with_the_host_prefix() -> None:
    settings = as_mapping(ProductionConfig, {})
    assert settings["SESSION_COOKIE_NAME"] == "__Host-relais_session"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_PATH"] == "/"
    assert settings["SESSION_COOKIE_DOMAIN"] is None


def test_the_host_prefixed_cookie_is_set_as_browsers_require(
    app: Flask, client: FlaskClient, member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the production cookie settings, the Set-Cookie header has the attributes without
    which browsers drop a ``__Host-`` cookie: Secure, Path=/ and no Domain."""
    for name in ("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH"):
        monkeypatch.setitem(app.config, name, getattr(ProductionConfig, name))
    response = login(client, "odette@relais.example")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower() for part in cookies[0].split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "domain" not in attributes
    assert re.search(r"Path=/(;|$)", cookies[0])
