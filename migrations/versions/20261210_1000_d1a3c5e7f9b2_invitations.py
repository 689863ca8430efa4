"""invitations

Revision ID: d1a3c5e7f9b2
Revises: d8a1c3e5f7b9
Create Date: 2026-12-10 09:00:00+00:00

Accounts without the command line (issue 13, point 2): the invitations a structure manager or
an administrator sends by mail (the token kept as its SHA-256 only), and when a closed account
was opened again (its idle time counts from then).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "d1a3c5e7f9b2"
down_revision: str | None = "d8a1c3e5f7b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=True),
        sa.Column("manages_structure", sa.Boolean(), nullable=False),
        sa.Column("name_hint", sa.String(length=200), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(role = 'caseworker') = (structure_id IS NOT NULL)",
            name=op.f("ck_invitations_structure_iff_caseworker"),
        ),
        sa.CheckConstraint(
            "role = 'caseworker' OR NOT manages_structure",
            name=op.f("ck_invitations_manager_is_caseworker"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_invitations_structure_id_structures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_invitations_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_email"), "invitations", ["email"], unique=False)
    op.create_index(
        op.f("ix_invitations_structure_id"), "invitations", ["structure_id"], unique=False
    )
    op.create_index(
        op.f("ix_invitations_invited_by_id"), "invitations", ["invited_by_id"], unique=False
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("reactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("reactivated_at")
    op.drop_index(op.f("ix_invitations_invited_by_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_structure_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_email"), table_name="invitations")
    op.drop_table("invitations")
