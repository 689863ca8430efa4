"""``flask users deactivate-idle``: accounts not signed in for RELAIS_ACCOUNT_IDLE_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, User
from app.services.security.vault import Vault
from tests import factories


def _age(db_session: Session, user: User, *, created: int, last_login: int | None) -> None:
    now = datetime.now(UTC)
    db_session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            created_at=now - timedelta(days=created),
            last_login_at=None if last_login is None else now - timedelta(days=last_login),
        )
    )


def test_idle_accounts_are_deactivated_once(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    gone = factories.user(db_session, email="gaspard@relais.example")
    never = factories.user(db_session, email="hortense@relais.example")
    recent = factories.user(db_session, email="ignace@relais.example")
    new = factories.user(db_session, email="jocelyn@relais.example")
    factories.person(db_session, vault, gone)
    _age(db_session, gone, created=400, last_login=181)
    _age(db_session, never, created=181, last_login=None)
    _age(db_session, recent, created=400, last_login=10)
    _age(db_session, new, created=3, last_login=None)
    db_session.commit()
    gone_id, never_id = str(gone.id), str(never.id)

    dry = runner.invoke(args=["users", "deactivate-idle", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would deactivate gaspard@relais.example" in dry.output
    assert "hortense@relais.example" in dry.output
    assert "ignace" not in dry.output
    assert "jocelyn" not in dry.output
    assert "2 account(s)" in dry.output
    db_session.expire_all()
    assert all(u.active for u in db_session.scalars(select(User)))

    done = runner.invoke(args=["users", "deactivate-idle"])
    assert done.exit_code == 0, done.output
    assert "Deactivated gaspard@relais.example" in done.output
    assert "1 people still have gaspard@relais.example as referent" in done.output
    db_session.expire_all()
    assert {u.email for u in db_session.scalars(select(User)) if not u.active} == {
        "gaspard@relais.example",
        "hortense@relais.example",
    }
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.USER_DEACTIVATE)
    ).all()
    assert {e.subject_id for e in events} == {gone_id, never_id}
    assert all(e.data == {"reason": "idle"} for e in events)

    again = runner.invoke(args=["users", "deactivate-idle"])
    assert again.exit_code == 0
    assert "0 account(s)" in again.output


def test_the_idle_time_is_a_setting(
    runner: FlaskCliRunner, db_session: Session, monkeypatch: object
) -> None:
    user = factories.user(db_session, email="ludovic@relais.example")
    _age(db_session, user, created=400, last_login=40)
    db_session.commit()
    app = runner.app
    old = app.config["ACCOUNT_IDLE_DAYS"]
    app.config["ACCOUNT_IDLE_DAYS"] = 30
    try:
        result = runner.invoke(args=["users", "deactivate-idle", "--dry-run"])
    finally:
        app.config["ACCOUNT_IDLE_DAYS"] = old
    assert "ludovic@relais.example" in result.output
    assert "not signed in for 30 days" in result.output


def test_the_last_active_administrator_is_kept_open(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    """An administrator who runs Relais from the command line never signs in: after 180 days
    the idle command closed the last administrator account, and nobody could reactivate an
    account, reset a second factor or invite from the web any more (no command reopens one)."""
    older = factories.user(db_session, Role.ADMIN, email="admin.ancien@relais.example")
    last = factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    _age(db_session, older, created=900, last_login=400)
    _age(db_session, last, created=900, last_login=200)
    db_session.commit()
    done = runner.invoke(args=["users", "deactivate-idle"])
    assert done.exit_code == 0, done.output
    assert "Deactivated admin.ancien@relais.example" in done.output
    assert "Kept admin@relais.example open" in done.output
    assert "1 account(s)" in done.output
    db_session.expire_all()
    assert {u.email for u in db_session.scalars(select(User)) if u.active} == {
        "admin@relais.example"
    }
    # Once another administrator is active, the idle one is closed as any other.
    factories.user(db_session, Role.ADMIN, email="admin.nouveau@relais.example")
    db_session.commit()
    again = runner.invoke(args=["users", "deactivate-idle"])
    assert "Deactivated admin@relais.example" in again.output


def test_a_structure_left_without_an_active_manager_is_named(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    """The idle command closed a structure's only manager while a colleague stayed active,
    without a word: nobody there could invite or close an account any more, against "a
    structure always keeps one active manager" (docs/administration.md)."""
    from app.services.security.managers import set_manager

    structure = factories.structure(db_session, "IDL")
    manager = factories.user(db_session, structure_=structure, email="gerante@relais.example")
    set_manager(db_session, None, manager, True)
    factories.user(db_session, structure_=structure, email="collegue@relais.example")
    _age(db_session, manager, created=900, last_login=400)
    db_session.commit()
    for args in (["--dry-run"], []):
        result = runner.invoke(args=["users", "deactivate-idle", *args])
        assert result.exit_code == 0, result.output
        assert "Structure IDL has no active manager any more" in result.output
        assert "collegue@relais.example" in result.output
