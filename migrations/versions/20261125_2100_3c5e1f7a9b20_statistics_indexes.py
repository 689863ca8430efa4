"""statistics indexes

Revision ID: 3c5e1f7a9b20
Revises: 82452f25a90c
Create Date: 2026-11-25 21:00:00+00:00

Written by hand for the coordinators' dashboard (``app/services/indicators.py``), whose
queries select the events of a period:

* ``ix_pathway_steps_period`` (started_on, stage_id, beneficiary_id) covers the funnel
  (people entering each stage in a period) and the steps part of the people count: the
  database reads the index range of the period and never the table;
* ``ix_barriers_period`` (identified_on, category_id, acting_structure_id, status,
  beneficiary_id) does the same for the barriers by category, acting structure and status.

Hand-offs get no period index: the indicators read most of their columns, and over a
period of a year a range scan with a lookup per row was slower than reading the table
(measured at 100,000 people, see ``docs/performance.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3c5e1f7a9b20"
down_revision: str | None = "82452f25a90c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_pathway_steps_period",
        "pathway_steps",
        ["started_on", "stage_id", "beneficiary_id"],
        unique=False,
    )
    op.create_index(
        "ix_barriers_period",
        "barriers",
        ["identified_on", "category_id", "acting_structure_id", "status", "beneficiary_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_barriers_period", table_name="barriers")
    op.drop_index("ix_pathway_steps_period", table_name="pathway_steps")
