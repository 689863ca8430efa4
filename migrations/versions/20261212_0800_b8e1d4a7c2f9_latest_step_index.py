"""index of each person's steps by day, for their latest step

Revision ID: b8e1d4a7c2f9
Revises: 4fbc171944d7
Create Date: 2026-12-12 08:00:00+00:00

Issue 16, item 6: the people lost from view read each person's latest step up to a day with one
index lookup per person (docs/scaling.md, measured at 10,000 to 1,000,000 people on
PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b8e1d4a7c2f9"
down_revision: str | None = "4fbc171944d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_pathway_steps_person_started",
        "pathway_steps",
        ["beneficiary_id", "started_on", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_pathway_steps_person_started", table_name="pathway_steps")
