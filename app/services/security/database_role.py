"""The PostgreSQL role the application runs as: it does not own the tables.

The owner of a table can disable its triggers, truncate it and change it as it likes: the
audit log's guards (migration ``7a3d2c1b9e01``) hold only against a role that is not the
owner. Production therefore uses two roles (README, "Production"):

* the **owner** (``relais_owner``) runs the migrations (``flask --app app db upgrade``) and
  then ``flask --app app db grant-app-role relais_app``, after each upgrade;
* the **application** (``relais_app``) is what gunicorn, the mail worker and the cron jobs
  connect as. ``app_role_grants`` gives it:

  - ``SELECT, INSERT, UPDATE, DELETE`` on the application's tables;
  - on ``audit_events``, ``audit_event_people`` and ``audit_seals``: ``SELECT, INSERT``
    only, and nothing on the monthly partitions of ``audit_events`` (PostgreSQL checks
    the rights of the table a statement names: the application reads and writes through
    the parent table);
  - on ``audit_chain_head``: ``SELECT`` and ``UPDATE`` of ``seq`` and ``mac`` only (the
    trigger lets the head move forward only);
  - ``SELECT`` on ``alembic_version``; ``USAGE, SELECT`` on the sequences; ``USAGE`` on the
    schema;
  - never ``TRUNCATE``, ``REFERENCES``, ``TRIGGER``, ``CREATE``, nor ownership: it cannot
    ``ALTER TABLE ... DISABLE TRIGGER``.

The statements start by revoking everything the role had on the schema's tables and
sequences, so that running them again (after a migration added a table) gives the same
rights, never more.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.errors import N_, InvalidInput

AUDIT_EVENTS = "audit_events"
AUDIT_HEAD = "audit_chain_head"
AUDIT_PEOPLE = "audit_event_people"
AUDIT_SEALS = "audit_seals"
MIGRATIONS_TABLE = "alembic_version"
# Role names as the README writes them: no quoting surprises.
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(schema: str, tables: list[str], role: str) -> list[str]:
    """The SQL that gives ``role`` the application's rights on ``tables`` of ``schema``."""
    r, s = _quote(role), _quote(schema)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
    ]
    for table in sorted(tables):
        name = f"{s}.{_quote(table)}"
        if table in (AUDIT_EVENTS, AUDIT_PEOPLE, AUDIT_SEALS):
            statements.append(f"GRANT SELECT, INSERT ON {name} TO {r}")
        elif table == AUDIT_HEAD:
            statements.append(f"GRANT SELECT, UPDATE (seq, mac) ON {name} TO {r}")
        elif table == MIGRATIONS_TABLE:
            statements.append(f"GRANT SELECT ON {name} TO {r}")
        else:
            statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {r}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    return statements


def app_role_grants(session: Session, role: str) -> list[str]:
    """Check ``role`` (it exists, is neither a superuser nor the owner of a table of the
    schema, nor the role connected) and return the statements ``grant_app_role`` runs.
    ``InvalidInput`` with the reason otherwise."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        raise InvalidInput(
            N_("Database roles are a PostgreSQL matter: this database is %(name)s."),
            name=connection.dialect.name,
        )
    if not ROLE_NAME.match(role):
        raise InvalidInput(
            N_("A role name is lower-case letters, digits and _ (not %(role)s)."), role=role
        )
    found = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise InvalidInput(
            N_("The role %(role)s does not exist: create it first (CREATE ROLE %(role)s LOGIN)."),
            role=role,
        )
    if found.rolsuper or found.rolbypassrls:
        raise InvalidInput(
            N_(
                "The role %(role)s is a superuser (or bypasses row security): it cannot be the "
                "application's role."
            ),
            role=role,
        )
    current = connection.execute(text("SELECT current_user")).scalar_one()
    if current == role:
        raise InvalidInput(N_("Run this as the owner of the tables, not as %(role)s."), role=role)
    schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
    owned = connection.execute(
        text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = :schema"
            " AND pg_has_role(:role, tableowner, 'MEMBER')"
        ),
        {"schema": schema, "role": role},
    ).scalar_one()
    if owned:
        raise InvalidInput(
            N_(
                "The role %(role)s owns %(count)s tables (or is a member of their owner): the "
                "application's role must not."
            ),
            role=role,
            count=int(owned),
        )
    # Tables and partitioned tables, not their partitions.
    tables = list(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            ),
            {"schema": schema},
        ).scalars()
    )
    if AUDIT_EVENTS not in tables:
        raise InvalidInput(
            N_("The schema %(schema)s has no audit log: run flask --app app db upgrade first."),
            schema=schema,
        )
    return grant_statements(schema, tables, role)


def grant_app_role(session: Session, role: str) -> list[str]:
    """Apply ``app_role_grants`` in the session's transaction; returns the statements."""
    statements = app_role_grants(session, role)
    connection = session.connection()
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements
