"""structure managers

Revision ID: c4f6a8b0d2e3
Revises: c2e4a6b8d0f1
Create Date: 2026-12-06 09:30:00+00:00

The structure manager role (issue 13, point 2): a caseworker who manages the accounts of their
own structure. A right of a caseworker account, like the right to edit the directory card.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "c4f6a8b0d2e3"
down_revision: str | None = "c2e4a6b8d0f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("manages_structure", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint(
            "manager_is_caseworker", "role = 'caseworker' OR NOT manages_structure"
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_manager_is_caseworker"), type_="check")
        batch_op.drop_column("manages_structure")
