"""pathway state

Revision ID: c4e8a2f6b9d1
Revises: c4e8a2f6b0d3
Create Date: 2026-12-13 14:00:00+00:00

Written by hand. Issue 16 (the list pages flat in the size of the database): each person's
pathway state is kept on their row at write time (``app.services.pathways.state``) instead of
being computed from every event of a caseload at each page:

- ``last_event_on``: the day of their latest step start, barrier identified or closed, or
  hand-off transition (``0001-01-01`` while none: not NULL, so that the orders by news walk
  a plain index, which SQLite reflects and its batch rebuilds keep, unlike an expression);
- ``current_stage_id``: the stage of their latest step by start day, recording time, id,
  and ``current_stage_position`` its position in the stage list (``1000000`` without a step;
  stage positions are set when a stage is added, never changed).

Backfilled set-based (one grouped pass over each event table, ``UPDATE ... FROM``: SQLite
3.33+ and PostgreSQL), then indexed for the orders by news (the idle order forwards, the
last-event order backwards) and the stage filter.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4e8a2f6b9d1"
down_revision: str | None = "c4e8a2f6b0d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_EVENT = "'0001-01-01'"
NO_STAGE = "1000000"

BACKFILL_DAYS = """
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

BACKFILL_STAGES = """
UPDATE beneficiaries
SET current_stage_id = latest.stage_id, current_stage_position = latest.position
FROM (
    SELECT beneficiary_id, stage_id, reference_items.position FROM (
        SELECT beneficiary_id, stage_id, row_number() OVER (
            PARTITION BY beneficiary_id ORDER BY started_on DESC, created_at DESC, id DESC
        ) AS rank
        FROM pathway_steps
    ) AS ranked
    JOIN reference_items ON reference_items.id = ranked.stage_id
    WHERE rank = 1
) AS latest
WHERE beneficiaries.id = latest.beneficiary_id
"""


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.add_column(
            sa.Column("last_event_on", sa.Date(), server_default=sa.text(NO_EVENT), nullable=False)
        )
        batch.add_column(sa.Column("current_stage_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "current_stage_position",
                sa.Integer(),
                server_default=sa.text(NO_STAGE),
                nullable=False,
            )
        )
        batch.create_foreign_key(
            batch.f("fk_beneficiaries_current_stage_id_reference_items"),
            "reference_items",
            ["current_stage_id"],
            ["id"],
        )
    op.execute(BACKFILL_DAYS)
    op.execute(BACKFILL_STAGES)
    op.create_index("ix_beneficiaries_news", "beneficiaries", ["last_event_on", "created_at", "id"])
    op.create_index(
        "ix_beneficiaries_stage",
        "beneficiaries",
        ["current_stage_position", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_beneficiaries_stage", table_name="beneficiaries")
    op.drop_index("ix_beneficiaries_news", table_name="beneficiaries")
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_constraint(
            batch.f("fk_beneficiaries_current_stage_id_reference_items"), type_="foreignkey"
        )
        batch.drop_column("current_stage_position")
        batch.drop_column("current_stage_id")
        batch.drop_column("last_event_on")
