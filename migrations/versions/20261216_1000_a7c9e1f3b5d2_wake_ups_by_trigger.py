"""wake-ups by trigger

Revision ID: a7c9e1f3b5d2
Revises: f3b5d7e9a1c2
Create Date: 2026-12-16 10:00:00+00:00

Written by hand. The mail and webhook workers listen on PostgreSQL (``relais_mail``,
``relais_webhooks``); the unit of work used to send a ``NOTIFY`` before committing a change
that queued mail or a delivery - one more round trip in every such request (a hand-off sent,
answered, reminded), and none for the commands that queue mail outside a request. A statement
trigger on each queue now notifies its worker whenever rows are inserted into it, in the
inserting transaction: PostgreSQL delivers the notification only when that transaction
commits (never for a rolled-back one) and folds the identical notifications of a transaction
into one, so the worker hears of each commit that queued something once, whoever queued it.

SQLite has no ``NOTIFY``: its workers poll, and nothing changes there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7c9e1f3b5d2"
down_revision: str | None = "f3b5d7e9a1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (queue table, trigger, channel): frozen here, the channels as the workers listen on them.
QUEUES = (
    ("mail_outbox", "mail_outbox_wakes_its_worker", "relais_mail"),
    ("webhook_deliveries", "webhook_deliveries_wake_their_worker", "relais_webhooks"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """CREATE FUNCTION relais_wake_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END $$"""
    )
    for table, trigger, channel in QUEUES:
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER INSERT ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION relais_wake_worker('{channel}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger, _channel in QUEUES:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS relais_wake_worker()")
