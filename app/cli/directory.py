"""``flask directory``: data·inclusion export and import, card editors, cards to check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction
from app.services.directory.editors import set_card_editor
from app.services.directory.interop.apply import check_directory, import_directory
from app.services.directory.interop.export import export_directory
from app.services.directory.interop.files import read_directory_file, to_json, write_csv
from app.services.directory.interop.schema import DirectoryImportError, Unmapped
from app.services.directory.search import DirectoryQuery, search_directory
from app.services.security import accounts

directory_cli = AppGroup(
    "directory",
    help="The partner directory: data·inclusion export and import, card editors.",
)

MAX_PROBLEMS_SHOWN = 200


def _public_base_url() -> str | None:
    """Cards link back to Relais (``lien_source``) only when the directory is public."""
    if not current_app.config["PUBLIC_DIRECTORY"]:
        return None
    url = current_app.config.get("PUBLIC_BASE_URL")
    return str(url) if url else None


@directory_cli.command("export")
@click.option(
    "--format",
    "schema",
    type=click.Choice(["data-inclusion"]),
    default="data-inclusion",
    show_default=True,
    help="The schema of the export (data·inclusion v1, structures and services).",
)
@click.option(
    "--type",
    "kind",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="One JSON file, or two CSV files (structures.csv and services.csv).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="JSON: the file to write (standard output by default). CSV: the folder to write to.",
)
def export(schema: str, kind: str, output: Path | None) -> None:
    """Write the directory's active structures and their services."""
    if kind == "csv" and output is None:
        raise click.ClickException("--type csv writes two files: give the folder with --output")
    with transaction() as session:
        data = export_directory(
            session, source=current_app.config["DIRECTORY_SOURCE"], base_url=_public_base_url()
        )
    try:
        if kind == "csv":
            assert output is not None
            paths = [str(p) for p in write_csv(data, output)]
        elif output is not None:
            output.write_text(to_json(data), encoding="utf-8")
            paths = [str(output)]
        else:
            click.echo(to_json(data), nl=False)
            paths = []
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from exc
    where = f" to {', '.join(paths)}" if paths else ""
    click.echo(
        f"Exported {len(data.structures)} structures and {len(data.services)} services{where}",
        err=True,
    )


def _problems_text(exc: DirectoryImportError) -> str:
    shown = [str(p) for p in exc.problems[:MAX_PROBLEMS_SHOWN]]
    more = len(exc.problems) - len(shown)
    if more > 0:
        shown.append(f"... and {more} more")
    return "\n".join([f"nothing was imported: {len(exc.problems)} problem(s) in the file", *shown])


def _report_unmapped(version: str, unmapped: list[Unmapped]) -> None:
    """Each value that could not be mapped (record, field, value), on standard error."""
    if not unmapped:
        return
    what = "v0 values with no v1 counterpart" if version == "v0" else "values Relais has no use for"
    click.echo(f"{len(unmapped)} value(s) not imported ({what}):", err=True)
    for item in unmapped[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"  {item}", err=True)
    if len(unmapped) > MAX_PROBLEMS_SHOWN:
        click.echo(f"  ... and {len(unmapped) - MAX_PROBLEMS_SHOWN} more", err=True)


@directory_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the whole file and write nothing.")
def import_(path: Path, dry_run: bool) -> None:
    """Import PATH: a data·inclusion JSON file, a folder holding structures.csv and
    services.csv, or a structures CSV file; schema v1, or v0 (mapped to v1).

    Every record is checked first: if any is wrong, each problem is listed (record, field,
    reason) and nothing is imported. A v0 value with no v1 counterpart (or a v1 value Relais
    has no use for) is listed (record, field, value) and left out. Structures are matched by
    code (the ``id`` of records from Relais); cards are replaced by what the file says.
    """
    own = current_app.config["DIRECTORY_SOURCE"]
    try:
        data = read_directory_file(path)
        with transaction(commit=not dry_run) as session:
            if dry_run:
                checked = check_directory(session, data, own_source=own)
                _report_unmapped(checked.version, checked.unmapped)
                click.echo(
                    f"The file is valid (data·inclusion {checked.version}): "
                    f"{len(checked.structures)} structures (nothing written)."
                )
                return
            report = import_directory(session, None, data, own_source=own, now=datetime.now(UTC))
    except DirectoryImportError as exc:
        raise click.ClickException(_problems_text(exc)) from exc
    _report_unmapped(report.version, report.unmapped)
    click.echo(
        f"Imported {len(report.created) + len(report.updated)} structures "
        f"({len(report.created)} created, {len(report.updated)} updated) "
        f"and {report.services} services (data·inclusion {report.version})."
    )
    if report.qpvs_added:
        click.echo(f"QPVs added to the reference list: {', '.join(report.qpvs_added)}")


def _set_editor(email: str, allowed: bool) -> None:
    with transaction() as session:
        user = accounts.get_user_by_email(session, email)
        changed = set_card_editor(session, None, user, allowed)
        structure = user.structure.code if user.structure else "-"
        state = "may edit" if allowed else "may not edit"
        note = "" if changed else " (unchanged)"
        click.echo(f"{user.email} {state} the card of {structure}{note}")


@directory_cli.command("allow-editor")
@click.argument("email")
def allow_editor(email: str) -> None:
    """Let the caseworker EMAIL edit their structure's card."""
    _set_editor(email, True)


@directory_cli.command("revoke-editor")
@click.argument("email")
def revoke_editor(email: str) -> None:
    """Take back the right of the caseworker EMAIL to edit their structure's card."""
    _set_editor(email, False)


@directory_cli.command("stale")
def stale() -> None:
    """List the cards not checked for RELAIS_DIRECTORY_STALE_MONTHS months: code, last check."""
    months = current_app.config["DIRECTORY_STALE_MONTHS"]
    with transaction() as session:
        entries = search_directory(
            session,
            DirectoryQuery(stale_only=True),
            today=date.today(),  # noqa: DTZ011 - the local calendar day, like the other commands
            stale_months=months,
        )
        for entry in entries:
            checked = entry.checked_on.isoformat() if entry.checked_on else "never"
            click.echo(f"{entry.structure.code}\t{checked}\t{entry.structure.name}")
    click.echo(f"{len(entries)} card(s) not checked for {months} months", err=True)
