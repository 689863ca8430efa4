"""Revision b5d7f9a1c3e8 (one pending hand-off per person, sender, receiver and purpose) on a
database that already holds identical pending hand-offs: it stops, changes nothing and names
the later ones; once they are closed it creates the indexes, which then refuse a repeat."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from app.extensions import make_engine
from tests.test_migrations import _migrate, just_before

PENDING = "b5d7f9a1c3e8"


def _handoff(connection: Connection, key: str, person: str, to: int, status: str, at: str) -> None:
    connection.execute(
        text(
            "INSERT INTO handoffs (id, beneficiary_id, from_structure_id, to_structure_id,"
            " purpose_stage_id, consent_confirmed, status, sent_at, version)"
            " VALUES (:id, :person, 1, :to,"
            " (SELECT id FROM reference_items WHERE kind = 'stage' AND code = 'training'),"
            " true, :status, :at, 1)"
        ),
        {"id": key, "person": person, "to": to, "status": status, "at": at},
    )


def test_duplicates_stop_the_upgrade_until_closed(app: Flask, db_url: str, tmp_path: Path) -> None:
    with just_before(app, db_url, tmp_path, PENDING) as (url, previous):
        engine = make_engine(url)
        sqlite = engine.dialect.name == "sqlite"

        def key(value: uuid.UUID) -> str:
            return value.hex if sqlite else str(value)

        def moment(value: str) -> str:
            return f"{value}.000000" if sqlite else f"{value}+00"

        person = key(uuid.uuid4())
        first, repeat, elsewhere, answered = (uuid.uuid4() for _ in range(4))
        try:
            with engine.begin() as connection:
                kind = connection.execute(
                    text("SELECT id FROM reference_items WHERE kind = 'structure_type' LIMIT 1")
                ).scalar_one()
                for n in (1, 2, 3):
                    connection.execute(
                        text(
                            "INSERT INTO structures (id, code, name, type_id, missions, contact,"
                            " city, active, created_at) VALUES (:id, :code, :code, :kind, '',"
                            " '', '', true, :at)"
                        ),
                        {
                            "id": n,
                            "code": f"MIG{n}",
                            "kind": kind,
                            "at": moment("2026-01-01 00:00:00"),
                        },
                    )
                connection.execute(
                    text(
                        "INSERT INTO beneficiaries (id, pseudonym, created_month,"
                        " created_by_structure_id, created_at)"
                        " VALUES (:id, 'P-MIGR-ATE2', '2026-01-01', 1, :at)"
                    ),
                    {"id": person, "at": moment("2026-01-05 10:00:00")},
                )
                _handoff(connection, key(first), person, 2, "sent", moment("2026-03-02 09:00:00"))
                _handoff(connection, key(repeat), person, 2, "sent", moment("2026-03-02 09:00:01"))
                _handoff(
                    connection, key(elsewhere), person, 3, "sent", moment("2026-03-02 09:00:02")
                )
                _handoff(
                    connection, key(answered), person, 2, "withdrawn", moment("2026-03-01 09:00:00")
                )
            with pytest.raises(RuntimeError, match="1 pending hand-off") as refused:
                _migrate(app, url, "upgrade", PENDING)
            assert repeat.hex in str(refused.value)
            assert first.hex not in str(refused.value)  # the oldest of the group is kept
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM handoffs")).scalar_one() == 4
                current = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert current.scalar_one() == previous

            with engine.begin() as connection:  # its sender withdraws the repeat
                connection.execute(
                    text("UPDATE handoffs SET status = 'withdrawn' WHERE id = :id"),
                    {"id": key(repeat)},
                )
            _migrate(app, url, "upgrade", PENDING)
            with pytest.raises(IntegrityError), engine.begin() as connection:
                _handoff(
                    connection, key(uuid.uuid4()), person, 2, "sent", moment("2026-03-03 09:00:00")
                )
            with engine.begin() as connection:  # another receiver, or a closed one: allowed
                _handoff(
                    connection,
                    key(uuid.uuid4()),
                    person,
                    2,
                    "expired",
                    moment("2026-03-04 09:00:00"),
                )
            _migrate(app, url, "downgrade", previous)
            with engine.begin() as connection:
                _handoff(
                    connection, key(uuid.uuid4()), person, 2, "sent", moment("2026-03-05 09:00:00")
                )
        finally:
            engine.dispose()
