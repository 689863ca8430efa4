"""``flask users reset-2fa`` and ``flask users recovery-codes``: an administrator's answers to
a lost phone, audited."""

from __future__ import annotations

import re

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, RecoveryCode, User
from tests import factories

CODE = re.compile(r"^  ([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})$", re.MULTILINE)


def _user(db_session: Session, user_id: int) -> User:
    db_session.expire_all()
    found = db_session.get(User, user_id)
    assert found is not None
    return found


def _audited(db_session: Session, user: User, action: str) -> int:
    return int(
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(user.id))
        )
        or 0
    )


def test_reset_removes_the_second_factor_and_ends_the_sessions(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    account = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    version = account.session_version
    assert account.has_second_factor
    result = runner.invoke(args=["users", "reset-2fa", account.email.upper()])
    assert result.exit_code == 0, result.output
    assert "removed" in result.output
    after = _user(db_session, account.id)
    assert not after.has_second_factor
    assert after.second_factor_seed is None
    assert after.second_factor_key is None
    assert after.session_version == version + 1
    assert _audited(db_session, after, "user:second_factor_reset") == 1
    remaining = db_session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == account.id)
    )
    assert remaining == 0


def test_reset_of_an_unknown_account_fails_with_a_message(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "reset-2fa", "nobody@relais.example"])
    assert result.exit_code != 0
    assert "No account uses this e-mail address" in result.output


def test_recovery_codes_are_printed_once_and_stored_hashed(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    account = factories.user(db_session, Role.ADMIN)
    db_session.commit()
    result = runner.invoke(args=["users", "recovery-codes", account.email])
    assert result.exit_code == 0, result.output
    codes = CODE.findall(result.output)
    assert len(codes) == 10
    stored = db_session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == account.id)
    ).all()
    assert len(stored) == 10
    assert not set(stored) & {*codes, *(c.replace("-", "") for c in codes)}
    assert _audited(db_session, account, "user:recovery_codes_issue") == 1


def test_recovery_codes_need_a_second_factor(runner: FlaskCliRunner, db_session: Session) -> None:
    account = factories.user(db_session)
    db_session.commit()
    result = runner.invoke(args=["users", "recovery-codes", account.email])
    assert result.exit_code != 0
    assert "has no second factor" in result.output
