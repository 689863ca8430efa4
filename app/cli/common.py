"""Helpers shared by the commands: one transaction per command, errors as clear messages."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import ServiceError
from app.services.security.vault import Vault
from app.unit_of_work import abandon, complete


@contextmanager
def transaction(*, commit: bool = True) -> Iterator[Session]:
    """Yield the session; commit at the end, or roll back and exit non-zero with the reason.

    ``commit=False`` rolls back at the end instead: a dry run that checks and writes nothing.
    """
    session = db.session()
    try:
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
        raise click.ClickException(
            f"database error ({type(exc).__name__}); is the schema up to date? "
            "Run: flask --app app db upgrade"
        ) from exc
    except BaseException:
        abandon(session)
        raise


def commit_in_batches(
    step: Callable[[Session, int], int],
    *,
    batch_size: int,
    total: int,
    label: str,
    stopped: Callable[[str, int], str],
    stop_at_total: bool = False,
) -> int:
    """Run ``step(session, size)`` and commit, batch after batch; returns what they did in all.

    For the commands too long for one transaction (key rotation, demo generation). ``step``
    does at most ``size`` things, without committing, and says how many; the loop ends when a
    batch does nothing, or with ``stop_at_total`` once ``total`` are done. A progress bar of
    ``total`` goes to standard error. On any error, Ctrl-C included, the batch in progress is
    rolled back, the committed ones stay, and the command exits non-zero with the message
    ``stopped(reason, done)``.
    """
    session = db.session()
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
