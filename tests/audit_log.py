"""Test helpers around the tamper-evident audit log: its guard triggers, and rewinding it.

The audit tables refuse UPDATE and DELETE (migration ``7a3d2c1b9e01``). Tests that tamper
with rows on purpose drop the triggers inside their own rolled-back transaction (DDL is
transactional on SQLite and PostgreSQL, so the rollback brings them back).

Tests that must *commit* (PostgreSQL concurrency) leave audit rows behind. ``rewind_audit_log``
removes them the way a database owner does maintenance: in one transaction, the triggers are
disabled, the rows after a mark deleted, the head put back, and the triggers enabled again;
``ALTER TABLE`` takes an exclusive lock, so no other session ever sees the table unguarded.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.services.security import audit_check, audit_people

SQLITE_TRIGGERS = {
    "audit_events_no_update": "audit_events",
    "audit_events_no_delete": "audit_events",
    "audit_chain_head_no_delete": "audit_chain_head",
    "audit_chain_head_forward_only": "audit_chain_head",
    "audit_seals_no_update": "audit_seals",
    "audit_seals_no_delete": "audit_seals",
    "audit_event_people_no_update": "audit_event_people",
    "audit_event_people_no_delete": "audit_event_people",
}
POSTGRESQL_TRIGGERS = {
    "audit_events_no_update_delete": "audit_events",
    "audit_events_no_truncate": "audit_events",
    "audit_chain_head_guard": "audit_chain_head",
    "audit_chain_head_no_truncate": "audit_chain_head",
    "audit_seals_no_update_delete": "audit_seals",
    "audit_seals_no_truncate": "audit_seals",
    "audit_event_people_no_update_delete": "audit_event_people",
    "audit_event_people_no_truncate": "audit_event_people",
}


def drop_audit_guards(session: Session) -> None:
    """Drop the guard triggers in the session's transaction (the test's rollback restores them)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    else:
        for name, table in POSTGRESQL_TRIGGERS.items():
            connection.exec_driver_sql(f"DROP TRIGGER {name} ON {table}")


@dataclass(frozen=True)
class AuditMark:
    seq: int
    mac: bytes
    seals: frozenset[str] = frozenset()


def mark_audit_log(connection: Connection) -> AuditMark:
    """Where the committed chain ends now."""
    row = connection.execute(text("SELECT seq, mac FROM audit_chain_head WHERE id = 1")).one()
    seals = connection.execute(text("SELECT month FROM audit_seals")).scalars()
    return AuditMark(int(row.seq), bytes(row.mac), frozenset(seals))


def rewind_audit_log(session: Session, mark: AuditMark) -> int:
    """Delete the audit rows and seals added after ``mark`` and put the head back (PostgreSQL).

    Returns how many rows were removed. The caller commits.
    """
    connection = session.connection()
    assert connection.dialect.name == "postgresql", "committed-data tests run on PostgreSQL"
    for name, table in POSTGRESQL_TRIGGERS.items():
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    connection.execute(text("DELETE FROM audit_event_people WHERE seq > :seq"), {"seq": mark.seq})
    removed = connection.execute(
        text("DELETE FROM audit_events WHERE seq > :seq"), {"seq": mark.seq}
    ).rowcount
    connection.execute(
        text("UPDATE audit_chain_head SET seq = :seq, mac = :mac WHERE id = 1"),
        {"seq": mark.seq, "mac": mark.mac},
    )
    for month in connection.execute(text("SELECT month FROM audit_seals")).scalars().all():
        if month not in mark.seals:
            connection.execute(text("DELETE FROM audit_seals WHERE month = :m"), {"m": month})
    for name, table in POSTGRESQL_TRIGGERS.items():
        connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
    return int(removed)


def people_shown(events: Iterable[AuditEvent]) -> list[uuid.UUID | None]:
    """The people ``events`` are about, in order: an event's own person, or each person a page's
    event lists (``audit.record_many``)."""
    shown: list[uuid.UUID | None] = []
    for event in events:
        listed = audit_people.listed(event.data)
        shown.extend(listed if listed else [event.beneficiary_id])
    return shown


def assert_concurrent_writers_chain(
    engine: Engine, writers: int, rows: int, write: Callable[[Session, int], None]
) -> None:
    """Run ``write(session, n)`` in ``writers`` threads started together (each on its own
    session, committing itself), then check that the log grew by exactly ``rows`` places,
    without a gap or a fork, and verifies; the rows are removed again (PostgreSQL)."""
    with engine.connect() as connection:
        mark = mark_audit_log(connection)
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with Session(engine) as session:
                start.wait()
                write(session, n)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors
        with Session(engine) as check:
            assert audit_check.verify_chain(check).intact
            seqs = check.scalars(select(AuditEvent.seq).where(AuditEvent.seq > mark.seq)).all()
            assert sorted(seqs) == list(range(mark.seq + 1, mark.seq + rows + 1))
    finally:
        with Session(engine) as session:
            assert rewind_audit_log(session, mark) == rows
            session.commit()
