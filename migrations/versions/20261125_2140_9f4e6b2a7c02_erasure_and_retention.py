"""erasure and retention

Revision ID: 9f4e6b2a7c02
Revises: 7a3d2c1b9e01
Create Date: 2026-11-25 21:40:00+00:00

Written by hand for the rights of the people followed (``docs/rights.md``):

* ``erasure_register``: the ids of the people whose data was erased, when and why (a person's
  request or the retention rule). No foreign key to ``beneficiaries`` on purpose: after a
  restore, ``flask --app app gdpr reapply-erasures`` reads ids the restored copy may not hold;
* ``beneficiaries.erasure_due_on``: the day the retention rule will erase the person, shown
  meanwhile to their last structure (indexed: the caseload page and the job look it up);
* ``handoff_transitions.cause``: why the person's side withdrew a pending hand-off (consent
  withdrawn, or erasure), a plain VARCHAR holding the member value like every enum here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9f4e6b2a7c02"
down_revision: str | None = "7a3d2c1b9e01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_register",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("reapplied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f("pk_erasure_register")),
    )
    with op.batch_alter_table("beneficiaries") as batch_op:
        batch_op.add_column(sa.Column("erasure_due_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_beneficiaries_erasure_due_on"), ["erasure_due_on"], unique=False
        )
    with op.batch_alter_table("handoff_transitions") as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_transitions") as batch_op:
        batch_op.drop_column("cause")
    with op.batch_alter_table("beneficiaries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_beneficiaries_erasure_due_on"))
        batch_op.drop_column("erasure_due_on")
    op.drop_table("erasure_register")
