"""one pending hand-off per person, sender, receiver and purpose

Revision ID: b5d7f9a1c3e8
Revises: b3d5f7a9c1e2
Create Date: 2026-12-06 07:00:00+00:00

Written by hand (issue 12, point 6): two partial unique indexes on ``handoffs`` - one for the
hand-offs about a stage, one for those about a barrier - over (person, sender, receiver,
purpose) for the rows still waiting for an answer (``status = 'sent'``). Two identical
sendings at the same moment then record one; the service answers the second with its usual
message (``app.services.handoffs.sending``).

**A database that already holds such duplicates** (two identical sendings recorded before this
revision) cannot get the index. This revision does not choose which one to close: closing a
hand-off is a decision of its sender (withdraw) or its receiver (decline, reason "duplicate"),
recorded in its history and in the audit chain, which a migration cannot write (it has no
audit key). So it stops before changing anything, and names the hand-offs to close - ids
only, no personal data -, keeping the oldest of each group. The administrator asks their
senders to withdraw them (or closes them with the application still on the previous
version), then runs ``flask --app app db upgrade`` again. Duplicates are rare - only two
sendings in the same instant made them - so the list is short.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b5d7f9a1c3e8"
down_revision: str | None = "b3d5f7a9c1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (the model's ``PENDING_WITH`` may change later).
PENDING_WITH = {
    "stage": "status = 'sent' AND purpose_stage_id IS NOT NULL",
    "barrier": "status = 'sent' AND purpose_barrier_id IS NOT NULL",
}
COLUMNS = ("beneficiary_id", "from_structure_id", "to_structure_id")


class DuplicatePendingHandoffs(RuntimeError):
    """Pending hand-offs that the unique index would refuse: nothing was changed."""


def _duplicates(connection: sa.Connection) -> list[str]:
    """The ids of the pending hand-offs repeating an older one (same person, sender,
    receiver and purpose), oldest groups first."""
    later: list[str] = []
    for purpose, where in PENDING_WITH.items():
        rows = connection.execute(
            sa.text(
                f"SELECT id, {', '.join(COLUMNS)}, purpose_{purpose}_id AS purpose "  # noqa: S608
                f"FROM handoffs WHERE {where} ORDER BY sent_at, id"
            )
        ).all()
        seen: set[tuple[object, ...]] = set()
        for row in rows:
            key = (row.beneficiary_id, row.from_structure_id, row.to_structure_id, row.purpose)
            if key in seen:
                later.append(row.id.hex if hasattr(row.id, "hex") else str(row.id))
            seen.add(key)
    return later


def upgrade() -> None:
    later = _duplicates(op.get_bind())
    if later:
        raise DuplicatePendingHandoffs(
            f"{len(later)} pending hand-off(s) repeat an older one (same person, sender, "
            "receiver and purpose); nothing was changed. Have their senders withdraw them "
            "(or their receivers decline them as duplicates) with the current version, then "
            "run the upgrade again. Hand-offs to close (each at /handoffs/<id>): " + ", ".join(later)
        )
    for purpose, where in PENDING_WITH.items():
        op.create_index(
            f"uq_handoffs_pending_{purpose}",
            "handoffs",
            [*COLUMNS, f"purpose_{purpose}_id"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for purpose in PENDING_WITH:
        op.drop_index(f"uq_handoffs_pending_{purpose}", table_name="handoffs")
