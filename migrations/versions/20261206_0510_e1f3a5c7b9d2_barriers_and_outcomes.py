"""barriers and outcomes with substance

Revision ID: e1f3a5c7b9d2
Revises: d4a8b2c6e0f3
Create Date: 2026-12-06 05:10:00+00:00

Written by hand (issue 11, point 8; ``docs/caseworkers.md``, "The person's page"):

- a barrier gets a ``level`` (strong / moderate / no impact on the job search, the scale of
  the national common orientation criteria; NULL: not assessed), an encrypted ``detail`` and
  the structure that closed it (``closed_by_structure_id``). Barriers already lifted by a
  completed hand-off whose outcome was "barrier lifted" get that hand-off's receiver;
- an employment step gets its ``contract_type`` (in clear, for the statistics) and an
  encrypted ``employer``;
- the cohorts the field uses are added to the reference list (RSA, DELD, RQTH, CEJ, 16-18
  under the training obligation), between the seeded ones and "Tout public", unless an
  administrator already added the code. Downgrading removes them only while no person is in
  them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e1f3a5c7b9d2"
down_revision: str | None = "d4a8b2c6e0f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, French label, English label, position): frozen here, never imported from the models.
COHORTS: tuple[tuple[str, str, str, int], ...] = (
    ("rsa", "Bénéficiaires du RSA", "RSA beneficiaries (minimum income)", 31),
    (
        "deld",
        "Demandeurs d'emploi de longue durée (DELD)",
        "Long-term jobseekers (DELD)",
        32,
    ),
    (
        "rqth",
        "Travailleurs handicapés (RQTH)",
        "Recognised disabled workers (RQTH)",
        33,
    ),
    (
        "cej",
        "Jeunes en contrat d'engagement jeune (CEJ)",
        "Young people on a youth commitment contract (CEJ)",
        34,
    ),
    (
        "training_obligation",
        "Jeunes de 16 à 18 ans – obligation de formation",
        "16-18-year-olds under the training obligation",
        35,
    ),
)

reference_items = sa.table(
    "reference_items",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("label_fr", sa.String),
    sa.column("label_en", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)
beneficiary_cohorts = sa.table("beneficiary_cohorts", sa.column("cohort_id", sa.Integer))

# The receiver of the last completed "barrier lifted" hand-off about each lifted barrier.
BACKFILL_CLOSED_BY = """
UPDATE barriers SET closed_by_structure_id = (
    SELECT h.to_structure_id FROM handoffs h
    JOIN reference_items r ON r.id = h.outcome_id
    WHERE h.purpose_barrier_id = barriers.id AND h.status = 'completed'
      AND r.kind = 'outcome' AND r.code = 'barrier_lifted'
    ORDER BY h.closed_at DESC LIMIT 1
)
WHERE status = 'lifted'
"""


def upgrade() -> None:
    with op.batch_alter_table("barriers") as batch:
        batch.add_column(sa.Column("level", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("detail", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("closed_by_structure_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_barriers_closed_by_structure_id_structures"),
            "structures",
            ["closed_by_structure_id"],
            ["id"],
        )
    with op.batch_alter_table("pathway_steps") as batch:
        batch.add_column(sa.Column("contract_type", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("employer", sa.LargeBinary(), nullable=True))
    op.execute(BACKFILL_CLOSED_BY)

    connection = op.get_bind()
    present = set(
        connection.scalars(
            sa.select(reference_items.c.code).where(reference_items.c.kind == "cohort")
        )
    )
    op.bulk_insert(
        reference_items,
        [
            {
                "kind": "cohort",
                "code": code,
                "label_fr": label_fr,
                "label_en": label_en,
                "position": position,
                "active": True,
            }
            for code, label_fr, label_en, position in COHORTS
            if code not in present
        ],
    )


def downgrade() -> None:
    # The added cohorts go only while nobody is in them: a person's cohort is never dropped.
    in_use = sa.select(beneficiary_cohorts.c.cohort_id)
    op.execute(
        reference_items.delete().where(
            reference_items.c.kind == "cohort",
            reference_items.c.code.in_([code for code, *_ in COHORTS]),
            reference_items.c.id.not_in(in_use),
        )
    )
    with op.batch_alter_table("pathway_steps") as batch:
        batch.drop_column("employer")
        batch.drop_column("contract_type")
    with op.batch_alter_table("barriers") as batch:
        batch.drop_constraint(
            op.f("fk_barriers_closed_by_structure_id_structures"), type_="foreignkey"
        )
        batch.drop_column("closed_by_structure_id")
        batch.drop_column("detail")
        batch.drop_column("level")
