"""orientation decisions

Revision ID: 7146c81fbcb3
Revises: d3f5a7b9c1e4
Create Date: 2026-12-12 05:00:00+00:00

Orientation decisions as records (issue 15, item 1): the pathway type a structure decides
for a person, dated (an effective date), with an optional coded reason, and the criteria it
was decided on - the level of each barrier category on that day - in a child table, so that
a later change of a barrier never rewrites history. The pathway types are a new reference
list (``pathway_type``), seeded with the three of the arrêté of 21 November 2024 unless an
administrator already added the code; downgrading removes the table and the list.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7146c81fbcb3"
down_revision: str | None = "d3f5a7b9c1e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, French label, English label, position): frozen here, never imported from the models.
PATHWAY_TYPES: tuple[tuple[str, str, str, int], ...] = (
    ("professional", "Parcours professionnel (emploi)", "Professional pathway (job)", 10),
    (
        "socio_professional",
        "Parcours socio-professionnel",
        "Socio-professional pathway",
        20,
    ),
    ("social", "Parcours social", "Social pathway", 30),
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


def upgrade() -> None:
    op.create_table(
        "orientation_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("pathway_type_id", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_orientation_decisions_beneficiary_id_beneficiaries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
            name=op.f("fk_orientation_decisions_structure_id_structures"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_type_id"],
            ["reference_items.id"],
            name=op.f("fk_orientation_decisions_pathway_type_id_reference_items"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_orientation_decisions_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orientation_decisions")),
    )
    op.create_index(
        op.f("ix_orientation_decisions_beneficiary_id"),
        "orientation_decisions",
        ["beneficiary_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orientation_decisions_structure_id"),
        "orientation_decisions",
        ["structure_id"],
        unique=False,
    )
    op.create_index(
        "ix_orientation_decisions_period",
        "orientation_decisions",
        ["decided_on", "pathway_type_id", "beneficiary_id"],
        unique=False,
    )
    op.create_table(
        "orientation_criteria",
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["orientation_decisions.id"],
            name=op.f("fk_orientation_criteria_decision_id_orientation_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["reference_items.id"],
            name=op.f("fk_orientation_criteria_category_id_reference_items"),
        ),
        sa.PrimaryKeyConstraint("decision_id", "category_id", name=op.f("pk_orientation_criteria")),
    )

    connection = op.get_bind()
    present = set(
        connection.scalars(
            sa.select(reference_items.c.code).where(reference_items.c.kind == "pathway_type")
        )
    )
    op.bulk_insert(
        reference_items,
        [
            {
                "kind": "pathway_type",
                "code": code,
                "label_fr": label_fr,
                "label_en": label_en,
                "position": position,
                "active": True,
            }
            for code, label_fr, label_en, position in PATHWAY_TYPES
            if code not in present
        ],
    )


def downgrade() -> None:
    op.drop_table("orientation_criteria")
    op.drop_index("ix_orientation_decisions_period", table_name="orientation_decisions")
    op.drop_index(op.f("ix_orientation_decisions_structure_id"), table_name="orientation_decisions")
    op.drop_index(
        op.f("ix_orientation_decisions_beneficiary_id"), table_name="orientation_decisions"
    )
    op.drop_table("orientation_decisions")
    # The decisions are gone: the list that named their types goes with them.
    op.execute(reference_items.delete().where(reference_items.c.kind == "pathway_type"))
