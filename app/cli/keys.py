"""``flask keys``: which keys the data uses, KEK rotation and retirement, index rebuild.

Every command is idempotent and resumable: changes are committed batch by batch, each batch
selecting only what is still to do, so a run stopped half-way is finished by running the same
command again, and a finished one run again changes nothing. The output holds counts and key
ids only, never a key, a wrapped key, an identity or an index value.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import commit_in_batches, transaction, vault
from app.cli.statistics import signing_key
from app.crypto.signing import SigningKey
from app.services.security import data_keys, key_check, keys

keys_cli = AppGroup("keys", help="Key-encryption keys and blind indexes (counts only).")

# What rebuild-index mends: the stored indexes, after a change of the index key made on purpose.
INDEX_KEY = ("RELAIS_INDEX_KEY",)

BATCH_SIZE_OPTION = click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=keys.DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows changed and committed per transaction.",
)


def _stopped(reason: str, done: int) -> str:
    """A run stopped half-way: the same command resumes it."""
    return (
        f"stopped ({reason}): {done} rows were changed and committed before; run the same "
        "command again to finish"
    )


@keys_cli.command("status")
def status() -> None:
    """Data keys per key-encryption key, people per blind-index version."""
    with transaction(keys=False) as session:
        report = keys.key_status(session, vault())
    click.echo(f"Active key-encryption key: {report.active_kek}")
    click.echo(f"Configured key-encryption keys: {', '.join(report.configured_keks)}")
    click.echo("Data keys per key-encryption key:")
    for kek in sorted(set(report.data_keys) | set(report.configured_keks)):
        notes = []
        if kek == report.active_kek:
            notes.append("active")
        if kek not in report.configured_keks:
            notes.append("NOT CONFIGURED")
        suffix = f" ({', '.join(notes)})" if notes else ""
        click.echo(f"  {kek}: {report.data_keys.get(kek, 0)}{suffix}")
    click.echo(f"Blind-index version: {report.index_version}")
    click.echo("People with an identity, per index version:")
    if not report.index_rows:
        click.echo("  none")
    for version, count in report.index_rows.items():
        name = "none" if version is None else str(version)
        current = " (current)" if version == report.index_version else ""
        click.echo(f"  {name}: {count}{current}")
    click.echo(f"People to re-index: {report.to_reindex}")
    click.echo(f"People without a data key (erased): {report.people_without_key}")
    if report.unconfigured_keks:
        raise click.ClickException(
            f"{len(report.unconfigured_keks)} key-encryption key(s) used by data keys are "
            "not in RELAIS_KEKS: those identities cannot be read"
        )


@keys_cli.command("check")
def check() -> None:
    """Try each configured key on what it protects in this database (after a restore, a move
    or a change of the keys' settings): exit 1 when one does not match.

    Each key-encryption key unwraps one data key it wrapped, the index key computes one
    person's stored blind indexes again, the audit key the MAC of the audit log's last row.
    The web application runs the same check once per process and refuses every request while
    it fails. Prints key ids and what was tried, nothing else.
    """
    with transaction(commit=False) as session:
        found = key_check.check_keys(session, vault())
    for finding in found.findings:
        click.echo(f"{finding.verdict.value.upper():9} {finding.setting}: {finding.detail}")
    if not found.ok:
        raise click.ClickException(
            f"{len(found.mismatches)} key(s) do not match this database: restore the keys that "
            'go with it (docs/deployment.md, "Backups and restores"); nothing was changed'
        )


@keys_cli.command("rotate-kek")
@click.option("--to", "to_kek", required=True, metavar="KID", help="The new (active) KEK id.")
@BATCH_SIZE_OPTION
def rotate_kek(to_kek: str, batch_size: int) -> None:
    """Re-wrap every data key with the key-encryption key KID.

    Field ciphertexts do not change (the data keys stay the same). Make KID the active KEK
    (RELAIS_ACTIVE_KEK, with the old one still in RELAIS_KEKS) before running this.
    """
    ring = vault()
    with transaction() as session:
        total = keys.check_rotation(session, ring, to_kek)
    done = commit_in_batches(
        lambda session, size: keys.rewrap_batch(session, ring, to_kek, limit=size),
        batch_size=batch_size,
        total=total,
        label="Re-wrapping",
        stopped=_stopped,
    )
    with transaction() as session:
        left = keys.check_rotation(session, ring, to_kek)
    click.echo(f"Re-wrapped {done} data keys with {to_kek}; {left} use another KEK.")
    if left:
        raise click.ClickException("some data keys were not re-wrapped: run the command again")


@keys_cli.command("retire-kek")
@click.argument("kek")
def retire_kek(kek: str) -> None:
    """Check that no data key uses the key-encryption key KEK any more.

    Refuses while a data key still uses it, or while it is the active one, and a KEK that is
    not in RELAIS_KEKS (a mistyped id, or one already removed). Then KEK can be removed from
    RELAIS_KEKS; keep it (offline) until no backup needs it.
    """
    configured = vault().keys.keks
    with transaction() as session:
        keys.retire_kek(session, vault(), kek)
        if kek not in configured:  # checked, nothing written: the command's answer
            known = ", ".join(sorted(configured))
            raise click.ClickException(
                f"{kek} is not a key-encryption key of RELAIS_KEKS (its ids: {known}); no "
                "data key uses it: nothing to retire"
            )
    click.echo(f"No data key uses {kek}: it is retired.")
    click.echo(
        f"Remove {kek} from RELAIS_KEKS and restart; destroy it only after the backups "
        "taken before the rotation have expired."
    )


@keys_cli.command("rebuild-index")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="First mark every person's index as stale: after a change of RELAIS_INDEX_KEY. "
    "If the run stops, resume WITHOUT --all.",
)
@BATCH_SIZE_OPTION
def rebuild_index(everything: bool, batch_size: int) -> None:
    """Recompute the blind indexes of people not at the current index version.

    Each identity is decrypted in memory only; nothing is shown but counts.
    """
    ring = vault()
    if everything:
        with transaction(tolerate=INDEX_KEY) as session:
            marked = keys.mark_indexes_stale(session)
        click.echo(f"Marked {marked} people's indexes as stale.")
    with transaction(commit=False) as session:
        total = keys.count_stale_indexes(session, ring)
    done = commit_in_batches(
        lambda session, size: keys.reindex_batch(session, ring, limit=size),
        batch_size=batch_size,
        total=total,
        label="Re-indexing",
        stopped=_stopped,
        tolerate=INDEX_KEY,
    )
    with transaction(commit=False) as session:
        left = keys.count_stale_indexes(session, ring)
    click.echo(f"Re-indexed {done} people at index version {ring.indexer.version}; {left} left.")
    if left:
        raise click.ClickException("some people were not re-indexed: run the command again")


@keys_cli.command("rotate-data-keys")
@click.option("--person", "pseudonym", metavar="PSEUDONYM", help="Replace this person's data key.")
@click.option("--all", "everyone", is_flag=True, help="Replace every person's data key.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=data_keys.DEFAULT_BATCH_SIZE,
    show_default=True,
    help="People whose key is replaced and committed per transaction.",
)
def rotate_data_keys(pseudonym: str | None, everyone: bool, batch_size: int) -> None:
    """Replace data keys themselves and re-encrypt the fields sealed with them.

    For a suspected exposure of data keys. Each person is done in one transaction with their
    fields: a run stopped half-way leaves everyone readable; run the command again WITHOUT
    --person or --all to finish it. Counts only are shown.
    """
    if pseudonym is not None and everyone:
        raise click.UsageError("give --person PSEUDONYM or --all, not both")
    ring = vault()
    with transaction() as session:
        if everyone:
            total = data_keys.request_rotation(session)
        elif pseudonym is not None:
            person = data_keys.person_by_pseudonym(session, pseudonym)
            total = data_keys.request_rotation(session, person)
        else:
            total = data_keys.count_pending(session)
    if total == 0:
        click.echo("No data key waits to be replaced: give --person PSEUDONYM or --all.")
        return
    click.echo(f"{total} data key(s) to replace.")
    done = commit_in_batches(
        lambda session, size: data_keys.rotate_batch(session, ring, limit=size),
        batch_size=batch_size,
        total=total,
        label="Replacing data keys",
        stopped=_stopped_rotation,
    )
    with transaction() as session:
        left = data_keys.count_pending(session)
    click.echo(f"Replaced {done} data keys (fields re-encrypted); {left} left.")
    if left:
        raise click.ClickException("some data keys were not replaced: run the command again")


def _stopped_rotation(reason: str, done: int) -> str:
    return (
        f"stopped ({reason}): {done} people's keys were replaced and committed before; run "
        "flask --app app keys rotate-data-keys (without --person or --all) to finish"
    )


@keys_cli.command("publication-key")
@click.option(
    "--new", "new", is_flag=True, help="Make a new signing key (and show its public key)."
)
def publication_key(new: bool) -> None:
    """The public key of this territory's publications (RELAIS_PUBLICATION_KEY), to give to
    the national instance (its RELAIS_TRUSTED_PUBLICATION_KEYS).

    With --new, print a new private key to set as RELAIS_PUBLICATION_KEY (keep it like the
    other keys: never in the repository or the database) and its public key.
    """
    territory = current_app.config.get("TERRITORY") or "TERRITORY"
    if new:
        key = SigningKey.generate()
        click.echo(f"RELAIS_PUBLICATION_KEY={key.text}")
    else:
        key = signing_key()
    public = key.verify_key
    click.echo(f"Public key {public.key_id}; for RELAIS_TRUSTED_PUBLICATION_KEYS:")
    click.echo(f"{territory}:{public.text}")
