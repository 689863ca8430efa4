"""Signing in and out, throttling, server-side session ends, CSRF, deny by default."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, User
from app.services.security.accounts import deactivate_user, set_password
from tests import factories
from tests.web.helpers import csrf_token, login, logout

PARIS = ZoneInfo("Europe/Paris")

WRONG = "Wrong e-mail address or password"


@pytest.fixture
def caseworker(db_session: Session) -> User:
    user = factories.user(db_session, email="camille@relais.example")
    db_session.commit()
    return user


def test_login_lands_on_the_role_page(client: FlaskClient, caseworker: User) -> None:
    response = login(client, "camille@relais.example")
    assert response.status_code == 302
    assert client.get("/").headers["Location"].endswith("/work/")


def test_wrong_login_says_the_same_whether_or_not_the_account_exists(
    client: FlaskClient, caseworker: User
) -> None:
    unknown = login(client, "nobody@relais.example", "whatever password 123")
    wrong = login(client, "camille@relais.example", "not the right password")
    texts = [r.get_data(as_text=True) for r in (unknown, wrong)]
    assert unknown.status_code == wrong.status_code == 200
    # The same message, in French by default.
    assert all("Adresse e-mail ou mot de passe incorrect" in t for t in texts)


def test_repeated_failures_lock_the_account(
    client: FlaskClient, caseworker: User, db_session: Session
) -> None:
    for _ in range(5):
        login(client, "camille@relais.example", "not the right password")
    response = login(client, "camille@relais.example")  # right password, but backed off
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/people/").status_code == 302


def test_every_page_is_closed_to_visitors(client: FlaskClient, app: object) -> None:
    for path in ("/", "/people/", "/people/P-AAAA-BBBB", "/pathways/", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(client: FlaskClient, caseworker: User) -> None:
    response = client.post(
        "/login", data={"email": "camille@relais.example", "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    login(client, "camille@relais.example")
    # A sign-out without its token signs nobody out: back to the page (the home page here).
    refused = client.post("/logout")
    assert refused.status_code == 302
    assert refused.headers["Location"] == "/"
    assert client.get("/people/").status_code == 200


def test_logout_ends_the_session_on_the_server(
    client: FlaskClient, caseworker: User, app: object
) -> None:
    login(client, "camille@relais.example")
    stolen = client.get_cookie("relais_session")
    assert stolen is not None
    logout(client)
    # Replaying the old cookie does not bring the session back.
    client.set_cookie("relais_session", stolen.value)
    assert client.get("/people/").status_code == 302


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_password_change_or_deactivation_ends_sessions(
    client: FlaskClient, caseworker: User, db_session: Session, change: str
) -> None:
    login(client, "camille@relais.example")
    assert client.get("/people/").status_code == 200
    user = db_session.scalars(select(User).where(User.email == "camille@relais.example")).one()
    if change == "password":
        set_password(db_session, None, user, "another long passphrase", min_length=12)
    else:
        deactivate_user(db_session, None, user)
    db_session.commit()
    assert client.get("/people/").status_code == 302


def test_change_own_password_through_the_form(client: FlaskClient, caseworker: User) -> None:
    login(client, "camille@relais.example")
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": factories.PASSWORD,
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/people/").status_code == 302  # signed out
    assert login(client, "camille@relais.example", "a brand new passphrase").status_code == 302


def test_weak_new_password_is_refused_with_a_reason(client: FlaskClient, caseworker: User) -> None:
    login(client, "camille@relais.example")
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": factories.PASSWORD,
            "password": "azertyuiop123",
            "confirm": "azertyuiop123",
        },
    )
    assert response.status_code == 200
    assert "trop courant" in response.get_data(as_text=True)


def test_login_is_audited(client: FlaskClient, caseworker: User, db_session: Session) -> None:
    login(client, "camille@relais.example")
    actions = db_session.scalars(select(AuditEvent.action)).all()
    assert "user:login" in actions


def test_language_switch(client: FlaskClient, caseworker: User) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="fr"' in page
    assert "Se connecter" in page
    token = csrf_token(client)
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Sign in to Relais" in page


def _locale(session: Session, email: str) -> str | None:
    session.expire_all()
    return session.scalar(select(User.locale).where(User.email == email))


def _choose(client: FlaskClient, lang: str, page: str = "/login") -> None:
    token = csrf_token(client, page)
    client.post("/language", data={"csrf_token": token, "lang": lang, "next": page})


def test_the_language_chosen_before_signing_in_is_kept(
    client: FlaskClient, caseworker: User, db_session: Session
) -> None:
    _choose(client, "en")
    login(client, "camille@relais.example")
    page = client.get("/work/").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "To do" in page
    # Kept with the account, whose mails are written in it.
    assert _locale(db_session, "camille@relais.example") == "en"
    # Signing out keeps it too: the message and the sign-in page are in English.
    logout(client)
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "You are signed out." in page


def test_english_dates_put_the_day_first_and_use_a_24_hour_clock(
    client: FlaskClient, caseworker: User
) -> None:
    """In US order the sessions page read "12/8/26, 1:20 AM": the 12th of August to a European."""
    before = datetime.now(PARIS)
    login(client, "camille@relais.example")
    _choose(client, "en", "/account/sessions")
    page = client.get("/account/sessions").get_data(as_text=True)
    after = datetime.now(PARIS)  # the two sides of a midnight, should the test cross one
    assert 'lang="en"' in page
    assert f"{before:%d/%m/%Y}" in page or f"{after:%d/%m/%Y}" in page
    assert " AM" not in page
    assert " PM" not in page


def test_the_account_remembers_its_language(
    client: FlaskClient, caseworker: User, db_session: Session
) -> None:
    login(client, "camille@relais.example")
    _choose(client, "en", "/work/")
    assert _locale(db_session, "camille@relais.example") == "en"
    # Another browser, another day: the session opens in the account's language.
    other = client.application.test_client()
    login(other, "camille@relais.example")
    assert 'lang="en"' in other.get("/work/").get_data(as_text=True)
    # Back to French, from the switch.
    _choose(other, "fr", "/work/")
    assert _locale(db_session, "camille@relais.example") == "fr"
    assert 'lang="fr"' in other.get("/work/").get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_open_redirect_after_login_is_refused(client: FlaskClient, caseworker: User) -> None:
    token = csrf_token(client, "/login?next=https://evil.example/")
    response = client.post(
        "/login",
        data={
            "email": "camille@relais.example",
            "password": factories.PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_roles_do_not_reach_each_others_pages(client: FlaskClient, db_session: Session) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    login(client, "coord@relais.example")
    assert client.get("/pathways/").status_code == 200
    assert client.get("/people/").status_code == 404
    assert client.get("/admin/users").status_code == 404


LANGUAGE_NEXT = re.compile(r'name="next" value="([^"]*)"')


def test_the_language_switch_of_a_page_answering_a_form_comes_back_to_the_form_s_page(
    client: FlaskClient, caseworker: User
) -> None:
    """A form's answer shown at its POST address (a hand-off's ``.../complete`` with its error)
    cannot be asked for again: the switch comes back to the page the form was sent from."""
    login(client, "camille@relais.example")
    page = client.get("/people/?sort=name").get_data(as_text=True)
    assert LANGUAGE_NEXT.findall(page) == ["/people/?sort=name"]
    token = csrf_token(client, "/people/new")
    sent = {"csrf_token": token, "last_name": ""}
    for referrer, expected in (
        ("http://localhost/people/new?from=search", "/people/new?from=search"),
        ("https://elsewhere.example/people/", "/"),
        (None, "/"),
    ):
        headers = {"Referer": referrer} if referrer else {}
        answer = client.post("/people/new", data=sent, headers=headers)
        assert answer.status_code in (200, 422)  # the form again, with its errors
        assert LANGUAGE_NEXT.findall(answer.get_data(as_text=True)) == [expected]


def test_an_expired_sign_in_page_is_shown_again_with_the_address_typed(
    client: FlaskClient, caseworker: User
) -> None:
    """Left open past its form's lifetime, the sign-in page answered a bare error page and
    lost what was typed: it is shown again, with the address and a fresh form."""
    client.get("/login")
    answer = client.post(
        "/login",
        data={"csrf_token": "expired", "email": "camille@relais.example", "password": "x"},
    )
    assert answer.status_code == 400
    page = html.unescape(answer.get_data(as_text=True))
    assert "La page de connexion avait expiré : connectez-vous de nouveau." in page
    assert 'value="camille@relais.example"' in page
    assert 'name="password"' in page
    assert 'value="x"' not in page
    login(client, "camille@relais.example")  # the fresh form works
    assert client.get("/people/").status_code == 200


def test_an_expired_sign_out_button_comes_back_to_its_page(
    client: FlaskClient, caseworker: User
) -> None:
    login(client, "camille@relais.example")
    answer = client.post(
        "/logout",
        data={"csrf_token": "expired"},
        headers={"Referer": "http://localhost/people/?sort=name"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/people/?sort=name"
    page = html.unescape(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "La page avait expiré : choisissez de nouveau Se déconnecter." in page
    assert client.get("/people/").status_code == 200  # still signed in, as nothing was sent
