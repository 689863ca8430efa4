"""Helpers shared by the commands: one transaction per command, errors as clear messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import ServiceError
from app.services.vault import Vault


@contextmanager
def transaction() -> Iterator[Session]:
    """Yield the session; commit at the end, or roll back and exit non-zero with the reason."""
    session = db.session()
    try:
        yield session
        session.commit()
    except ServiceError as exc:
        session.rollback()
        field = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc}{field}") from exc
    except SQLAlchemyError as exc:
        session.rollback()
        raise click.ClickException(
            f"database error ({type(exc).__name__}); is the schema up to date? "
            "Run: flask --app app db upgrade"
        ) from exc


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
