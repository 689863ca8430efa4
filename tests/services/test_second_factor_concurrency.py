"""One code, two requests at the same moment (PostgreSQL only): the conditional UPDATE of the
last step (and of a recovery code) lets exactly one of them through, on two connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.domain.roles import Role
from app.extensions import db
from app.models import RecoveryCode, User
from app.services.security import second_factor
from tests import factories
from tests.audit_log import mark_audit_log, rewind_audit_log

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def account(app: Flask) -> Iterator[tuple[int, list[str]]]:
    """A committed coordinator with a second factor and recovery codes; removed afterwards."""
    engine = db.engine
    with engine.connect() as connection:
        mark = mark_audit_log(connection)
    with Session(engine) as session:
        user = factories.user(session, Role.COORDINATOR)
        codes = second_factor.issue_recovery_codes(session, None, user, now=datetime.now(UTC))
        session.commit()
        user_id = user.id
    try:
        yield user_id, codes
    finally:
        with Session(engine) as session:
            rewind_audit_log(session, mark)
            session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
            session.execute(delete(User).where(User.id == user_id))
            session.commit()


def _race(user_id: int, code_for: str | None, keys: KeyRing) -> list[bool]:
    """Two connections check the same code at once; the first holds its transaction open
    until the second has started, then commits. The results, in order of the two."""
    results: list[bool] = [False, False]
    first_checked = threading.Event()
    now = datetime.now(UTC)

    def code(session: Session, user: User) -> str:
        if code_for is not None:
            return code_for
        enrolment = second_factor.enrolment(keys, user)
        assert enrolment is not None
        return second_factor.code_at(enrolment.seed, second_factor.time_step(now))

    def first() -> None:
        with Session(db.engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            results[0] = second_factor.check_code(session, keys, user, code(session, user), now=now)
            first_checked.set()
            second_started.wait(timeout=10)
            session.commit()

    second_started = threading.Event()

    def second() -> None:
        first_checked.wait(timeout=10)
        with Session(db.engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            text = code(session, user)
            second_started.set()
            # Blocks on the first transaction's row lock, then sees its step (or its use).
            results[1] = second_factor.check_code(session, keys, user, text, now=now)
            session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_a_totp_code_checked_twice_at_once_passes_once(
    app: Flask, account: tuple[int, list[str]]
) -> None:
    user_id, _codes = account
    assert _race(user_id, None, app.extensions["relais_vault"].keys) == [True, False]


def test_a_recovery_code_checked_twice_at_once_passes_once(
    app: Flask, account: tuple[int, list[str]]
) -> None:
    user_id, codes = account
    assert _race(user_id, codes[0], app.extensions["relais_vault"].keys) == [True, False]
