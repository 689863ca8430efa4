"""``flask db grant-app-role``: the rights of the PostgreSQL role the application runs as.

Added to Flask-Migrate's ``db`` group: it is run by the owner of the tables, right after
``flask --app app db upgrade`` (see ``app/services/security/database_role.py``).

Flask-Migrate's commands are wrapped so that a database that refuses them ends with a
sentence and exit 1 instead of a traceback: ``db upgrade`` (and ``downgrade``) run as the
application's role (which may not change the schema), against a database that cannot be
reached, or any other refusal - with what to do about it; ``db current``, ``check``,
``stamp``... against a database out of reach, as any other command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask_migrate.cli import db as db_group
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import INSUFFICIENT_PRIVILEGE, database_failure, sqlstate, transaction
from app.services.health import database_unreachable
from app.services.security import database_role


@click.command("grant-app-role")
@click.argument("role")
@click.option("--print-only", is_flag=True, help="Print the statements; change nothing.")
def grant_app_role(role: str, print_only: bool) -> None:
    """Give ROLE the application's rights, and no more (run as the tables' owner).

    ROLE may read and write the application's tables, append to the audit log and move its
    head forward; it may not alter, truncate, update or delete the audit tables, nor disable
    their triggers. Idempotent: run it again after each flask --app app db upgrade.
    """
    with transaction(commit=not print_only) as session:
        if print_only:
            statements = database_role.app_role_grants(session, role)
        else:
            statements = database_role.grant_app_role(session, role)
    for statement in statements:
        click.echo(f"{statement};")
    if not print_only:
        click.echo(f"Granted the application's rights to {role} ({len(statements)} statements).")


def migration_failure(exc: SQLAlchemyError) -> str:
    """What to say when the database refuses a migration (English, no SQL, no values)."""
    if database_unreachable(exc):
        return (
            "cannot reach the database of DATABASE_URL (refused, lost or timed out): nothing "
            "was migrated"
        )
    state = sqlstate(exc)
    if state == INSUFFICIENT_PRIVILEGE:
        return (
            "the database role of DATABASE_URL may not change the schema (permission denied): "
            "run the migrations as the owner of the tables (DATABASE_URL=$OWNER_URL flask "
            '--app app db upgrade, then db grant-app-role: README, "Running in production"); '
            "the revision that failed was not applied"
        )
    what = type(exc).__name__ + (f", SQLSTATE {state}" if state else "")
    return (
        f"the database refused the migration ({what}): on PostgreSQL the revision that failed "
        "was not applied (each runs in its own transaction); flask --app app db current says "
        "where the schema stands"
    )


# The commands that run migrations; the others (current, check, stamp...) read or mark the
# schema's revision, and a refusal is told as any command's (``database_failure``).
MIGRATING = frozenset({"upgrade", "downgrade"})


def _explained(command: Callable[..., Any], explain: Callable[[SQLAlchemyError], str]) -> Any:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise click.ClickException(explain(exc)) from exc

    run.relais_explained = True  # type: ignore[attr-defined]
    return run


def register(group: click.Group = db_group) -> None:
    """Add ``grant-app-role``, and wrap every Flask-Migrate command of ``group`` so that a
    database that refuses it (or cannot be reached) ends with a sentence and exit 1."""
    if "grant-app-role" not in group.commands:
        group.add_command(grant_app_role)
    for name, command in group.commands.items():
        callback = command.callback
        if command is grant_app_role or callback is None:
            continue
        if hasattr(callback, "relais_explained"):
            continue
        explain = migration_failure if name in MIGRATING else database_failure
        command.callback = _explained(callback, explain)
