"""data key rotation

Revision ID: b7e2d4f6a8c0
Revises: a9c3e5f7b1d4
Create Date: 2026-12-10 09:00:00+00:00

Written by hand for ``flask keys rotate-data-keys`` (``docs/security.md``): a person's data
key is replaced and their fields re-encrypted, batch by batch.

* ``person_keys.rotation_requested``: the keys still to replace (``--all`` or ``--person``
  sets it, each batch clears it for the people it did), so that a run stopped half-way is
  resumed by running the command again;
* ``person_keys.rotated_at``: when the key was last replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7e2d4f6a8c0"
down_revision: str | None = "a9c3e5f7b1d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_keys") as batch:
        batch.add_column(
            sa.Column(
                "rotation_requested", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.add_column(sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_person_keys_rotation_requested", ["rotation_requested"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("person_keys") as batch:
        batch.drop_index("ix_person_keys_rotation_requested")
        batch.drop_column("rotated_at")
        batch.drop_column("rotation_requested")
