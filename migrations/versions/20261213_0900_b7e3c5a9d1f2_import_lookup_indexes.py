"""wide lookup indexes for the import's duplicate lookup

Revision ID: b7e3c5a9d1f2
Revises: e6b8d0f2a4c7
Create Date: 2026-12-13 08:00:00+00:00

Issue 16, item 2 (import): besides the 14-bit blind indexes, each person gets wider ones
(24 bits, keyed separately) over the same combinations - name and birth date, e-mail, phone -
used only by the import's duplicate lookup, so that it decrypts its true candidates instead of
most of the database. Their values need the index key, which a migration does not hold: the
columns start NULL (``lookup_version`` NULL) and ``flask --app app keys rebuild-index`` fills
them; until then the lookup falls back to the narrow indexes for those people.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7e3c5a9d1f2"
down_revision: str | None = "e6b8d0f2a4c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("lookup_version", sa.SmallInteger()),
    ("name_birth_lookup", sa.Integer()),
    ("email_lookup", sa.Integer()),
    ("phone_lookup", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    for name, _type in COLUMNS:
        op.create_index(f"ix_beneficiaries_{name}", "beneficiaries", [name], unique=False)


def downgrade() -> None:
    for name, _type in reversed(COLUMNS):
        op.drop_index(f"ix_beneficiaries_{name}", table_name="beneficiaries")
    with op.batch_alter_table("beneficiaries") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
