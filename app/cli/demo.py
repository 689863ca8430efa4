"""``flask demo``: load the fictional demonstration network (never into production data)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.extensions import db
from app.services.demo import DemoReport, load_demo

demo_cli = AppGroup(
    "demo",
    help="Fictional demonstration data: a Belfort-like network of partners and people.",
)


@demo_cli.command("load")
@click.option(
    "--seed",
    "rng_seed",
    type=int,
    default=2026,
    show_default=True,
    help="Seed of the random draws (dates, partners): the same seed gives the same data.",
)
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load even when RELAIS_ENV is production (a public demo instance only).",
)
def load(rng_seed: int, allow_production: bool) -> None:
    """Create the demo network, its accounts and about sixty fictional people.

    Partner structures, one caseworker account per structure, a coordinator and an
    administrator (all with the same published password), then people with pathways, barriers
    and hand-offs in every state, dated over the last eighteen months. Running it again
    changes nothing. Never load it into a database that holds real people.
    """
    if current_app.config.get("RELAIS_ENV") == "production" and not allow_production:
        raise click.ClickException(
            "refusing to load fictional people and accounts with a published password into a "
            "production database; pass --allow-production for a public demo instance"
        )
    try:
        # One transaction: commits at the end, or rolls back and raises ClickException.
        with transaction() as session:
            report = load_demo(
                session,
                vault(),
                today=date.today(),  # noqa: DTZ011 - the local calendar day is "today"
                rng_seed=rng_seed,
                password_min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
    except click.ClickException as exc:
        raise click.ClickException(
            f"the demo could not be loaded, nothing was written: {exc.message}"
        ) from exc
    except Exception as exc:  # a bug in the demo data: still roll back and say so clearly
        db.session.rollback()
        raise click.ClickException(
            f"the demo could not be loaded, nothing was written: {type(exc).__name__}: {exc}"
        ) from exc
    _print_report(report)


def _print_report(report: DemoReport) -> None:
    if report.already_loaded:
        click.echo("The demo is already loaded: nothing was changed.")
    else:
        click.echo("Demo loaded:")
        click.echo(f"  {report.qpvs} fictional QPVs, {report.structures} partner structures,")
        click.echo(f"  {report.accounts} accounts,")
        click.echo(
            f"  {report.people} fictional people "
            f"({report.people_without_consent} without recorded consent), "
            f"{report.follow_ups} follow-ups,"
        )
        click.echo(f"  {report.steps} pathway steps ({_counts(report.steps_by_stage)}),")
        click.echo(f"  {report.barriers} barriers ({_counts(report.barriers_by_status)}),")
        click.echo(f"  {report.handoffs} hand-offs ({_counts(report.handoffs_by_status)}).")
    click.echo("")
    click.echo("Demo accounts (the same password for all):")
    width = max((len(login.email) for login in report.logins), default=0)
    for login in report.logins:
        where = f" – {login.structure}" if login.structure else ""
        click.echo(f"  {login.email.ljust(width)}  {login.role.value}{where}")
    click.echo(f"Password: {report.password}")
    click.echo("")
    click.echo(
        "Reminder: every person in the demo is fictional. Do not record real people in this "
        "database, and never expose it with these accounts."
    )


def _counts(by_key: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(by_key.items()))
