"""tamper evident audit

Revision ID: 7a3d2c1b9e01
Revises: 3c5e1f7a9b20
Create Date: 2026-11-25 21:30:00+00:00

Written by hand. The audit log becomes a hash chain (``app/services/audit.py``):

* ``audit_events.seq``: the row's place in the chain, 1, 2, 3... without gaps, unique;
* ``audit_events.mac``: HMAC-SHA256 under the audit key over the row's columns, its ``seq``
  and the previous row's MAC; NULL only for the rows written before this revision;
* ``audit_chain_head``: one row holding the last ``seq`` and MAC, moved in the same
  transaction as each append, so that dropping the last rows is detected too; its
  ``legacy_until`` is the number of rows that existed before the chain.

Rows already there get their ``seq`` in id order and no MAC: a migration has no key. They
form the *legacy segment* (``seq <= legacy_until``), which ``flask audit verify`` reports as
unprotected until ``flask audit seal-legacy`` appends one chained event carrying a MAC of
the whole segment (no row is rewritten; see docs/security.md).

Triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on ``audit_events``, refuse
deleting the chain head and let it move forward only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7a3d2c1b9e01"
down_revision: str | None = "3c5e1f7a9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_MAC = bytes(32)

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END""",
    """CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head
    WHEN NEW.id <> OLD.id OR NEW.seq <= OLD.seq OR NEW.legacy_until <> OLD.legacy_until
    BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward'); END""",
)
SQLITE_TRIGGER_NAMES = (
    "audit_events_no_update",
    "audit_events_no_delete",
    "audit_chain_head_no_delete",
    "audit_chain_head_forward_only",
)

POSTGRESQL_UP = (
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END $$""",
    """CREATE FUNCTION audit_chain_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.seq <= OLD.seq
                OR NEW.legacy_until <> OLD.legacy_until THEN
            RAISE EXCEPTION 'audit_chain_head only moves forward: % refused', TG_OP;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only()""",
    """CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_chain_head_guard ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_chain_head_forward_only()",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("mac", sa.LargeBinary(), nullable=True))
    # The legacy segment: existing rows numbered in id order (UPDATE ... FROM runs on
    # PostgreSQL and on SQLite from 3.33).
    op.execute(
        "UPDATE audit_events SET seq = numbered.n FROM"
        " (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_events) AS numbered"
        " WHERE audit_events.id = numbered.id"
    )
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_audit_events_seq", ["seq"], unique=True)

    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.LargeBinary(), nullable=False),
        sa.Column("legacy_until", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    bind = op.get_bind()
    legacy = bind.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    bind.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, seq, mac, legacy_until) VALUES (1, :seq, :mac, :seq)"
        ),
        {"seq": legacy, "mac": GENESIS_MAC},
    )

    statements = SQLITE_TRIGGERS if bind.dialect.name == "sqlite" else POSTGRESQL_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_index("ix_audit_events_seq")
        batch_op.drop_column("mac")
        batch_op.drop_column("seq")
