"""follow-ups without their single-column person index

Revision ID: e2a4c6d8f0b1
Revises: 3143533e8839
Create Date: 2026-12-15 01:00:00+00:00

Written by hand. Issue 16 (the import into 100,000 people): ``ix_follow_ups_beneficiary_id
(beneficiary_id)`` is the leading column of ``ix_follow_ups_person_structure (beneficiary_id,
structure_id, ended_on)``, which answers every lookup of a person's follow-ups (and the
cascade of a person's erasure) as well; each follow-up written - one per person an import
brings in - kept both up to date. Index only; the downgrade recreates it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e2a4c6d8f0b1"
down_revision: str | None = "3143533e8839"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_follow_ups_beneficiary_id", table_name="follow_ups")


def downgrade() -> None:
    op.create_index("ix_follow_ups_beneficiary_id", "follow_ups", ["beneficiary_id"])
