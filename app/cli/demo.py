"""``flask demo``: load the fictional demonstration network (never into production data), and
add synthetic caseloads to it for dashboards and benchmarks."""

from __future__ import annotations

import time
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import commit_in_batches, failure_reason, transaction, vault
from app.demo.data.network import ADMIN_EMAIL
from app.demo.loading import DemoReport, load_demo
from app.demo.synthetic.caseload import (
    DEFAULT_BATCH_SIZE,
    MAX_PEOPLE,
    SyntheticCaseload,
    prepare_caseload,
)
from app.demo.synthetic.writing import GenerationCounts
from app.domain.roles import Role
from app.services.security.accounts import find_user

SECOND_FACTOR_ROLES = (Role.COORDINATOR, Role.ADMIN)

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
    development = current_app.config.get("RELAIS_ENV") == "development"
    _print_report(_load("the demo", rng_seed, with_totp_uris=development))


def _load(what: str, rng_seed: int, *, with_totp_uris: bool = False) -> DemoReport:
    """Load the demo in one transaction: it commits at the end, or nothing is written."""
    try:
        with transaction() as session:
            return load_demo(
                session,
                vault(),
                today=date.today(),  # noqa: DTZ011 - the local calendar day is "today"
                rng_seed=rng_seed,
                password_min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                with_totp_uris=with_totp_uris,
            )
    except click.ClickException as exc:
        raise click.ClickException(
            f"{what} could not be loaded, nothing was written: {exc.message}"
        ) from exc
    except Exception as exc:  # a bug in the demo data (rolled back): say so clearly
        raise click.ClickException(
            f"{what} could not be loaded, nothing was written: {failure_reason(exc)}"
        ) from exc


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
        click.echo(f"  {report.handoffs} hand-offs ({_counts(report.handoffs_by_status)}),")
        click.echo(f"  {report.decisions} orientation decisions.")
    click.echo("")
    click.echo("Demo accounts (the same password for all):")
    width = max((len(login.email) for login in report.logins), default=0)
    for login in report.logins:
        where = f" – {login.structure}" if login.structure else ""
        if login.manager:
            where += " (manager: Ma structure)"
        click.echo(f"  {login.email.ljust(width)}  {login.role.value}{where}")
    click.echo(f"Password: {report.password}")
    _print_second_factors(report)
    click.echo("")
    click.echo(
        "Reminder: every person in the demo is fictional. Do not record real people in this "
        "database, and never expose it with these accounts."
    )


def _print_second_factors(report: DemoReport) -> None:
    """The TOTP enrolment of each demo account that has one (development only: the report
    holds them only then), for an authenticator app or ``oathtool``."""
    uris = [(login.email, login.totp_uri) for login in report.logins if login.totp_uri]
    if uris:
        click.echo("")
        click.echo("Second factor (TOTP) of the coordinator and the administrator, for an")
        click.echo("authenticator app (as a QR code) or oathtool (the secret parameter):")
        for _email, uri in uris:
            click.echo(f"  {uri}")
    elif any(login.role in SECOND_FACTOR_ROLES for login in report.logins):
        click.echo("")
        click.echo(
            "The coordinator and the administrator have a second factor, not shown outside "
            "development: reset it with 'flask --app app users reset-2fa EMAIL' and set up "
            "a new one at the next sign-in."
        )


def _counts(by_key: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(by_key.items()))


@demo_cli.command("generate")
@click.option(
    "--people",
    "count",
    type=click.IntRange(1, MAX_PEOPLE),
    required=True,
    help=f"How many fictional people to add (1 to {MAX_PEOPLE:,}).",
)
@click.option(
    "--seed",
    "rng_seed",
    type=int,
    default=2026,
    show_default=True,
    help="Seed of the random draws: the same seed on the same database gives the same people.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="People written and committed per transaction.",
)
@click.option(
    "--allow-production",
    is_flag=True,
    help="Generate even when RELAIS_ENV is production (a public demo instance only).",
)
def generate(count: int, rng_seed: int, batch_size: int, allow_production: bool) -> None:
    """Add COUNT fictional people, with pathways, barriers and hand-offs, to the demo network.

    People registered over the last 36 months (more of them recently), with encrypted
    identities, consents, follow-ups, pathway steps through the stages, barriers and hand-offs
    in every state, for dashboards and benchmarks. Loads the demo network first if needed.
    Each run adds new people. Batches are committed one by one: on an error, the batch in
    progress is rolled back and the command says how many people were written. The progress
    bar goes to standard error, the summary to standard output.
    """
    if current_app.config.get("RELAIS_ENV") == "production" and not allow_production:
        raise click.ClickException(
            "refusing to generate fictional people into a production database; pass "
            "--allow-production for a public demo instance"
        )
    _load_network_if_missing(rng_seed)
    started = time.perf_counter()
    try:
        with transaction() as session:
            caseload = prepare_caseload(
                session,
                seed=rng_seed,
                today=date.today(),  # noqa: DTZ011 - the local calendar day, as demo load
                expiry_days=current_app.config["HANDOFF_EXPIRY_DAYS"],
            )
    except click.ClickException as exc:
        raise click.ClickException(f"nothing generated: {exc.message}") from exc
    first = caseload.next_index
    totals = _write_batches(caseload, count, batch_size)
    _print_generation(totals, rng_seed, first, time.perf_counter() - started)


def _load_network_if_missing(rng_seed: int) -> None:
    with transaction() as session:
        loaded = find_user(session, ADMIN_EMAIL) is not None
    if loaded:
        return
    click.echo("The demo network is not loaded: loading it first.")
    development = current_app.config.get("RELAIS_ENV") == "development"
    _print_report(_load("the demo network", rng_seed, with_totp_uris=development))
    click.echo("")


def _write_batches(caseload: SyntheticCaseload, count: int, batch_size: int) -> GenerationCounts:
    """Write and commit ``count`` people, ``batch_size`` at a time, with a progress bar."""
    ring = vault()
    totals = GenerationCounts()
    commit_in_batches(
        lambda session, size: _tally(totals, caseload.write_batch(session, ring, size)),
        batch_size=batch_size,
        total=count,
        label="Generating",
        stopped=lambda reason, done: (
            f"generation stopped ({reason}): {done} people were written before (committed); "
            "the batch in progress was rolled back"
        ),
        stop_at_total=True,
    )
    return totals


def _tally(totals: GenerationCounts, batch: GenerationCounts) -> int:
    totals.add(batch)
    return batch.people


def _print_generation(totals: GenerationCounts, seed: int, first: int, seconds: float) -> None:
    rate = totals.people / seconds if seconds > 0 else 0.0
    click.echo(
        f"Generated {totals.people} fictional people (seed {seed}, people "
        f"{first + 1} to {first + totals.people} of the database) in {seconds:.1f} s "
        f"({rate:.0f} people/s)."
    )
    click.echo("Rows written:")
    width = max(len(name) for name in totals.rows)
    for name, rows in totals.rows.items():
        click.echo(f"  {name.ljust(width)}  {rows:>10}")
    click.echo(f"  {'total'.ljust(width)}  {sum(totals.rows.values()):>10}")
    click.echo(f"Hand-offs by status: {_counts(dict(totals.handoffs_by_status))}.")
    click.echo(f"Pathway steps by stage: {_counts(dict(totals.steps_by_stage))}.")
    click.echo(f"Barriers by status: {_counts(dict(totals.barriers_by_status))}.")
