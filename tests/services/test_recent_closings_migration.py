"""Revision 3143533e8839 (the work queue's recent closings): a declined or expired hand-off
without ``closed_at`` gets the moment the list read for it (``answered_at``, else
``sent_at``) and the French day of it as ``closed_on``; other rows keep theirs; the index is
created, and dropped by the downgrade, which keeps the moments."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import Connection, text

from app.extensions import make_engine
from tests.migration_rows import closings, raw_rows
from tests.test_migrations import _migrate, just_before

CLOSINGS = "3143533e8839"


def _indexes(connection: Connection) -> set[str | None]:
    return {index["name"] for index in sa.inspect(connection).get_indexes("handoffs")}


def test_closings_back_filled_then_indexed(app: Flask, db_url: str, tmp_path: Path) -> None:
    with just_before(app, db_url, tmp_path, CLOSINGS) as (url, previous):
        engine = make_engine(url)
        rows = raw_rows(engine)
        key, moment = rows.key, rows.moment
        declined, expired, kept, withdrawn = (uuid.uuid4() for _ in range(4))
        try:
            with engine.begin() as connection:
                rows.structures(connection, "CLOS")
                person = rows.person(connection, "P-CLOS-ING5")
                # (id, status, sent, answered, closed, closed on)
                for handoff, status, sent, answered, closed, closed_on in (
                    (
                        declined,
                        "declined",
                        "2026-03-01 09:00:00",
                        "2026-03-04 16:00:00",
                        None,
                        None,
                    ),
                    # Sent at 23:30 UTC: 00:30 the next day in Paris.
                    (expired, "expired", "2026-03-01 23:30:00", None, None, None),
                    (
                        kept,
                        "declined",
                        "2026-03-02 09:00:00",
                        "2026-03-10 08:00:00",
                        "2026-03-10 08:00:00",
                        "2026-03-09",
                    ),
                    (withdrawn, "withdrawn", "2026-03-03 09:00:00", None, None, None),
                ):
                    connection.execute(
                        text(
                            "INSERT INTO handoffs (id, beneficiary_id, from_structure_id,"
                            " to_structure_id, purpose_stage_id, consent_confirmed, status,"
                            " decline_reason_id, sent_at, answered_at, closed_at, closed_on,"
                            " version) VALUES (:id, :person, 1, 2,"
                            " (SELECT id FROM reference_items WHERE kind = 'stage'"
                            " AND code = 'training'), true, :status,"
                            " (SELECT id FROM reference_items WHERE kind = 'decline_reason'"
                            " AND code = 'no_capacity'), :sent, :answered, :closed, :closed_on,"
                            " 1)"
                        ),
                        {
                            "id": key(handoff),
                            "person": person,
                            "status": status,
                            "sent": moment(sent),
                            "answered": moment(answered),
                            "closed": moment(closed),
                            "closed_on": closed_on,
                        },
                    )
            _migrate(app, url, "upgrade", CLOSINGS)
            expected = {
                declined: (datetime(2026, 3, 4, 16, 0, tzinfo=UTC), date(2026, 3, 4)),
                expired: (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), date(2026, 3, 2)),
                kept: (datetime(2026, 3, 10, 8, 0, tzinfo=UTC), date(2026, 3, 9)),
                withdrawn: (None, None),  # not a list's concern: left as it was
            }
            with engine.connect() as connection:
                assert closings(connection) == expected
                assert "ix_handoffs_outbox_closed" in _indexes(connection)
            _migrate(app, url, "downgrade", previous)
            with engine.connect() as connection:
                assert "ix_handoffs_outbox_closed" not in _indexes(connection)
                assert closings(connection) == expected
        finally:
            engine.dispose()
