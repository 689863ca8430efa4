"""The audit log is a hash chain: any edit, deletion, reordering or truncation is detected."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.extensions import make_engine
from app.models import AuditChainHead, AuditEvent, Base, User
from app.services.errors import Conflict
from app.services.security import audit, audit_check, audit_mac
from tests import factories
from tests.audit_log import (
    assert_concurrent_writers_chain,
    drop_audit_guards,
)


def _events(
    session: Session, count: int, worker: User | None = None
) -> tuple[User, list[AuditEvent]]:
    worker = worker or factories.user(session)
    events = [
        audit.record(
            session,
            worker,
            AuditAction.PATHWAY_VIEW,
            worker,
            beneficiary_id=uuid.uuid4(),
            purpose="person_page",
            n=i,
            note="é ü",
        )
        for i in range(count)
    ]
    session.flush()
    return worker, events


def _head(session: Session) -> AuditChainHead:
    session.expire_all()
    return session.get_one(AuditChainHead, 1)


def _broken(session: Session) -> audit_check.BrokenRow:
    report = audit_check.verify_chain(session)
    assert report.broken is not None
    return report.broken


# -- writing -----------------------------------------------------------------------------


def test_rows_are_numbered_without_gaps_and_the_head_follows(db_session: Session) -> None:
    worker = factories.user(db_session)  # writes events too
    db_session.flush()
    start = _head(db_session).seq
    _events(db_session, 3, worker)
    added = audit.append_many(
        db_session,
        [{"action": "beneficiary:create", "subject_type": "x", "subject_id": str(i)} for i in "ab"],
    )
    assert added == 2
    rows = db_session.scalars(select(AuditEvent).where(AuditEvent.seq > start)).all()
    assert sorted(r.seq for r in rows) == list(range(start + 1, start + 6))
    assert all(r.mac is not None and len(r.mac) == 32 for r in rows)
    head = _head(db_session)
    last = max(rows, key=lambda r: r.seq)
    assert (head.seq, head.mac) == (last.seq, last.mac)
    assert audit_check.verify_chain(db_session).intact


def test_record_and_bulk_appends_interleave_in_one_transaction(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.flush()
    # record() adds ORM objects that are flushed later; the head already counts them.
    audit.record(db_session, worker, AuditAction.PATHWAY_VIEW, worker)
    audit.append_many(db_session, [{"action": "a:b", "subject_type": "t", "subject_id": "1"}])
    audit.record(db_session, worker, AuditAction.PATHWAY_VIEW, worker)
    written: list[list[dict[str, Any]]] = []

    def writer(table: Any, rows: list[dict[str, Any]]) -> None:
        written.append(rows)
        db_session.execute(table.insert(), rows)

    shared = {"import_id": "x"}
    rows = [
        {"action": "a:b", "subject_type": "t", "subject_id": str(i), "data": shared}
        for i in range(3)
    ]
    assert audit.append_many(db_session, rows, write=writer) == 3
    assert [len(batch) for batch in written] == [3]
    assert audit_check.verify_chain(db_session).intact


def test_a_rolled_back_savepoint_takes_its_rows_and_head_move_with_it(db_session: Session) -> None:
    worker, _ = _events(db_session, 1)
    before = _head(db_session).seq
    nested = db_session.begin_nested()
    _events(db_session, 2, worker)
    assert _head(db_session).seq == before + 2
    nested.rollback()
    assert _head(db_session).seq == before
    _events(db_session, 1, worker)  # the same places are given again
    assert _head(db_session).seq == before + 1
    assert audit_check.verify_chain(db_session).intact


def test_the_mac_covers_every_column_the_place_and_the_previous_mac() -> None:
    key = bytes(range(32))
    row: dict[str, Any] = {
        "at": datetime(2026, 11, 25, 21, 30, 0, 123456, tzinfo=UTC),
        "actor_id": 7,
        "actor_structure_id": 3,
        "action": "beneficiary:reveal",
        "subject_type": "beneficiaries",
        "subject_id": "5f0c2d1e-0000-4000-8000-000000000001",
        "beneficiary_id": uuid.UUID("5f0c2d1e-0000-4000-8000-000000000001"),
        "purpose": "person_page",
        "data": {"b": 2, "a": "é"},
    }
    mac = audit_mac.row_mac(key, 5, bytes(32), row)
    # A known answer: the encoding is a stored format, it must not drift.
    message = (
        b"relais-audit-v1"
        + (5).to_bytes(8, "big")
        + (32).to_bytes(4, "big")
        + bytes(32)
        + b"".join(
            len(p).to_bytes(4, "big") + p
            for p in (
                b"2026-11-25T21:30:00.123456Z",
                b"7",
                b"3",
                b"beneficiary:reveal",
                b"beneficiaries",
                b"5f0c2d1e-0000-4000-8000-000000000001",
                b"5f0c2d1e000040008000000000000001",
                b"person_page",
                '{"a":"é","b":2}'.encode(),
            )
        )
    )
    assert mac == hmac.new(key, message, hashlib.sha256).digest()
    # Same content, keys of data in another order: same MAC.
    assert audit_mac.row_mac(key, 5, bytes(32), {**row, "data": {"a": "é", "b": 2}}) == mac
    changes: list[tuple[str, Any]] = [
        ("at", datetime(2026, 11, 25, 21, 30, 0, 123457, tzinfo=UTC)),
        ("actor_id", None),
        ("actor_structure_id", 4),
        ("action", "beneficiary:update"),
        ("subject_type", "beneficiarie"),
        ("subject_id", "5f0c2d1e-0000-4000-8000-000000000002"),
        ("beneficiary_id", None),
        ("purpose", None),
        ("data", {"b": 2, "a": "e"}),
    ]
    assert {name for name, _ in changes} == set(audit_mac.COLUMNS)
    for name, value in changes:
        assert audit_mac.row_mac(key, 5, bytes(32), {**row, name: value}) != mac, name
    assert audit_mac.row_mac(key, 6, bytes(32), row) != mac
    assert audit_mac.row_mac(key, 5, b"\x01" * 32, row) != mac
    assert audit_mac.row_mac(bytes(range(1, 33)), 5, bytes(32), row) != mac
    # NULL and an empty string are told apart.
    assert audit_mac.row_mac(key, 5, bytes(32), {**row, "purpose": ""}) != audit_mac.row_mac(
        key, 5, bytes(32), {**row, "purpose": None}
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        audit_mac.row_mac(bytes(32), 1, bytes(32), {"at": datetime(2026, 1, 1)})  # noqa: DTZ001


# -- tampering (guards dropped for the test, restored by its rollback) ---------------------


@dataclass(frozen=True)
class Ref:
    seq: int
    id: int
    mac: bytes


@pytest.fixture
def chain(db_session: Session) -> list[Ref]:
    """Six chained events, flushed, with the guard triggers dropped."""
    _, events = _events(db_session, 6)
    assert audit_check.verify_chain(db_session).intact
    drop_audit_guards(db_session)
    return [Ref(e.seq, e.id, bytes(e.mac or b"")) for e in events]


def _exec(session: Session, sql: str, **params: Any) -> None:
    session.execute(text(sql), params)
    session.expire_all()


def test_an_edited_column_is_named(db_session: Session, chain: list[Ref]) -> None:
    target = chain[2]
    _exec(db_session, "UPDATE audit_events SET purpose = 'caseload' WHERE id = :id", id=target.id)
    broken = _broken(db_session)
    assert (broken.seq, broken.id) == (target.seq, target.id)
    assert "MAC" in broken.reason


def test_edited_data_is_detected(db_session: Session, chain: list[Ref]) -> None:
    target = chain[4]
    _exec(db_session, "UPDATE audit_events SET data = '{\"n\": 99}' WHERE id = :id", id=target.id)
    assert _broken(db_session).seq == target.seq


def test_a_replaced_mac_is_detected(db_session: Session, chain: list[Ref]) -> None:
    target = chain[1]
    _exec(
        db_session,
        "UPDATE audit_events SET mac = :mac WHERE id = :id",
        mac=b"\0" * 32,
        id=target.id,
    )
    assert _broken(db_session).seq == target.seq
    _exec(db_session, "UPDATE audit_events SET mac = NULL WHERE id = :id", id=target.id)
    broken = _broken(db_session)
    assert broken.seq == target.seq
    assert "no MAC" in broken.reason


def test_a_deleted_row_is_named(db_session: Session, chain: list[Ref]) -> None:
    gone, next_ = chain[3], chain[4]
    _exec(db_session, "DELETE FROM audit_events WHERE id = :id", id=gone.id)
    broken = _broken(db_session)
    assert (broken.seq, broken.id) == (next_.seq, next_.id)
    assert f"from seq {gone.seq}" in broken.reason


def test_reordered_rows_are_detected(db_session: Session, chain: list[Ref]) -> None:
    first, second = chain[1], chain[2]
    # Swap their places (through a free value: seq is unique).
    _exec(db_session, "UPDATE audit_events SET seq = -1 WHERE id = :id", id=first.id)
    _exec(db_session, "UPDATE audit_events SET seq = :s WHERE id = :id", s=first.seq, id=second.id)
    _exec(db_session, "UPDATE audit_events SET seq = :s WHERE id = :id", s=second.seq, id=first.id)
    broken = _broken(db_session)
    assert (broken.seq, broken.id) == (first.seq, second.id)


def test_swapped_contents_are_detected(db_session: Session, chain: list[Ref]) -> None:
    first, second = chain[0], chain[5]
    for a, b in ((first, second), (second, first)):
        _exec(
            db_session,
            "UPDATE audit_events SET mac = :mac WHERE id = :id",
            mac=b.mac,
            id=a.id,
        )
    assert _broken(db_session).seq == first.seq


def test_a_truncated_tail_is_detected(db_session: Session, chain: list[Ref]) -> None:
    last_kept = chain[3]
    _exec(db_session, "DELETE FROM audit_events WHERE seq > :seq", seq=last_kept.seq)
    broken = _broken(db_session)
    assert broken.seq == last_kept.seq + 1
    assert "removed from the end" in broken.reason


def test_a_row_appended_behind_the_chain_s_back_is_detected(
    db_session: Session, chain: list[Ref]
) -> None:
    last = chain[-1]
    _exec(
        db_session,
        "INSERT INTO audit_events (seq, mac, at, action, subject_type, subject_id, data)"
        " VALUES (:seq, :mac, :at, 'user:login', 'users', '1', '{}')",
        seq=last.seq + 1,
        mac=bytes(32),
        at=datetime.now(UTC).replace(tzinfo=None),
    )
    broken = _broken(db_session)
    assert broken.seq == last.seq + 1
    assert "beyond the chain head" in broken.reason


def test_a_last_row_replaced_with_its_head_is_detected(
    db_session: Session, chain: list[Ref]
) -> None:
    last = chain[-1]
    _exec(db_session, "UPDATE audit_chain_head SET mac = :mac WHERE id = 1", mac=bytes(32))
    broken = _broken(db_session)
    assert broken.seq == last.seq
    assert "head" in broken.reason


def test_a_missing_head_is_detected(db_session: Session, chain: list[Ref]) -> None:
    _exec(db_session, "DELETE FROM audit_chain_head")
    assert "head is missing" in _broken(db_session).reason
    with pytest.raises(RuntimeError, match="head is missing"):
        audit.append_many(db_session, [{"action": "a:b", "subject_type": "t", "subject_id": "1"}])


# -- the guard triggers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET purpose = 'x'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_chain_head",
        "UPDATE audit_chain_head SET seq = seq - 1",
        "UPDATE audit_chain_head SET legacy_until = legacy_until + 1",
    ],
)
def test_the_database_refuses_to_change_the_log(db_session: Session, sql: str) -> None:
    _events(db_session, 2)
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        db_session.execute(text(sql))
    nested.rollback()
    message = str(caught.value.orig)
    assert (
        "append-only" in message
        or "only moves forward" in message
        or "cannot be deleted" in message
    )
    assert audit_check.verify_chain(db_session).intact


def test_postgresql_refuses_truncate(db_session: Session) -> None:
    if db_session.connection().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE: DELETE without WHERE meets the DELETE trigger")
    for table in ("audit_events", "audit_chain_head"):
        nested = db_session.begin_nested()
        with pytest.raises(DBAPIError, match="TRUNCATE refused"):
            db_session.execute(text(f"TRUNCATE {table}"))
        nested.rollback()


# -- the legacy segment ------------------------------------------------------------------


def _legacy_log(session: Session, rows: int) -> None:
    """Make the log look as the migration leaves it: ``rows`` rows without MAC, then nothing."""
    drop_audit_guards(session)
    session.execute(text("DELETE FROM audit_events"))
    session.execute(
        text("UPDATE audit_chain_head SET seq = :n, mac = :g, legacy_until = :n WHERE id = 1"),
        {"n": rows, "g": audit_mac.GENESIS_MAC},
    )
    for seq in range(1, rows + 1):
        session.execute(
            text(
                "INSERT INTO audit_events (seq, at, action, subject_type, subject_id, data)"
                " VALUES (:seq, :at, 'user:login', 'users', :s, '{\"n\": 1}')"
            ),
            {
                "seq": seq,
                "at": datetime(2026, 1, seq, tzinfo=UTC).replace(tzinfo=None),
                "s": str(seq),
            },
        )
    session.expire_all()


def test_legacy_rows_are_reported_until_sealed_then_covered(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.flush()
    _legacy_log(db_session, 4)
    report = audit_check.verify_chain(db_session)
    assert report.intact
    assert (report.rows, report.legacy_rows, report.legacy_sealed) == (4, 4, False)
    _events(db_session, 2, worker)  # new rows chain after the legacy segment
    assert audit_check.seal_legacy(db_session) == 4
    report = audit_check.verify_chain(db_session)
    assert report.intact
    assert (report.rows, report.legacy_sealed) == (7, True)
    with pytest.raises(Conflict):
        audit_check.seal_legacy(db_session)
    # A legacy row edited after the seal: the seal names the break.
    _exec(db_session, "UPDATE audit_events SET subject_id = '9' WHERE seq = 2")
    broken = _broken(db_session)
    seal = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_SEAL_LEGACY.value)
    ).one()
    assert broken.seq == seal.seq
    assert "legacy rows" in broken.reason


def test_the_legacy_boundary_cannot_be_moved_silently(db_session: Session) -> None:
    worker = factories.user(db_session)
    db_session.flush()
    _legacy_log(db_session, 2)
    _events(db_session, 2, worker)
    _exec(db_session, "UPDATE audit_chain_head SET legacy_until = 3 WHERE id = 1")
    broken = _broken(db_session)
    assert broken.seq == 3
    assert "legacy segment" in broken.reason
    _exec(db_session, "UPDATE audit_chain_head SET legacy_until = 1 WHERE id = 1")
    broken = _broken(db_session)
    assert (broken.seq, broken.reason) == (2, "the row has no MAC")


def test_nothing_to_seal_without_legacy_rows(db_session: Session) -> None:
    _legacy_log(db_session, 0)
    with pytest.raises(Conflict):
        audit_check.seal_legacy(db_session)


# -- concurrent writers --------------------------------------------------------------------


@pytest.mark.postgres_only
def test_twenty_concurrent_writers_never_fork_the_chain(app: Flask) -> None:
    from app.extensions import db

    def write(session: Session, n: int) -> None:
        for i in range(5):
            audit.append_many(
                session, [{"action": "a:b", "subject_type": "t", "subject_id": f"{n}-{i}"}] * 2
            )
            session.commit()

    assert_concurrent_writers_chain(db.engine, 20, 200, write)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'chain.sqlite3'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_on_sqlite_a_stale_writer_never_forks(app: Flask, sqlite_file: Engine) -> None:
    """SQLite serialises writers. A transaction that read the head before another writer
    committed, and has changed nothing, starts again as ``BEGIN IMMEDIATE`` before it chains:
    it appends after the newest head. One that has changed rows keeps its transaction and the
    write lock: the other writer waits, then fails ("database is locked"); nothing forks."""
    row = {"action": "a:b", "subject_type": "t", "subject_id": "1"}
    with Session(sqlite_file) as first, Session(sqlite_file) as second:
        audit.append_many(first, [row])  # the head row is created
        first.commit()
        first.execute(select(AuditChainHead.seq)).all()  # first now reads a snapshot
        audit.append_many(second, [row, row])
        second.commit()
        audit.append_many(first, [row])  # restarted: after second's rows, not beside them
        first.commit()
        assert first.scalar(select(AuditChainHead.seq)) == 4
        first.rollback()
        audit.append_many(first, [row])  # first has written: it holds the write lock
        second.connection().exec_driver_sql("PRAGMA busy_timeout=100")
        with pytest.raises(OperationalError, match="locked"):
            audit.append_many(second, [row])
        second.rollback()
        first.commit()
        report = audit_check.verify_chain(first)
        assert report.intact
        assert report.rows == 5
