"""The structure manager role: who holds it, who gives it, and what the database refuses."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, User
from app.services.errors import Forbidden, InvalidInput
from app.services.security.managers import managers_of, manages, require_manager, set_manager
from tests import factories


def test_an_administrator_names_a_manager_who_then_manages_only_their_structure(
    db_session: Session,
) -> None:
    structure = factories.structure(db_session)
    other = factories.structure(db_session)
    caseworker = factories.user(db_session, Role.CASEWORKER, structure)
    colleague = factories.user(db_session, Role.CASEWORKER, structure)
    admin = factories.user(db_session, Role.ADMIN)
    assert not manages(caseworker, structure.id)
    assert set_manager(db_session, admin, caseworker, True)
    assert not set_manager(db_session, admin, caseworker, True)  # no change, no audit
    assert manages(caseworker, structure.id)
    assert not manages(caseworker, other.id)
    assert managers_of(db_session, structure.id) == [caseworker]
    # A manager names a colleague of the same structure, not someone of another one.
    assert set_manager(db_session, caseworker, colleague, True)
    outsider = factories.user(db_session, Role.CASEWORKER, other)
    with pytest.raises(Forbidden):
        set_manager(db_session, caseworker, outsider, True)
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STRUCTURE_MANAGER)
    ).all()
    assert len(events) == 2


def test_administrators_manage_every_structure_and_others_none(db_session: Session) -> None:
    structure = factories.structure(db_session)
    assert manages(factories.user(db_session, Role.ADMIN), structure.id)
    for role in (Role.COORDINATOR, Role.FIELD_WORKER, Role.CASEWORKER):
        actor = factories.user(db_session, role, structure if role is Role.CASEWORKER else None)
        assert not manages(actor, structure.id)
        with pytest.raises(Forbidden):
            require_manager(actor, structure.id)
    require_manager(None, structure.id)  # the command line
    assert not manages(None, structure.id)


def test_a_deactivated_manager_manages_nothing(db_session: Session) -> None:
    manager = factories.user(db_session, Role.CASEWORKER)
    set_manager(db_session, None, manager, True)
    manager.active = False
    assert not manages(manager, manager.structure_id)


def test_only_a_caseworker_can_be_a_manager(db_session: Session) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(InvalidInput):
        set_manager(db_session, None, coordinator, True)
    coordinator.manages_structure = True  # the database refuses it too
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_cli_creates_a_manager_and_takes_the_role_back(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    factories.structure(db_session, code="ASSO1")
    db_session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "chef@asso.example",
            "--name",
            "Chef",
            "--role",
            "caseworker",
            "--structure",
            "ASSO1",
            "--manager",
            "--stdin",
        ],
        input="a perfectly fine passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "structure manager" in result.output
    query = select(User.manages_structure).where(User.email == "chef@asso.example")
    assert db_session.scalar(query) is True
    result = runner.invoke(args=["users", "set-manager", "chef@asso.example", "--off"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert db_session.scalar(query) is False


def test_cli_refuses_a_manager_who_is_not_a_caseworker(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    result = runner.invoke(args=["users", "set-manager", "coord@relais.example"])
    assert result.exit_code != 0
    assert "Only a caseworker" in result.output
    result = runner.invoke(args=["users", "set-manager", "nobody@relais.example"])
    assert result.exit_code != 0
