"""capacity status of directory cards and their services

Revision ID: 4fbc171944d7
Revises: fafb033f3048
Create Date: 2026-12-12 07:00:00+00:00

Issue 15, point 5: each service of a directory card, and the card as a whole, holds a capacity
status (places available, waiting list, full, assessment required) and the moment it was last
confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "4fbc171944d7"
down_revision: str | None = "fafb033f3048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("structure_cards", "structure_services")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("capacity_status", sa.String(length=16), nullable=True))
            batch.add_column(
                sa.Column("capacity_confirmed_at", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("capacity_confirmed_at")
            batch.drop_column("capacity_status")
