"""work queue indexes

Revision ID: c4f2a8e6b9d1
Revises: a1d7e3f9c5b2
Create Date: 2026-12-13 09:00:00+00:00

Issue 16 (the work queue flat in the size of the database): a referent's open follow-ups
(the people whose lost-from-view list the work queue computes) are read on
``(referent_id, structure_id, beneficiary_id)`` instead of every follow-up of their structure.
An index only: nothing to backfill.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4f2a8e6b9d1"
down_revision: str | None = "a1d7e3f9c5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("ended_on IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_follow_ups_referent_open",
        "follow_ups",
        ["referent_id", "structure_id", "beneficiary_id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_follow_ups_referent_open", table_name="follow_ups")
