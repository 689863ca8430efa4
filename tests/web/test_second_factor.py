"""The TOTP second factor in the browser's shoes: enrolment, the code after the password,
recovery codes, mandatory enrolment of coordinators and administrators."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.crypto import DecryptionError
from app.domain.roles import Role
from app.models import AuditEvent, RecoveryCode, User
from app.services.security import second_factor
from tests import factories
from tests.web.helpers import (
    KEEP_ALIVE_SCRIPT,
    csrf_token,
    duplicate_ids,
    enter_code,
    fresh_code,
    login,
    login_failures,
)

CODES = re.compile(r"<code>([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})</code>")


def _path(location: str | None) -> str:
    return urlsplit(location or "").path


def _user(db_session: Session, email: str) -> User:
    found = db_session.scalar(select(User).where(User.email == email))
    assert found is not None
    db_session.refresh(found)
    return found


def _seed(app: Flask, db_session: Session, email: str) -> str:
    enrolment = second_factor.enrolment(
        app.extensions["relais_vault"].keys, _user(db_session, email)
    )
    assert enrolment is not None
    return enrolment.seed


def _password_step(client: FlaskClient, email: str) -> str:
    token = csrf_token(client)
    answer = client.post(
        "/login", data={"email": email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    return _path(answer.location)


def _start(client: FlaskClient) -> None:
    """Press "Start" on the enrolment page (the seed is made by that POST, not by the GET)."""
    token = csrf_token(client, "/account/two-factor")
    answer = client.post("/account/two-factor/start", data={"csrf_token": token})
    assert answer.status_code == 302


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/people/").status_code == 200


def _actions(db_session: Session, user: User) -> list[str]:
    rows = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.subject_type == "users", AuditEvent.subject_id == str(user.id))
        .order_by(AuditEvent.seq)
    )
    return list(rows)


@pytest.fixture
def worker(db_session: Session) -> User:
    """A caseworker (second factor optional) without one yet."""
    found = factories.user(db_session)
    db_session.commit()
    return found


@pytest.fixture
def enrolled(db_session: Session) -> User:
    """A caseworker who chose a second factor."""
    found = factories.user(db_session, second_factor_=True)
    db_session.commit()
    return found


# -- enrolment -------------------------------------------------------------------------------


def test_enrolment_shows_an_svg_qr_code_and_the_key_and_needs_a_first_code(
    app: Flask, client: FlaskClient, db_session: Session, worker: User
) -> None:
    login(client, worker.email)
    start = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" not in start
    assert _user(db_session, worker.email).second_factor_seed is None
    _start(client)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert '<svg width="' in page
    assert 'class="qr-code"' in page
    # No script draws the code: the page's only script is the keep-alive of signed-in pages.
    assert re.findall(r"<script[^>]*>", page.lower()) == [KEEP_ALIVE_SCRIPT]
    seed = _seed(app, db_session, worker.email)
    assert " ".join(seed[i : i + 4] for i in range(0, len(seed), 4)) in page
    assert not _user(db_session, worker.email).has_second_factor

    # The same seed until it is confirmed (a reload does not change it).
    client.get("/account/two-factor")
    assert _seed(app, db_session, worker.email) == seed

    token = csrf_token(client, "/account/two-factor")
    wrong = client.post("/account/two-factor", data={"code": "000000", "csrf_token": token})
    assert "Saisissez le code actuel" in wrong.get_data(as_text=True)
    assert not _user(db_session, worker.email).has_second_factor

    step = second_factor.time_step(datetime.now(UTC))
    token = csrf_token(client, "/account/two-factor")
    right = client.post(
        "/account/two-factor",
        data={"code": second_factor.code_at(seed, step), "csrf_token": token},
    )
    assert right.status_code == 200
    codes = CODES.findall(right.get_data(as_text=True))
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT == len(set(codes))
    account = _user(db_session, worker.email)
    assert account.has_second_factor
    assert account.second_factor_step == step
    assert "user:second_factor_enable" in _actions(db_session, account)


def test_turning_the_second_factor_on_ends_the_sessions_opened_without_it(
    app: Flask, client: FlaskClient, db_session: Session, worker: User
) -> None:
    elsewhere = app.test_client()
    login(elsewhere, worker.email)
    assert elsewhere.get("/account/contact").status_code == 200
    login(client, worker.email)
    _start(client)
    seed = _seed(app, db_session, worker.email)
    right = client.post(
        "/account/two-factor",
        data={
            "code": second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC))),
            "csrf_token": csrf_token(client, "/account/two-factor"),
        },
    )
    assert right.status_code == 200
    assert "1 autre session a été fermée" in html.unescape(right.get_data(as_text=True))
    # The browser signed in with the password alone is signed out; this one goes on.
    assert elsewhere.get("/account/contact").status_code == 302
    assert client.get("/account/contact").status_code == 200
    assert "user:session_end" in _actions(db_session, _user(db_session, worker.email))


def test_the_seed_and_the_recovery_codes_are_not_in_clear_in_the_database(
    app: Flask, client: FlaskClient, db_session: Session, worker: User
) -> None:
    login(client, worker.email)
    _start(client)
    seed = _seed(app, db_session, worker.email)
    token = csrf_token(client, "/account/two-factor")
    code = second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC)))
    page = client.post("/account/two-factor", data={"code": code, "csrf_token": token})
    codes = CODES.findall(page.get_data(as_text=True))
    raw_user = db_session.execute(
        text("SELECT * FROM users WHERE id = :id"), {"id": worker.id}
    ).one()
    raw_codes = db_session.execute(
        text("SELECT * FROM recovery_codes WHERE user_id = :id"), {"id": worker.id}
    ).all()
    dump = repr(raw_user) + repr(raw_codes)
    assert len(raw_codes) == len(codes)
    for secret in (seed, seed.lower(), *codes, *(c.replace("-", "") for c in codes)):
        assert secret not in dump
        assert secret.encode() not in b"".join(
            bytes(v) for v in raw_user if isinstance(v, bytes | memoryview)
        )


def test_a_sealed_seed_copied_to_another_account_does_not_open(
    app: Flask, db_session: Session, enrolled: User, worker: User
) -> None:
    keys = app.extensions["relais_vault"].keys
    worker.second_factor_kek = enrolled.second_factor_kek
    worker.second_factor_key = enrolled.second_factor_key
    worker.second_factor_seed = enrolled.second_factor_seed
    with pytest.raises(DecryptionError):
        second_factor.enrolment(keys, worker)


# -- the second step of signing in -----------------------------------------------------------


def test_the_password_alone_does_not_sign_in_an_enrolled_account(
    client: FlaskClient, enrolled: User
) -> None:
    assert _password_step(client, enrolled.email) == "/login/code"
    assert not _signed_in(client)
    assert client.get("/login/code").status_code == 200


def test_a_right_code_signs_in_once_and_cannot_be_used_again(
    app: Flask, client: FlaskClient, db_session: Session, enrolled: User
) -> None:
    code = fresh_code(app, enrolled.email)
    _password_step(client, enrolled.email)
    answer = enter_code(client, code)
    assert answer.status_code == 302
    assert _path(answer.location) == "/"
    assert _signed_in(client)
    assert "user:login" in _actions(db_session, enrolled)

    other = app.test_client()
    _password_step(other, enrolled.email)
    again = enter_code(other, code)
    assert again.status_code == 200
    assert "pas valide ou a déjà été utilisé" in again.get_data(as_text=True)
    assert not _signed_in(other)
    assert login_failures(app, enrolled.email) == 1


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_codes_are_accepted_one_step_either_side_only(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    enrolled: User,
    offset: int,
    accepted: bool,
) -> None:
    seed = _seed(app, db_session, enrolled.email)
    _password_step(client, enrolled.email)
    step = second_factor.time_step(datetime.now(UTC)) + offset
    answer = enter_code(client, second_factor.code_at(seed, step))
    assert (answer.status_code == 302) is accepted
    assert _signed_in(client) is accepted


def test_a_code_older_than_the_last_one_used_is_refused(
    app: Flask, client: FlaskClient, db_session: Session, enrolled: User
) -> None:
    seed = _seed(app, db_session, enrolled.email)
    step = second_factor.time_step(datetime.now(UTC))
    _password_step(client, enrolled.email)
    assert enter_code(client, second_factor.code_at(seed, step + 1)).status_code == 302
    other = app.test_client()
    _password_step(other, enrolled.email)
    # The current step's code is still within the window, but earlier than the one used.
    assert enter_code(other, second_factor.code_at(seed, step)).status_code == 200
    assert not _signed_in(other)


def test_wrong_codes_count_as_failures_and_lock_the_account(
    app: Flask, client: FlaskClient, db_session: Session, enrolled: User
) -> None:
    limit = app.config["LOGIN_MAX_FAILURES"]
    for attempt in range(limit - 1):
        # Typing the password again does not reset the count of wrong codes.
        _password_step(client, enrolled.email)
        wrong = enter_code(client, "123456" if attempt % 2 else "999999")
        assert wrong.status_code == 200
    assert login_failures(app, enrolled.email) == limit - 1
    _password_step(client, enrolled.email)
    locked = enter_code(client, "000001")
    assert locked.status_code == 302
    assert _path(locked.location) == "/login"
    assert login_failures(app, enrolled.email) == limit
    # Locked: the password step fails now, and so would the right code.
    token = csrf_token(client)
    answer = client.post(
        "/login",
        data={"email": enrolled.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 429  # the login's back-off, before the password is checked
    assert not _signed_in(client)
    assert _actions(db_session, enrolled).count("user:second_factor_failed") == limit


def test_wrong_codes_from_ever_new_addresses_end_in_the_full_back_off(
    app: Flask, db_session: Session, enrolled: User
) -> None:
    """Someone who has the password tries a code a minute, each from a new address. The
    login's delay was shortened to a minute for an address without failures of its own (so
    that a stranger guessing a password cannot lock its owner out), codes included: about
    1,440 codes a day, 0.4 % a day of hitting one of the three accepted. Wrong codes now have
    a counter of their own, whose delay is never shortened."""
    from app.models import LoginThrottle

    def a_minute_later() -> None:
        for row in db_session.scalars(select(LoginThrottle)):
            row.last_failure_at -= timedelta(seconds=61)
        db_session.commit()

    wrong = "000000" if fresh_code(app, enrolled.email) != "000000" else "000001"
    for attempt in range(12):
        a_minute_later()
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        assert _password_step(attacker, enrolled.email) == "/login/code"
        token = csrf_token(attacker)
        attacker.post("/login/code", data={"code": wrong, "csrf_token": token})
    checked = _actions(db_session, enrolled).count("user:second_factor_failed")
    assert 5 <= checked < 12  # the codes checked: soon one every few minutes, then 15
    # A minute after the last try, from yet another address, even the right code is refused.
    a_minute_later()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert _password_step(attacker, enrolled.email) == "/login/code"
    token = csrf_token(attacker)
    right = fresh_code(app, enrolled.email)
    answer = attacker.post("/login/code", data={"code": right, "csrf_token": token})
    assert _path(answer.location) == "/login"
    assert not _signed_in(attacker)


def test_the_second_step_expires(client: FlaskClient, enrolled: User) -> None:
    _password_step(client, enrolled.email)
    with client.session_transaction() as session:
        session["second_step"] = {**session["second_step"], "until": int(time.time()) - 1}
    answer = client.get("/login/code")
    assert answer.status_code == 302
    assert _path(answer.location) == "/login"


def test_the_second_step_needs_the_password_step_first(client: FlaskClient) -> None:
    answer = client.get("/login/code")
    assert answer.status_code == 302
    assert _path(answer.location) == "/login"


def test_a_recovery_code_signs_in_once_and_is_audited(
    app: Flask, client: FlaskClient, db_session: Session, enrolled: User
) -> None:
    codes = second_factor.issue_recovery_codes(db_session, None, enrolled, now=datetime.now(UTC))
    db_session.commit()
    _password_step(client, enrolled.email)
    assert enter_code(client, codes[3].lower().replace("-", " ")).status_code == 302
    assert _signed_in(client)
    used = db_session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == enrolled.id, RecoveryCode.used_at.is_not(None)
        )
    ).all()
    assert len(used) == 1
    assert "user:recovery_code_use" in _actions(db_session, enrolled)

    other = app.test_client()
    _password_step(other, enrolled.email)
    assert enter_code(other, codes[3]).status_code == 200
    assert not _signed_in(other)
    assert enter_code(other, codes[4]).status_code == 302


# -- mandatory enrolment ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_coordinators_and_administrators_must_enrol_before_anything_else(
    app: Flask, client: FlaskClient, db_session: Session, role: Role
) -> None:
    account = factories.user(db_session, role, second_factor_=False)
    db_session.commit()
    answer = login(client, account.email)
    # The pages the role may open (any other is a 404 before the gate: app/web/access.py).
    own_page = "/dashboard/" if role is Role.COORDINATOR else "/admin/users"
    for path in ("/", own_page, "/directory/", "/account/password"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert _path(page.location) == "/account/two-factor", path
    assert client.get("/account/two-factor").status_code == 200
    assert answer.status_code == 302

    _start(client)
    seed = _seed(app, db_session, account.email)
    token = csrf_token(client, "/account/two-factor")
    code = second_factor.code_at(seed, second_factor.time_step(datetime.now(UTC)))
    client.post("/account/two-factor", data={"code": code, "csrf_token": token})
    home = "/dashboard/" if role is Role.COORDINATOR else "/admin/users"
    assert client.get(home).status_code == 200


def test_a_caseworker_without_a_second_factor_is_not_held_back(
    client: FlaskClient, worker: User
) -> None:
    login(client, worker.email)
    assert _signed_in(client)


def test_one_s_own_recovery_codes_and_reset_from_the_account_page(
    client: FlaskClient, db_session: Session, enrolled: User
) -> None:
    login(client, enrolled.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "0 code de secours encore utilisable" in page
    token = csrf_token(client, "/account/two-factor")
    fresh = client.post("/account/two-factor/recovery-codes", data={"csrf_token": token})
    assert len(CODES.findall(fresh.get_data(as_text=True))) == second_factor.RECOVERY_CODE_COUNT
    assert "10 codes de secours encore utilisables" in client.get("/account/two-factor").get_data(
        as_text=True
    )

    token = csrf_token(client, "/account/two-factor")
    answer = client.post("/account/two-factor/reset", data={"csrf_token": token})
    assert answer.status_code == 302
    account = _user(db_session, enrolled.email)
    assert not account.has_second_factor
    assert account.second_factor_seed is None
    actions = _actions(db_session, account)
    assert "user:recovery_codes_issue" in actions
    assert "user:second_factor_reset" in actions
    # The next sign-in needs the password only.
    other = client.application.test_client()
    assert _password_step(other, enrolled.email) == "/"


def test_the_second_factor_page_has_unique_ids(client: FlaskClient, enrolled: User) -> None:
    # Its two forms each carry the CSRF token: a label or a link to a duplicated id reaches
    # the first element only (RGAA 8.2).
    login(client, enrolled.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert duplicate_ids(page) == []


def test_an_administrator_resets_a_colleague_s_second_factor_from_the_accounts_page(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    colleague = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    theirs = app.test_client()
    login(theirs, colleague.email)
    assert theirs.get("/dashboard/").status_code == 200

    login(client, admin.email)
    page = client.get("/admin/users").get_data(as_text=True)
    action = f"/admin/users/{colleague.id}/second-factor/reset"
    assert action in page
    # A confirmation page first: the button of the list only leads there.
    confirm = client.get(action)
    assert confirm.status_code == 200
    assert 'id="reset-second-factor-form"' in confirm.get_data(as_text=True)
    token = csrf_token(client, action)
    unconfirmed = client.post(action, data={"csrf_token": token})
    assert unconfirmed.status_code == 200  # the page again: nothing done
    assert _user(db_session, colleague.email).has_second_factor
    answer = client.post(action, data={"csrf_token": token, "confirmed": "y"})
    assert answer.status_code == 302
    account = _user(db_session, colleague.email)
    assert not account.has_second_factor
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user:second_factor_reset",
            AuditEvent.subject_id == str(colleague.id),
        )
    ).one()
    assert event.actor_id == admin.id
    # The colleague's session ended; at the next sign-in, the enrolment page only.
    assert theirs.get("/dashboard/").status_code == 302
    login(theirs, colleague.email)
    assert _path(theirs.get("/dashboard/").location) == "/account/two-factor"
    # Not for other roles, and not for unknown accounts.
    assert client.post("/admin/users/999999/second-factor/reset", data={}).status_code in (
        400,
        404,
    )
    # Not for a coordinator: the route is the administrator's (app/web/access.py).
    blocked = theirs.post(action, data={"csrf_token": csrf_token(theirs, "/account/two-factor")})
    assert blocked.status_code == 404


def test_a_caseworker_cannot_reset_anyone(
    client: FlaskClient, enrolled: User, worker: User
) -> None:
    login(client, worker.email)
    token = csrf_token(client, "/account/confirm")
    answer = client.post(
        f"/admin/users/{enrolled.id}/second-factor/reset", data={"csrf_token": token}
    )
    assert answer.status_code == 404


def test_an_account_number_out_of_range_is_no_account(
    client: FlaskClient, db_session: Session
) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    db_session.commit()
    login(client, admin.email)
    token = csrf_token(client, "/admin/users")
    for number in ("9" * 400, str(2**31), "0"):
        answer = client.post(
            f"/admin/users/{number}/second-factor/reset", data={"csrf_token": token}
        )
        assert answer.status_code == 404, number
