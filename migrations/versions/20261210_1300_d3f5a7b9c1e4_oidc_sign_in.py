"""sign-in with ProConnect (OpenID Connect)

Revision ID: d3f5a7b9c1e4
Revises: d4f6a8c0e2b4
Create Date: 2026-12-06 09:30:00+00:00

Issue 13, point 3: the identities linked to accounts (issuer and subject, unique), the pending
authorisation requests (hashed state, nonce, PKCE verifier, single use) and, on each session,
how it was opened (method, ACR, AMR, and the ID token for the provider's logout).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "d3f5a7b9c1e4"
down_revision: str | None = "d4f6a8c0e2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_user_identities_issuer_subject")),
        sa.UniqueConstraint("user_id", "issuer", name=op.f("uq_user_identities_user_id_issuer")),
    )
    op.create_index(
        op.f("ix_user_identities_user_id"), "user_identities", ["user_id"], unique=False
    )
    op.create_table(
        "oidc_sign_ins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("acr", sa.String(length=200), nullable=True),
        sa.Column("amr", sa.String(length=200), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sign_ins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oidc_sign_ins_state_hash")),
    )
    op.create_index(
        op.f("ix_oidc_sign_ins_created_at"), "oidc_sign_ins", ["created_at"], unique=False
    )
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(
            sa.Column(
                "method", sa.String(length=16), server_default="password", nullable=False
            )
        )
        batch.add_column(sa.Column("acr", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("amr", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("id_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("id_token")
        batch.drop_column("amr")
        batch.drop_column("acr")
        batch.drop_column("method")
    op.drop_index(op.f("ix_oidc_sign_ins_created_at"), table_name="oidc_sign_ins")
    op.drop_table("oidc_sign_ins")
    op.drop_index(op.f("ix_user_identities_user_id"), table_name="user_identities")
    op.drop_table("user_identities")
