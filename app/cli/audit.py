"""``flask audit``: check the audit log's chain; copy its head outside the database; seal the
rows written before the chain."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services.security import audit_check, audit_checkpoint
from app.services.security.audit_checkpoint import CheckpointError

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


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


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Compare with the last checkpoint of this file (default: RELAIS_AUDIT_CHECKPOINT).",
)
def verify(checkpoint_path: Path | None) -> None:
    """Check every audit row against its MAC, the chain head and the last checkpoint.

    Exits with status 1 and names the first broken row (its seq and id) when a row was
    edited, deleted, inserted, moved, or rows were removed from the end - with the head moved
    back too, when the chain is behind the last checkpoint written outside the database.
    """
    path = _checkpoint_file(checkpoint_path)
    with transaction() as session:
        checkpoint = None
        if path is not None:
            try:
                checkpoint = audit_checkpoint.read_last_checkpoint(path)
            except CheckpointError as exc:
                raise click.ClickException(f"audit checkpoint: {exc}") from exc
        total = audit_check.chain_length(session)
        with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr) as bar:
            report = audit_check.verify_chain(session, progress=bar.update)
        truncation = None if checkpoint is None else audit_checkpoint.compare(session, checkpoint)
    click.echo(f"Rows checked: {report.rows} (chain head: seq {report.head_seq}).")
    if report.legacy_rows:
        state = "sealed" if report.legacy_sealed else "NOT sealed"
        click.echo(f"Legacy rows before the chain: {report.legacy_rows} ({state}).")
    if report.broken is not None:
        where = f"seq {report.broken.seq}"
        if report.broken.id is not None:
            where += f" (id {report.broken.id})"
        click.echo(f"BROKEN at {where}: {report.broken.reason}.", err=True)
        sys.exit(1)
    if checkpoint is None:
        click.echo(
            "No audit checkpoint to compare with (RELAIS_AUDIT_CHECKPOINT is not set): rows "
            "removed from the end with the head moved back would not be seen."
        )
    elif truncation is not None:
        click.echo(f"TRUNCATED at seq {truncation.seq}: {truncation.reason}.", err=True)
        sys.exit(1)
    else:
        click.echo(
            f"The chain holds the last checkpoint (seq {checkpoint.seq}, {checkpoint.when})."
        )
    click.echo("The audit chain is intact.")
    if report.legacy_rows and not report.legacy_sealed:
        click.echo("The legacy rows are not protected yet: run flask --app app audit seal-legacy.")


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
                sys.exit(1)
            audit_checkpoint.write_checkpoint(target, head)
        except CheckpointError as exc:
            raise click.ClickException(f"audit checkpoint: {exc}") from exc
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
