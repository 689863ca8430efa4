"""second factor: TOTP seed of an account and its recovery codes

Revision ID: b3d5f7a9c1e2
Revises: b8d1f3a5c7e9
Create Date: 2026-12-06 06:20:00+00:00

Issue 12, item 3 (``docs/security.md``, "Second factor"). The TOTP seed is sealed (AES-GCM)
under a data key of the account, wrapped by a KEK of the key ring (its id beside it); the
last accepted time step makes each code single use. Recovery codes are stored hashed only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3d5f7a9c1e2"
down_revision: str | None = "b8d1f3a5c7e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("second_factor_kek", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("second_factor_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("second_factor_seed", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("second_factor_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("second_factor_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name=op.f("uq_recovery_codes_user_id_code_hash")),
    )
    op.create_index(
        op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("second_factor_step")
        batch.drop_column("second_factor_since")
        batch.drop_column("second_factor_seed")
        batch.drop_column("second_factor_key")
        batch.drop_column("second_factor_kek")
