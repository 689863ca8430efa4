"""structure articles

Revision ID: a9c3e5f7b1d4
Revises: f2b4d6e8a0c1
Create Date: 2026-12-06 06:00:00+00:00

Written by hand (issue 11, point 11; ``app/domain/french.py``, ``docs/translations.md``):

- ``structures.article``: the article the structure's name takes in a French sentence
  (``le``, ``la``, ``l``, ``les``, ``none``); NULL means "derive it from the name", which is
  what every structure created before this revision gets;
- the French label of the stage ``orientation`` becomes "Accueil, diagnostic" (English
  "Intake and assessment"), so that the stage is not read as a hand-off ("orientation" in
  the French of Relais), where it is still the seeded label: a label an administrator changed
  stays.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a9c3e5f7b1d4"
down_revision: str | None = "f2b4d6e8a0c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

reference_items = sa.table(
    "reference_items",
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("label_fr", sa.String),
    sa.column("label_en", sa.String),
)
# (column, seeded label, new label): frozen here.
STAGE_LABELS = (
    ("label_fr", "Accueil, diagnostic, orientation", "Accueil, diagnostic"),
    ("label_en", "Intake, assessment, guidance", "Intake and assessment"),
)


def _relabel(index_from: int, index_to: int) -> None:
    for column, *labels in STAGE_LABELS:
        op.execute(
            reference_items.update()
            .where(
                reference_items.c.kind == "stage",
                reference_items.c.code == "orientation",
                reference_items.c[column] == labels[index_from],
            )
            .values({column: labels[index_to]})
        )


def upgrade() -> None:
    with op.batch_alter_table("structures") as batch:
        batch.add_column(sa.Column("article", sa.String(length=8), nullable=True))
    _relabel(0, 1)


def downgrade() -> None:
    _relabel(1, 0)
    with op.batch_alter_table("structures") as batch:
        batch.drop_column("article")
