"""audit partitions and seals

Revision ID: e6b8d0f2a4c7
Revises: 4fbc171944d7
Create Date: 2026-12-13 08:00:00+00:00

Written by hand: the audit log over years (docs/security.md, "Audit over years").

* PostgreSQL: ``audit_events`` becomes a table partitioned by range of ``at``, one partition
  a month (``audit_events_2026_11``) and a default partition for rows no month partition
  takes. The rows are copied into it (the migration takes as long as a copy of the table),
  the id sequence is kept. A partitioned table's unique indexes must hold the partition key:
  the primary key becomes ``(id, at)`` and ``seq`` loses its unique index - the chain head's
  update conditioned on the ``seq`` read keeps places unique, ``audit verify`` reports a
  place held twice. Partitions for the months from the oldest row to two months ahead are
  created here, later ones by ``flask --app app audit partitions``. The guard triggers are
  made again on the partitioned table (PostgreSQL clones row triggers to every partition).
* SQLite: no partitions; the unique index on ``seq`` becomes a plain index (as the model
  says for both) and a trigger refuses a place already taken.
* ``audit_seals``: one row per finished month (``flask --app app audit seal``), append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e6b8d0f2a4c7"
down_revision: str | None = "4fbc171944d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 2

SQLITE_UNIQUE_SEQ = """CREATE TRIGGER audit_events_unique_seq BEFORE INSERT ON audit_events
    WHEN EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'audit_events: this seq is taken'); END"""
SQLITE_SEALS = (
    """CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: DELETE refused'); END""",
)
POSTGRESQL_EVENT_GUARDS = (
    """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
)
POSTGRESQL_SEALS = (
    """CREATE FUNCTION audit_seals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_seals is append-only: % refused', TG_OP;
    END $$""",
    """CREATE TRIGGER audit_seals_no_update_delete BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seals_append_only()""",
    """CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_append_only()""",
)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _bound(year: int, month: int) -> str:
    return f"'{year:04d}-{month:02d}-01 00:00:00+00'"


def _create_partitions(bind: sa.Connection, parent: str) -> None:
    """A partition per month from the oldest row (or this month) to two months ahead."""
    now = datetime.now(UTC)
    oldest = bind.execute(sa.text("SELECT min(at), max(at) FROM audit_events")).one()
    start = oldest[0].astimezone(UTC) if oldest[0] is not None else now
    end = max(oldest[1].astimezone(UTC), now) if oldest[1] is not None else now
    year, month = start.year, start.month
    last = (end.year, end.month)
    for _ in range(MONTHS_AHEAD):
        last = _next_month(*last)
    while (year, month) <= last:
        following = _next_month(year, month)
        op.execute(
            f"CREATE TABLE audit_events_{year:04d}_{month:02d} PARTITION OF {parent}"
            f" FOR VALUES FROM ({_bound(year, month)}) TO ({_bound(*following)})"
        )
        year, month = following
    op.execute(f"CREATE TABLE audit_events_default PARTITION OF {parent} DEFAULT")


def _replace_events_table(partitioned: bool) -> None:
    """Copy ``audit_events`` into a new table (partitioned or not) that takes its name."""
    bind = op.get_bind()
    kind = " PARTITION BY RANGE (at)" if partitioned else ""
    op.execute(f"CREATE TABLE audit_events_new (LIKE audit_events INCLUDING DEFAULTS){kind}")
    if partitioned:
        _create_partitions(bind, "audit_events_new")
    op.execute("INSERT INTO audit_events_new SELECT * FROM audit_events")
    op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY NONE")
    op.execute("DROP TABLE audit_events CASCADE")
    op.execute("ALTER TABLE audit_events_new RENAME TO audit_events")
    op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
    key = "id, at" if partitioned else "id"
    op.execute(f"ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY ({key})")
    op.create_foreign_key(
        "fk_audit_events_actor_id_users", "audit_events", "users", ["actor_id"], ["id"]
    )
    op.create_foreign_key(
        "fk_audit_events_actor_structure_id_structures",
        "audit_events",
        "structures",
        ["actor_structure_id"],
        ["id"],
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_beneficiary_at", "audit_events", ["beneficiary_id", "at"])
    op.create_index("ix_audit_events_seq", "audit_events", ["seq"], unique=not partitioned)
    for statement in POSTGRESQL_EVENT_GUARDS:
        op.execute(statement)


def _create_seals() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("last_mac", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tag", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_audit_seals")),
    )


def upgrade() -> None:
    bind = op.get_bind()
    _create_seals()
    if bind.dialect.name == "sqlite":
        op.drop_index("ix_audit_events_seq", table_name="audit_events")
        op.create_index("ix_audit_events_seq", "audit_events", ["seq"], unique=False)
        for statement in (SQLITE_UNIQUE_SEQ, *SQLITE_SEALS):
            op.execute(statement)
        return
    _replace_events_table(partitioned=True)
    for statement in POSTGRESQL_SEALS:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("audit_seals_no_delete", "audit_seals_no_update", "audit_events_unique_seq"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_index("ix_audit_events_seq", table_name="audit_events")
        op.create_index("ix_audit_events_seq", "audit_events", ["seq"], unique=True)
    else:
        _replace_events_table(partitioned=False)
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_update_delete ON audit_seals")
        op.execute("DROP FUNCTION IF EXISTS audit_seals_append_only()")
    op.drop_table("audit_seals")
