"""The command line: each command works, explains itself, and fails with a clear message."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ReferenceItem, ReferenceKind, User
from app.services.security.passwords import verify_password
from tests import factories

GOOD = "a perfectly fine passphrase\n"


@pytest.mark.parametrize(
    "args",
    [
        ["structures"],
        ["structures", "list"],
        ["structures", "create"],
        ["users"],
        ["users", "create"],
        ["users", "deactivate"],
        ["users", "deactivate-idle"],
        ["users", "set-password"],
        ["reference"],
        ["reference", "add"],
        ["reference", "list"],
    ],
)
def test_every_command_has_help(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_structures_create_then_list(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "structures",
            "create",
            "ml90",
            "--name",
            "Mission Locale",
            "--type",
            "mission_locale",
        ]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["structures", "list"])
    assert listing.exit_code == 0
    assert any(
        line.startswith("ML90\tmission_locale\tMission Locale")
        for line in listing.output.splitlines()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--name", "X", "--type", "association"], "structure code"),
        (["OK1", "--name", " ", "--type", "association"], "name"),
        (["OK2", "--name", "X", "--type", "spaceship"], "Unknown code spaceship"),
        (["OK3", "--name", "X", "--type", "association", "--capacity", "-2"], "-2"),
    ],
)
def test_structures_create_refuses_bad_input(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["structures", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_duplicate_structure_code(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["structures", "create", "DUP", "--name", "A", "--type", "association"])
    result = runner.invoke(
        args=["structures", "create", "DUP", "--name", "B", "--type", "association"]
    )
    assert result.exit_code == 1
    assert "already used" in result.output


def test_users_create_reads_the_password_from_stdin(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    runner.invoke(args=["structures", "create", "E2C90", "--name", "E2C", "--type", "e2c"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Lea@E2C.example",
            "--name",
            "Léa",
            "--role",
            "caseworker",
            "--structure",
            "E2C90",
            "--stdin",
        ],
        input=GOOD,
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User).where(User.email == "lea@e2c.example")).one()
    assert verify_password(user.password_hash, GOOD.strip())
    assert GOOD.strip() not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_with_a_prompt(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "coord@relais.example", "--name", "C", "--role", "coordinator"],
        input=GOOD + GOOD,
    )
    assert result.exit_code == 0, result.output


def test_password_is_never_an_argument(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x@relais.example",
            "--name",
            "X",
            "--role",
            "admin",
            "--password",
            "a perfectly fine passphrase",
        ]
    )
    assert result.exit_code == 2  # no such option


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["bad-email", "--name", "X", "--role", "admin"], GOOD, "valid e-mail"),
        (
            ["a@relais.example", "--name", "X", "--role", "caseworker"],
            GOOD,
            "belongs to a structure",
        ),
        (
            ["a@relais.example", "--name", "X", "--role", "admin", "--structure", "NOPE"],
            GOOD,
            "No structure",
        ),
        (["a@relais.example", "--name", "X", "--role", "admin"], "short\n", "at least 12"),
        (["a@relais.example", "--name", "X", "--role", "admin"], "\n", "no password"),
        (["a@relais.example", "--name", "X", "--role", "wizard"], GOOD, "wizard"),
    ],
)
def test_users_create_refuses_bad_input(
    runner: FlaskCliRunner, db_session: Session, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(args=["users", "create", *args, "--stdin"], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert db_session.scalar(select(User).where(User.email == "a@relais.example")) is None


def test_set_password_and_deactivate(runner: FlaskCliRunner, db_session: Session) -> None:
    user = factories.user(db_session, email="worker@relais.example")
    db_session.commit()
    version = user.session_version
    result = runner.invoke(
        args=["users", "set-password", "worker@relais.example", "--stdin"], input=GOOD
    )
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert db_session.get(User, user.id).session_version == version + 1  # type: ignore[union-attr]
    result = runner.invoke(args=["users", "deactivate", "worker@relais.example"])
    assert result.exit_code == 0
    db_session.expire_all()
    assert db_session.get(User, user.id).active is False  # type: ignore[union-attr]
    again = runner.invoke(args=["users", "deactivate", "worker@relais.example"])
    assert "already inactive" in again.output
    missing = runner.invoke(args=["users", "deactivate", "ghost@relais.example"])
    assert missing.exit_code == 1
    assert "No account" in missing.output


def test_reference_add_and_list(runner: FlaskCliRunner, db_session: Session) -> None:
    result = runner.invoke(
        args=["reference", "add", "qpv", "QN09001X", "--fr", "Les Glacis", "--en", "Les Glacis"]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["reference", "list", "qpv"])
    assert "QN09001X\tLes Glacis" in listing.output
    assert (
        db_session.scalar(
            select(ReferenceItem).where(
                ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == "QN09001X"
            )
        )
        is not None
    )
    duplicate = runner.invoke(
        args=["reference", "add", "qpv", "QN09001X", "--fr", "A", "--en", "B"]
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    bad = runner.invoke(args=["reference", "add", "planet", "X", "--fr", "A", "--en", "B"])
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["reference", "list", "planet"],
        ["reference", "add", "planet", "X", "--fr", "A", "--en", "B"],
    ],
)
def test_reference_commands_name_the_lists(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert "'planet' is not one of" in result.output
    assert "qpv" in result.output
    assert "Traceback" not in result.output
