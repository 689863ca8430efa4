"""follow-ups by person and structure, boxes by status

Revision ID: c4e8a2f6b0d3
Revises: c4f2a8e6b9d1
Create Date: 2026-12-13 13:00:00+00:00

Issue 16 (the list pages flat in the size of the database): who may see a person
(``access.follows``) is an ``EXISTS`` looked up per row of a list on ``(beneficiary_id,
structure_id, ended_on)``, every condition in the index. Without it SQLite, lacking
statistics, probed ``follow_ups`` by structure (the whole caseload per row). A box lists
its waiting hand-offs first: they are read on ``(structure, status, sent_at, id)``, the
others on ``(structure, sent_at, id)``, instead of sorting the whole box. Indexes only.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4e8a2f6b0d3"
down_revision: str | None = "c4f2a8e6b9d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_follow_ups_person_structure", "follow_ups", ("beneficiary_id", "structure_id", "ended_on")),
    ("ix_handoffs_inbox_status", "handoffs", ("to_structure_id", "status", "sent_at", "id")),
    ("ix_handoffs_outbox_status", "handoffs", ("from_structure_id", "status", "sent_at", "id")),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
