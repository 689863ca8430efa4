"""unmet needs

Revision ID: fafb033f3048
Revises: 7146c81fbcb3
Create Date: 2026-12-12 06:00:00+00:00

Issue 15, point 3 (``docs/statistics.md``, "Unmet needs"): the pseudonymous unmet-need
records and the cohorts of their person that day; the decline reason "no such service"
(unless an administrator already added the code) and the reference list of the precisions a
caseworker may give when no partner was found. Downgrading removes the added items only
while nothing uses them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "fafb033f3048"
down_revision: str | None = "7146c81fbcb3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (kind, code, French label, English label, position): frozen here, never imported.
ITEMS: tuple[tuple[str, str, str, str, int], ...] = (
    (
        "decline_reason",
        "no_such_service",
        "Pas de service de ce type chez nous",
        "No such service here",
        85,  # between "duplicate" (80) and "other" (90)
    ),
    (
        "unmet_need_precision",
        "no_partner_on_territory",
        "Aucun partenaire sur le territoire",
        "No partner on the territory",
        10,
    ),
    ("unmet_need_precision", "partners_full", "Partenaires complets", "Partners are full", 20),
    (
        "unmet_need_precision",
        "too_far",
        "Partenaires trop éloignés ou inaccessibles",
        "Partners too far away or unreachable",
        30,
    ),
    (
        "unmet_need_precision",
        "not_eligible_anywhere",
        "Personne éligible nulle part",
        "Person eligible nowhere",
        40,
    ),
    (
        "unmet_need_precision",
        "waiting_too_long",
        "Délai d'attente trop long",
        "Waiting time too long",
        50,
    ),
    ("unmet_need_precision", "other", "Autre", "Other", 60),
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
handoffs = sa.table("handoffs", sa.column("decline_reason_id", sa.Integer))


def upgrade() -> None:
    op.create_table(
        "unmet_needs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=True),
        sa.Column("barrier_id", sa.Uuid(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("precision_id", sa.Integer(), nullable=True),
        sa.Column("qpv_id", sa.Integer(), nullable=True),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("referred_by_structure_id", sa.Integer(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_unmet_needs_beneficiary_id_beneficiaries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["handoffs.id"],
            name=op.f("fk_unmet_needs_handoff_id_handoffs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["barrier_id"],
            ["barriers.id"],
            name=op.f("fk_unmet_needs_barrier_id_barriers"),
            ondelete="SET NULL",
        ),
        *(
            sa.ForeignKeyConstraint(
                [column],
                ["reference_items.id"],
                name=op.f(f"fk_unmet_needs_{column}_reference_items"),
            )
            for column in ("category_id", "stage_id", "precision_id", "qpv_id")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structures.id"], name=op.f("fk_unmet_needs_structure_id_structures")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_structure_id"],
            ["structures.id"],
            name=op.f("fk_unmet_needs_referred_by_structure_id_structures"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_unmet_needs_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmet_needs")),
        sa.UniqueConstraint("handoff_id", name=op.f("uq_unmet_needs_handoff_id")),
    )
    for column in ("beneficiary_id", "barrier_id", "structure_id", "referred_by_structure_id"):
        op.create_index(op.f(f"ix_unmet_needs_{column}"), "unmet_needs", [column], unique=False)
    op.create_index(
        "ix_unmet_needs_period", "unmet_needs", ["occurred_on", "category_id"], unique=False
    )
    op.create_table(
        "unmet_need_cohorts",
        sa.Column("unmet_need_id", sa.Uuid(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unmet_need_id"],
            ["unmet_needs.id"],
            name=op.f("fk_unmet_need_cohorts_unmet_need_id_unmet_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["reference_items.id"],
            name=op.f("fk_unmet_need_cohorts_cohort_id_reference_items"),
        ),
        sa.PrimaryKeyConstraint("unmet_need_id", "cohort_id", name=op.f("pk_unmet_need_cohorts")),
    )
    connection = op.get_bind()
    present = set(
        connection.execute(sa.select(reference_items.c.kind, reference_items.c.code)).all()
    )
    op.bulk_insert(
        reference_items,
        [
            {
                "kind": kind,
                "code": code,
                "label_fr": label_fr,
                "label_en": label_en,
                "position": position,
                "active": True,
            }
            for kind, code, label_fr, label_en, position in ITEMS
            if (kind, code) not in present
        ],
    )


def downgrade() -> None:
    op.drop_table("unmet_need_cohorts")
    for column in ("beneficiary_id", "barrier_id", "structure_id", "referred_by_structure_id"):
        op.drop_index(op.f(f"ix_unmet_needs_{column}"), table_name="unmet_needs")
    op.drop_index("ix_unmet_needs_period", table_name="unmet_needs")
    op.drop_table("unmet_needs")
    # "No such service" goes only while no hand-off was declined for it; the precisions have
    # no other use than the unmet needs, dropped above.
    op.execute(
        reference_items.delete().where(
            reference_items.c.kind == "decline_reason",
            reference_items.c.code == "no_such_service",
            reference_items.c.id.not_in(
                sa.select(handoffs.c.decline_reason_id).where(
                    handoffs.c.decline_reason_id.is_not(None)
                )
            ),
        )
    )
    op.execute(reference_items.delete().where(reference_items.c.kind == "unmet_need_precision"))
