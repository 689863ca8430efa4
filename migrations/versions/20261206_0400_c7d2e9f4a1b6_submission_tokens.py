"""submission tokens

Revision ID: c7d2e9f4a1b6
Revises: b5e1a7c3d901
Create Date: 2026-12-06 04:00:00+00:00

Written by hand for idempotent writes (``docs/architecture.md``, "Idempotent writes"): the
one-time token of a form that created a record, with who sent it, when, and where the record
is shown. The primary key (user, token) lets one submission of a token create something; the
index on ``created_at`` serves the purge (``flask --app app submissions purge``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c7d2e9f4a1b6"
down_revision: str | None = "b5e1a7c3d901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_submission_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "token", name=op.f("pk_submission_tokens")),
    )
    op.create_index(
        op.f("ix_submission_tokens_created_at"), "submission_tokens", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_submission_tokens_created_at"), table_name="submission_tokens")
    op.drop_table("submission_tokens")
