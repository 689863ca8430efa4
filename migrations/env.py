"""Alembic environment: the application's engine and metadata, through Flask-Migrate.

``current_app.extensions["migrate"].db`` is our ``app.extensions.Database`` (``.engine``,
``.metadata``). A caller may hand over its own connection in ``config.attributes["connection"]``
(the migration tests do, for a scratch database); it then owns that connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from flask import current_app
from sqlalchemy.engine import Connection

config = context.config

# Configure logging from alembic.ini only when nobody has done it yet (the flask CLI). A host
# process such as pytest or gunicorn keeps its handlers, and no existing logger is disabled.
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQL types, so that a revision never imports ``app``.

    Enums are stored by value in a VARCHAR (no native type, no CHECK): adding a member needs
    no migration. ``UTCDateTime`` and other decorators are rendered as the type they wrap.
    """
    if type_ != "type":
        return False
    if isinstance(obj, sa.Enum):
        return f"sa.String(length={obj.length})"
    if isinstance(obj, sa.types.TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _skip_empty_autogenerate(
    _context: Any, _revision: Any, directives: list[MigrationScript]
) -> None:
    """``flask db migrate`` with no schema change writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Leave the audit log's monthly partitions out of schema comparisons: the migrations and
    ``flask --app app audit partitions`` make them, not the models (``AUDIT_PARTITION``)."""
    from app.models.audit import AUDIT_PARTITION

    return not (type_ == "table" and name is not None and AUDIT_PARTITION.match(name))


def _configure_args() -> dict[str, Any]:
    args = dict(current_app.extensions["migrate"].configure_args)
    args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    args.setdefault("compare_type", True)
    # Batch operations are plain ALTERs on PostgreSQL and table rebuilds on SQLite, so one
    # revision runs on both.
    args.setdefault("render_as_batch", True)
    args.setdefault("render_item", render_item)
    args.setdefault("include_name", include_name)
    return args


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, migrate without foreign key enforcement, then check the keys.

    A batch operation rebuilds a table (copy, drop the original, rename). With enforcement on,
    dropping ``beneficiaries`` would cascade to ``person_keys`` and shred every data key. The
    pragma does nothing inside a transaction, so it goes to the driver before Alembic begins
    one; the connection is then discarded rather than returned to the pool without enforcement.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = sorted({row[0] for row in raw.execute("PRAGMA foreign_key_check").fetchall()})
        if broken:
            raise RuntimeError(f"migration left broken foreign keys in: {', '.join(broken)}")
    finally:
        connection.invalidate()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_db.metadata, **_configure_args()
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    with target_db.engine.connect() as connection, _sqlite_foreign_keys_off(connection):
        _run(connection)


def run_migrations_offline() -> None:
    """``flask db upgrade --sql``: print the SQL for the application's database dialect."""
    context.configure(
        url=target_db.engine.url,
        target_metadata=target_db.metadata,
        literal_binds=True,
        **_configure_args(),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
