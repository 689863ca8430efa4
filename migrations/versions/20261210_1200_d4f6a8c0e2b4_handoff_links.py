"""hand-off links

Revision ID: d4f6a8c0e2b4
Revises: d5a7c9e1f3b5
Create Date: 2026-12-06 09:45:00+00:00

Answering a hand-off without an account (issue 13, point 1): one row per link mailed to a
structure's contact address, bound to a hand-off and that structure, the token kept as its
SHA-256 only, with its scope (answer, follow-through) and its expiry, use and revocation times.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = "d4f6a8c0e2b4"
down_revision: str | None = "d5a7c9e1f3b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoff_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_handoff_links_handoff_id_handoffs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_handoff_links_structure_id_structures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_handoff_links_token_hash")),
    )
    op.create_index(
        op.f("ix_handoff_links_handoff_id"), "handoff_links", ["handoff_id"], unique=False
    )
    op.create_index(
        op.f("ix_handoff_links_structure_id"), "handoff_links", ["structure_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_handoff_links_structure_id"), table_name="handoff_links")
    op.drop_index(op.f("ix_handoff_links_handoff_id"), table_name="handoff_links")
    op.drop_table("handoff_links")
