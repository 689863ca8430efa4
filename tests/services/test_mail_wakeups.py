"""The worker is woken by the commit that queued mail (PostgreSQL ``NOTIFY``), or polls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.mail.queue import MAIL_CHANNEL, announce_queued_mail, forget_queued_mail
from app.services.mail.worker import MailWakeups
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def statements(db_session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _queue_one(db_session: Session, vault: Vault) -> None:
    a = factories.structure(db_session, "WKA")
    b = factories.structure(db_session, "WKB")
    sender = factories.user(db_session, structure_=a)
    factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, sender)
    factories.handoff(db_session, vault, sender, person, b)


def test_only_a_transaction_that_queued_mail_is_announced(
    db_session: Session, vault: Vault, statements: list[str]
) -> None:
    announce_queued_mail(db_session)  # nothing queued
    assert not [s for s in statements if "NOTIFY" in s]
    _queue_one(db_session, vault)
    announce_queued_mail(db_session)
    notified = [s for s in statements if "NOTIFY" in s]
    if db_session.get_bind().dialect.name == "postgresql":
        assert notified == [f"NOTIFY {MAIL_CHANNEL}"]
    else:
        assert notified == []  # SQLite: the worker polls
    statements.clear()
    announce_queued_mail(db_session)  # announced once, not at every later commit
    assert not [s for s in statements if "NOTIFY" in s]


def test_a_rollback_forgets_the_queued_mail(
    db_session: Session, vault: Vault, statements: list[str]
) -> None:
    _queue_one(db_session, vault)
    forget_queued_mail(db_session)
    announce_queued_mail(db_session)
    assert not [s for s in statements if "NOTIFY" in s]


def test_without_postgresql_the_worker_polls(app: object, db_session: Session) -> None:
    if db.engine.dialect.name == "postgresql":
        pytest.skip("SQLite only")
    with MailWakeups(db.engine) as wakeups:
        assert not wakeups.listening
        assert wakeups.wait(0.01) is False


@pytest.mark.postgres_only
def test_a_committed_notify_wakes_the_worker(app: object) -> None:
    plain = create_engine(db.engine.url)
    try:
        with MailWakeups(db.engine) as wakeups:
            assert wakeups.listening
            assert wakeups.wait(0.05) is False  # nothing announced yet
            # Two announcements committed together (distinct payloads: PostgreSQL folds
            # identical ones), delivered at the commit, in one go: two autocommitted ones may
            # reach the worker one after the other on a loaded machine.
            with plain.begin() as connection:
                connection.exec_driver_sql(f"NOTIFY {MAIL_CHANNEL}, 'first'")
                connection.exec_driver_sql(f"NOTIFY {MAIL_CHANNEL}, 'second'")
            assert wakeups.wait(5) is True
            assert wakeups.wait(0.05) is False  # both notifications were taken at once
    finally:
        plain.dispose()
