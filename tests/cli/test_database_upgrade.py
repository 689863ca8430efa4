"""``flask db upgrade`` refused by the database ends with a sentence saying what to do and
exit 1, not a traceback: the application's role (which may not change the schema), a
database that cannot be reached, any other refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskCliRunner
from flask_migrate import cli as migrate_cli
from sqlalchemy import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from tests.cli.test_database_role import app_role  # noqa: F401 - a fixture
from tests.test_migrations import _scratch_database

ROOT = Path(__file__).resolve().parents[2]


def _refused_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(migrate_cli, "_upgrade", refuse)


def test_the_application_s_role_is_told_to_migrate_as_the_owner(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = psycopg.errors.InsufficientPrivilege("permission denied for schema public")
    _refused_with(monkeypatch, ProgrammingError("CREATE TABLE beneficiaries (…)", {}, denied))
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "may not change the schema (permission denied)" in result.output
    assert "DATABASE_URL=$OWNER_URL flask --app app db upgrade" in result.output
    assert "Traceback" not in result.output
    assert "CREATE TABLE" not in result.output


def test_a_database_out_of_reach_is_said(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    lost.connection_invalidated = True
    _refused_with(monkeypatch, lost)
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot reach the database of DATABASE_URL" in result.output


def test_any_other_refusal_names_its_kind_only(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    duplicate = psycopg.errors.UniqueViolation("Key (code)=(ML90) already exists.")
    _refused_with(monkeypatch, IntegrityError("INSERT INTO structures …", {}, duplicate))
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "the database refused the migration (IntegrityError, SQLSTATE 23505)" in result.output
    assert "ML90" not in result.output
    assert "flask --app app db current" in result.output


@pytest.fixture
def scratch(db_url: str, tmp_path: Path) -> Iterator[str]:
    with _scratch_database(db_url, tmp_path) as url:
        yield url


@pytest.mark.postgres_only
def test_upgrading_as_the_application_s_role_on_postgresql(
    scratch: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The real thing: PostgreSQL 15 gives no CREATE on ``public`` to a role that does not own
    the database."""
    role = request.getfixturevalue("app_role")
    url = make_url(scratch).set(username=role, password=None)
    environment = {
        **os.environ,
        "RELAIS_ENV": "development",
        "RELAIS_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": url.render_as_string(hide_password=False),
    }
    done = subprocess.run(  # noqa: S603 - this interpreter's flask, fixed arguments
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "may not change the schema (permission denied)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["current"], "nothing was changed"),
        (["check"], "nothing was changed"),
        (["stamp", "head"], "nothing was changed"),
        (["downgrade"], "nothing was migrated"),
    ],
)
def test_the_other_db_commands_say_the_database_is_out_of_reach(
    tmp_path: Path, command: list[str], said: str
) -> None:
    """Not only ``db upgrade``: every Flask-Migrate command against a database that cannot be
    reached ends with the sentence and exit 1 (nothing listens on port 9)."""
    environment = {
        **os.environ,
        "RELAIS_ENV": "development",
        "RELAIS_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": "postgresql+psycopg://relais@127.0.0.1:9/relais",
    }
    done = subprocess.run(  # noqa: S603 - this interpreter's flask, fixed arguments
        [sys.executable, "-m", "flask", "--app", "app", "db", *command],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "cannot reach the database of DATABASE_URL" in done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr
