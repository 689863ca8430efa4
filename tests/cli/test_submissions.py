"""``flask submissions purge``: old one-time form tokens are forgotten, recent ones kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import SubmissionToken
from app.services import submissions
from tests import factories


def _tokens(db_session: Session, *ages: timedelta) -> list[str]:
    user = factories.user(db_session)
    made = []
    for age in ages:
        row = submissions.claim(db_session, user, submissions.new_token(), form="step")
        row.created_at = datetime.now(UTC) - age
        made.append(row.token)
    db_session.commit()
    return made


def test_purge_has_help(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["submissions", "purge", "--help"])
    assert result.exit_code == 0
    assert "--dry-run" in result.output


def test_purge_deletes_the_tokens_older_than_the_days(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    _old, recent = _tokens(db_session, timedelta(days=3), timedelta(hours=30))
    dry = runner.invoke(args=["submissions", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 1 submission token(s)" in dry.output
    assert len(db_session.scalars(select(SubmissionToken)).all()) == 2
    done = runner.invoke(args=["submissions", "purge"])
    assert done.exit_code == 0, done.output
    assert "deleted 1 submission token(s) used more than 2 day(s) ago" in done.output
    assert db_session.scalars(select(SubmissionToken.token)).all() == [recent]
    again = runner.invoke(args=["submissions", "purge", "--days", "1"])
    assert "deleted 1 submission token(s)" in again.output
    assert db_session.scalars(select(SubmissionToken.token)).all() == []


def test_purge_refuses_to_forget_tokens_of_forms_still_valid(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["submissions", "purge", "--days", "0"])
    assert result.exit_code != 0
    assert "--days" in result.output
