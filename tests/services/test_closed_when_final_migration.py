"""Revision f3b5d7e9a1c2 (closed when final): rows that would break the two constraints are
mended first - a final hand-off without its closing gets the moment and effective day of the
transition that made it final, else the latest of its first contact, answer and sending and
the French day of it; a hand-off still open loses a closing it should not have - then the
database refuses any other such row; the downgrade drops the constraints and keeps the mended
values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import make_engine
from tests.migration_rows import closings, raw_rows
from tests.test_migrations import _migrate, just_before

CLOSED_WHEN_FINAL = "f3b5d7e9a1c2"


def test_closings_mended_then_constrained(app: Flask, db_url: str, tmp_path: Path) -> None:
    with just_before(app, db_url, tmp_path, CLOSED_WHEN_FINAL) as (url, previous):
        engine = make_engine(url)
        rows = raw_rows(engine)
        key, moment = rows.key, rows.moment
        declined, completed, withdrawn, reopened, kept = (uuid.uuid4() for _ in range(5))
        try:
            with engine.begin() as connection:
                rows.structures(connection, "FIN")
                person = rows.person(connection, "P-FINA-LCLO")
                # (id, status, sent, answered, first contact, closed, closed on)
                for handoff, status, sent, answered, contact, closed, closed_on in (
                    # Declined on the 4th, recorded on the 6th (its history says so).
                    (declined, "declined", "2026-03-01 09:00:00", "2026-03-06 16:00:00",
                     None, None, None),
                    # No history: the latest moment known, its French day (23:30 UTC).
                    (completed, "completed", "2026-03-01 09:00:00", "2026-03-02 09:00:00",
                     "2026-03-09 23:30:00", None, None),
                    # A moment but no day.
                    (withdrawn, "withdrawn", "2026-03-03 09:00:00", None, None,
                     "2026-03-05 10:00:00", None),
                    # Still waiting, yet closed: the status wins.
                    (reopened, "sent", "2026-03-04 09:00:00", None, None,
                     "2026-03-05 10:00:00", "2026-03-05"),
                    (kept, "declined", "2026-03-02 09:00:00", "2026-03-10 08:00:00", None,
                     "2026-03-10 08:00:00", "2026-03-09"),
                ):  # fmt: skip
                    connection.execute(
                        text(
                            "INSERT INTO handoffs (id, beneficiary_id, from_structure_id,"
                            " to_structure_id, purpose_stage_id, consent_confirmed, status,"
                            " decline_reason_id, outcome_id, sent_at, answered_at,"
                            " first_contact_at, closed_at, closed_on, version)"
                            " VALUES (:id, :person, 1, 2,"
                            " (SELECT id FROM reference_items WHERE kind = 'stage'"
                            " AND code = 'training'), true, :status,"
                            " (SELECT id FROM reference_items WHERE kind = 'decline_reason'"
                            " AND code = 'no_capacity'),"
                            " (SELECT id FROM reference_items WHERE kind = 'outcome'"
                            " AND code = 'training_entered'), :sent, :answered, :contact,"
                            " :closed, :closed_on, 1)"
                        ),
                        {
                            "id": key(handoff),
                            "person": person,
                            "status": status,
                            "sent": moment(sent),
                            "answered": moment(answered),
                            "contact": moment(contact),
                            "closed": moment(closed),
                            "closed_on": closed_on,
                        },
                    )
                for event, source, target, at, day in (
                    ("send", None, "sent", "2026-03-01 09:00:00", "2026-03-01"),
                    ("decline", "sent", "declined", "2026-03-06 16:00:00", "2026-03-04"),
                ):
                    connection.execute(
                        text(
                            "INSERT INTO handoff_transitions (id, handoff_id, event, from_status,"
                            " to_status, at, effective_on) VALUES (:id, :handoff, :event,"
                            " :source, :target, :at, :day)"
                        ),
                        {
                            "id": key(uuid.uuid4()),
                            "handoff": key(declined),
                            "event": event,
                            "source": source,
                            "target": target,
                            "at": moment(at),
                            "day": day,
                        },
                    )
            _migrate(app, url, "upgrade", CLOSED_WHEN_FINAL)
            expected = {
                declined: (datetime(2026, 3, 6, 16, 0, tzinfo=UTC), date(2026, 3, 4)),
                completed: (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), date(2026, 3, 10)),
                withdrawn: (datetime(2026, 3, 5, 10, 0, tzinfo=UTC), date(2026, 3, 5)),
                reopened: (None, None),
                kept: (datetime(2026, 3, 10, 8, 0, tzinfo=UTC), date(2026, 3, 9)),
            }
            with engine.connect() as connection:
                assert closings(connection) == expected
            # From now on the database refuses both kinds of row.
            for change, row in (
                ("closed_at = NULL", kept),
                ("closed_on = NULL", declined),
                ("status = 'expired'", reopened),
                ("closed_on = '2026-03-06'", reopened),
            ):
                with engine.connect() as connection, pytest.raises(IntegrityError):
                    connection.execute(
                        text(f"UPDATE handoffs SET {change} WHERE id = :id"), {"id": key(row)}
                    )
            _migrate(app, url, "downgrade", previous)
            with engine.begin() as connection:
                assert closings(connection) == expected
                connection.execute(
                    text("UPDATE handoffs SET closed_on = NULL WHERE id = :id"),
                    {"id": key(declined)},
                )
        finally:
            engine.dispose()
