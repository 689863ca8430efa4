"""Wrong passwords sent all at once (PostgreSQL only): every failure is counted (one atomic
``failures = failures + 1`` each), the login ends in back-off, and the right password then
fails. Before, 15 wrong passwords and the right one sent at once signed in 3 times out of 3
and left the account at ``failed_logins=0``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import LoginThrottle, Structure, User, UserSession
from app.services.security.throttling import attempt_keys
from tests import factories
from tests.audit_log import AuditMark, mark_audit_log, rewind_audit_log
from tests.web.helpers import csrf_token

pytestmark = pytest.mark.postgres_only

PARALLEL = 16


@dataclass
class Account:
    email: str
    user_id: int
    structure_id: int
    mark: AuditMark


@pytest.fixture
def account(app: Flask) -> Iterator[Account]:
    with db.engine.connect() as connection:
        mark = mark_audit_log(connection)
    with Session(db.engine) as session:
        user = factories.user(session, email=f"para-{uuid.uuid4().hex[:8]}@relais.example")
        session.commit()
        found = Account(user.email, user.id, user.structure_id or 0, mark)
    try:
        yield found
    finally:
        with Session(db.engine) as session:
            rewind_audit_log(session, found.mark)
            keys = attempt_keys(app.config["SECRET_KEY"], found.email, "127.0.0.1")
            session.execute(
                delete(LoginThrottle).where(LoginThrottle.key.in_(keys.__dict__.values()))
            )
            session.execute(delete(UserSession).where(UserSession.user_id == found.user_id))
            session.execute(delete(User).where(User.id == found.user_id))
            session.execute(delete(Structure).where(Structure.id == found.structure_id))
            session.commit()


def _failures(app: Flask, email: str) -> int:
    key = attempt_keys(app.config["SECRET_KEY"], email, "127.0.0.1").account
    with Session(db.engine) as session:
        return session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) or 0


def _at_once(app: Flask, email: str, passwords: list[str]) -> list[int]:
    """Each password posted by its own client, all released at the same moment."""
    clients = [app.test_client() for _ in passwords]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(len(passwords))
    statuses: list[int] = []

    def post(client: FlaskClient, token: str, password: str) -> None:
        start.wait()
        data = {"email": email, "password": password, "csrf_token": token}
        statuses.append(client.post("/login", data=data).status_code)

    threads = [
        threading.Thread(target=post, args=args)
        for args in zip(clients, tokens, passwords, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == len(passwords)
    return statuses


def _right_password_now(app: Flask, email: str) -> tuple[int, int]:
    client = app.test_client()
    token = csrf_token(client)
    data = {"email": email, "password": factories.PASSWORD, "csrf_token": token}
    return client.post("/login", data=data).status_code, client.get("/people/").status_code


def test_sixteen_parallel_wrong_passwords_lock_the_account(app: Flask, account: Account) -> None:
    statuses = _at_once(app, account.email, ["not the right password"] * PARALLEL)
    assert set(statuses) <= {200, 429}
    processed = statuses.count(200)  # checked, wrong; the others refused before hashing
    assert processed >= 5
    assert _failures(app, account.email) == processed  # not one lost
    assert _right_password_now(app, account.email) == (429, 302)  # refused, not signed in


def test_the_right_password_among_wrong_ones_leaves_every_failure_counted(
    app: Flask, account: Account
) -> None:
    passwords = ["not the right password"] * (PARALLEL - 1) + [factories.PASSWORD]
    statuses = _at_once(app, account.email, passwords)
    assert set(statuses) <= {200, 302, 429}
    assert statuses.count(200) >= 5
    if 302 in statuses:
        # Checked before the limit was crossed: that sign-in cleared the login's counter, and
        # the failures committed after it start a new count.
        assert _failures(app, account.email) <= statuses.count(200)
        return
    # Refused: after the hashing (the check made again) or before it. Every wrong one counted.
    assert _failures(app, account.email) == statuses.count(200)
    assert _right_password_now(app, account.email) == (429, 302)
