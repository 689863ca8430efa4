"""``flask gdpr``: erase a person at their request, and re-apply the register after a restore.

``erase`` is for a request received outside Relais (a letter to the data protection officer,
say); caseworkers have the same action on the person's page. ``reapply-erasures`` must run
after any restore of the database, before the application is opened again::

    flask --app app gdpr reapply-erasures

Both read and write the erasure register: the ``erasure_register`` table and its file copy
(``RELAIS_ERASURE_REGISTER``, or ``erasure-register.txt`` in the instance folder), which is
kept and backed up apart from the database. See docs/rights.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.domain.rights import ErasureCause
from app.services.rights.erasure import (
    RegisterFile,
    RegisterFileError,
    erase_person,
    person_to_erase,
    reapply_erasures,
    register_file_for,
)

PARIS = ZoneInfo("Europe/Paris")

gdpr_cli = AppGroup("gdpr", help="Rights of the people followed: erasure and its register.")


def today_in_france() -> date:
    return datetime.now(PARIS).date()


def register_file() -> RegisterFile:
    return register_file_for(current_app.config, current_app.instance_path)


@gdpr_cli.command("erase")
@click.argument("pseudonym")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(pseudonym: str, yes: bool) -> None:
    """Erase the person PSEUDONYM (P-XXXX-XXXX) at their request, for good.

    Their data key is deleted, so that their identity and every note about them can no longer
    be read by anyone, in the database or in its backups; their search indexes are deleted,
    their birth year, sex and education level cleared, their pending hand-offs withdrawn and
    their follow-ups ended. Their pathway stays, under a new pseudonym, for the statistics.
    The erasure is written to the register (table and file) and to the audit log.
    """
    wanted = pseudonym.strip().upper()
    with transaction() as session:
        found = person_to_erase(session, wanted) is not None
    if not found:
        raise _unknown(wanted)
    if not yes:
        click.confirm(
            f"Erase {wanted} for good? Their identity and notes cannot be recovered", abort=True
        )
    register = register_file()
    try:
        with transaction() as session:
            person = person_to_erase(session, wanted)
            if person is None:  # erased or deleted meanwhile
                raise _unknown(wanted)
            erase_person(
                session,
                vault(),
                None,
                person,
                cause=ErasureCause.REQUEST,
                register=register,
                today=today_in_france(),
                now=datetime.now(UTC),
            )
    except RegisterFileError as exc:  # the transaction was rolled back
        raise click.ClickException(f"nothing erased: {exc}") from exc
    click.echo(
        f"{wanted} erased: data key, search indexes and identity deleted; the pathway stays "
        f"for the statistics under a new pseudonym. Register: {register.path}"
    )


def _unknown(pseudonym: str) -> click.ClickException:
    return click.ClickException(f"no person has the pseudonym {pseudonym}")


@gdpr_cli.command("reapply-erasures")
def reapply() -> None:
    """Erase again everyone the erasure register names, after a restore of the database.

    Reads the register table and its file, erases again every person whose data key or
    personal data a restored backup brought back, and writes to each copy of the register
    the lines it lacks. Running it again changes nothing.
    """
    register = register_file()
    try:
        with transaction() as session:
            report = reapply_erasures(
                session, vault(), register, today=today_in_france(), now=datetime.now(UTC)
            )
    except RegisterFileError as exc:  # the transaction was rolled back
        raise click.ClickException(f"nothing done: {exc}") from exc
    click.echo(
        f"register: {report.entries} erased people (table and {register.path}); "
        f"erased again: {report.erased_again}; already erased: {report.already_erased}; "
        f"not in this database: {report.absent}; lines put back in the table: "
        f"{report.rows_restored}, in the file: {report.lines_restored}"
    )
