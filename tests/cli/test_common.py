"""``app.cli.common``: one transaction per command, and the batches of the long commands."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from click import ClickException
from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app.cli.common import commit_in_batches, transaction
from app.models import ReferenceKind
from app.services.errors import InvalidInput
from app.services.structures import add_reference_item, reference_items


@pytest.fixture(autouse=True)
def _in_a_command(app: Flask) -> Iterator[None]:
    """The application's context, as every command has it (the keys' guard is there)."""
    with app.app_context():
        yield


def _lost_connection() -> OperationalError:
    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    lost.connection_invalidated = True
    return lost


def _add(session: Session, code: str) -> None:
    add_reference_item(session, None, ReferenceKind.QPV, code, code, code)


def _qpvs(session: Session) -> set[str]:
    session.expire_all()
    return {item.code for item in reference_items(session, ReferenceKind.QPV)}


def test_a_transaction_commits_at_the_end(db_session: Session) -> None:
    with transaction() as session:
        _add(session, "QPV-KEPT")
    assert "QPV-KEPT" in _qpvs(db_session)


def _add_then_fail(error: Exception) -> None:
    with transaction() as session:
        _add(session, "QPV-GONE")
        raise error


def test_a_service_error_rolls_back_and_becomes_a_clear_message(db_session: Session) -> None:
    with pytest.raises(ClickException) as raised:
        _add_then_fail(InvalidInput("Enter the structure's name.", field="name"))
    assert raised.value.message == "Enter the structure's name. (name)"
    assert "QPV-GONE" not in _qpvs(db_session)


def test_any_other_error_rolls_back_too(db_session: Session) -> None:
    with pytest.raises(ClickException, match="the command's own refusal"):
        _add_then_fail(ClickException("the command's own refusal"))
    assert "QPV-GONE" not in _qpvs(db_session)


def test_a_dry_run_writes_nothing(db_session: Session) -> None:
    with transaction(commit=False) as session:
        _add(session, "QPV-DRY")
    assert "QPV-DRY" not in _qpvs(db_session)


def test_batches_until_one_does_nothing(db_session: Session) -> None:
    todo = [f"QPV-{n}" for n in range(5)]

    def step(session: Session, size: int) -> int:
        batch = [todo.pop() for _ in range(min(size, len(todo)))]
        for code in batch:
            _add(session, code)
        return len(batch)

    done = commit_in_batches(
        step, batch_size=2, total=5, label="Adding", stopped=lambda reason, done: "unused"
    )
    assert done == 5
    assert {f"QPV-{n}" for n in range(5)} <= _qpvs(db_session)


def test_batches_up_to_a_total(db_session: Session) -> None:
    sizes: list[int] = []

    def step(session: Session, size: int) -> int:
        sizes.append(size)
        _add(session, f"QPV-{len(sizes)}")
        return size

    done = commit_in_batches(
        step,
        batch_size=2,
        total=5,
        label="Adding",
        stopped=lambda reason, done: "unused",
        stop_at_total=True,
    )
    assert (done, sizes) == (5, [2, 2, 1])


def test_a_failing_batch_is_rolled_back_and_the_committed_ones_stay(db_session: Session) -> None:
    calls: list[str] = []

    def step(session: Session, size: int) -> int:
        calls.append(f"QPV-{len(calls)}")
        _add(session, calls[-1])
        if len(calls) == 3:
            raise RuntimeError("disk full\nsecond line")
        return size

    with pytest.raises(ClickException) as raised:
        commit_in_batches(
            step,
            batch_size=2,
            total=10,
            label="Adding",
            stopped=lambda reason, done: f"stopped ({reason}) after {done}",
        )
    assert raised.value.message == "stopped (RuntimeError: disk full) after 4"
    kept = _qpvs(db_session)
    assert {"QPV-0", "QPV-1"} <= kept
    assert "QPV-2" not in kept


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            _lost_connection(),
            "cannot reach the database of DATABASE_URL (refused, lost or timed out)",
        ),
        (
            ProgrammingError("ALTER TABLE …", {}, psycopg.errors.InsufficientPrivilege("no")),
            "lacks a right this command needs (permission denied)",
        ),
        (
            ProgrammingError("SELECT …", {}, psycopg.errors.UndefinedTable("no")),
            "(ProgrammingError, SQLSTATE 42P01): the schema is behind this release",
        ),
        (
            IntegrityError("INSERT …", {}, psycopg.errors.UniqueViolation("Key (code)=(QPV)")),
            "database error (IntegrityError, SQLSTATE 23505): nothing was changed",
        ),
    ],
)
def test_a_database_error_rolls_back_and_says_what_it_means(
    db_session: Session, error: Exception, said: str
) -> None:
    with pytest.raises(ClickException) as raised:
        _add_then_fail(error)
    assert said in raised.value.message
    assert "…" not in raised.value.message  # no SQL
    assert "Key (code)" not in raised.value.message  # no values
    assert "QPV-GONE" not in _qpvs(db_session)
