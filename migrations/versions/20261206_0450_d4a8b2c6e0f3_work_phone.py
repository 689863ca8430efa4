"""work phone of an account

Revision ID: d4a8b2c6e0f3
Revises: c7d2e9f4a1b6
Create Date: 2026-12-06 04:50:00+00:00

Written by hand for the referent of a follow-up (``docs/caseworkers.md``): partners on a
hand-off see the referent's name, work e-mail (the login) and this work phone, in E.164.
A professional contact, not a personal field of the people followed: stored in clear.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d4a8b2c6e0f3"
down_revision: str | None = "c7d2e9f4a1b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("work_phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("work_phone")
