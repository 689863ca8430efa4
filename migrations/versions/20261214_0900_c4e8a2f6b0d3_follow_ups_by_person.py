"""follow-ups by person and structure

Revision ID: c4e8a2f6b0d3
Revises: a1d7e3f9c5b2
Create Date: 2026-12-14 09:00:00+00:00

Issue 16 (the list pages flat in the size of the database): who may see a person
(``access.follows``) is an ``EXISTS`` looked up per row of a list on ``(beneficiary_id,
structure_id, ended_on)``, every condition in the index. Without it SQLite, lacking
statistics, probed ``follow_ups`` by structure (the whole caseload per row). Index only.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4e8a2f6b0d3"
down_revision: str | None = "a1d7e3f9c5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_follow_ups_person_structure",
        "follow_ups",
        ["beneficiary_id", "structure_id", "ended_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_follow_ups_person_structure", table_name="follow_ups")
