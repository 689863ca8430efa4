"""``flask db grant-app-role``: the rights of the PostgreSQL role the application runs as.

Added to Flask-Migrate's ``db`` group: it is run by the owner of the tables, right after
``flask --app app db upgrade`` (see ``app/services/security/database_role.py``).
"""

from __future__ import annotations

import click
from flask_migrate.cli import db as db_group

from app.cli.common import transaction
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


def register(group: click.Group = db_group) -> None:
    if "grant-app-role" not in group.commands:
        group.add_command(grant_app_role)
