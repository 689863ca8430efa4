"""``flask audit``: check the audit log's chain; seal the rows written before the chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services.security import audit_check

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Check every audit row against its MAC and the chain head.

    Exits with status 1 and names the first broken row (its seq and id) when a row was
    edited, deleted, inserted, moved, or rows were removed from the end.
    """
    with transaction() as session:
        total = audit_check.chain_length(session)
        with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr) as bar:
            report = audit_check.verify_chain(session, progress=bar.update)
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
    click.echo("The audit chain is intact.")
    if report.legacy_rows and not report.legacy_sealed:
        click.echo("The legacy rows are not protected yet: run flask --app app audit seal-legacy.")


@audit_cli.command("seal-legacy")
def seal_legacy() -> None:
    """Append one chained event holding a MAC of the rows written before the chain existed.

    Run it once, right after upgrading to the tamper-evident audit log: the seal vouches for
    the legacy rows as they are when it is written. No row is rewritten.
    """
    with transaction() as session:
        sealed = audit_check.seal_legacy(session)
    click.echo(f"Sealed {sealed} legacy audit rows.")
