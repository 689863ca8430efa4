"""How ``BulkInserts`` sends its rows: one ``executemany`` on SQLite, except into a table with an
INSERT trigger (``audit_events``), where each statement carries many rows; ``COPY`` on
PostgreSQL. The rows stored are the same either way (``test_writing`` compares them column by
column with registration's)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Uuid,
    select,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import AuditEvent, PersonKey, User
from app.models.base import UTCDateTime
from app.services.imports import bulk
from app.services.imports.audit_rows import audit_row
from app.services.imports.bulk import BulkInserts
from app.services.security import audit, audit_check, audit_people
from app.services.security.vault import Vault
from tests import factories
from tests.services.imports.helpers import GOOD, HEADER, csv_file, run
from tests.sql_count import count_queries


def inserts_into(shapes: list[str], table: str) -> list[str]:
    return [shape for shape in shapes if shape.startswith(f"INSERT INTO {table} ")]


def test_audit_events_are_inserted_many_rows_a_statement_and_chain_as_before(
    db_session: Session, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "SQLITE_ROWS", 2)
    subjects = [str(uuid.uuid4()) for _ in range(5)]
    events = [
        audit_row(worker, AuditAction.IMPORT, "import", subject, people=n)
        for n, subject in enumerate(subjects)
    ]
    audit.append_many(db_session, [])  # the events queued by the fixtures, chained first
    with count_queries() as queries:
        assert audit.append_many(db_session, events, write=BulkInserts(db_session)) == 5
    sent = inserts_into(queries.statements, "audit_events")
    if queries.dialect == "sqlite":
        # Five rows, two a statement: three INSERTs with 2, 2 and 1 rows of values.
        assert [statement.count("), (") + 1 for statement in sent] == [2, 2, 1]
    else:
        assert sent == []  # a COPY, through the driver
    stored = db_session.scalars(
        select(AuditEvent).where(AuditEvent.subject_id.in_(subjects)).order_by(AuditEvent.seq)
    ).all()
    assert [event.subject_id for event in stored] == subjects
    assert [event.data for event in stored] == [{"people": n} for n in range(5)]
    assert audit_check.verify_chain(db_session).intact


def test_a_table_with_triggers_on_update_and_delete_only_gets_one_executemany(
    db_session: Session,
) -> None:
    rows: list[dict[str, Any]] = [
        {"beneficiary_id": uuid.uuid4(), "seq": 10**12 + n} for n in range(5)
    ]
    people: Table = audit_people.PEOPLE
    with count_queries() as queries:
        BulkInserts(db_session)(people, rows)
    sent = inserts_into(queries.statements, people.name)
    if queries.dialect == "sqlite":
        assert len(sent) == 1
        assert sent[0].count("), (") == 0  # the rows go as an executemany of one statement
    else:
        assert sent == []
    stored = db_session.scalars(
        select(people.c.seq).where(people.c.seq >= 10**12).order_by(people.c.seq)
    ).all()
    assert stored == [row["seq"] for row in rows]


def test_a_place_already_taken_is_refused_within_a_multi_row_insert_on_sqlite(
    db_session: Session, worker: User
) -> None:
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("the trigger refusing a taken place is SQLite's (PostgreSQL: audit verify)")
    audit.append_many(db_session, [audit_row(worker, AuditAction.IMPORT, "import", "first")])
    taken = db_session.scalars(select(AuditEvent).where(AuditEvent.subject_id == "first")).one()
    row = audit_row(worker, AuditAction.IMPORT, "import", "second")
    row.update(seq=taken.seq, mac=b"\0" * 32, at=taken.at, data={})
    fresh = {**row, "seq": taken.seq + 10**9, "subject_id": "third"}
    with pytest.raises(IntegrityError, match="this seq is taken"):
        BulkInserts(db_session)(cast(Table, AuditEvent.__table__), [fresh, row])
    db_session.rollback()


def test_a_held_back_import_writes_its_lookup_events_in_bulk_too(
    db_session: Session, vault: Vault, worker: User
) -> None:
    """Held back by a possible duplicate, the import still audits its lookup (an event for
    the person decrypted, one for the lookup): the events go as the import's own do."""
    factories.person(db_session, vault, worker)
    audit.append_many(db_session, [])  # the events queued by the fixtures, chained first
    db_session.flush()
    with count_queries() as queries:
        assert run(db_session, vault, worker, csv_file(HEADER, GOOD)).needs_confirmation
    sent = inserts_into(queries.statements, "audit_events")
    if queries.dialect == "sqlite":
        assert [statement.count("), (") + 1 for statement in sent] == [2]
    else:
        assert sent == []
    assert audit_check.verify_chain(db_session).intact


def _probe(name: str, *extra: Column[Any]) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("label", String(5)),
        Column("blob", LargeBinary),
        Column("day", Date),
        Column("at", UTCDateTime),
        Column("flag", Boolean),
        Column("data", JSON),
        Column("small", SmallInteger),
        Column("big", BigInteger),
        *extra,
    )


def _probe_rows(count: int, **more: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "label": "é" * (n % 6),
            "blob": bytes(range(n, n + 40)),
            "day": date(2026, 11, 1 + n),
            "at": datetime(2026, 11, 25, 8, n, tzinfo=UTC),
            "flag": n % 2 == 0,
            "data": {"people": [str(n)], "n": n},
            "small": -n,
            "big": 2**40 + n,
            **more,
        }
        for n in range(count)
    ]
    rows.append(dict.fromkeys(rows[0]) | {"id": uuid.uuid4()})  # NULLs
    return rows


def _stored(session: Session, table: Table) -> list[dict[str, Any]]:
    return [dict(row) for row in session.execute(select(table).order_by(table.c.id)).mappings()]


def test_copy_is_binary_when_every_column_has_a_binary_form_and_stores_the_same_values(
    db_session: Session,
) -> None:
    table = _probe("bulk_probe")
    table.create(db_session.connection())
    rows = _probe_rows(5)
    inserts = BulkInserts(db_session)
    inserts(table, rows)
    assert _stored(db_session, table) == sorted(rows, key=lambda row: row["id"])
    (statement,) = inserts._statements.values()
    if db_session.get_bind().dialect.name == "postgresql":
        assert statement.sql.endswith("FROM STDIN (FORMAT BINARY)")
        assert len(statement.types) == len(statement.columns)
    else:
        assert statement.types == ()


def test_copy_is_text_when_a_column_has_another_type_and_stores_the_same_values(
    db_session: Session,
) -> None:
    table = _probe("bulk_probe_numeric", Column("amount", Numeric(8, 2)))
    table.create(db_session.connection())
    rows = _probe_rows(3, amount=Decimal("12.50"))
    inserts = BulkInserts(db_session)
    inserts(table, rows)
    assert _stored(db_session, table) == sorted(rows, key=lambda row: row["id"])
    (statement,) = inserts._statements.values()
    assert statement.types == ()
    assert "BINARY" not in statement.sql


def test_a_binary_copy_still_checks_lengths_and_foreign_keys(db_session: Session) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("a COPY is PostgreSQL's (and SQLite does not check a VARCHAR's length)")
    table = _probe("bulk_probe_checks")
    table.create(db_session.connection())
    too_long = _probe_rows(1)[0] | {"label": "abcdef"}
    with pytest.raises(DataError, match="too long") as caught:
        BulkInserts(db_session)(table, [too_long])
    assert "abcdef" not in str(caught.value)
    db_session.rollback()
    key = {
        "beneficiary_id": uuid.uuid4(),  # no such person
        "kek_id": "k1",
        "wrapped_key": b"\1" * 40,
        "created_at": datetime.now(UTC),
        "rotation_requested": False,
    }
    with pytest.raises(IntegrityError, match="foreign key|FOREIGN KEY"):
        BulkInserts(db_session)(cast(Table, PersonKey.__table__), [key])
    db_session.rollback()
