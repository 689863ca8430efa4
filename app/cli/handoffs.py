"""``flask handoffs``: the scheduled jobs of hand-offs (expiry, notification mails).

Both commands are safe to run again and are meant for cron, for instance every night::

    flask --app app handoffs expire && flask --app app handoffs send-mail

They commit after each batch, print what they did and exit non-zero when something failed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.cli.mail import send_once
from app.services.handoffs.deadlines import ExpiryReport, count_due_for_expiry, expire_handoffs

BATCH_SIZE = 100

handoffs_cli = AppGroup("handoffs", help="Hand-off deadlines and notification mails (for cron).")


def _expiry_days() -> int:
    days = current_app.config["HANDOFF_EXPIRY_DAYS"]
    if not isinstance(days, int) or days < 1:
        raise click.ClickException("HANDOFF_EXPIRY_DAYS must be a whole number of days, 1 or more")
    return days


@handoffs_cli.command("expire")
@click.option("--dry-run", is_flag=True, help="Only count the hand-offs that would expire.")
def expire(dry_run: bool) -> None:
    """Expire the hand-offs left without an answer for too long.

    A hand-off still waiting for an answer more than HANDOFF_EXPIRY_DAYS days (30 unless
    RELAIS_HANDOFF_EXPIRY_DAYS says otherwise) after it was sent becomes "expired", and its
    sender gets a mail. Running it again expires nothing more. A hand-off answered while the
    command runs is skipped.
    """
    days = _expiry_days()
    now = datetime.now(UTC)
    if dry_run:
        with transaction() as session:
            due = count_due_for_expiry(session, now=now, expiry_days=days)
        click.echo(f"would expire {due} (no answer for more than {days} days)")
        return
    total = ExpiryReport()
    while True:
        with transaction() as session:
            report = expire_handoffs(session, vault(), now=now, expiry_days=days, limit=BATCH_SIZE)
        total.expired += report.expired
        total.skipped += report.skipped
        if report.handled < BATCH_SIZE or report.expired == 0:
            break
    click.echo(f"expired {total.expired}, skipped {total.skipped} (answered meanwhile)")


@handoffs_cli.command("send-mail")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Most mails to handle in this run.",
)
def send_mail(limit: int) -> None:
    """Send the notification mails waiting in the outbox (same as ``mail work --once``).

    In production they go through the SMTP server of RELAIS_SMTP_HOST; in development and
    tests they stay in the outbox (see /dev/outbox) and one line each is logged. A mail that
    fails is retried by the next runs, at most 5 times.
    """
    send_once(limit)
