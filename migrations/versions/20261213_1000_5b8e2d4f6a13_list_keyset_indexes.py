"""list keyset indexes

Revision ID: 5b8e2d4f6a13
Revises: b7e3c5a9d1f2
Create Date: 2026-12-12 08:00:00+00:00

Issue 16, point 2 (the list pages flat in the size of the database): the caseload and the
coordinators' list read newest first by keyset on ``(created_at, id)``; each person's latest
step is found on ``(beneficiary_id, started_on, created_at)``; a structure's inbox and outbox
read newest first on ``(structure, sent_at, id)``. Indexes only: nothing to backfill.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5b8e2d4f6a13"
down_revision: str | None = "b7e3c5a9d1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_beneficiaries_newest", "beneficiaries", ("created_at", "id")),
    ("ix_pathway_steps_latest", "pathway_steps", ("beneficiary_id", "started_on", "created_at")),
    ("ix_handoffs_inbox", "handoffs", ("to_structure_id", "sent_at", "id")),
    ("ix_handoffs_outbox", "handoffs", ("from_structure_id", "sent_at", "id")),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
