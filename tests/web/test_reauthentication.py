"""Re-authentication before sensitive actions: erasure, exports, the password and the second
factor, an account's rights. A proof older than RELAIS_REAUTH_MINUTES sends the person to
``/account/confirm`` and back to where they were going."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, User
from app.services.security.vault import Vault
from app.settings import ConfigError, ProductionConfig, as_mapping
from tests import factories
from tests.rights_helpers import Network, network
from tests.web.helpers import csrf_token, login, login_failures, reauthenticate

PERIOD = "start=2026-01-01&end=2026-12-31"


def _stale(client: FlaskClient, app: Flask) -> None:
    """Make the last proof of identity older than the re-authentication window."""
    with client.session_transaction() as session:
        session["auth_at"] = int(time.time()) - app.config["REAUTH_MINUTES"] * 60 - 1


def _reload(db_session: Session, user: User) -> User:
    found = db_session.get(User, user.id)
    assert found is not None
    db_session.refresh(found)
    return found


def _sent_to_confirm(answer: TestResponse) -> str:
    """Where the confirmation page will send back to (asserting it is the confirmation)."""
    assert answer.status_code == 302
    parts = urlsplit(answer.location)
    assert parts.path == "/account/confirm"
    return parse_qs(parts.query)["next"][0]


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Network:
    found = network(db_session, vault)
    db_session.commit()
    return found


@pytest.fixture
def coordinator(db_session: Session) -> User:
    found = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    return found


@pytest.fixture
def admin(db_session: Session) -> User:
    found = factories.user(db_session, Role.ADMIN)
    db_session.commit()
    return found


def test_a_fresh_sign_in_needs_no_confirmation(client: FlaskClient, net: Network) -> None:
    login(client, net.worker_a.email)
    assert client.get(f"/people/{net.person.pseudonym}/erase").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/people/{p}/erase", "/people/{p}/access-report", "/account/password", "/account/two-factor"],
)
def test_caseworker_pages_ask_again_and_come_back(
    app: Flask, client: FlaskClient, net: Network, path: str
) -> None:
    login(client, net.worker_a.email)
    _stale(client, app)
    target = path.format(p=net.person.pseudonym)
    assert _sent_to_confirm(client.get(target)) == target
    answer = reauthenticate(client, net.worker_a.email, target)
    assert answer.status_code == 302
    assert answer.location == target
    assert client.get(target).status_code == 200


def test_an_erasure_posted_with_a_stale_proof_erases_nothing_and_returns_to_its_form(
    app: Flask, client: FlaskClient, db_session: Session, net: Network, tmp_path: Path
) -> None:
    app.config["ERASURE_REGISTER_PATH"] = str(tmp_path / "register.txt")
    try:
        login(client, net.worker_a.email)
        form = f"/people/{net.person.pseudonym}/erase"
        token = csrf_token(client, form)
        _stale(client, app)
        answer = client.post(form, data={"csrf_token": token, "confirm": net.person.pseudonym})
        assert _sent_to_confirm(answer) == form
        person = db_session.get(Beneficiary, net.person.id)
        assert person is not None
        db_session.refresh(person)
        assert person.erased_at is None
        reauthenticate(client, net.worker_a.email)
        token = csrf_token(client, form)
        done = client.post(form, data={"csrf_token": token, "confirm": net.person.pseudonym})
        assert done.status_code == 302
        erased = db_session.get(Beneficiary, net.person.id)
        assert erased is not None
        db_session.refresh(erased)
        assert erased.erased_at is not None
    finally:
        app.config["ERASURE_REGISTER_PATH"] = None


@pytest.mark.parametrize("suffix", ["access-report", "access-report.json"])
def test_subject_access_exports_posted_with_a_stale_proof_return_to_the_confirmation_page(
    app: Flask, client: FlaskClient, db_session: Session, net: Network, suffix: str
) -> None:
    login(client, net.worker_a.email)
    page = f"/people/{net.person.pseudonym}/access-report"
    token = csrf_token(client, page)
    _stale(client, app)
    answer = client.post(f"/people/{net.person.pseudonym}/{suffix}", data={"csrf_token": token})
    assert _sent_to_confirm(answer) == page
    exports = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "beneficiary:subject_access")
    ).all()
    assert exports == []


@pytest.mark.parametrize("name", ["funnel", "pathways"])
def test_dashboard_exports_ask_again_and_keep_their_period(
    app: Flask, client: FlaskClient, coordinator: User, name: str
) -> None:
    login(client, coordinator.email)
    _stale(client, app)
    target = f"/dashboard/export/{name}.csv?{PERIOD}"
    assert _sent_to_confirm(client.get(target)) == target
    answer = reauthenticate(client, coordinator.email, target)
    assert answer.location == target
    download = client.get(target)
    assert download.status_code == 200
    assert download.mimetype == "text/csv"


def test_an_administrator_changing_an_account_confirms_first(
    app: Flask, client: FlaskClient, db_session: Session, admin: User
) -> None:
    worker = factories.user(db_session)
    db_session.commit()
    login(client, admin.email)
    token = csrf_token(client, "/admin/users")
    _stale(client, app)
    answer = client.post(
        f"/directory/editors/{worker.id}", data={"csrf_token": token, "allowed": "y"}
    )
    assert _sent_to_confirm(answer) == "/admin/users"
    assert not _reload(db_session, worker).can_edit_card


def test_the_confirmation_needs_the_code_of_an_enrolled_account(
    app: Flask, client: FlaskClient, db_session: Session, coordinator: User
) -> None:
    login(client, coordinator.email)
    _stale(client, app)
    token = csrf_token(client, "/account/confirm")
    no_code = client.post(
        "/account/confirm",
        data={"password": factories.PASSWORD, "csrf_token": token, "next": "/account/password"},
    )
    assert no_code.status_code == 200
    assert "Le mot de passe ou le code est incorrect." in no_code.get_data(as_text=True)
    assert _sent_to_confirm(client.get("/account/password")) == "/account/password"
    assert login_failures(app, coordinator.email) == 1
    answer = reauthenticate(client, coordinator.email)
    assert answer.status_code == 302
    assert client.get("/account/password").status_code == 200
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.subject_id == str(coordinator.id))
    ).all()
    assert "user:reauthenticate" in actions


def test_wrong_passwords_at_the_confirmation_lock_and_sign_out(
    app: Flask, client: FlaskClient, db_session: Session, net: Network
) -> None:
    login(client, net.worker_a.email)
    _stale(client, app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        token = csrf_token(client, "/account/confirm")
        answer = client.post(
            "/account/confirm", data={"password": "not the right one at all", "csrf_token": token}
        )
    assert answer.status_code == 302
    assert urlsplit(answer.location).path == "/login"
    assert client.get("/people/").status_code == 302
    assert login_failures(app, net.worker_a.email) == app.config["LOGIN_MAX_FAILURES"]


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/x\r\nSet-Cookie: a=b"],
)
def test_the_confirmation_only_goes_back_to_local_pages(
    app: Flask, client: FlaskClient, net: Network, target: str
) -> None:
    login(client, net.worker_a.email)
    token = csrf_token(client, "/account/confirm")
    answer = client.post(
        "/account/confirm",
        data={"password": factories.PASSWORD, "csrf_token": token, "next": target},
    )
    assert answer.status_code == 302
    assert answer.location == "/"


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example/x", "/x\r\nX-A: b", "/\x00"])
def test_signing_in_only_goes_on_to_local_pages(
    client: FlaskClient, net: Network, target: str
) -> None:
    token = csrf_token(client)
    answer = client.post(
        "/login",
        data={
            "email": net.worker_a.email,
            "password": factories.PASSWORD,
            "csrf_token": token,
            "next": target,
        },
    )
    if "\x00" in target:  # refused before any view (app/web/request_guard.py)
        assert answer.status_code == 400
        return
    assert answer.status_code == 302
    assert answer.location == "/"


def test_a_proof_within_the_window_is_enough(
    app: Flask, client: FlaskClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "REAUTH_MINUTES", 30)
    login(client, net.worker_a.email)
    with client.session_transaction() as session:
        session["auth_at"] = int(time.time()) - 29 * 60
    assert client.get(f"/people/{net.person.pseudonym}/erase").status_code == 200
    with client.session_transaction() as session:
        session["auth_at"] = int(time.time()) - 31 * 60
    assert client.get(f"/people/{net.person.pseudonym}/erase").status_code == 302


@pytest.mark.parametrize(("raw", "expected"), [("15", 15), ("0", None), ("-3", None), ("x", None)])
def test_the_reauthentication_window_setting(raw: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match="RELAIS_REAUTH_MINUTES must"):
            as_mapping(ProductionConfig, {"RELAIS_REAUTH_MINUTES": raw})
    else:
        settings = as_mapping(ProductionConfig, {"RELAIS_REAUTH_MINUTES": raw})
        assert settings["REAUTH_MINUTES"] == expected
    assert ProductionConfig.REAUTH_MINUTES == 10
