"""Audit events wait on the session and are chained at commit: the chain's lock is held for
that moment only, a rollback discards them, and the people a page listed stay findable."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.extensions import make_engine
from app.models import AuditChainHead, AuditEvent, Base, User
from app.services.security import audit, audit_check, audit_people, audit_queue
from tests import factories
from tests.audit_log import (
    assert_concurrent_writers_chain,
    drop_audit_guards,
    mark_audit_log,
    rewind_audit_log,
)


def _head_seq(session: Session) -> int:
    return int(session.execute(text("SELECT seq FROM audit_chain_head WHERE id = 1")).scalar_one())


def _view(session: Session, worker: User, n: int = 0) -> AuditEvent:
    return audit.record(
        session, worker, AuditAction.PATHWAY_VIEW, worker, beneficiary_id=uuid.uuid4(), n=n
    )


def _list(session: Session, worker: User, people: list[uuid.UUID]) -> AuditEvent | None:
    return audit.record_many(
        session, worker, AuditAction.BENEFICIARY_REVEAL, [(worker, p) for p in people]
    )


# -- the queue -------------------------------------------------------------------------------


def test_an_event_is_chained_only_when_the_transaction_reads_the_log_or_commits(
    db_session: Session,
) -> None:
    worker = factories.user(db_session)
    db_session.commit()
    # Through the connection, which the queue does not watch: the chain has not moved.
    before = db_session.connection().execute(select(AuditChainHead.seq)).scalar_one()
    event = _view(db_session, worker)
    db_session.flush()
    assert (event.seq, event.mac, event.id) == (None, None, None)
    assert db_session.connection().execute(select(AuditChainHead.seq)).scalar_one() == before
    db_session.commit()
    assert event.seq == before + 1
    assert event.id is not None
    assert len(event.mac or b"") == 32
    assert db_session.get_one(AuditEvent, event.id).seq == event.seq


def test_a_read_of_the_log_sees_the_transaction_s_own_events(db_session: Session) -> None:
    worker = factories.user(db_session)
    event = _view(db_session, worker)
    found = db_session.scalars(select(AuditEvent).where(AuditEvent.id.is_not(None))).all()
    assert event in found
    assert event.seq == _head_seq(db_session)


def test_a_rollback_discards_the_queued_events(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.commit()
    before = _head_seq(db_session)
    _view(db_session, worker)
    _list(db_session, worker, [uuid.uuid4(), uuid.uuid4()])
    db_session.rollback()
    _view(db_session, worker, 1)  # the next transaction's only event
    db_session.commit()
    assert _head_seq(db_session) == before + 1
    rows = db_session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [row.data for row in rows] == [{"n": 1}]
    assert audit_check.verify_chain(db_session).intact


def test_a_rolled_back_savepoint_discards_its_own_events_only(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.commit()
    before = _head_seq(db_session)
    kept = _view(db_session, worker, 1)
    failed = db_session.begin_nested()  # what ``unit_of_work.attempt`` does for a use case
    _view(db_session, worker, 2)
    _head_seq(db_session)  # chained inside the savepoint, ``kept`` with it
    failed.rollback()
    assert kept.seq is None  # its row went with the savepoint: queued again
    released = db_session.begin_nested()
    _view(db_session, worker, 3)
    released.commit()
    db_session.commit()
    rows = db_session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [row.data for row in rows] == [{"n": 1}, {"n": 3}]
    assert kept.seq == before + 1
    assert audit_check.verify_chain(db_session).intact


def test_a_commit_with_a_savepoint_still_open_chains_every_event(db_session: Session) -> None:
    # ``Session.commit()`` commits the outermost transaction and the savepoints still open
    # inside it: their events are committed with it, so they are chained with it.
    worker = factories.user(db_session)
    db_session.commit()
    before = _head_seq(db_session)
    _view(db_session, worker, 1)
    db_session.begin_nested()
    _view(db_session, worker, 2)
    db_session.begin_nested()
    _view(db_session, worker, 3)
    db_session.commit()
    rows = db_session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [row.data for row in rows] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert _head_seq(db_session) == before + 3
    assert audit_check.verify_chain(db_session).intact


def test_bulk_appends_come_after_the_events_queued_before_them(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.commit()
    before = _head_seq(db_session)
    _view(db_session, worker, 1)
    audit.append_many(db_session, [{"action": "a:b", "subject_type": "t", "subject_id": "2"}])
    _view(db_session, worker, 3)
    db_session.commit()
    rows = db_session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [row.data.get("n") or row.subject_id for row in rows] == [1, "2", 3]


# -- the people a page listed ------------------------------------------------------------------


def test_a_listing_event_is_found_for_each_person_and_only_them(db_session: Session) -> None:
    worker = factories.user(db_session)
    shown, other = [uuid.uuid4() for _ in range(3)], uuid.uuid4()
    event = _list(db_session, worker, shown)
    _view(db_session, worker)
    db_session.commit()
    assert event is not None
    for person in shown:
        assert db_session.scalars(audit_people.about_person(person)).all() == [event.seq]
    assert db_session.scalars(audit_people.about_person(other)).all() == []
    assert audit_check.verify_chain(db_session).intact


@pytest.mark.parametrize(
    ("sql", "at"),
    [
        ("DELETE FROM audit_event_people WHERE beneficiary_id = :hidden", "listing"),
        ("INSERT INTO audit_event_people (seq, beneficiary_id) VALUES (:other, :hidden)", "other"),
        (
            "INSERT INTO audit_event_people (seq, beneficiary_id) VALUES (:beyond, :hidden)",
            "beyond",
        ),
    ],
)
def test_a_changed_people_index_is_detected(db_session: Session, sql: str, at: str) -> None:
    worker = factories.user(db_session)
    hidden = uuid.uuid4()
    listing = _list(db_session, worker, [uuid.uuid4(), hidden])
    other = _view(db_session, worker)
    db_session.commit()
    assert listing is not None
    assert audit_check.verify_chain(db_session).intact
    drop_audit_guards(db_session)
    places = {"listing": listing.seq, "other": other.seq, "beyond": other.seq + 5}
    db_session.execute(
        text(sql), {"hidden": hidden.hex, "other": other.seq, "beyond": places["beyond"]}
    )
    broken = audit_check.verify_chain(db_session).broken
    assert broken is not None
    assert broken.seq == places[at]
    assert "people index" in broken.reason


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_event_people SET seq = seq + 1", "DELETE FROM audit_event_people"]
)
def test_the_database_refuses_to_change_the_people_index(db_session: Session, sql: str) -> None:
    worker = factories.user(db_session)
    _list(db_session, worker, [uuid.uuid4(), uuid.uuid4()])
    db_session.flush()
    _head_seq(db_session)
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text(sql))
    nested.rollback()


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_a_transaction_with_queued_events_does_not_hold_the_lock(app: Flask) -> None:
    """Before commit, a transaction's events wait on its session: another transaction that
    audits and commits meanwhile is not blocked (it would wait for the advisory lock if the
    first held it); then the first commits after it, and the chain has no gap."""
    from app.extensions import db

    engine: Engine = db.engine
    with engine.connect() as connection:
        mark = mark_audit_log(connection)
    try:
        with Session(engine) as first, Session(engine) as second:
            first.execute(text("SELECT 1"))
            audit.record(first, None, AuditAction.PATHWAY_VIEW, AuditChainHead(id=1), n=1)
            first.flush()
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(second, None, AuditAction.PATHWAY_VIEW, AuditChainHead(id=1), n=2)
            second.commit()  # would fail with "lock timeout" if first held the chain's lock
            first.commit()
        with Session(engine) as check:
            assert audit_check.verify_chain(check).intact
            rows = check.scalars(select(AuditEvent).where(AuditEvent.seq > mark.seq)).all()
            assert [(row.seq, row.data) for row in rows] == [
                (mark.seq + 1, {"n": 2}),
                (mark.seq + 2, {"n": 1}),
            ]
    finally:
        with Session(engine) as session:
            rewind_audit_log(session, mark)
            session.commit()


@pytest.mark.postgres_only
def test_concurrent_page_views_keep_the_chain_gapless(app: Flask) -> None:
    from app.extensions import db

    def view(session: Session, n: int) -> None:
        for i in range(5):
            session.execute(text("SELECT pg_sleep(0.001)"))  # the page's reads
            audit.record(session, None, AuditAction.PATHWAY_VIEW, AuditChainHead(id=1), n=n, i=i)
            audit.record_many(
                session,
                None,
                AuditAction.BENEFICIARY_REVEAL,
                [(AuditChainHead(id=1), uuid.uuid4()) for _ in range(3)],
            )
            session.commit()

    assert_concurrent_writers_chain(db.engine, 12, 120, view)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_on_sqlite_a_page_view_that_only_read_commits_after_another_writer(
    app: Flask, sqlite_file: Engine
) -> None:
    """A page view reads (its snapshot), another request writes and commits, then the page's
    queued events are chained at its commit: it does not fail with "database is locked"."""
    row = {"action": "a:b", "subject_type": "t", "subject_id": "1"}
    with Session(sqlite_file) as page, Session(sqlite_file) as other:
        audit.append_many(other, [row])
        other.commit()
        page.execute(text("SELECT count(*) FROM structures")).all()  # the page's snapshot
        audit.record(page, None, AuditAction.PATHWAY_VIEW, AuditChainHead(id=1), n=1)
        audit.append_many(other, [row, row])
        other.commit()
        page.commit()
        report = audit_check.verify_chain(page)
        assert (report.intact, report.rows) == (True, 4)


def test_on_sqlite_concurrent_page_views_all_commit(app: Flask, sqlite_file: Engine) -> None:
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def view(n: int) -> None:
        try:
            with Session(sqlite_file) as session:
                start.wait()
                for i in range(4):
                    session.execute(text("SELECT count(*) FROM audit_events")).all()
                    audit.record(
                        session, None, AuditAction.PATHWAY_VIEW, AuditChainHead(id=1), n=n, i=i
                    )
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=view, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with Session(sqlite_file) as check:
        report = audit_check.verify_chain(check)
        assert (report.intact, report.rows) == (True, 24)


def test_reads_of_the_audit_tables_are_found_once_per_statement_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every statement of a transaction with events queued is checked for a read of the audit
    tables; the expression tree of a shape seen before is not walked again, and shapes that
    differ in their tables (a join, a subquery) are told apart."""
    walked: list[object] = []
    original = audit_queue.find_tables

    def counted(*args: object, **kwargs: object) -> object:
        walked.append(args[0])
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_queue, "find_tables", counted)
    audit_queue._SHAPES.clear()
    person = uuid.uuid4()
    for _time in range(3):
        assert audit_queue._reads_audit(
            select(AuditEvent).where(AuditEvent.beneficiary_id == person)
        )
        assert not audit_queue._reads_audit(select(User).where(User.id == 7))
        inside = select(AuditEvent.actor_id).scalar_subquery()
        assert audit_queue._reads_audit(select(User).where(User.id.in_(inside)))
        person = uuid.uuid4()  # other values, the same shapes
    assert len(walked) == 3
    assert audit_queue._reads_audit(text("SELECT seq FROM audit_chain_head"))
