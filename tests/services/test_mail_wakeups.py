"""The worker is woken by the commit that queued mail (PostgreSQL ``NOTIFY``, sent by the
outbox's trigger), or polls."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.mail.queue import MAIL_CHANNEL
from app.services.mail.worker import MailWakeups


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


@pytest.mark.postgres_only
def test_the_commit_that_queued_mail_wakes_the_worker_and_a_rollback_does_not(
    app: object,
) -> None:
    """The outbox's trigger notifies in the inserting transaction: a rolled-back one wakes
    nobody, a committed one wakes the worker once however many rows it queued, whoever queued
    them (a request, a command, a raw INSERT)."""
    plain = create_engine(db.engine.url)
    queued = text(
        "INSERT INTO mail_outbox (id, created_at, kind, to_address, locale, attempts)"
        " VALUES (:id, now(), 'handoff_sent', 'wake@relais.example', 'fr', 0)"
    )
    try:
        with MailWakeups(db.engine) as wakeups:
            assert wakeups.listening
            with plain.connect() as connection:
                connection.execute(queued, {"id": uuid.uuid4()})
                connection.rollback()
            assert wakeups.wait(0.2) is False
            with plain.begin() as connection:
                for _ in range(2):
                    connection.execute(queued, {"id": uuid.uuid4()})
            assert wakeups.wait(5) is True
            assert wakeups.wait(0.05) is False  # one wake-up for the transaction
    finally:
        with plain.begin() as connection:
            connection.execute(
                text("DELETE FROM mail_outbox WHERE to_address = 'wake@relais.example'")
            )
        plain.dispose()
