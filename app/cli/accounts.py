"""``flask users``: create accounts, set passwords, deactivate. Passwords never as arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from app.cli.common import read_password, transaction
from app.domain.roles import Role
from app.models import User
from app.services.people import referents
from app.services.security import accounts, managers, proconnect, second_factor, staff
from app.services.structures import get_structure

users_cli = AppGroup("users", help="Create accounts, set passwords, deactivate accounts.")

stdin_option = click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--name", "display_name", required=True, help="The person's name, as colleagues read it."
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="caseworker, coordinator, admin or field_worker (reads the partner directory only).",
)
@click.option(
    "--structure", "structure_code", default=None, help="Structure code (caseworkers only)."
)
@click.option(
    "--manager",
    is_flag=True,
    help="Caseworkers only: also manages the structure's accounts (structure manager).",
)
@stdin_option
def create_user(
    email: str,
    display_name: str,
    role: str,
    structure_code: str | None,
    manager: bool,
    from_stdin: bool,
) -> None:
    """Create the account EMAIL. The password is asked for (or read with --stdin)."""
    with transaction() as session:
        structure = get_structure(session, structure_code) if structure_code else None
        password = read_password(prompt=not from_stdin)
        user = accounts.create_user(
            session,
            None,
            email=email,
            display_name=display_name,
            role=Role(role),
            structure=structure,
            password=password,
            min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
        if manager:
            managers.set_manager(session, None, user, True)
        suffix = " (structure manager)" if user.manages_structure else ""
        click.echo(f"Created {user.role.value} account {user.email}{suffix}")


@users_cli.command("set-manager")
@click.argument("email")
@click.option("--off", is_flag=True, help="Take the role back instead of giving it.")
def set_manager(email: str, off: bool) -> None:
    """Make the caseworker EMAIL a manager of their structure (invites colleagues, deactivates
    them, hands caseloads over, manages API tokens and webhooks), or take it back (--off)."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        changed = managers.set_manager(session, None, user, not off)
        state = "no longer manages" if off else "manages"
        note = "" if changed else " (unchanged)"
        click.echo(f"{user.email} {state} the accounts of its structure{note}.")


@users_cli.command("set-password")
@click.argument("email")
@stdin_option
def set_password(email: str, from_stdin: bool) -> None:
    """Set a new password for EMAIL; every session of the account ends."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        password = read_password(prompt=not from_stdin)
        accounts.set_password(
            session, None, user, password, min_length=current_app.config["PASSWORD_MIN_LENGTH"]
        )
        click.echo(f"Password changed for {user.email}; its sessions are closed.")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Close the account EMAIL: no more sign-in, open sessions end now."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        closed = accounts.deactivate_user(session, None, user)
        click.echo(f"Deactivated {user.email}" if closed else f"{user.email} was already inactive")
        followed = referents.referent_count(session, user)
        if followed:
            click.echo(
                f"{followed} people still have {user.email} as referent: a colleague of the "
                "structure hands them over from 'People followed' > 'Hand over a caseload'."
            )


@users_cli.command("deactivate-idle")
@click.option("--dry-run", is_flag=True, help="Only list the accounts that would be closed.")
def deactivate_idle(dry_run: bool) -> None:
    """Close the accounts not signed in for RELAIS_ACCOUNT_IDLE_DAYS days (never signed in:
    counted from their creation). Safe to run from cron: a second run closes nothing more."""
    days = int(current_app.config["ACCOUNT_IDLE_DAYS"])
    since = datetime.now(UTC) - timedelta(days=days)
    with transaction(commit=not dry_run) as session:
        idle = accounts.idle_accounts(session, since=since)
        kept = accounts.spare_last_administrator(session, idle)
        if kept is not None:
            idle.remove(kept)
            click.echo(
                f"Kept {kept.email} open: the last active administrator. Sign in with it, or "
                "make another administrator (users create), then close it."
            )
        for user in idle:
            if not dry_run:
                accounts.deactivate_user(session, None, user, reason="idle")
            click.echo(f"{'Would deactivate' if dry_run else 'Deactivated'} {user.email}")
            followed = referents.referent_count(session, user)
            if followed:
                click.echo(
                    f"  {followed} people still have {user.email} as referent: a colleague of "
                    "the structure hands them over from 'People followed' > 'Hand over a "
                    "caseload'."
                )
        verb = "would be deactivated" if dry_run else "deactivated"
        click.echo(f"{len(idle)} account(s) not signed in for {days} days {verb}.")
        _name_structures_left_without_manager(session, idle)


def _name_structures_left_without_manager(session: Session, closed: list[User]) -> None:
    """Nobody in these structures can invite or close an account until someone is named."""
    for code, staying in staff.left_without_manager(session, closed):
        click.echo(
            f"Structure {code} has no active manager any more: name one of its accounts "
            f"({', '.join(staying)}) with users set-manager EMAIL, or from its accounts page."
        )


@users_cli.command("set-phone")
@click.argument("email")
@click.argument("phone")
def set_phone(email: str, phone: str) -> None:
    """Set the work phone of EMAIL, shown to partners when the account is a referent
    (an empty PHONE removes it)."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        referents.set_work_phone(session, None, user, phone)
        click.echo(f"Work phone of {user.email}: {user.work_phone or 'none'}")


@users_cli.command("reset-2fa")
@click.argument("email")
def reset_second_factor(email: str) -> None:
    """Remove the second factor and recovery codes of EMAIL (a lost phone) and end its
    sessions. A coordinator or an administrator sets up a new one at the next sign-in."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        had = second_factor.reset(session, None, user, end_sessions=True)
        if had:
            click.echo(f"Second factor of {user.email} removed; its sessions are closed.")
        else:
            click.echo(f"{user.email} had no second factor; its sessions are closed.")


@users_cli.command("unlink-proconnect")
@click.argument("email")
def unlink_proconnect(email: str) -> None:
    """Forget the ProConnect identity linked to EMAIL (the person's identity changed at
    ProConnect: a new employer directory). The next ProConnect sign-in links by e-mail again.
    Audited."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        if proconnect.unlink(session, None, user):
            click.echo(f"ProConnect identity of {user.email} forgotten.")
        else:
            click.echo(f"{user.email} had no ProConnect identity.")


@users_cli.command("recovery-codes")
@click.argument("email")
def recovery_codes(email: str) -> None:
    """Print new recovery codes for EMAIL (the old ones stop working), to hand over in person
    to a colleague who lost their phone. Audited."""
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        if not user.has_second_factor:
            raise click.ClickException(f"{user.email} has no second factor")
        codes = second_factor.issue_recovery_codes(session, None, user, now=datetime.now(UTC))
        click.echo(f"New recovery codes of {user.email} (each works once):")
        for code in codes:
            click.echo(f"  {code}")
