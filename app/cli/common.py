"""Helpers shared by the commands: one transaction per command, errors as clear messages."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import current_app
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import ServiceError
from app.services.health import database_unreachable, schema_behind
from app.services.security.key_check import EXTENSION as KEY_GUARD
from app.services.security.key_check import KeyGuard
from app.services.security.vault import Vault
from app.unit_of_work import abandon, complete


@contextmanager
def transaction(
    *, commit: bool = True, keys: bool = True, tolerate: tuple[str, ...] = ()
) -> Iterator[Session]:
    """Yield the session; commit at the end, or roll back and exit non-zero with the reason.

    ``commit=False`` rolls back at the end instead: a dry run that checks and writes nothing.
    A transaction that commits first asks whether the keys open this database
    (``refuse_unmatched_keys``), unless ``keys=False`` (the commands that only diagnose a
    mismatch); ``tolerate`` names the keys the command mends the database's side of.
    """
    session = db.session()
    try:
        if commit and keys:
            refuse_unmatched_keys(session, tolerate)
        yield session
        if commit:
            complete(session)
        else:
            abandon(session)
    except ServiceError as exc:
        abandon(session)
        field = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc}{field}") from exc
    except SQLAlchemyError as exc:
        abandon(session)
        raise click.ClickException(database_failure(exc)) from exc
    except (OverflowError, ValueError) as exc:
        # A value the driver cannot send (a number too large for SQLite, text with lone
        # surrogates) that no check caught: a message, not a traceback.
        abandon(session)
        raise click.ClickException(
            f"a value cannot be stored ({failure_reason(exc)}): nothing was changed"
        ) from exc
    except BaseException:
        abandon(session)
        raise


def refuse_unmatched_keys(session: Session, tolerate: tuple[str, ...] = ()) -> None:
    """Exit non-zero, nothing changed, when the keys do not open this database (the process's
    ``KeyGuard``, checked once: ``app/services/security/key_check.py``): a command would seal
    people, second factors or audit events under keys the rest of the data does not use.
    ``tolerate``: settings whose mismatch the command is there to mend."""
    guard: KeyGuard = current_app.extensions[KEY_GUARD]
    found = guard.verdict(session, vault())
    if found is None:
        return
    refused = [f.setting for f in found.mismatches if f.setting not in tolerate]
    if not refused:
        return
    names = ", ".join(refused)
    raise click.ClickException(
        f"the keys do not open this database ({names}): nothing was changed. flask --app app "
        'keys check says more; docs/deployment.md, "Backups and restores"'
    )


# SQLSTATEs named in the messages: a privilege the role lacks; a table or a column that does
# not exist (a schema behind the release).
INSUFFICIENT_PRIVILEGE = "42501"


def sqlstate(exc: SQLAlchemyError) -> str | None:
    original = exc.orig if isinstance(exc, DBAPIError) else None
    found = getattr(original, "sqlstate", None)
    return found if isinstance(found, str) else None


def database_failure(exc: SQLAlchemyError) -> str:
    """What to say when the database fails a command (English; no SQL, no values): out of
    reach, a right the role lacks, a schema behind the release, or the error's kind."""
    if database_unreachable(exc):
        return (
            "cannot reach the database of DATABASE_URL (refused, lost or timed out): nothing "
            "was changed"
        )
    state = sqlstate(exc)
    if state == INSUFFICIENT_PRIVILEGE:
        return (
            "the database role of DATABASE_URL lacks a right this command needs (permission "
            "denied): the owner's commands (db upgrade, audit partitions, audit prune) run with "
            "DATABASE_URL=$OWNER_URL; the application's role gets its rights from db "
            "grant-app-role, again after every upgrade"
        )
    what = type(exc).__name__ + (f", SQLSTATE {state}" if state else "")
    if schema_behind(exc):
        return (
            f"database error ({what}): the schema is behind this release; run: flask --app app "
            "db upgrade"
        )
    return f"database error ({what}): nothing was changed"


def commit_in_batches(
    step: Callable[[Session, int], int],
    *,
    batch_size: int,
    total: int,
    label: str,
    stopped: Callable[[str, int], str],
    stop_at_total: bool = False,
    tolerate: tuple[str, ...] = (),
) -> int:
    """Run ``step(session, size)`` and commit, batch after batch; returns what they did in all.

    For the commands too long for one transaction (key rotation, demo generation). ``step``
    does at most ``size`` things, without committing, and says how many; the loop ends when a
    batch does nothing, or with ``stop_at_total`` once ``total`` are done. A progress bar of
    ``total`` goes to standard error. On any error, Ctrl-C included, the batch in progress is
    rolled back, the committed ones stay, and the command exits non-zero with the message
    ``stopped(reason, done)``. The keys are checked first, as by ``transaction``.
    """
    session = db.session()
    try:
        refuse_unmatched_keys(session, tolerate)
    except SQLAlchemyError as exc:
        abandon(session)
        raise click.ClickException(database_failure(exc)) from exc
    done = 0
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr) as bar:
        while not stop_at_total or done < total:
            size = min(batch_size, total - done) if stop_at_total else batch_size
            try:
                changed = step(session, size)
                complete(session)
            except (Exception, KeyboardInterrupt) as exc:  # the database, a bug, Ctrl-C
                abandon(session)
                raise click.ClickException(stopped(failure_reason(exc), done)) from exc
            if changed == 0:
                break
            done += changed
            bar.update(changed)
    return done


def failure_reason(exc: BaseException) -> str:
    """The exception's type and the first line of its message (SQL parameters are hidden)."""
    lines = str(exc).splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def vault() -> Vault:
    found: Vault = current_app.extensions["relais_vault"]
    return found


def read_password(prompt: bool) -> str:
    """A new password from a hidden prompt (asked twice) or, with --stdin, standard input."""
    if prompt:
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException("no password on standard input")
    return line
