"""effective dates

Revision ID: f2b4d6e8a0c1
Revises: e1f3a5c7b9d2
Create Date: 2026-12-06 05:40:00+00:00

Written by hand (issue 11, point 5; ``app/domain/effective_dates.py``): facts take the day
they happened, which may be earlier than the moment they are recorded.

- ``handoff_transitions.effective_on`` (NOT NULL), beside ``at``, the recording moment;
- ``handoffs.answered_on``, ``first_contact_on``, ``closed_on``, beside ``answered_at``,
  ``first_contact_at``, ``closed_at`` (the recording moments);
- ``barriers.status_on``: the day the barrier's current status took effect.

The field thinks in days, so these are dates (the day in France, Europe/Paris), not
timestamps. Existing rows get the French day of their recorded moment (a first contact
back-dated before this revision was stamped at noon of its day, so it keeps its day);
a barrier's status day is its closing day, or else its identification day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f2b4d6e8a0c1"
down_revision: str | None = "e1f3a5c7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARIS = ZoneInfo("Europe/Paris")  # frozen here: never imported from the application
BATCH = 5000

# (table, recorded moment column, effective day column)
FILLS = (
    ("handoff_transitions", "at", "effective_on"),
    ("handoffs", "answered_at", "answered_on"),
    ("handoffs", "first_contact_at", "first_contact_on"),
    ("handoffs", "closed_at", "closed_on"),
)


def upgrade() -> None:
    op.add_column("handoff_transitions", sa.Column("effective_on", sa.Date(), nullable=True))
    op.add_column("handoffs", sa.Column("answered_on", sa.Date(), nullable=True))
    op.add_column("handoffs", sa.Column("first_contact_on", sa.Date(), nullable=True))
    op.add_column("handoffs", sa.Column("closed_on", sa.Date(), nullable=True))
    op.add_column("barriers", sa.Column("status_on", sa.Date(), nullable=True))
    for table, moment, day in FILLS:
        _fill_days(table, moment, day)
    op.execute("UPDATE barriers SET status_on = COALESCE(closed_on, identified_on)")
    with op.batch_alter_table("handoff_transitions") as batch:
        batch.alter_column("effective_on", existing_type=sa.Date(), nullable=False)


def _fill_days(table: str, moment: str, day: str) -> None:
    """``day`` = the French calendar day of ``moment``, where ``moment`` is set."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            f"UPDATE {table} SET {day} = CAST(({moment} AT TIME ZONE 'Europe/Paris') AS DATE)"
            f" WHERE {moment} IS NOT NULL"
        )
        return
    # SQLite has no time zones: convert in Python, a batch at a time.
    rows = sa.table(table, sa.column("id", sa.Uuid()), sa.column(moment, sa.DateTime()))
    target = sa.table(table, sa.column("id", sa.Uuid()), sa.column(day, sa.Date()))
    update = (
        target.update()
        .where(target.c.id == sa.bindparam("row_id"))
        .values({day: sa.bindparam("day")})
    )
    found = bind.execute(
        sa.select(rows.c.id, rows.c[moment]).where(rows.c[moment].is_not(None))
    ).all()
    for start in range(0, len(found), BATCH):
        bind.execute(
            update,
            [
                {"row_id": row_id, "day": _french_day(value)}
                for row_id, value in found[start : start + BATCH]
            ],
        )


def _french_day(value: datetime) -> date:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(PARIS).date()


def downgrade() -> None:
    op.drop_column("barriers", "status_on")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("closed_on")
        batch.drop_column("first_contact_on")
        batch.drop_column("answered_on")
    with op.batch_alter_table("handoff_transitions") as batch:
        batch.drop_column("effective_on")
