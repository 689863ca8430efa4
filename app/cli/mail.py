"""``flask mail``: the mail worker. Mails never leave inside a person's request: a change
queues them in its transaction (the outbox), and this worker sends them.

Run it as a service (``flask --app app mail work``: it sends within moments of each commit on
PostgreSQL, which wakes it with ``NOTIFY``, and polls every ``--interval`` seconds on SQLite),
or from cron (``flask --app app mail work --once``, also reachable as the older
``flask --app app handoffs send-mail``). Both are safe side by side: a lock file in the
instance folder lets one worker of a machine deliver at a time, and on PostgreSQL the rows being
delivered are locked (``SKIP LOCKED``) against workers of other machines.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction
from app.extensions import db
from app.services.mail.delivery import deliver_pending
from app.services.mail.queue import MAX_ATTEMPTS, given_up_count
from app.services.mail.settings import MailSettings, mail_settings, make_sender
from app.services.mail.transport import MailConfigError
from app.services.mail.worker import MailWakeups

BATCH_SIZE = 100
LOCK_FILE = "mail-worker.lock"

mail_cli = AppGroup("mail", help="Notification mails: the worker that sends the outbox.")


@dataclass(slots=True)
class RunReport:
    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    tried: set[uuid.UUID] = field(default_factory=set)


def deliver_waiting(settings: MailSettings, *, limit: int, retry_failed: bool) -> RunReport:
    """Send up to ``limit`` waiting mails, committing after each batch of ``BATCH_SIZE``."""
    run = RunReport()
    while run.sent + run.failed < limit:
        batch = min(BATCH_SIZE, limit - run.sent - run.failed)
        with transaction() as session:
            report = deliver_pending(
                session,
                make_sender(settings),
                base_url=settings.base_url,
                now=datetime.now(UTC),
                limit=batch,
                retry_failed=retry_failed,
                skip=run.tried,
            )
        run.sent += report.sent
        run.failed += report.failed
        run.tried.update(report.failed_ids)
        run.last_error = report.last_error or run.last_error
        if report.stopped or report.handled < batch:
            break
    return run


@contextmanager
def worker_lock(name: str = LOCK_FILE) -> Iterator[bool]:
    """Hold the machine's mail-worker lock (or the lock file ``name``); yields ``False`` when
    another worker holds it."""
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock


def _settings() -> MailSettings:
    try:
        return mail_settings(current_app.config)
    except MailConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def send_once(limit: int) -> None:
    """Send what is waiting (retrying earlier failures), say what was done, fail if any failed."""
    settings = _settings()
    with worker_lock() as held:
        if not held:
            click.echo("another mail worker is running on this machine; nothing done")
            return
        run = deliver_waiting(settings, limit=limit, retry_failed=True)
    with transaction() as session:
        given_up = given_up_count(session)
    click.echo(f"sent {run.sent}, failed {run.failed}")
    if given_up:
        click.echo(
            f"warning: {given_up} mail(s) failed {MAX_ATTEMPTS} times and are no longer retried",
            err=True,
        )
    if run.failed:
        raise click.ClickException(
            f"{run.failed} mail(s) not sent (last error: {run.last_error}); "
            "the next run retries them"
        )


class _Stop:
    """Set by SIGTERM or SIGINT: the worker finishes its batch, then stops."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signal: int, _frame: FrameType | None) -> None:
        self.requested = True


def work_forever(interval: float, retry_minutes: float, max_runs: int | None) -> None:
    """Deliver new mail as it is announced; retry failures every ``retry_minutes``."""
    settings = _settings()
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _loop(settings, stop, interval, retry_minutes, max_runs)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("mail worker stopped")


def _loop(
    settings: MailSettings, stop: _Stop, interval: float, retry_minutes: float, max_runs: int | None
) -> None:
    last_retry = float("-inf")
    runs = 0
    with worker_lock() as held:
        if not held:
            raise click.ClickException("another mail worker is running on this machine")
        with MailWakeups(db.listen_engine) as wakeups:
            how = "woken by PostgreSQL" if wakeups.listening else f"every {interval:g} s"
            click.echo(f"mail worker started ({how}); stop it with Ctrl-C or SIGTERM")
            while not stop.requested and (max_runs is None or runs < max_runs):
                retry = time.monotonic() - last_retry >= retry_minutes * 60
                run = deliver_waiting(settings, limit=10 * BATCH_SIZE, retry_failed=retry)
                last_retry = time.monotonic() if retry else last_retry
                runs += 1
                if run.sent or run.failed:
                    click.echo(f"sent {run.sent}, failed {run.failed}")
                if not stop.requested and (max_runs is None or runs < max_runs):
                    wakeups.wait(interval)


@mail_cli.command("work")
@click.option("--once", is_flag=True, help="Send what is waiting, then stop (for cron).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=3600),
    default=5.0,
    show_default=True,
    help="Seconds between two looks at the outbox when nothing wakes the worker.",
)
@click.option(
    "--retry-minutes",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="How often the worker retries mails that failed (at most 5 times each).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="With --once: most mails to handle in this run.",
)
@click.option("--max-runs", type=click.IntRange(min=1), hidden=True, default=None)
def work(
    once: bool, interval: float, retry_minutes: float, limit: int, max_runs: int | None
) -> None:
    """Send the notification mails waiting in the outbox.

    In production they go through the SMTP server of RELAIS_SMTP_HOST; in development and
    tests they stay in the outbox (see /dev/outbox) and one line each is logged. A mail that
    fails is retried later, at most 5 times.
    """
    if once:
        send_once(limit)
    else:
        work_forever(interval, retry_minutes, max_runs)
