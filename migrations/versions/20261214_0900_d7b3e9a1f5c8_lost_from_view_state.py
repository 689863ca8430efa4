"""lost from view state

Revision ID: d7b3e9a1f5c8
Revises: c4e8a2f6b9d1
Create Date: 2026-12-14 09:00:00+00:00

Written by hand. Issue 16 (the people lost from view read from the kept state): the kept
last event day counts exactly the events the lost-from-view definition counts
(``app.services.statistics.lost``), and a new column keeps the structure behind that event:

- ``last_event_on`` now also counts the start of a follow-up, and of the hand-off
  transitions only those done by a structure (``actor_structure_id`` set: not an expiry, nor
  the person's side withdrawing a hand-off);
- ``last_event_structure_id``: the structure behind the latest event - on the latest day the
  smallest structure id among the day's events, NULL only when none of them names one.

Backfilled set-based: one pass ranking the union of the event tables (``UPDATE ... FROM``:
SQLite 3.33+ and PostgreSQL), then the people left without any such event back to
``0001-01-01`` (an anti-join). The downgrade restores the previous day.

And ``ix_follow_ups_structure_open (structure_id, started_on, beneficiary_id) WHERE ended_on
IS NULL``: the work queue's people without consent, the longest followed first, read along it
and cut at the count's bound instead of the structure's whole caseload.

On PostgreSQL, extended statistics on ``follow_ups (referent_id, structure_id)``: a referent's
follow-ups are all at their own structure, which the planner, multiplying the two
selectivities, took for independent - it estimated a referent of 1,899 open follow-ups at 145,
drove the work queue's lost-from-view list from them (O(caseload)) instead of walking the news
index until the list's bound (49 ms to 9 ms at 10,000 people, docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d7b3e9a1f5c8"
down_revision: str | None = "c4e8a2f6b9d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_EVENT = "'0001-01-01'"

EVENTS = """
    SELECT beneficiary_id AS person, started_on AS day, structure_id AS structure
        FROM pathway_steps
    UNION ALL SELECT barriers.beneficiary_id, barriers.identified_on,
            coalesce(users.structure_id, barriers.acting_structure_id)
        FROM barriers LEFT JOIN users ON users.id = barriers.recorded_by_id
    UNION ALL SELECT beneficiary_id, closed_on,
            coalesce(closed_by_structure_id, acting_structure_id)
        FROM barriers WHERE closed_on IS NOT NULL
    UNION ALL SELECT handoffs.beneficiary_id, handoff_transitions.effective_on,
            handoff_transitions.actor_structure_id
        FROM handoff_transitions JOIN handoffs ON handoffs.id = handoff_transitions.handoff_id
        WHERE handoff_transitions.actor_structure_id IS NOT NULL
    UNION ALL SELECT beneficiary_id, started_on, structure_id FROM follow_ups
"""

BACKFILL = f"""
UPDATE beneficiaries
SET last_event_on = latest.day, last_event_structure_id = latest.structure
FROM (
    SELECT person, day, structure FROM (
        SELECT person, day, structure, row_number() OVER (
            PARTITION BY person
            ORDER BY day DESC, CASE WHEN structure IS NULL THEN 1 ELSE 0 END, structure
        ) AS rank
        FROM ({EVENTS}) AS events
    ) AS ranked
    WHERE rank = 1
) AS latest
WHERE beneficiaries.id = latest.person
"""

WITHOUT_EVENT = f"""
UPDATE beneficiaries SET last_event_on = {NO_EVENT}, last_event_structure_id = NULL
WHERE last_event_on <> {NO_EVENT}
    AND NOT EXISTS (SELECT 1 FROM pathway_steps WHERE beneficiary_id = beneficiaries.id)
    AND NOT EXISTS (SELECT 1 FROM barriers WHERE beneficiary_id = beneficiaries.id)
    AND NOT EXISTS (SELECT 1 FROM follow_ups WHERE beneficiary_id = beneficiaries.id)
    AND NOT EXISTS (
        SELECT 1 FROM handoff_transitions
        JOIN handoffs ON handoffs.id = handoff_transitions.handoff_id
        WHERE handoffs.beneficiary_id = beneficiaries.id
            AND handoff_transitions.actor_structure_id IS NOT NULL
    )
"""

STATISTICS = """
CREATE STATISTICS st_follow_ups_referent (mcv, dependencies)
ON referent_id, structure_id FROM follow_ups
"""

# The previous day (the "pathway state" revision), for the downgrade.
PREVIOUS_DAYS = """
UPDATE beneficiaries SET last_event_on = news.day
FROM (
    SELECT beneficiary_id, max(day) AS day FROM (
        SELECT beneficiary_id, started_on AS day FROM pathway_steps
        UNION ALL SELECT beneficiary_id, identified_on FROM barriers
        UNION ALL SELECT beneficiary_id, closed_on FROM barriers WHERE closed_on IS NOT NULL
        UNION ALL SELECT handoffs.beneficiary_id, handoff_transitions.effective_on
            FROM handoff_transitions JOIN handoffs ON handoffs.id = handoff_transitions.handoff_id
    ) AS days
    GROUP BY beneficiary_id
) AS news
WHERE beneficiaries.id = news.beneficiary_id
"""


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.add_column(sa.Column("last_event_structure_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_beneficiaries_last_event_structure_id_structures"),
            "structures",
            ["last_event_structure_id"],
            ["id"],
        )
    op.execute(BACKFILL)
    op.execute(WITHOUT_EVENT)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(STATISTICS)
        op.execute("ANALYZE follow_ups")
    op.create_index(
        "ix_follow_ups_structure_open",
        "follow_ups",
        ["structure_id", "started_on", "beneficiary_id"],
        sqlite_where=sa.text("ended_on IS NULL"),
        postgresql_where=sa.text("ended_on IS NULL"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_follow_ups_referent")
    op.drop_index(
        "ix_follow_ups_structure_open",
        table_name="follow_ups",
        sqlite_where=sa.text("ended_on IS NULL"),
        postgresql_where=sa.text("ended_on IS NULL"),
    )
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_constraint(
            batch.f("fk_beneficiaries_last_event_structure_id_structures"), type_="foreignkey"
        )
        batch.drop_column("last_event_structure_id")
    op.execute(f"UPDATE beneficiaries SET last_event_on = {NO_EVENT}")
    op.execute(PREVIOUS_DAYS)
