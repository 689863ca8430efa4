"""recent closings

Revision ID: 3143533e8839
Revises: d7b3e9a1f5c8
Create Date: 2026-12-15 09:00:00+00:00

Written by hand. Issue 16 (the work queue's "to re-orient" list bounded): the list holds a
structure's hand-offs declined or expired in the last 30 days. It filtered on
``coalesce(closed_at, answered_at, sent_at)``, which no index serves, so it read every declined
or expired hand-off the structure ever sent (36,509 rows for the Mission Locale at 100,000
people). Every final transition sets ``closed_at`` (so did the first version of the hand-off
services), so the list now filters on ``closed_at`` alone, along a new index:

- ``ix_handoffs_outbox_closed (from_structure_id, status, closed_at)``: a structure's
  hand-offs in a status, by the moment they were closed. Plain, not partial nor on an
  expression: PostgreSQL cannot prove a partial index's predicate from a prepared statement's
  parameters (psycopg prepares a statement run often), and both planners use a plain index
  whatever the parameters;
- a back-fill, for a row that would lack it (none written by Relais should): a declined or
  expired hand-off without ``closed_at`` gets ``coalesce(answered_at, sent_at)``, the moment
  the list read for it until now (its answer stays the same), and ``closed_on`` the French
  day of that moment when it has none.

The downgrade drops the index and keeps the back-filled moments (they are what the list read).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3143533e8839"
down_revision: str | None = "d7b3e9a1f5c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARIS = ZoneInfo("Europe/Paris")  # frozen here: never imported from the application
ENDED = "status IN ('declined', 'expired')"


def upgrade() -> None:
    op.execute(
        "UPDATE handoffs SET closed_at = COALESCE(answered_at, sent_at)"
        f" WHERE {ENDED} AND closed_at IS NULL"
    )
    _fill_closed_on()
    op.create_index(
        "ix_handoffs_outbox_closed", "handoffs", ["from_structure_id", "status", "closed_at"]
    )


def _fill_closed_on() -> None:
    """``closed_on`` = the French day of ``closed_at`` for the declined or expired hand-offs
    without one."""
    bind = op.get_bind()
    missing = f"{ENDED} AND closed_on IS NULL AND closed_at IS NOT NULL"
    if bind.dialect.name == "postgresql":
        op.execute(
            "UPDATE handoffs SET closed_on = CAST((closed_at AT TIME ZONE 'Europe/Paris') AS DATE)"
            f" WHERE {missing}"
        )
        return
    # SQLite has no time zones: convert in Python (a handful of rows, if any).
    handoffs = sa.table(
        "handoffs",
        sa.column("id", sa.Uuid()),
        sa.column("closed_at", sa.DateTime()),
        sa.column("closed_on", sa.Date()),
    )
    found = bind.execute(sa.select(handoffs.c.id, handoffs.c.closed_at).where(sa.text(missing)))
    for row_id, moment in found.all():
        bind.execute(
            handoffs.update().where(handoffs.c.id == row_id).values(closed_on=_french_day(moment))
        )


def _french_day(value: datetime) -> date:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(PARIS).date()


def downgrade() -> None:
    op.drop_index("ix_handoffs_outbox_closed", table_name="handoffs")
