"""Revision f2b4d6e8a0c1 on a database with hand-offs and barriers: each effective day is the
French day of the moment recorded before it, and a barrier's status day its last date."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from app.extensions import make_engine
from tests.migration_rows import raw_rows
from tests.test_migrations import _migrate, just_before

EFFECTIVE = "f2b4d6e8a0c1"


def test_existing_rows_get_the_french_day_of_their_recorded_moment(
    app: Flask, db_url: str, tmp_path: Path
) -> None:
    # The revision before it, whichever it is (revisions written at the same time get
    # re-chained).
    with just_before(app, db_url, tmp_path, EFFECTIVE) as (url, previous):
        engine = make_engine(url)
        rows = raw_rows(engine)
        key, moment = rows.key, rows.moment
        handoff, lifted, open_barrier = (uuid.uuid4() for _ in range(3))
        try:
            with engine.begin() as connection:
                category = connection.execute(
                    text("SELECT id FROM reference_items WHERE kind = 'barrier_category' LIMIT 1")
                ).scalar_one()
                rows.structures(connection, "MIG")
                person = rows.person(connection, "P-MIGR-ATE1")
                # Answered at 23:30 UTC on 2 March: already 3 March in Belfort (CET).
                connection.execute(
                    text(
                        "INSERT INTO handoffs (id, beneficiary_id, from_structure_id,"
                        " to_structure_id, purpose_stage_id, consent_confirmed, status, sent_at,"
                        " answered_at, first_contact_at, version)"
                        " VALUES (:id, :person, 1, 2,"
                        " (SELECT id FROM reference_items WHERE kind = 'stage' LIMIT 1),"
                        " true, 'in_progress', :sent, :answered, :contact, 3)"
                    ),
                    {
                        "id": key(handoff),
                        "person": person,
                        "sent": moment("2026-03-02 09:00:00"),
                        "answered": moment("2026-03-02 23:30:00"),
                        "contact": moment("2026-03-05 11:00:00"),
                    },
                )
                for event, status, at in (
                    ("send", "sent", "2026-03-02 09:00:00"),
                    ("accept", "accepted", "2026-03-02 23:30:00"),
                    ("first_contact", "in_progress", "2026-03-05 11:00:00"),
                ):
                    connection.execute(
                        text(
                            "INSERT INTO handoff_transitions (id, handoff_id, event, to_status, at)"
                            " VALUES (:id, :handoff, :event, :status, :at)"
                        ),
                        {
                            "id": key(uuid.uuid4()),
                            "handoff": key(handoff),
                            "event": event,
                            "status": status,
                            "at": moment(at),
                        },
                    )
                for barrier, status, closed in (
                    (lifted, "lifted", "2026-03-04"),
                    (open_barrier, "in_progress", None),
                ):
                    connection.execute(
                        text(
                            "INSERT INTO barriers (id, beneficiary_id, category_id, status,"
                            " identified_on, closed_on, created_at)"
                            " VALUES (:id, :person, :category, :status, '2026-02-20', :closed, :at)"
                        ),
                        {
                            "id": key(barrier),
                            "person": person,
                            "category": category,
                            "status": status,
                            "closed": closed,
                            "at": moment("2026-02-20 10:00:00"),
                        },
                    )
            _migrate(app, url, "upgrade", EFFECTIVE)
            with engine.connect() as connection:
                days = connection.execute(
                    text("SELECT event, effective_on FROM handoff_transitions ORDER BY at")
                ).all()
                row = connection.execute(
                    text("SELECT answered_on, first_contact_on, closed_on FROM handoffs")
                ).one()
                barriers = dict(
                    connection.execute(text("SELECT status, status_on FROM barriers")).all()
                )
            as_dates = [(e, date.fromisoformat(str(d))) for e, d in days]
            assert as_dates == [
                ("send", date(2026, 3, 2)),
                ("accept", date(2026, 3, 3)),
                ("first_contact", date(2026, 3, 5)),
            ]
            assert [str(v) if v else None for v in row] == ["2026-03-03", "2026-03-05", None]
            assert {k: str(v) for k, v in barriers.items()} == {
                "lifted": "2026-03-04",
                "in_progress": "2026-02-20",
            }
            _migrate(app, url, "downgrade", previous)
        finally:
            engine.dispose()
