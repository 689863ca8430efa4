"""``flask audit``: check the audit log's chain (whole, since the last seal, or one month); copy
its head outside the database; record a restore from a backup; seal the finished months and the
rows written before the chain; create the monthly partitions and prune sealed months
(docs/administration.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services.security import audit_check, audit_checkpoint, audit_retention
from app.services.security.audit_checkpoint import CheckpointError
from app.services.security.audit_seal import load_seals, month_of, parse_month, previous_month

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")

RESTORE_HINT = (
    "If the database was restored from a backup, record it: flask --app app audit restored."
)


def _configured_target() -> str | None:
    configured = current_app.config.get("AUDIT_CHECKPOINT")
    return str(configured) if configured else None


def _checkpoint_file(option: Path | None) -> Path | None:
    """The file ``verify`` compares with: ``--checkpoint``, else the configured file."""
    if option is not None:
        return option
    target = _configured_target()
    if target is None:
        return None
    if audit_checkpoint.is_syslog(target):
        raise click.ClickException(
            "RELAIS_AUDIT_CHECKPOINT sends the checkpoints to syslog: pass --checkpoint FILE "
            "(a copy of the log server's lines) to compare the chain with the last one"
        )
    return Path(target)


def _month_option(raw: str | None) -> str | None:
    if raw is None:
        return None
    month = parse_month(raw)
    if month is None:
        raise click.BadParameter(f"{raw!r} is not a month (YYYY-MM, e.g. 2026-11)")
    return month


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Compare with the last checkpoint of this file (default: RELAIS_AUDIT_CHECKPOINT).",
)
@click.option("--month", "month_raw", help="Check only this sealed month (YYYY-MM).")
@click.option(
    "--since-seal",
    is_flag=True,
    help="Check only what follows the last sealed month, from the MAC its seal keeps.",
)
def verify(checkpoint_path: Path | None, month_raw: str | None, since_seal: bool) -> None:
    """Check the audit rows against their MACs, the seals, the chain head and the last
    checkpoint.

    Exits with status 1 and names the first broken row (its seq and id) when a row was
    edited, deleted, inserted, moved, or rows were removed from the end - with the head moved
    back too, when the chain is behind the last checkpoint written outside the database - or
    a seal was edited or removed, or rows were removed that were not sealed. The seals are
    always checked; --month and --since-seal read only the rows of that period (--since-seal
    reads the whole chain while no month is sealed).
    """
    month = _month_option(month_raw)
    if month is not None and since_seal:
        raise click.UsageError("--month and --since-seal are two different periods: pick one")
    path = _checkpoint_file(checkpoint_path)
    with transaction(keys=False) as session:  # it says itself what another audit key breaks
        checkpoint = None
        if path is not None and month is None:
            try:
                checkpoint = audit_checkpoint.read_last_checkpoint(path)
            except CheckpointError as exc:
                raise click.ClickException(f"audit checkpoint: {exc}") from exc
        total = audit_check.rows_to_check(session, month=month, since_seal=since_seal)
        with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr) as bar:
            if month is not None:
                report = audit_check.verify_month(session, month, progress=bar.update)
            else:
                report = audit_check.verify_chain(
                    session, progress=bar.update, since_seal=since_seal
                )
        truncation = None if checkpoint is None else audit_checkpoint.compare(session, checkpoint)
    _say_what_was_read(report, month, since_seal)
    if report.legacy_rows:
        state = "sealed" if report.legacy_sealed else "NOT sealed"
        click.echo(f"Legacy rows before the chain: {report.legacy_rows} ({state}).")
    if report.broken is not None:
        where = f"seq {report.broken.seq}"
        if report.broken.id is not None:
            where += f" (id {report.broken.id})"
        click.echo(f"BROKEN at {where}: {report.broken.reason}.", err=True)
        sys.exit(1)
    if month is not None:
        click.echo(f"The month {month} is intact and matches its seal.")
        return
    if checkpoint is None:
        click.echo(
            "No audit checkpoint to compare with (RELAIS_AUDIT_CHECKPOINT is not set): rows "
            "removed from the end with the head moved back would not be seen."
        )
    elif truncation is not None:
        click.echo(f"TRUNCATED at seq {truncation.seq}: {truncation.reason}.", err=True)
        click.echo(RESTORE_HINT, err=True)
        sys.exit(1)
    else:
        click.echo(
            f"The chain holds the last checkpoint (seq {checkpoint.seq}, {checkpoint.when})."
        )
    click.echo("The audit chain is intact.")
    if report.legacy_rows and not report.legacy_sealed:
        click.echo("The legacy rows are not protected yet: run flask --app app audit seal-legacy.")


def _say_what_was_read(
    report: audit_check.ChainReport, month: str | None, since_seal: bool
) -> None:
    if month is not None:
        click.echo(f"Month {month}: seq {report.start} to {report.stop}.")
    elif since_seal and not report.seals:
        click.echo("No month of the audit log is sealed yet: the whole chain was checked.")
    if month is None and report.start > 1:
        label = "after the last seal" if since_seal and report.seals else "after the pruned months"
        click.echo(f"Checked from seq {report.start} ({label}).")
    click.echo(f"Rows checked: {report.rows} (chain head: seq {report.head_seq}).")


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CheckpointError(f"cannot read the checkpoint file {path} ({exc.strerror})") from exc


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Append the chain head (seq, MAC, time) to RELAIS_AUDIT_CHECKPOINT, outside the database.

    Run it from cron (every hour, say). Refuses, with status 1, when the chain is behind the
    last checkpoint of the file: a checkpoint never vouches for a cut log.
    """
    target = _configured_target()
    if target is None:
        raise click.ClickException(
            "RELAIS_AUDIT_CHECKPOINT is not set: name the append-only file (on storage the "
            "database server cannot write) or syslog:"
        )
    with transaction(commit=False) as session:
        try:
            audit_checkpoint.check_target(target)
            previous = None
            if not audit_checkpoint.is_syslog(target) and _has_content(Path(target)):
                previous = audit_checkpoint.read_last_checkpoint(Path(target))
            head = audit_checkpoint.current_head(session)
            truncation = None if previous is None else audit_checkpoint.compare(session, previous)
            if truncation is not None:
                click.echo(f"TRUNCATED at seq {truncation.seq}: {truncation.reason}.", err=True)
                click.echo("No checkpoint written: run flask --app app audit verify.", err=True)
                click.echo(RESTORE_HINT, err=True)
                sys.exit(1)
            audit_checkpoint.write_checkpoint(target, head)
        except CheckpointError as exc:
            raise click.ClickException(f"audit checkpoint: {exc}") from exc
    click.echo(f"Checkpoint written: seq {head.seq} ({head.when}) to {target}.")


@audit_cli.command("restored")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The checkpoints written before the restore (default: RELAIS_AUDIT_CHECKPOINT; "
    "a copy of the log server's lines when it is syslog:).",
)
def restored(checkpoint_path: Path | None) -> None:
    """Record a restore of the database from a backup, before opening Relais again.

    The audit events written between the backup and the restore are gone, so the chain is
    behind the last checkpoint, and audit verify and audit checkpoint refuse to go on (a
    restore looks like a log whose end was cut). This checks the restored chain (since the
    last seal, or whole), appends an audit:restored event naming the last checkpoint (its
    place and time) and the place the restore left the chain at, and writes a checkpoint
    after it: both commands go on from there. The checkpoint lines written before the restore
    stay where they are, the trace of what was lost. Refused when nothing was lost.
    """
    target = _configured_target()
    if target is None:
        raise click.ClickException(
            "RELAIS_AUDIT_CHECKPOINT is not set: the checkpoint after the restore needs it"
        )
    path = _checkpoint_file(checkpoint_path)
    if path is None:  # pragma: no cover - a target is set, so a file or an error
        raise click.ClickException("no checkpoint file to read")
    with transaction() as session:
        try:
            audit_checkpoint.check_target(target)
            last = audit_checkpoint.read_last_checkpoint(path)
        except CheckpointError as exc:
            raise click.ClickException(f"audit restored: {exc}") from exc
        sealed = bool(load_seals(session))
        total = audit_check.rows_to_check(session, month=None, since_seal=sealed)
        with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr) as bar:
            report = audit_check.verify_chain(session, progress=bar.update, since_seal=sealed)
        if report.broken is not None:
            click.echo(f"BROKEN at seq {report.broken.seq}: {report.broken.reason}.", err=True)
            click.echo("Nothing recorded: the restored log is not intact.", err=True)
            sys.exit(1)
        try:
            head = audit_checkpoint.record_restore(session, last)
        except CheckpointError as exc:
            raise click.ClickException(f"audit restored: {exc}") from exc
    try:
        audit_checkpoint.write_checkpoint(target, head)
    except CheckpointError as exc:
        raise click.ClickException(
            f"audit restored: the restore is recorded (seq {head.seq}) but {exc}; "
            "run flask --app app audit checkpoint"
        ) from exc
    click.echo(
        f"Restore recorded at seq {head.seq}: the restored log ended at seq {report.head_seq}, "
        f"the last checkpoint before the restore was at seq {last.seq} ({last.when}); the "
        "events written after the backup are lost."
    )
    click.echo(f"Checkpoint written: seq {head.seq} ({head.when}) to {target}.")


@audit_cli.command("seal-legacy")
def seal_legacy() -> None:
    """Append one chained event holding a MAC of the rows written before the chain existed.

    Run it once, right after upgrading to the tamper-evident audit log: the seal vouches for
    the legacy rows as they are when it is written. No row is rewritten.
    """
    with transaction() as session:
        sealed = audit_check.seal_legacy(session)
    click.echo(f"Sealed {sealed} legacy audit rows.")


@audit_cli.command("seal")
def seal() -> None:
    """Seal every finished month of the audit log not sealed yet, in order.

    Run it from cron early each month. Each month's rows are checked against their MACs first:
    a broken row stops it (status 1) and nothing after it is sealed.
    """
    with transaction() as session:
        sealed = audit_check.seal_months(session, datetime.now(UTC))
    if not sealed:
        click.echo(
            "No finished month to seal. (A month is sealed once it is over, from the audit "
            "log's first month on: the months before it hold nothing to seal or prune.)"
        )
    for item in sealed:
        click.echo(
            f"Sealed {item.month}: seq {item.first_seq} to {item.last_seq} ({item.rows} rows)."
        )


@audit_cli.command("partitions")
@click.option(
    "--ahead",
    type=click.IntRange(0, 24),
    default=3,
    show_default=True,
    help="Months to create after the current one.",
)
def partitions(ahead: int) -> None:
    """Create the audit log's monthly partitions (PostgreSQL), as the owner of the tables.

    This month's and the next ones; rows that fell into the default partition move to their
    month's new partition. Run it monthly from cron with the owner's DATABASE_URL.
    """
    with transaction() as session:
        created = audit_retention.ensure_partitions(session, datetime.now(UTC), ahead)
    if not created:
        click.echo("Every partition exists already.")
    for month in created:
        click.echo(f"Created the partition of {month}.")


@audit_cli.command("prune")
@click.option("--before", "before_raw", help="Remove the sealed months before this one (YYYY-MM).")
def prune(before_raw: str | None) -> None:
    """Remove the audit rows of sealed months, keeping their seals, as the owner of the tables.

    Without --before, keeps RELAIS_AUDIT_RETENTION_MONTHS whole months before the current one.
    Refuses (status 1) when the last month to remove is not sealed; months before the audit
    log's first month (a young instance) are nothing to prune (status 0).
    """
    before = _month_option(before_raw)
    if before is None:
        before = month_of(datetime.now(UTC))
        for _ in range(int(current_app.config["AUDIT_RETENTION_MONTHS"])):
            before = previous_month(before)
    with transaction() as session:
        pruned = audit_retention.prune_before(session, before)
    if pruned is None:
        click.echo(
            f"Nothing to prune before {before}: those rows are gone already, or the audit log "
            "begins later."
        )
        return
    click.echo(
        f"Pruned {pruned.rows} audit rows before {before} (seq {pruned.first_seq} to "
        f"{pruned.last_seq}); their seals are kept."
    )
