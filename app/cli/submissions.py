"""``flask submissions purge``: forget the one-time tokens of forms sent long ago (for cron).

A used token is kept so that a form sent twice creates one record (see
``app/services/submissions.py``). Once no form carrying it can be accepted any more (a form
lasts 8 hours), the row serves nothing: the command deletes those older than ``--days`` (2 by
default, 1 at least). Safe to run again, at any time; ``--dry-run`` only counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services import submissions

submissions_cli = AppGroup(
    "submissions", help="One-time tokens of the forms that create records (for cron)."
)


@submissions_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Keep the tokens used in the last DAYS days (1 at least).",
)
@click.option("--dry-run", is_flag=True, help="Only count the tokens that would be deleted.")
def purge(days: int, dry_run: bool) -> None:
    """Delete the submission tokens used more than DAYS days ago."""
    now = datetime.now(UTC)
    keep = timedelta(days=days)
    if dry_run:
        with transaction(commit=False) as session:
            due = submissions.count_older_than(session, now - keep)
        click.echo(f"would delete {due} submission token(s) used more than {days} day(s) ago")
        return
    with transaction() as session:
        deleted = submissions.purge(session, now=now, keep=keep)
    click.echo(f"deleted {deleted} submission token(s) used more than {days} day(s) ago")
