"""``flask handoffs expire`` and ``flask handoffs send-mail``: cron jobs that say what they did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.models import Handoff, MailKind, MailMessage
from app.services.handoffs import send_handoff
from app.services.mail.transport import MailError, OutgoingMail
from app.services.security.vault import Vault
from tests import factories


@pytest.mark.parametrize("args", [["handoffs"], ["handoffs", "expire"], ["handoffs", "send-mail"]])
def test_every_command_has_help(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def _old_handoffs(db_session: Session, vault: Vault, *days_ago: int) -> list[Handoff]:
    """Hand-offs sent that many days before now, committed for the command to see."""
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    factories.user(db_session, structure_=b)
    now = datetime.now(UTC)
    handoffs = [
        send_handoff(
            db_session,
            vault,
            sender,
            factories.person(db_session, vault, sender),
            to_structure=b,
            now=now - timedelta(days=days),
            purpose_stage_code="training",
            consent_confirmed=True,
        )
        for days in days_ago
    ]
    db_session.commit()
    return handoffs


def _status(db_session: Session, handoff: Handoff) -> HandoffStatus:
    return db_session.scalars(select(Handoff.status).where(Handoff.id == handoff.id)).one()


def test_expire_dry_run_then_expire_then_nothing_more(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    old, recent = _old_handoffs(db_session, vault, 31, 12)
    dry = runner.invoke(args=["handoffs", "expire", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == "would expire 1 (no answer for more than 30 days)"
    assert _status(db_session, old) is HandoffStatus.SENT

    result = runner.invoke(args=["handoffs", "expire"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "expired 1, skipped 0 (answered meanwhile)"
    assert _status(db_session, old) is HandoffStatus.EXPIRED
    assert _status(db_session, recent) is HandoffStatus.SENT  # overdue, not expired

    again = runner.invoke(args=["handoffs", "expire"])
    assert again.exit_code == 0
    assert again.output.strip() == "expired 0, skipped 0 (answered meanwhile)"


def test_expire_follows_the_configured_delay(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (handoff,) = _old_handoffs(db_session, vault, 8)
    monkeypatch.setitem(app.config, "HANDOFF_EXPIRY_DAYS", 7)
    result = runner.invoke(args=["handoffs", "expire"])
    assert result.output.startswith("expired 1,")
    assert _status(db_session, handoff) is HandoffStatus.EXPIRED
    monkeypatch.setitem(app.config, "HANDOFF_EXPIRY_DAYS", 0)
    refused = runner.invoke(args=["handoffs", "expire"])
    assert refused.exit_code != 0
    assert "HANDOFF_EXPIRY_DAYS" in refused.output
    assert "Traceback" not in refused.output


def test_send_mail_delivers_the_outbox_once(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    _old_handoffs(db_session, vault, 31)
    runner.invoke(args=["handoffs", "expire"])
    result = runner.invoke(args=["handoffs", "send-mail"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, failed 0"  # received (earlier), then expired
    mails = db_session.scalars(select(MailMessage)).all()
    assert {m.kind for m in mails} == {MailKind.HANDOFF_RECEIVED, MailKind.HANDOFF_EXPIRED}
    assert all(m.sent_at is not None for m in mails)
    again = runner.invoke(args=["handoffs", "send-mail"])
    assert again.output.strip() == "sent 0, failed 0"


def test_send_mail_needs_the_smtp_settings_in_production(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    result = runner.invoke(args=["handoffs", "send-mail"])
    assert result.exit_code != 0
    assert "RELAIS_SMTP_HOST" in result.output
    assert "Traceback" not in result.output


class RefusingSender:
    def send(self, mail: OutgoingMail) -> None:
        raise MailError("smtp-451")

    def close(self) -> None:
        return None


def test_send_mail_fails_when_a_mail_is_not_sent(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_handoffs(db_session, vault, 1, 2)
    monkeypatch.setattr("app.cli.mail.make_sender", lambda _settings: RefusingSender())
    result = runner.invoke(args=["handoffs", "send-mail", "--limit", "5"])
    assert result.exit_code == 1
    assert "sent 0, failed 2" in result.output
    assert "last error: smtp-451" in result.output
    attempts = db_session.scalars(select(MailMessage.attempts)).all()
    assert attempts == [1, 1]  # each mail tried once per run
