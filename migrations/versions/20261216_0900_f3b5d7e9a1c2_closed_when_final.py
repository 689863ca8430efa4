"""closed when final

Revision ID: f3b5d7e9a1c2
Revises: e2a4c6d8f0b1
Create Date: 2026-12-16 09:00:00+00:00

Written by hand. A hand-off is closed - ``closed_at``, the moment, and ``closed_on``, the day
it happened - exactly when its status is final (declined, withdrawn, expired, redirected,
completed, not completed): every final transition sets both, and no transition leaves a final
status. The work queue's recent closings read ``closed_at`` alone, the pathway's state, the
people lost from view and the exports ``closed_on``; two CHECK constraints now hold it:

- ``ck_handoffs_closed_when_final``: a final hand-off has both;
- ``ck_handoffs_open_until_final``: any other has neither.

Before adding them, rows that would break them are mended (none written by Relais should
be): a final hand-off without ``closed_at`` gets the moment of the transition that made it
final (its history's row into that status), else the latest of its first contact, answer and
sending; without ``closed_on``, that transition's effective day, else the French day of
``closed_at``. A hand-off that is not final loses a ``closed_at``/``closed_on`` it should not
have (its status is what every page shows).

On SQLite the constraints are added by rebuilding the table (batch mode; its indexes, partial
ones included, are recreated as they were). The downgrade drops the constraints and keeps the
mended values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f3b5d7e9a1c2"
down_revision: str | None = "e2a4c6d8f0b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARIS = ZoneInfo("Europe/Paris")  # frozen here: never imported from the application
FINAL = "'completed', 'declined', 'expired', 'not_completed', 'redirected', 'withdrawn'"
CLOSED_WHEN_FINAL = f"status NOT IN ({FINAL}) OR (closed_at IS NOT NULL AND closed_on IS NOT NULL)"
OPEN_UNTIL_FINAL = f"status IN ({FINAL}) OR (closed_at IS NULL AND closed_on IS NULL)"
# The history's row that made the hand-off final (the latest, should there be several).
_FINAL_ROW = (
    "FROM handoff_transitions t WHERE t.handoff_id = handoffs.id"
    " AND t.to_status = handoffs.status AND t.from_status <> t.to_status"
)


def upgrade() -> None:
    op.execute(
        f"UPDATE handoffs SET closed_at = COALESCE((SELECT max(t.at) {_FINAL_ROW}),"
        " first_contact_at, answered_at, sent_at)"
        f" WHERE status IN ({FINAL}) AND closed_at IS NULL"
    )
    op.execute(
        f"UPDATE handoffs SET closed_on = (SELECT max(t.effective_on) {_FINAL_ROW})"
        f" WHERE status IN ({FINAL}) AND closed_on IS NULL"
    )
    _fill_closed_on()
    op.execute(
        "UPDATE handoffs SET closed_at = NULL, closed_on = NULL"
        f" WHERE status NOT IN ({FINAL}) AND (closed_at IS NOT NULL OR closed_on IS NOT NULL)"
    )
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.create_check_constraint("closed_when_final", CLOSED_WHEN_FINAL)
        batch_op.create_check_constraint("open_until_final", OPEN_UNTIL_FINAL)


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.drop_constraint(op.f("ck_handoffs_open_until_final"), type_="check")
        batch_op.drop_constraint(op.f("ck_handoffs_closed_when_final"), type_="check")


def _fill_closed_on() -> None:
    """``closed_on`` = the French day of ``closed_at`` for the final hand-offs still without
    one (no history row had an effective day)."""
    bind = op.get_bind()
    missing = f"status IN ({FINAL}) AND closed_on IS NULL AND closed_at IS NOT NULL"
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


def _french_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(PARIS).date()
