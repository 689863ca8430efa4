"""Revision 7a3d2c1b9e01 on a database with audit rows: they become the legacy segment, kept
by the later revisions (the monthly partitions of e6b8d0f2a4c7) up and down."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import make_engine
from app.services.security import audit, audit_check, audit_mac
from tests.test_migrations import _migrate, _scratch_database

BEFORE = "3c5e1f7a9b20"
CHAIN = "7a3d2c1b9e01"


def test_existing_rows_are_numbered_then_sealed(app: Flask, db_url: str, tmp_path: Path) -> None:
    with _scratch_database(db_url, tmp_path) as url:
        _migrate(app, url, "upgrade", BEFORE)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                for n in (3, 1, 2):  # ids in insertion order, whatever the subjects
                    connection.execute(
                        text(
                            "INSERT INTO audit_events (at, action, subject_type, subject_id, data)"
                            " VALUES (:at, 'user:login', 'users', :s, '{}')"
                        ),
                        {"at": f"2026-01-0{n} 00:00:00", "s": str(n)},
                    )
            _migrate(app, url, "upgrade", CHAIN)
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT seq, subject_id, mac FROM audit_events ORDER BY id")
                ).all()
                assert [(r.seq, r.subject_id, r.mac) for r in rows] == [
                    (1, "3", None),
                    (2, "1", None),
                    (3, "2", None),
                ]
                head = connection.execute(text("SELECT * FROM audit_chain_head")).one()
                assert (head.id, head.seq, head.legacy_until) == (1, 3, 3)
                assert bytes(head.mac) == audit_mac.GENESIS_MAC
            # The later revisions keep them (on PostgreSQL, copied into monthly partitions).
            _migrate(app, url, "upgrade", "head")
            with Session(engine) as session:
                report = audit_check.verify_chain(session)
                assert (report.intact, report.legacy_rows, report.legacy_sealed) == (
                    True,
                    3,
                    False,
                )
                assert audit_check.seal_legacy(session) == 3
                audit.append_many(
                    session, [{"action": "user:login", "subject_type": "users", "subject_id": "4"}]
                )
                session.commit()
                report = audit_check.verify_chain(session)
                assert (report.intact, report.rows, report.legacy_sealed) == (True, 5, True)
            with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text("DELETE FROM audit_events WHERE seq = 1"))
            _migrate(app, url, "downgrade", BEFORE)
            with engine.connect() as connection:
                columns = connection.execute(text("SELECT * FROM audit_events")).keys()
                assert "seq" not in columns
                assert "mac" not in columns
                count = connection.execute(text("SELECT count(*) FROM audit_events"))
                assert count.scalar_one() == 5
                connection.execute(text("DELETE FROM audit_events"))  # no trigger any more
        finally:
            engine.dispose()
