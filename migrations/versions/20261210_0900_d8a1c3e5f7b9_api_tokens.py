"""api tokens

Revision ID: d8a1c3e5f7b9
Revises: c4f6a8b0d2e3
Create Date: 2026-12-06 10:00:00+00:00

The JSON API for partner systems (issue 13, point 4): per-structure API tokens stored hashed,
each acting through a service account of its own (``users.api_client``), and the idempotency
keys of the API's POST requests.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "d8a1c3e5f7b9"
down_revision: str | None = "c4f6a8b0d2e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("api_client", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint(
            "api_client_is_caseworker", "role = 'caseworker' OR NOT api_client"
        )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_api_tokens_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structures.id"], name=op.f("fk_api_tokens_structure_id_structures")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.UniqueConstraint("user_id", name=op.f("uq_api_tokens_user_id")),
    )
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_structure_id"), ["structure_id"])
    op.create_table(
        "api_idempotency_keys",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_idempotency_keys_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "key", name=op.f("pk_api_idempotency_keys")),
    )
    with op.batch_alter_table("api_idempotency_keys") as batch_op:
        batch_op.create_index(batch_op.f("ix_api_idempotency_keys_created_at"), ["created_at"])


def downgrade() -> None:
    op.drop_table("api_idempotency_keys")
    op.drop_table("api_tokens")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_api_client_is_caseworker"), type_="check")
        batch_op.drop_column("api_client")
