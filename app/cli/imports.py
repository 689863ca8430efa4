"""``flask beneficiaries import``: bring a structure's existing caseload in from a spreadsheet
(.xlsx, .ods) or a CSV file."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.services import imports
from app.services.imports import ImportRejected, Problem
from app.services.structures import get_structure

beneficiaries_cli = AppGroup("beneficiaries", help="Bring people followed by a structure in.")

PARIS = ZoneInfo("Europe/Paris")
SHOWN_PROBLEMS = 200


def _today() -> date:
    """Today in France, the date written on follow-ups and consents without a date."""
    return datetime.now(PARIS).date()


def _where(problem: Problem) -> str:
    if problem.line is None:
        return "file"
    if problem.column is None:
        return f"line {problem.line}"
    return f"line {problem.line}, column {problem.column}"


def _report(problems: Sequence[Problem], kind: str) -> None:
    """One problem a line, on standard error: where, then why."""
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"{kind}: {_where(problem)}: {problem}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more", err=True)


def _read(path: Path) -> bytes:
    if path.stat().st_size > imports.MAX_FILE_BYTES:
        raise click.ClickException(
            f"nothing imported: the file is larger than {imports.MAX_FILE_MEGABYTES} MB; "
            "split it into several files"
        )
    return path.read_bytes()


@beneficiaries_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--structure", "structure_code", required=True, help="Code of the structure.")
@click.option(
    "--as",
    "as_email",
    default=None,
    metavar="EMAIL",
    help="Active caseworker of the structure the import is attributed to (follow-ups, "
    "consents, audit). Default: the structure's first active caseworker.",
)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Import even if possible duplicates are found (they are listed).",
)
@click.option(
    "--check-only", is_flag=True, help="Check the file and list problems; import nothing."
)
@click.option(
    "--sheet",
    "sheet_name",
    default=None,
    metavar="NAME",
    help="The sheet of an .xlsx or .ods file to import (default: its first sheet).",
)
def import_people(
    file: Path,
    structure_code: str,
    as_email: str | None,
    allow_duplicates: bool,
    check_only: bool,
    sheet_name: str | None,
) -> None:
    """Import the people of FILE (.xlsx, .ods or CSV) as followed by the structure.

    \b
    The kind of file is told by its content, not its name. A spreadsheet is read as it is
    (its first sheet, or --sheet NAME; formulas give the value saved with them; a cell in
    error such as #REF! is a problem of its line); line numbers are its row numbers.
    \b
    Columns (French headers, any case or accents; CSV separator ; or ,):
      nom, prenom, public          required
      date_naissance               JJ/MM/AAAA or AAAA-MM-JJ
      telephone, email, adresse, code_qpv
      public                       cohort codes or labels, several separated by | or ,
      consentement                 empty, oral or signé, optionally followed by JJ/MM/AAAA
    CSV encoding: UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252. At most 5 MB and 20,000 lines.

    Every line is checked first: if one is wrong, nothing is imported and each problem is
    listed with its line (the header is line 1) and column. Possible duplicates (in the file
    or already in Relais) hold the import back unless --allow-duplicates is given.
    """
    data = _read(file)
    if sheet_name is not None and imports.kind_of(data) is imports.Kind.CSV:
        raise click.ClickException("nothing imported: --sheet is for .xlsx and .ods files")
    today = _today()
    held_back: list[Problem] = []
    with transaction() as session:
        structure = get_structure(session, structure_code)
        if not structure.active:
            raise click.ClickException(
                f"nothing imported: the structure {structure.code} is inactive"
            )
        actor = imports.import_actor(session, structure, as_email)
        try:
            sheet = imports.read_sheet(data, sheet_name=sheet_name)
        except ImportRejected as exc:
            _report(exc.problems, "error")
            raise click.ClickException("nothing imported: the file cannot be read") from exc
        with click.progressbar(length=len(sheet.lines), label="Checking", file=sys.stderr) as bar:
            checked = imports.check_sheet(
                session, vault(), actor, sheet, today=today, progress=bar.update
            )
        if checked.errors:
            _report(checked.errors, "error")
            raise click.ClickException(
                f"nothing imported: {len(checked.errors)} problem(s) in "
                f"{len({p.line for p in checked.errors})} line(s); correct the file and run again"
            )
        _report(checked.warnings, "warning")
        if checked.warnings and not allow_duplicates:
            held_back = checked.warnings  # the audited lookup is committed, nothing else
        elif check_only:
            click.echo(f"{checked.total} people ready to import; nothing imported (--check-only)")
        else:
            with click.progressbar(
                length=len(checked.rows), label="Importing", file=sys.stderr
            ) as bar:
                count = imports.import_checked(
                    session, vault(), actor, checked, today=today, progress=bar.update
                )
            click.echo(f"Imported {count} people into {structure.code} as {actor.email}")
    if held_back:
        lines = ", ".join(str(n) for n in sorted({p.line for p in held_back if p.line}))
        raise click.ClickException(
            f"nothing imported: possible duplicates on lines {lines}; check them, then run "
            "again with --allow-duplicates"
        )
