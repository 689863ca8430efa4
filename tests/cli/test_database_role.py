"""``flask db grant-app-role``: the application's PostgreSQL role does its work and cannot
touch the audit log's guards (it does not own the tables).

The role is ``RELAIS_TEST_APP_ROLE`` when set (``.ci/run`` creates one), else a temporary role
with a unique name, dropped at the end. Grants are committed (the role connects on its own);
what the role writes is rolled back.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.extensions import db
from app.models import AuditEvent, Beneficiary
from app.services.errors import Conflict
from app.services.people.identity import open_identity
from app.services.security import audit_retention
from app.services.security.vault import Vault
from tests import factories


def _owner_execute(statement: str) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql(statement)


@pytest.fixture
def app_role(app: Flask, db_url: str) -> Iterator[str]:
    configured = os.environ.get("RELAIS_TEST_APP_ROLE")
    role = configured or f"relais_app_test_{secrets.token_hex(4)}"
    if not configured:
        _owner_execute(f"CREATE ROLE {role} LOGIN")
    try:
        yield role
    finally:
        database = make_url(db_url).database
        # the grants of this database go, the role too if the test made it
        _owner_execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        _owner_execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        _owner_execute(f"REVOKE ALL ON SCHEMA public FROM {role}")
        if not configured:
            _owner_execute(f'REVOKE ALL ON DATABASE "{database}" FROM {role}')
            _owner_execute(f"DROP ROLE {role}")


@pytest.fixture
def as_role(app_role: str, db_url: str) -> Iterator[Engine]:
    engine = create_engine(make_url(db_url).set(username=app_role, password=None))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_the_app_role_does_its_work_and_cannot_touch_the_audit_guards(
    app: Flask, app_role: str, as_role: Engine, vault: Vault
) -> None:
    runner = app.test_cli_runner()  # not the rolled-back one: the role must see the grants
    # Before the grants, the role can do nothing.
    with as_role.connect() as connection, pytest.raises(ProgrammingError):
        connection.execute(text("SELECT count(*) FROM beneficiaries"))

    granted = runner.invoke(args=["db", "grant-app-role", app_role])
    assert granted.exit_code == 0, granted.output
    assert f"GRANT SELECT, INSERT ON public.audit_events TO {app_role};" in granted.stdout.replace(
        '"', ""
    )
    assert f"GRANT SELECT, INSERT ON public.audit_seals TO {app_role};" in granted.stdout.replace(
        '"', ""
    )
    assert "audit_events_default" not in granted.stdout  # the partitions: nothing at all
    again = runner.invoke(args=["db", "grant-app-role", app_role])  # idempotent
    assert again.exit_code == 0, again.output
    assert again.stdout == granted.stdout

    # The application's work, as the role: register a person (audited), read them back.
    with as_role.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        worker = factories.user(session)
        person = factories.person(session, vault, worker, last_name="Wexford", first_name="Ilsa")
        session.flush()
        assert open_identity(vault, session, person).last_name == "Wexford"
        assert session.scalar(
            select(func.count()).where(
                AuditEvent.beneficiary_id == person.id,
                AuditEvent.action == AuditAction.BENEFICIARY_CREATE.value,
            )
        )
        assert session.get(Beneficiary, person.id) is not None
        with pytest.raises(Conflict, match="Only the owner of the tables"):
            audit_retention.ensure_partitions(session, datetime.now(UTC), 1)
        session.close()
        outer.rollback()

    # What only the owner could do: every one refused.
    refused = [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
        "ALTER TABLE audit_chain_head DISABLE TRIGGER audit_chain_head_guard",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "TRUNCATE audit_events",
        "TRUNCATE audit_chain_head",
        "DELETE FROM audit_events WHERE seq > 0",
        "UPDATE audit_events SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_chain_head",
        "UPDATE audit_chain_head SET legacy_until = 0",
        "DROP TABLE audit_events",
        "CREATE TABLE sneaky (id int)",
        "SELECT count(*) FROM audit_events_default",
        "DELETE FROM audit_events_default",
        "TRUNCATE audit_events_default",
        "DROP TABLE audit_events_default",
        "ALTER TABLE audit_events DETACH PARTITION audit_events_default",
        "CREATE TABLE audit_events_2099_01 PARTITION OF audit_events"
        " FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')",
        "UPDATE audit_seals SET rows = 0",
        "DELETE FROM audit_seals",
        "TRUNCATE audit_seals",
    ]
    for statement in refused:
        with as_role.connect() as connection, pytest.raises(ProgrammingError) as caught:
            connection.exec_driver_sql(statement)
        assert "permission denied" in str(caught.value) or "must be owner" in str(caught.value), (
            statement
        )


def test_grant_app_role_says_sqlite_has_no_roles(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    if db_session.connection().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    result = runner.invoke(args=["db", "grant-app-role", "relais_app"])
    assert result.exit_code == 1
    assert "Database roles are a PostgreSQL matter: this database is sqlite." in result.output


@pytest.mark.postgres_only
def test_grant_app_role_refuses_a_bad_role(
    app: Flask, runner: FlaskCliRunner, db_session: Session
) -> None:
    missing = runner.invoke(args=["db", "grant-app-role", "nobody_here_x1"])
    assert missing.exit_code == 1
    assert "The role nobody_here_x1 does not exist" in missing.output
    owner = db_session.scalar(text("SELECT current_user"))
    itself = runner.invoke(args=["db", "grant-app-role", str(owner)])
    assert itself.exit_code == 1
    assert "superuser" in itself.output or "Run this as the owner" in itself.output
    odd = runner.invoke(args=["db", "grant-app-role", "Robert'); DROP"])
    assert odd.exit_code == 1
    assert "A role name is lower-case letters" in odd.output
