"""``flask statistics``: the national layer's exchange (docs/scaling.md).

* ``publish`` writes this territory's protected tables of a period as a signed file
  (``RELAIS_TERRITORY``, ``RELAIS_PUBLICATION_KEY``) and audits it;
* ``gather FILE...`` checks territories' files against the trusted keys
  (``RELAIS_TRUSTED_PUBLICATION_KEYS``), adds them up with the protection re-checked, and
  writes the national tables: a file of the same format (signed with this instance's key)
  and/or CSV files.

A refused file, or files that do not go together, stop the command with the reason and a
non-zero exit, and nothing is written.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import transaction, vault
from app.crypto import KeyConfigError
from app.crypto.signing import SigningKey, canonical, parse_trusted_keys
from app.domain.periods import Quarter
from app.extensions import db
from app.services.safe_csv import csv_text
from app.services.statistics import national
from app.services.statistics.publication import (
    PublicationSettings,
    digest,
    publish,
    signed,
)
from app.services.statistics.report import QUARTER_YEARS, last_full_quarter, read_quarter
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.setting_values import read_secret
from app.settings import PUBLICATION_KEY

statistics_cli = AppGroup("statistics", help="Publish protected tables; gather territories' files.")

# A territory's file holds a few thousand counts: anything far larger is not one.
MAX_FILE_BYTES = 20 * 1024 * 1024


def _version() -> str:
    try:
        return version("relais")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout not installed
        return "dev"


def _territory() -> str:
    territory = current_app.config.get("TERRITORY")
    if not territory:
        raise click.ClickException(
            "RELAIS_TERRITORY is not set: the id of this territory in the files it publishes"
        )
    return str(territory)


def signing_key() -> SigningKey:
    """The territory's signing key: ``RELAIS_PUBLICATION_KEY`` (or ``..._FILE``), checked,
    never one of the other keys."""
    try:
        text = read_secret(PUBLICATION_KEY)
        if not text:
            raise KeyConfigError(
                f"{PUBLICATION_KEY} is missing (flask --app app keys publication-key --new)"
            )
        key = SigningKey.from_text(PUBLICATION_KEY, text)
    except (KeyConfigError, OSError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    ring = vault().keys
    if key.seed in {ring.secret_key, ring.index_key, ring.audit_key, *ring.keks.values()}:
        raise click.ClickException(
            f"{PUBLICATION_KEY} reuses another key of this instance; each role needs its own"
        )
    return key


def _write(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all (a temporary file, then renamed)."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise click.ClickException(f"{path}: no such folder")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise click.ClickException(f"{path}: cannot write ({exc.strerror})") from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@statistics_cli.command("publish")
@click.option("--quarter", metavar="2026-Q3", help="The period: a calendar quarter.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="Or: the first day (ISO).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="And the last day (ISO).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
def publish_command(
    quarter: str | None, start: datetime | None, end: datetime | None, output: Path
) -> None:
    """Write this territory's protected tables of a period as a signed file.

    The period is --quarter, or --start and --end; by default the last full quarter. A period
    that has not begun is refused; one not over yet (the current quarter) is published as it
    stands today. The tables are the publication view's that add up across territories
    (docs/scaling.md).
    """
    if quarter and (start or end):
        raise click.UsageError("give --quarter, or --start and --end, not both")
    if (start is None) != (end is None):
        raise click.UsageError("give both --start and --end")
    now = datetime.now(UTC)
    today = now.date()
    first, last = _period(quarter, start, end, today)
    config = current_app.config
    settings = PublicationSettings(
        territory=_territory(),
        k=int(config["SMALL_COUNT_THRESHOLD"]),
        lost_days=int(config["LOST_FROM_VIEW_DAYS"]),
        version=_version(),
    )
    key = signing_key()
    with transaction() as session:
        scope = resolve_scope(session, DashboardFilters(start=first, end=last), today=today)
        found = publish(session, scope, settings, key, today=today, now=now, reading=db.reading())
        _write(output, canonical(found))
    document = found["publication"]
    click.echo(
        f"Published {len(document['tables'])} tables of {settings.territory} for "
        f"{scope.start} to {scope.end} in {output} (threshold {settings.k}; key "
        f"{key.verify_key.key_id}; sha256 {digest(document)})."
    )


def _period(
    quarter: str | None, start: datetime | None, end: datetime | None, today: date
) -> tuple[date, date]:
    """The first and last days to publish: a usage error for a quarter that is not one, out
    of ``QUARTER_YEARS``, or a period that has not begun (it would count nothing yet)."""
    if start is not None and end is not None:
        first, last = start.date(), end.date()
        if first.year < QUARTER_YEARS[0]:
            raise click.BadParameter(
                f"{first} is out of range: a period starts in {QUARTER_YEARS[0]} or later",
                param_hint="--start",
            )
    else:
        found = _quarter(quarter) if quarter else last_full_quarter(today)
        first, last = found.starts_on, found.ends_on
    if first > today:
        raise click.UsageError(
            f"the period {first} to {last} has not begun (today is {today}): publish a period "
            f"once it has begun; by default the last full quarter, {last_full_quarter(today)}"
        )
    return first, last


def _quarter(text: str) -> Quarter:
    found = read_quarter(text)
    if found is None:
        raise click.BadParameter(
            f"Give a quarter as 2026-Q3 (a year, -Q, then 1 to 4): {text!r} is not one",
            param_hint="--quarter",
        )
    if found.year not in QUARTER_YEARS:
        raise click.BadParameter(
            f"{found} is out of range: give a quarter of {QUARTER_YEARS[0]} to {QUARTER_YEARS[-1]}",
            param_hint="--quarter",
        )
    return found


@statistics_cli.command("gather")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The national tables as a publication, signed with this instance's key.",
)
@click.option(
    "--csv",
    "csv_folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder to write one CSV file per national table into.",
)
def gather_command(files: tuple[Path, ...], output: Path | None, csv_folder: Path | None) -> None:
    """Add up territories' published files into national tables, protection re-checked.

    Each FILE must be signed by a key RELAIS_TRUSTED_PUBLICATION_KEYS trusts for its
    territory; the files must be one per territory, of the same period and parameters.
    """
    if output is None and csv_folder is None:
        raise click.UsageError("give --output FILE, --csv FOLDER or both")
    config = current_app.config
    k = int(config["SMALL_COUNT_THRESHOLD"])
    try:
        trusted = parse_trusted_keys(
            "RELAIS_TRUSTED_PUBLICATION_KEYS", str(config.get("TRUSTED_PUBLICATION_KEYS") or "")
        )
    except KeyConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    territory = _territory()
    key = signing_key() if output is not None else None
    try:
        read = [national.read_publication(_read(path), path.name, trusted, k) for path in files]
        tables = national.gather(read, k)
    except national.PublicationRefused as exc:
        raise click.ClickException(str(exc)) from exc
    now = datetime.now(UTC)
    document = national.national_document(
        tables, read, territory=territory, k=k, now=now, version=_version()
    )
    with transaction() as session:
        national.record_gathering(session, read, territory, document)
        if output is not None and key is not None:
            _write(output, canonical(signed(document, key)))
        if csv_folder is not None:
            _write_csv(csv_folder, tables, k, len(read))
    hidden = sum(
        1
        for table in document["tables"]
        for line in _lines(table)
        for value in line
        if value is None
    )
    click.echo(
        f"Gathered {len(read)} territories ({', '.join(f.territory for f in read)}) for "
        f"{read[0].period[0]} to {read[0].period[1]}: {len(tables)} national tables, "
        f"{hidden} values hidden."
    )


def _lines(table: dict[str, object]) -> list[list[object]]:
    values = table["values"]
    assert isinstance(values, list)
    return [line if isinstance(line, list) else [line] for line in values]


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise national.PublicationRefused(f"{path.name}: too large to be a publication")
    return path.read_bytes()


def _write_csv(
    folder: Path, tables: list[national.NationalTable], k: int, territories: int
) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"{folder}: cannot make the folder ({exc.strerror})") from exc
    for table in tables:
        lines = national.national_csv(table, k, territories)
        text = "\ufeff" + csv_text(lines, delimiter=";", lineterminator="\r\n")
        _write(folder / f"relais-national-{table.name}.csv", text.encode("utf-8"))
