"""``flask webhooks``: the webhook worker. A hand-off change queues its deliveries in its own
transaction (the outbox); this worker POSTs them, signed, and retries the failures with an
exponential back-off until ``RELAIS_WEBHOOK_MAX_ATTEMPTS``, then gives them up.

Run it as a service (``flask --app app webhooks work``: woken by PostgreSQL's ``NOTIFY`` after
each commit that queued a delivery, and every ``--interval`` seconds for the retries falling
due, or on SQLite), or from cron (``flask --app app webhooks work --once``). A lock file lets
one worker of a machine deliver at a time; on PostgreSQL the rows being delivered are locked
(``SKIP LOCKED``) against workers of other machines.
"""

from __future__ import annotations

import signal
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.cli.mail import _Stop, worker_lock
from app.extensions import db
from app.services.mail.worker import MailWakeups
from app.services.webhooks.delivery import deliver_due
from app.services.webhooks.queue import WEBHOOK_CHANNEL, given_up_count
from app.services.webhooks.settings import WebhookSettings, webhook_settings

BATCH_SIZE = 50
LOCK_FILE = "webhook-worker.lock"

webhooks_cli = AppGroup("webhooks", help="Webhooks: the worker that delivers hand-off events.")


@dataclass(slots=True)
class Run:
    delivered: int = 0
    failed: int = 0
    given_up: int = 0
    tried: set[uuid.UUID] = field(default_factory=set)


def deliver_waiting(settings: WebhookSettings, *, limit: int) -> Run:
    """Send up to ``limit`` due deliveries, committing after each batch."""
    run = Run()
    keys = vault().keys
    while run.delivered + run.failed < limit:
        batch = min(BATCH_SIZE, limit - run.delivered - run.failed)
        with transaction() as session:
            report = deliver_due(
                session, keys, settings, now=datetime.now(UTC), limit=batch, skip=run.tried
            )
        run.delivered += report.delivered
        run.failed += report.failed
        run.given_up += report.given_up
        run.tried.update(report.failed_ids)
        if report.handled < batch:
            break
    return run


def _report(run: Run) -> None:
    click.echo(f"delivered {run.delivered}, failed {run.failed}")
    with transaction() as session:
        given_up = given_up_count(session)
    if given_up:
        click.echo(
            f"warning: {given_up} webhook deliveries were given up "
            "(see each structure's webhooks page)",
            err=True,
        )


def work_forever(settings: WebhookSettings, interval: float, max_runs: int | None) -> None:
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    runs = 0
    try:
        with worker_lock(LOCK_FILE) as held:
            if not held:
                raise click.ClickException("another webhook worker is running on this machine")
            with MailWakeups(db.listen_engine, WEBHOOK_CHANNEL) as wakeups:
                how = "woken by PostgreSQL" if wakeups.listening else "polling"
                click.echo(f"webhook worker started ({how}, every {interval:g} s at most)")
                while not stop.requested and (max_runs is None or runs < max_runs):
                    run = deliver_waiting(settings, limit=10 * BATCH_SIZE)
                    runs += 1
                    if run.delivered or run.failed:
                        click.echo(f"delivered {run.delivered}, failed {run.failed}")
                    if not stop.requested and (max_runs is None or runs < max_runs):
                        wakeups.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("webhook worker stopped")


@webhooks_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due, then stop (for cron).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=3600),
    default=5.0,
    show_default=True,
    help="Seconds between two looks for due deliveries when nothing wakes the worker.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="With --once: most deliveries to handle in this run.",
)
@click.option("--max-runs", type=click.IntRange(min=1), hidden=True, default=None)
def work(once: bool, interval: float, limit: int, max_runs: int | None) -> None:
    """Deliver the webhook events that are due (new ones, and retries whose time has come).

    A delivery that fails is tried again later (1 minute, then doubling up to 6 hours), at
    most RELAIS_WEBHOOK_MAX_ATTEMPTS times, then given up.
    """
    settings = webhook_settings(current_app.config)
    if not once:
        work_forever(settings, interval, max_runs)
        return
    with worker_lock(LOCK_FILE) as held:
        if not held:
            click.echo("another webhook worker is running on this machine; nothing done")
            return
        run = deliver_waiting(settings, limit=limit)
    _report(run)
