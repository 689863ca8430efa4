"""audit event people

Revision ID: a1d7e3f9c5b2
Revises: 5b8e2d4f6a13
Create Date: 2026-12-13 08:00:00+00:00

Written by hand. A page that displays many people is audited by one event listing them in
its ``data["people"]`` (covered by the event's MAC) instead of one event per row;
``audit_event_people`` holds one row per (person, event ``seq``) so that a person's access
history finds those events through an index. ``flask audit verify`` checks that it holds
exactly the listed people.

Like the log, the table is append-only: triggers refuse UPDATE, DELETE (and TRUNCATE on
PostgreSQL), reusing the log's ``audit_events_append_only()`` function there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a1d7e3f9c5b2"
down_revision: str | None = "5b8e2d4f6a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_people_no_update BEFORE UPDATE ON audit_event_people
    BEGIN SELECT RAISE(ABORT, 'audit_event_people is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_event_people_no_delete BEFORE DELETE ON audit_event_people
    BEGIN SELECT RAISE(ABORT, 'audit_event_people is append-only: DELETE refused'); END""",
)
SQLITE_TRIGGER_NAMES = ("audit_event_people_no_update", "audit_event_people_no_delete")
POSTGRESQL_UP = (
    """CREATE TRIGGER audit_event_people_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_event_people
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_event_people_no_truncate BEFORE TRUNCATE ON audit_event_people
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "audit_event_people",
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("beneficiary_id", "seq", name=op.f("pk_audit_event_people")),
    )
    op.create_index(op.f("ix_audit_event_people_seq"), "audit_event_people", ["seq"], unique=False)
    bind = op.get_bind()
    for statement in SQLITE_TRIGGERS if bind.dialect.name == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    # Dropping the table drops its triggers on both databases.
    op.drop_index(op.f("ix_audit_event_people_seq"), table_name="audit_event_people")
    op.drop_table("audit_event_people")
