"""``flask audit verify`` names the first broken row and exits non-zero; ``seal-legacy``."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.extensions import db
from app.models import AuditEvent
from app.services.security import audit, audit_mac
from tests import factories
from tests.audit_log import drop_audit_guards


def _log(session: Session, count: int) -> list[tuple[int, int]]:
    """``count`` committed events; their (seq, id)."""
    worker = factories.user(session)
    events = [
        audit.record(session, worker, AuditAction.PATHWAY_VIEW, worker, purpose="caseload")
        for _ in range(count)
    ]
    session.commit()
    return [(e.seq, e.id) for e in events]


def test_verify_an_intact_log(runner: FlaskCliRunner, db_session: Session) -> None:
    _log(db_session, 3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "The audit chain is intact." in result.stdout
    head = db.session().scalar(text("SELECT seq FROM audit_chain_head"))
    assert f"Rows checked: {head} (chain head: seq {head})." in result.stdout
    assert "Verifying" in result.stderr


def test_verify_names_an_edited_row(runner: FlaskCliRunner, db_session: Session) -> None:
    rows = _log(db_session, 4)
    drop_audit_guards(db_session)
    seq, row_id = rows[1]
    db_session.execute(
        text("UPDATE audit_events SET actor_id = NULL WHERE id = :id"), {"id": row_id}
    )
    db_session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at seq {seq} (id {row_id}): the row does not match its MAC" in result.stderr
    assert "intact" not in result.stdout


def test_verify_names_the_place_of_a_truncated_tail(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    rows = _log(db_session, 4)
    drop_audit_guards(db_session)
    db_session.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": rows[2][0]})
    db_session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at seq {rows[2][0]}: the chain ends at seq {rows[1][0]}" in result.stderr


def test_seal_legacy_rows(runner: FlaskCliRunner, db_session: Session) -> None:
    drop_audit_guards(db_session)
    db_session.execute(text("DELETE FROM audit_events"))
    db_session.execute(
        text("UPDATE audit_chain_head SET seq = 2, mac = :g, legacy_until = 2"),
        {"g": audit_mac.GENESIS_MAC},
    )
    for seq in (1, 2):
        db_session.execute(
            text(
                "INSERT INTO audit_events (seq, at, action, subject_type, subject_id, data)"
                " VALUES (:s, '2026-01-01 00:00:00.000000', 'user:login', 'users', '1', '{}')"
            ),
            {"s": seq},
        )
    db_session.commit()
    before = runner.invoke(args=["audit", "verify"])
    assert before.exit_code == 0, before.output
    assert "Legacy rows before the chain: 2 (NOT sealed)." in before.stdout
    assert "audit seal-legacy" in before.stdout

    sealed = runner.invoke(args=["audit", "seal-legacy"])
    assert sealed.exit_code == 0, sealed.output
    assert "Sealed 2 legacy audit rows." in sealed.stdout
    after = runner.invoke(args=["audit", "verify"])
    assert after.exit_code == 0, after.output
    assert "Legacy rows before the chain: 2 (sealed)." in after.stdout
    seal = (
        db.session()
        .scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_SEAL_LEGACY.value))
        .one()
    )
    assert (seal.seq, seal.data["rows"]) == (3, 2)

    again = runner.invoke(args=["audit", "seal-legacy"])
    assert again.exit_code == 1
    assert "sealed already" in again.output
