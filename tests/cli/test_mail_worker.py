"""``flask mail work``: the worker that sends the outbox, as a service or from cron."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli.mail import LOCK_FILE
from app.models import MailMessage
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def queued(db_session: Session, vault: Vault) -> None:
    """One hand-off sent: one mail queued for the receiving structure's caseworker."""
    a = factories.structure(db_session, "MWA")
    b = factories.structure(db_session, "MWB")
    sender = factories.user(db_session, structure_=a, email="mw-sender@relais.example")
    factories.user(db_session, structure_=b, email="mw-receiver@relais.example")
    person = factories.person(db_session, vault, sender)
    factories.handoff(db_session, vault, sender, person, b)
    db_session.commit()


@pytest.fixture
def held_lock(app: Flask) -> Iterator[None]:
    """Another worker of this machine holds the lock."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    descriptor = os.open(Path(app.instance_path) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    yield
    os.close(descriptor)


def _unsent(db_session: Session) -> int:
    db_session.expire_all()
    return len(db_session.scalars(select(MailMessage).where(MailMessage.sent_at.is_(None))).all())


def test_once_sends_what_waits_and_says_so(
    runner: FlaskCliRunner, db_session: Session, queued: None
) -> None:
    assert _unsent(db_session) == 1
    result = runner.invoke(args=["mail", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 1, failed 0"
    assert _unsent(db_session) == 0


def test_the_worker_loop_sends_then_stops(
    runner: FlaskCliRunner, db_session: Session, queued: None
) -> None:
    result = runner.invoke(args=["mail", "work", "--interval", "0.1", "--max-runs", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("mail worker started")
    assert "sent 1, failed 0" in lines
    assert lines[-1] == "mail worker stopped"
    assert _unsent(db_session) == 0


def test_a_second_worker_of_the_machine_steps_aside(
    runner: FlaskCliRunner, db_session: Session, queued: None, held_lock: None
) -> None:
    once = runner.invoke(args=["mail", "work", "--once"])
    assert once.exit_code == 0, once.output
    assert "another mail worker is running" in once.output
    assert _unsent(db_session) == 1  # left to the worker that holds the lock
    loop = runner.invoke(args=["mail", "work", "--max-runs", "1"])
    assert loop.exit_code == 1
    assert "another mail worker is running" in loop.output
    assert "Traceback" not in loop.output


@pytest.mark.parametrize("args", [["--interval", "0"], ["--interval", "abc"], ["--limit", "0"]])
def test_bad_options_are_refused_with_the_reason(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=["mail", "work", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
