"""name search tokens

Revision ID: b5e1a7c3d901
Revises: 9f4e6b2a7c02
Create Date: 2026-12-06 03:30:00+00:00

Written by hand for the caseload search (``docs/security.md``, "Search"): one row per blind
index value of a three-letter name prefix. The table starts empty: the values need the index
key, so the blind-index normalisation version moves to 2 and ``flask --app app keys
rebuild-index`` computes them (with the other indexes) for the people already registered.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b5e1a7c3d901"
down_revision: str | None = "9f4e6b2a7c02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "name_search_tokens",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_name_search_tokens_beneficiary_id_beneficiaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("beneficiary_id", "value", name=op.f("pk_name_search_tokens")),
    )
    op.create_index(
        op.f("ix_name_search_tokens_value"), "name_search_tokens", ["value"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_name_search_tokens_value"), table_name="name_search_tokens")
    op.drop_table("name_search_tokens")
